//! `mirrormaestro.v1.MirrorService`.
//!
//! Every RPC that changes something in GitLab records a job (see [`crate::jobs`]) and answers
//! at once; workers run its items. The API itself calls GitLab only for
//! `SearchInstanceProjects` and `SearchInstanceGroups`.
//!
//! Lifecycle rules of the single-mirror RPCs (violations are `FAILED_PRECONDITION`):
//!
//! | RPC | allowed when the mirror is |
//! |---|---|
//! | UpdateMirror | not `creating` or `deleting` (a job only when `ready` and a GitLab-relevant field changed) |
//! | DeleteMirror | anything but `deleting` |
//! | SyncMirror | `ready` and enabled |
//! | RotateMirrorToken | `ready`, and no other rotation of it queued or running |
//! | RefreshMirrorStatus | `ready` |
//! | VerifyMirror | `ready` or `create_failed` (to find leftovers) |
//!
//! Creating or importing mirrors into a pair whose removal (`pair.delete`, or
//! `instance.delete` of one of its instances) is queued or running is refused the same way.

mod actions;
mod batch;
mod cleanup;
mod convert;
mod import_export;
mod listing;
mod search;
mod validation;

pub(crate) use cleanup::{delete_instance_job, delete_pair_job, instance_pairs, pair_mirrors};
use mm_common::ApiError;
use mm_proto::v1::{self, mirror_service_server::MirrorService};
use mm_storage::{Mirror, Pair};
use tonic::{Request, Response, Status};

use crate::{ApiContext, errors::storage_error};

pub(crate) struct MirrorServiceImpl {
    ctx: ApiContext,
}

impl MirrorServiceImpl {
    pub(crate) fn new(ctx: ApiContext) -> Self {
        Self { ctx }
    }
}

/// The mirror, or NotFound.
async fn load_mirror(ctx: &ApiContext, id: i64) -> Result<Mirror, ApiError> {
    ctx.storage()
        .get_mirror(id)
        .await
        .map_err(storage_failure)?
        .ok_or_else(|| ApiError::not_found(format!("mirror {id} not found")))
}

/// The pair, or NotFound naming `field`.
async fn load_pair(ctx: &ApiContext, field: &str, id: i64) -> Result<Pair, ApiError> {
    ctx.storage()
        .get_pair(id)
        .await
        .map_err(storage_failure)?
        .ok_or_else(|| {
            ApiError::not_found(format!("pair {id} not found"))
                .with_field(field, "no pair with this id")
        })
}

fn storage_failure(error: mm_storage::StorageError) -> ApiError {
    storage_error(error, "name")
}

/// Seconds `calls` GitLab requests take at the configured budget of one instance
/// (`MM_GITLAB_REQUESTS_PER_MINUTE`). Conservative: the calls of a job often spread over two
/// instances, each with its own budget.
fn estimated_seconds(ctx: &ApiContext, calls: i64) -> f64 {
    calls as f64 * 60.0 / f64::from(ctx.settings().gitlab_requests_per_minute.max(1))
}

fn respond<T>(result: Result<T, ApiError>) -> Result<Response<T>, Status> {
    result.map(Response::new).map_err(Status::from)
}

#[tonic::async_trait]
impl MirrorService for MirrorServiceImpl {
    async fn list_mirrors(
        &self,
        request: Request<v1::ListMirrorsRequest>,
    ) -> Result<Response<v1::ListMirrorsResponse>, Status> {
        respond(listing::list(&self.ctx, request.into_inner()).await)
    }

    async fn get_mirror(
        &self,
        request: Request<v1::GetMirrorRequest>,
    ) -> Result<Response<v1::GetMirrorResponse>, Status> {
        respond(listing::get(&self.ctx, request.get_ref().id).await)
    }

    async fn create_mirror(
        &self,
        request: Request<v1::CreateMirrorRequest>,
    ) -> Result<Response<v1::CreateMirrorResponse>, Status> {
        respond(actions::create(&self.ctx, request).await)
    }

    async fn update_mirror(
        &self,
        request: Request<v1::UpdateMirrorRequest>,
    ) -> Result<Response<v1::UpdateMirrorResponse>, Status> {
        respond(actions::update(&self.ctx, request).await)
    }

    async fn delete_mirror(
        &self,
        request: Request<v1::DeleteMirrorRequest>,
    ) -> Result<Response<v1::DeleteMirrorResponse>, Status> {
        let id = request.get_ref().id;
        let job = actions::delete(&self.ctx, &request, id).await;
        respond(job.map(|job| v1::DeleteMirrorResponse { job: Some(job) }))
    }

