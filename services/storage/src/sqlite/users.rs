use super::{Db, Pool};

use crate::{NewUser, StorageResult, User, sql, time::DbTime, time::now};

pub(super) async fn create(pool: &Pool, user: &NewUser) -> StorageResult<User> {
    Ok(sqlx::query_as::<Db, User>(sql::INSERT_USER)
        .bind(&user.username)
        .bind(&user.email)
        .bind(&user.password_hash)
        .bind(user.is_admin)
        .bind(user.is_active)
        .bind(DbTime(now()))
        .fetch_one(pool)
        .await?)
}

pub(super) async fn get(pool: &Pool, id: i64) -> StorageResult<Option<User>> {
    Ok(sqlx::query_as::<Db, User>(sql::USER_BY_ID)
        .bind(id)
        .fetch_optional(pool)
        .await?)
}

pub(super) async fn get_by_username(pool: &Pool, username: &str) -> StorageResult<Option<User>> {
    Ok(sqlx::query_as::<Db, User>(sql::USER_BY_USERNAME)
        .bind(username)
        .fetch_optional(pool)
        .await?)
}

pub(super) async fn count(pool: &Pool) -> StorageResult<i64> {
    Ok(sqlx::query_scalar::<Db, i64>(sql::COUNT_USERS)
        .fetch_one(pool)
        .await?)
}

pub(super) async fn set_active(pool: &Pool, id: i64, active: bool) -> StorageResult<bool> {
    let result = sqlx::query::<Db>(sql::SET_USER_ACTIVE)
        .bind(id)
        .bind(active)
        .bind(DbTime(now()))
        .execute(pool)
        .await?;
    Ok(result.rows_affected() == 1)
}
