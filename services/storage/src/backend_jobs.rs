//! Job operations, written once for both backends.
//!
//! [`job_operations!`] expands to the functions of `postgres::jobs` and `sqlite::jobs`. The
//! expansion site provides `Db`, `Pool`, `begin_write` and `arguments` (its backend's
//! `mod.rs`) and the dialect's statements `LOCK_JOB`, `LOCK_ITEM` and `ADD_ITEM_WARNING`.
//!
//! Concurrency: every transaction that changes a job and its items locks the job row first
//! (`LOCK_JOB`: `FOR UPDATE` on PostgreSQL; SQLite's `BEGIN IMMEDIATE` already holds the only
//! write lock), then the item. Counters change only through `± $n` updates in SQL and the
//! final state only through `sql_jobs::FINALIZE_JOB`.

use serde_json::Value;

use crate::{ItemState, NewJob, NewJobItem};

/// Rows per multi-row INSERT, far below both databases' limits on bound parameters.
pub(crate) const BATCH_ROWS: usize = 500;

/// Increments of the job counters for items reaching a state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ItemCounts {
    pub done: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub skipped: i64,
    pub cancelled: i64,
}

impl ItemCounts {
    /// One item in `state` (nothing for an unfinished state).
    pub(crate) fn of(state: ItemState) -> ItemCounts {
        let mut counts = ItemCounts {
            done: i64::from(state.is_finished()),
            ..ItemCounts::default()
        };
        match state {
            ItemState::Succeeded => counts.succeeded = 1,
            ItemState::Failed => counts.failed = 1,
            ItemState::Skipped => counts.skipped = 1,
            ItemState::Cancelled => counts.cancelled = 1,
            ItemState::Queued | ItemState::Running => {}
        }
        counts
    }

    /// Items created already finished.
    pub(crate) fn of_items(items: &[NewJobItem]) -> ItemCounts {
        items.iter().map(|item| ItemCounts::of(item.state)).fold(
            ItemCounts::default(),
            |sum, one| ItemCounts {
                done: sum.done + one.done,
                succeeded: sum.succeeded + one.succeeded,
                failed: sum.failed + one.failed,
                skipped: sum.skipped + one.skipped,
                cancelled: sum.cancelled + one.cancelled,
            },
        )
    }
}

/// The mirror a job is about: the one given, else the mirror that a single-item job creates
/// (so the jobs of a mirror include its creation).
pub(crate) fn job_mirror_id(new_job: &NewJob, new_mirror_ids: &[i64]) -> Option<i64> {
    new_job
        .mirror_id
        .or(match (new_job.items.len(), new_mirror_ids) {
            (1, [created]) => Some(*created),
            _ => None,
        })
}

/// The payload of an item: the given object plus `mirror_id` when the item has a mirror.
pub(crate) fn item_payload(payload: &Value, mirror_id: Option<i64>) -> Value {
    let Some(mirror_id) = mirror_id else {
        return payload.clone();
    };
    let mut payload = match payload {
        Value::Null => Value::Object(serde_json::Map::new()),
        other => other.clone(),
    };
    if let Value::Object(fields) = &mut payload {
        fields.insert("mirror_id".to_owned(), Value::from(mirror_id));
    }
    payload
}

