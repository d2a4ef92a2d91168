//! `/groups` (list, get, create, projects, subgroups, descendants) and
//! `/namespaces`.

use axum::Extension;
use axum::extract::Path;
use serde_json::{Value, json};

use super::St;
use crate::api::projects::{filter_and_sort, render_listed};
use crate::auth::Caller;
use crate::entities;
use crate::error::{ApiError, ApiResult, created, ok};
use crate::instance::Instance;
use crate::model::{Db, Group, Namespace, access};
use crate::pagination::paginate;
use crate::params::Params;

fn visible_group<'a>(db: &'a Db, caller: &Caller, id: &str) -> Result<&'a Group, ApiError> {
    let g = db
        .find_group(id)
        .ok_or_else(|| ApiError::not_found("Group"))?;
    if !db.can_read_group(caller.uid(), g) {
        return Err(ApiError::not_found("Group"));
    }
    Ok(g)
}

fn is_member_somewhere(db: &Db, uid: u64, g: &Group) -> bool {
    db.group_access(uid, g.id) > 0
        || db
            .group_members
            .iter()
            .any(|(gid, m)| m.contains_key(&uid) && db.group_within(*gid, g.id))
        || db.projects.values().any(|p| {
            matches!(p.namespace, Namespace::Group(pg) if db.group_within(pg, g.id))
                && db
                    .project_members
                    .get(&p.id)
                    .is_some_and(|m| m.contains_key(&uid))
        })
}

/// Filter and order groups like `GroupsFinder`.
fn filter_groups<'a>(
    db: &'a Db,
    caller: &Caller,
    p: &Params,
    candidates: Vec<&'a Group>,
) -> Result<Vec<&'a Group>, ApiError> {
    let uid = caller.uid();
    let admin = caller.is_admin();
    let all_available = p.bool("all_available")?.unwrap_or(admin || uid.is_none());
    let owned = p.bool_or("owned", false)?;
    let top_level_only = p.bool_or("top_level_only", false)?;
    let min_level = p.int("min_access_level")?;
    let skip: Vec<u64> = p
        .list("skip_groups")
        .unwrap_or_default()
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect();
    let search = p.str("search").map(|s| s.to_lowercase());
    let visibility = p.str("visibility");
    let mut out: Vec<&Group> = candidates
        .into_iter()
        .filter(|g| db.can_read_group(uid, g))
        .filter(|g| all_available || uid.is_some_and(|u| is_member_somewhere(db, u, g)))
        .filter(|g| !owned || uid.is_some_and(|u| db.group_access(u, g.id) >= access::OWNER))
        .filter(|g| {
            min_level
                .is_none_or(|m| uid.is_some_and(|u| db.effective_group_access(u, g.id) as i64 >= m))
        })
        .filter(|g| !top_level_only || g.parent_id.is_none())
        .filter(|g| !skip.contains(&g.id))
        .filter(|g| visibility.as_ref().is_none_or(|v| &g.visibility == v))
        .filter(|g| {
            search.as_ref().is_none_or(|s| {
                g.name.to_lowercase().contains(s) || g.path.to_lowercase().contains(s)
            })
        })
        .collect();
    match p.str("order_by").as_deref().unwrap_or("name") {
        "name" => out.sort_by(|a, b| {
            a.name
                .to_lowercase()
                .cmp(&b.name.to_lowercase())
                .then(a.id.cmp(&b.id))
        }),
        "path" => out.sort_by(|a, b| a.path.cmp(&b.path).then(a.id.cmp(&b.id))),
        "id" => out.sort_by_key(|g| g.id),
        "similarity" => out.sort_by_key(|g| {
            (
                search.as_ref().is_some_and(|s| g.name.to_lowercase() != *s),
                g.id,
            )
        }),
        _ => return Err(ApiError::invalid_value("order_by")),
    }
    match p.str("sort").as_deref() {
        None | Some("asc") => {}
        Some("desc") => out.reverse(),
        Some(_) => return Err(ApiError::invalid_value("sort")),
    }
    Ok(out)
}

