//! `mirrormaestro.v1.JobService`, and starting jobs for the other services.
//!
//! Rules:
//! * `CancelJob`: queued items are cancelled, running ones finish. Cancelling a job that
//!   finished is `FAILED_PRECONDITION`, except a job already cancelled, which is returned
//!   as it is (a repeated cancel succeeds).
//! * `RetryJob`: only a finished job with failed items; a job with items still queued or
//!   running (also a cancelled one whose running items have not ended), or one without
//!   failed items, is `FAILED_PRECONDITION`. The failed items are queued again
//!   (same items, attempts keep counting) and the job goes back to `queued`.
//! * Lists page by offset (see [`crate::paging::OffsetPaging`]).

mod convert;
mod start;
mod watch;

pub(crate) use convert::job as job_message;
use mm_common::ApiError;
use mm_proto::v1::{self, job_service_server::JobService};
use mm_storage::{Job, JobFilter, JobState};
pub(crate) use start::{Requester, create, unfinished};
use tonic::{Request, Response, Status};

use crate::{
    ApiContext,
    errors::storage_error,
    paging::OffsetPaging,
    validation::{self, Violations},
};

/// Longest accepted `kind` filter.
const KIND_MAX_CHARS: usize = 100;
/// Page size of `ListJobItems`: 0 means 100, at most 500.
const ITEMS_DEFAULT_PAGE_SIZE: u32 = 100;
const ITEMS_MAX_PAGE_SIZE: i32 = 500;

/// Whether nothing of the job runs any more: a final state and every item finished (a
/// cancelled job's running items still finish).
pub(crate) fn is_over(job: &Job) -> bool {
    job.state.is_finished() && job.done >= job.total
}

pub(crate) struct JobServiceImpl {
    ctx: ApiContext,
}

impl JobServiceImpl {
    pub(crate) fn new(ctx: ApiContext) -> Self {
        Self { ctx }
    }

    async fn load(&self, id: i64) -> Result<Job, ApiError> {
        self.ctx
            .storage()
            .get_job(id)
            .await
            .map_err(|error| storage_error(error, "name"))?
            .ok_or_else(|| ApiError::not_found(format!("job {id} not found")))
    }
}

#[tonic::async_trait]
impl JobService for JobServiceImpl {
    async fn list_jobs(
        &self,
        request: Request<v1::ListJobsRequest>,
    ) -> Result<Response<v1::ListJobsResponse>, Status> {
        let request = request.into_inner();
        let mut violations = Violations::default();
        let limit = violations.check(validation::page_size(request.page_size));
        let kind = violations.check(validation::text_filter(
            "kind",
            &request.kind,
            KIND_MAX_CHARS,
        ));
        let state = violations.check(convert::job_state_filter("state", request.state));
        let pair_id = violations.check(validation::id_filter("pair_id", request.pair_id));
        let mirror_id = violations.check(validation::id_filter("mirror_id", request.mirror_id));
        let filter_key = [
            kind.clone().flatten().unwrap_or_default(),
            request.state.to_string(),
            request.pair_id.to_string(),
            request.mirror_id.to_string(),
        ];
        let paging = limit.and_then(|limit| {
            let filters: Vec<&str> = filter_key.iter().map(String::as_str).collect();
            violations.check(OffsetPaging::new(
                "jobs",
                &filters,
                limit,
                &request.page_token,
                0,
            ))
        });
        violations.finish()?;
        let (Some(kind), Some(state), Some(pair_id), Some(mirror_id), Some(paging)) =
            (kind, state, pair_id, mirror_id, paging)
        else {
            return Err(ApiError::internal().into());
        };

        let filter = JobFilter {
            kind,
            state,
            pair_id,
            mirror_id,
        };
        let page = self
            .ctx
            .storage()
            .list_jobs(&filter, paging.window())
            .await
            .map_err(|error| storage_error(error, "name"))?;
        Ok(Response::new(v1::ListJobsResponse {
            jobs: page.items.iter().map(convert::job).collect(),
            next_page_token: paging.next_token(page.items.len(), page.total),
            total_size: page.total,
        }))
    }

