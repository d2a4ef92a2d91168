//! `mirror.rotate_token`: replace the mirror's token without a moment where the mirror has
//! none that works.
//!
//! 1. Create the new token `{prefix}-mirror-{id}-r{n}` (a leftover of that name from an
//!    interrupted rotation is revoked first: its value cannot be read back).
//! 2. Switch the mirror to it. Push: GitLab cannot change a remote mirror's URL through the
//!    API, so a new remote mirror with the new credentials and the same settings is created;
//!    pull: the pull mirror is configured with the new credentials.
//! 3. Confirm by reading the mirror back (settings and URL as intended).
//! 4. Record the new token (and the new push mirror id).
//! 5. Only then remove the old push mirror and revoke the old token (failures: warnings).
//!
//! When 2–4 fail, the new token (and new push mirror) are removed again and the old token
//! keeps working. GitLab's own `…/rotate` endpoint is not used: it revokes the old token at
//! once, before the mirror uses the new one.

use mm_gitlab::{GitLabClient, SecretToken};
use mm_storage::{MirrorLifecycle, MirrorProvisioning};

use crate::context::MirrorsContext;
use crate::item::{Done, OpError, OpResult, Run};
use crate::remote::{
    Observed, create_push, delete_push, is_community, pull_config, push_mirrors_to,
};
use crate::scope::{Effective, Scope, same_repo};
use crate::tokens::{self, gitlab_id};

/// What the switch created.
struct Switched {
    /// The new push mirror (push only).
    new_push_mirror: Option<i64>,
}

pub(crate) async fn run(ctx: &MirrorsContext, run: &mut Run) -> OpResult<Done> {
    let mirror_id = run.payload_id("mirror_id")?;
    let Some(scope) = Scope::load(ctx, mirror_id).await? else {
        run.set("note", "the mirror no longer exists");
        return Ok(Done::Skipped);
    };
    if scope.mirror.lifecycle != MirrorLifecycle::Ready {
        return Err(OpError::failed(format!(
            "only a ready mirror's token can be rotated (lifecycle {})",
            scope.mirror.lifecycle.as_str()
        )));
    }
    let owner_project = scope
        .owner_project_id()
        .ok_or_else(|| OpError::failed("the mirror's projects were never looked up"))?;
    let token_project = scope
        .token_project_id()
        .ok_or_else(|| OpError::failed("the mirror's projects were never looked up"))?;
    if scope.is_push() && scope.mirror.gitlab_mirror_id.is_none() {
        return Err(OpError::failed(
            "no GitLab push mirror is recorded for this mirror; create it again",
        ));
    }
    let owner = scope.owner_client(ctx)?;
    let remote = scope.remote_client(ctx)?;
    let old_token = scope.mirror.gitlab_token_id;
    let old_mirror = scope.mirror.gitlab_mirror_id;
    let n = scope
        .mirror
        .mirror_token_name
        .as_deref()
        .and_then(|name| ctx.settings.rotation_of(mirror_id, name))
        .map_or(1, |n| n + 1);
    let new_name = ctx.settings.rotated_token_name(mirror_id, n);

    // 1. The new token.
    let leftovers = tokens::active_tokens(&remote, token_project, |name| name == new_name)
        .await
        .map_err(|e| OpError::gitlab("listing the project's access tokens", e))?;
    for token in leftovers.iter().filter(|t| Some(t.id as i64) != old_token) {
        tokens::revoke(&remote, token_project, token.id as i64)
            .await
            .map_err(|e| OpError::gitlab("revoking a token left by an interrupted rotation", e))?;
        run.warn(format!(
            "revoked token {} ({}) left behind by an interrupted rotation",
            token.id, token.name
        ));
    }
    let new = tokens::create_token(ctx, &scope, &remote, token_project, &new_name).await?;
    let new_id = new.info.id as i64;
    let expires = tokens::expiry_time(new.info.expires_at.as_deref(), tokens::expiry_date(ctx));
    let eff = scope.effective();

    // 2–3. Switch and confirm.
    let switched = match switch(ctx, &scope, &owner, owner_project, &new.token, &eff).await {
        Ok(s) => s,
        Err(error) => {
            undo_token(run, &remote, token_project, new_id).await;
            return Err(error);
        }
    };

    // 4. Record.
    let provisioning = MirrorProvisioning {
        encrypted_mirror_token: Some(tokens::seal(ctx, mirror_id, &new)?),
        mirror_token_name: Some(new.info.name.clone()),
        mirror_token_expire_time: Some(expires),
        gitlab_token_id: Some(new_id),
        token_project_id: Some(token_project),
        gitlab_mirror_id: switched.new_push_mirror,
        ..Default::default()
    };
    let recorded = ctx
        .storage
        .record_mirror_provisioning(mirror_id, &provisioning)
        .await;
    if !matches!(recorded, Ok(true)) {
        // Go back to the old token, which still works.
        undo_switch(ctx, run, &scope, &owner, owner_project, &switched).await;
        undo_token(run, &remote, token_project, new_id).await;
        return Err(match recorded {
            Err(e) => e.into(),
            _ => OpError::failed("the mirror was deleted during the rotation"),
        });
    }

    // 5. Retire the old mirror and token.
    if let Some(new_mirror) = switched.new_push_mirror {
        retire_push_mirrors(run, &scope, &owner, owner_project, new_mirror, old_mirror).await;
    }
    if let Some(old) = old_token.filter(|old| *old != new_id) {
        match tokens::revoke(&remote, token_project, old).await {
            Ok(_) => {}
            Err(e) => run.warn(format!(
                "the old token {old} could not be revoked; revoke it in GitLab: {e}"
            )),
        }
    }
    let mut warnings = vec![];
    match tokens::revoke_family(
        ctx,
        &remote,
        mirror_id,
        token_project,
        Some(new_id),
        &mut warnings,
    )
    .await
    {
        Ok(ids) if !ids.is_empty() => run.set("revoked_leftover_tokens", ids),
        Ok(_) => {}
        Err(e) => run.warn(format!("could not look for leftover tokens: {e}")),
    }
    for w in warnings {
        run.warn(w);
    }
    run.set("old_token_id", old_token);
    run.set("new_token_id", new_id);
    run.set("token_name", new.info.name);
    run.set("token_expires_at", expires.format("%Y-%m-%d").to_string());
    run.set("gitlab_mirror_id", switched.new_push_mirror.or(old_mirror));
    if switched.new_push_mirror.is_some() {
        run.set("old_gitlab_mirror_id", old_mirror);
    }
    run.set("settings", eff.to_json(scope.direction()));
    Ok(Done::Succeeded)
}

