//! REST API v4 routes of one instance.

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::instance::Instance;
use crate::model::{Db, Project, access};

pub mod access_tokens;
pub mod groups;
pub mod issues;
pub mod labels;
pub mod meta;
pub mod projects;
pub mod pull_mirror;
pub mod remote_mirrors;
pub mod repository;
pub mod uploads;

pub type St = axum::extract::State<Arc<Instance>>;

/// A project the caller may see, else `404 Project Not Found`.
pub fn visible_project<'a>(db: &'a Db, caller: &Caller, id: &str) -> Result<&'a Project, ApiError> {
    let p = db
        .find_project(id)
        .ok_or_else(|| ApiError::not_found("Project"))?;
    if !db.can_read_project(caller.uid(), p) {
        return Err(ApiError::not_found("Project"));
    }
    Ok(p)
}

/// The caller's effective access level in a project (0 when anonymous).
pub fn level(db: &Db, caller: &Caller, p: &Project) -> u8 {
    caller
        .uid()
        .map(|u| db.effective_project_access(u, p))
        .unwrap_or(0)
}

/// Require an authenticated caller with at least `min` in the project;
/// otherwise answer `deny` (GitLab answers 401 or 403 depending on the API).
pub fn require_level(
    db: &Db,
    caller: &Caller,
    p: &Project,
    min: u8,
    deny: ApiError,
) -> Result<(), ApiError> {
    caller.user()?;
    if level(db, caller, p) < min {
        return Err(deny);
    }
    Ok(())
}

/// `admin_project` (Maintainer+) with 403 for others.
pub fn require_maintainer(db: &Db, caller: &Caller, p: &Project) -> Result<(), ApiError> {
    require_level(db, caller, p, access::MAINTAINER, ApiError::forbidden())
}

