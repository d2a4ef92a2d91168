//! `mirror.delete`: remove the GitLab mirror, then revoke the token, then delete the row.
//!
//! Best effort: what GitLab already lost (404) is fine, and a GitLab refusal that retrying
//! cannot change (401, 403, 400) becomes a warning on the item while the row is still
//! deleted. Transient failures (transport, 5xx, 429) retry the item; when the last attempt
//! still fails, the item fails and the row stays (lifecycle `deleting`) so nothing is
//! forgotten silently.

use mm_gitlab::mask_url_credentials;
use mm_storage::MirrorLifecycle;
use serde_json::json;

use crate::context::MirrorsContext;
use crate::item::{Done, OpError, OpResult, Run};
use crate::remote::{delete_push, pull_active, push_mirrors_to};
use crate::scope::{Scope, same_repo};
use crate::tokens::{self, Revoked, gitlab_id};

pub(crate) async fn run(ctx: &MirrorsContext, run: &mut Run) -> OpResult<Done> {
    let mirror_id = run.payload_id("mirror_id")?;
    match Scope::load(ctx, mirror_id).await {
        Ok(Some(scope)) => cleanup(ctx, run, &scope).await?,
        Ok(None) => {
            run.set("note", "the mirror was already deleted");
            return Ok(Done::Succeeded);
        }
        Err(OpError::Failed(message)) => {
            run.warn(format!("{message}; GitLab was not cleaned up"));
        }
        Err(other) => return Err(other),
    }
    let deleted = ctx.storage.delete_mirror(mirror_id).await?;
    run.set("row_deleted", deleted);
    Ok(Done::Succeeded)
}

/// A GitLab failure during cleanup: transient ones stop the cleanup (the item is retried),
/// others become warnings.
fn tolerate(run: &mut Run, what: &str, error: mm_gitlab::GitLabError) -> OpResult {
    if error.is_retryable() {
        return Err(OpError::gitlab(what, error));
    }
    run.warn(format!("{what} failed; it may remain in GitLab: {error}"));
    Ok(())
}

async fn cleanup(ctx: &MirrorsContext, run: &mut Run, scope: &Scope) -> OpResult {
    // A create interrupted between creating the push mirror and recording its id left a
    // mirror we only know by its URL: look for it when a token is recorded (the create got
    // past its preflight) but no mirror id.
    let unrecorded_mirror = scope.mirror.gitlab_mirror_id.is_none()
        && scope.mirror.lifecycle != MirrorLifecycle::CreateFailed
        && (scope.mirror.gitlab_token_id.is_some()
            || scope.mirror.encrypted_mirror_token.is_some());
    let remote_url = scope.remote_repo_url()?;

    // 1. The mirror.
    let mut removed = vec![];
    if let Some(project) = scope.owner_project_id() {
        match scope.owner_client(ctx) {
            Err(e) => run.warn(format!(
                "{}; the GitLab mirror was not removed",
                e.message()
            )),
            Ok(client) if scope.is_push() => {
                let mut ids: Vec<i64> = scope.mirror.gitlab_mirror_id.into_iter().collect();
                if unrecorded_mirror {
                    match push_mirrors_to(&client, project, &remote_url).await {
                        Ok(found) => ids.extend(found.iter().map(|m| m.id as i64)),
                        Err(e) => tolerate(run, "listing the push mirrors", e)?,
                    }
                }
                for id in ids {
                    match delete_push(&client, project, id).await {
                        Ok(true) => removed.push(id),
                        Ok(false) => run.set("mirror_note", "the push mirror was already gone"),
                        Err(e) => tolerate(run, &format!("removing push mirror {id}"), e)?,
                    }
                }
            }
            Ok(client) => match client.get_pull_mirror(gitlab_id(project)).await {
                Ok(Some(m)) if pull_active(&m) => {
                    let url = m.url.clone().unwrap_or_default();
                    if same_repo(&url, &remote_url) {
                        match client.disable_pull_mirror(gitlab_id(project)).await {
                            Ok(()) => removed.push(project),
                            Err(e) => tolerate(run, "disabling the pull mirror", e)?,
                        }
                    } else {
                        run.warn(format!(
                            "the target's pull mirror now pulls from {}; left alone",
                            mask_url_credentials(&url)
                        ));
                    }
                }
                Ok(_) => run.set("mirror_note", "the pull mirror was already off"),
                Err(e) if e.is_not_found() => {
                    run.set("mirror_note", "the target project no longer exists")
                }
                Err(e) => tolerate(run, "reading the pull mirror", e)?,
            },
        }
    }
    run.set("removed_mirrors", removed);

    // 2. The token (and any leftover of the mirror's token family).
    let Some(project) = scope.token_project_id() else {
        return Ok(());
    };
    let client = match scope.remote_client(ctx) {
        Ok(client) => client,
        Err(e) => {
            run.warn(format!(
                "{}; the mirror's token was not revoked",
                e.message()
            ));
            return Ok(());
        }
    };
    let mut revoked = vec![];
    if let Some(token) = scope.mirror.gitlab_token_id {
        match tokens::revoke(&client, project, token).await {
            Ok(Revoked::Now) => revoked.push(token),
            Ok(Revoked::AlreadyGone) => run.set("token_note", "the token was already revoked"),
            Err(e) => tolerate(run, &format!("revoking token {token}"), e)?,
        }
    }
    let mut warnings = vec![];
    match tokens::revoke_family(ctx, &client, scope.id(), project, None, &mut warnings).await {
        Ok(ids) => revoked.extend(ids),
        Err(e) if e.is_not_found() => {}
        Err(e) => tolerate(run, "looking for leftover tokens", e)?,
    }
    for w in warnings {
        run.warn(w);
    }
    run.set("revoked_tokens", json!(revoked));
    Ok(())
}
