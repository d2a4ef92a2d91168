//! gRPC edge tests: the real service on 127.0.0.1 with a fresh database, every test on
//! SQLite and on PostgreSQL.

mod auth;
mod group_search;
mod helpers;
mod insights;
mod instances;
mod jobs;
mod mirror_import;
mod mirror_lists;
mod mirrors;
mod pairs;
mod platform;
mod search;
mod secrets;
mod validation;
