//! Users on PostgreSQL (bodies shared with SQLite, see `backend_catalog`).

use super::{Db, Pool};

crate::backend_catalog::user_operations!();
