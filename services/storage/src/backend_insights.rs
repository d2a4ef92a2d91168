//! Read-model queries, written once for both backends.
//!
//! [`insight_operations!`] expands, for one backend, to an [`InsightQueries`] impl on its
//! pool type; the `Storage` impl (`storage_impl`) calls those methods on `self.pool`, so the
//! backend is chosen by the pool's type.

use chrono::{DateTime, Utc};

use crate::{
    ActivityEntry, Graph, LinkMirrorPage, LinkMirrorQuery, MirrorFreshness, MirrorQuickStats,
    MirrorStatusGroup, PairLastSuccess, QuickStatsQuery, RefreshRounds, SearchHits, StorageResult,
};

/// The read-model queries of one backend, implemented on its pool.
pub(crate) trait InsightQueries {
    async fn mirror_status_groups(
        &self,
        pair_id: Option<i64>,
    ) -> StorageResult<Vec<MirrorStatusGroup>>;
    async fn pair_last_successes(&self) -> StorageResult<Vec<PairLastSuccess>>;
    async fn freshness(&self, fresh_since: DateTime<Utc>) -> StorageResult<MirrorFreshness>;
    async fn graph(&self) -> StorageResult<Graph>;
    async fn recent_activity(
        &self,
        since: DateTime<Utc>,
        excluded_kind: &str,
        limit: u32,
    ) -> StorageResult<Vec<ActivityEntry>>;
    async fn refresh_rounds(&self, kind: &str, lease: &str) -> StorageResult<RefreshRounds>;
    async fn quick_stats(&self, query: &QuickStatsQuery) -> StorageResult<MirrorQuickStats>;
    async fn link_mirrors(&self, query: &LinkMirrorQuery) -> StorageResult<LinkMirrorPage>;
    async fn search(&self, text: &str, limit: u32) -> StorageResult<SearchHits>;
}

