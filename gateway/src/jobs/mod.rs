//! `/api/jobs`: the jobs that do every GitLab-touching operation, their items, cancel/retry
//! and the progress stream ([`events`]).
//!
//! Operations that start a job answer `202 Accepted` with `Location: /api/jobs/{id}`
//! ([`Accepted`]).

pub mod events;

use axum::{
    extract::{OriginalUri, State},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use http::{HeaderValue, StatusCode, header};
use mm_proto::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    GatewayState,
    common::{self, ApiPage, Listed, PageLimits, PageParams, missing, rest_enum},
    errors::GatewayError,
    extract::{IdPath, Json, Query},
    grpc::Forward,
};

rest_enum! {
    /// State of a job.
    pub enum JobState : JobState {
        Queued = "queued",
        Running = "running",
        Succeeded = "succeeded",
        Failed = "failed",
        /// Finished with some items failed and some succeeded.
        PartiallyFailed = "partially_failed",
        Cancelled = "cancelled",
    }
}

impl JobState {
    /// Whether the job has finished and will not change any more (unless retried).
    pub fn is_finished(self) -> bool {
        !matches!(self, JobState::Queued | JobState::Running)
    }
}

rest_enum! {
    /// State of one item of a job.
    pub enum JobItemState : JobItemState {
        Queued = "queued",
        Running = "running",
        Succeeded = "succeeded",
        Failed = "failed",
        /// Nothing to do (a duplicate on import, a disabled mirror in a batch sync).
        Skipped = "skipped",
        Cancelled = "cancelled",
    }
}

/// A job and its progress.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Job {
    pub id: i64,
    /// What the job does: `mirror.create`, `mirror.update`, `mirror.delete`, `mirror.sync`,
    /// `mirror.rotate_token`, `mirror.refresh_status`, `mirror.verify`, `pair.sync`,
    /// `pair.import`, `pair.refresh_status`, `pair.delete`, `instance.delete`,
    /// `instance.verify`, `scheduled.refresh_status`.
    #[schema(example = "mirror.create")]
    pub kind: String,
    pub state: JobState,
    pub pair_id: Option<i64>,
    pub mirror_id: Option<i64>,
    pub instance_id: Option<i64>,
    /// Username of whoever started the job (`scheduler` for scheduled work).
    pub requested_by: String,
    /// Request parameters (never secrets).
    #[schema(value_type = Object)]
    pub params: serde_json::Value,
    /// Number of items.
    pub total: i64,
    /// Items finished in any way.
    pub done: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub skipped: i64,
    pub cancelled: i64,
    pub warning_count: i64,
    /// `done` of `total` in percent, one decimal; 100 for a finished job without items.
    #[schema(minimum = 0, maximum = 100)]
    pub progress_percent: f64,
    #[serde(serialize_with = "common::serialize_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "common::serialize_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "common::serialize_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "common::serialize_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub updated_at: Option<DateTime<Utc>>,
}

impl TryFrom<pb::Job> for Job {
    type Error = GatewayError;

    fn try_from(j: pb::Job) -> Result<Self, GatewayError> {
        let state = JobState::from_proto(j.state).ok_or_else(missing("job.state"))?;
        Ok(Self {
            progress_percent: progress_percent(j.done, j.total, state),
            created_at: common::timestamp(j.create_time.as_ref()),
            started_at: common::timestamp(j.start_time.as_ref()),
            finished_at: common::timestamp(j.end_time.as_ref()),
            updated_at: common::timestamp(j.update_time.as_ref()),
            params: structure(j.params),
            id: j.id,
            kind: j.kind,
            state,
            pair_id: j.pair_id,
            mirror_id: j.mirror_id,
            instance_id: j.instance_id,
            requested_by: j.requested_by,
            total: j.total,
            done: j.done,
            succeeded: j.succeeded,
            failed: j.failed,
            skipped: j.skipped,
            cancelled: j.cancelled,
            warning_count: j.warning_count,
        })
    }
}

/// Converts the job of a response that always carries one.
pub fn required_job(job: Option<pb::Job>) -> Result<Job, GatewayError> {
    job.ok_or_else(missing("job"))?.try_into()
}

/// Converts the job of a response that may carry one.
pub fn optional_job(job: Option<pb::Job>) -> Result<Option<Job>, GatewayError> {
    job.map(Job::try_from).transpose()
}

fn progress_percent(done: i64, total: i64, state: JobState) -> f64 {
    if total <= 0 {
        return if state.is_finished() { 100.0 } else { 0.0 };
    }
    let percent = (done.clamp(0, total) as f64) * 100.0 / total as f64;
    (percent * 10.0).floor() / 10.0
}

