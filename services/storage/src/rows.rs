//! Row shapes of mirrors, jobs, job items and outbox messages as both backends read them
//! (enums as stored text, JSON through [`Json`]), and their conversion into the models.
//!
//! Unknown enum text is a decode error ([`StorageError::Database`]), like [`crate::model`]'s
//! `PairRow`.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;

use crate::{
    ItemState, Job, JobItem, JobState, Mirror, MirrorLifecycle, MirrorOverrides, OutboxMessage,
    StorageError, StorageResult,
};

/// A decode error for a stored value that names no known variant.
fn unknown(column: &str, value: &str) -> StorageError {
    StorageError::Database(sqlx::Error::Decode(
        format!("unknown {column} {value:?}").into(),
    ))
}

pub(crate) fn parse_lifecycle(value: &str) -> StorageResult<MirrorLifecycle> {
    MirrorLifecycle::parse(value).ok_or_else(|| unknown("mirror lifecycle", value))
}

pub(crate) fn parse_job_state(value: &str) -> StorageResult<JobState> {
    JobState::parse(value).ok_or_else(|| unknown("job state", value))
}

pub(crate) fn parse_item_state(value: &str) -> StorageResult<ItemState> {
    ItemState::parse(value).ok_or_else(|| unknown("job item state", value))
}

/// Columns of `sql_mirrors::MIRROR_COLUMNS`.
#[derive(sqlx::FromRow)]
pub(crate) struct MirrorRow {
    id: i64,
    pair_id: i64,
    source_project_id: Option<i64>,
    source_project_path: String,
    target_project_id: Option<i64>,
    target_project_path: String,
    mirror_overwrite_diverged: Option<bool>,
    mirror_trigger_builds: Option<bool>,
    only_mirror_protected_branches: Option<bool>,
    mirror_branch_regex: Option<String>,
    lifecycle: String,
    gitlab_mirror_id: Option<i64>,
    enabled: bool,
    last_update_status: Option<String>,
    last_successful_update_time: Option<DateTime<Utc>>,
    last_update_time: Option<DateTime<Utc>>,
    last_error: Option<String>,
    status_check_time: Option<DateTime<Utc>>,
    encrypted_mirror_token: Option<String>,
    mirror_token_name: Option<String>,
    mirror_token_expire_time: Option<DateTime<Utc>>,
    gitlab_token_id: Option<i64>,
    token_project_id: Option<i64>,
    create_time: DateTime<Utc>,
    update_time: DateTime<Utc>,
}

impl TryFrom<MirrorRow> for Mirror {
    type Error = StorageError;

    fn try_from(row: MirrorRow) -> StorageResult<Mirror> {
        Ok(Mirror {
            id: row.id,
            pair_id: row.pair_id,
            source_project_id: row.source_project_id,
            source_project_path: row.source_project_path,
            target_project_id: row.target_project_id,
            target_project_path: row.target_project_path,
            overrides: MirrorOverrides {
                mirror_overwrite_diverged: row.mirror_overwrite_diverged,
                mirror_trigger_builds: row.mirror_trigger_builds,
                only_mirror_protected_branches: row.only_mirror_protected_branches,
                mirror_branch_regex: row.mirror_branch_regex,
            },
            lifecycle: parse_lifecycle(&row.lifecycle)?,
            gitlab_mirror_id: row.gitlab_mirror_id,
            enabled: row.enabled,
            last_update_status: row.last_update_status,
            last_successful_update_time: row.last_successful_update_time,
            last_update_time: row.last_update_time,
            last_error: row.last_error,
            status_check_time: row.status_check_time,
            encrypted_mirror_token: row.encrypted_mirror_token,
            mirror_token_name: row.mirror_token_name,
            mirror_token_expire_time: row.mirror_token_expire_time,
            gitlab_token_id: row.gitlab_token_id,
            token_project_id: row.token_project_id,
            create_time: row.create_time,
            update_time: row.update_time,
        })
    }
}

/// Columns of `sql_jobs::JOB_COLUMNS`.
#[derive(sqlx::FromRow)]
pub(crate) struct JobRow {
    id: i64,
    kind: String,
    state: String,
    pair_id: Option<i64>,
    mirror_id: Option<i64>,
    instance_id: Option<i64>,
    requested_by: String,
    params: Json<Value>,
    total: i64,
    done: i64,
    succeeded: i64,
    failed: i64,
    skipped: i64,
    cancelled: i64,
    warning_count: i64,
    create_time: DateTime<Utc>,
    start_time: Option<DateTime<Utc>>,
    end_time: Option<DateTime<Utc>>,
    update_time: DateTime<Utc>,
}

impl TryFrom<JobRow> for Job {
    type Error = StorageError;

    fn try_from(row: JobRow) -> StorageResult<Job> {
        Ok(Job {
            id: row.id,
            kind: row.kind,
            state: parse_job_state(&row.state)?,
            pair_id: row.pair_id,
            mirror_id: row.mirror_id,
            instance_id: row.instance_id,
            requested_by: row.requested_by,
            params: row.params.0,
            total: row.total,
            done: row.done,
            succeeded: row.succeeded,
            failed: row.failed,
            skipped: row.skipped,
            cancelled: row.cancelled,
            warning_count: row.warning_count,
            create_time: row.create_time,
            start_time: row.start_time,
            end_time: row.end_time,
            update_time: row.update_time,
        })
    }
}

/// Columns of `sql_jobs::ITEM_COLUMNS`.
#[derive(sqlx::FromRow)]
pub(crate) struct JobItemRow {
    id: i64,
    job_id: i64,
    mirror_id: Option<i64>,
    label: String,
    task_kind: String,
    payload: Json<Value>,
    state: String,
    attempts: i32,
    error: Option<String>,
    warnings: Json<Vec<String>>,
    result: Json<Value>,
    duration_ms: Option<i64>,
    start_time: Option<DateTime<Utc>>,
    end_time: Option<DateTime<Utc>>,
}

impl TryFrom<JobItemRow> for JobItem {
    type Error = StorageError;

    fn try_from(row: JobItemRow) -> StorageResult<JobItem> {
        Ok(JobItem {
            id: row.id,
            job_id: row.job_id,
            mirror_id: row.mirror_id,
            label: row.label,
            task_kind: row.task_kind,
            payload: row.payload.0,
            state: parse_item_state(&row.state)?,
            attempts: row.attempts,
            error: row.error,
            warnings: row.warnings.0,
            result: row.result.0,
            duration_ms: row.duration_ms,
            start_time: row.start_time,
            end_time: row.end_time,
        })
    }
}

/// Columns of `sql_jobs::OUTBOX_COLUMNS`.
#[derive(sqlx::FromRow)]
pub(crate) struct OutboxRow {
    id: i64,
    job_id: Option<i64>,
    item_id: Option<i64>,
    task_kind: String,
    payload: Json<Value>,
    traceparent: Option<String>,
    claims: i32,
}

impl From<OutboxRow> for OutboxMessage {
    fn from(row: OutboxRow) -> OutboxMessage {
        OutboxMessage {
            id: row.id,
            job_id: row.job_id,
            item_id: row.item_id,
            task_kind: row.task_kind,
            payload: row.payload.0,
            traceparent: row.traceparent,
            claims: row.claims,
        }
    }
}

/// Converts fetched rows.
pub(crate) fn convert<R, T>(rows: Vec<R>) -> StorageResult<Vec<T>>
where
    T: TryFrom<R, Error = StorageError>,
{
    rows.into_iter().map(T::try_from).collect()
}
