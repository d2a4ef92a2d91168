//! `/projects`: list and search, get, create, edit (incl. the legacy
//! pull-mirror fields), delete.

use std::sync::Arc;

use axum::Extension;
use axum::extract::Path;
use axum::http::StatusCode;
use chrono::Utc;
use serde_json::{Value, json};

use super::{St, level, require_maintainer, visible_project};
use crate::auth::Caller;
use crate::entities;
use crate::error::{ApiError, ApiResult, created, json_status, ok};
use crate::instance::{Instance, NewProject};
use crate::model::{Db, ImportState, Namespace, Project, access};
use crate::pagination::{keyset_by_id, paginate};
use crate::params::Params;

fn matches_search(db: &Db, p: &Project, terms: &[String], namespaces: bool) -> bool {
    terms.iter().all(|t| {
        p.path.to_lowercase().contains(t)
            || p.name.to_lowercase().contains(t)
            || p.description
                .as_deref()
                .is_some_and(|d| d.to_lowercase().contains(t))
            || (namespaces && p.full_path.to_lowercase().contains(t))
            || (namespaces
                && db
                    .namespace_full_path(p.namespace)
                    .1
                    .to_lowercase()
                    .contains(t))
    })
}

/// Shared project filtering/ordering for `/projects` and `/groups/:id/projects`.
pub fn filter_and_sort<'a>(
    db: &'a Db,
    caller: &Caller,
    p: &Params,
    candidates: Vec<&'a Project>,
) -> Result<Vec<&'a Project>, ApiError> {
    let uid = caller.uid();
    let membership = p.bool_or("membership", false)?;
    let owned = p.bool_or("owned", false)?;
    let archived = p.bool("archived")?;
    let visibility = p.str("visibility");
    let min_level = p.int("min_access_level")?;
    let search: Vec<String> = p
        .str("search")
        .map(|s| {
            s.to_lowercase()
                .split(['+', ' '])
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let search_ns = p.bool_or("search_namespaces", false)?;
    let id_after = p.int("id_after")?;
    let id_before = p.int("id_before")?;
    let la_after = p
        .str("last_activity_after")
        .and_then(|s| crate::util::parse_ts(&s));
    let la_before = p
        .str("last_activity_before")
        .and_then(|s| crate::util::parse_ts(&s));
    let up_after = p
        .str("updated_after")
        .and_then(|s| crate::util::parse_ts(&s));
    let up_before = p
        .str("updated_before")
        .and_then(|s| crate::util::parse_ts(&s));
    let topic = p.list("topic");
    let mut out: Vec<&Project> = candidates
        .into_iter()
        .filter(|pr| db.can_read_project(uid, pr))
        .filter(|pr| !membership || uid.is_some_and(|u| db.project_access(u, pr) > 0))
        .filter(|pr| !owned || uid.is_some_and(|u| db.project_access(u, pr) >= access::OWNER))
        .filter(|pr| {
            min_level
                .is_none_or(|m| uid.is_some_and(|u| db.effective_project_access(u, pr) as i64 >= m))
        })
        .filter(|pr| archived.is_none_or(|a| pr.archived == a))
        .filter(|pr| visibility.as_ref().is_none_or(|v| &pr.visibility == v))
        .filter(|pr| search.is_empty() || matches_search(db, pr, &search, search_ns))
        .filter(|pr| {
            id_after.is_none_or(|a| pr.id as i64 > a)
                && id_before.is_none_or(|b| (pr.id as i64) < b)
        })
        .filter(|pr| {
            la_after.is_none_or(|t| pr.last_activity_at > t)
                && la_before.is_none_or(|t| pr.last_activity_at < t)
        })
        .filter(|pr| {
            up_after.is_none_or(|t| pr.updated_at > t)
                && up_before.is_none_or(|t| pr.updated_at < t)
        })
        .filter(|pr| {
            topic
                .as_ref()
                .is_none_or(|ts| ts.iter().all(|t| pr.topics.contains(t)))
        })
        .collect();
    let order_by = p.str("order_by").unwrap_or_else(|| "created_at".into());
    let desc = match p.str("sort").as_deref() {
        None => true,
        Some("desc") => true,
        Some("asc") => false,
        Some(_) => return Err(ApiError::invalid_value("sort")),
    };
    match order_by.as_str() {
        "id" => out.sort_by_key(|x| x.id),
        "name" => out.sort_by(|a, b| {
            a.name
                .to_lowercase()
                .cmp(&b.name.to_lowercase())
                .then(a.id.cmp(&b.id))
        }),
        "path" => out.sort_by(|a, b| a.path.cmp(&b.path).then(a.id.cmp(&b.id))),
        "created_at" => out.sort_by_key(|x| (x.created_at, x.id)),
        "updated_at" => out.sort_by_key(|x| (x.updated_at, x.id)),
        "last_activity_at" => out.sort_by_key(|x| (x.last_activity_at, x.id)),
        "star_count" | "storage_size" | "repository_size" => out.sort_by_key(|x| x.id),
        "similarity" => {
            let q = search.join(" ");
            let score = |x: &Project| {
                let n = x.name.to_lowercase();
                if n == q {
                    3
                } else if n.starts_with(&q) {
                    2
                } else if n.contains(&q) {
                    1
                } else {
                    0
                }
            };
            out.sort_by_key(|x| (score(x), std::cmp::Reverse(x.id)));
        }
        _ => return Err(ApiError::invalid_value("order_by")),
    }
    if desc {
        out.reverse();
    }
    Ok(out)
}

/// Render a listed project (simple form for `simple=true` or anonymous).
pub fn render_listed(
    inst: &Instance,
    db: &Db,
    caller: &Caller,
    p: &Params,
    pr: &Project,
) -> Result<Value, ApiError> {
    let simple = p.bool_or("simple", false)? || caller.uid().is_none();
    Ok(if simple {
        entities::project_simple(inst, db, pr)
    } else {
        entities::project_full(inst, db, pr, caller.uid(), false)
    })
}

pub async fn list(st: St, Extension(caller): Extension<Caller>, p: Params) -> ApiResult {
    let db = st.db.read();
    let keyset = p.str("pagination").as_deref() == Some("keyset");
    if keyset && p.str("order_by").is_some_and(|o| o != "id") {
        return Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            json!({"message": "405 Method Not Allowed - Keyset pagination is not yet available for this type of request"}),
        ));
    }
    if keyset {
        // Keyset pagination orders by id; the cursor is applied by the paginator.
        let mut q = p.clone();
        q.map.insert("order_by".into(), json!("id"));
        q.map.remove("id_after");
        q.map.remove("id_before");
        let desc = p.str("sort").as_deref() == Some("desc");
        q.map
            .insert("sort".into(), json!(if desc { "desc" } else { "asc" }));
        let items = filter_and_sort(&db, &caller, &q, db.projects.values().collect())?;
        let rendered = items
            .into_iter()
            .map(|pr| render_listed(&st, &db, &caller, &p, pr).map(|v| (pr.id, v)))
            .collect::<Result<Vec<_>, _>>()?;
        return keyset_by_id(&st.base_url, &p, rendered, desc);
    }
    let items = filter_and_sort(&db, &caller, &p, db.projects.values().collect())?;
    let rendered = items
        .into_iter()
        .map(|pr| render_listed(&st, &db, &caller, &p, pr))
        .collect::<Result<Vec<_>, _>>()?;
    paginate(&st.base_url, &p, rendered)
}

