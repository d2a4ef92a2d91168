//! SQLite backend.
//!
//! Every connection runs in WAL mode (readers do not block the writer) with foreign keys on
//! and a busy timeout, so concurrent writers wait instead of failing. Write transactions start
//! with `BEGIN IMMEDIATE`: they take the write lock up front, which makes read-check-write
//! sequences atomic and avoids failing lock upgrades.

mod instances;
mod mirrors;
mod pairs;
mod users;

use std::{str::FromStr, time::Duration};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{
    Arguments, SqlitePool,
    sqlite::{
        SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions,
        SqliteSynchronous,
    },
};

use crate::{
    Backend, CreatedJob, DeleteInstanceOutcome, Instance, InstanceChanges, InstanceFilter,
    InstanceVerification, ItemOutcome, ItemStart, ItemState, Job, JobFilter, JobItem, ListParams,
    Mirror, MirrorChanges, MirrorFilter, MirrorGroupSummary, MirrorListParams, MirrorPage,
    MirrorProvisioning, MirrorStatusUpdate, NewInstance, NewJob, NewMirror, NewPair, NewUser,
    OffsetPage, OutboxMessage, Page, Pair, PairChanges, PairFilter, Storage, StorageError,
    StorageResult, TokenSealer, User, Window, listing::SqlValue,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

pub(crate) type Db = sqlx::Sqlite;
pub(crate) type Pool = SqlitePool;

/// Storage in a SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStorage {
    pool: SqlitePool,
}

impl SqliteStorage {
    /// Opens (creating when missing) the database at `url` (`sqlite://path` or
    /// `sqlite:path`, options such as `?mode=rwc` allowed) with a pool of at most
    /// `max_connections`.
    pub async fn connect(url: &str, max_connections: u32) -> StorageResult<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }

    /// The underlying pool (for tests and tools that need raw SQL).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// Binds listing values in order.
pub(crate) fn arguments(values: Vec<SqlValue>) -> StorageResult<SqliteArguments> {
    let mut arguments = SqliteArguments::default();
    for value in values {
        match value {
            SqlValue::Int(v) => arguments.add(v),
            SqlValue::Text(v) => arguments.add(v),
            SqlValue::Time(v) => arguments.add(v),
        }
        .map_err(|error| StorageError::Database(sqlx::Error::Encode(error)))?;
    }
    Ok(arguments)
}

#[async_trait]
impl Storage for SqliteStorage {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn migrate(&self) -> StorageResult<()> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn ping(&self) -> StorageResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn create_user(&self, user: &NewUser) -> StorageResult<User> {
        users::create(&self.pool, user).await
    }

    async fn get_user(&self, id: i64) -> StorageResult<Option<User>> {
        users::get(&self.pool, id).await
    }

    async fn get_user_by_username(&self, username: &str) -> StorageResult<Option<User>> {
        users::get_by_username(&self.pool, username).await
    }

    async fn count_users(&self) -> StorageResult<i64> {
        users::count(&self.pool).await
    }

    async fn set_user_active(&self, id: i64, active: bool) -> StorageResult<bool> {
        users::set_active(&self.pool, id, active).await
    }

    async fn create_instance(
        &self,
        instance: &NewInstance,
        seal_token: &TokenSealer,
    ) -> StorageResult<Instance> {
        instances::create(&self.pool, instance, seal_token).await
    }

    async fn get_instance(&self, id: i64) -> StorageResult<Option<Instance>> {
        instances::get(&self.pool, id).await
    }

    async fn list_instances(
        &self,
        filter: &InstanceFilter,
        params: &ListParams,
    ) -> StorageResult<Page<Instance>> {
        instances::list(&self.pool, filter, params).await
    }

    async fn update_instance(
        &self,
        id: i64,
        changes: &InstanceChanges,
    ) -> StorageResult<Option<Instance>> {
        instances::update(&self.pool, id, changes).await
    }

    async fn delete_instance(
        &self,
        id: i64,
        cascade: bool,
    ) -> StorageResult<DeleteInstanceOutcome> {
        instances::delete(&self.pool, id, cascade).await
    }

    async fn instance_pair_count(&self, id: i64) -> StorageResult<i64> {
        instances::pair_count(&self.pool, id).await
    }

    async fn record_instance_verification(
        &self,
        id: i64,
        verification: &InstanceVerification,
    ) -> StorageResult<bool> {
        instances::record_verification(&self.pool, id, verification).await
    }

    async fn create_pair(&self, pair: &NewPair) -> StorageResult<Pair> {
        pairs::create(&self.pool, pair).await
    }

    async fn get_pair(&self, id: i64) -> StorageResult<Option<Pair>> {
        pairs::get(&self.pool, id).await
    }

    async fn list_pairs(
        &self,
        filter: &PairFilter,
        params: &ListParams,
    ) -> StorageResult<Page<Pair>> {
        pairs::list(&self.pool, filter, params).await
    }

    async fn update_pair(&self, id: i64, changes: &PairChanges) -> StorageResult<Option<Pair>> {
        pairs::update(&self.pool, id, changes).await
    }

    async fn delete_pair(&self, id: i64) -> StorageResult<Option<i64>> {
        pairs::delete(&self.pool, id).await
    }

    async fn find_reverse_pair(
        &self,
        source_instance_id: i64,
        target_instance_id: i64,
        excluding: Option<i64>,
    ) -> StorageResult<Option<i64>> {
        pairs::find_reverse(
            &self.pool,
            source_instance_id,
            target_instance_id,
            excluding,
        )
        .await
    }

