//! The Mirror Maestro gRPC API service.
//!
//! Serves `mirrormaestro.v1` (`AuthService`, `InstanceService`, `PairService`,
//! `MirrorService`, `JobService`, and the console's read models `DashboardService`,
//! `TopologyService`, `SearchService`), `grpc.health.v1`, server reflection (v1 and v1alpha) and
//! gRPC-Web on a single port.
//!
//! Work that touches GitLab is recorded as jobs (job, items and outbox messages in one
//! transaction) and answered at once; workers run the items. The API calls GitLab only to
//! search an instance's projects, through the rate budget of [`ApiContext::with_rate_budget`].
//!
//! ```no_run
//! # async fn run(settings: mm_config::Settings) -> anyhow::Result<()> {
//! let (ctx, generated_admin) = mm_api::prepare(&settings, true).await?;
//! let listener = tokio::net::TcpListener::bind(settings.grpc_addr).await?;
//! mm_api::serve(ctx, listener, async { let _ = tokio::signal::ctrl_c().await; }).await
//! # }
//! ```

mod auth;
mod context;
mod convert;
mod errors;
mod insights;
mod instances;
mod jobs;
mod mirrors;
mod paging;
mod pairs;
mod server;
mod url_guard;
mod validation;

#[cfg(feature = "testing")]
pub mod testing;

pub use auth::{Authenticator, Principal};
pub use context::{ApiContext, GeneratedAdmin, migrate, prepare};
pub use server::{router, serve};
