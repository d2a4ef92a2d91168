//! `mirror.create`: look up the projects, preflight, token, mirror; roll back on failure.
//!
//! Order, so that a redelivered or retried item never creates a second token or mirror:
//!
//! 1. Look up both projects by path and record their ids.
//! 2. Preflight (before anything is created): the owning project has no other mirror to the
//!    same repository; pull mirrors need an Enterprise target without a pull mirror.
//! 3. Token on the remote project (push: target, `write_repository`, Maintainer; pull:
//!    source, `read_repository`, Reporter), named `{prefix}-mirror-{id}`. An active token of
//!    that name family is reused when the row holds its ciphertext, otherwise revoked (its
//!    value cannot be read back) and replaced. Recorded at once.
//! 4. The mirror with the effective settings. Push: an existing mirror to the same URL is
//!    ours when an earlier attempt got as far as the token (the preflight ran before it), so
//!    it is adopted when it uses the recorded token, or replaced. Pull: configured with the
//!    token (idempotent).
//! 5. Lifecycle `ready`, then a first sync (best effort).
//!
//! A failure that retrying cannot fix (or the last attempt of one it could) removes what
//! exists in GitLab for this mirror (mirror, then token) and leaves the row `create_failed`
//! — unless the mirror was `ready` already (a redelivery re-checking it), which is left as it
//! is.
//!
//! Push mirrors are created without their branch regex, which is set by a second call:
//! GitLab refuses `only_protected_branches` and `mirror_branch_regex` in one request (Grape
//! `mutually_exclusive` looks at the presence of the keys, not their values).

use mm_gitlab::{GitLabClient, Project, SecretToken};
use mm_storage::{MirrorLifecycle, MirrorProvisioning, StorageError};
use serde_json::json;

use crate::context::MirrorsContext;
use crate::item::{Done, OpError, OpResult, Run};
use crate::remote::{
    apply_push_settings, create_push, delete_push, is_community, pull_active, pull_config,
    push_mirrors_to,
};
use crate::scope::{Effective, Scope};
use crate::sync;
use crate::tokens::{self, gitlab_id};

/// What exists in GitLab for the mirror during this attempt, for the rollback.
#[derive(Debug, Default)]
struct Created {
    /// `(project id, token id)` of the token in use.
    token: Option<(i64, i64)>,
    /// Push mirror in use.
    push_mirror: Option<i64>,
    /// The pull mirror was configured by this attempt.
    pull_configured: bool,
}

/// The token the mirror will use.
struct TokenInUse {
    id: i64,
    name: String,
    secret: SecretToken,
    reused: bool,
}

pub(crate) async fn run(ctx: &MirrorsContext, run: &mut Run) -> OpResult<Done> {
    let mirror_id = run.payload_id("mirror_id")?;
    let Some(mut scope) = Scope::load(ctx, mirror_id).await? else {
        run.set("note", "the mirror no longer exists");
        return Ok(Done::Skipped);
    };
    if scope.mirror.lifecycle == MirrorLifecycle::Deleting {
        run.set("note", "the mirror is being deleted");
        return Ok(Done::Skipped);
    }
    // A redelivery after the mirror was set up re-checks it; a failure then must not tear
    // down a working mirror.
    let was_ready = scope.mirror.lifecycle == MirrorLifecycle::Ready;
    let mut created = Created::default();
    match provision(ctx, run, &mut scope, &mut created).await {
        Ok(done) => Ok(done),
        // The instance is unavailable (breaker open, no budget slot): the item waits without
        // using an attempt, so even a last attempt keeps what it made for the next run.
        Err(error) if error.instance_unavailable_for().is_some() => Err(error),
        Err(error) if error.is_retryable() && !run.task.last_attempt => Err(error),
        Err(error) if was_ready => Err(error),
        Err(error) => {
            rollback(ctx, run, &scope, &created).await;
            let message = error.message();
            let failed = MirrorProvisioning {
                lifecycle: Some(MirrorLifecycle::CreateFailed),
                last_error: Some(Some(message)),
                ..Default::default()
            };
            if let Err(e) = ctx
                .storage
                .record_mirror_provisioning(mirror_id, &failed)
                .await
            {
                run.warn(format!("could not mark the mirror create_failed: {e}"));
            }
            Err(error)
        }
    }
}

