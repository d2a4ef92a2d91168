//! `mirror.verify`: compare GitLab with the row.
//!
//! Verdicts (result `{"verdict", "differences": [{field, expected, actual}], …}`):
//! - `healthy`: the recorded mirror and token exist with our settings;
//! - `drift`: they exist but settings, URL or token state differ (listed);
//! - `orphan`: GitLab holds a mirror or token of ours that the row does not account for
//!   (left by an interrupted create or rotation, or the row never got ready);
//! - `not_created`: the row says ready but GitLab has no such mirror, or the row never got
//!   ready and GitLab has nothing either.
//!
//! The item succeeds whatever the verdict; it fails only when GitLab cannot be asked.

use mm_gitlab::{GitLabClient, mask_url_credentials};
use mm_storage::MirrorLifecycle;
use serde_json::{Value, json};

use crate::context::MirrorsContext;
use crate::item::{Done, OpError, OpResult, Run};
use crate::remote::{Observed, is_community, pull_active, push_mirrors_to};
use crate::scope::{Scope, same_repo};
use crate::tokens::{self, gitlab_id};

pub(crate) async fn run(ctx: &MirrorsContext, run: &mut Run) -> OpResult<Done> {
    let mirror_id = run.payload_id("mirror_id")?;
    let Some(scope) = Scope::load(ctx, mirror_id).await? else {
        run.set("note", "the mirror no longer exists");
        return Ok(Done::Skipped);
    };
    if scope.mirror.lifecycle == MirrorLifecycle::Deleting {
        run.set("note", "the mirror is being deleted");
        return Ok(Done::Skipped);
    }
    let report = verify(ctx, &scope).await?;
    run.set("verdict", report.verdict);
    run.set("differences", report.differences);
    run.set("gitlab_mirror", report.gitlab_mirror);
    Ok(Done::Succeeded)
}

struct Report {
    verdict: &'static str,
    differences: Vec<Value>,
    gitlab_mirror: Value,
}

fn difference(field: &str, expected: Value, actual: Value) -> Value {
    json!({"field": field, "expected": expected, "actual": actual})
}

async fn verify(ctx: &MirrorsContext, scope: &Scope) -> OpResult<Report> {
    let Some(owner_project) = scope.owner_project_id() else {
        // The create job never looked the projects up: nothing can exist in GitLab.
        return Ok(Report {
            verdict: "not_created",
            differences: vec![],
            gitlab_mirror: Value::Null,
        });
    };
    let ready = scope.mirror.lifecycle == MirrorLifecycle::Ready;
    let client = scope.owner_client(ctx)?;
    let remote_url = scope.remote_repo_url()?;
    let eff = scope.effective();
    let mut differences = vec![];
    let mut orphans = 0usize;

    let main = if ready {
        Observed::read(scope, &client).await?
    } else {
        None
    };
    if scope.is_push() {
        let to_us = push_mirrors_to(&client, owner_project, &remote_url)
            .await
            .map_err(|e| OpError::gitlab("listing the source project's push mirrors", e))?;
        let main_id = match &main {
            Some(Observed::Push(m)) => Some(m.id),
            _ => None,
        };
        for extra in to_us.iter().filter(|m| Some(m.id) != main_id) {
            orphans += 1;
            differences.push(difference(
                "extra_mirror",
                Value::Null,
                json!({"id": extra.id, "url": mask_url_credentials(&extra.url), "enabled": extra.enabled}),
            ));
        }
    } else if !ready
        && let Some(m) = client
            .get_pull_mirror(gitlab_id(owner_project))
            .await
            .or_else(|e| if e.is_not_found() { Ok(None) } else { Err(e) })
            .map_err(|e| OpError::gitlab("reading the target's pull mirror", e))?
        && pull_active(&m)
        && m.url.as_deref().is_some_and(|u| same_repo(u, &remote_url))
    {
        orphans += 1;
        differences.push(difference(
            "extra_mirror",
            Value::Null,
            Observed::Pull(m).to_json(),
        ));
    }

    if let Some(observed) = &main {
        if let Some(url) = observed.url()
            && !same_repo(url, &remote_url)
        {
            differences.push(difference(
                "url",
                json!(remote_url),
                json!(mask_url_credentials(url)),
            ));
        }
        for (field, expected, actual) in
            observed.differences(&eff, !is_community(scope.owner_instance()))
        {
            differences.push(difference(&field, expected, actual));
        }
    }

    orphans += check_tokens(ctx, scope, ready, &mut differences).await?;

    let verdict = match (&main, ready) {
        // The row says ready, GitLab lost the mirror (any leftovers are listed).
        (None, true) => "not_created",
        (None, false) if orphans > 0 => "orphan",
        (None, false) => "not_created",
        (Some(_), _) if orphans > 0 => "orphan",
        (Some(_), _) if !differences.is_empty() => "drift",
        (Some(_), _) => "healthy",
    };
    Ok(Report {
        verdict,
        differences,
        gitlab_mirror: main.as_ref().map_or(Value::Null, Observed::to_json),
    })
}

/// Token state: the recorded token must be active (ready rows); other active tokens of the
/// mirror's name family are orphans. Returns the number of orphans.
async fn check_tokens(
    ctx: &MirrorsContext,
    scope: &Scope,
    ready: bool,
    differences: &mut Vec<Value>,
) -> OpResult<usize> {
    let Some(project) = scope.token_project_id() else {
        return Ok(0);
    };
    let client: GitLabClient = scope.remote_client(ctx)?;
    let recorded = if ready {
        scope.mirror.gitlab_token_id
    } else {
        None
    };
    if ready && let Some(id) = recorded {
        let state = match client
            .get_project_access_token(gitlab_id(project), gitlab_id(id))
            .await
        {
            Ok(t) if t.active && !t.revoked => None,
            Ok(t) if t.revoked => Some("revoked"),
            Ok(_) => Some("inactive"),
            Err(e) if e.is_not_found() => Some("missing"),
            Err(e) => return Err(OpError::gitlab("reading the mirror's token", e)),
        };
        if let Some(state) = state {
            differences.push(difference("token", json!("active"), json!(state)));
        }
    }
    let family = tokens::active_tokens(&client, project, |name| {
        ctx.settings.is_token_family(scope.id(), name)
    })
    .await
    .map_err(|e| OpError::gitlab("listing the project's access tokens", e))?;
    let mut orphans = 0;
    for token in family.iter().filter(|t| Some(t.id as i64) != recorded) {
        orphans += 1;
        differences.push(difference(
            "extra_token",
            Value::Null,
            json!({"id": token.id, "name": token.name, "expires_at": token.expires_at}),
        ));
    }
    Ok(orphans)
}
