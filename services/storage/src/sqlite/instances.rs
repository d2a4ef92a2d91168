//! Instances on SQLite (bodies shared with PostgreSQL, see `backend_catalog`).

use super::{DIALECT, Db, LOCK_INSTANCE, Pool, arguments, begin_write};

crate::backend_catalog::instance_operations!();
