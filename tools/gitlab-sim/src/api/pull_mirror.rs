//! EE pull mirrors: `/projects/:id/mirror/pull` (GET, PUT since 17.6, POST).

use axum::Extension;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::{St, level, visible_project};
use crate::auth::Caller;
use crate::entities;
use crate::error::{ApiError, ApiResult, ok};
use crate::instance::Instance;
use crate::model::{ImportState, access};
use crate::params::Params;

/// `(major, minor)` of a version string like `17.6.1`.
pub fn version_at_least(v: &str, major: u32, minor: u32) -> bool {
    let mut it = v.split(['.', '-']).map(|x| x.parse::<u32>().unwrap_or(0));
    let (a, b) = (it.next().unwrap_or(0), it.next().unwrap_or(0));
    (a, b) >= (major, minor)
}

fn ee_only(inst: &Instance) -> Result<(), ApiError> {
    if inst.is_ee() {
        Ok(())
    } else {
        Err(ApiError::route_not_found())
    }
}

/// Authenticated Maintainer+ (403 for others, 401 without a token).
fn admin_project(db: &crate::model::Db, caller: &Caller, id: &str) -> Result<u64, ApiError> {
    caller.user()?;
    let p = visible_project(db, caller, id)?;
    if level(db, caller, p) < access::MAINTAINER {
        return Err(ApiError::forbidden());
    }
    Ok(p.id)
}

fn not_mirrored() -> ApiError {
    ApiError::message(StatusCode::BAD_REQUEST, "The project is not mirrored")
}

pub async fn get_one(
    st: St,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult {
    ee_only(&st)?;
    let db = st.db.read();
    let pid = admin_project(&db, &caller, &id)?;
    let p = &db.projects[&pid];
    if !p.mirror {
        return Err(not_mirrored());
    }
    Ok(ok(entities::pull_mirror(p)))
}

const PARAMS: [&str; 8] = [
    "enabled",
    "url",
    "auth_user",
    "auth_password",
    "mirror_trigger_builds",
    "only_mirror_protected_branches",
    "mirror_overwrites_diverged_branches",
    "mirror_branch_regex",
];

pub async fn configure(
    st: St,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    p: Params,
) -> ApiResult {
    ee_only(&st)?;
    if !version_at_least(&st.version, 17, 6) {
        return Err(ApiError::route_not_found());
    }
    let me = caller.user()?.clone();
    if !PARAMS.iter().any(|k| p.has(k)) {
        return Err(ApiError::grape(format!(
            "{} are missing, at least one parameter must be provided",
            PARAMS.join(", ")
        )));
    }
    if p.bool("only_mirror_protected_branches")? == Some(true)
        && p.str("mirror_branch_regex").is_some_and(|s| !s.is_empty())
    {
        return Err(ApiError::grape(
            "only_mirror_protected_branches, mirror_branch_regex are mutually exclusive",
        ));
    }
    let enabled = p.bool("enabled")?;
    let trigger = p.bool("mirror_trigger_builds")?;
    let only_protected = p.bool("only_mirror_protected_branches")?;
    let overwrite = p.bool("mirror_overwrites_diverged_branches")?;
    let mut start = false;
    let pid = {
        let mut db = st.db.write();
        let pid = admin_project(&db, &caller, &id)?;
        let pr = db.projects.get_mut(&pid).expect("exists");
        let was = pr.mirror;
        if p.has("url") || p.has("auth_user") || p.has("auth_password") {
            let base = p
                .str("url")
                .filter(|s| !s.is_empty())
                .or_else(|| pr.import_url.clone());
            let Some(base) = base else {
                return Err(ApiError::validation("import_url", "can't be blank"));
            };
            if !crate::util::url_scheme_allowed(&base) {
                return Err(ApiError::validation(
                    "import_url",
                    "is blocked: Only allowed schemes are http, https, ssh, git",
                ));
            }
            let split = crate::util::split_credentials(&base)
                .ok_or_else(|| ApiError::validation("import_url", "is blocked: URI is invalid"))?;
            let user = p.str("auth_user").or(split.user);
            let pass = p.str("auth_password").or(split.password);
            let full =
                crate::util::with_credentials(&split.sanitized, user.as_deref(), pass.as_deref());
            if pr.import_url.as_deref() != Some(full.as_str()) {
                pr.import_url = Some(full);
                if let Some(s) = pr.import_state.as_mut() {
                    s.hard_failed = false;
                    s.retry_count = 0;
                }
            }
        }
        if let Some(e) = enabled {
            if e && pr.import_url.is_none() {
                return Err(ApiError::validation("import_url", "can't be blank"));
            }
            pr.mirror = e;
        }
        if let Some(b) = trigger {
            pr.mirror_trigger_builds = b;
        }
        if p.has("only_mirror_protected_branches") {
            pr.only_mirror_protected_branches = only_protected;
        }
        if let Some(b) = overwrite {
            pr.mirror_overwrites_diverged_branches = b;
        }
        if p.has("mirror_branch_regex") {
            pr.mirror_branch_regex = p.str("mirror_branch_regex").filter(|s| !s.is_empty());
        }
        if pr.mirror {
            pr.mirror_user_id.get_or_insert(me.user_id);
            pr.import_type.get_or_insert_with(|| "git".into());
            let s = pr.import_state.get_or_insert_with(|| ImportState {
                id: pid,
                status: "none".into(),
                ..Default::default()
            });
            if !was {
                s.hard_failed = false;
                s.retry_count = 0;
                start = true;
            }
        }
        let kind = match (was, pr.mirror) {
            (false, true) => "pull_mirror_configured",
            (true, false) => "pull_mirror_disabled",
            _ => "pull_mirror_updated",
        };
        let url = pr
            .import_url
            .as_deref()
            .map(crate::util::mask_url)
            .unwrap_or_default();
        db.log(kind, Some(pid), pid, url);
        pid
    };
    if start && st.timing.read().pull_on_configure {
        let _ = crate::mirror::request_pull(&st.0, pid);
    }
    let db = st.db.read();
    Ok(ok(entities::pull_mirror(&db.projects[&pid])))
}

pub async fn start(
    st: St,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult {
    ee_only(&st)?;
    let pid = {
        let db = st.db.read();
        admin_project(&db, &caller, &id)?
    };
    crate::mirror::request_pull(&st.0, pid)?;
    Ok(StatusCode::OK.into_response())
}
