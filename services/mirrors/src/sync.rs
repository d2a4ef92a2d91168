//! `mirror.sync` (trigger an update, re-enabling a mirror GitLab switched off) and
//! `mirror.refresh_status` (read the status into the row).

use mm_gitlab::{GitLabClient, GitLabError, UpdateRemoteMirror};
use mm_storage::MirrorLifecycle;
use serde_json::{Value, json};

use crate::context::MirrorsContext;
use crate::item::{Done, OpError, OpResult, Run};
use crate::remote::{Observed, pull_config};
use crate::scope::Scope;
use crate::tokens::gitlab_id;

/// GitLab's answer to a trigger.
#[derive(Debug, Clone, Default)]
pub(crate) struct Triggered {
    /// GitLab accepted the request (it may still be a no-op while an update runs).
    pub triggered: bool,
    /// `already_syncing`, `rate_limited`, `paused_reset`.
    pub note: Option<&'static str>,
    /// For the item's warnings.
    pub warning: Option<String>,
}

impl Triggered {
    fn to_json(&self) -> Value {
        json!({"triggered": self.triggered, "note": self.note})
    }
}

/// Triggers an update of the mirror in GitLab. GitLab's "already running" answers are
/// success; a 429 that outlasted the client's retries is success with a warning (GitLab
/// keeps updating the mirror on its own schedule).
pub(crate) async fn trigger_update(
    ctx: &MirrorsContext,
    scope: &Scope,
    client: &GitLabClient,
) -> OpResult<Triggered> {
    let project = scope
        .owner_project_id()
        .ok_or_else(|| OpError::failed("the mirror's projects were never looked up"))?;
    let result = if scope.is_push() {
        let mid = scope
            .mirror
            .gitlab_mirror_id
            .ok_or_else(|| OpError::failed("no GitLab push mirror is recorded for this mirror"))?;
        client
            .sync_remote_mirror(gitlab_id(project), gitlab_id(mid))
            .await
            .map(|()| true)
    } else {
        match client.start_pull_mirror(gitlab_id(project)).await {
            Err(e) if is_paused(&e) => {
                // GitLab paused the pull mirror after repeated failures. Configuring it again
                // (same settings, current token) resets the failure count where GitLab allows.
                let token = scope.mirror_token(ctx)?.ok_or_else(|| {
                    OpError::failed("no token is recorded for this mirror; rotate the token")
                })?;
                let config = pull_config(scope, &token, &scope.effective())?;
                client
                    .configure_pull_mirror(gitlab_id(project), &config)
                    .await
                    .map_err(|e| OpError::gitlab("re-enabling the paused pull mirror", e))?;
                match client.start_pull_mirror(gitlab_id(project)).await {
                    Err(e) if is_paused(&e) => {
                        return Err(OpError::failed(format!(
                            "GitLab paused this pull mirror after repeated failures ({}) and \
                             does not let the API resume it; fix the cause (see last_error), \
                             then resume it in GitLab under Settings › Repository › Mirroring",
                            e.gitlab_message().unwrap_or("on pause")
                        )));
                    }
                    other => {
                        return answer(other, scope).map(|mut t| {
                            t.note = t.note.or(Some("paused_reset"));
                            t
                        });
                    }
                }
            }
            other => other,
        }
    };
    answer(result, scope)
}

fn answer(result: Result<bool, GitLabError>, scope: &Scope) -> OpResult<Triggered> {
    match result {
        Ok(true) => Ok(Triggered {
            triggered: true,
            ..Default::default()
        }),
        // The [BUG] of the earlier product: this used to be reported as success.
        Ok(false) => Err(OpError::failed(format!(
            "GitLab says project {} is not pull-mirrored; verify the mirror or create it again",
            scope.mirror.target_project_path
        ))),
        Err(GitLabError::RateLimited { retry_after, .. }) => Ok(Triggered {
            triggered: false,
            note: Some("rate_limited"),
            warning: Some(format!(
                "GitLab rate-limited the trigger{}; the mirror still updates on GitLab's schedule",
                retry_after
                    .map(|d| format!(" (retry after {}s)", d.as_secs()))
                    .unwrap_or_default()
            )),
        }),
        Err(e) => Err(OpError::gitlab("triggering the update", e)),
    }
}

fn is_paused(e: &GitLabError) -> bool {
    matches!(e, GitLabError::Forbidden { message, .. } if message.to_ascii_lowercase().contains("pause"))
}

/// Trigger used right after creation: result JSON for the item.
pub(crate) async fn trigger(
    ctx: &MirrorsContext,
    scope: &Scope,
    client: &GitLabClient,
) -> OpResult<Value> {
    let t = trigger_update(ctx, scope, client).await?;
    Ok(t.to_json())
}

