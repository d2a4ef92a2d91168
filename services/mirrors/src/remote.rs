//! The GitLab side of a mirror: push mirrors (`remote_mirrors` on the source project) and
//! pull mirrors (`mirror/pull` on the target project), and how their state maps to our row.

use futures::TryStreamExt;
use mm_gitlab::{
    CreateRemoteMirror, GitLabClient, GitLabError, PullMirror, PullMirrorConfig, RemoteMirror,
    SecretToken, SecretUrl, UpdateRemoteMirror, mask_url_credentials,
};
use mm_storage::{Instance, MirrorStatusUpdate};
use serde_json::{Value, json};

use crate::item::{OpError, OpResult};
use crate::scope::{Effective, Scope, URL_USER, parse_time, same_repo};
use crate::tokens::gitlab_id;

/// At most this many push mirrors are read from one project.
const MIRROR_LIST_CAP: usize = 1_000;

/// Whether GitLab says the instance is the Community Edition (no pull mirrors, no branch
/// regex on push mirrors). Unknown editions count as not Community.
pub(crate) fn is_community(instance: &Instance) -> bool {
    instance.gitlab_edition.as_deref().is_some_and(|e| {
        let e = e.to_ascii_lowercase();
        e.starts_with("community") || e == "ce"
    })
}

/// Push mirrors of `project_id` pointing at `url` (credentials ignored).
pub(crate) async fn push_mirrors_to(
    client: &GitLabClient,
    project_id: i64,
    url: &str,
) -> Result<Vec<RemoteMirror>, GitLabError> {
    let all: Vec<RemoteMirror> = client
        .all_remote_mirrors(gitlab_id(project_id), MIRROR_LIST_CAP)
        .try_collect()
        .await?;
    Ok(all.into_iter().filter(|m| same_repo(&m.url, url)).collect())
}

/// The push mirror to create for `url`: every setting but the branch regex, which GitLab
/// refuses in the same request as `only_protected_branches` (Grape `mutually_exclusive`
/// checks the presence of both keys, whatever their values); see [`create_push`].
fn push_create(url: SecretUrl, eff: &Effective) -> CreateRemoteMirror {
    CreateRemoteMirror {
        url,
        enabled: eff.enabled,
        only_protected_branches: eff.only_protected,
        keep_divergent_refs: Some(!eff.overwrite_diverged),
        mirror_branch_regex: None,
        auth_method: None,
    }
}

/// Creates a push mirror with the effective settings: the mirror, then its branch regex.
/// `on_created` learns the new id before the regex is set, so a caller can remove the mirror
/// again when that second call fails.
pub(crate) async fn create_push(
    client: &GitLabClient,
    project_id: i64,
    url: SecretUrl,
    eff: &Effective,
    on_created: &mut Option<i64>,
) -> Result<RemoteMirror, GitLabError> {
    let mirror = client
        .create_remote_mirror(gitlab_id(project_id), &push_create(url, eff))
        .await?;
    *on_created = Some(mirror.id as i64);
    match &eff.branch_regex {
        Some(regex) => {
            let only_regex = UpdateRemoteMirror {
                mirror_branch_regex: Some(regex.clone()),
                ..Default::default()
            };
            client
                .update_remote_mirror(gitlab_id(project_id), mirror.id, &only_regex)
                .await
        }
        None => Ok(mirror),
    }
}

/// Applies the effective settings to an existing push mirror, never sending
/// `only_protected_branches` and `mirror_branch_regex` in the same request: with a regex,
/// protected-only goes off first; without, the regex is cleared first (skipped on Community
/// Edition, which has no regex).
pub(crate) async fn apply_push_settings(
    client: &GitLabClient,
    project_id: i64,
    mirror_id: i64,
    eff: &Effective,
    community: bool,
) -> Result<RemoteMirror, GitLabError> {
    let (project, mirror) = (gitlab_id(project_id), gitlab_id(mirror_id));
    let settings = UpdateRemoteMirror {
        enabled: Some(eff.enabled),
        only_protected_branches: Some(eff.only_protected),
        keep_divergent_refs: Some(!eff.overwrite_diverged),
        mirror_branch_regex: None,
    };
    let regex = |r: &str| UpdateRemoteMirror {
        mirror_branch_regex: Some(r.to_owned()),
        ..Default::default()
    };
    match &eff.branch_regex {
        Some(r) => {
            client
                .update_remote_mirror(project, mirror, &settings)
                .await?;
            client
                .update_remote_mirror(project, mirror, &regex(r))
                .await
        }
        None => {
            if !community {
                client
                    .update_remote_mirror(project, mirror, &regex(""))
                    .await?;
            }
            client
                .update_remote_mirror(project, mirror, &settings)
                .await
        }
    }
}

