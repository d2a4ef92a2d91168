//! `ExportPairMirrors` and `ImportPairMirrors`: the portable format of a pair's mirrors
//! (paths, overrides and `enabled`; no ids, tokens or GitLab state).
//!
//! An import plans every entry first: `create`, or `skip` with a reason (invalid path or
//! regex, duplicate of an earlier entry of the file, already mirrored in the pair). A dry run
//! returns the plan and writes nothing. Otherwise one `pair.import` job holds a
//! `mirror.create` item per created mirror (the mirror rows are recorded with the job, in
//! lifecycle `creating`) and an already-`skipped` item per skipped entry, with the reason as
//! its error.

use std::collections::HashMap;

use chrono::Utc;
use mm_common::ApiError;
use mm_mirrors::kinds::{job, task};
use mm_proto::v1;
use mm_storage::{ItemMirror, ItemState, MirrorDirection, MirrorLifecycle, NewJobItem, NewMirror};
use serde_json::json;
use tonic::Request;

use super::{
    cleanup::{ensure_not_being_removed, pair_mirrors},
    convert, estimated_seconds, load_pair, storage_failure, validation as mv,
};
use crate::{
    ApiContext,
    convert::timestamp,
    jobs::{self, Requester},
    validation,
};

/// Most entries one import request may carry.
pub(crate) const MAX_IMPORT_ENTRIES: usize = 10_000;

/// GitLab requests one mirror creation makes on the project that holds the mirror (source
/// for push, target for pull): look it up, list its mirrors to find conflicts, create the
/// mirror, start its first update.
const CREATE_CALLS_ON_MIRROR_SIDE: i64 = 4;
/// ... and on the other project, where the token lives: look it up, list its tokens (to find
/// one an earlier attempt made), create the token.
const CREATE_CALLS_ON_TOKEN_SIDE: i64 = 3;

/// `(all calls, calls on the busiest instance)` of creating `count` mirrors in `pair`. Each
/// instance has its own budget, so the busiest one sets the duration.
fn creation_calls(pair: &mm_storage::Pair, count: i64) -> (i64, i64) {
    let all = count * (CREATE_CALLS_ON_MIRROR_SIDE + CREATE_CALLS_ON_TOKEN_SIDE);
    let busiest = if pair.source_instance_id == pair.target_instance_id {
        all
    } else {
        count * CREATE_CALLS_ON_MIRROR_SIDE.max(CREATE_CALLS_ON_TOKEN_SIDE)
    };
    (all, busiest)
}

pub(super) async fn export(
    ctx: &ApiContext,
    pair_id: i64,
) -> Result<v1::ExportPairMirrorsResponse, ApiError> {
    let pair_id = validation::require_id("pair_id", pair_id)?;
    let pair = load_pair(ctx, "pair_id", pair_id).await?;
    let instance_url = |id: i64| async move {
        ctx.storage()
            .get_instance(id)
            .await
            .map_err(storage_failure)
            .map(|instance| instance.map(|instance| instance.url).unwrap_or_default())
    };
    let source_instance_url = instance_url(pair.source_instance_id).await?;
    let target_instance_url = instance_url(pair.target_instance_id).await?;
    let mirrors = pair_mirrors(ctx, pair_id).await?;
    Ok(v1::ExportPairMirrorsResponse {
        pair_name: pair.name.clone(),
        source_instance_url,
        target_instance_url,
        mirror_direction: match pair.mirror_direction {
            MirrorDirection::Push => "push",
            MirrorDirection::Pull => "pull",
        }
        .to_owned(),
        mirrors: mirrors
            .iter()
            .filter(|mirror| mirror.lifecycle != MirrorLifecycle::Deleting)
            .map(|mirror| v1::ExportedMirror {
                source_project_path: mirror.source_project_path.clone(),
                target_project_path: mirror.target_project_path.clone(),
                mirror_overwrite_diverged: mirror.overrides.mirror_overwrite_diverged,
                mirror_trigger_builds: mirror.overrides.mirror_trigger_builds,
                only_mirror_protected_branches: mirror.overrides.only_mirror_protected_branches,
                mirror_branch_regex: mirror.overrides.mirror_branch_regex.clone(),
                enabled: Some(mirror.enabled),
                last_update_status: mirror.last_update_status.clone().unwrap_or_default(),
            })
            .collect(),
        exported_time: Some(timestamp(Utc::now())),
    })
}

/// What to do with one entry.
enum Planned {
    Create(NewMirror),
    Skip(String),
}

/// The plan of an import into `pair_id`, whose mirrors have the paths in `existing`.
fn plan(
    pair_id: i64,
    entries: &[v1::ExportedMirror],
    existing: &HashMap<(String, String), i64>,
) -> Vec<(String, String, Planned)> {
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    entries
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            let number = index + 1;
            let source = entry.source_project_path.trim().to_owned();
            let target = entry.target_project_path.trim().to_owned();
            let planned = plan_entry(pair_id, entry, number, existing, &mut seen);
            (source, target, planned)
        })
        .collect()
}