    async fn count_mirrors(&self, pair_id: i64) -> StorageResult<i64> {
        mirrors::count(&self.pool, pair_id).await
    }

    async fn insert_mirror(&self, mirror: &NewMirror) -> StorageResult<Mirror> {
        todo!("storage: insert_mirror")
    }

    async fn get_mirror(&self, id: i64) -> StorageResult<Option<Mirror>> {
        todo!("storage: get_mirror")
    }

    async fn find_mirror_by_paths(
        &self,
        pair_id: i64,
        source_path: &str,
        target_path: &str,
    ) -> StorageResult<Option<Mirror>> {
        todo!("storage: find_mirror_by_paths")
    }

    async fn list_mirrors(
        &self,
        filter: &MirrorFilter,
        params: &MirrorListParams,
    ) -> StorageResult<MirrorPage> {
        todo!("storage: list_mirrors")
    }

    async fn pair_mirrors(&self, pair_id: i64) -> StorageResult<Vec<Mirror>> {
        todo!("storage: pair_mirrors")
    }

    async fn mirror_group_tree(
        &self,
        filter: &MirrorFilter,
    ) -> StorageResult<Vec<MirrorGroupSummary>> {
        todo!("storage: mirror_group_tree")
    }

    async fn update_mirror(
        &self,
        id: i64,
        changes: &MirrorChanges,
    ) -> StorageResult<Option<Mirror>> {
        todo!("storage: update_mirror")
    }

    async fn record_mirror_provisioning(
        &self,
        id: i64,
        provisioning: &MirrorProvisioning,
    ) -> StorageResult<bool> {
        todo!("storage: record_mirror_provisioning")
    }

    async fn record_mirror_status(
        &self,
        id: i64,
        status: &MirrorStatusUpdate,
    ) -> StorageResult<bool> {
        todo!("storage: record_mirror_status")
    }

    async fn delete_mirror(&self, id: i64) -> StorageResult<bool> {
        todo!("storage: delete_mirror")
    }

    async fn mirrors_due_for_status_check(
        &self,
        checked_before: DateTime<Utc>,
        limit: u32,
    ) -> StorageResult<Vec<Mirror>> {
        todo!("storage: mirrors_due_for_status_check")
    }

    async fn create_job(&self, job: &NewJob) -> StorageResult<CreatedJob> {
        todo!("storage: create_job")
    }

    async fn get_job(&self, id: i64) -> StorageResult<Option<Job>> {
        todo!("storage: get_job")
    }

    async fn list_jobs(
        &self,
        filter: &JobFilter,
        window: Window,
    ) -> StorageResult<OffsetPage<Job>> {
        todo!("storage: list_jobs")
    }

    async fn list_job_items(
        &self,
        job_id: i64,
        state: Option<ItemState>,
        window: Window,
    ) -> StorageResult<OffsetPage<JobItem>> {
        todo!("storage: list_job_items")
    }

    async fn get_job_item(&self, id: i64) -> StorageResult<Option<JobItem>> {
        todo!("storage: get_job_item")
    }

    async fn start_job_item(&self, item_id: i64) -> StorageResult<ItemStart> {
        todo!("storage: start_job_item")
    }

    async fn finish_job_item(
        &self,
        item_id: i64,
        outcome: &ItemOutcome,
    ) -> StorageResult<Option<Job>> {
        todo!("storage: finish_job_item")
    }

    async fn add_job_item_warning(&self, item_id: i64, warning: &str) -> StorageResult<()> {
        todo!("storage: add_job_item_warning")
    }

    async fn cancel_job(&self, id: i64) -> StorageResult<Option<Job>> {
        todo!("storage: cancel_job")
    }

    async fn retry_failed_items(
        &self,
        job_id: i64,
        traceparent: Option<&str>,
    ) -> StorageResult<Option<Job>> {
        todo!("storage: retry_failed_items")
    }

    async fn claim_outbox(&self, limit: u32, lease: Duration) -> StorageResult<Vec<OutboxMessage>> {
        todo!("storage: claim_outbox")
    }

    async fn delete_outbox(&self, ids: &[i64]) -> StorageResult<()> {
        todo!("storage: delete_outbox")
    }

    async fn release_outbox(&self, id: i64, available_at: DateTime<Utc>) -> StorageResult<()> {
        todo!("storage: release_outbox")
    }

    async fn outbox_len(&self) -> StorageResult<i64> {
        todo!("storage: outbox_len")
    }

    async fn try_acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> StorageResult<bool> {
        todo!("storage: try_acquire_lease")
    }

    async fn release_lease(&self, name: &str, holder: &str) -> StorageResult<()> {
        todo!("storage: release_lease")
    }
}

pub(crate) const DIALECT: crate::listing::Dialect = crate::listing::Dialect::Sqlite;

/// `BEGIN IMMEDIATE` already holds the database's write lock, so these plain reads only tell
/// whether the row exists.
pub(crate) const LOCK_INSTANCE: &str = "SELECT id FROM instances WHERE id = $1";
pub(crate) const LOCK_PAIR: &str = "SELECT id FROM pairs WHERE id = $1";

/// Starts a transaction that will write, holding the write lock from the start.
pub(crate) async fn begin_write(
    pool: &SqlitePool,
) -> StorageResult<sqlx::Transaction<'static, Db>> {
    Ok(pool.begin_with("BEGIN IMMEDIATE").await?)
}
