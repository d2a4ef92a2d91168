//! Push mirrors: `/projects/:id/remote_mirrors`. Maintainer+; a Developer
//! gets 401 (GitLab calls `unauthorized!` here).

use axum::Extension;
use axum::extract::Path;
use chrono::Utc;

use super::{St, level, visible_project};
use crate::auth::Caller;
use crate::entities;
use crate::error::{ApiError, ApiResult, created, no_content, ok};
use crate::model::{Db, Project, RemoteMirror, access};
use crate::pagination::paginate;
use crate::params::Params;

const BLOCKED: &str = "is blocked: Only allowed schemes are http, https, ssh, git";

/// The project, after `authenticate!` and the `admin_remote_mirror` check.
fn mirror_project<'a>(db: &'a Db, caller: &Caller, id: &str) -> Result<&'a Project, ApiError> {
    caller.user()?;
    let p = visible_project(db, caller, id)?;
    if level(db, caller, p) < access::MAINTAINER {
        return Err(ApiError::unauthorized());
    }
    Ok(p)
}

fn find_mirror(db: &Db, pid: u64, mid: &str) -> Result<u64, ApiError> {
    mid.parse::<u64>()
        .ok()
        .and_then(|m| db.remote_mirrors.get(&m))
        .filter(|m| m.project_id == pid)
        .map(|m| m.id)
        .ok_or_else(ApiError::record_not_found)
}

pub async fn list(
    st: St,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    p: Params,
) -> ApiResult {
    let db = st.db.read();
    let proj = mirror_project(&db, &caller, &id)?;
    let items = db
        .remote_mirrors
        .values()
        .filter(|m| m.project_id == proj.id)
        .map(|m| entities::remote_mirror(&st, &db, m))
        .collect();
    paginate(&st.base_url, &p, items)
}

pub async fn get_one(
    st: St,
    Extension(caller): Extension<Caller>,
    Path((id, mid)): Path<(String, String)>,
) -> ApiResult {
    let db = st.db.read();
    let proj = mirror_project(&db, &caller, &id)?;
    let mid = find_mirror(&db, proj.id, &mid)?;
    Ok(ok(entities::remote_mirror(
        &st,
        &db,
        &db.remote_mirrors[&mid],
    )))
}

fn auth_method(p: &Params) -> Option<String> {
    p.str("auth_method")
}

pub async fn create(
    st: St,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    p: Params,
) -> ApiResult {
    // Grape validation.
    let url = p.req_str("url")?;
    let auth = auth_method(&p).unwrap_or_else(|| "password".into());
    if auth != "password" && auth != "ssh_public_key" {
        return Err(ApiError::invalid_value("auth_method"));
    }
    let enabled = p.bool_or("enabled", false)?;
    let keep = p.bool_or("keep_divergent_refs", false)?;
    if p.is_null("only_protected_branches") {
        return Err(ApiError::validation(
            "only_protected_branches",
            "can't be blank",
        ));
    }
    let only_protected = p.bool_or("only_protected_branches", false)?;
    let regex = if st.is_ee() {
        p.str("mirror_branch_regex").filter(|s| !s.is_empty())
    } else {
        None
    };
    let mut db = st.db.write();
    let pid = mirror_project(&db, &caller, &id)?.id;
    if !crate::util::url_scheme_allowed(&url) {
        return Err(ApiError::validation("url", BLOCKED));
    }
    if only_protected && regex.is_some() {
        return Err(ApiError::validation(
            "mirror_branch_regex",
            "can't be set when only_protected_branches is enabled",
        ));
    }
    if let Some(r) = &regex
        && regex::Regex::new(r).is_err()
    {
        return Err(ApiError::validation(
            "mirror_branch_regex",
            "not valid RE2 syntax: invalid regular expression",
        ));
    }
    let mid = db.next_id("remote_mirrors");
    let m = RemoteMirror {
        id: mid,
        project_id: pid,
        url: url.clone(),
        enabled,
        only_protected_branches: only_protected,
        keep_divergent_refs: keep,
        auth_method: auth,
        mirror_branch_regex: regex,
        update_status: "none".into(),
        last_error: None,
        last_update_at: None,
        last_update_started_at: None,
        last_successful_update_at: None,
        scheduled: false,
        run_seq: 0,
        created_at: Utc::now(),
    };
    db.remote_mirrors.insert(mid, m);
    db.log(
        "remote_mirror_created",
        Some(pid),
        mid,
        crate::util::mask_url(&url),
    );
    Ok(created(entities::remote_mirror(
        &st,
        &db,
        &db.remote_mirrors[&mid],
    )))
}

pub async fn update(
    st: St,
    Extension(caller): Extension<Caller>,
    Path((id, mid)): Path<(String, String)>,
    p: Params,
) -> ApiResult {
    let mut db = st.db.write();
    let pid = mirror_project(&db, &caller, &id)?.id;
    let mid = find_mirror(&db, pid, &mid)?;
    if let Some(a) = auth_method(&p)
        && a != "password"
        && a != "ssh_public_key"
    {
        return Err(ApiError::validation(
            "auth_method",
            "is not included in the list",
        ));
    }
    if p.is_null("only_protected_branches") {
        return Err(ApiError::validation(
            "only_protected_branches",
            "can't be blank",
        ));
    }
    let enabled = p.bool("enabled")?;
    let keep = p.bool("keep_divergent_refs")?;
    let only_protected = p.bool("only_protected_branches")?;
    let ee = st.is_ee();
    let m = db
        .remote_mirrors
        .get_mut(&mid)
        .ok_or_else(ApiError::record_not_found)?;
    if let Some(e) = enabled {
        m.enabled = e;
    }
    if let Some(k) = keep {
        m.keep_divergent_refs = k;
    }
    if let Some(o) = only_protected {
        m.only_protected_branches = o;
    }
    if let Some(a) = auth_method(&p) {
        m.auth_method = a;
    }
    if ee && p.has("mirror_branch_regex") {
        m.mirror_branch_regex = p.str("mirror_branch_regex").filter(|s| !s.is_empty());
    }
    if m.only_protected_branches && m.mirror_branch_regex.is_some() {
        return Err(ApiError::validation(
            "mirror_branch_regex",
            "can't be set when only_protected_branches is enabled",
        ));
    }
    // `url` is not a declared PUT parameter: GitLab ignores it.
    let v = entities::remote_mirror(&st, &db, &db.remote_mirrors[&mid]);
    db.log("remote_mirror_updated", Some(pid), mid, "updated");
    Ok(ok(v))
}

pub async fn delete(
    st: St,
    Extension(caller): Extension<Caller>,
    Path((id, mid)): Path<(String, String)>,
) -> ApiResult {
    let mut db = st.db.write();
    let pid = mirror_project(&db, &caller, &id)?.id;
    let mid = find_mirror(&db, pid, &mid)?;
    let m = db
        .remote_mirrors
        .remove(&mid)
        .ok_or_else(ApiError::record_not_found)?;
    db.log(
        "remote_mirror_deleted",
        Some(pid),
        mid,
        crate::util::mask_url(&m.url),
    );
    Ok(no_content())
}

pub async fn sync(
    st: St,
    Extension(caller): Extension<Caller>,
    Path((id, mid)): Path<(String, String)>,
) -> ApiResult {
    let mid = {
        let db = st.db.read();
        let pid = mirror_project(&db, &caller, &id)?.id;
        find_mirror(&db, pid, &mid)?
    };
    crate::mirror::request_push_sync(&st.0, mid)?;
    Ok(no_content())
}
