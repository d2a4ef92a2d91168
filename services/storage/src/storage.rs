use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::{
    ActivityEntry, Graph, LinkMirrorPage, LinkMirrorQuery, MirrorFreshness, MirrorQuickStats,
    MirrorStatusGroup, PairLastSuccess, QuickStatsQuery, RefreshRounds, SearchHits,
};
use crate::{
    CreatedJob, DeleteInstanceOutcome, Instance, InstanceChanges, InstanceFilter,
    InstanceVerification, ItemOutcome, ItemStart, ItemState, Job, JobFilter, JobItem, ListParams,
    Mirror, MirrorChanges, MirrorFilter, MirrorGroupSummary, MirrorListParams, MirrorPage,
    MirrorProvisioning, MirrorStatusUpdate, NewInstance, NewJob, NewMirror, NewPair, NewUser,
    OffsetPage, OutboxMessage, Page, Pair, PairChanges, PairFilter, StorageResult, TokenSealer,
    User, Window,
};

/// Which database a [`Storage`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// Everything Mirror Maestro persists. Implemented by [`crate::PgStorage`] and
/// [`crate::SqliteStorage`], which behave identically (same conformance suite).
///
/// Lookups of a missing row return `Ok(None)`; constraint violations return the dedicated
/// [`crate::StorageError`] variants.
#[async_trait]
pub trait Storage: Send + Sync + 'static {
    /// The backend behind this storage.
    fn backend(&self) -> Backend;

    /// Applies pending migrations.
    async fn migrate(&self) -> StorageResult<()>;

    /// Checks that the database answers.
    async fn ping(&self) -> StorageResult<()>;

    /// Closes the pool; later calls fail.
    async fn close(&self);

    // ---- users ----

    async fn create_user(&self, user: &NewUser) -> StorageResult<User>;
    async fn get_user(&self, id: i64) -> StorageResult<Option<User>>;
    async fn get_user_by_username(&self, username: &str) -> StorageResult<Option<User>>;
    async fn count_users(&self) -> StorageResult<i64>;
    /// Enables or disables a user; returns `false` when the user does not exist.
    async fn set_user_active(&self, id: i64, active: bool) -> StorageResult<bool>;

    // ---- instances ----

    /// Inserts an instance; `seal_token` encrypts the token for the new id inside the same
    /// transaction, so no row ever exists without its token.
    async fn create_instance(
        &self,
        instance: &NewInstance,
        seal_token: &TokenSealer,
    ) -> StorageResult<Instance>;
    async fn get_instance(&self, id: i64) -> StorageResult<Option<Instance>>;
    async fn list_instances(
        &self,
        filter: &InstanceFilter,
        params: &ListParams,
    ) -> StorageResult<Page<Instance>>;
    /// Applies `changes`; `Ok(None)` when the instance does not exist.
    async fn update_instance(
        &self,
        id: i64,
        changes: &InstanceChanges,
    ) -> StorageResult<Option<Instance>>;
    /// Deletes an instance. With `cascade`, its pairs (and their mirrors) go in the same
    /// transaction; without, an instance used by pairs is left alone.
    async fn delete_instance(&self, id: i64, cascade: bool)
    -> StorageResult<DeleteInstanceOutcome>;
    /// Number of pairs using the instance as source or target (0 when it does not exist).
    async fn instance_pair_count(&self, id: i64) -> StorageResult<i64>;
    /// Records what verifying the instance against GitLab found; `false` when the instance
    /// does not exist.
    async fn record_instance_verification(
        &self,
        id: i64,
        verification: &InstanceVerification,
    ) -> StorageResult<bool>;

    // ---- pairs ----

    async fn create_pair(&self, pair: &NewPair) -> StorageResult<Pair>;
    async fn get_pair(&self, id: i64) -> StorageResult<Option<Pair>>;
    async fn list_pairs(
        &self,
        filter: &PairFilter,
        params: &ListParams,
    ) -> StorageResult<Page<Pair>>;
    /// Applies `changes`; `Ok(None)` when the pair does not exist.
    async fn update_pair(&self, id: i64, changes: &PairChanges) -> StorageResult<Option<Pair>>;
    /// Deletes a pair and its mirrors; returns the number of mirrors deleted, or `None` when
    /// the pair does not exist.
    async fn delete_pair(&self, id: i64) -> StorageResult<Option<i64>>;
    /// The pair mirroring from `target` to `source` (the reverse of source → target), if any,
    /// ignoring the pair `excluding`.
    async fn find_reverse_pair(
        &self,
        source_instance_id: i64,
        target_instance_id: i64,
        excluding: Option<i64>,
    ) -> StorageResult<Option<i64>>;

    // ---- mirrors ----

    /// Inserts a mirror (lifecycle `creating`). Duplicate paths in the pair give
    /// `AlreadyExists { entity: "mirror", field: "source_project_path" }`.
    async fn insert_mirror(&self, mirror: &NewMirror) -> StorageResult<Mirror>;
    async fn get_mirror(&self, id: i64) -> StorageResult<Option<Mirror>>;
    /// The mirror of `pair_id` from `source_path` to `target_path` (exact, case-sensitive).
    async fn find_mirror_by_paths(
        &self,
        pair_id: i64,
        source_path: &str,
        target_path: &str,
    ) -> StorageResult<Option<Mirror>>;
    /// Filters, sorts and pages in SQL; `total` counts every match.
    async fn list_mirrors(
        &self,
        filter: &MirrorFilter,
        params: &MirrorListParams,
    ) -> StorageResult<MirrorPage>;
    /// Every mirror of a pair in id order (batch jobs, export).
    async fn pair_mirrors(&self, pair_id: i64) -> StorageResult<Vec<Mirror>>;
    /// Groups of the source paths of the mirrors matching `filter`, for the tree view,
    /// ordered by path.
    async fn mirror_group_tree(
        &self,
        filter: &MirrorFilter,
    ) -> StorageResult<Vec<MirrorGroupSummary>>;
    /// Applies operator changes (bumps `update_time`); `Ok(None)` when missing.
    async fn update_mirror(
        &self,
        id: i64,
        changes: &MirrorChanges,
    ) -> StorageResult<Option<Mirror>>;
    /// Records GitLab ids and the token; `false` when the mirror does not exist.
    async fn record_mirror_provisioning(
        &self,
        id: i64,
        provisioning: &MirrorProvisioning,
    ) -> StorageResult<bool>;
    /// Records a status read from GitLab without touching `update_time`.
    async fn record_mirror_status(
        &self,
        id: i64,
        status: &MirrorStatusUpdate,
    ) -> StorageResult<bool>;
    /// Deletes the row; `false` when it did not exist.
    async fn delete_mirror(&self, id: i64) -> StorageResult<bool>;
    async fn count_mirrors(&self, pair_id: i64) -> StorageResult<i64>;
    /// Ready mirrors whose status was never checked or checked before `checked_before`,
    /// oldest check first (the status scheduler).
    async fn mirrors_due_for_status_check(
        &self,
        checked_before: DateTime<Utc>,
        limit: u32,
    ) -> StorageResult<Vec<Mirror>>;

    // ---- jobs ----

    /// Writes the job, its items, new mirrors and one outbox message per queued item in one
    /// transaction. A job without queued items is created already finished.
    async fn create_job(&self, job: &NewJob) -> StorageResult<CreatedJob>;
    async fn get_job(&self, id: i64) -> StorageResult<Option<Job>>;
    /// Newest first.
    async fn list_jobs(&self, filter: &JobFilter, window: Window)
    -> StorageResult<OffsetPage<Job>>;
    /// Items of a job in id order, optionally only those in `state`.
    async fn list_job_items(
        &self,
        job_id: i64,
        state: Option<ItemState>,
        window: Window,
    ) -> StorageResult<OffsetPage<JobItem>>;
    async fn get_job_item(&self, id: i64) -> StorageResult<Option<JobItem>>;
    /// Marks an item running before a worker handles it (see [`ItemStart`]). A `running`
    /// item (its worker died) is started again.
    async fn start_job_item(&self, item_id: i64) -> StorageResult<ItemStart>;
    /// Records how an item ended and updates the job's counters and, when the last item
    /// finishes, its final state — in one transaction. `Ok(None)` when the item was already
    /// finished (nothing changes).
    async fn finish_job_item(
        &self,
        item_id: i64,
        outcome: &ItemOutcome,
    ) -> StorageResult<Option<Job>>;
    /// Adds warnings to a running item (e.g. cleanup steps that failed but did not fail it).
    async fn add_job_item_warning(&self, item_id: i64, warning: &str) -> StorageResult<()>;
    /// Cancels a queued or running job: queued items become `cancelled` (running ones finish).
    /// Returns the job, unchanged when it had already finished; `None` when missing.
    async fn cancel_job(&self, id: i64) -> StorageResult<Option<Job>>;
    /// Puts the failed items of a finished job back in the queue with new outbox messages.
    /// `None` when the job does not exist.
    async fn retry_failed_items(
        &self,
        job_id: i64,
        traceparent: Option<&str>,
    ) -> StorageResult<Option<Job>>;

    // ---- outbox ----

    /// Claims up to `limit` available messages for `lease` (other claimers skip them until the
    /// lease expires), oldest first.
    async fn claim_outbox(&self, limit: u32, lease: Duration) -> StorageResult<Vec<OutboxMessage>>;
    /// Removes delivered messages.
    async fn delete_outbox(&self, ids: &[i64]) -> StorageResult<()>;
    /// Makes a claimed message available again at `available_at` (in-process retries).
    async fn release_outbox(&self, id: i64, available_at: DateTime<Utc>) -> StorageResult<()>;
    /// Frees every claimed message at once. Only for a process that knows it is the sole
    /// consumer of the outbox (the all-in-one process at start-up): claims left by a run that
    /// died become available without waiting for their lease.
    async fn release_outbox_claims(&self) -> StorageResult<u64>;
    /// Messages not yet delivered (metrics, tests).
    async fn outbox_len(&self) -> StorageResult<i64>;

    // ---- read models (dashboard, topology, quick stats, search) ----

    /// Mirrors counted per pair, lifecycle, status and enabled flag (one pair, or all), from
    /// counts the database keeps up to date.
    async fn mirror_status_groups(
        &self,
        pair_id: Option<i64>,
    ) -> StorageResult<Vec<MirrorStatusGroup>>;
    /// The newest successful update of every pair's ready mirrors, by pair id.
    async fn pair_last_successes(&self) -> StorageResult<Vec<PairLastSuccess>>;
    /// Ready mirrors whose status was read before `fresh_since` (or never), and the oldest
    /// and newest reads.
    async fn mirror_freshness(&self, fresh_since: DateTime<Utc>) -> StorageResult<MirrorFreshness>;
    /// Every instance and pair, by id (the skeleton of the topology).
    async fn read_model_graph(&self) -> StorageResult<Graph>;
    /// Up to `limit` jobs created at or after `since`, newest first, except `excluded_kind`.
    async fn recent_activity(
        &self,
        since: DateTime<Utc>,
        excluded_kind: &str,
        limit: u32,
    ) -> StorageResult<Vec<ActivityEntry>>;
    /// The newest rounds of the scheduled job `kind` and the expiry of `lease`.
    async fn status_refresh_rounds(&self, kind: &str, lease: &str) -> StorageResult<RefreshRounds>;
    /// Ready mirrors syncing now and those that failed recently.
    async fn mirror_quick_stats(&self, query: &QuickStatsQuery) -> StorageResult<MirrorQuickStats>;
    /// A page of the ready mirrors of one topology link, worst health first.
    async fn link_mirrors(&self, query: &LinkMirrorQuery) -> StorageResult<LinkMirrorPage>;
    /// Instances, pairs and mirrors containing `text` (ASCII case-insensitive), at most
    /// `limit` of each.
    async fn search_everything(&self, text: &str, limit: u32) -> StorageResult<SearchHits>;

    // ---- leases (leader election for scheduled work) ----

    /// Takes or renews lease `name` for `holder` when it is free, expired or already held by
    /// `holder`; returns whether `holder` holds it now.
    async fn try_acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> StorageResult<bool>;
    async fn release_lease(&self, name: &str, holder: &str) -> StorageResult<()>;
}