async fn provision(
    ctx: &MirrorsContext,
    run: &mut Run,
    scope: &mut Scope,
    created: &mut Created,
) -> OpResult<Done> {
    let source_client = ctx.clients.client(&scope.source)?;
    let target_client = ctx.clients.client(&scope.target)?;

    // 1. Projects.
    let source = lookup(
        &source_client,
        &scope.mirror.source_project_path,
        "source",
        &scope.source.name,
    )
    .await?;
    let target = lookup(
        &target_client,
        &scope.mirror.target_project_path,
        "target",
        &scope.target.name,
    )
    .await?;
    let (source_id, target_id) = (source.id as i64, target.id as i64);
    run.set("source_project_id", source_id);
    run.set("target_project_id", target_id);
    if scope.mirror.source_project_id != Some(source_id)
        || scope.mirror.target_project_id != Some(target_id)
    {
        let ids = MirrorProvisioning {
            source_project_id: Some(source_id),
            target_project_id: Some(target_id),
            ..Default::default()
        };
        match ctx
            .storage
            .record_mirror_provisioning(scope.id(), &ids)
            .await
        {
            Ok(true) => {}
            Ok(false) => return Err(OpError::failed("the mirror was deleted meanwhile")),
            Err(StorageError::AlreadyExists { .. }) => {
                return Err(OpError::failed(format!(
                    "another mirror of pair {} already mirrors project {} to project {}",
                    scope.pair.name, source.path_with_namespace, target.path_with_namespace
                )));
            }
            Err(e) => return Err(e.into()),
        }
        scope.mirror.source_project_id = Some(source_id);
        scope.mirror.target_project_id = Some(target_id);
    }
    // An earlier attempt of this create got as far as the token (the preflight ran before
    // it): whatever points at our URL now is ours. Not after a rollback (`create_failed`):
    // what exists then was made by someone else.
    let prior_attempt = scope.mirror.lifecycle != MirrorLifecycle::CreateFailed
        && (scope.mirror.gitlab_token_id.is_some()
            || scope.mirror.encrypted_mirror_token.is_some()
            || scope.mirror.gitlab_mirror_id.is_some());
    let eff = scope.effective();
    if Effective::regex_dropped(&scope.pair, &scope.mirror) {
        run.warn(
            "only_protected_branches and mirror_branch_regex exclude each other in GitLab; \
             the branch regex is not applied",
        );
    }
    let owner_client = scope.owner_client(ctx)?;
    let remote_client = scope.remote_client(ctx)?;
    let remote_url = scope.remote_repo_url()?;
    let owner_project = scope.owner_project_id().expect("ids recorded above");

    // 2. Preflight.
    let existing_push = if scope.is_push() {
        let existing = push_mirrors_to(&owner_client, owner_project, &remote_url)
            .await
            .map_err(|e| OpError::gitlab("listing the source project's push mirrors", e))?;
        if !existing.is_empty() && !prior_attempt {
            let ids: Vec<String> = existing.iter().map(|m| m.id.to_string()).collect();
            return Err(OpError::failed(format!(
                "project {} already has a push mirror to {remote_url} (GitLab remote mirror {}); \
                 remove it in GitLab first",
                scope.mirror.source_project_path,
                ids.join(", ")
            )));
        }
        if eff.branch_regex.is_some() && is_community(&scope.source) {
            run.warn(format!(
                "{} is GitLab Community Edition: push mirrors ignore mirror_branch_regex there",
                scope.source.name
            ));
        }
        existing
    } else {
        preflight_pull(
            scope,
            &owner_client,
            owner_project,
            &remote_url,
            prior_attempt,
        )
        .await?;
        vec![]
    };

    // 3. Token on the remote project.
    let token_project = if scope.is_push() {
        target_id
    } else {
        source_id
    };
    let token = ensure_token(ctx, run, scope, &remote_client, token_project, created).await?;
    run.set("token_id", token.id);
    run.set("token_name", token.name.clone());
    run.set("token_reused", token.reused);
    if let Some(expiry) = scope.mirror.mirror_token_expire_time {
        run.set("token_expires_at", expiry.format("%Y-%m-%d").to_string());
    }

    // 4. The mirror.
    let mut ready = MirrorProvisioning {
        lifecycle: Some(MirrorLifecycle::Ready),
        last_error: Some(None),
        ..Default::default()
    };
    if scope.is_push() {
        let adopt = if token.reused {
            existing_push
                .iter()
                .find(|m| Some(m.id as i64) == scope.mirror.gitlab_mirror_id)
                .or_else(|| existing_push.first())
                .map(|m| m.id as i64)
        } else {
            None
        };
        // Mirrors to our URL other than the adopted one are ours from interrupted attempts
        // (duplicates, or carrying a token that was just replaced).
        for stale in existing_push
            .iter()
            .map(|m| m.id as i64)
            .filter(|id| Some(*id) != adopt)
        {
            match delete_push(&owner_client, owner_project, stale).await {
                Ok(_) => run.warn(format!(
                    "removed push mirror {stale} left behind by an interrupted attempt"
                )),
                Err(e) if e.is_retryable() => {
                    return Err(OpError::gitlab("removing a stale push mirror", e));
                }
                Err(e) => run.warn(format!("could not remove stale push mirror {stale}: {e}")),
            }
        }
        let community = is_community(&scope.source);
        let gitlab_mirror_id = match adopt {
            Some(id) => {
                created.push_mirror = Some(id);
                apply_push_settings(&owner_client, owner_project, id, &eff, community)
                    .await
                    .map_err(|e| OpError::gitlab("updating the existing push mirror", e))?;
                run.set("mirror_reused", true);
                id
            }
            None => {
                let url = scope.remote_repo_url_with(&token.secret)?;
                let mirror = create_push(
                    &owner_client,
                    owner_project,
                    url,
                    &eff,
                    &mut created.push_mirror,
                )
                .await
                .map_err(|e| {
                    OpError::gitlab(
                        format!("creating the push mirror on {}", scope.source.name),
                        e,
                    )
                })?;
                run.set("mirror_reused", false);
                mirror.id as i64
            }
        };
        run.set("gitlab_mirror_id", gitlab_mirror_id);
        ready.gitlab_mirror_id = Some(gitlab_mirror_id);
    } else {
        let config = pull_config(scope, &token.secret, &eff)?;
        created.pull_configured = true;
        let mirror = owner_client
            .configure_pull_mirror(gitlab_id(owner_project), &config)
            .await
            .map_err(|e| {
                OpError::gitlab(
                    format!("configuring the pull mirror on {}", scope.target.name),
                    e,
                )
            })?;
        if !mirror
            .url
            .as_deref()
            .is_some_and(|u| crate::scope::same_repo(u, &remote_url))
        {
            return Err(OpError::failed(
                "GitLab did not keep the pull mirror's URL (read back differs)",
            ));
        }
    }
    run.set("settings", eff.to_json(scope.direction()));
    if !ctx
        .storage
        .record_mirror_provisioning(scope.id(), &ready)
        .await?
    {
        return Err(OpError::failed("the mirror was deleted meanwhile"));
    }
    scope.mirror.gitlab_mirror_id = ready.gitlab_mirror_id.or(scope.mirror.gitlab_mirror_id);
    scope.mirror.lifecycle = MirrorLifecycle::Ready;

    // 5. First sync.
    if ctx.settings.sync_after_create && eff.enabled {
        match sync::trigger(ctx, scope, &owner_client).await {
            Ok(answer) => {
                run.set("first_sync", answer);
            }
            Err(e) => run.warn(format!("the first sync was not triggered: {}", e.message())),
        }
    }
    Ok(Done::Succeeded)
}

