//! Jobs on PostgreSQL (bodies shared with SQLite, see `backend_jobs`).

use super::{Db, Pool, arguments, begin_write};

/// Row locks, job before item (see `backend_jobs`).
const LOCK_JOB: &str = crate::sql_jobs::JOB_BY_ID_FOR_UPDATE_PG;
const LOCK_ITEM: &str = crate::sql_jobs::ITEM_BY_ID_FOR_UPDATE_PG;
const ADD_ITEM_WARNING: &str = crate::sql_jobs::ADD_ITEM_WARNING_PG;

crate::backend_jobs::job_operations!();