    async fn get_job(
        &self,
        request: Request<v1::GetJobRequest>,
    ) -> Result<Response<v1::GetJobResponse>, Status> {
        let id = validation::require_id("id", request.get_ref().id)?;
        let job = self.load(id).await?;
        Ok(Response::new(v1::GetJobResponse {
            job: Some(convert::job(&job)),
        }))
    }

    async fn list_job_items(
        &self,
        request: Request<v1::ListJobItemsRequest>,
    ) -> Result<Response<v1::ListJobItemsResponse>, Status> {
        let request = request.into_inner();
        let mut violations = Violations::default();
        let job_id = violations.check(validation::id("job_id", request.job_id));
        let limit = violations.check(validation::page_size_within(
            request.page_size,
            ITEMS_DEFAULT_PAGE_SIZE,
            ITEMS_MAX_PAGE_SIZE,
        ));
        let state = violations.check(convert::item_state_filter("state", request.state));
        let filter_key = [request.job_id.to_string(), request.state.to_string()];
        let paging = limit.and_then(|limit| {
            let filters: Vec<&str> = filter_key.iter().map(String::as_str).collect();
            violations.check(OffsetPaging::new(
                "job_items",
                &filters,
                limit,
                &request.page_token,
                0,
            ))
        });
        violations.finish()?;
        let (Some(job_id), Some(state), Some(paging)) = (job_id, state, paging) else {
            return Err(ApiError::internal().into());
        };

        self.load(job_id).await?;
        let page = self
            .ctx
            .storage()
            .list_job_items(job_id, state, paging.window())
            .await
            .map_err(|error| storage_error(error, "name"))?;
        Ok(Response::new(v1::ListJobItemsResponse {
            items: page.items.iter().map(convert::item).collect(),
            next_page_token: paging.next_token(page.items.len(), page.total),
            total_size: page.total,
        }))
    }

    async fn cancel_job(
        &self,
        request: Request<v1::CancelJobRequest>,
    ) -> Result<Response<v1::CancelJobResponse>, Status> {
        let requester = Requester::of(&request)?;
        let id = validation::require_id("id", request.get_ref().id)?;
        let job = self.load(id).await?;
        if job.state.is_finished() && job.state != JobState::Cancelled {
            return Err(ApiError::failed_precondition(format!(
                "job {id} already finished ({}); only a queued or running job can be cancelled",
                job.state.as_str()
            ))
            .into());
        }
        let job = self
            .ctx
            .storage()
            .cancel_job(id)
            .await
            .map_err(|error| storage_error(error, "name"))?
            .ok_or_else(|| ApiError::not_found(format!("job {id} not found")))?;
        tracing::info!(job_id = id, by = %requester.username(), "job cancelled");
        Ok(Response::new(v1::CancelJobResponse {
            job: Some(convert::job(&job)),
        }))
    }

    async fn retry_job(
        &self,
        request: Request<v1::RetryJobRequest>,
    ) -> Result<Response<v1::RetryJobResponse>, Status> {
        let requester = Requester::of(&request)?;
        let id = validation::require_id("id", request.get_ref().id)?;
        let job = self.load(id).await?;
        if !is_over(&job) {
            return Err(ApiError::failed_precondition(format!(
                "job {id} is still running ({} of {} items done); retry it once it has finished",
                job.done, job.total
            ))
            .into());
        }
        if job.failed == 0 {
            return Err(ApiError::failed_precondition(format!(
                "job {id} has no failed items to retry"
            ))
            .into());
        }
        let job = self
            .ctx
            .storage()
            .retry_failed_items(id, requester.traceparent())
            .await
            .map_err(|error| storage_error(error, "name"))?
            .ok_or_else(|| ApiError::not_found(format!("job {id} not found")))?;
        tracing::info!(job_id = id, by = %requester.username(), "failed job items queued again");
        Ok(Response::new(v1::RetryJobResponse {
            job: Some(convert::job(&job)),
        }))
    }

    type WatchJobStream = watch::WatchStream;

    async fn watch_job(
        &self,
        request: Request<v1::WatchJobRequest>,
    ) -> Result<Response<Self::WatchJobStream>, Status> {
        let id = validation::require_id("id", request.get_ref().id)?;
        let job = self.load(id).await?;
        Ok(Response::new(watch::watch(self.ctx.storage().clone(), job)))
    }
}