async fn lookup(
    client: &GitLabClient,
    path: &str,
    side: &str,
    instance: &str,
) -> OpResult<Project> {
    client.project(path).await.map_err(|e| {
        if e.is_not_found() {
            OpError::failed(format!(
                "{side} project {path} does not exist on {instance} (or the instance token cannot see it)"
            ))
        } else {
            OpError::gitlab(format!("looking up the {side} project {path} on {instance}"), e)
        }
    })
}

async fn preflight_pull(
    scope: &Scope,
    client: &GitLabClient,
    target_project: i64,
    source_url: &str,
    prior_attempt: bool,
) -> OpResult {
    let not_ee = |detail: String| {
        OpError::failed(format!(
            "pull mirrors need GitLab Premium or Ultimate (Enterprise Edition) on the target; \
             {} {detail}. Use a push pair instead",
            scope.target.name
        ))
    };
    let metadata = client
        .metadata()
        .await
        .map_err(|e| OpError::gitlab(format!("reading the version of {}", scope.target.name), e))?;
    if !metadata.is_enterprise() {
        return Err(not_ee(format!(
            "runs {} (Community Edition)",
            metadata.version
        )));
    }
    let current = match client.get_pull_mirror(gitlab_id(target_project)).await {
        Ok(current) => current,
        // The pull-mirror API does not exist without the licensed feature.
        Err(e) if e.is_not_found() && !e.to_string().contains("Project Not Found") => {
            return Err(not_ee("does not offer the pull-mirror API".to_owned()));
        }
        Err(e) => return Err(OpError::gitlab("reading the target's pull mirror", e)),
    };
    if let Some(current) = current.filter(pull_active) {
        let url = current.url.as_deref().unwrap_or_default();
        let ours = crate::scope::same_repo(url, source_url);
        if !(ours && prior_attempt) {
            return Err(OpError::failed(format!(
                "project {} already has a pull mirror (from {}); GitLab allows only one pull \
                 mirror per project, remove it first",
                scope.mirror.target_project_path,
                mm_gitlab::mask_url_credentials(url)
            )));
        }
    }
    Ok(())
}

