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
use sqlx::{
    Arguments, SqlitePool,
    sqlite::{
        SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions,
        SqliteSynchronous,
    },
};

use crate::{
    Backend, DeleteInstanceOutcome, Instance, InstanceChanges, InstanceFilter,
    InstanceVerification, ListParams, NewInstance, NewMirror, NewPair, NewUser, Page, Pair,
    PairChanges, PairFilter, Storage, StorageError, StorageResult, TokenSealer, User,
    listing::SqlValue,
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

    async fn insert_mirror(&self, mirror: &NewMirror) -> StorageResult<i64> {
        mirrors::insert(&self.pool, mirror).await
    }

    async fn count_mirrors(&self, pair_id: i64) -> StorageResult<i64> {
        mirrors::count(&self.pool, pair_id).await
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
