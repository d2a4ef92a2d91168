//! The mirror lifecycle: every task that touches GitLab for a mirror, pair or instance.
//!
//! The API records a job with one item per unit of work ([`kinds`] names them); workers run
//! the items through the handlers here ([`handlers`]). Handlers are idempotent: a redelivered
//! item looks in GitLab before it creates anything (tokens are found by their name
//! `{prefix}-mirror-{id}`, push mirrors by their URL).
//!
//! Wiring (worker or embedded mode):
//!
//! ```ignore
//! let budget: Arc<dyn RateBudget> = Arc::new(PgRateBudget::new(pg.pool().clone(), BudgetConfig::per_minute(600)));
//! let ctx = Arc::new(MirrorsContext::new(storage, cipher, budget, ClientSettings::default(), MirrorSettings::default()));
//! let registry = mm_mirrors::handlers(ctx);
//! ```
//!
//! A single process can use [`mm_gitlab::LocalRateBudget`] instead; keys are instance ids
//! ([`instance_key`]), so `LocalRateBudget::set_config(&instance_key(id), cfg)` and
//! [`PgRateBudget::set_config`] give one instance its own budget.
//!
//! The operator's `enabled` flag of a mirror is intent: a status refresh never turns it off
//! when GitLab paused the mirror (it reports `gitlab_enabled` in the item result instead), so
//! that a sync can switch the mirror back on.

mod clients;
mod context;
mod create;
mod delete;
mod handler;
mod instance;
mod item;
pub mod kinds;
mod pg_budget;
mod remote;
mod rotate;
mod scope;
mod sync;
mod tokens;
mod update;
mod verify;

pub use clients::{ClientError, ClientSettings, GitLabClients, instance_key};
pub use context::{MirrorSettings, MirrorsContext};
pub use handler::{MirrorHandler, Operation, handlers, register};
pub use pg_budget::PgRateBudget;