/// Rows of a refresh round.
pub(crate) type RoundRow = (
    i64,
    String,
    i64,
    i64,
    i64,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

pub(crate) fn round(row: RoundRow) -> StorageResult<crate::RefreshRound> {
    let (job_id, state, total, succeeded, failed, create_time, start_time, end_time) = row;
    Ok(crate::RefreshRound {
        job_id,
        state: crate::rows::parse_job_state(&state)?,
        total,
        succeeded,
        failed,
        create_time,
        start_time,
        end_time,
    })
}

pub(crate) fn direction(value: &str) -> StorageResult<crate::MirrorDirection> {
    crate::MirrorDirection::parse(value).ok_or_else(|| {
        crate::StorageError::Database(sqlx::Error::Decode(
            format!("unknown mirror direction {value:?}").into(),
        ))
    })
}

macro_rules! insight_operations {
    ($pool:ty, $db:ty, $dialect:expr, $arguments:path) => {
        impl crate::backend_insights::InsightQueries for $pool {
            async fn mirror_status_groups(
                &self,
                pair_id: Option<i64>,
            ) -> crate::StorageResult<Vec<crate::MirrorStatusGroup>> {
                type Row = (i64, String, Option<String>, bool, i64, i64);
                let rows = sqlx::query_as::<$db, Row>(crate::sql_insights::MIRROR_STATUS_GROUPS)
                    .bind(pair_id)
                    .fetch_all(self)
                    .await?;
                rows.into_iter()
                    .map(|row| {
                        Ok(crate::MirrorStatusGroup {
                            pair_id: row.0,
                            lifecycle: crate::rows::parse_lifecycle(&row.1)?,
                            last_update_status: row.2,
                            enabled: row.3,
                            mirror_count: row.4,
                            never_succeeded_count: row.5,
                        })
                    })
                    .collect()
            }

            async fn pair_last_successes(
                &self,
            ) -> crate::StorageResult<Vec<crate::PairLastSuccess>> {
                let rows = sqlx::query_as::<$db, (i64, Option<chrono::DateTime<chrono::Utc>>)>(
                    crate::sql_insights::PAIR_LAST_SUCCESS,
                )
                .fetch_all(self)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(pair_id, last_success)| crate::PairLastSuccess {
                        pair_id,
                        last_success,
                    })
                    .collect())
            }

            async fn freshness(
                &self,
                fresh_since: chrono::DateTime<chrono::Utc>,
            ) -> crate::StorageResult<crate::MirrorFreshness> {
                let older_count =
                    sqlx::query_scalar::<$db, i64>(crate::sql_insights::OLDER_STATUS_COUNT)
                        .bind(crate::time::DbTime(fresh_since))
                        .fetch_one(self)
                        .await?;
                let never_checked_count =
                    sqlx::query_scalar::<$db, i64>(crate::sql_insights::NEVER_CHECKED_COUNT)
                        .fetch_one(self)
                        .await?;
                let check = |sql| {
                    sqlx::query_scalar::<$db, chrono::DateTime<chrono::Utc>>(sql)
                        .fetch_optional(self)
                };
                let oldest_check = check(crate::sql_insights::OLDEST_CHECK).await?;
                let newest_check = check(crate::sql_insights::NEWEST_CHECK).await?;
                Ok(crate::MirrorFreshness {
                    stale_count: older_count + never_checked_count,
                    never_checked_count,
                    oldest_check,
                    newest_check,
                })
            }

            async fn graph(&self) -> crate::StorageResult<crate::Graph> {
                let instances = sqlx::query_as::<$db, (i64, String, String, String)>(
                    crate::sql_insights::GRAPH_INSTANCES,
                )
                .fetch_all(self)
                .await?
                .into_iter()
                .map(|(id, name, url, description)| crate::GraphInstance {
                    id,
                    name,
                    url,
                    description,
                })
                .collect();
                let pairs = sqlx::query_as::<$db, (i64, String, i64, i64, String)>(
                    crate::sql_insights::GRAPH_PAIRS,
                )
                .fetch_all(self)
                .await?
                .into_iter()
                .map(
                    |(id, name, source_instance_id, target_instance_id, direction)| {
                        Ok(crate::GraphPair {
                            id,
                            name,
                            source_instance_id,
                            target_instance_id,
                            mirror_direction: crate::backend_insights::direction(&direction)?,
                        })
                    },
                )
                .collect::<crate::StorageResult<_>>()?;
                Ok(crate::Graph { instances, pairs })
            }

            async fn recent_activity(
                &self,
                since: chrono::DateTime<chrono::Utc>,
                excluded_kind: &str,
                limit: u32,
            ) -> crate::StorageResult<Vec<crate::ActivityEntry>> {
                type Row = (
                    i64,
                    String,
                    String,
                    Option<String>,
                    Option<i64>,
                    Option<i64>,
                    chrono::DateTime<chrono::Utc>,
                    chrono::DateTime<chrono::Utc>,
                );
                let rows = sqlx::query_as::<$db, Row>(crate::sql_insights::RECENT_ACTIVITY)
                    .bind(crate::time::DbTime(since))
                    .bind(excluded_kind)
                    .bind(i64::from(limit))
                    .fetch_all(self)
                    .await?;
                rows.into_iter()
                    .map(|row| {
                        Ok(crate::ActivityEntry {
                            job_id: row.0,
                            kind: row.1,
                            state: crate::rows::parse_job_state(&row.2)?,
                            subject: row.3,
                            mirror_id: row.4,
                            pair_id: row.5,
                            create_time: row.6,
                            activity_time: row.7,
                        })
                    })
                    .collect()
            }

            async fn refresh_rounds(
                &self,
                kind: &str,
                lease: &str,
            ) -> crate::StorageResult<crate::RefreshRounds> {
                let latest = sqlx::query_as::<$db, crate::backend_insights::RoundRow>(
                    crate::sql_insights::LATEST_ROUND,
                )
                .bind(kind)
                .fetch_optional(self)
                .await?
                .map(crate::backend_insights::round)
                .transpose()?;
                // The newest round is usually finished already: one query then.
                let latest_finished = match &latest {
                    Some(round) if round.state.is_finished() => Some(round.clone()),
                    None => None,
                    Some(_) => sqlx::query_as::<$db, crate::backend_insights::RoundRow>(
                        crate::sql_insights::LATEST_FINISHED_ROUND,
                    )
                    .bind(kind)
                    .fetch_optional(self)
                    .await?
                    .map(crate::backend_insights::round)
                    .transpose()?,
                };
                let lease_expires_at = sqlx::query_scalar::<$db, chrono::DateTime<chrono::Utc>>(
                    crate::sql_insights::LEASE_EXPIRY,
                )
                .bind(lease)
                .fetch_optional(self)
                .await?;
                Ok(crate::RefreshRounds {
                    latest,
                    latest_finished,
                    lease_expires_at,
                })
            }

            async fn quick_stats(
                &self,
                query: &crate::QuickStatsQuery,
            ) -> crate::StorageResult<crate::MirrorQuickStats> {
                let syncing = crate::sql_insights::syncing_where();
                let since = crate::time::DbTime(query.syncing_checked_since);
                let syncing_count = sqlx::query_scalar::<$db, i64>(sqlx::AssertSqlSafe(format!(
                    "SELECT COUNT(*) {syncing}"
                )))
                .bind(since)
                .fetch_one(self)
                .await?;
                let syncing_mirror_ids = sqlx::query_scalar::<$db, i64>(sqlx::AssertSqlSafe(
                    format!("SELECT id {syncing} ORDER BY id LIMIT $2"),
                ))
                .bind(since)
                .bind(i64::from(query.id_limit))
                .fetch_all(self)
                .await?;
                let recent_failures = sqlx::query_scalar::<$db, i64>(sqlx::AssertSqlSafe(
                    crate::sql_insights::recent_failures(),
                ))
                .bind(crate::time::DbTime(query.failed_since))
                .fetch_one(self)
                .await?;
                Ok(crate::MirrorQuickStats {
                    syncing_count,
                    syncing_mirror_ids,
                    recent_failures,
                })
            }

            async fn link_mirrors(
                &self,
                query: &crate::LinkMirrorQuery,
            ) -> crate::StorageResult<crate::LinkMirrorPage> {
                type Row = (
                    i64,
                    i64,
                    String,
                    String,
                    String,
                    String,
                    bool,
                    Option<String>,
                    Option<chrono::DateTime<chrono::Utc>>,
                    i64,
                    i64,
                );
                let (select, count) = crate::sql_insights::link_mirrors($dialect, query);
                let total = sqlx::query_scalar_with::<$db, i64, _>(
                    sqlx::AssertSqlSafe(count.sql),
                    $arguments(count.values)?,
                )
                .fetch_one(self)
                .await?;
                let rows = sqlx::query_as_with::<$db, Row, _>(
                    sqlx::AssertSqlSafe(select.sql),
                    $arguments(select.values)?,
                )
                .fetch_all(self)
                .await?;
                let mirrors = rows
                    .into_iter()
                    .map(|row| {
                        let age = row
                            .8
                            .map(|success| (query.now - success).num_seconds().max(0));
                        Ok(crate::LinkMirror {
                            id: row.0,
                            pair_id: row.1,
                            pair_name: row.2,
                            source_project_path: row.3,
                            target_project_path: row.4,
                            mirror_direction: crate::backend_insights::direction(&row.5)?,
                            enabled: row.6,
                            last_update_status: row.7,
                            last_successful_update_time: row.8,
                            staleness: crate::HealthLevel::from_rank(row.9),
                            staleness_age_seconds: age,
                            health: crate::HealthLevel::from_rank(row.10),
                        })
                    })
                    .collect::<crate::StorageResult<_>>()?;
                Ok(crate::LinkMirrorPage { total, mirrors })
            }

            async fn search(
                &self,
                text: &str,
                limit: u32,
            ) -> crate::StorageResult<crate::SearchHits> {
                let pattern = crate::sql_insights::contains_pattern(text);
                let fetch = i64::from(limit) + 1;
                let limit = limit as usize;
                let mut instances = sqlx::query_as::<$db, (i64, String, String)>(
                    sqlx::AssertSqlSafe(crate::sql_insights::search_instances($dialect)),
                )
                .bind(&pattern)
                .bind(fetch)
                .fetch_all(self)
                .await?;
                let mut pairs = sqlx::query_as::<$db, (i64, String, String)>(sqlx::AssertSqlSafe(
                    crate::sql_insights::search_pairs($dialect),
                ))
                .bind(&pattern)
                .bind(fetch)
                .fetch_all(self)
                .await?;
                type MirrorHitRow = (i64, i64, String, String, Option<String>, String);
                // SQLite: the trigram index when it finds few enough mirrors; otherwise the
                // path index walked in order (many matches) or a scan (shorter than a trigram).
                let path = if $dialect == crate::listing::Dialect::Sqlite
                    && text.chars().count() >= crate::sql_insights::TRIGRAM
                {
                    let phrase = crate::sql_insights::fts_phrase(text);
                    let matches = sqlx::query_scalar::<$db, i64>(
                        crate::sql_insights::SQLITE_COUNT_INDEXED_MATCHES,
                    )
                    .bind(&phrase)
                    .bind(crate::sql_insights::SQLITE_INDEXED_SEARCH_MAX + 1)
                    .fetch_one(self)
                    .await?;
                    if matches <= crate::sql_insights::SQLITE_INDEXED_SEARCH_MAX {
                        crate::sql_insights::MirrorSearch::Indexed(phrase)
                    } else {
                        crate::sql_insights::MirrorSearch::Walk
                    }
                } else {
                    crate::sql_insights::MirrorSearch::Scan
                };
                let mut mirrors = match path {
                    crate::sql_insights::MirrorSearch::Indexed(phrase) => {
                        sqlx::query_as::<$db, MirrorHitRow>(
                            crate::sql_insights::SQLITE_SEARCH_MIRRORS_INDEXED,
                        )
                        .bind(phrase)
                        .bind(fetch)
                        .fetch_all(self)
                        .await?
                    }
                    like => {
                        sqlx::query_as::<$db, MirrorHitRow>(sqlx::AssertSqlSafe(
                            crate::sql_insights::search_mirrors($dialect, &like),
                        ))
                        .bind(&pattern)
                        .bind(fetch)
                        // Planned for each pattern: a cached generic plan cannot tell a rare
                        // substring from a common one and walks the path index through every
                        // row.
                        .persistent(false)
                        .fetch_all(self)
                        .await?
                    }
                };
                let more_instances = instances.len() > limit;
                let more_pairs = pairs.len() > limit;
                let more_mirrors = mirrors.len() > limit;
                instances.truncate(limit);
                pairs.truncate(limit);
                mirrors.truncate(limit);
                Ok(crate::SearchHits {
                    instances: instances
                        .into_iter()
                        .map(|(id, name, url)| crate::InstanceHit { id, name, url })
                        .collect(),
                    pairs: pairs
                        .into_iter()
                        .map(|(id, name, direction)| {
                            Ok(crate::PairHit {
                                id,
                                name,
                                mirror_direction: crate::backend_insights::direction(&direction)?,
                            })
                        })
                        .collect::<crate::StorageResult<_>>()?,
                    mirrors: mirrors
                        .into_iter()
                        .map(|(id, pair_id, source, target, status, lifecycle)| {
                            Ok(crate::MirrorHit {
                                id,
                                pair_id,
                                source_project_path: source,
                                target_project_path: target,
                                last_update_status: status,
                                lifecycle: crate::rows::parse_lifecycle(&lifecycle)?,
                            })
                        })
                        .collect::<crate::StorageResult<_>>()?,
                    more_instances,
                    more_pairs,
                    more_mirrors,
                })
            }
        }
    };
}

insight_operations!(
    sqlx::PgPool,
    sqlx::Postgres,
    crate::listing::Dialect::Postgres,
    crate::postgres::arguments
);
insight_operations!(
    sqlx::SqlitePool,
    sqlx::Sqlite,
    crate::listing::Dialect::Sqlite,
    crate::sqlite::arguments
);
