//! Jobs and job items as protobuf messages.

use mm_common::FieldViolation;
use mm_proto::v1;
use mm_storage::{ItemState, Job, JobItem, JobState};
use serde_json::Value;

use crate::convert::timestamp;

pub(crate) fn job(job: &Job) -> v1::Job {
    v1::Job {
        id: job.id,
        kind: job.kind.clone(),
        state: job_state(job.state) as i32,
        pair_id: job.pair_id,
        mirror_id: job.mirror_id,
        instance_id: job.instance_id,
        requested_by: job.requested_by.clone(),
        params: json_struct(&job.params),
        total: job.total,
        done: job.done,
        succeeded: job.succeeded,
        failed: job.failed,
        skipped: job.skipped,
        cancelled: job.cancelled,
        warning_count: job.warning_count,
        create_time: Some(timestamp(job.create_time)),
        start_time: job.start_time.map(timestamp),
        end_time: job.end_time.map(timestamp),
        update_time: Some(timestamp(job.update_time)),
    }
}

pub(crate) fn item(item: &JobItem) -> v1::JobItem {
    v1::JobItem {
        id: item.id,
        job_id: item.job_id,
        mirror_id: item.mirror_id,
        label: item.label.clone(),
        task_kind: item.task_kind.clone(),
        state: item_state(item.state) as i32,
        attempts: item.attempts,
        error: item.error.clone(),
        warnings: item.warnings.clone(),
        result: json_struct(&item.result),
        duration_ms: item.duration_ms,
        start_time: item.start_time.map(timestamp),
        end_time: item.end_time.map(timestamp),
    }
}

pub(crate) fn job_state(state: JobState) -> v1::JobState {
    match state {
        JobState::Queued => v1::JobState::Queued,
        JobState::Running => v1::JobState::Running,
        JobState::Succeeded => v1::JobState::Succeeded,
        JobState::Failed => v1::JobState::Failed,
        JobState::PartiallyFailed => v1::JobState::PartiallyFailed,
        JobState::Cancelled => v1::JobState::Cancelled,
    }
}

pub(crate) fn item_state(state: ItemState) -> v1::JobItemState {
    match state {
        ItemState::Queued => v1::JobItemState::Queued,
        ItemState::Running => v1::JobItemState::Running,
        ItemState::Succeeded => v1::JobItemState::Succeeded,
        ItemState::Failed => v1::JobItemState::Failed,
        ItemState::Skipped => v1::JobItemState::Skipped,
        ItemState::Cancelled => v1::JobItemState::Cancelled,
    }
}

/// A job state filter: unspecified means any.
pub(crate) fn job_state_filter(
    field: &str,
    value: i32,
) -> Result<Option<JobState>, FieldViolation> {
    Ok(Some(match v1::JobState::try_from(value) {
        Ok(v1::JobState::Unspecified) => return Ok(None),
        Ok(v1::JobState::Queued) => JobState::Queued,
        Ok(v1::JobState::Running) => JobState::Running,
        Ok(v1::JobState::Succeeded) => JobState::Succeeded,
        Ok(v1::JobState::Failed) => JobState::Failed,
        Ok(v1::JobState::PartiallyFailed) => JobState::PartiallyFailed,
        Ok(v1::JobState::Cancelled) => JobState::Cancelled,
        Err(_) => return Err(FieldViolation::new(field, "is not a job state")),
    }))
}

/// An item state filter: unspecified means any.
pub(crate) fn item_state_filter(
    field: &str,
    value: i32,
) -> Result<Option<ItemState>, FieldViolation> {
    Ok(Some(match v1::JobItemState::try_from(value) {
        Ok(v1::JobItemState::Unspecified) => return Ok(None),
        Ok(v1::JobItemState::Queued) => ItemState::Queued,
        Ok(v1::JobItemState::Running) => ItemState::Running,
        Ok(v1::JobItemState::Succeeded) => ItemState::Succeeded,
        Ok(v1::JobItemState::Failed) => ItemState::Failed,
        Ok(v1::JobItemState::Skipped) => ItemState::Skipped,
        Ok(v1::JobItemState::Cancelled) => ItemState::Cancelled,
        Err(_) => return Err(FieldViolation::new(field, "is not a job item state")),
    }))
}

/// A JSON value as a `google.protobuf.Struct`: objects as they are, `null` as absent, any
/// other value as `{"value": …}`.
pub(crate) fn json_struct(value: &Value) -> Option<pbjson_types::Struct> {
    let object = match value {
        Value::Null => return None,
        Value::Object(_) => value.clone(),
        other => serde_json::json!({ "value": other }),
    };
    match serde_json::from_value(object) {
        Ok(fields) => Some(fields),
        Err(error) => {
            tracing::warn!(%error, "a job's JSON does not convert to a Struct");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_becomes_a_struct() {
        // Struct numbers are doubles.
        let value = serde_json::json!({"a": 1.5, "b": {"c": [true, null, "x"]}});
        let converted = json_struct(&value).unwrap();
        assert_eq!(serde_json::to_value(&converted).unwrap(), value);
        assert_eq!(json_struct(&Value::Null), None);
        let wrapped = json_struct(&serde_json::json!(3)).unwrap();
        assert_eq!(
            serde_json::to_value(&wrapped).unwrap(),
            serde_json::json!({"value": 3.0})
        );
    }

    #[test]
    fn unknown_states_are_refused() {
        assert_eq!(job_state_filter("state", 0).unwrap(), None);
        assert_eq!(
            job_state_filter("state", 5).unwrap(),
            Some(JobState::PartiallyFailed)
        );
        assert_eq!(job_state_filter("state", 99).unwrap_err().field, "state");
        assert_eq!(
            item_state_filter("state", 5).unwrap(),
            Some(ItemState::Skipped)
        );
        assert!(item_state_filter("state", -1).is_err());
    }
}