/// Every route the simulator serves (method, axum path): used by the
/// OpenAPI conformance test and the README.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/v4/version"),
    ("GET", "/api/v4/metadata"),
    ("GET", "/api/v4/user"),
    ("GET", "/api/v4/users"),
    ("GET", "/api/v4/users/{id}"),
    ("POST", "/api/v4/users/{id}/personal_access_tokens"),
    ("GET", "/api/v4/personal_access_tokens"),
    ("GET", "/api/v4/personal_access_tokens/self"),
    ("DELETE", "/api/v4/personal_access_tokens/self"),
    ("POST", "/api/v4/personal_access_tokens/self/rotate"),
    ("GET", "/api/v4/personal_access_tokens/{id}"),
    ("DELETE", "/api/v4/personal_access_tokens/{id}"),
    ("POST", "/api/v4/personal_access_tokens/{id}/rotate"),
    ("GET", "/api/v4/projects"),
    ("POST", "/api/v4/projects"),
    ("GET", "/api/v4/projects/{id}"),
    ("PUT", "/api/v4/projects/{id}"),
    ("DELETE", "/api/v4/projects/{id}"),
    ("GET", "/api/v4/projects/{id}/repository/branches"),
    ("GET", "/api/v4/projects/{id}/repository/branches/{branch}"),
    ("GET", "/api/v4/projects/{id}/repository/tags"),
    ("GET", "/api/v4/projects/{id}/repository/tags/{tag_name}"),
    ("GET", "/api/v4/projects/{id}/protected_branches"),
    ("POST", "/api/v4/projects/{id}/protected_branches"),
    ("GET", "/api/v4/projects/{id}/protected_branches/{name}"),
    ("DELETE", "/api/v4/projects/{id}/protected_branches/{name}"),
    ("GET", "/api/v4/projects/{id}/remote_mirrors"),
    ("POST", "/api/v4/projects/{id}/remote_mirrors"),
    ("GET", "/api/v4/projects/{id}/remote_mirrors/{mirror_id}"),
    ("PUT", "/api/v4/projects/{id}/remote_mirrors/{mirror_id}"),
    ("DELETE", "/api/v4/projects/{id}/remote_mirrors/{mirror_id}"),
    (
        "POST",
        "/api/v4/projects/{id}/remote_mirrors/{mirror_id}/sync",
    ),
    ("GET", "/api/v4/projects/{id}/mirror/pull"),
    ("PUT", "/api/v4/projects/{id}/mirror/pull"),
    ("POST", "/api/v4/projects/{id}/mirror/pull"),
    ("GET", "/api/v4/projects/{id}/access_tokens"),
    ("POST", "/api/v4/projects/{id}/access_tokens"),
    ("GET", "/api/v4/projects/{id}/access_tokens/{token_id}"),
    ("DELETE", "/api/v4/projects/{id}/access_tokens/{token_id}"),
    (
        "POST",
        "/api/v4/projects/{id}/access_tokens/{token_id}/rotate",
    ),
    ("POST", "/api/v4/projects/{id}/uploads"),
    ("GET", "/api/v4/projects/{id}/uploads"),
    ("GET", "/api/v4/projects/{id}/uploads/{upload_id}"),
    ("DELETE", "/api/v4/projects/{id}/uploads/{upload_id}"),
    ("GET", "/api/v4/projects/{id}/uploads/{secret}/{filename}"),
    (
        "DELETE",
        "/api/v4/projects/{id}/uploads/{secret}/{filename}",
    ),
    ("GET", "/api/v4/projects/{id}/issues"),
    ("POST", "/api/v4/projects/{id}/issues"),
    ("GET", "/api/v4/projects/{id}/issues/{issue_iid}"),
    ("PUT", "/api/v4/projects/{id}/issues/{issue_iid}"),
    ("DELETE", "/api/v4/projects/{id}/issues/{issue_iid}"),
    ("GET", "/api/v4/projects/{id}/issues/{issue_iid}/notes"),
    ("POST", "/api/v4/projects/{id}/issues/{issue_iid}/notes"),
    (
        "GET",
        "/api/v4/projects/{id}/issues/{issue_iid}/notes/{note_id}",
    ),
    (
        "PUT",
        "/api/v4/projects/{id}/issues/{issue_iid}/notes/{note_id}",
    ),
    (
        "DELETE",
        "/api/v4/projects/{id}/issues/{issue_iid}/notes/{note_id}",
    ),
    ("GET", "/api/v4/projects/{id}/issues/{issue_iid}/time_stats"),
    (
        "POST",
        "/api/v4/projects/{id}/issues/{issue_iid}/time_estimate",
    ),
    (
        "POST",
        "/api/v4/projects/{id}/issues/{issue_iid}/reset_time_estimate",
    ),
    (
        "POST",
        "/api/v4/projects/{id}/issues/{issue_iid}/add_spent_time",
    ),
    (
        "POST",
        "/api/v4/projects/{id}/issues/{issue_iid}/reset_spent_time",
    ),
    ("GET", "/api/v4/projects/{id}/labels"),
    ("POST", "/api/v4/projects/{id}/labels"),
    ("GET", "/api/v4/projects/{id}/labels/{label_id}"),
    ("PUT", "/api/v4/projects/{id}/labels/{label_id}"),
    ("DELETE", "/api/v4/projects/{id}/labels/{label_id}"),
    ("GET", "/api/v4/projects/{id}/milestones"),
    ("POST", "/api/v4/projects/{id}/milestones"),
    ("GET", "/api/v4/projects/{id}/milestones/{milestone_id}"),
    ("PUT", "/api/v4/projects/{id}/milestones/{milestone_id}"),
    ("DELETE", "/api/v4/projects/{id}/milestones/{milestone_id}"),
    ("GET", "/api/v4/groups"),
    ("POST", "/api/v4/groups"),
    ("GET", "/api/v4/groups/{id}"),
    ("GET", "/api/v4/groups/{id}/projects"),
    ("GET", "/api/v4/groups/{id}/subgroups"),
    ("GET", "/api/v4/groups/{id}/descendant_groups"),
    ("GET", "/api/v4/namespaces"),
    ("GET", "/api/v4/namespaces/{id}"),
];