pub async fn get_one(
    st: St,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult {
    let db = st.db.read();
    let p = visible_project(&db, &caller, &id)?;
    Ok(ok(entities::project_full(&st, &db, p, caller.uid(), true)))
}

fn validate_visibility(p: &Params) -> Result<Option<String>, ApiError> {
    match p.str("visibility") {
        None => Ok(None),
        Some(v) if ["private", "internal", "public"].contains(&v.as_str()) => Ok(Some(v)),
        Some(_) => Err(ApiError::invalid_value("visibility")),
    }
}

fn slug(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while out.contains("--") {
        out = out.replace("--", "-");
    }
    out.trim_matches('-').to_string()
}

pub async fn create(st: St, Extension(caller): Extension<Caller>, p: Params) -> ApiResult {
    let me = caller.user()?.clone();
    let name = p.str("name").filter(|s| !s.is_empty());
    let path = p.str("path").filter(|s| !s.is_empty());
    if name.is_none() && path.is_none() {
        return Err(ApiError::grape(
            "name, path are missing, at least one parameter must be provided",
        ));
    }
    let visibility = validate_visibility(&p)?;
    let import_url = p.str("import_url").filter(|s| !s.is_empty());
    if let Some(u) = &import_url
        && !crate::util::url_scheme_allowed(u)
    {
        return Err(ApiError::validation(
            "import_url",
            "is blocked: Only allowed schemes are http, https, ssh, git",
        ));
    }
    let mirror = st.is_ee() && p.bool_or("mirror", false)?;
    let readme = p.bool_or("initialize_with_readme", false)?;
    let np = {
        let mut db = st.db.write();
        let ns = match p.str("namespace_id").or_else(|| p.str("namespace")) {
            None => Namespace::User(me.user_id),
            Some(n) => {
                let g = db.find_group(&n).map(|g| g.id);
                match g {
                    Some(g) if db.effective_group_access(me.user_id, g) >= access::DEVELOPER => {
                        Namespace::Group(g)
                    }
                    Some(_) => return Err(ApiError::validation("namespace", "is not valid")),
                    None if n == me.username
                        || n.parse::<u64>().ok()
                            == Some(crate::model::USER_NS_OFFSET + me.user_id) =>
                    {
                        Namespace::User(me.user_id)
                    }
                    None => return Err(ApiError::not_found("Namespace")),
                }
            }
        };
        if me.bot {
            return Err(ApiError::forbidden());
        }
        let np = NewProject {
            name: name
                .clone()
                .unwrap_or_else(|| path.clone().unwrap_or_default()),
            path: path
                .clone()
                .unwrap_or_else(|| slug(name.as_deref().unwrap_or_default())),
            namespace: Some(ns),
            description: p.str("description"),
            visibility,
            topics: p
                .list("topics")
                .or_else(|| p.list("tag_list"))
                .unwrap_or_default(),
        };
        let pid = st.insert_project(&mut db, &np, me.user_id)?;
        let pr = db.projects.get_mut(&pid).expect("just inserted");
        if let Some(u) = &import_url {
            pr.import_url = Some(u.clone());
            pr.import_type = Some("git".into());
            pr.import_state = Some(ImportState {
                id: pid,
                status: "scheduled".into(),
                ..Default::default()
            });
            if mirror {
                apply_mirror_flags(pr, &p, me.user_id)?;
                pr.mirror = true;
            }
        }
        let full = pr.full_path.clone();
        db.log("project_created", Some(pid), pid, full);
        pid
    };
    st.init_repo(np)
        .await
        .map_err(|e| ApiError::message(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    if readme {
        let branch = p
            .str("default_branch")
            .unwrap_or_else(|| st.default_branch.clone());
        let repo = st.repo_path_by_id(np).unwrap_or_default();
        let name = st
            .db
            .read()
            .projects
            .get(&np)
            .map(|x| x.name.clone())
            .unwrap_or_default();
        let stream = crate::seed::readme_stream(&branch, &name);
        let _ = st.git.fast_import(&repo, stream.as_bytes()).await;
        let _ = st.git.set_head(&repo, &branch).await;
        let _ = st.refresh_repo(np).await;
    }
    if import_url.is_some() {
        let inst = st.0.clone();
        tokio::spawn(crate::mirror::run_import(inst, np));
    }
    let db = st.db.read();
    let pr = db
        .projects
        .get(&np)
        .ok_or_else(|| ApiError::not_found("Project"))?;
    Ok(created(entities::project_full(
        &st,
        &db,
        pr,
        Some(me.user_id),
        true,
    )))
}

/// The EE `mirror_*` parameters shared by `POST/PUT /projects`.
fn apply_mirror_flags(pr: &mut Project, p: &Params, uid: u64) -> Result<(), ApiError> {
    if let Some(b) = p.bool("mirror_trigger_builds")? {
        pr.mirror_trigger_builds = b;
    }
    if p.has("only_mirror_protected_branches") {
        pr.only_mirror_protected_branches = p.bool("only_mirror_protected_branches")?;
    }
    if let Some(b) = p.bool("mirror_overwrites_diverged_branches")? {
        pr.mirror_overwrites_diverged_branches = b;
    }
    if p.has("mirror_branch_regex") {
        let r = p.str("mirror_branch_regex").filter(|s| !s.is_empty());
        if let Some(re) = &r
            && regex::Regex::new(re).is_err()
        {
            return Err(ApiError::validation(
                "mirror_branch_regex",
                "not valid RE2 syntax: invalid regular expression",
            ));
        }
        pr.mirror_branch_regex = r;
    }
    if pr.only_mirror_protected_branches == Some(true) && pr.mirror_branch_regex.is_some() {
        return Err(ApiError::grape(
            "only_mirror_protected_branches, mirror_branch_regex are mutually exclusive",
        ));
    }
    pr.mirror_user_id = Some(p.int("mirror_user_id")?.map(|x| x as u64).unwrap_or(uid));
    Ok(())
}

pub async fn edit(
    st: St,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    p: Params,
) -> ApiResult {
    let me = caller.user()?.clone();
    let visibility = validate_visibility(&p)?;
    let mut start_pull = false;
    let pid = {
        let mut db = st.db.write();
        let pr = visible_project(&db, &caller, &id)?;
        require_maintainer(&db, &caller, pr)?;
        let pid = pr.id;
        let (ns_path, ns_name) = db.namespace_full_path(pr.namespace);
        if let Some(new_path) = p.str("path").filter(|s| !s.is_empty()) {
            let full = format!("{ns_path}/{new_path}");
            if db
                .project_paths
                .get(&full.to_ascii_lowercase())
                .is_some_and(|o| *o != pid)
            {
                return Err(ApiError::validation("path", "has already been taken"));
            }
        }
        let ee = st.is_ee();
        let pr = db.projects.get_mut(&pid).expect("exists");
        if let Some(n) = p.str("name").filter(|s| !s.is_empty()) {
            pr.name = n;
            pr.name_with_namespace = format!("{} / {}", ns_name, pr.name);
        }
        let mut renamed = None;
        if let Some(new_path) = p.str("path").filter(|s| !s.is_empty())
            && new_path != pr.path
        {
            let old = pr.full_path.clone();
            pr.path = new_path;
            pr.full_path = format!("{ns_path}/{}", pr.path);
            renamed = Some((old, pr.full_path.clone()));
        }
        if p.has("description") {
            pr.description = p.str("description");
        }
        if let Some(v) = visibility {
            pr.visibility = v;
        }
        if let Some(t) = p.list("topics").or_else(|| p.list("tag_list")) {
            pr.topics = t;
        }
        if let Some(a) = p.bool("archived")? {
            pr.archived = a;
        }
        if let Some(b) = p.str("default_branch").filter(|s| !s.is_empty()) {
            pr.default_branch = Some(b);
        }
        if let Some(u) = p.str("import_url") {
            if !u.is_empty() && !crate::util::url_scheme_allowed(&u) {
                return Err(ApiError::validation(
                    "import_url",
                    "is blocked: Only allowed schemes are http, https, ssh, git",
                ));
            }
            if u.is_empty() {
                pr.import_url = None;
            } else if pr.import_url.as_deref() != Some(u.as_str()) {
                pr.import_url = Some(u);
                if let Some(s) = pr.import_state.as_mut() {
                    s.hard_failed = false;
                    s.retry_count = 0;
                }
            }
        }
        let mut mirror_log = None;
        if ee {
            let was = pr.mirror;
            if let Some(m) = p.bool("mirror")? {
                if m && pr.import_url.is_none() {
                    return Err(ApiError::validation("import_url", "can't be blank"));
                }
                pr.mirror = m;
            }
            if pr.mirror {
                apply_mirror_flags(pr, &p, me.user_id)?;
                pr.import_type.get_or_insert_with(|| "git".into());
                let st_ = pr.import_state.get_or_insert_with(|| ImportState {
                    id: pid,
                    status: "none".into(),
                    ..Default::default()
                });
                if !was {
                    st_.hard_failed = false;
                    st_.retry_count = 0;
                    start_pull = true;
                }
            }
            if was != pr.mirror {
                mirror_log = Some(if pr.mirror {
                    "pull_mirror_configured"
                } else {
                    "pull_mirror_disabled"
                });
            } else if pr.mirror && p.has("import_url") {
                mirror_log = Some("pull_mirror_updated");
            }
        }
        pr.updated_at = Utc::now();
        if let Some((old, new)) = renamed {
            db.project_paths.remove(&old.to_ascii_lowercase());
            db.project_paths.insert(new.to_ascii_lowercase(), pid);
        }
        if let Some(kind) = mirror_log {
            let url = db.projects[&pid]
                .import_url
                .as_deref()
                .map(crate::util::mask_url)
                .unwrap_or_default();
            db.log(kind, Some(pid), pid, url);
        }
        pid
    };
    if let Some(b) = p.str("default_branch").filter(|s| !s.is_empty())
        && let Some(repo) = st.repo_path_by_id(pid)
    {
        let _ = st.git.set_head(&repo, &b).await;
    }
    if start_pull && st.timing.read().pull_on_configure {
        let _ = crate::mirror::request_pull(&st.0, pid);
    }
    let db = st.db.read();
    let pr = db
        .projects
        .get(&pid)
        .ok_or_else(|| ApiError::not_found("Project"))?;
    Ok(ok(entities::project_full(
        &st,
        &db,
        pr,
        Some(me.user_id),
        true,
    )))
}

pub async fn delete(
    st: St,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult {
    caller.user()?;
    let dir = {
        let mut db = st.db.write();
        let pr = visible_project(&db, &caller, &id)?;
        if level(&db, &caller, pr) < access::OWNER {
            return Err(ApiError::forbidden());
        }
        let (pid, full) = (pr.id, pr.full_path.clone());
        db.log("project_deleted", Some(pid), pid, full);
        st.remove_project(&mut db, pid)
    };
    if let Some(d) = dir {
        tokio::spawn(async move {
            let _ = tokio::fs::remove_dir_all(d).await;
        });
    }
    Ok(json_status(
        StatusCode::ACCEPTED,
        json!({"message": "202 Accepted"}),
    ))
}

/// Used by admin helpers: project id by path.
pub fn project_id(inst: &Arc<Instance>, path: &str) -> Option<u64> {
    inst.db.read().find_project(path).map(|p| p.id)
}