    async fn sync_mirror(
        &self,
        request: Request<v1::SyncMirrorRequest>,
    ) -> Result<Response<v1::SyncMirrorResponse>, Status> {
        let id = request.get_ref().id;
        let job = actions::single(&self.ctx, &request, id, actions::Action::Sync).await;
        respond(job.map(|job| v1::SyncMirrorResponse { job: Some(job) }))
    }

    async fn rotate_mirror_token(
        &self,
        request: Request<v1::RotateMirrorTokenRequest>,
    ) -> Result<Response<v1::RotateMirrorTokenResponse>, Status> {
        let id = request.get_ref().id;
        let job = actions::single(&self.ctx, &request, id, actions::Action::RotateToken).await;
        respond(job.map(|job| v1::RotateMirrorTokenResponse { job: Some(job) }))
    }

    async fn refresh_mirror_status(
        &self,
        request: Request<v1::RefreshMirrorStatusRequest>,
    ) -> Result<Response<v1::RefreshMirrorStatusResponse>, Status> {
        let id = request.get_ref().id;
        let job = actions::single(&self.ctx, &request, id, actions::Action::RefreshStatus).await;
        respond(job.map(|job| v1::RefreshMirrorStatusResponse { job: Some(job) }))
    }

    async fn verify_mirror(
        &self,
        request: Request<v1::VerifyMirrorRequest>,
    ) -> Result<Response<v1::VerifyMirrorResponse>, Status> {
        let id = request.get_ref().id;
        let job = actions::single(&self.ctx, &request, id, actions::Action::Verify).await;
        respond(job.map(|job| v1::VerifyMirrorResponse { job: Some(job) }))
    }

    async fn sync_pair_mirrors(
        &self,
        request: Request<v1::SyncPairMirrorsRequest>,
    ) -> Result<Response<v1::SyncPairMirrorsResponse>, Status> {
        let (pair_id, dry_run) = (request.get_ref().pair_id, request.get_ref().dry_run);
        let batch = batch::start(&self.ctx, &request, pair_id, batch::Batch::Sync, dry_run).await;
        respond(batch.map(|batch| v1::SyncPairMirrorsResponse {
            job: batch.job,
            mirror_count: batch.mirror_count,
            estimated_seconds: batch.estimated_seconds,
            skipped_count: batch.skipped_count,
            gitlab_calls: batch.gitlab_calls,
        }))
    }

    async fn refresh_pair_mirror_status(
        &self,
        request: Request<v1::RefreshPairMirrorStatusRequest>,
    ) -> Result<Response<v1::RefreshPairMirrorStatusResponse>, Status> {
        let pair_id = request.get_ref().pair_id;
        let batch = batch::start(
            &self.ctx,
            &request,
            pair_id,
            batch::Batch::RefreshStatus,
            false,
        )
        .await;
        respond(batch.map(|batch| v1::RefreshPairMirrorStatusResponse { job: batch.job }))
    }

    async fn get_mirror_tree(
        &self,
        request: Request<v1::GetMirrorTreeRequest>,
    ) -> Result<Response<v1::GetMirrorTreeResponse>, Status> {
        respond(listing::tree(&self.ctx, request.into_inner()).await)
    }

    async fn export_pair_mirrors(
        &self,
        request: Request<v1::ExportPairMirrorsRequest>,
    ) -> Result<Response<v1::ExportPairMirrorsResponse>, Status> {
        respond(import_export::export(&self.ctx, request.get_ref().pair_id).await)
    }

    async fn import_pair_mirrors(
        &self,
        request: Request<v1::ImportPairMirrorsRequest>,
    ) -> Result<Response<v1::ImportPairMirrorsResponse>, Status> {
        respond(import_export::import(&self.ctx, request).await)
    }

    async fn search_instance_projects(
        &self,
        request: Request<v1::SearchInstanceProjectsRequest>,
    ) -> Result<Response<v1::SearchInstanceProjectsResponse>, Status> {
        respond(search::search(&self.ctx, request.into_inner()).await)
    }

    async fn search_instance_groups(
        &self,
        request: Request<v1::SearchInstanceGroupsRequest>,
    ) -> Result<Response<v1::SearchInstanceGroupsResponse>, Status> {
        respond(search::search_groups(&self.ctx, request.into_inner()).await)
    }
}
