//! Throw-away databases for tests (feature `testing`).
//!
//! PostgreSQL: a new database named `mm_test_<uuid>` on `MM_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), dropped when the [`TestDatabase`] is
//! dropped. If PostgreSQL is unreachable the test fails, unless `MM_SKIP_POSTGRES=1` is set,
//! in which case [`TestDatabase::create`] returns `None` and the test should return early.
//!
//! SQLite: a file in a temporary directory, removed on drop.

use std::{str::FromStr, sync::Arc};

use sqlx::{Connection, Executor, PgConnection, postgres::PgConnectOptions};

use crate::{Storage, StorageResult};

/// Default server for PostgreSQL tests.
pub const DEFAULT_TEST_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Backend of a test database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TestBackend {
    Postgres,
    Sqlite,
}

impl TestBackend {
    /// Both backends, for tests that loop over them.
    pub const ALL: [TestBackend; 2] = [TestBackend::Sqlite, TestBackend::Postgres];
}

/// Whether PostgreSQL tests were explicitly switched off with `MM_SKIP_POSTGRES=1`.
pub fn postgres_skipped() -> bool {
    std::env::var("MM_SKIP_POSTGRES").is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// An empty database (no migrations applied) that disappears on drop.
pub struct TestDatabase {
    /// Connection URL of the database.
    pub url: String,
    pub backend: TestBackend,
    cleanup: Cleanup,
}

enum Cleanup {
    Postgres { admin_url: String, name: String },
    Sqlite { _dir: tempfile::TempDir },
}

impl TestDatabase {
    /// Creates a fresh database; `None` only when PostgreSQL is requested and skipped.
    ///
    /// # Panics
    /// When PostgreSQL is unreachable and not skipped: tests must not pass silently.
    pub async fn create(backend: TestBackend) -> Option<TestDatabase> {
        match backend {
            TestBackend::Sqlite => {
                let dir = tempfile::tempdir().expect("create a temporary directory");
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
                Some(TestDatabase {
                    url,
                    backend,
                    cleanup: Cleanup::Sqlite { _dir: dir },
                })
            }
            TestBackend::Postgres => {
                if postgres_skipped() {
                    eprintln!("MM_SKIP_POSTGRES=1: skipping the PostgreSQL variant of this test");
                    return None;
                }
                let admin_url = std::env::var("MM_TEST_DATABASE_URL")
                    .unwrap_or_else(|_| DEFAULT_TEST_DATABASE_URL.to_owned());
                let name = format!("mm_test_{}", uuid::Uuid::new_v4().simple());
                let mut connection =
                    PgConnection::connect(&admin_url)
                        .await
                        .unwrap_or_else(|error| {
                            panic!(
                                "PostgreSQL at MM_TEST_DATABASE_URL ({}) is unreachable: {error}. \
                         Start it, or set MM_SKIP_POSTGRES=1 to skip PostgreSQL tests.",
                                redact(&admin_url)
                            )
                        });
                connection
                    .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                    .await
                    .expect("create the test database");
                let _ = connection.close().await;
                let url = database_url(&admin_url, &name);
                Some(TestDatabase {
                    url,
                    backend,
                    cleanup: Cleanup::Postgres { admin_url, name },
                })
            }
        }
    }

    /// Connects to the database and applies the migrations.
    pub async fn storage(&self) -> StorageResult<Arc<dyn Storage>> {
        let storage = crate::connect(&self.url, 5).await?;
        storage.migrate().await?;
        Ok(storage)
    }

    /// Path of the SQLite file (`None` for PostgreSQL).
    pub fn sqlite_path(&self) -> Option<std::path::PathBuf> {
        match &self.cleanup {
            Cleanup::Sqlite { _dir } => Some(_dir.path().join("test.db")),
            Cleanup::Postgres { .. } => None,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Cleanup::Postgres { admin_url, name } = &self.cleanup else {
            return;
        };
        let (admin_url, name) = (admin_url.clone(), name.clone());
        // Drop may run inside a runtime, where blocking on a future is not allowed; a short
        // thread with its own runtime does the cleanup.
        let dropper = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("build a runtime for dropping the test database");
            runtime.block_on(async {
                let options = PgConnectOptions::from_str(&admin_url).ok()?;
                let mut connection = PgConnection::connect_with(&options).await.ok()?;
                let statement = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                if let Err(error) = connection.execute(sqlx::AssertSqlSafe(statement)).await {
                    eprintln!("could not drop test database {name}: {error}");
                }
                connection.close().await.ok()
            })
        });
        let _ = dropper.join();
    }
}

/// `admin_url` with its database replaced by `database`.
fn database_url(admin_url: &str, database: &str) -> String {
    let mut url = url::Url::parse(admin_url).expect("MM_TEST_DATABASE_URL is a URL");
    url.set_path(&format!("/{database}"));
    url.to_string()
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}
