//! Users on SQLite (bodies shared with PostgreSQL, see `backend_catalog`).

use super::{Db, Pool};

crate::backend_catalog::user_operations!();
