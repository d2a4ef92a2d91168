//! Pairs on PostgreSQL (bodies shared with SQLite, see `backend_catalog`).

use super::{DIALECT, Db, LOCK_PAIR, Pool, arguments, begin_write};

crate::backend_catalog::pair_operations!();
