//! GitLab REST API v4 client for Mirror Maestro.
//!
//! One [`GitLabClient`] per GitLab instance (cheap to clone). Every call
//! passes a circuit breaker, a per-instance concurrency cap and a
//! per-instance [`RateBudget`], and is retried only when that is safe
//! (see [`retry`]). Errors are one [`GitLabError`] enum that tells
//! retryable failures from permanent ones and breaker-relevant failures
//! from the rest.
//!
//! ```no_run
//! # async fn demo() -> Result<(), mm_gitlab::GitLabError> {
//! use std::sync::Arc;
//! use mm_gitlab::{BudgetConfig, GitLabClient, InstanceKey, LocalRateBudget, SecretToken};
//!
//! let budget = Arc::new(LocalRateBudget::new(BudgetConfig::per_minute(600)));
//! let gl = GitLabClient::builder("https://gitlab.example.com", SecretToken::new("glpat-…"))
//!     .instance(InstanceKey::new("7"))
//!     .budget(budget)
//!     .build()?;
//! let me = gl.current_user().await?;
//! let project = gl.project("acme/platform/api").await?;
//! # let _ = (me, project);
//! # Ok(()) }
//! ```
//!
//! Metrics (through the `metrics` facade; the binary installs a recorder):
//! `gitlab_requests_total{instance,endpoint,status}`,
//! `gitlab_request_duration_seconds{instance,endpoint}`,
//! `gitlab_rate_limited_total{instance}`, `gitlab_retries_total{instance,endpoint}`,
//! `gitlab_budget_wait_seconds{instance}`, `gitlab_breaker_state{instance}`
//! (0 closed, 1 half-open, 2 open), `gitlab_breaker_transitions_total{instance,to}`,
//! `gitlab_circuit_rejections_total{instance}`.

pub mod breaker;
pub mod budget;
pub mod client;
pub mod errors;
pub mod mirrors;
pub mod pagination;
pub mod projects;
pub mod retry;
pub mod secret;
pub mod tokens;

pub use breaker::{BreakerConfig, BreakerState, CircuitBreaker};
pub use budget::{
    BudgetConfig, InstanceKey, LocalRateBudget, RateBudget, RateLimitHeaders, UnlimitedBudget,
};
pub use client::{ClientConfig, GitLabClient, GitLabClientBuilder, IdOrPath, encode_segment};
pub use errors::{BudgetError, GitLabError, TransportKind};
pub use mirrors::{
    CreateRemoteMirror, PullMirror, PullMirrorConfig, RemoteMirror, UpdateRemoteMirror,
};
pub use pagination::{MAX_PER_PAGE, NextPage, Page, PageRequest, collect_all};
pub use projects::{
    Branch, Group, Metadata, Namespace, Project, ProjectFilter, Tag, User, Version,
};
pub use retry::{Idempotency, RetryPolicy};
pub use secret::{SecretToken, SecretUrl, mask_url_credentials};
pub use tokens::{CreateAccessToken, NewAccessToken, ProjectAccessToken, TokenState, access_level};
pub use tokio_util::sync::CancellationToken;