/// Build the router of one instance.
pub fn router(inst: Arc<Instance>) -> Router {
    use access_tokens as at;
    use groups as g;
    use issues as i;
    use labels as l;
    use meta as m;
    use projects as p;
    use pull_mirror as pm;
    use remote_mirrors as rm;
    use repository as r;
    use uploads as up;
    let api = Router::new()
        .route("/api/v4/version", get(m::version))
        .route("/api/v4/metadata", get(m::version))
        .route("/api/v4/user", get(m::current_user))
        .route("/api/v4/users", get(m::list_users))
        .route("/api/v4/users/{id}", get(m::get_user))
        .route(
            "/api/v4/users/{id}/personal_access_tokens",
            post(m::create_pat),
        )
        .route("/api/v4/personal_access_tokens", get(m::list_pats))
        .route(
            "/api/v4/personal_access_tokens/self",
            get(m::get_self).delete(m::revoke_self),
        )
        .route(
            "/api/v4/personal_access_tokens/self/rotate",
            post(m::rotate_self),
        )
        .route(
            "/api/v4/personal_access_tokens/{id}",
            get(m::get_pat).delete(m::revoke_pat),
        )
        .route(
            "/api/v4/personal_access_tokens/{id}/rotate",
            post(m::rotate_pat),
        )
        .route("/api/v4/projects", get(p::list).post(p::create))
        .route(
            "/api/v4/projects/{id}",
            get(p::get_one).put(p::edit).delete(p::delete),
        )
        .route(
            "/api/v4/projects/{id}/repository/branches",
            get(r::branches),
        )
        .route(
            "/api/v4/projects/{id}/repository/branches/{branch}",
            get(r::branch),
        )
        .route("/api/v4/projects/{id}/repository/tags", get(r::tags))
        .route(
            "/api/v4/projects/{id}/repository/tags/{tag_name}",
            get(r::tag),
        )
        .route(
            "/api/v4/projects/{id}/protected_branches",
            get(r::protected_list).post(r::protect),
        )
        .route(
            "/api/v4/projects/{id}/protected_branches/{name}",
            get(r::protected_get).delete(r::unprotect),
        )
        .route(
            "/api/v4/projects/{id}/remote_mirrors",
            get(rm::list).post(rm::create),
        )
        .route(
            "/api/v4/projects/{id}/remote_mirrors/{mirror_id}",
            get(rm::get_one).put(rm::update).delete(rm::delete),
        )
        .route(
            "/api/v4/projects/{id}/remote_mirrors/{mirror_id}/sync",
            post(rm::sync),
        )
        .route(
            "/api/v4/projects/{id}/mirror/pull",
            get(pm::get_one).put(pm::configure).post(pm::start),
        )
        .route(
            "/api/v4/projects/{id}/access_tokens",
            get(at::list).post(at::create),
        )
        .route(
            "/api/v4/projects/{id}/access_tokens/{token_id}",
            get(at::get_one).delete(at::revoke),
        )
        .route(
            "/api/v4/projects/{id}/access_tokens/{token_id}/rotate",
            post(at::rotate),
        )
        .route(
            "/api/v4/projects/{id}/uploads",
            get(up::list).post(up::create),
        )
        .route(
            "/api/v4/projects/{id}/uploads/{upload_id}",
            get(up::get_by_id).delete(up::delete_by_id),
        )
        .route(
            "/api/v4/projects/{id}/uploads/{secret}/{filename}",
            get(up::get_by_secret).delete(up::delete_by_secret),
        )
        .route("/api/v4/projects/{id}/issues", get(i::list).post(i::create))
        .route(
            "/api/v4/projects/{id}/issues/{issue_iid}",
            get(i::get_one).put(i::update).delete(i::delete),
        )
        .route(
            "/api/v4/projects/{id}/issues/{issue_iid}/notes",
            get(i::notes).post(i::create_note),
        )
        .route(
            "/api/v4/projects/{id}/issues/{issue_iid}/notes/{note_id}",
            get(i::get_note).put(i::update_note).delete(i::delete_note),
        )
        .route(
            "/api/v4/projects/{id}/issues/{issue_iid}/time_stats",
            get(i::time_stats),
        )
        .route(
            "/api/v4/projects/{id}/issues/{issue_iid}/time_estimate",
            post(i::time_estimate),
        )
        .route(
            "/api/v4/projects/{id}/issues/{issue_iid}/reset_time_estimate",
            post(i::reset_time_estimate),
        )
        .route(
            "/api/v4/projects/{id}/issues/{issue_iid}/add_spent_time",
            post(i::add_spent_time),
        )
        .route(
            "/api/v4/projects/{id}/issues/{issue_iid}/reset_spent_time",
            post(i::reset_spent_time),
        )
        .route(
            "/api/v4/projects/{id}/labels",
            get(l::list_labels).post(l::create_label),
        )
        .route(
            "/api/v4/projects/{id}/labels/{label_id}",
            get(l::get_label)
                .put(l::update_label)
                .delete(l::delete_label),
        )
        .route(
            "/api/v4/projects/{id}/milestones",
            get(l::list_milestones).post(l::create_milestone),
        )
        .route(
            "/api/v4/projects/{id}/milestones/{milestone_id}",
            get(l::get_milestone)
                .put(l::update_milestone)
                .delete(l::delete_milestone),
        )
        .route("/api/v4/groups", get(g::list).post(g::create))
        .route("/api/v4/groups/{id}", get(g::get_one))
        .route("/api/v4/groups/{id}/projects", get(g::projects))
        .route("/api/v4/groups/{id}/subgroups", get(g::subgroups))
        .route("/api/v4/groups/{id}/descendant_groups", get(g::descendants))
        .route("/api/v4/namespaces", get(g::namespaces))
        .route("/api/v4/namespaces/{id}", get(g::namespace));
    let admin = crate::admin::router();
    api.merge(admin)
        .route("/-/health", get(|| async { "GitLab OK" }))
        .route(
            "/-/project/{id}/uploads/{secret}/{filename}",
            get(up::web_by_project_id),
        )
        .route(
            "/-/readiness",
            get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }),
        )
        .method_not_allowed_fallback(|| async {
            (
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                axum::Json(serde_json::json!({"error": "405 Not Allowed"})),
            )
        })
        .fallback(crate::git_http::fallback)
        .layer(axum::middleware::from_fn_with_state(
            inst.clone(),
            crate::server::pipeline,
        ))
        .with_state(inst)
}
