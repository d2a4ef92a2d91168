use sqlx::{AssertSqlSafe, PgPool as Pool, Postgres as Db};

use super::{DIALECT, LOCK_PAIR, arguments, begin_write};
use crate::{
    ListParams, NewPair, Page, Pair, PairChanges, PairFilter, StorageError, StorageResult,
    listing::{build_list, finish_page, pair_conditions},
    model::PairRow,
    rules::{merge_pair, pair_mirror_fields_change},
    sql,
    time::{DbTime, now},
};

pub(super) async fn create(pool: &Pool, pair: &NewPair) -> StorageResult<Pair> {
    let id = sqlx::query_scalar::<Db, i64>(sql::INSERT_PAIR)
        .bind(&pair.name)
        .bind(pair.source_instance_id)
        .bind(pair.target_instance_id)
        .bind(pair.mirror_direction.as_str())
        .bind(pair.mirror_overwrite_diverged)
        .bind(pair.mirror_trigger_builds)
        .bind(pair.only_mirror_protected_branches)
        .bind(&pair.mirror_branch_regex)
        .bind(&pair.description)
        .bind(DbTime(now()))
        .fetch_one(pool)
        .await?;
    get(pool, id)
        .await?
        .ok_or(StorageError::Database(sqlx::Error::RowNotFound))
}

pub(super) async fn get(pool: &Pool, id: i64) -> StorageResult<Option<Pair>> {
    sqlx::query_as::<Db, PairRow>(sql::PAIR_BY_ID)
        .bind(id)
        .fetch_optional(pool)
        .await?
        .map(Pair::try_from)
        .transpose()
}

pub(super) async fn list(
    pool: &Pool,
    filter: &PairFilter,
    params: &ListParams,
) -> StorageResult<Page<Pair>> {
    let (select, count) = build_list(
        DIALECT,
        sql::PAIR_SELECT,
        sql::PAIR_COUNT,
        "p",
        pair_conditions(filter),
        params,
    )?;
    let total =
        sqlx::query_scalar_with::<Db, i64, _>(AssertSqlSafe(count.sql), arguments(count.values)?)
            .fetch_one(pool)
            .await?;
    let rows =
        sqlx::query_as_with::<Db, PairRow, _>(AssertSqlSafe(select.sql), arguments(select.values)?)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(Pair::try_from)
            .collect::<StorageResult<Vec<_>>>()?;
    Ok(finish_page(rows, params, total))
}

pub(super) async fn update(
    pool: &Pool,
    id: i64,
    changes: &PairChanges,
) -> StorageResult<Option<Pair>> {
    let mut tx = begin_write(pool).await?;
    sqlx::query_scalar::<Db, i64>(LOCK_PAIR)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(current) = sqlx::query_as::<Db, PairRow>(sql::PAIR_BY_ID)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .map(Pair::try_from)
        .transpose()?
    else {
        return Ok(None);
    };
    let next = merge_pair(&current, changes, now());
    if pair_mirror_fields_change(&current, &next) && current.mirror_count > 0 {
        return Err(StorageError::PairHasMirrors {
            mirror_count: current.mirror_count,
        });
    }
    sqlx::query::<Db>(sql::UPDATE_PAIR)
        .bind(id)
        .bind(&next.name)
        .bind(next.source_instance_id)
        .bind(next.target_instance_id)
        .bind(next.mirror_direction.as_str())
        .bind(next.mirror_overwrite_diverged)
        .bind(next.mirror_trigger_builds)
        .bind(next.only_mirror_protected_branches)
        .bind(&next.mirror_branch_regex)
        .bind(&next.description)
        .bind(DbTime(next.update_time))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Some(next))
}

pub(super) async fn delete(pool: &Pool, id: i64) -> StorageResult<Option<i64>> {
    let mut tx = begin_write(pool).await?;
    let deleted_mirrors = sqlx::query::<Db>(sql::DELETE_PAIR_MIRRORS)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let deleted = sqlx::query::<Db>(sql::DELETE_PAIR)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if deleted == 0 {
        return Ok(None);
    }
    tx.commit().await?;
    Ok(Some(deleted_mirrors as i64))
}

pub(super) async fn find_reverse(
    pool: &Pool,
    source_instance_id: i64,
    target_instance_id: i64,
    excluding: Option<i64>,
) -> StorageResult<Option<i64>> {
    Ok(sqlx::query_scalar::<Db, i64>(sql::REVERSE_PAIR)
        .bind(target_instance_id)
        .bind(source_instance_id)
        .bind(excluding.unwrap_or(0))
        .fetch_optional(pool)
        .await?)
}
