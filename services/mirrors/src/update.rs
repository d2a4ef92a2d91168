//! `mirror.update`: push the mirror's effective settings to GitLab.

use mm_storage::MirrorLifecycle;

use crate::context::MirrorsContext;
use crate::item::{Done, OpError, OpResult, Run};
use crate::remote::{Observed, apply_push_settings, is_community, pull_config};
use crate::scope::{Effective, Scope};
use crate::tokens::gitlab_id;

pub(crate) async fn run(ctx: &MirrorsContext, run: &mut Run) -> OpResult<Done> {
    let mirror_id = run.payload_id("mirror_id")?;
    let Some(scope) = Scope::load(ctx, mirror_id).await? else {
        run.set("note", "the mirror no longer exists");
        return Ok(Done::Skipped);
    };
    if scope.mirror.lifecycle != MirrorLifecycle::Ready {
        return Err(OpError::failed(format!(
            "the mirror is not set up in GitLab (lifecycle {}); nothing to update",
            scope.mirror.lifecycle.as_str()
        )));
    }
    let eff = scope.effective();
    if Effective::regex_dropped(&scope.pair, &scope.mirror) {
        run.warn(
            "only_protected_branches and mirror_branch_regex exclude each other in GitLab; \
             the branch regex is not applied",
        );
    }
    let client = scope.owner_client(ctx)?;
    let project = scope
        .owner_project_id()
        .ok_or_else(|| OpError::failed("the mirror's projects were never looked up"))?;
    let applied = if scope.is_push() {
        let mid = scope
            .mirror
            .gitlab_mirror_id
            .ok_or_else(|| OpError::failed("no GitLab push mirror is recorded for this mirror"))?;
        if eff.branch_regex.is_some() && is_community(scope.owner_instance()) {
            run.warn(format!(
                "{} is GitLab Community Edition: push mirrors ignore mirror_branch_regex there",
                scope.owner_instance().name
            ));
        }
        let mirror = apply_push_settings(
            &client,
            project,
            mid,
            &eff,
            is_community(scope.owner_instance()),
        )
        .await
            .map_err(|e| {
                if e.is_not_found() {
                    OpError::failed(format!(
                        "GitLab push mirror {mid} no longer exists; verify the mirror or create it again"
                    ))
                } else {
                    OpError::gitlab("updating the push mirror", e)
                }
            })?;
        Observed::Push(mirror)
    } else {
        let token = scope.mirror_token(ctx)?.ok_or_else(|| {
            OpError::failed("no token is recorded for this mirror; rotate the token")
        })?;
        let config = pull_config(&scope, &token, &eff)?;
        let mirror = client
            .configure_pull_mirror(gitlab_id(project), &config)
            .await
            .map_err(|e| OpError::gitlab("configuring the pull mirror", e))?;
        Observed::Pull(mirror)
    };
    let drift = applied.differences(&eff, !is_community(scope.owner_instance()));
    if !drift.is_empty() {
        let fields: Vec<&str> = drift.iter().map(|(f, ..)| f.as_str()).collect();
        run.warn(format!(
            "GitLab's answer still differs in: {}",
            fields.join(", ")
        ));
    }
    run.set("settings", eff.to_json(scope.direction()));
    run.set("gitlab", applied.to_json());
    Ok(Done::Succeeded)
}