/// A protobuf `Struct` as a JSON object (`{}` when absent).
pub(crate) fn structure(value: Option<pbjson_types::Struct>) -> serde_json::Value {
    value
        .and_then(|s| serde_json::to_value(s).ok())
        .unwrap_or_else(|| serde_json::Value::Object(Default::default()))
}

/// One unit of work of a job, usually one mirror.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JobItem {
    pub id: i64,
    pub job_id: i64,
    pub mirror_id: Option<i64>,
    /// What the item is about, e.g. `group/app -> mirror/app`.
    pub label: String,
    /// Task the worker runs, e.g. `mirror.sync`.
    pub task_kind: String,
    pub state: JobItemState,
    /// Times a worker started the item.
    pub attempts: i32,
    pub error: Option<String>,
    pub warnings: Vec<String>,
    /// Task-specific result, e.g. `{"gitlab_status": "started"}` or a verify verdict.
    #[schema(value_type = Object)]
    pub result: serde_json::Value,
    pub duration_ms: Option<i64>,
    #[serde(serialize_with = "common::serialize_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "common::serialize_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<DateTime<Utc>>,
}

impl TryFrom<pb::JobItem> for JobItem {
    type Error = GatewayError;

    fn try_from(i: pb::JobItem) -> Result<Self, GatewayError> {
        Ok(Self {
            state: JobItemState::from_proto(i.state).ok_or_else(missing("item.state"))?,
            started_at: common::timestamp(i.start_time.as_ref()),
            finished_at: common::timestamp(i.end_time.as_ref()),
            result: structure(i.result),
            id: i.id,
            job_id: i.job_id,
            mirror_id: i.mirror_id,
            label: i.label,
            task_kind: i.task_kind,
            attempts: i.attempts,
            error: i.error,
            warnings: i.warnings,
            duration_ms: i.duration_ms,
        })
    }
}

/// `202 Accepted` with the body and `Location: /api/jobs/{id}` of the job doing the work.
#[derive(Debug, Clone)]
pub struct Accepted<T> {
    pub job_id: i64,
    pub body: T,
}

impl Accepted<Job> {
    /// The job itself as the body.
    pub fn job(job: Job) -> Self {
        Self {
            job_id: job.id,
            body: job,
        }
    }

    /// From the job of a response that always carries one.
    pub fn from_proto(job: Option<pb::Job>) -> Result<Self, GatewayError> {
        required_job(job).map(Self::job)
    }
}

impl<T: Serialize> Accepted<T> {
    /// `202` with `Location` when a job was started, else `200` with the body alone (a dry
    /// run, or nothing to do).
    pub fn or_ok(job_id: Option<i64>, body: T) -> Response {
        match job_id {
            Some(job_id) => Accepted { job_id, body }.into_response(),
            None => (StatusCode::OK, Json(body)).into_response(),
        }
    }
}

/// The `Location` of a job.
pub fn location(job_id: i64) -> String {
    format!("/api/jobs/{job_id}")
}

impl<T: Serialize> IntoResponse for Accepted<T> {
    fn into_response(self) -> Response {
        let mut response = (StatusCode::ACCEPTED, Json(self.body)).into_response();
        if let Ok(value) = HeaderValue::from_str(&location(self.job_id)) {
            response.headers_mut().insert(header::LOCATION, value);
        }
        response
    }
}

/// Query of `GET /api/jobs`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListJobsQuery {
    /// Only jobs of this kind, e.g. `mirror.sync`.
    #[param(max_length = 100)]
    pub kind: Option<String>,
    /// Only jobs in this state.
    #[serde(default, deserialize_with = "common::blank_as_none")]
    #[param(value_type = Option<JobState>, inline)]
    pub state: Option<JobState>,
    /// Only jobs of this pair.
    #[serde(default, deserialize_with = "common::blank_as_none")]
    #[param(minimum = 1)]
    pub pair_id: Option<i64>,
    /// Only jobs of this mirror.
    #[serde(default, deserialize_with = "common::blank_as_none")]
    #[param(minimum = 1)]
    pub mirror_id: Option<i64>,
    /// 1-based page number (at most 100; use `page_token` beyond).
    #[param(minimum = 1, maximum = 100)]
    pub page: Option<u32>,
    /// Page size, 1-200 (default 50). `per_page` is accepted too.
    #[serde(alias = "per_page")]
    #[param(minimum = 1, maximum = 200)]
    pub page_size: Option<u32>,
    /// Token from the `X-Next-Page-Token` header of the previous page (instead of `page`).
    pub page_token: Option<String>,
}

