//! PostgreSQL backend.

mod instances;
mod mirrors;
mod pairs;
mod users;

use std::{str::FromStr, time::Duration};

use async_trait::async_trait;
use sqlx::{
    Arguments, PgPool,
    postgres::{PgArguments, PgConnectOptions, PgPoolOptions},
};

use crate::{
    Backend, DeleteInstanceOutcome, Instance, InstanceChanges, InstanceFilter,
    InstanceVerification, ListParams, NewInstance, NewMirror, NewPair, NewUser, Page, Pair,
    PairChanges, PairFilter, Storage, StorageError, StorageResult, TokenSealer, User,
    listing::SqlValue,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// Storage in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgStorage {
    pool: PgPool,
}

impl PgStorage {
    /// Connects a pool of at most `max_connections` to `url`.
    pub async fn connect(url: &str, max_connections: u32) -> StorageResult<Self> {
        let options = PgConnectOptions::from_str(url)?.application_name("mirror-maestro");
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }

    /// Wraps an existing pool.
    pub fn from_pool(pool: PgPool) -> Self {
        Self { pool }
    }

    /// The underlying pool (for tests and tools that need raw SQL).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// Binds listing values in order.
pub(crate) fn arguments(values: Vec<SqlValue>) -> StorageResult<PgArguments> {
    let mut arguments = PgArguments::default();
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
impl Storage for PgStorage {
    fn backend(&self) -> Backend {
        Backend::Postgres
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

pub(crate) const DIALECT: crate::listing::Dialect = crate::listing::Dialect::Postgres;

/// Row locks taken before read-check-write sequences. They also conflict with the key-share
/// locks that foreign-key checks take, so a concurrent insert of a pair (or mirror) referring
/// to the row waits for the check to finish.
pub(crate) const LOCK_INSTANCE: &str = "SELECT id FROM instances WHERE id = $1 FOR UPDATE";
pub(crate) const LOCK_PAIR: &str = "SELECT id FROM pairs WHERE id = $1 FOR UPDATE";

/// Starts a transaction that will write.
pub(crate) async fn begin_write(
    pool: &PgPool,
) -> StorageResult<sqlx::Transaction<'static, sqlx::Postgres>> {
    Ok(pool.begin().await?)
}
