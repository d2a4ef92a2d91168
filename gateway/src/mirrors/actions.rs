//! Actions on one mirror (sync, token rotation, status refresh, verification) and on every
//! mirror of a pair (`/api/pairs/{id}/sync-mirrors`, `/api/pairs/{id}/refresh-status`).
//! Each starts a job and answers `202 Accepted` with it; a pair sync can be planned first
//! (`?dry_run=true`, `200 OK`, nothing started).

use axum::{extract::State, response::Response};
use mm_proto::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::pair_path_error;
use crate::{
    GatewayState, common,
    errors::GatewayError,
    extract::{IdPath, Query},
    grpc::Forward,
    jobs::{self, Accepted, Job},
};

/// What to do with one mirror.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Sync,
    RotateToken,
    RefreshStatus,
    Verify,
}

async fn start(
    state: &GatewayState,
    forward: &Forward,
    id: i64,
    action: Action,
) -> Result<Accepted<Job>, GatewayError> {
    let mut client = state.api().mirrors();
    let job = match action {
        Action::Sync => {
            client
                .sync_mirror(forward.request(pb::SyncMirrorRequest { id }))
                .await?
                .into_inner()
                .job
        }
        Action::RotateToken => {
            client
                .rotate_mirror_token(forward.request(pb::RotateMirrorTokenRequest { id }))
                .await?
                .into_inner()
                .job
        }
        Action::RefreshStatus => {
            client
                .refresh_mirror_status(forward.request(pb::RefreshMirrorStatusRequest { id }))
                .await?
                .into_inner()
                .job
        }
        Action::Verify => {
            client
                .verify_mirror(forward.request(pb::VerifyMirrorRequest { id }))
                .await?
                .into_inner()
                .job
        }
    };
    Accepted::from_proto(job)
}

/// Sync a mirror now.
///
/// Starts the job that triggers the mirror update in GitLab (re-enabling a mirror GitLab
/// paused). Same as `POST /api/mirrors/{id}/sync`.
#[utoipa::path(
    post, path = "/api/mirrors/{id}/update", tag = "mirrors", operation_id = "update_mirror_now",
    params(("id" = i64, Path, description = "Mirror id", minimum = 1)),
    responses((status = 202, description = "Sync job started", body = Job,
        headers(("Location" = String, description = "`/api/jobs/{id}` of the job")))),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn update_now(
    State(state): State<GatewayState>,
    forward: Forward,
    IdPath(id): IdPath,
) -> Result<Accepted<Job>, GatewayError> {
    start(&state, &forward, id, Action::Sync).await
}

/// Sync a mirror now.
///
/// Same as `POST /api/mirrors/{id}/update`.
#[utoipa::path(
    post, path = "/api/mirrors/{id}/sync", tag = "mirrors", operation_id = "sync_mirror",
    params(("id" = i64, Path, description = "Mirror id", minimum = 1)),
    responses((status = 202, description = "Sync job started", body = Job,
        headers(("Location" = String, description = "`/api/jobs/{id}` of the job")))),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn sync_mirror(
    State(state): State<GatewayState>,
    forward: Forward,
    IdPath(id): IdPath,
) -> Result<Accepted<Job>, GatewayError> {
    start(&state, &forward, id, Action::Sync).await
}

/// Rotate the mirror's access token.
///
/// New token, switch the mirror to it, confirm, then revoke the old one.
#[utoipa::path(
    post, path = "/api/mirrors/{id}/rotate-token", tag = "mirrors", operation_id = "rotate_mirror_token",
    params(("id" = i64, Path, description = "Mirror id", minimum = 1)),
    responses((status = 202, description = "Rotation job started", body = Job,
        headers(("Location" = String, description = "`/api/jobs/{id}` of the job")))),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn rotate_token(
    State(state): State<GatewayState>,
    forward: Forward,
    IdPath(id): IdPath,
) -> Result<Accepted<Job>, GatewayError> {
    start(&state, &forward, id, Action::RotateToken).await
}

/// Refresh the mirror's status from GitLab.
#[utoipa::path(
    post, path = "/api/mirrors/{id}/refresh-status", tag = "mirrors", operation_id = "refresh_mirror_status",
    params(("id" = i64, Path, description = "Mirror id", minimum = 1)),
    responses((status = 202, description = "Refresh job started", body = Job,
        headers(("Location" = String, description = "`/api/jobs/{id}` of the job")))),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn refresh_status(
    State(state): State<GatewayState>,
    forward: Forward,
    IdPath(id): IdPath,
) -> Result<Accepted<Job>, GatewayError> {
    start(&state, &forward, id, Action::RefreshStatus).await
}

