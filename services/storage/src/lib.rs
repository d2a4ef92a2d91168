//! Persistence of Mirror Maestro: one [`Storage`] interface, two backends.
//!
//! * [`PgStorage`]: PostgreSQL, for deployments.
//! * [`SqliteStorage`]: SQLite in WAL mode, for single-process installs and development.
//!
//! [`connect`] picks the backend from the URL. Both run the same conformance suite
//! (`tests/`), so callers can rely on identical behaviour: ordering, paging, constraint
//! errors and timestamps.

mod backend_catalog;
mod backend_insights;
mod backend_jobs;
mod backend_mirrors;
mod backend_outbox;
mod error;
mod insights_model;
mod job_model;
mod listing;
mod mirror_model;
mod mirrors_query;
mod model;
mod postgres;
mod rows;
mod rules;
mod sql;
mod sql_insights;
mod sql_jobs;
mod sql_mirrors;
mod sqlite;
mod storage;
mod storage_impl;
mod time;

#[cfg(feature = "testing")]
pub mod testing;

use std::sync::Arc;

pub use error::{StorageError, StorageResult};
pub use insights_model::{
    ActivityEntry, FAILED_STATUSES, Graph, GraphInstance, GraphPair, HealthLevel, InstanceHit,
    LinkMirror, LinkMirrorPage, LinkMirrorQuery, MirrorFreshness, MirrorHit, MirrorQuickStats,
    MirrorStatusGroup, PENDING_STATUSES, PairHit, PairLastSuccess, QuickStatsQuery, RefreshRound,
    RefreshRounds, SUCCESS_STATUSES, SYNCING_STATUSES, SearchHits, StalenessRules, StatusClass,
};
pub use job_model::{
    CreatedJob, ItemMirror, ItemOutcome, ItemStart, ItemState, Job, JobFilter, JobItem, JobState,
    NewJob, NewJobItem, OffsetPage, OutboxMessage, Window,
};
pub use listing::{
    Cursor, CursorKey, InstanceFilter, ListParams, Page, PairFilter, Sort, SortField,
};
pub use mirror_model::{
    Mirror, MirrorChanges, MirrorFilter, MirrorGroupSummary, MirrorLifecycle, MirrorListParams,
    MirrorOverrides, MirrorPage, MirrorProvisioning, MirrorSortField, MirrorStatusUpdate,
    NewMirror, TokenStatus,
};
pub use model::{
    DeleteInstanceOutcome, Instance, InstanceChanges, InstanceVerification, MirrorDirection,
    NewInstance, NewPair, NewUser, Pair, PairChanges, TokenSealer, User,
};
pub use postgres::PgStorage;
pub use sqlite::SqliteStorage;
pub use storage::{Backend, Storage};

/// Opens a connection pool for `url` (`postgres://…`, `postgresql://…` or `sqlite:…`) with at
/// most `max_connections` connections. Does not run migrations; call [`Storage::migrate`].
pub async fn connect(url: &str, max_connections: u32) -> StorageResult<Arc<dyn Storage>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStorage::connect(url, max_connections).await?))
    } else if url.starts_with("sqlite:") {
        Ok(Arc::new(
            SqliteStorage::connect(url, max_connections).await?,
        ))
    } else {
        Err(StorageError::UnsupportedUrl)
    }
}