/// Points the GitLab mirror at the new token and reads it back.
async fn switch(
    ctx: &MirrorsContext,
    scope: &Scope,
    owner: &GitLabClient,
    owner_project: i64,
    token: &SecretToken,
    eff: &Effective,
) -> OpResult<Switched> {
    let compare_regex = !is_community(scope.owner_instance());
    let remote_url = scope.remote_repo_url()?;
    if scope.is_push() {
        let url = scope.remote_repo_url_with(token)?;
        let mut new_mirror = None;
        let created = create_push(owner, owner_project, url, eff, &mut new_mirror).await;
        let created = match created {
            Ok(created) => created,
            Err(e) => {
                if let Some(id) = new_mirror {
                    let _ = delete_push(owner, owner_project, id).await;
                }
                return Err(OpError::gitlab(
                    "creating the push mirror with the new token",
                    e,
                ));
            }
        };
        let id = created.id as i64;
        let confirmed = match owner
            .get_remote_mirror(gitlab_id(owner_project), created.id)
            .await
        {
            Ok(m) => {
                let observed = Observed::Push(m);
                let drift = observed.differences(eff, compare_regex);
                if drift.is_empty() && same_repo(observed.url().unwrap_or(""), &remote_url) {
                    Ok(())
                } else {
                    let fields: Vec<&str> = drift.iter().map(|(f, ..)| f.as_str()).collect();
                    Err(OpError::failed(format!(
                        "the new push mirror does not have the mirror's settings ({})",
                        fields.join(", ")
                    )))
                }
            }
            Err(e) => Err(OpError::gitlab("reading the new push mirror back", e)),
        };
        if let Err(error) = confirmed {
            let _ = delete_push(owner, owner_project, id).await;
            return Err(error);
        }
        Ok(Switched {
            new_push_mirror: Some(id),
        })
    } else {
        let config = pull_config(scope, token, eff)?;
        owner
            .configure_pull_mirror(gitlab_id(owner_project), &config)
            .await
            .map_err(|e| OpError::gitlab("configuring the pull mirror with the new token", e))?;
        let confirmed = match owner.get_pull_mirror(gitlab_id(owner_project)).await {
            Ok(Some(m)) => {
                let observed = Observed::Pull(m);
                let drift = observed.differences(eff, compare_regex);
                if drift.is_empty() && same_repo(observed.url().unwrap_or(""), &remote_url) {
                    Ok(())
                } else {
                    Err(OpError::failed(
                        "the pull mirror does not have the mirror's settings after the switch",
                    ))
                }
            }
            Ok(None) => Err(OpError::failed(
                "the pull mirror disappeared during the switch",
            )),
            Err(e) => Err(OpError::gitlab("reading the pull mirror back", e)),
        };
        if let Err(error) = confirmed {
            restore_pull(ctx, scope, owner, owner_project, eff).await;
            return Err(error);
        }
        Ok(Switched {
            new_push_mirror: None,
        })
    }
}