/// The token the mirror uses: the recorded one while GitLab still has it, else a new one
/// (recorded at once) after revoking any unreadable token of ours.
async fn ensure_token(
    ctx: &MirrorsContext,
    run: &mut Run,
    scope: &mut Scope,
    client: &GitLabClient,
    project_id: i64,
    created: &mut Created,
) -> OpResult<TokenInUse> {
    let mirror_id = scope.id();
    let ours = tokens::active_tokens(client, project_id, |name| {
        ctx.settings.is_token_family(mirror_id, name)
    })
    .await
    .map_err(|e| OpError::gitlab("listing the project's access tokens", e))?;
    let recorded = match scope.mirror_token(ctx) {
        Ok(secret) => secret,
        Err(e) => {
            run.warn(e.message());
            None
        }
    };
    let reusable = match (scope.mirror.gitlab_token_id, recorded) {
        (Some(id), Some(secret)) if scope.mirror.token_project_id == Some(project_id) => ours
            .iter()
            .find(|t| t.id as i64 == id)
            .map(|t| (t.id as i64, t.name.clone(), secret)),
        _ => None,
    };
    let keep = reusable.as_ref().map(|(id, ..)| *id);
    for token in ours.iter().filter(|t| Some(t.id as i64) != keep) {
        match tokens::revoke(client, project_id, token.id as i64).await {
            Ok(_) => run.warn(format!(
                "revoked token {} ({}) left behind by an interrupted attempt",
                token.id, token.name
            )),
            Err(e) if e.is_retryable() => {
                return Err(OpError::gitlab("revoking a leftover token", e));
            }
            Err(e) => run.warn(format!("could not revoke leftover token {}: {e}", token.id)),
        }
    }
    if let Some((id, name, secret)) = reusable {
        created.token = Some((project_id, id));
        return Ok(TokenInUse {
            id,
            name,
            secret,
            reused: true,
        });
    }
    let name = ctx.settings.token_name(mirror_id);
    let new = tokens::create_token(ctx, scope, client, project_id, &name).await?;
    let id = new.info.id as i64;
    created.token = Some((project_id, id));
    let expires = tokens::expiry_time(new.info.expires_at.as_deref(), tokens::expiry_date(ctx));
    let provisioning = MirrorProvisioning {
        encrypted_mirror_token: Some(tokens::seal(ctx, mirror_id, &new)?),
        mirror_token_name: Some(new.info.name.clone()),
        mirror_token_expire_time: Some(expires),
        gitlab_token_id: Some(id),
        token_project_id: Some(project_id),
        ..Default::default()
    };
    if !ctx
        .storage
        .record_mirror_provisioning(mirror_id, &provisioning)
        .await?
    {
        return Err(OpError::failed("the mirror was deleted meanwhile"));
    }
    scope.mirror.encrypted_mirror_token = provisioning.encrypted_mirror_token;
    scope.mirror.mirror_token_name = provisioning.mirror_token_name;
    scope.mirror.mirror_token_expire_time = Some(expires);
    scope.mirror.gitlab_token_id = Some(id);
    scope.mirror.token_project_id = Some(project_id);
    Ok(TokenInUse {
        id,
        name: new.info.name,
        secret: new.token,
        reused: false,
    })
}

