//! Jobs over every mirror of a pair: `SyncPairMirrors` and `RefreshPairMirrorStatus`.
//!
//! Each mirror of the pair gets an item. Mirrors the batch cannot act on get an item created
//! already `skipped` with the reason as its error, so the job's report lists them: disabled
//! mirrors (sync only) and mirrors that are not `ready`. A pair without mirrors is
//! `FAILED_PRECONDITION`. A dry run plans the same job (counts, GitLab calls, estimate) and
//! records nothing.

use mm_common::ApiError;
use mm_mirrors::kinds::{job, task};
use mm_proto::v1;
use mm_storage::{ItemState, Mirror, MirrorLifecycle, NewJobItem};
use serde_json::json;
use tonic::Request;

use super::{cleanup::pair_mirrors, convert, estimated_seconds, load_pair};
use crate::{
    ApiContext,
    jobs::{self, Requester},
    validation,
};

/// GitLab requests one mirror sync takes: read the mirror, re-enable it if GitLab paused it
/// (rare), trigger the update.
const SYNC_CALLS_PER_MIRROR: i64 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Batch {
    Sync,
    RefreshStatus,
}

pub(super) struct Started {
    /// `None` for a dry run.
    pub job: Option<v1::Job>,
    /// Mirrors queued (not skipped).
    pub mirror_count: i64,
    pub skipped_count: i64,
    /// GitLab requests the queued items make at most (all on one instance per mirror).
    pub gitlab_calls: i64,
    pub estimated_seconds: f64,
}

impl Batch {
    fn skip_reason(self, mirror: &Mirror) -> Option<String> {
        match mirror.lifecycle {
            MirrorLifecycle::Ready => {}
            MirrorLifecycle::Creating => return Some("not created in GitLab yet".to_owned()),
            MirrorLifecycle::CreateFailed => {
                return Some("its creation failed; nothing exists in GitLab".to_owned());
            }
            MirrorLifecycle::Deleting => return Some("being deleted".to_owned()),
        }
        (self == Batch::Sync && !mirror.enabled).then(|| "disabled".to_owned())
    }
}

pub(super) async fn start<T>(
    ctx: &ApiContext,
    request: &Request<T>,
    pair_id: i64,
    batch: Batch,
    dry_run: bool,
) -> Result<Started, ApiError> {
    let requester = Requester::of(request)?;
    let pair_id = validation::require_id("pair_id", pair_id)?;
    let pair = load_pair(ctx, "pair_id", pair_id).await?;
    let mirrors = pair_mirrors(ctx, pair_id).await?;
    if mirrors.is_empty() {
        return Err(ApiError::failed_precondition(format!(
            "pair {pair_id} has no mirrors"
        )));
    }
    let (kind, task_kind) = match batch {
        Batch::Sync => (job::PAIR_SYNC, task::MIRROR_SYNC),
        Batch::RefreshStatus => (job::PAIR_REFRESH_STATUS, task::MIRROR_REFRESH_STATUS),
    };
    let items: Vec<NewJobItem> = mirrors
        .iter()
        .map(|mirror| {
            let label = convert::label(&mirror.source_project_path, &mirror.target_project_path);
            let mut item = NewJobItem::for_mirror(mirror.id, label, task_kind);
            if let Some(reason) = batch.skip_reason(mirror) {
                item.state = ItemState::Skipped;
                item.error = Some(reason);
            }
            item
        })
        .collect();
    let queued = items
        .iter()
        .filter(|item| item.state == ItemState::Queued)
        .count() as i64;
    let skipped = items.len() as i64 - queued;
    let calls_per_mirror = match batch {
        Batch::Sync => SYNC_CALLS_PER_MIRROR,
        Batch::RefreshStatus => 1,
    };
    // Every call of a mirror goes to the one instance that holds it, so that instance's
    // budget sets the pace.
    let gitlab_calls = queued * calls_per_mirror;
    let mut started = Started {
        job: None,
        mirror_count: queued,
        skipped_count: skipped,
        gitlab_calls,
        estimated_seconds: estimated_seconds(ctx, gitlab_calls),
    };
    if dry_run {
        return Ok(started);
    }
    let mut new_job = requester.job(kind);
    new_job.pair_id = Some(pair_id);
    new_job.params = json!({
        "pair_name": pair.name,
        "mirror_count": queued,
        "skipped": skipped,
    });
    new_job.items = items;
    let created = jobs::create(ctx, &new_job).await?;
    started.job = Some(jobs::job_message(&created.job));
    Ok(started)
}
