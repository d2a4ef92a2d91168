//! The mirror lifecycle: every task that touches GitLab for a mirror, pair or instance.
//!
//! The API records a job with one item per unit of work ([`kinds`] names them); workers run
//! the items through the handlers here. Handlers are idempotent: a redelivered item looks in
//! GitLab before it creates anything.

pub mod kinds;
