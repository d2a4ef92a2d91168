//! Outbox and leases on PostgreSQL (bodies shared with SQLite, see `backend_outbox`).

use super::{Db, Pool, begin_write};

/// `FOR UPDATE SKIP LOCKED`: concurrent claimers never get the same message.
const CLAIM_OUTBOX: &str = crate::sql_jobs::CLAIM_OUTBOX_PG;

crate::backend_outbox::outbox_operations!();
