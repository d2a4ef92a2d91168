//! Mirrors on PostgreSQL (bodies shared with SQLite, see `backend_mirrors`).

use super::{DIALECT, Db, Pool, arguments};

crate::backend_mirrors::mirror_operations!();
