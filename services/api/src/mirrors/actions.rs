//! The RPCs about one mirror: create, update, delete, and the one-item jobs (sync, rotate,
//! refresh, verify).

use mm_common::ApiError;
use mm_mirrors::kinds::{job, task};
use mm_proto::v1;
use mm_storage::{
    ItemMirror, ItemState, JobFilter, Mirror, MirrorChanges, MirrorLifecycle, NewJobItem, NewMirror,
};
use serde_json::json;
use tonic::Request;

use super::{
    cleanup::ensure_not_being_removed, convert, listing::with_pair, load_mirror, load_pair,
    storage_failure, validation as mv,
};
use crate::{
    ApiContext,
    jobs::{self, Requester},
    validation::{self, Violations},
};

pub(super) async fn create(
    ctx: &ApiContext,
    request: Request<v1::CreateMirrorRequest>,
) -> Result<v1::CreateMirrorResponse, ApiError> {
    let requester = Requester::of(&request)?;
    let request = request.into_inner();
    let mut violations = Violations::default();
    let pair_id = violations.check(validation::id("pair_id", request.pair_id));
    let source = violations.check(mv::project_path(
        "source_project_path",
        &request.source_project_path,
    ));
    let target = violations.check(mv::project_path(
        "target_project_path",
        &request.target_project_path,
    ));
    let overrides = mv::overrides(&mut violations, "overrides", request.overrides.as_ref());
    violations.finish()?;
    let (Some(pair_id), Some(source), Some(target), Some(overrides)) =
        (pair_id, source, target, overrides)
    else {
        return Err(ApiError::internal());
    };

    let pair = load_pair(ctx, "pair_id", pair_id).await?;
    ensure_not_being_removed(ctx, &pair).await?;
    if let Some(existing) = ctx
        .storage()
        .find_mirror_by_paths(pair_id, &source, &target)
        .await
        .map_err(storage_failure)?
    {
        return Err(ApiError::already_exists(format!(
            "pair {pair_id} already has mirror {} from {source} to {target}",
            existing.id
        ))
        .with_field(
            "source_project_path",
            "already mirrored to this target in the pair",
        ));
    }

    let mut new_job = requester.job(job::MIRROR_CREATE);
    new_job.pair_id = Some(pair_id);
    new_job.params = json!({
        "source_project_path": source,
        "target_project_path": target,
    });
    new_job.items = vec![NewJobItem {
        mirror: ItemMirror::New(NewMirror {
            pair_id,
            source_project_id: None,
            source_project_path: source.clone(),
            target_project_id: None,
            target_project_path: target.clone(),
            overrides,
            enabled: request.enabled.unwrap_or(true),
        }),
        label: convert::label(&source, &target),
        task_kind: task::MIRROR_CREATE.to_owned(),
        payload: json!({}),
        state: ItemState::Queued,
        error: None,
    }];
    let created = jobs::create(ctx, &new_job).await?;
    let mirror_id = created
        .new_mirror_ids
        .first()
        .copied()
        .ok_or_else(|| crate::errors::internal("creating a mirror", "no mirror id returned"))?;
    let mirror = load_mirror(ctx, mirror_id).await?;
    tracing::info!(mirror_id, pair_id, by = %requester.username(), "mirror recorded");
    Ok(v1::CreateMirrorResponse {
        mirror: Some(convert::mirror(&mirror, Some(&pair), chrono::Utc::now())),
        job: Some(jobs::job_message(&created.job)),
    })
}

/// Fields `UpdateMirror` may change, as field-mask paths.
const UPDATABLE_FIELDS: &[&str] = &[
    "enabled",
    "overrides.mirror_overwrite_diverged",
    "overrides.mirror_trigger_builds",
    "overrides.only_mirror_protected_branches",
    "overrides.mirror_branch_regex",
];

/// Fields that identify a mirror and never change.
const LOCKED_FIELDS: &[&str] = &[
    "pair_id",
    "source_project_path",
    "target_project_path",
    "mirror_direction",
    "direction",
];

