//! gRPC edge tests: the real service on 127.0.0.1 with a fresh database, every test on
//! SQLite and on PostgreSQL.

mod auth;
mod helpers;
mod instances;
mod pairs;
mod platform;
mod secrets;
mod validation;