/// Query of `GET /api/jobs/{id}/items`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListJobItemsQuery {
    /// Only items in this state.
    #[serde(default, deserialize_with = "common::blank_as_none")]
    #[param(value_type = Option<JobItemState>, inline)]
    pub state: Option<JobItemState>,
    /// 1-based page number (at most 100; use `page_token` beyond).
    #[param(minimum = 1, maximum = 100)]
    pub page: Option<u32>,
    /// Page size, 1-500 (default 100). `per_page` is accepted too.
    #[serde(alias = "per_page")]
    #[param(minimum = 1, maximum = 500)]
    pub page_size: Option<u32>,
    /// Token from the `X-Next-Page-Token` header of the previous page (instead of `page`).
    pub page_token: Option<String>,
}

const ITEM_PAGES: PageLimits = PageLimits {
    size_field: "page_size",
    default_size: 100,
    max_size: 500,
    max_page: common::MAX_PAGE,
};

/// List jobs, newest first.
///
/// Returns a JSON array with `X-Total-Count`, `X-Next-Page-Token` and `Link`.
#[utoipa::path(
    get, path = "/api/jobs", tag = "jobs", operation_id = "list_jobs",
    params(ListJobsQuery),
    responses((status = 200, description = "Jobs", body = Vec<Job>, headers(
        ("X-Total-Count" = i64, description = "Number of jobs matching the filter"),
        ("X-Next-Page-Token" = String, description = "Token of the next page, absent on the last page"),
        ("Link" = String, description = "`<url>; rel=\"next\"` when there is a next page"),
    ))),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn list_jobs(
    State(state): State<GatewayState>,
    forward: Forward,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<ListJobsQuery>,
) -> Result<Listed<Job>, GatewayError> {
    let paging = PageParams::new(query.page, query.page_size, &query.page_token)
        .validate_with(PageLimits::CURSOR_PAGE_SIZE)?;
    common::check_ids(&[("pair_id", query.pair_id), ("mirror_id", query.mirror_id)])?;
    let kind = query.kind.map(|k| k.trim().to_owned()).unwrap_or_default();
    if kind.len() > 100 {
        return Err(GatewayError::unprocessable(
            "kind",
            "at most 100 characters",
        ));
    }
    common::list(&paging, &uri, |page_token, page_size| {
        let request = forward.request(pb::ListJobsRequest {
            page_size,
            page_token,
            kind: kind.clone(),
            state: JobState::filter(query.state),
            pair_id: query.pair_id.unwrap_or(0),
            mirror_id: query.mirror_id.unwrap_or(0),
        });
        let mut client = state.api().jobs();
        async move {
            let response = client.list_jobs(request).await?.into_inner();
            Ok(ApiPage {
                items: response
                    .jobs
                    .into_iter()
                    .map(Job::try_from)
                    .collect::<Result<_, _>>()?,
                next_page_token: response.next_page_token,
                total: response.total_size,
            })
        }
    })
    .await
}

/// Get one job.
#[utoipa::path(
    get, path = "/api/jobs/{id}", tag = "jobs", operation_id = "get_job",
    params(("id" = i64, Path, description = "Job id", minimum = 1)),
    responses((status = 200, description = "The job", body = Job)),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn get_job(
    State(state): State<GatewayState>,
    forward: Forward,
    IdPath(id): IdPath,
) -> Result<Json<Job>, GatewayError> {
    let response = state
        .api()
        .jobs()
        .get_job(forward.request(pb::GetJobRequest { id }))
        .await?
        .into_inner();
    required_job(response.job).map(Json)
}

/// List the items of a job with their results.
///
/// Returns a JSON array with `X-Total-Count`, `X-Next-Page-Token` and `Link`.
#[utoipa::path(
    get, path = "/api/jobs/{id}/items", tag = "jobs", operation_id = "list_job_items",
    params(("id" = i64, Path, description = "Job id", minimum = 1), ListJobItemsQuery),
    responses((status = 200, description = "Items of the job", body = Vec<JobItem>, headers(
        ("X-Total-Count" = i64, description = "Number of items matching the filter"),
        ("X-Next-Page-Token" = String, description = "Token of the next page, absent on the last page"),
        ("Link" = String, description = "`<url>; rel=\"next\"` when there is a next page"),
    ))),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn list_job_items(
    State(state): State<GatewayState>,
    forward: Forward,
    OriginalUri(uri): OriginalUri,
    IdPath(id): IdPath,
    Query(query): Query<ListJobItemsQuery>,
) -> Result<Listed<JobItem>, GatewayError> {
    let paging = PageParams::new(query.page, query.page_size, &query.page_token)
        .validate_with(ITEM_PAGES)?;
    common::list(&paging, &uri, |page_token, page_size| {
        let request = forward.request(pb::ListJobItemsRequest {
            job_id: id,
            page_size,
            page_token,
            state: JobItemState::filter(query.state),
        });
        let mut client = state.api().jobs();
        async move {
            let response = client.list_job_items(request).await?.into_inner();
            Ok(ApiPage {
                items: response
                    .items
                    .into_iter()
                    .map(JobItem::try_from)
                    .collect::<Result<_, _>>()?,
                next_page_token: response.next_page_token,
                total: response.total_size,
            })
        }
    })
    .await
}