/// The pull-mirror configuration with the token as credentials.
pub(crate) fn pull_config(
    scope: &Scope,
    token: &SecretToken,
    eff: &Effective,
) -> OpResult<PullMirrorConfig> {
    Ok(PullMirrorConfig {
        url: SecretUrl::new(scope.remote_repo_url()?),
        auth_user: Some(URL_USER.to_owned()),
        auth_password: Some(token.clone()),
        enabled: eff.enabled,
        mirror_trigger_builds: Some(eff.trigger_builds),
        only_mirror_protected_branches: Some(eff.only_protected),
        mirror_overwrites_diverged_branches: Some(eff.overwrite_diverged),
        mirror_branch_regex: Some(eff.branch_regex.clone().unwrap_or_default()),
    })
}

/// Deletes a push mirror; `false` when it was already gone.
pub(crate) async fn delete_push(
    client: &GitLabClient,
    project_id: i64,
    mirror_id: i64,
) -> Result<bool, GitLabError> {
    match client
        .delete_remote_mirror(gitlab_id(project_id), gitlab_id(mirror_id))
        .await
    {
        Ok(()) => Ok(true),
        Err(e) if e.is_not_found() => Ok(false),
        Err(e) => Err(e),
    }
}

/// A pull mirror that is on and, when `url` is given, points there.
pub(crate) fn pull_active(m: &PullMirror) -> bool {
    m.enabled == Some(true) && m.url.as_deref().is_some_and(|u| !u.is_empty())
}

/// What GitLab reports about a mirror.
#[derive(Debug, Clone)]
pub(crate) enum Observed {
    Push(RemoteMirror),
    Pull(PullMirror),
}

impl Observed {
    /// Reads the mirror the row describes: `Ok(None)` when GitLab has none.
    pub async fn read(scope: &Scope, client: &GitLabClient) -> OpResult<Option<Observed>> {
        let project = scope
            .owner_project_id()
            .ok_or_else(|| OpError::failed("the mirror's projects were never looked up"))?;
        if scope.is_push() {
            let Some(mid) = scope.mirror.gitlab_mirror_id else {
                return Ok(None);
            };
            match client
                .get_remote_mirror(gitlab_id(project), gitlab_id(mid))
                .await
            {
                Ok(m) => Ok(Some(Observed::Push(m))),
                Err(e) if e.is_not_found() => Ok(None),
                Err(e) => Err(OpError::gitlab("reading the push mirror", e)),
            }
        } else {
            match client.get_pull_mirror(gitlab_id(project)).await {
                Ok(Some(m)) => Ok(Some(Observed::Pull(m))),
                Ok(None) => Ok(None),
                Err(e) if e.is_not_found() => Ok(None),
                Err(e) => Err(OpError::gitlab("reading the pull mirror", e)),
            }
        }
    }

    pub fn enabled(&self) -> bool {
        match self {
            Observed::Push(m) => m.enabled,
            Observed::Pull(m) => m.enabled == Some(true),
        }
    }

    pub fn update_status(&self) -> Option<&str> {
        match self {
            Observed::Push(m) => Some(m.update_status.as_str()),
            Observed::Pull(m) => m.update_status.as_deref(),
        }
    }

    /// `started` (both) or `scheduled` (pull): an update is already on its way.
    pub fn is_syncing(&self) -> bool {
        matches!(self.update_status(), Some("started" | "scheduled"))
    }

    pub fn url(&self) -> Option<&str> {
        match self {
            Observed::Push(m) => Some(m.url.as_str()),
            Observed::Pull(m) => m.url.as_deref(),
        }
    }

