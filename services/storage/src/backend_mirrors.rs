//! Mirror operations, written once for both backends.
//!
//! [`mirror_operations!`] expands to the functions of `postgres::mirrors` and
//! `sqlite::mirrors`. The expansion site provides `Db`, `Pool`, `DIALECT` and `arguments`
//! (from its backend's `mod.rs`); everything else is shared SQL from `sql_mirrors` and
//! `mirrors_query`. The bodies are identical for both databases: only the types differ, which
//! sqlx cannot abstract over without a wall of trait bounds.

/// Binds the values of one new mirror in the column order of `sql_mirrors::INSERT_MIRROR`
/// (`$bind` is `.bind` on a query or `.push_bind` on a `Separated` builder). `$now` is used
/// twice (create and update time): pass a variable, not a call.
macro_rules! bind_new_mirror {
    ($query:expr, $bind:ident, $mirror:expr, $now:expr) => {
        $query
            .$bind($mirror.pair_id)
            .$bind($mirror.source_project_id)
            .$bind(&$mirror.source_project_path)
            .$bind($mirror.target_project_id)
            .$bind(&$mirror.target_project_path)
            .$bind($mirror.overrides.mirror_overwrite_diverged)
            .$bind($mirror.overrides.mirror_trigger_builds)
            .$bind($mirror.overrides.only_mirror_protected_branches)
            .$bind(&$mirror.overrides.mirror_branch_regex)
            .$bind($mirror.enabled)
            .$bind($crate::MirrorLifecycle::Creating.as_str())
            .$bind($crate::time::DbTime($now))
            .$bind($crate::time::DbTime($now))
    };
}

