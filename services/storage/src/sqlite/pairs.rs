//! Pairs on SQLite (bodies shared with PostgreSQL, see `backend_catalog`).

use super::{DIALECT, Db, LOCK_PAIR, Pool, arguments, begin_write};

crate::backend_catalog::pair_operations!();
