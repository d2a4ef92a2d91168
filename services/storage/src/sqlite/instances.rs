use sqlx::AssertSqlSafe;

use super::{Db, Pool};

use super::{DIALECT, LOCK_INSTANCE, arguments, begin_write};
use crate::{
    DeleteInstanceOutcome, Instance, InstanceChanges, InstanceFilter, InstanceVerification,
    ListParams, NewInstance, Page, StorageError, StorageResult, TokenSealer,
    listing::{build_list, finish_page, instance_conditions},
    rules::{merge_instance, url_changes},
    sql,
    time::{DbTime, now},
};

pub(super) async fn create(
    pool: &Pool,
    instance: &NewInstance,
    seal_token: &TokenSealer,
) -> StorageResult<Instance> {
    let mut tx = begin_write(pool).await?;
    let id = sqlx::query_scalar::<Db, i64>(sql::INSERT_INSTANCE)
        .bind(&instance.name)
        .bind(&instance.url)
        .bind(&instance.description)
        .bind(DbTime(now()))
        .fetch_one(&mut *tx)
        .await?;
    let encrypted_token = seal_token(id).map_err(StorageError::Seal)?;
    sqlx::query::<Db>(sql::SET_INSTANCE_TOKEN)
        .bind(id)
        .bind(encrypted_token)
        .execute(&mut *tx)
        .await?;
    let created = sqlx::query_as::<Db, Instance>(sql::INSTANCE_BY_ID)
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(created)
}

pub(super) async fn get(pool: &Pool, id: i64) -> StorageResult<Option<Instance>> {
    Ok(sqlx::query_as::<Db, Instance>(sql::INSTANCE_BY_ID)
        .bind(id)
        .fetch_optional(pool)
        .await?)
}

pub(super) async fn list(
    pool: &Pool,
    filter: &InstanceFilter,
    params: &ListParams,
) -> StorageResult<Page<Instance>> {
    let (select, count) = build_list(
        DIALECT,
        sql::INSTANCE_SELECT,
        sql::INSTANCE_COUNT,
        "i",
        instance_conditions(filter),
        params,
    )?;
    let total =
        sqlx::query_scalar_with::<Db, i64, _>(AssertSqlSafe(count.sql), arguments(count.values)?)
            .fetch_one(pool)
            .await?;
    let rows = sqlx::query_as_with::<Db, Instance, _>(
        AssertSqlSafe(select.sql),
        arguments(select.values)?,
    )
    .fetch_all(pool)
    .await?;
    Ok(finish_page(rows, params, total))
}

pub(super) async fn update(
    pool: &Pool,
    id: i64,
    changes: &InstanceChanges,
) -> StorageResult<Option<Instance>> {
    let mut tx = begin_write(pool).await?;
    sqlx::query_scalar::<Db, i64>(LOCK_INSTANCE)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(current) = sqlx::query_as::<Db, Instance>(sql::INSTANCE_BY_ID)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
    else {
        return Ok(None);
    };
    if url_changes(&current, changes) && current.pair_count > 0 {
        return Err(StorageError::InstanceInUse {
            pair_count: current.pair_count,
        });
    }
    let next = merge_instance(&current, changes, now());
    sqlx::query::<Db>(sql::UPDATE_INSTANCE)
        .bind(id)
        .bind(&next.name)
        .bind(&next.url)
        .bind(&next.description)
        .bind(&next.encrypted_token)
        .bind(next.token_user_id)
        .bind(&next.token_username)
        .bind(&next.gitlab_version)
        .bind(&next.gitlab_edition)
        .bind(next.verify_time.map(DbTime))
        .bind(DbTime(next.update_time))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Some(next))
}

pub(super) async fn delete(
    pool: &Pool,
    id: i64,
    cascade: bool,
) -> StorageResult<DeleteInstanceOutcome> {
    let mut tx = begin_write(pool).await?;
    let locked = sqlx::query_scalar::<Db, i64>(LOCK_INSTANCE)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    if locked.is_none() {
        return Ok(DeleteInstanceOutcome::NotFound);
    }
    let pair_count = sqlx::query_scalar::<Db, i64>(sql::INSTANCE_PAIR_COUNT)
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    if pair_count > 0 && !cascade {
        return Ok(DeleteInstanceOutcome::InUse { pair_count });
    }
    let deleted_mirrors = sqlx::query::<Db>(sql::DELETE_INSTANCE_MIRRORS)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let deleted_pairs = sqlx::query::<Db>(sql::DELETE_INSTANCE_PAIRS)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    sqlx::query::<Db>(sql::DELETE_INSTANCE)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(DeleteInstanceOutcome::Deleted {
        deleted_pairs: deleted_pairs as i64,
        deleted_mirrors: deleted_mirrors as i64,
    })
}

pub(super) async fn pair_count(pool: &Pool, id: i64) -> StorageResult<i64> {
    Ok(sqlx::query_scalar::<Db, i64>(sql::INSTANCE_PAIR_COUNT)
        .bind(id)
        .fetch_one(pool)
        .await?)
}

pub(super) async fn record_verification(
    pool: &Pool,
    id: i64,
    verification: &InstanceVerification,
) -> StorageResult<bool> {
    let result = sqlx::query::<Db>(sql::RECORD_INSTANCE_VERIFICATION)
        .bind(id)
        .bind(verification.token_user_id)
        .bind(&verification.token_username)
        .bind(&verification.gitlab_version)
        .bind(&verification.gitlab_edition)
        .bind(DbTime(now()))
        .execute(pool)
        .await?;
    Ok(result.rows_affected() == 1)
}