macro_rules! mirror_operations {
    () => {
        use chrono::{DateTime, Utc};
        use sqlx::AssertSqlSafe;

        use crate::{
            Mirror, MirrorChanges, MirrorFilter, MirrorGroupSummary, MirrorListParams, MirrorPage,
            MirrorProvisioning, MirrorStatusUpdate, NewMirror, StorageResult,
            mirrors_query::{mirror_list, mirror_tree},
            rows::{MirrorRow, convert},
            sql, sql_mirrors,
            time::{DbTime, now},
        };

        pub(super) async fn count(pool: &Pool, pair_id: i64) -> StorageResult<i64> {
            Ok(sqlx::query_scalar::<Db, i64>(sql::COUNT_PAIR_MIRRORS)
                .bind(pair_id)
                .fetch_one(pool)
                .await?)
        }

        pub(super) async fn insert(pool: &Pool, mirror: &NewMirror) -> StorageResult<Mirror> {
            let time = now();
            let query = sqlx::query_as::<Db, MirrorRow>(sql_mirrors::INSERT_MIRROR);
            crate::backend_mirrors::bind_new_mirror!(query, bind, mirror, time)
                .fetch_one(pool)
                .await?
                .try_into()
        }

        pub(super) async fn get(pool: &Pool, id: i64) -> StorageResult<Option<Mirror>> {
            sqlx::query_as::<Db, MirrorRow>(sql_mirrors::MIRROR_BY_ID)
                .bind(id)
                .fetch_optional(pool)
                .await?
                .map(Mirror::try_from)
                .transpose()
        }

        pub(super) async fn find_by_paths(
            pool: &Pool,
            pair_id: i64,
            source_path: &str,
            target_path: &str,
        ) -> StorageResult<Option<Mirror>> {
            sqlx::query_as::<Db, MirrorRow>(sql_mirrors::MIRROR_BY_PATHS)
                .bind(pair_id)
                .bind(source_path)
                .bind(target_path)
                .fetch_optional(pool)
                .await?
                .map(Mirror::try_from)
                .transpose()
        }

        pub(super) async fn list(
            pool: &Pool,
            filter: &MirrorFilter,
            params: &MirrorListParams,
        ) -> StorageResult<MirrorPage> {
            let (select, count) = mirror_list(DIALECT, filter, params);
            let total = sqlx::query_scalar_with::<Db, i64, _>(
                AssertSqlSafe(count.sql),
                arguments(count.values)?,
            )
            .fetch_one(pool)
            .await?;
            let rows = sqlx::query_as_with::<Db, MirrorRow, _>(
                AssertSqlSafe(select.sql),
                arguments(select.values)?,
            )
            .fetch_all(pool)
            .await?;
            Ok(MirrorPage {
                items: convert(rows)?,
                total,
            })
        }

        pub(super) async fn of_pair(pool: &Pool, pair_id: i64) -> StorageResult<Vec<Mirror>> {
            convert(
                sqlx::query_as::<Db, MirrorRow>(sql_mirrors::PAIR_MIRRORS)
                    .bind(pair_id)
                    .fetch_all(pool)
                    .await?,
            )
        }

        pub(super) async fn group_tree(
            pool: &Pool,
            filter: &MirrorFilter,
        ) -> StorageResult<Vec<MirrorGroupSummary>> {
            let tree = mirror_tree(DIALECT, filter);
            let rows = sqlx::query_as_with::<Db, (String, i64, i64), _>(
                AssertSqlSafe(tree.sql),
                arguments(tree.values)?,
            )
            .fetch_all(pool)
            .await?;
            Ok(rows
                .into_iter()
                .map(|(path, mirror_count, failed_count)| MirrorGroupSummary {
                    path,
                    mirror_count,
                    failed_count,
                })
                .collect())
        }

        pub(super) async fn update(
            pool: &Pool,
            id: i64,
            changes: &MirrorChanges,
        ) -> StorageResult<Option<Mirror>> {
            sqlx::query_as::<Db, MirrorRow>(sql_mirrors::UPDATE_MIRROR)
                .bind(id)
                .bind(changes.mirror_overwrite_diverged.is_some())
                .bind(changes.mirror_overwrite_diverged.flatten())
                .bind(changes.mirror_trigger_builds.is_some())
                .bind(changes.mirror_trigger_builds.flatten())
                .bind(changes.only_mirror_protected_branches.is_some())
                .bind(changes.only_mirror_protected_branches.flatten())
                .bind(changes.mirror_branch_regex.is_some())
                .bind(changes.mirror_branch_regex.clone().flatten())
                .bind(changes.enabled)
                .bind(DbTime(now()))
                .fetch_optional(pool)
                .await?
                .map(Mirror::try_from)
                .transpose()
        }

        pub(super) async fn record_provisioning(
            pool: &Pool,
            id: i64,
            provisioning: &MirrorProvisioning,
        ) -> StorageResult<bool> {
            let result = sqlx::query::<Db>(sql_mirrors::RECORD_MIRROR_PROVISIONING)
                .bind(id)
                .bind(provisioning.source_project_id)
                .bind(provisioning.target_project_id)
                .bind(provisioning.gitlab_mirror_id)
                .bind(&provisioning.encrypted_mirror_token)
                .bind(&provisioning.mirror_token_name)
                .bind(provisioning.mirror_token_expire_time.map(DbTime))
                .bind(provisioning.gitlab_token_id)
                .bind(provisioning.token_project_id)
                .bind(provisioning.last_error.is_some())
                .bind(provisioning.last_error.clone().flatten())
                .bind(provisioning.lifecycle.map(|lifecycle| lifecycle.as_str()))
                .bind(DbTime(now()))
                .execute(pool)
                .await?;
            Ok(result.rows_affected() == 1)
        }

        pub(super) async fn record_status(
            pool: &Pool,
            id: i64,
            status: &MirrorStatusUpdate,
        ) -> StorageResult<bool> {
            let result = sqlx::query::<Db>(sql_mirrors::RECORD_MIRROR_STATUS)
                .bind(id)
                .bind(&status.last_update_status)
                .bind(status.last_successful_update_time.map(DbTime))
                .bind(status.last_update_time.map(DbTime))
                .bind(&status.last_error)
                .bind(status.enabled)
                .bind(DbTime(status.checked_at))
                .execute(pool)
                .await?;
            Ok(result.rows_affected() == 1)
        }

        pub(super) async fn delete(pool: &Pool, id: i64) -> StorageResult<bool> {
            let result = sqlx::query::<Db>(sql_mirrors::DELETE_MIRROR)
                .bind(id)
                .execute(pool)
                .await?;
            Ok(result.rows_affected() == 1)
        }

        pub(super) async fn due_for_status_check(
            pool: &Pool,
            checked_before: DateTime<Utc>,
            limit: u32,
        ) -> StorageResult<Vec<Mirror>> {
            convert(
                sqlx::query_as::<Db, MirrorRow>(sql_mirrors::MIRRORS_DUE_FOR_STATUS_CHECK)
                    .bind(DbTime(checked_before))
                    .bind(i64::from(limit))
                    .fetch_all(pool)
                    .await?,
            )
        }
    };
}

pub(crate) use bind_new_mirror;
pub(crate) use mirror_operations;
