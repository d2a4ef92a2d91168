//! The job service of the fake API (`fake_api.rs`): in-memory jobs following `jobs.proto`.
//!
//! Jobs do not run; `WatchJob` plays a job forward (one item per update, then `succeeded`)
//! and stores the result. Some kinds behave specially for stream tests:
//! [`STREAM_ERROR_KIND`] fails the stream after the first update, [`HOLD_OPEN_KIND`] keeps
//! the stream open after the final update and [`SLOW_KIND`] pauses after the first one.

use std::{pin::Pin, time::Duration};

use mm_common::ApiError;
use mm_proto::v1::{self as pb, *};
use tonic::{Request, Response, Status, codegen::tokio_stream::Stream};

use super::{FakeApi, Inner, invalid, now, page};

/// A job kind whose `WatchJob` stream fails after the first update.
pub const STREAM_ERROR_KIND: &str = "test.stream_error";
/// A job kind whose `WatchJob` stream stays open after the job finished.
pub const HOLD_OPEN_KIND: &str = "test.hold_open";
/// A job kind whose `WatchJob` stream is silent for 16 seconds after the first update
/// (longer than the gateway's keep-alive interval).
pub const SLOW_KIND: &str = "test.slow";

/// What a job is about.
#[derive(Debug, Default, Clone, Copy)]
pub struct Scope {
    pub pair_id: Option<i64>,
    pub mirror_id: Option<i64>,
    pub instance_id: Option<i64>,
}

impl Scope {
    pub fn pair(id: i64) -> Self {
        Self {
            pair_id: Some(id),
            ..Self::default()
        }
    }

    pub fn mirror(pair_id: i64, mirror_id: i64) -> Self {
        Self {
            pair_id: Some(pair_id),
            mirror_id: Some(mirror_id),
            ..Self::default()
        }
    }

    pub fn instance(id: i64) -> Self {
        Self {
            instance_id: Some(id),
            ..Self::default()
        }
    }
}

/// Records a queued job with `total` queued items.
pub fn start_job(inner: &mut Inner, kind: &str, scope: Scope, total: i64) -> pb::Job {
    inner.next_id += 1;
    let id = inner.next_id;
    let params: pbjson_types::Struct =
        serde_json::from_value(serde_json::json!({"kind": kind, "total": total})).unwrap();
    let job = pb::Job {
        id,
        kind: kind.to_owned(),
        state: JobState::Queued as i32,
        pair_id: scope.pair_id,
        mirror_id: scope.mirror_id,
        instance_id: scope.instance_id,
        requested_by: super::USERNAME.to_owned(),
        params: Some(params),
        total,
        create_time: now(),
        update_time: now(),
        ..Default::default()
    };
    let items = (1..=total)
        .map(|n| pb::JobItem {
            id: id * 1000 + n,
            job_id: id,
            mirror_id: scope.mirror_id,
            label: format!("item {n}"),
            task_kind: kind.to_owned(),
            state: JobItemState::Queued as i32,
            ..Default::default()
        })
        .collect();
    inner.jobs.insert(id, job.clone());
    inner.job_items.insert(id, items);
    job
}

fn finished(state: i32) -> bool {
    !matches!(
        JobState::try_from(state),
        Ok(JobState::Queued | JobState::Running)
    )
}

type WatchStream = Pin<Box<dyn Stream<Item = Result<WatchJobResponse, Status>> + Send>>;

#[tonic::async_trait]
impl job_service_server::JobService for FakeApi {
    async fn list_jobs(
        &self,
        request: Request<ListJobsRequest>,
    ) -> Result<Response<ListJobsResponse>, Status> {
        self.authenticate(request.metadata())?;
        let r = request.into_inner();
        let mut inner = self.inner.lock().unwrap();
        inner.recorded.list_jobs = Some(r.clone());
        let all: Vec<pb::Job> = inner
            .jobs
            .values()
            .rev()
            .filter(|j| r.kind.is_empty() || j.kind == r.kind)
            .filter(|j| r.state == 0 || j.state == r.state)
            .filter(|j| r.pair_id == 0 || j.pair_id == Some(r.pair_id))
            .filter(|j| r.mirror_id == 0 || j.mirror_id == Some(r.mirror_id))
            .cloned()
            .collect();
        let (jobs, next_page_token) = page(&all, r.page_size, &r.page_token)?;
        Ok(Response::new(ListJobsResponse {
            jobs,
            next_page_token,
            total_size: all.len() as i64,
        }))
    }

    async fn get_job(
        &self,
        request: Request<GetJobRequest>,
    ) -> Result<Response<GetJobResponse>, Status> {
        self.authenticate(request.metadata())?;
        let id = request.into_inner().id;
        let inner = self.inner.lock().unwrap();
        let job = inner
            .jobs
            .get(&id)
            .cloned()
            .ok_or_else(|| Status::not_found(format!("job {id} not found")))?;
        Ok(Response::new(GetJobResponse { job: Some(job) }))
    }