/// Verify the mirror against GitLab.
///
/// Compares the mirror's GitLab configuration with ours (orphan, drift); the verdict is the
/// `result` of the job's item.
#[utoipa::path(
    post, path = "/api/mirrors/{id}/verify", tag = "mirrors", operation_id = "verify_mirror",
    params(("id" = i64, Path, description = "Mirror id", minimum = 1)),
    responses((status = 202, description = "Verification job started", body = Job,
        headers(("Location" = String, description = "`/api/jobs/{id}` of the job")))),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn verify(
    State(state): State<GatewayState>,
    forward: Forward,
    IdPath(id): IdPath,
) -> Result<Accepted<Job>, GatewayError> {
    start(&state, &forward, id, Action::Verify).await
}

/// Verify the mirror against GitLab (GET, as the previous API).
///
/// Same as `POST /api/mirrors/{id}/verify`.
#[utoipa::path(
    get, path = "/api/mirrors/{id}/verify", tag = "mirrors", operation_id = "verify_mirror_get",
    params(("id" = i64, Path, description = "Mirror id", minimum = 1)),
    responses((status = 202, description = "Verification job started", body = Job,
        headers(("Location" = String, description = "`/api/jobs/{id}` of the job")))),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn verify_get(
    State(state): State<GatewayState>,
    forward: Forward,
    IdPath(id): IdPath,
) -> Result<Accepted<Job>, GatewayError> {
    start(&state, &forward, id, Action::Verify).await
}

/// Result of `POST /api/pairs/{id}/sync-mirrors`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PairSyncStarted {
    /// The batch job; `null` for a dry run.
    pub job: Option<Job>,
    /// Mirrors in the batch (enabled and ready).
    pub mirror_count: i64,
    /// Mirrors that get a skipped item (disabled, or not ready in GitLab).
    pub skipped_count: i64,
    /// GitLab requests the batch makes at most.
    pub gitlab_calls: i64,
    /// Estimated duration at the instances' current rate budget, in seconds.
    pub estimated_seconds: f64,
}

/// Query of a pair sync.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PairSyncQuery {
    /// Only plan: count what would sync and estimate the duration; start nothing.
    #[serde(default, deserialize_with = "common::blank_as_none")]
    pub dry_run: Option<bool>,
}

/// Sync every enabled mirror of a pair.
///
/// With `dry_run=true`, answers 200 with the plan (mirrors to sync, skipped, GitLab calls,
/// estimated duration) and starts nothing; otherwise 202 with the batch job.
#[utoipa::path(
    post, path = "/api/pairs/{id}/sync-mirrors", tag = "pairs", operation_id = "sync_pair_mirrors",
    params(("id" = i64, Path, description = "Pair id", minimum = 1), PairSyncQuery),
    responses(
        (status = 200, description = "Dry run: the plan", body = PairSyncStarted),
        (status = 202, description = "Batch sync job started", body = PairSyncStarted,
            headers(("Location" = String, description = "`/api/jobs/{id}` of the job"))),
    ),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn sync_pair_mirrors(
    State(state): State<GatewayState>,
    forward: Forward,
    IdPath(id): IdPath,
    Query(query): Query<PairSyncQuery>,
) -> Result<Response, GatewayError> {
    let dry_run = query.dry_run.unwrap_or(false);
    let response = state
        .api()
        .mirrors()
        .sync_pair_mirrors(forward.request(pb::SyncPairMirrorsRequest {
            pair_id: id,
            dry_run,
        }))
        .await
        .map_err(pair_path_error)?
        .into_inner();
    let job = if dry_run {
        None
    } else {
        Some(jobs::required_job(response.job)?)
    };
    let body = PairSyncStarted {
        job,
        mirror_count: response.mirror_count,
        skipped_count: response.skipped_count,
        gitlab_calls: response.gitlab_calls,
        estimated_seconds: finite(response.estimated_seconds),
    };
    Ok(Accepted::or_ok(body.job.as_ref().map(|job| job.id), body))
}

/// Refresh the status of every mirror of a pair from GitLab.
#[utoipa::path(
    post, path = "/api/pairs/{id}/refresh-status", tag = "pairs", operation_id = "refresh_pair_status",
    params(("id" = i64, Path, description = "Pair id", minimum = 1)),
    responses((status = 202, description = "Refresh job started", body = Job,
        headers(("Location" = String, description = "`/api/jobs/{id}` of the job")))),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn refresh_pair_status(
    State(state): State<GatewayState>,
    forward: Forward,
    IdPath(id): IdPath,
) -> Result<Accepted<Job>, GatewayError> {
    let response = state
        .api()
        .mirrors()
        .refresh_pair_mirror_status(
            forward.request(pb::RefreshPairMirrorStatusRequest { pair_id: id }),
        )
        .await
        .map_err(pair_path_error)?
        .into_inner();
    Accepted::from_proto(response.job)
}

/// JSON has no NaN or infinity; an estimate that is not finite is reported as 0.
pub(crate) fn finite(value: f64) -> f64 {
    if value.is_finite() {
        value.max(0.0)
    } else {
        0.0
    }
}