/// The paths of the update mask: `overrides` stands for its four fields, a `mirror.` prefix is
/// allowed. `None` for an empty mask.
fn update_mask(mask: Option<&pbjson_types::FieldMask>) -> Result<Option<Vec<String>>, ApiError> {
    let Some(mask) = mask.filter(|mask| !mask.paths.is_empty()) else {
        return Ok(None);
    };
    let mut violations = Violations::default();
    let mut paths: Vec<String> = Vec::new();
    for raw in &mask.paths {
        let path = raw.trim();
        let path = path.strip_prefix("mirror.").unwrap_or(path);
        let expanded: Vec<&str> = if path == "overrides" {
            UPDATABLE_FIELDS[1..].to_vec()
        } else if UPDATABLE_FIELDS.contains(&path) {
            vec![path]
        } else if LOCKED_FIELDS.contains(&path) {
            violations.push(
                format!("mirror.{path}"),
                "cannot change; delete the mirror and create it again",
            );
            continue;
        } else {
            violations.push(
                "update_mask",
                format!(
                    "unknown or read-only field {raw:?}; updatable fields are: {}",
                    UPDATABLE_FIELDS.join(", ")
                ),
            );
            continue;
        };
        for path in expanded {
            if !paths.iter().any(|p| p == path) {
                paths.push(path.to_owned());
            }
        }
    }
    violations.finish()?;
    Ok(Some(paths))
}

pub(super) async fn update(
    ctx: &ApiContext,
    request: Request<v1::UpdateMirrorRequest>,
) -> Result<v1::UpdateMirrorResponse, ApiError> {
    let requester = Requester::of(&request)?;
    let request = request.into_inner();
    let mirror = request
        .mirror
        .ok_or_else(|| ApiError::invalid_field("mirror", "is required"))?;
    let id = validation::require_id("mirror.id", mirror.id)?;
    let mask = update_mask(request.update_mask.as_ref())?;
    let overrides = mirror.overrides.unwrap_or_default();
    // An empty mask means "every field set to a non-default value".
    let wants = |field: &str| match &mask {
        Some(paths) => paths.iter().any(|p| p == field),
        None => match field {
            "enabled" => mirror.enabled,
            "overrides.mirror_overwrite_diverged" => overrides.mirror_overwrite_diverged.is_some(),
            "overrides.mirror_trigger_builds" => overrides.mirror_trigger_builds.is_some(),
            "overrides.only_mirror_protected_branches" => {
                overrides.only_mirror_protected_branches.is_some()
            }
            "overrides.mirror_branch_regex" => overrides.mirror_branch_regex.is_some(),
            _ => false,
        },
    };
    let fields: Vec<&str> = UPDATABLE_FIELDS
        .iter()
        .copied()
        .filter(|field| wants(field))
        .collect();
    if fields.is_empty() {
        return Err(ApiError::invalid_field(
            "update_mask",
            "names no field, and the request sets none to a non-default value",
        ));
    }

    let mut changes = MirrorChanges::default();
    let mut violations = Violations::default();
    for field in &fields {
        match *field {
            "enabled" => changes.enabled = Some(mirror.enabled),
            "overrides.mirror_overwrite_diverged" => {
                changes.mirror_overwrite_diverged = Some(overrides.mirror_overwrite_diverged);
            }
            "overrides.mirror_trigger_builds" => {
                changes.mirror_trigger_builds = Some(overrides.mirror_trigger_builds);
            }
            "overrides.only_mirror_protected_branches" => {
                changes.only_mirror_protected_branches =
                    Some(overrides.only_mirror_protected_branches);
            }
            "overrides.mirror_branch_regex" => {
                changes.mirror_branch_regex = violations.check(validation::branch_regex(
                    "mirror.overrides.mirror_branch_regex",
                    overrides.mirror_branch_regex.as_deref(),
                ));
            }
            _ => {}
        }
    }
    violations.finish()?;

    let current = load_mirror(ctx, id).await?;
    if matches!(
        current.lifecycle,
        MirrorLifecycle::Creating | MirrorLifecycle::Deleting
    ) {
        return Err(ApiError::failed_precondition(format!(
            "mirror {id} is {}; change it once its job has finished",
            current.lifecycle.as_str()
        )));
    }
    let updated = ctx
        .storage()
        .update_mirror(id, &changes)
        .await
        .map_err(storage_failure)?
        .ok_or_else(|| ApiError::not_found(format!("mirror {id} not found")))?;
    let gitlab_relevant =
        updated.overrides != current.overrides || updated.enabled != current.enabled;
    let job = if gitlab_relevant && current.lifecycle == MirrorLifecycle::Ready {
        let mut new_job = one_item_job(
            &requester,
            &updated,
            job::MIRROR_UPDATE,
            task::MIRROR_UPDATE,
        );
        new_job.params = json!({ "fields": fields });
        Some(jobs::create(ctx, &new_job).await?.job)
    } else {
        None
    };
    tracing::info!(mirror_id = id, by = %requester.username(), "mirror updated");
    Ok(v1::UpdateMirrorResponse {
        mirror: Some(with_pair(ctx, &updated).await?),
        job: job.as_ref().map(jobs::job_message),
    })
}