    async fn list_job_items(
        &self,
        request: Request<ListJobItemsRequest>,
    ) -> Result<Response<ListJobItemsResponse>, Status> {
        self.authenticate(request.metadata())?;
        let r = request.into_inner();
        let mut inner = self.inner.lock().unwrap();
        inner.recorded.list_job_items = Some(r.clone());
        if r.page_size > 500 {
            return Err(invalid("page_size", "must be between 1 and 500"));
        }
        let items = inner
            .job_items
            .get(&r.job_id)
            .cloned()
            .ok_or_else(|| Status::not_found("job not found"))?;
        let all: Vec<pb::JobItem> = items
            .into_iter()
            .filter(|i| r.state == 0 || i.state == r.state)
            .collect();
        let size = if r.page_size == 0 {
            100
        } else {
            r.page_size.min(200)
        };
        let (items, next_page_token) = page(&all, size, &r.page_token)?;
        Ok(Response::new(ListJobItemsResponse {
            items,
            next_page_token,
            total_size: all.len() as i64,
        }))
    }

    async fn cancel_job(
        &self,
        request: Request<CancelJobRequest>,
    ) -> Result<Response<CancelJobResponse>, Status> {
        self.authenticate(request.metadata())?;
        let id = request.into_inner().id;
        let mut inner = self.inner.lock().unwrap();
        let job = inner
            .jobs
            .get_mut(&id)
            .ok_or_else(|| Status::not_found("job not found"))?;
        if finished(job.state) {
            return Err(ApiError::failed_precondition("the job has finished").to_status());
        }
        job.state = JobState::Cancelled as i32;
        job.cancelled = job.total - job.done;
        job.done = job.total;
        job.end_time = now();
        Ok(Response::new(CancelJobResponse {
            job: Some(job.clone()),
        }))
    }

    async fn retry_job(
        &self,
        request: Request<RetryJobRequest>,
    ) -> Result<Response<RetryJobResponse>, Status> {
        self.authenticate(request.metadata())?;
        let id = request.into_inner().id;
        let mut inner = self.inner.lock().unwrap();
        let job = inner
            .jobs
            .get_mut(&id)
            .ok_or_else(|| Status::not_found("job not found"))?;
        if !finished(job.state) {
            return Err(ApiError::failed_precondition("the job has not finished").to_status());
        }
        job.state = JobState::Queued as i32;
        job.done -= job.failed + job.cancelled;
        job.failed = 0;
        job.cancelled = 0;
        job.end_time = None;
        Ok(Response::new(RetryJobResponse {
            job: Some(job.clone()),
        }))
    }

    type WatchJobStream = WatchStream;

    async fn watch_job(
        &self,
        request: Request<WatchJobRequest>,
    ) -> Result<Response<Self::WatchJobStream>, Status> {
        self.authenticate(request.metadata())?;
        let id = request.into_inner().id;
        let job = {
            let inner = self.inner.lock().unwrap();
            inner
                .jobs
                .get(&id)
                .cloned()
                .ok_or_else(|| Status::not_found(format!("job {id} not found")))?
        };
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let api = self.clone();
        tokio::spawn(async move {
            let send = |job: &pb::Job| {
                let message = Ok(WatchJobResponse {
                    job: Some(job.clone()),
                });
                let tx = tx.clone();
                async move { tx.send(message).await.is_ok() }
            };
            let mut job = job;
            if !send(&job).await {
                return;
            }
            if job.kind == STREAM_ERROR_KIND {
                let _ = tx
                    .send(Err(Status::unavailable("the job store went away")))
                    .await;
                return;
            }
            if job.kind == SLOW_KIND {
                tokio::time::sleep(Duration::from_secs(16)).await;
            }
            while !finished(job.state) {
                tokio::time::sleep(Duration::from_millis(20)).await;
                if job.done < job.total {
                    job.state = JobState::Running as i32;
                    job.done += 1;
                    job.succeeded += 1;
                    job.start_time = job.start_time.or_else(now);
                } else {
                    job.state = JobState::Succeeded as i32;
                    job.end_time = now();
                }
                job.update_time = now();
                api.inner.lock().unwrap().jobs.insert(job.id, job.clone());
                if !send(&job).await {
                    return;
                }
            }
            if job.kind == HOLD_OPEN_KIND {
                tokio::time::sleep(Duration::from_secs(60)).await;
            }
        });
        let stream = tonic::codegen::tokio_stream::wrappers::ReceiverStream::new(rx);
        Ok(Response::new(Box::pin(stream)))
    }
}
