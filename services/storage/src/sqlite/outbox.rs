//! Outbox and leases on SQLite (bodies shared with PostgreSQL, see `backend_outbox`).

use super::{Db, Pool, begin_write};

/// One UPDATE … RETURNING under the single write lock.
const CLAIM_OUTBOX: &str = crate::sql_jobs::CLAIM_OUTBOX_SQLITE;

crate::backend_outbox::outbox_operations!();