macro_rules! job_operations {
    () => {
        use std::collections::HashMap;

        use sqlx::{AssertSqlSafe, QueryBuilder, types::Json};

        use crate::{
            CreatedJob, ItemMirror, ItemOutcome, ItemStart, ItemState, Job, JobFilter, JobItem,
            JobState, NewJob, NewMirror, OffsetPage, StorageError, StorageResult, Window,
            backend_jobs::{BATCH_ROWS, ItemCounts, item_payload, job_mirror_id},
            mirrors_query::{item_list, job_list},
            rows::{JobItemRow, JobRow, convert},
            sql_jobs, sql_mirrors,
            time::{DbTime, now},
        };

        type Conn = <Db as sqlx::Database>::Connection;

        pub(super) async fn create(pool: &Pool, new_job: &NewJob) -> StorageResult<CreatedJob> {
            let time = now();
            let mut tx = begin_write(pool).await?;
            let new_mirrors: Vec<&NewMirror> = new_job
                .items
                .iter()
                .filter_map(|item| match &item.mirror {
                    ItemMirror::New(mirror) => Some(mirror),
                    _ => None,
                })
                .collect();
            let new_mirror_ids = insert_mirrors(&mut tx, &new_mirrors, time).await?;
            // In id order, so concurrent jobs lock shared mirrors in the same order.
            let mut mark_deleting = new_job.mark_deleting.clone();
            mark_deleting.sort_unstable();
            mark_deleting.dedup();
            for id in &mark_deleting {
                sqlx::query::<Db>(sql_mirrors::MARK_MIRROR_DELETING)
                    .bind(id)
                    .bind(DbTime(time))
                    .execute(&mut *tx)
                    .await?;
            }

            let counts = ItemCounts::of_items(&new_job.items);
            let job_id = sqlx::query_scalar::<Db, i64>(sql_jobs::INSERT_JOB)
                .bind(&new_job.kind)
                .bind(new_job.pair_id)
                .bind(job_mirror_id(new_job, &new_mirror_ids))
                .bind(new_job.instance_id)
                .bind(&new_job.requested_by)
                .bind(Json(&new_job.params))
                .bind(new_job.items.len() as i64)
                .bind(counts.done)
                .bind(counts.succeeded)
                .bind(counts.failed)
                .bind(counts.skipped)
                .bind(counts.cancelled)
                .bind(DbTime(time))
                .fetch_one(&mut *tx)
                .await?;

            let mut new_ids = new_mirror_ids.iter().copied();
            let items: Vec<_> = new_job
                .items
                .iter()
                .map(|item| {
                    let mirror_id = match &item.mirror {
                        ItemMirror::None => None,
                        ItemMirror::Existing(id) => Some(*id),
                        ItemMirror::New(_) => new_ids.next(),
                    };
                    (item, mirror_id)
                })
                .collect();
            for chunk in items.chunks(BATCH_ROWS) {
                let mut insert = QueryBuilder::<Db>::new(sql_jobs::INSERT_ITEMS_HEAD);
                insert.push_values(chunk, |mut row, (item, mirror_id)| {
                    row.push_bind(job_id)
                        .push_bind(*mirror_id)
                        .push_bind(&item.label)
                        .push_bind(&item.task_kind)
                        .push_bind(Json(item_payload(&item.payload, *mirror_id)))
                        .push_bind(item.state.as_str())
                        .push_bind(&item.error)
                        .push_bind(item.state.is_finished().then_some(DbTime(time)));
                });
                insert.build().execute(&mut *tx).await?;
            }
            queue_items(
                &mut tx,
                job_id,
                ItemState::Queued,
                new_job.traceparent.as_deref(),
                time,
            )
            .await?;
            finalize(&mut tx, job_id, time).await?;
            let job = fetch_job(&mut tx, job_id).await?;
            tx.commit().await?;
            Ok(CreatedJob {
                job,
                new_mirror_ids,
            })
        }

        /// Inserts the mirrors; returns their ids in the same order. Rows are matched back by
        /// their unique (pair, paths), as RETURNING guarantees no order.
        async fn insert_mirrors(
            conn: &mut Conn,
            mirrors: &[&NewMirror],
            time: chrono::DateTime<chrono::Utc>,
        ) -> StorageResult<Vec<i64>> {
            let mut ids = HashMap::with_capacity(mirrors.len());
            for chunk in mirrors.chunks(BATCH_ROWS) {
                let mut insert = QueryBuilder::<Db>::new(sql_mirrors::INSERT_MIRRORS_HEAD);
                insert.push_values(chunk, |mut row, mirror| {
                    crate::backend_mirrors::bind_new_mirror!(row, push_bind, mirror, time);
                });
                insert.push(" RETURNING id, pair_id, source_project_path, target_project_path");
                let rows = insert
                    .build_query_as::<(i64, i64, String, String)>()
                    .fetch_all(&mut *conn)
                    .await?;
                for (id, pair_id, source, target) in rows {
                    ids.insert((pair_id, source, target), id);
                }
            }
            mirrors
                .iter()
                .map(|mirror| {
                    let key = (
                        mirror.pair_id,
                        mirror.source_project_path.clone(),
                        mirror.target_project_path.clone(),
                    );
                    ids.get(&key).copied().ok_or_else(|| {
                        StorageError::Database(sqlx::Error::Protocol(
                            "an inserted mirror was not returned".into(),
                        ))
                    })
                })
                .collect()
        }

        /// One outbox message per item of the job in `state`.
        async fn queue_items(
            conn: &mut Conn,
            job_id: i64,
            state: ItemState,
            traceparent: Option<&str>,
            time: chrono::DateTime<chrono::Utc>,
        ) -> StorageResult<()> {
            sqlx::query::<Db>(sql_jobs::QUEUE_ITEMS)
                .bind(job_id)
                .bind(state.as_str())
                .bind(traceparent)
                .bind(DbTime(time))
                .execute(&mut *conn)
                .await?;
            Ok(())
        }

        /// Sets the final state and end time when every item is finished.
        async fn finalize(
            conn: &mut Conn,
            job_id: i64,
            time: chrono::DateTime<chrono::Utc>,
        ) -> StorageResult<()> {
            sqlx::query::<Db>(sql_jobs::FINALIZE_JOB)
                .bind(job_id)
                .bind(DbTime(time))
                .execute(&mut *conn)
                .await?;
            Ok(())
        }

        /// Adds items that reached a finished state to the job's counters.
        async fn count_finished(
            conn: &mut Conn,
            job_id: i64,
            counts: ItemCounts,
            warnings: i64,
            time: chrono::DateTime<chrono::Utc>,
        ) -> StorageResult<()> {
            sqlx::query::<Db>(sql_jobs::COUNT_FINISHED_ITEMS)
                .bind(job_id)
                .bind(counts.done)
                .bind(counts.succeeded)
                .bind(counts.failed)
                .bind(counts.skipped)
                .bind(counts.cancelled)
                .bind(warnings)
                .bind(DbTime(time))
                .execute(&mut *conn)
                .await?;
            Ok(())
        }

        async fn fetch_job(conn: &mut Conn, id: i64) -> StorageResult<Job> {
            sqlx::query_as::<Db, JobRow>(sql_jobs::JOB_BY_ID)
                .bind(id)
                .fetch_one(&mut *conn)
                .await?
                .try_into()
        }

        async fn lock_job(conn: &mut Conn, id: i64) -> StorageResult<Option<Job>> {
            sqlx::query_as::<Db, JobRow>(LOCK_JOB)
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?
                .map(Job::try_from)
                .transpose()
        }

        /// Locks the item's job, then the item (the lock order of every job transaction).
        async fn lock_item(conn: &mut Conn, item_id: i64) -> StorageResult<Option<(Job, JobItem)>> {
            let Some(job_id) = sqlx::query_scalar::<Db, i64>(sql_jobs::ITEM_JOB_ID)
                .bind(item_id)
                .fetch_optional(&mut *conn)
                .await?
            else {
                return Ok(None);
            };
            let Some(job) = lock_job(conn, job_id).await? else {
                return Ok(None);
            };
            let item = sqlx::query_as::<Db, JobItemRow>(LOCK_ITEM)
                .bind(item_id)
                .fetch_optional(&mut *conn)
                .await?
                .map(JobItem::try_from)
                .transpose()?;
            Ok(item.map(|item| (job, item)))
        }

        pub(super) async fn get(pool: &Pool, id: i64) -> StorageResult<Option<Job>> {
            sqlx::query_as::<Db, JobRow>(sql_jobs::JOB_BY_ID)
                .bind(id)
                .fetch_optional(pool)
                .await?
                .map(Job::try_from)
                .transpose()
        }

        pub(super) async fn list(
            pool: &Pool,
            filter: &JobFilter,
            window: Window,
        ) -> StorageResult<OffsetPage<Job>> {
            let (select, count) = job_list(filter, window);
            let total = sqlx::query_scalar_with::<Db, i64, _>(
                AssertSqlSafe(count.sql),
                arguments(count.values)?,
            )
            .fetch_one(pool)
            .await?;
            let rows = sqlx::query_as_with::<Db, JobRow, _>(
                AssertSqlSafe(select.sql),
                arguments(select.values)?,
            )
            .fetch_all(pool)
            .await?;
            Ok(OffsetPage {
                items: convert(rows)?,
                total,
            })
        }

        pub(super) async fn list_items(
            pool: &Pool,
            job_id: i64,
            state: Option<ItemState>,
            window: Window,
        ) -> StorageResult<OffsetPage<JobItem>> {
            let (select, count) = item_list(job_id, state, window);
            let total = sqlx::query_scalar_with::<Db, i64, _>(
                AssertSqlSafe(count.sql),
                arguments(count.values)?,
            )
            .fetch_one(pool)
            .await?;
            let rows = sqlx::query_as_with::<Db, JobItemRow, _>(
                AssertSqlSafe(select.sql),
                arguments(select.values)?,
            )
            .fetch_all(pool)
            .await?;
            Ok(OffsetPage {
                items: convert(rows)?,
                total,
            })
        }

        pub(super) async fn get_item(pool: &Pool, id: i64) -> StorageResult<Option<JobItem>> {
            sqlx::query_as::<Db, JobItemRow>(sql_jobs::ITEM_BY_ID)
                .bind(id)
                .fetch_optional(pool)
                .await?
                .map(JobItem::try_from)
                .transpose()
        }

        pub(super) async fn start_item(pool: &Pool, item_id: i64) -> StorageResult<ItemStart> {
            let mut tx = begin_write(pool).await?;
            let Some((job, item)) = lock_item(&mut tx, item_id).await? else {
                return Ok(ItemStart::Missing);
            };
            if item.state.is_finished() {
                return Ok(ItemStart::AlreadyFinished);
            }
            let time = now();
            if job.state == JobState::Cancelled {
                sqlx::query::<Db>(sql_jobs::CANCEL_ITEM)
                    .bind(item_id)
                    .bind(DbTime(time))
                    .execute(&mut *tx)
                    .await?;
                settle_cancelled_new_mirrors(&mut tx, job.id, time).await?;
                let warnings = item.warnings.len() as i64;
                count_finished(
                    &mut tx,
                    job.id,
                    ItemCounts::of(ItemState::Cancelled),
                    warnings,
                    time,
                )
                .await?;
                finalize(&mut tx, job.id, time).await?;
                tx.commit().await?;
                return Ok(ItemStart::Cancelled);
            }
            let item: JobItem = sqlx::query_as::<Db, JobItemRow>(sql_jobs::START_ITEM)
                .bind(item_id)
                .bind(DbTime(time))
                .fetch_one(&mut *tx)
                .await?
                .try_into()?;
            let job: Job = sqlx::query_as::<Db, JobRow>(sql_jobs::JOB_RUNNING)
                .bind(job.id)
                .bind(DbTime(time))
                .fetch_one(&mut *tx)
                .await?
                .try_into()?;
            tx.commit().await?;
            Ok(ItemStart::Run { item, job })
        }

        pub(super) async fn finish_item(
            pool: &Pool,
            item_id: i64,
            outcome: &ItemOutcome,
        ) -> StorageResult<Option<Job>> {
            if !outcome.state.is_finished() {
                return Err(StorageError::CheckViolation {
                    constraint: "job_items_outcome_finished".to_owned(),
                });
            }
            let mut tx = begin_write(pool).await?;
            let Some((job, item)) = lock_item(&mut tx, item_id).await? else {
                return Ok(None);
            };
            if item.state.is_finished() {
                return Ok(None);
            }
            let time = now();
            let mut warnings = item.warnings;
            warnings.extend(outcome.warnings.iter().cloned());
            sqlx::query::<Db>(sql_jobs::FINISH_ITEM)
                .bind(item_id)
                .bind(outcome.state.as_str())
                .bind(&outcome.error)
                .bind(Json(&warnings))
                .bind(Json(&outcome.result))
                .bind(outcome.duration_ms)
                .bind(DbTime(time))
                .execute(&mut *tx)
                .await?;
            let counts = ItemCounts::of(outcome.state);
            count_finished(&mut tx, job.id, counts, warnings.len() as i64, time).await?;
            finalize(&mut tx, job.id, time).await?;
            let job = fetch_job(&mut tx, job.id).await?;
            tx.commit().await?;
            Ok(Some(job))
        }

        pub(super) async fn add_item_warning(
            pool: &Pool,
            item_id: i64,
            warning: &str,
        ) -> StorageResult<()> {
            sqlx::query::<Db>(ADD_ITEM_WARNING)
                .bind(item_id)
                .bind(warning)
                .execute(pool)
                .await?;
            Ok(())
        }

        pub(super) async fn cancel(pool: &Pool, id: i64) -> StorageResult<Option<Job>> {
            let mut tx = begin_write(pool).await?;
            let Some(job) = lock_job(&mut tx, id).await? else {
                return Ok(None);
            };
            if job.state.is_finished() {
                return Ok(Some(job));
            }
            let time = now();
            sqlx::query::<Db>(sql_jobs::MARK_JOB_CANCELLED)
                .bind(id)
                .bind(DbTime(time))
                .execute(&mut *tx)
                .await?;
            let cancelled = sqlx::query::<Db>(sql_jobs::CANCEL_QUEUED_ITEMS)
                .bind(id)
                .bind(DbTime(time))
                .execute(&mut *tx)
                .await?
                .rows_affected() as i64;
            settle_cancelled_new_mirrors(&mut tx, id, time).await?;
            sqlx::query::<Db>(sql_jobs::DELETE_CANCELLED_ITEMS_OUTBOX)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let counts = ItemCounts {
                done: cancelled,
                cancelled,
                ..ItemCounts::default()
            };
            count_finished(&mut tx, id, counts, 0, time).await?;
            finalize(&mut tx, id, time).await?;
            let job = fetch_job(&mut tx, id).await?;
            tx.commit().await?;
            Ok(Some(job))
        }

        /// Mirror rows of cancelled creations must not stay `creating` forever.
        async fn settle_cancelled_new_mirrors(
            tx: &mut Conn,
            job_id: i64,
            time: chrono::DateTime<chrono::Utc>,
        ) -> StorageResult<()> {
            sqlx::query::<Db>(sql_jobs::DELETE_UNSTARTED_NEW_MIRRORS)
                .bind(job_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query::<Db>(sql_jobs::FAIL_CANCELLED_NEW_MIRRORS)
                .bind(job_id)
                .bind(DbTime(time))
                .execute(&mut *tx)
                .await?;
            Ok(())
        }

        pub(super) async fn retry_failed(
            pool: &Pool,
            job_id: i64,
            traceparent: Option<&str>,
        ) -> StorageResult<Option<Job>> {
            let mut tx = begin_write(pool).await?;
            let Some(job) = lock_job(&mut tx, job_id).await? else {
                return Ok(None);
            };
            let failed =
                sqlx::query_scalar::<Db, Json<Vec<String>>>(sql_jobs::FAILED_ITEM_WARNINGS)
                    .bind(job_id)
                    .fetch_all(&mut *tx)
                    .await?;
            if failed.is_empty() {
                return Ok(Some(job));
            }
            let time = now();
            let warnings: usize = failed.iter().map(|warnings| warnings.0.len()).sum();
            // Messages first: they are made from the items while these are still `failed`.
            queue_items(&mut tx, job_id, ItemState::Failed, traceparent, time).await?;
            sqlx::query::<Db>(sql_jobs::REQUEUE_FAILED_ITEMS)
                .bind(job_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query::<Db>(sql_jobs::REQUEUE_JOB)
                .bind(job_id)
                .bind(failed.len() as i64)
                .bind(warnings as i64)
                .bind(DbTime(time))
                .execute(&mut *tx)
                .await?;
            let job = fetch_job(&mut tx, job_id).await?;
            tx.commit().await?;
            Ok(Some(job))
        }
    };
}

pub(crate) use job_operations;

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn payload_gets_the_mirror_id() {
        assert_eq!(
            item_payload(&json!({"a": 1}), Some(7)),
            json!({"a": 1, "mirror_id": 7})
        );
        assert_eq!(item_payload(&Value::Null, Some(7)), json!({"mirror_id": 7}));
        assert_eq!(item_payload(&json!({"a": 1}), None), json!({"a": 1}));
    }

    #[test]
    fn counts_follow_item_states() {
        assert_eq!(ItemCounts::of(ItemState::Queued), ItemCounts::default());
        assert_eq!(
            ItemCounts::of(ItemState::Skipped),
            ItemCounts {
                done: 1,
                skipped: 1,
                ..ItemCounts::default()
            }
        );
    }
}