fn render_list(
    inst: &Instance,
    _db: &Db,
    p: &Params,
    groups: Vec<&Group>,
) -> Result<Vec<Value>, ApiError> {
    let stats = p.bool_or("statistics", false)?;
    Ok(groups
        .into_iter()
        .map(|g| {
            let mut v = entities::group(inst, g);
            if stats {
                v["statistics"] = json!({
                    "storage_size": 0, "repository_size": 0, "wiki_size": 0, "lfs_objects_size": 0,
                    "job_artifacts_size": 0, "pipeline_artifacts_size": 0, "packages_size": 0,
                    "snippets_size": 0, "uploads_size": 0,
                });
            }
            v
        })
        .collect())
}

pub async fn list(st: St, Extension(caller): Extension<Caller>, p: Params) -> ApiResult {
    let db = st.db.read();
    let groups = filter_groups(&db, &caller, &p, db.groups.values().collect())?;
    let items = render_list(&st, &db, &p, groups)?;
    paginate(&st.base_url, &p, items)
}

fn group_detail(
    inst: &Instance,
    db: &Db,
    caller: &Caller,
    g: &Group,
    with_projects: bool,
) -> Value {
    let mut v = entities::group(inst, g);
    let m = v.as_object_mut().expect("object");
    m.insert("shared_with_groups".into(), json!([]));
    m.insert(
        "prevent_sharing_groups_outside_hierarchy".into(),
        json!(false),
    );
    m.insert("shared_runners_minutes_limit".into(), Value::Null);
    m.insert("extra_shared_runners_minutes_limit".into(), Value::Null);
    m.insert("prevent_forking_outside_group".into(), json!(false));
    m.insert("membership_lock".into(), json!(false));
    if with_projects {
        let projects: Vec<Value> = db
            .group_projects(g.id, false)
            .into_iter()
            .filter(|p| db.can_read_project(caller.uid(), p))
            .take(100)
            .map(|p| entities::project_full(inst, db, p, caller.uid(), false))
            .collect();
        m.insert("projects".into(), Value::Array(projects));
        m.insert("shared_projects".into(), json!([]));
    }
    v
}

pub async fn get_one(
    st: St,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    p: Params,
) -> ApiResult {
    let db = st.db.read();
    let g = visible_group(&db, &caller, &id)?;
    let with_projects = p.bool_or("with_projects", true)?;
    Ok(ok(group_detail(&st, &db, &caller, g, with_projects)))
}

pub async fn create(st: St, Extension(caller): Extension<Caller>, p: Params) -> ApiResult {
    let me = caller.user()?.clone();
    let name = p.str("name").ok_or_else(|| ApiError::missing("name"))?;
    let path = p.str("path").ok_or_else(|| ApiError::missing("path"))?;
    let visibility = p.str("visibility").unwrap_or_else(|| "private".into());
    if !["private", "internal", "public"].contains(&visibility.as_str()) {
        return Err(ApiError::invalid_value("visibility"));
    }
    let mut db = st.db.write();
    let parent = match p.int("parent_id")? {
        None => None,
        Some(pid) => {
            let g = db
                .groups
                .get(&(pid as u64))
                .ok_or_else(|| ApiError::not_found("Group"))?;
            if db.effective_group_access(me.user_id, g.id) < access::MAINTAINER {
                return Err(ApiError::forbidden());
            }
            Some(g.id)
        }
    };
    if me.bot {
        return Err(ApiError::forbidden());
    }
    let full = match parent {
        Some(pid) => format!("{}/{}", db.groups[&pid].full_path, path),
        None => path.clone(),
    };
    if db.group_paths.contains_key(&full.to_ascii_lowercase()) {
        return Err(ApiError::bad_request(
            "Failed to save group {:path=>[\"has already been taken\"]}",
        ));
    }
    let gid = Instance::create_group(
        &mut db,
        &name,
        &path,
        parent,
        &visibility,
        &p.str("description").unwrap_or_default(),
    );
    if parent.is_none() || !me.is_admin {
        db.add_group_member(gid, me.user_id, access::OWNER);
    }
    let g = db.groups[&gid].clone();
    Ok(created(group_detail(&st, &db, &caller, &g, true)))
}