/// Turns a mirror GitLab disabled back on, with the row's settings.
async fn re_enable(ctx: &MirrorsContext, scope: &Scope, client: &GitLabClient) -> OpResult {
    let project = scope
        .owner_project_id()
        .ok_or_else(|| OpError::failed("the mirror's projects were never looked up"))?;
    if scope.is_push() {
        let mid = scope.mirror.gitlab_mirror_id.unwrap_or_default();
        let update = UpdateRemoteMirror {
            enabled: Some(true),
            ..Default::default()
        };
        client
            .update_remote_mirror(gitlab_id(project), gitlab_id(mid), &update)
            .await
            .map_err(|e| OpError::gitlab("re-enabling the push mirror", e))?;
    } else {
        let token = scope.mirror_token(ctx)?.ok_or_else(|| {
            OpError::failed("no token is recorded for this mirror; rotate the token")
        })?;
        let config = pull_config(scope, &token, &scope.effective())?;
        client
            .configure_pull_mirror(gitlab_id(project), &config)
            .await
            .map_err(|e| OpError::gitlab("re-enabling the pull mirror", e))?;
    }
    Ok(())
}

/// Whether the mirror is in a state where GitLab has something to act on; otherwise the item
/// is skipped with a note.
fn skip_reason(scope: &Scope) -> Option<String> {
    match scope.mirror.lifecycle {
        MirrorLifecycle::Ready => None,
        other => Some(format!(
            "the mirror is not set up in GitLab (lifecycle {})",
            other.as_str()
        )),
    }
}

pub(crate) async fn run_sync(ctx: &MirrorsContext, run: &mut Run) -> OpResult<Done> {
    let mirror_id = run.payload_id("mirror_id")?;
    let Some(scope) = Scope::load(ctx, mirror_id).await? else {
        run.set("note", "the mirror no longer exists");
        return Ok(Done::Skipped);
    };
    if !scope.mirror.enabled {
        run.set("note", "the mirror is disabled");
        return Ok(Done::Skipped);
    }
    if let Some(reason) = skip_reason(&scope) {
        run.set("note", reason);
        return Ok(Done::Skipped);
    }
    let client = scope.owner_client(ctx)?;
    let before = Observed::read(&scope, &client).await?.ok_or_else(|| {
        OpError::failed("GitLab has no mirror for this row; verify it or create it again")
    })?;
    run.set("gitlab_before", before.to_json());
    let mut re_enabled = false;
    if !before.enabled() {
        re_enable(ctx, &scope, &client).await?;
        re_enabled = true;
        run.warn(format!(
            "GitLab had disabled the mirror (last error: {}); re-enabled it",
            before
                .status_update()
                .last_error
                .as_deref()
                .unwrap_or("none")
        ));
    }
    run.set("re_enabled", re_enabled);
    let already = before.is_syncing();
    let mut answer = trigger_update(ctx, &scope, &client).await?;
    if already && answer.note.is_none() {
        answer.note = Some("already_syncing");
    }
    if let Some(w) = answer.warning.take() {
        run.warn(w);
    }
    run.set("triggered", answer.triggered);
    run.set("note", answer.note);
    if !ctx.settings.sync_status_wait.is_zero() {
        tokio::time::sleep(ctx.settings.sync_status_wait).await;
    }
    // The status right after the trigger; failing to read it does not undo the trigger.
    match Observed::read(&scope, &client).await {
        Ok(Some(after)) => {
            ctx.storage
                .record_mirror_status(scope.id(), &after.status_update())
                .await?;
            run.set("gitlab_after", after.to_json());
        }
        Ok(None) => run.warn("the mirror disappeared from GitLab right after the trigger"),
        Err(e) => run.warn(format!("could not read the status back: {}", e.message())),
    }
    Ok(Done::Succeeded)
}

pub(crate) async fn run_refresh(ctx: &MirrorsContext, run: &mut Run) -> OpResult<Done> {
    let mirror_id = run.payload_id("mirror_id")?;
    let Some(scope) = Scope::load(ctx, mirror_id).await? else {
        run.set("note", "the mirror no longer exists");
        return Ok(Done::Skipped);
    };
    if let Some(reason) = skip_reason(&scope) {
        run.set("note", reason);
        return Ok(Done::Skipped);
    }
    let client = scope.owner_client(ctx)?;
    let observed = Observed::read(&scope, &client).await?.ok_or_else(|| {
        OpError::failed("GitLab has no mirror for this row (verify reports it as not_created)")
    })?;
    let status = observed.status_update();
    if !ctx
        .storage
        .record_mirror_status(scope.id(), &status)
        .await?
    {
        run.set("note", "the mirror no longer exists");
        return Ok(Done::Skipped);
    }
    if !observed.enabled() && scope.mirror.enabled {
        run.warn("GitLab reports the mirror disabled; a sync re-enables it");
    }
    run.set("gitlab_enabled", observed.enabled());
    run.set("update_status", status.last_update_status.clone());
    run.set("gitlab", observed.to_json());
    Ok(Done::Succeeded)
}
