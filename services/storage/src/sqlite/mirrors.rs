use super::{Db, Pool};

use crate::{NewMirror, StorageResult, sql, time::DbTime, time::now};

#[allow(dead_code)]
pub(super) async fn insert(pool: &Pool, mirror: &NewMirror) -> StorageResult<i64> {
    Ok(sqlx::query_scalar::<Db, i64>(sql::INSERT_MIRROR)
        .bind(mirror.pair_id)
        .bind(mirror.source_project_id)
        .bind(&mirror.source_project_path)
        .bind(mirror.target_project_id)
        .bind(&mirror.target_project_path)
        .bind(DbTime(now()))
        .fetch_one(pool)
        .await?)
}

pub(super) async fn count(pool: &Pool, pair_id: i64) -> StorageResult<i64> {
    Ok(sqlx::query_scalar::<Db, i64>(sql::COUNT_PAIR_MIRRORS)
        .bind(pair_id)
        .fetch_one(pool)
        .await?)
}