pub async fn projects(
    st: St,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    p: Params,
) -> ApiResult {
    let db = st.db.read();
    let g = visible_group(&db, &caller, &id)?;
    let recursive = p.bool_or("include_subgroups", false)?;
    let candidates = db.group_projects(g.id, recursive);
    let items = filter_and_sort(&db, &caller, &p, candidates)?;
    let rendered = items
        .into_iter()
        .map(|pr| render_listed(&st, &db, &caller, &p, pr))
        .collect::<Result<Vec<_>, _>>()?;
    paginate(&st.base_url, &p, rendered)
}

pub async fn subgroups(
    st: St,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    p: Params,
) -> ApiResult {
    let db = st.db.read();
    let g = visible_group(&db, &caller, &id)?;
    let children: Vec<&Group> = db
        .groups
        .values()
        .filter(|c| c.parent_id == Some(g.id))
        .collect();
    let mut q = p.clone();
    q.map.entry("all_available").or_insert(json!(true));
    let groups = filter_groups(&db, &caller, &q, children)?;
    let items = render_list(&st, &db, &p, groups)?;
    paginate(&st.base_url, &p, items)
}

pub async fn descendants(
    st: St,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    p: Params,
) -> ApiResult {
    let db = st.db.read();
    let g = visible_group(&db, &caller, &id)?;
    let desc: Vec<&Group> = db
        .groups
        .values()
        .filter(|c| c.id != g.id && db.group_within(c.id, g.id))
        .collect();
    let mut q = p.clone();
    q.map.entry("all_available").or_insert(json!(true));
    let groups = filter_groups(&db, &caller, &q, desc)?;
    let items = render_list(&st, &db, &p, groups)?;
    paginate(&st.base_url, &p, items)
}

fn namespace_entity(inst: &Instance, db: &Db, ns: Namespace) -> Value {
    let mut v = entities::namespace_basic(inst, db, ns);
    let count = match ns {
        Namespace::Group(g) => db.group_projects(g, true).len(),
        Namespace::User(u) => db
            .projects
            .values()
            .filter(|p| p.namespace == Namespace::User(u))
            .count(),
    };
    v["members_count_with_descendants"] = json!(1);
    v["projects_count"] = json!(count);
    v["root_repository_size"] = json!(0);
    v["billable_members_count"] = json!(1);
    if inst.is_ee() {
        v["plan"] = json!("ultimate");
        v["trial"] = json!(false);
        v["trial_ends_on"] = Value::Null;
    }
    v
}

pub async fn namespaces(st: St, Extension(caller): Extension<Caller>, p: Params) -> ApiResult {
    let me = caller.user()?.clone();
    let db = st.db.read();
    let search = p.str("search").map(|s| s.to_lowercase());
    let mut items = vec![];
    let own = Namespace::User(me.user_id);
    let own_path = db.namespace_full_path(own).0;
    if search
        .as_ref()
        .is_none_or(|s| own_path.to_lowercase().contains(s))
    {
        items.push(namespace_entity(&st, &db, own));
    }
    for g in db.groups.values() {
        let member = me.is_admin || db.group_access(me.user_id, g.id) > 0;
        if member
            && search.as_ref().is_none_or(|s| {
                g.full_path.to_lowercase().contains(s) || g.name.to_lowercase().contains(s)
            })
        {
            items.push(namespace_entity(&st, &db, Namespace::Group(g.id)));
        }
    }
    paginate(&st.base_url, &p, items)
}

pub async fn namespace(
    st: St,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult {
    let me = caller.user()?.clone();
    let db = st.db.read();
    if let Some(g) = db.find_group(&id)
        && (me.is_admin || db.group_access(me.user_id, g.id) > 0)
    {
        return Ok(ok(namespace_entity(&st, &db, Namespace::Group(g.id))));
    }
    let own_id = (crate::model::USER_NS_OFFSET + me.user_id).to_string();
    if id == own_id || id == me.username {
        return Ok(ok(namespace_entity(&st, &db, Namespace::User(me.user_id))));
    }
    Err(ApiError::not_found("Namespace"))
}
