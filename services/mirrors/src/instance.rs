//! `instance.verify`, and the final steps of `pair.delete` / `instance.delete` jobs.

use mm_gitlab::GitLabError;
use mm_storage::{DeleteInstanceOutcome, InstanceVerification, ItemState, Window};

use crate::context::MirrorsContext;
use crate::item::{Done, OpError, OpResult, Run};

pub(crate) async fn verify(ctx: &MirrorsContext, run: &mut Run) -> OpResult<Done> {
    let instance_id = run.payload_id("instance_id")?;
    let Some(instance) = ctx.storage.get_instance(instance_id).await? else {
        run.set("note", "the instance no longer exists");
        return Ok(Done::Skipped);
    };
    let client = ctx.clients.client(&instance)?;
    let user = client.current_user().await.map_err(|e| match &e {
        GitLabError::Unauthorized { .. } => OpError::failed(format!(
            "GitLab at {} rejected the instance token (401 Unauthorized): it is wrong, expired \
             or revoked; update the instance's token",
            instance.url
        )),
        GitLabError::Forbidden { message, .. } => OpError::failed(format!(
            "GitLab at {} refused the instance token (403 {message}): it needs the api scope",
            instance.url
        )),
        _ => OpError::gitlab(format!("checking the token of {}", instance.name), e),
    })?;
    let metadata = client
        .metadata()
        .await
        .map_err(|e| OpError::gitlab(format!("reading the version of {}", instance.name), e))?;
    let edition = if metadata.is_enterprise() {
        "Enterprise"
    } else {
        "Community"
    };
    let verification = InstanceVerification {
        token_user_id: i64::try_from(user.id).ok(),
        token_username: Some(user.username.clone()),
        gitlab_version: Some(metadata.version.clone()),
        gitlab_edition: Some(edition.to_owned()),
    };
    if !ctx
        .storage
        .record_instance_verification(instance_id, &verification)
        .await?
    {
        run.set("note", "the instance no longer exists");
        return Ok(Done::Skipped);
    }
    if user.is_admin != Some(true) {
        run.set("admin", false);
    }
    run.set("token_user_id", user.id);
    run.set("token_username", user.username);
    run.set("gitlab_version", metadata.version);
    run.set("gitlab_edition", edition);
    Ok(Done::Succeeded)
}

/// Items of the job still to run, other than this one.
async fn pending_siblings(ctx: &MirrorsContext, run: &Run) -> OpResult<i64> {
    let Some(job_id) = run.job_id else {
        return Ok(0);
    };
    let window = Window {
        offset: 0,
        limit: 1,
    };
    let mut pending = 0;
    for state in [ItemState::Queued, ItemState::Running] {
        pending += ctx
            .storage
            .list_job_items(job_id, Some(state), window)
            .await?
            .total;
    }
    if let Some(item_id) = run.item_id
        && let Some(item) = ctx.storage.get_job_item(item_id).await?
        && !item.state.is_finished()
    {
        pending -= 1;
    }
    Ok(pending.max(0))
}

/// Before the final step starts: wait until the job's mirror cleanups have ended.
pub(crate) async fn wait_for_cleanups(ctx: &MirrorsContext, run: &Run) -> OpResult {
    let pending = pending_siblings(ctx, run).await?;
    if pending > 0 {
        return Err(OpError::Deferred {
            message: format!("waiting for {pending} mirror cleanups"),
            after: ctx.settings.remove_defer,
        });
    }
    Ok(())
}

/// Warns about the job's mirror cleanups that failed (their GitLab side may remain).
async fn note_failed_cleanups(ctx: &MirrorsContext, run: &mut Run) -> OpResult {
    let Some(job_id) = run.job_id else {
        return Ok(());
    };
    let failed = ctx
        .storage
        .list_job_items(
            job_id,
            Some(ItemState::Failed),
            Window {
                offset: 0,
                limit: 1,
            },
        )
        .await?
        .total;
    if failed > 0 {
        run.warn(format!(
            "{failed} mirror cleanup(s) of this job failed; their GitLab mirrors or tokens may remain"
        ));
    }
    Ok(())
}

pub(crate) async fn remove_pair(ctx: &MirrorsContext, run: &mut Run) -> OpResult<Done> {
    let pair_id = run.payload_id("pair_id")?;
    note_failed_cleanups(ctx, run).await?;
    match ctx.storage.delete_pair(pair_id).await? {
        Some(mirrors) => {
            run.set("deleted_mirrors", mirrors);
            Ok(Done::Succeeded)
        }
        None => {
            run.set("note", "the pair was already deleted");
            Ok(Done::Succeeded)
        }
    }
}

pub(crate) async fn remove_instance(ctx: &MirrorsContext, run: &mut Run) -> OpResult<Done> {
    let instance_id = run.payload_id("instance_id")?;
    note_failed_cleanups(ctx, run).await?;
    match ctx.storage.delete_instance(instance_id, true).await? {
        DeleteInstanceOutcome::Deleted {
            deleted_pairs,
            deleted_mirrors,
        } => {
            ctx.clients.forget(instance_id);
            run.set("deleted_pairs", deleted_pairs);
            run.set("deleted_mirrors", deleted_mirrors);
        }
        DeleteInstanceOutcome::NotFound => run.set("note", "the instance was already deleted"),
        DeleteInstanceOutcome::InUse { pair_count } => {
            return Err(OpError::failed(format!(
                "the instance is still used by {pair_count} pair(s)"
            )));
        }
    }
    Ok(Done::Succeeded)
}