/// Cancel a job.
///
/// Queued items are cancelled; running ones finish. Returns the job.
#[utoipa::path(
    post, path = "/api/jobs/{id}/cancel", tag = "jobs", operation_id = "cancel_job",
    params(("id" = i64, Path, description = "Job id", minimum = 1)),
    responses((status = 200, description = "The job, being cancelled", body = Job)),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn cancel_job(
    State(state): State<GatewayState>,
    forward: Forward,
    IdPath(id): IdPath,
) -> Result<Json<Job>, GatewayError> {
    let response = state
        .api()
        .jobs()
        .cancel_job(forward.request(pb::CancelJobRequest { id }))
        .await?
        .into_inner();
    required_job(response.job).map(Json)
}

/// Retry the failed items of a finished job.
///
/// Queues them again; answers 202 with the job and its `Location`.
#[utoipa::path(
    post, path = "/api/jobs/{id}/retry", tag = "jobs", operation_id = "retry_job",
    params(("id" = i64, Path, description = "Job id", minimum = 1)),
    responses((status = 202, description = "Failed items queued again", body = Job, headers(
        ("Location" = String, description = "`/api/jobs/{id}`"),
    ))),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn retry_job(
    State(state): State<GatewayState>,
    forward: Forward,
    IdPath(id): IdPath,
) -> Result<Accepted<Job>, GatewayError> {
    let response = state
        .api()
        .jobs()
        .retry_job(forward.request(pb::RetryJobRequest { id }))
        .await?
        .into_inner();
    Accepted::from_proto(response.job)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_snake_case_and_strict() {
        assert_eq!(
            serde_json::to_string(&JobState::PartiallyFailed).unwrap(),
            "\"partially_failed\""
        );
        assert_eq!(JobState::parse(" RUNNING "), Some(JobState::Running));
        assert!(serde_json::from_str::<JobState>("\"unspecified\"").is_err());
        assert_eq!(JobState::from_proto(0), None);
        assert_eq!(JobState::from_proto(6), Some(JobState::Cancelled));
        assert_eq!(JobState::filter(None), 0);
        assert_eq!(JobItemState::filter(Some(JobItemState::Skipped)), 5);
    }

    #[test]
    fn wire_names_match_the_declared_texts() {
        for state in JobState::ALL {
            let json = serde_json::to_value(state).unwrap();
            assert_eq!(json, state.as_str());
        }
        for state in JobItemState::ALL {
            let json = serde_json::to_value(state).unwrap();
            assert_eq!(json, state.as_str());
        }
        for value in crate::mirrors::Lifecycle::ALL {
            assert_eq!(serde_json::to_value(value).unwrap(), value.as_str());
        }
        for value in crate::mirrors::TokenStatus::ALL {
            assert_eq!(serde_json::to_value(value).unwrap(), value.as_str());
        }
    }

    #[test]
    fn progress_is_a_bounded_percentage() {
        assert_eq!(progress_percent(0, 0, JobState::Queued), 0.0);
        assert_eq!(progress_percent(0, 0, JobState::Succeeded), 100.0);
        assert_eq!(progress_percent(1, 3, JobState::Running), 33.3);
        assert_eq!(progress_percent(5, 3, JobState::Running), 100.0);
    }

    #[test]
    fn jobs_convert_with_params_as_an_object() {
        let params: pbjson_types::Struct =
            serde_json::from_value(serde_json::json!({"mirror_ids": [1, 2], "dry_run": false}))
                .unwrap();
        let job = Job::try_from(pb::Job {
            id: 7,
            kind: "pair.sync".into(),
            state: pb::JobState::Running as i32,
            params: Some(params),
            total: 4,
            done: 1,
            create_time: Some(pbjson_types::Timestamp {
                seconds: 1_700_000_000,
                nanos: 0,
            }),
            ..Default::default()
        })
        .unwrap();
        let json = serde_json::to_value(&job).unwrap();
        assert_eq!(json["state"], "running");
        assert_eq!(json["params"]["mirror_ids"], serde_json::json!([1.0, 2.0]));
        assert_eq!(json["progress_percent"], 25.0);
        assert_eq!(json["created_at"], "2023-11-14T22:13:20.000000Z");
        assert_eq!(json["finished_at"], serde_json::Value::Null);
        let empty = Job::try_from(pb::Job {
            state: pb::JobState::Queued as i32,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(empty.params, serde_json::json!({}));
        assert!(
            Job::try_from(pb::Job::default()).is_err(),
            "unspecified state"
        );
    }
}
