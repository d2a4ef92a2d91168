//! Mirrors on SQLite (bodies shared with PostgreSQL, see `backend_mirrors`).

use super::{DIALECT, Db, Pool, arguments};

crate::backend_mirrors::mirror_operations!();