/// Removes the GitLab mirror, then the token(s), best effort (failures become warnings).
async fn rollback(ctx: &MirrorsContext, run: &mut Run, scope: &Scope, created: &Created) {
    let mut removed = vec![];
    if let (Some(mid), Some(project)) = (created.push_mirror, scope.owner_project_id()) {
        match scope.owner_client(ctx) {
            Ok(client) => match delete_push(&client, project, mid).await {
                Ok(_) => removed.push(json!({"push_mirror": mid})),
                Err(e) => run.warn(format!(
                    "rollback: push mirror {mid} could not be removed and may remain in GitLab: {e}"
                )),
            },
            Err(e) => run.warn(format!("rollback: {}", e.message())),
        }
    }
    if created.pull_configured
        && let Some(project) = scope.owner_project_id()
    {
        match scope.owner_client(ctx) {
            Ok(client) => match client.disable_pull_mirror(gitlab_id(project)).await {
                Ok(()) => removed.push(json!({"pull_mirror": project})),
                Err(e) => run.warn(format!(
                    "rollback: the pull mirror could not be disabled and may remain in GitLab: {e}"
                )),
            },
            Err(e) => run.warn(format!("rollback: {}", e.message())),
        }
    }
    let token_project = created
        .token
        .map(|(project, _)| project)
        .or_else(|| scope.token_project_id());
    if let Some(project) = token_project {
        match scope.remote_client(ctx) {
            Ok(client) => {
                if let Some((_, token_id)) = created.token {
                    match tokens::revoke(&client, project, token_id).await {
                        Ok(_) => removed.push(json!({"token": token_id})),
                        Err(e) => run.warn(format!(
                            "rollback: token {token_id} could not be revoked and may remain active: {e}"
                        )),
                    }
                }
                let mut warnings = vec![];
                match tokens::revoke_family(ctx, &client, scope.id(), project, None, &mut warnings)
                    .await
                {
                    Ok(ids) => removed.extend(ids.into_iter().map(|id| json!({"token": id}))),
                    Err(e) => {
                        run.warn(format!("rollback: could not look for leftover tokens: {e}"))
                    }
                }
                for w in warnings {
                    run.warn(w);
                }
            }
            Err(e) => run.warn(format!("rollback: {}", e.message())),
        }
    }
    run.set("rolled_back", removed);
}