/// Configures the pull mirror with the old token again (best effort).
async fn restore_pull(
    ctx: &MirrorsContext,
    scope: &Scope,
    owner: &GitLabClient,
    owner_project: i64,
    eff: &Effective,
) -> Option<String> {
    let old = match scope.mirror_token(ctx) {
        Ok(Some(old)) => old,
        Ok(None) => return Some("no old token to restore".to_owned()),
        Err(e) => return Some(e.message()),
    };
    let config = match pull_config(scope, &old, eff) {
        Ok(config) => config,
        Err(e) => return Some(e.message()),
    };
    owner
        .configure_pull_mirror(gitlab_id(owner_project), &config)
        .await
        .err()
        .map(|e| e.to_string())
}

async fn undo_switch(
    ctx: &MirrorsContext,
    run: &mut Run,
    scope: &Scope,
    owner: &GitLabClient,
    owner_project: i64,
    switched: &Switched,
) {
    if let Some(id) = switched.new_push_mirror {
        if let Err(e) = delete_push(owner, owner_project, id).await {
            run.warn(format!(
                "the new push mirror {id} could not be removed again; delete it in GitLab: {e}"
            ));
        }
    } else if let Some(problem) =
        restore_pull(ctx, scope, owner, owner_project, &scope.effective()).await
    {
        run.warn(format!(
            "the pull mirror could not be switched back to the old token: {problem}"
        ));
    }
}

async fn undo_token(run: &mut Run, remote: &GitLabClient, project: i64, token_id: i64) {
    if let Err(e) = tokens::revoke(remote, project, token_id).await {
        run.warn(format!(
            "the new token {token_id} could not be revoked again; revoke it in GitLab: {e}"
        ));
    }
}

/// Removes the old push mirror and any other mirror to our URL (left by interrupted
/// rotations), keeping `keep`.
async fn retire_push_mirrors(
    run: &mut Run,
    scope: &Scope,
    owner: &GitLabClient,
    owner_project: i64,
    keep: i64,
    old: Option<i64>,
) {
    let mut stale: Vec<i64> = old.into_iter().filter(|id| *id != keep).collect();
    match scope.remote_repo_url() {
        Ok(url) => match push_mirrors_to(owner, owner_project, &url).await {
            Ok(mirrors) => {
                for id in mirrors.iter().map(|m| m.id as i64) {
                    if id != keep && !stale.contains(&id) {
                        stale.push(id);
                    }
                }
            }
            Err(e) => run.warn(format!("could not list the push mirrors: {e}")),
        },
        Err(e) => run.warn(e.message()),
    }
    for id in stale {
        if let Err(e) = delete_push(owner, owner_project, id).await {
            run.warn(format!(
                "the old push mirror {id} could not be removed; delete it in GitLab: {e}"
            ));
        }
    }
}
