//! Instances, pairs and users, written once for both backends.
//!
//! Like [`crate::backend_mirrors`]: each macro expands to the functions of one module of
//! `postgres` and `sqlite`, whose expansion site provides `Db`, `Pool` and the helpers of its
//! backend's `mod.rs` (`DIALECT`, `arguments`, `begin_write`, the row-lock statements). The
//! bodies are the same for both databases; only those types and statements differ.

macro_rules! instance_operations {
    () => {
        use sqlx::AssertSqlSafe;

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
            let total = sqlx::query_scalar_with::<Db, i64, _>(
                AssertSqlSafe(count.sql),
                arguments(count.values)?,
            )
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
    };
}

macro_rules! pair_operations {
    () => {
        use sqlx::AssertSqlSafe;

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
            let total = sqlx::query_scalar_with::<Db, i64, _>(
                AssertSqlSafe(count.sql),
                arguments(count.values)?,
            )
            .fetch_one(pool)
            .await?;
            let rows = sqlx::query_as_with::<Db, PairRow, _>(
                AssertSqlSafe(select.sql),
                arguments(select.values)?,
            )
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
    };
}

macro_rules! user_operations {
    () => {
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

        pub(super) async fn get_by_username(
            pool: &Pool,
            username: &str,
        ) -> StorageResult<Option<User>> {
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
    };
}

pub(crate) use instance_operations;
pub(crate) use pair_operations;
pub(crate) use user_operations;
