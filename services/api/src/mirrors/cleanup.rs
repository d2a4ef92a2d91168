//! Removing pairs and instances that have mirrors: a job removes every mirror (and its token)
//! from GitLab, then its final item removes the pair or the instance. The final item is
//! queued with the others; its handler waits until they have finished.

use mm_common::ApiError;
use mm_mirrors::kinds::{job, task};
use mm_storage::{
    Instance, ItemMirror, ItemState, JobFilter, Mirror, NewJob, NewJobItem, Pair, PairFilter,
};
use serde_json::json;

use super::{convert, storage_failure};
use crate::{
    ApiContext,
    jobs::{self, Requester},
};

/// FailedPrecondition when a queued or running job is removing `pair` (its `pair.delete`, or
/// the `instance.delete` of one of its instances).
pub(super) async fn ensure_not_being_removed(
    ctx: &ApiContext,
    pair: &Pair,
) -> Result<(), ApiError> {
    let pair_jobs = jobs::unfinished(
        ctx,
        JobFilter {
            kind: Some(job::PAIR_DELETE.to_owned()),
            pair_id: Some(pair.id),
            ..JobFilter::default()
        },
    )
    .await?;
    if let Some(other) = pair_jobs.first() {
        return Err(ApiError::failed_precondition(format!(
            "pair {} is being deleted by job {}",
            pair.id, other.id
        )));
    }
    let instance_jobs = jobs::unfinished(
        ctx,
        JobFilter {
            kind: Some(job::INSTANCE_DELETE.to_owned()),
            ..JobFilter::default()
        },
    )
    .await?;
    if let Some(other) = instance_jobs.iter().find(|other| {
        other.instance_id == Some(pair.source_instance_id)
            || other.instance_id == Some(pair.target_instance_id)
    }) {
        return Err(ApiError::failed_precondition(format!(
            "an instance of pair {} is being deleted by job {}",
            pair.id, other.id
        )));
    }
    Ok(())
}

/// A queued `mirror.delete` item per mirror.
fn mirror_delete_items(mirrors: &[Mirror]) -> Vec<NewJobItem> {
    mirrors
        .iter()
        .map(|mirror| {
            NewJobItem::for_mirror(
                mirror.id,
                convert::label(&mirror.source_project_path, &mirror.target_project_path),
                task::MIRROR_DELETE,
            )
        })
        .collect()
}

fn final_item(label: String, task_kind: &str, payload: serde_json::Value) -> NewJobItem {
    NewJobItem {
        mirror: ItemMirror::None,
        label,
        task_kind: task_kind.to_owned(),
        payload,
        state: ItemState::Queued,
        error: None,
    }
}

/// Every mirror of a pair, in id order.
pub(crate) async fn pair_mirrors(ctx: &ApiContext, pair_id: i64) -> Result<Vec<Mirror>, ApiError> {
    ctx.storage()
        .pair_mirrors(pair_id)
        .await
        .map_err(storage_failure)
}

/// Starts the `pair.delete` job of a pair that has `mirrors`.
pub(crate) async fn delete_pair_job(
    ctx: &ApiContext,
    requester: &Requester,
    pair: &Pair,
    mirrors: &[Mirror],
) -> Result<mm_storage::Job, ApiError> {
    let running = jobs::unfinished(
        ctx,
        JobFilter {
            kind: Some(job::PAIR_DELETE.to_owned()),
            pair_id: Some(pair.id),
            ..JobFilter::default()
        },
    )
    .await?;
    if let Some(other) = running.first() {
        return Err(ApiError::failed_precondition(format!(
            "pair {} is already being deleted by job {}",
            pair.id, other.id
        )));
    }
    let mut new_job: NewJob = requester.job(job::PAIR_DELETE);
    new_job.pair_id = Some(pair.id);
    new_job.params = json!({ "pair_name": pair.name, "mirror_count": mirrors.len() });
    new_job.items = mirror_delete_items(mirrors);
    new_job.items.push(final_item(
        format!("pair {}", pair.name),
        task::PAIR_REMOVE,
        json!({ "pair_id": pair.id }),
    ));
    new_job.mark_deleting = mirrors.iter().map(|mirror| mirror.id).collect();
    Ok(jobs::create(ctx, &new_job).await?.job)
}

/// Every pair using `instance_id` as source or target.
pub(crate) async fn instance_pairs(
    ctx: &ApiContext,
    instance_id: i64,
) -> Result<Vec<Pair>, ApiError> {
    let mut pairs = Vec::new();
    for filter in [
        PairFilter {
            source_instance_id: Some(instance_id),
            ..PairFilter::default()
        },
        PairFilter {
            target_instance_id: Some(instance_id),
            ..PairFilter::default()
        },
    ] {
        let mut params = mm_storage::ListParams {
            limit: 200,
            ..mm_storage::ListParams::default()
        };
        loop {
            let page = ctx
                .storage()
                .list_pairs(&filter, &params)
                .await
                .map_err(storage_failure)?;
            pairs.extend(page.items);
            match page.next {
                Some(next) => params.after = Some(next),
                None => break,
            }
        }
    }
    pairs.sort_by_key(|pair| pair.id);
    pairs.dedup_by_key(|pair| pair.id);
    Ok(pairs)
}

/// Starts the `instance.delete` job of an instance whose pairs have `mirrors`.
pub(crate) async fn delete_instance_job(
    ctx: &ApiContext,
    requester: &Requester,
    instance: &Instance,
    pair_count: usize,
    mirrors: &[Mirror],
) -> Result<mm_storage::Job, ApiError> {
    let running = jobs::unfinished(
        ctx,
        JobFilter {
            kind: Some(job::INSTANCE_DELETE.to_owned()),
            ..JobFilter::default()
        },
    )
    .await?;
    if let Some(other) = running
        .iter()
        .find(|other| other.instance_id == Some(instance.id))
    {
        return Err(ApiError::failed_precondition(format!(
            "instance {} is already being deleted by job {}",
            instance.id, other.id
        )));
    }
    let mut new_job = requester.job(job::INSTANCE_DELETE);
    new_job.instance_id = Some(instance.id);
    new_job.params = json!({
        "instance_name": instance.name,
        "pair_count": pair_count,
        "mirror_count": mirrors.len(),
    });
    new_job.items = mirror_delete_items(mirrors);
    new_job.items.push(final_item(
        format!("instance {}", instance.name),
        task::INSTANCE_REMOVE,
        json!({ "instance_id": instance.id }),
    ));
    new_job.mark_deleting = mirrors.iter().map(|mirror| mirror.id).collect();
    Ok(jobs::create(ctx, &new_job).await?.job)
}
