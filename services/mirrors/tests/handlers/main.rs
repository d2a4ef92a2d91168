//! The mirror handlers against the GitLab simulator (real HTTP, real git) and SQLite
//! storage. Each test starts its own simulator.

mod common;
mod failures;
mod jobs;
mod lifecycle;
mod pg_budget;
mod pull;
mod push;
