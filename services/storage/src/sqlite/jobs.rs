//! Jobs on SQLite (bodies shared with PostgreSQL, see `backend_jobs`).

use super::{Db, Pool, arguments, begin_write};

/// `BEGIN IMMEDIATE` already holds the database's only write lock, so plain reads suffice.
const LOCK_JOB: &str = crate::sql_jobs::JOB_BY_ID;
const LOCK_ITEM: &str = crate::sql_jobs::ITEM_BY_ID;
const ADD_ITEM_WARNING: &str = crate::sql_jobs::ADD_ITEM_WARNING_SQLITE;

crate::backend_jobs::job_operations!();