    /// The status to record (never changes the operator's `enabled`, see the crate docs).
    pub fn status_update(&self) -> MirrorStatusUpdate {
        let (status, last_update, last_success, last_error) = match self {
            Observed::Push(m) => (
                Some(m.update_status.clone()),
                m.last_update_at.as_deref(),
                m.last_successful_update_at.as_deref(),
                m.last_error.clone(),
            ),
            Observed::Pull(m) => (
                m.update_status.clone(),
                m.last_update_at.as_deref(),
                m.last_successful_update_at.as_deref(),
                m.last_error.clone(),
            ),
        };
        MirrorStatusUpdate {
            last_update_status: Some(status.unwrap_or_else(|| "none".to_owned())),
            last_successful_update_time: parse_time(last_success),
            last_update_time: parse_time(last_update),
            last_error: last_error.map(|e| mask_url_credentials(&e)),
            enabled: None,
            checked_at: chrono::Utc::now(),
        }
    }

    /// A summary for item results (URL masked).
    pub fn to_json(&self) -> Value {
        match self {
            Observed::Push(m) => json!({
                "id": m.id,
                "url": mask_url_credentials(&m.url),
                "enabled": m.enabled,
                "update_status": m.update_status,
                "last_update_at": m.last_update_at,
                "last_successful_update_at": m.last_successful_update_at,
                "last_error": m.last_error.as_deref().map(mask_url_credentials),
                "only_protected_branches": m.only_protected_branches,
                "keep_divergent_refs": m.keep_divergent_refs,
                "mirror_branch_regex": m.mirror_branch_regex,
            }),
            Observed::Pull(m) => json!({
                "id": m.id,
                "url": m.url.as_deref().map(mask_url_credentials),
                "enabled": m.enabled,
                "update_status": m.update_status,
                "last_update_at": m.last_update_at,
                "last_successful_update_at": m.last_successful_update_at,
                "last_error": m.last_error.as_deref().map(mask_url_credentials),
                "only_mirror_protected_branches": m.only_mirror_protected_branches,
                "mirror_overwrites_diverged_branches": m.mirror_overwrites_diverged_branches,
                "mirror_trigger_builds": m.mirror_trigger_builds,
                "mirror_branch_regex": m.mirror_branch_regex,
            }),
        }
    }

    /// Settings that differ from `eff`: `(field, expected, actual)`.
    pub fn differences(&self, eff: &Effective, compare_regex: bool) -> Vec<(String, Value, Value)> {
        let mut out = vec![];
        let mut check = |field: &str, expected: Value, actual: Value| {
            if expected != actual {
                out.push((field.to_owned(), expected, actual));
            }
        };
        let regex = |r: Option<&str>| {
            r.filter(|r| !r.is_empty())
                .map_or(Value::Null, |r| Value::String(r.to_owned()))
        };
        match self {
            Observed::Push(m) => {
                check("enabled", json!(eff.enabled), json!(m.enabled));
                check(
                    "only_protected_branches",
                    json!(eff.only_protected),
                    json!(m.only_protected_branches),
                );
                check(
                    "keep_divergent_refs",
                    json!(!eff.overwrite_diverged),
                    json!(m.keep_divergent_refs.unwrap_or(false)),
                );
                if compare_regex {
                    check(
                        "mirror_branch_regex",
                        regex(eff.branch_regex.as_deref()),
                        regex(m.mirror_branch_regex.as_deref()),
                    );
                }
            }
            Observed::Pull(m) => {
                check(
                    "enabled",
                    json!(eff.enabled),
                    json!(m.enabled == Some(true)),
                );
                check(
                    "only_mirror_protected_branches",
                    json!(eff.only_protected),
                    json!(m.only_mirror_protected_branches.unwrap_or(false)),
                );
                check(
                    "mirror_overwrites_diverged_branches",
                    json!(eff.overwrite_diverged),
                    json!(m.mirror_overwrites_diverged_branches.unwrap_or(false)),
                );
                check(
                    "mirror_trigger_builds",
                    json!(eff.trigger_builds),
                    json!(m.mirror_trigger_builds.unwrap_or(false)),
                );
                if compare_regex {
                    check(
                        "mirror_branch_regex",
                        regex(eff.branch_regex.as_deref()),
                        regex(m.mirror_branch_regex.as_deref()),
                    );
                }
            }
        }
        out
    }
}