fn plan_entry(
    pair_id: i64,
    entry: &v1::ExportedMirror,
    number: usize,
    existing: &HashMap<(String, String), i64>,
    seen: &mut HashMap<(String, String), usize>,
) -> Planned {
    let checked = (
        mv::project_path("source_project_path", &entry.source_project_path),
        mv::project_path("target_project_path", &entry.target_project_path),
        validation::branch_regex("mirror_branch_regex", entry.mirror_branch_regex.as_deref()),
    );
    let (source, target, regex) = match checked {
        (Ok(source), Ok(target), Ok(regex)) => (source, target, regex),
        (Err(violation), _, _) | (_, Err(violation), _) | (_, _, Err(violation)) => {
            return Planned::Skip(format!(
                "invalid {}: {}",
                violation.field, violation.description
            ));
        }
    };
    let key = (source.clone(), target.clone());
    if let Some(mirror_id) = existing.get(&key) {
        return Planned::Skip(format!("already in the pair (mirror {mirror_id})"));
    }
    if let Some(first) = seen.get(&key) {
        return Planned::Skip(format!("duplicate of entry {first} of the file"));
    }
    seen.insert(key, number);
    Planned::Create(NewMirror {
        pair_id,
        source_project_id: None,
        source_project_path: source,
        target_project_id: None,
        target_project_path: target,
        overrides: mm_storage::MirrorOverrides {
            mirror_overwrite_diverged: entry.mirror_overwrite_diverged,
            mirror_trigger_builds: entry.mirror_trigger_builds,
            only_mirror_protected_branches: entry.only_mirror_protected_branches,
            mirror_branch_regex: regex,
        },
        enabled: entry.enabled.unwrap_or(true),
    })
}

pub(super) async fn import(
    ctx: &ApiContext,
    request: Request<v1::ImportPairMirrorsRequest>,
) -> Result<v1::ImportPairMirrorsResponse, ApiError> {
    let requester = Requester::of(&request)?;
    let request = request.into_inner();
    let pair_id = validation::require_id("pair_id", request.pair_id)?;
    if request.mirrors.is_empty() {
        return Err(ApiError::invalid_field("mirrors", "must not be empty"));
    }
    if request.mirrors.len() > MAX_IMPORT_ENTRIES {
        return Err(ApiError::invalid_field(
            "mirrors",
            format!("at most {MAX_IMPORT_ENTRIES} entries per request; split the file"),
        ));
    }
    let pair = load_pair(ctx, "pair_id", pair_id).await?;
    ensure_not_being_removed(ctx, &pair).await?;
    let existing: HashMap<(String, String), i64> = pair_mirrors(ctx, pair_id)
        .await?
        .into_iter()
        .map(|mirror| {
            (
                (mirror.source_project_path, mirror.target_project_path),
                mirror.id,
            )
        })
        .collect();

    let planned = plan(pair_id, &request.mirrors, &existing);
    let mut response = v1::ImportPairMirrorsResponse::default();
    let mut items = Vec::with_capacity(planned.len());
    for (source, target, planned) in planned {
        let label = convert::label(&source, &target);
        let (action, reason, item) = match planned {
            Planned::Create(mirror) => {
                response.create_count += 1;
                let item = NewJobItem {
                    mirror: ItemMirror::New(mirror),
                    label,
                    task_kind: task::MIRROR_CREATE.to_owned(),
                    payload: json!({}),
                    state: ItemState::Queued,
                    error: None,
                };
                ("create", None, item)
            }
            Planned::Skip(reason) => {
                response.skip_count += 1;
                let item = NewJobItem {
                    mirror: ItemMirror::None,
                    label,
                    task_kind: task::MIRROR_CREATE.to_owned(),
                    payload: json!({}),
                    state: ItemState::Skipped,
                    error: Some(reason.clone()),
                };
                ("skip", Some(reason), item)
            }
        };
        response.plan.push(v1::ImportPlanEntry {
            source_project_path: source,
            target_project_path: target,
            action: action.to_owned(),
            reason,
        });
        items.push(item);
    }
    let (all_calls, busiest_calls) = creation_calls(&pair, response.create_count);
    response.gitlab_calls = all_calls;
    response.estimated_seconds = estimated_seconds(ctx, busiest_calls);
    if request.dry_run || response.create_count == 0 {
        return Ok(response);
    }

    let mut new_job = requester.job(job::PAIR_IMPORT);
    new_job.pair_id = Some(pair_id);
    new_job.params = json!({
        "pair_name": pair.name,
        "entries": request.mirrors.len(),
        "create_count": response.create_count,
        "skip_count": response.skip_count,
    });
    new_job.items = items;
    let created = jobs::create(ctx, &new_job).await?;
    response.job = Some(jobs::job_message(&created.job));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(source: &str, target: &str) -> v1::ExportedMirror {
        v1::ExportedMirror {
            source_project_path: source.to_owned(),
            target_project_path: target.to_owned(),
            ..Default::default()
        }
    }

    #[test]
    fn plans_create_and_skip_with_reasons() {
        let existing = HashMap::from([(("a/x".to_owned(), "b/x".to_owned()), 7)]);
        let mut bad_regex = entry("a/r", "b/r");
        bad_regex.mirror_branch_regex = Some("(".into());
        let entries = [
            entry("a/x", "b/x"),
            entry(" a/y ", "b/y"),
            entry("a/y", "b/y"),
            entry("/a/z", "b/z"),
            bad_regex,
            entry("a/y", "b/other"),
        ];
        let planned = plan(1, &entries, &existing);
        let reasons: Vec<Option<String>> = planned
            .iter()
            .map(|(_, _, p)| match p {
                Planned::Create(_) => None,
                Planned::Skip(reason) => Some(reason.clone()),
            })
            .collect();
        assert_eq!(
            reasons[0].as_deref(),
            Some("already in the pair (mirror 7)")
        );
        assert_eq!(reasons[1], None);
        assert_eq!(planned[1].0, "a/y", "paths are trimmed");
        assert_eq!(
            reasons[2].as_deref(),
            Some("duplicate of entry 2 of the file")
        );
        assert!(
            reasons[3]
                .as_deref()
                .unwrap()
                .starts_with("invalid source_project_path")
        );
        assert!(
            reasons[4]
                .as_deref()
                .unwrap()
                .starts_with("invalid mirror_branch_regex")
        );
        assert_eq!(reasons[5], None);
    }
}