/// A job of `kind` with one queued `task` item for `mirror`.
fn one_item_job(
    requester: &Requester,
    mirror: &Mirror,
    kind: &str,
    task: &str,
) -> mm_storage::NewJob {
    let mut new_job = requester.job(kind);
    new_job.pair_id = Some(mirror.pair_id);
    new_job.mirror_id = Some(mirror.id);
    new_job.items = vec![NewJobItem::for_mirror(
        mirror.id,
        convert::label(&mirror.source_project_path, &mirror.target_project_path),
        task,
    )];
    new_job
}

pub(super) async fn delete<T>(
    ctx: &ApiContext,
    request: &Request<T>,
    id: i64,
) -> Result<v1::Job, ApiError> {
    let requester = Requester::of(request)?;
    let id = validation::require_id("id", id)?;
    let mirror = load_mirror(ctx, id).await?;
    if mirror.lifecycle == MirrorLifecycle::Deleting {
        return Err(ApiError::failed_precondition(format!(
            "mirror {id} is already being deleted"
        )));
    }
    let mut new_job = one_item_job(&requester, &mirror, job::MIRROR_DELETE, task::MIRROR_DELETE);
    new_job.mark_deleting = vec![id];
    let created = jobs::create(ctx, &new_job).await?;
    Ok(jobs::job_message(&created.job))
}

/// The one-item jobs about an existing mirror.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Action {
    Sync,
    RotateToken,
    RefreshStatus,
    Verify,
}

impl Action {
    fn kinds(self) -> (&'static str, &'static str) {
        match self {
            Action::Sync => (job::MIRROR_SYNC, task::MIRROR_SYNC),
            Action::RotateToken => (job::MIRROR_ROTATE_TOKEN, task::MIRROR_ROTATE_TOKEN),
            Action::RefreshStatus => (job::MIRROR_REFRESH_STATUS, task::MIRROR_REFRESH_STATUS),
            Action::Verify => (job::MIRROR_VERIFY, task::MIRROR_VERIFY),
        }
    }

    /// Why the action cannot run on `mirror` now, if it cannot.
    fn refusal(self, mirror: &Mirror) -> Option<String> {
        let lifecycle = mirror.lifecycle;
        let allowed = match self {
            Action::Verify => matches!(
                lifecycle,
                MirrorLifecycle::Ready | MirrorLifecycle::CreateFailed
            ),
            _ => lifecycle == MirrorLifecycle::Ready,
        };
        if !allowed {
            return Some(format!(
                "mirror {} is {}; only a ready mirror{} can be {}",
                mirror.id,
                lifecycle.as_str(),
                if self == Action::Verify {
                    " or one whose creation failed"
                } else {
                    ""
                },
                match self {
                    Action::Sync => "synced",
                    Action::RotateToken => "given a new token",
                    Action::RefreshStatus => "refreshed",
                    Action::Verify => "verified",
                }
            ));
        }
        if self == Action::Sync && !mirror.enabled {
            return Some(format!(
                "mirror {} is disabled; enable it before syncing",
                mirror.id
            ));
        }
        None
    }
}

pub(super) async fn single<T>(
    ctx: &ApiContext,
    request: &Request<T>,
    id: i64,
    action: Action,
) -> Result<v1::Job, ApiError> {
    let requester = Requester::of(request)?;
    let id = validation::require_id("id", id)?;
    let mirror = load_mirror(ctx, id).await?;
    if let Some(reason) = action.refusal(&mirror) {
        return Err(ApiError::failed_precondition(reason));
    }
    let (kind, task) = action.kinds();
    if action == Action::RotateToken {
        let running = jobs::unfinished(
            ctx,
            JobFilter {
                kind: Some(kind.to_owned()),
                mirror_id: Some(id),
                ..JobFilter::default()
            },
        )
        .await?;
        if let Some(other) = running.first() {
            return Err(ApiError::failed_precondition(format!(
                "job {} is already rotating the token of mirror {id}",
                other.id
            )));
        }
    }
    let created = jobs::create(ctx, &one_item_job(&requester, &mirror, kind, task)).await?;
    Ok(jobs::job_message(&created.job))
}
