//! Branches and tags (read from the real repository) and protected branches.

use axum::Extension;
use axum::extract::Path;
use axum::http::StatusCode;

use super::{St, level, require_maintainer, visible_project};
use crate::auth::Caller;
use crate::entities;
use crate::error::{ApiError, ApiResult, created, no_content, ok};
use crate::git::RefInfo;
use crate::model::{Project, ProtectedBranch, access};
use crate::pagination::paginate;
use crate::params::Params;

/// Project and repository path, if the caller may read code.
fn readable(
    st: &St,
    caller: &Caller,
    id: &str,
) -> Result<(Project, std::path::PathBuf, bool), ApiError> {
    let db = st.db.read();
    let p = visible_project(&db, caller, id)?;
    let lvl = level(&db, caller, p);
    if p.visibility == "private" && lvl < access::REPORTER {
        return Err(ApiError::forbidden());
    }
    Ok((p.clone(), st.repo_path(p), lvl >= access::DEVELOPER))
}

fn search_match(name: &str, q: &str) -> bool {
    match (q.strip_prefix('^'), q.strip_suffix('$')) {
        (Some(pre), _) => name.starts_with(pre),
        (_, Some(suf)) => name.ends_with(suf),
        _ => name.contains(q),
    }
}

async fn refs(st: &St, repo: &std::path::Path, prefix: &str) -> Result<Vec<RefInfo>, ApiError> {
    st.git
        .refs_detailed(repo, prefix)
        .await
        .map_err(|e| ApiError::message(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

pub async fn branches(
    st: St,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    p: Params,
) -> ApiResult {
    let (proj, repo, can_push) = readable(&st, &caller, &id)?;
    let search = p.str("search");
    let items = refs(&st, &repo, "refs/heads/")
        .await?
        .iter()
        .filter(|r| search.as_deref().is_none_or(|q| search_match(&r.name, q)))
        .map(|r| entities::branch(&st, &proj, r, can_push))
        .collect();
    paginate(&st.base_url, &p, items)
}

pub async fn branch(
    st: St,
    Extension(caller): Extension<Caller>,
    Path((id, name)): Path<(String, String)>,
) -> ApiResult {
    let (proj, repo, can_push) = readable(&st, &caller, &id)?;
    let r = refs(&st, &repo, &format!("refs/heads/{name}"))
        .await?
        .into_iter()
        .find(|r| r.name == name)
        .ok_or_else(|| ApiError::not_found("Branch"))?;
    Ok(ok(entities::branch(&st, &proj, &r, can_push)))
}

pub async fn tags(
    st: St,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    p: Params,
) -> ApiResult {
    let (proj, repo, _) = readable(&st, &caller, &id)?;
    let search = p.str("search");
    let mut list: Vec<RefInfo> = refs(&st, &repo, "refs/tags/")
        .await?
        .into_iter()
        .filter(|r| search.as_deref().is_none_or(|q| search_match(&r.name, q)))
        .collect();
    let order = p.str("order_by").unwrap_or_else(|| "updated".into());
    match order.as_str() {
        "name" | "version" => list.sort_by(|a, b| a.name.cmp(&b.name)),
        "updated" => list.sort_by(|a, b| {
            a.commit
                .committed_date
                .cmp(&b.commit.committed_date)
                .then(a.name.cmp(&b.name))
        }),
        _ => return Err(ApiError::invalid_value("order_by")),
    }
    if p.str("sort").as_deref() != Some("asc") {
        list.reverse();
    }
    let items = list.iter().map(|r| entities::tag(&st, &proj, r)).collect();
    paginate(&st.base_url, &p, items)
}

pub async fn tag(
    st: St,
    Extension(caller): Extension<Caller>,
    Path((id, name)): Path<(String, String)>,
) -> ApiResult {
    let (proj, repo, _) = readable(&st, &caller, &id)?;
    let r = refs(&st, &repo, &format!("refs/tags/{name}"))
        .await?
        .into_iter()
        .find(|r| r.name == name)
        .ok_or_else(|| ApiError::not_found("Tag"))?;
    Ok(ok(entities::tag(&st, &proj, &r)))
}

pub async fn protected_list(
    st: St,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    p: Params,
) -> ApiResult {
    caller.user()?;
    let db = st.db.read();
    let proj = visible_project(&db, &caller, &id)?;
    if level(&db, &caller, proj) < access::DEVELOPER {
        return Err(ApiError::forbidden());
    }
    let search = p.str("search");
    let items = proj
        .protected_branches
        .iter()
        .filter(|b| search.as_deref().is_none_or(|q| b.name.contains(q)))
        .map(entities::protected_branch)
        .collect();
    paginate(&st.base_url, &p, items)
}

pub async fn protected_get(
    st: St,
    Extension(caller): Extension<Caller>,
    Path((id, name)): Path<(String, String)>,
) -> ApiResult {
    caller.user()?;
    let db = st.db.read();
    let proj = visible_project(&db, &caller, &id)?;
    if level(&db, &caller, proj) < access::DEVELOPER {
        return Err(ApiError::forbidden());
    }
    let b = proj
        .protected_branches
        .iter()
        .find(|b| b.name == name)
        .ok_or_else(ApiError::record_not_found)?;
    Ok(ok(entities::protected_branch(b)))
}

fn level_param(p: &Params, k: &str) -> Result<u8, ApiError> {
    match p.int(k)? {
        None => Ok(access::MAINTAINER),
        Some(v) if [0, 30, 40, 60].contains(&v) => Ok(v as u8),
        Some(_) => Err(ApiError::invalid_value(k)),
    }
}

pub async fn protect(
    st: St,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    p: Params,
) -> ApiResult {
    caller.user()?;
    let name = p.req_str("name")?;
    let push = level_param(&p, "push_access_level")?;
    let merge = level_param(&p, "merge_access_level")?;
    let force = p.bool_or("allow_force_push", false)?;
    let mut db = st.db.write();
    let pid = {
        let proj = visible_project(&db, &caller, &id)?;
        require_maintainer(&db, &caller, proj)?;
        if proj.protected_branches.iter().any(|b| b.name == name) {
            return Err(ApiError::conflict(&format!(
                "Protected branch '{name}' already exists"
            )));
        }
        proj.id
    };
    let bid = db.next_id("protected_branches");
    let pb = ProtectedBranch {
        id: bid,
        name,
        push_access_level: push,
        merge_access_level: merge,
        allow_force_push: force,
    };
    let v = entities::protected_branch(&pb);
    if let Some(proj) = db.projects.get_mut(&pid) {
        proj.protected_branches.push(pb);
    }
    Ok(created(v))
}

pub async fn unprotect(
    st: St,
    Extension(caller): Extension<Caller>,
    Path((id, name)): Path<(String, String)>,
) -> ApiResult {
    caller.user()?;
    let mut db = st.db.write();
    let pid = {
        let proj = visible_project(&db, &caller, &id)?;
        require_maintainer(&db, &caller, proj)?;
        if !proj.protected_branches.iter().any(|b| b.name == name) {
            return Err(ApiError::record_not_found());
        }
        proj.id
    };
    if let Some(proj) = db.projects.get_mut(&pid) {
        proj.protected_branches.retain(|b| b.name != name);
    }
    Ok(no_content())
}
