//! SQLite backend.
//!
//! Every connection runs in WAL mode (readers do not block the writer) with foreign keys on
//! and a busy timeout, so concurrent writers wait instead of failing. Write transactions start
//! with `BEGIN IMMEDIATE`: they take the write lock up front, which makes read-check-write
//! sequences atomic and avoids failing lock upgrades.

mod instances;
mod jobs;
mod mirrors;
mod outbox;
mod pairs;
mod users;

use std::{str::FromStr, time::Duration};

use sqlx::{
    Arguments, SqlitePool,
    sqlite::{
        SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions,
        SqliteSynchronous,
    },
};

use crate::{Backend, StorageError, StorageResult, listing::SqlValue};

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
            SqlValue::Bool(v) => arguments.add(v),
            SqlValue::Text(v) => arguments.add(v),
            SqlValue::Time(v) => arguments.add(v),
        }
        .map_err(|error| StorageError::Database(sqlx::Error::Encode(error)))?;
    }
    Ok(arguments)
}

crate::storage_impl::impl_storage!(SqliteStorage, Backend::Sqlite);

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
