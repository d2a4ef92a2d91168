//! PostgreSQL backend.

mod instances;
mod jobs;
mod mirrors;
mod outbox;
mod pairs;
mod users;

use std::{str::FromStr, time::Duration};

use sqlx::{
    Arguments, PgPool,
    postgres::{PgArguments, PgConnectOptions, PgPoolOptions},
};

use crate::{Backend, StorageError, StorageResult, listing::SqlValue};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

pub(crate) type Db = sqlx::Postgres;
pub(crate) type Pool = PgPool;

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
            SqlValue::Bool(v) => arguments.add(v),
            SqlValue::Text(v) => arguments.add(v),
            SqlValue::Time(v) => arguments.add(v),
        }
        .map_err(|error| StorageError::Database(sqlx::Error::Encode(error)))?;
    }
    Ok(arguments)
}

crate::storage_impl::impl_storage!(PgStorage, Backend::Postgres);

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
