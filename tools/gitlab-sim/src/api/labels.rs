//! Project labels and milestones.

use axum::Extension;
use axum::extract::Path;
use chrono::Utc;
use serde_json::{Value, json};

use super::{St, level, visible_project};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, created, no_content, ok};
use crate::instance::Instance;
use crate::model::{Db, Label, Milestone, Project, access};
use crate::pagination::paginate;
use crate::params::Params;
use crate::util::{date_opt, ts};

pub fn label_json(db: &Db, l: &Label) -> Value {
    let count = |state: &str| {
        db.issues
            .values()
            .filter(|i| {
                i.project_id == l.project_id && i.state == state && i.labels.contains(&l.name)
            })
            .count()
    };
    json!({
        "id": l.id,
        "name": l.name,
        "description": l.description,
        "description_html": l.description.clone().unwrap_or_default(),
        "text_color": text_color(&l.color),
        "color": l.color,
        "subscribed": false,
        "priority": l.priority,
        "is_project_label": true,
        "open_issues_count": count("opened"),
        "closed_issues_count": count("closed"),
        "open_merge_requests_count": 0,
    })
}

fn text_color(color: &str) -> &'static str {
    let hex = color.trim_start_matches('#');
    if hex.len() == 6
        && let Ok(v) = u32::from_str_radix(hex, 16)
    {
        let (r, g, b) = ((v >> 16) & 255, (v >> 8) & 255, v & 255);
        return if r * 299 + g * 587 + b * 114 > 128_000 {
            "#1F1E24"
        } else {
            "#FFFFFF"
        };
    }
    "#FFFFFF"
}

fn valid_color(c: &str) -> bool {
    match c.strip_prefix('#') {
        Some(h) => (h.len() == 6 || h.len() == 3) && h.chars().all(|x| x.is_ascii_hexdigit()),
        None => !c.is_empty() && c.chars().all(|x| x.is_ascii_alphabetic()),
    }
}

/// Create a label unless it exists (used when issues name unknown labels).
pub fn ensure_label(db: &mut Db, pid: u64, name: &str) {
    if db
        .labels
        .values()
        .any(|l| l.project_id == pid && l.name == name)
    {
        return;
    }
    let id = db.next_id("labels");
    db.labels.insert(
        id,
        Label {
            id,
            project_id: pid,
            name: name.to_string(),
            color: "#6699cc".into(),
            description: None,
            priority: None,
        },
    );
}

fn readable<'a>(db: &'a Db, caller: &Caller, id: &str) -> Result<&'a Project, ApiError> {
    visible_project(db, caller, id)
}

fn writable(db: &Db, caller: &Caller, id: &str, min: u8) -> Result<u64, ApiError> {
    caller.user()?;
    let p = visible_project(db, caller, id)?;
    if level(db, caller, p) < min {
        return Err(ApiError::forbidden());
    }
    Ok(p.id)
}

fn find_label(db: &Db, pid: u64, key: &str) -> Option<u64> {
    let by_id = key
        .parse::<u64>()
        .ok()
        .and_then(|i| db.labels.get(&i))
        .filter(|l| l.project_id == pid);
    by_id
        .or_else(|| {
            db.labels
                .values()
                .find(|l| l.project_id == pid && l.name == key)
        })
        .map(|l| l.id)
}

pub async fn list_labels(
    st: St,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    p: Params,
) -> ApiResult {
    let db = st.db.read();
    let proj = readable(&db, &caller, &id)?;
    let search = p.str("search").map(|s| s.to_lowercase());
    let mut labels: Vec<&Label> = db
        .labels
        .values()
        .filter(|l| l.project_id == proj.id)
        .filter(|l| {
            search
                .as_ref()
                .is_none_or(|s| l.name.to_lowercase().contains(s))
        })
        .collect();
    labels.sort_by_key(|a| a.name.to_lowercase());
    let items = labels.into_iter().map(|l| label_json(&db, l)).collect();
    paginate(&st.base_url, &p, items)
}

pub async fn get_label(
    st: St,
    Extension(caller): Extension<Caller>,
    Path((id, lid)): Path<(String, String)>,
) -> ApiResult {
    let db = st.db.read();
    let proj = readable(&db, &caller, &id)?;
    let l = find_label(&db, proj.id, &lid).ok_or_else(|| ApiError::not_found("Label"))?;
    Ok(ok(label_json(&db, &db.labels[&l])))
}

pub async fn create_label(
    st: St,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    p: Params,
) -> ApiResult {
    let name = p.req_str("name")?;
    let color = p.req_str("color")?;
    let mut db = st.db.write();
    let pid = writable(&db, &caller, &id, access::REPORTER)?;
    if !valid_color(&color) {
        return Err(ApiError::validation("color", "must be a valid color code"));
    }
    if db
        .labels
        .values()
        .any(|l| l.project_id == pid && l.name == name)
    {
        return Err(ApiError::conflict("Label already exists"));
    }
    let lid = db.next_id("labels");
    db.labels.insert(
        lid,
        Label {
            id: lid,
            project_id: pid,
            name,
            color,
            description: p.str("description"),
            priority: p.int("priority")?,
        },
    );
    Ok(created(label_json(&db, &db.labels[&lid])))
}

pub async fn update_label(
    st: St,
    Extension(caller): Extension<Caller>,
    Path((id, lid)): Path<(String, String)>,
    p: Params,
) -> ApiResult {
    let mut db = st.db.write();
    let pid = writable(&db, &caller, &id, access::REPORTER)?;
    let l = find_label(&db, pid, &lid).ok_or_else(|| ApiError::not_found("Label"))?;
    if !["new_name", "color", "description", "priority"]
        .iter()
        .any(|k| p.has(k))
    {
        return Err(ApiError::grape(
            "new_name, color, description, priority are missing, at least one parameter must be provided",
        ));
    }
    if let Some(c) = p.str("color")
        && !valid_color(&c)
    {
        return Err(ApiError::validation("color", "must be a valid color code"));
    }
    let new_name = p.str("new_name").filter(|s| !s.is_empty());
    if let Some(n) = &new_name
        && db
            .labels
            .values()
            .any(|x| x.project_id == pid && &x.name == n && x.id != l)
    {
        return Err(ApiError::conflict("Label already exists"));
    }
    let old_name = db.labels[&l].name.clone();
    let label = db.labels.get_mut(&l).expect("exists");
    if let Some(n) = new_name.clone() {
        label.name = n;
    }
    if let Some(c) = p.str("color") {
        label.color = c;
    }
    if p.has("description") {
        label.description = p.str("description");
    }
    if p.has("priority") {
        label.priority = p.int("priority")?;
    }
    if let Some(n) = new_name {
        for i in db.issues.values_mut().filter(|i| i.project_id == pid) {
            for x in i.labels.iter_mut().filter(|x| **x == old_name) {
                *x = n.clone();
            }
        }
    }
    Ok(ok(label_json(&db, &db.labels[&l])))
}

pub async fn delete_label(
    st: St,
    Extension(caller): Extension<Caller>,
    Path((id, lid)): Path<(String, String)>,
) -> ApiResult {
    let mut db = st.db.write();
    let pid = writable(&db, &caller, &id, access::REPORTER)?;
    let l = find_label(&db, pid, &lid).ok_or_else(|| ApiError::not_found("Label"))?;
    if let Some(label) = db.labels.remove(&l) {
        for i in db.issues.values_mut().filter(|i| i.project_id == pid) {
            i.labels.retain(|x| *x != label.name);
        }
    }
    Ok(no_content())
}

// ----- milestones -------------------------------------------------------------

pub fn milestone_json(inst: &Instance, db: &Db, m: &Milestone) -> Value {
    let path = db
        .projects
        .get(&m.project_id)
        .map(|p| p.full_path.clone())
        .unwrap_or_default();
    json!({
        "id": m.id,
        "iid": m.iid,
        "project_id": m.project_id,
        "title": m.title,
        "description": m.description,
        "state": m.state,
        "created_at": ts(&m.created_at),
        "updated_at": ts(&m.updated_at),
        "due_date": date_opt(&m.due_date),
        "start_date": date_opt(&m.start_date),
        "expired": m.due_date.is_some_and(|d| d < Utc::now().date_naive()),
        "web_url": format!("{}/-/milestones/{}", inst.web_url(&path), m.iid),
    })
}

fn find_milestone(db: &Db, pid: u64, key: &str) -> Result<u64, ApiError> {
    key.parse::<u64>()
        .ok()
        .and_then(|i| db.milestones.get(&i))
        .filter(|m| m.project_id == pid)
        .map(|m| m.id)
        .ok_or_else(|| ApiError::not_found("Milestone"))
}

fn date_param(p: &Params, k: &str) -> Result<Option<chrono::NaiveDate>, ApiError> {
    match p.str(k).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => crate::util::parse_date(&s)
            .map(Some)
            .ok_or_else(|| ApiError::invalid(k)),
    }
}

pub async fn list_milestones(
    st: St,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    p: Params,
) -> ApiResult {
    let db = st.db.read();
    let proj = readable(&db, &caller, &id)?;
    let state = p.str("state");
    let title = p.str("title");
    let search = p.str("search").map(|s| s.to_lowercase());
    let iids = p.list("iids").unwrap_or_default();
    let mut ms: Vec<&Milestone> = db
        .milestones
        .values()
        .filter(|m| m.project_id == proj.id)
        .filter(|m| state.as_ref().is_none_or(|s| &m.state == s))
        .filter(|m| title.as_ref().is_none_or(|t| &m.title == t))
        .filter(|m| {
            search
                .as_ref()
                .is_none_or(|s| m.title.to_lowercase().contains(s))
        })
        .filter(|m| iids.is_empty() || iids.contains(&m.iid.to_string()))
        .collect();
    ms.sort_by_key(|m| std::cmp::Reverse(m.id));
    let items = ms
        .into_iter()
        .map(|m| milestone_json(&st, &db, m))
        .collect();
    paginate(&st.base_url, &p, items)
}

pub async fn get_milestone(
    st: St,
    Extension(caller): Extension<Caller>,
    Path((id, mid)): Path<(String, String)>,
) -> ApiResult {
    let db = st.db.read();
    let proj = readable(&db, &caller, &id)?;
    let m = find_milestone(&db, proj.id, &mid)?;
    Ok(ok(milestone_json(&st, &db, &db.milestones[&m])))
}

pub async fn create_milestone(
    st: St,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    p: Params,
) -> ApiResult {
    let title = p.req_str("title")?;
    let due = date_param(&p, "due_date")?;
    let start = date_param(&p, "start_date")?;
    let mut db = st.db.write();
    let pid = writable(&db, &caller, &id, access::REPORTER)?;
    if db
        .milestones
        .values()
        .any(|m| m.project_id == pid && m.title == title)
    {
        return Err(ApiError::validation(
            "title",
            "already being used for another group or project milestone.",
        ));
    }
    let mid = db.next_id("milestones");
    let iid = db
        .milestones
        .values()
        .filter(|m| m.project_id == pid)
        .count() as u64
        + 1;
    let now = Utc::now();
    db.milestones.insert(
        mid,
        Milestone {
            id: mid,
            iid,
            project_id: pid,
            title,
            description: p.str("description"),
            state: "active".into(),
            due_date: due,
            start_date: start,
            created_at: now,
            updated_at: now,
        },
    );
    Ok(created(milestone_json(&st, &db, &db.milestones[&mid])))
}

pub async fn update_milestone(
    st: St,
    Extension(caller): Extension<Caller>,
    Path((id, mid)): Path<(String, String)>,
    p: Params,
) -> ApiResult {
    let due = date_param(&p, "due_date")?;
    let start = date_param(&p, "start_date")?;
    let mut db = st.db.write();
    let pid = writable(&db, &caller, &id, access::REPORTER)?;
    let m = find_milestone(&db, pid, &mid)?;
    if let Some(t) = p.str("title").filter(|s| !s.is_empty())
        && db
            .milestones
            .values()
            .any(|x| x.project_id == pid && x.title == t && x.id != m)
    {
        return Err(ApiError::validation(
            "title",
            "already being used for another group or project milestone.",
        ));
    }
    let ms = db.milestones.get_mut(&m).expect("exists");
    if let Some(t) = p.str("title").filter(|s| !s.is_empty()) {
        ms.title = t;
    }
    if p.has("description") {
        ms.description = p.str("description");
    }
    if p.has("due_date") {
        ms.due_date = due;
    }
    if p.has("start_date") {
        ms.start_date = start;
    }
    match p.str("state_event").as_deref() {
        Some("close") => ms.state = "closed".into(),
        Some("activate") => ms.state = "active".into(),
        Some(_) => return Err(ApiError::invalid_value("state_event")),
        None => {}
    }
    ms.updated_at = Utc::now();
    Ok(ok(milestone_json(&st, &db, &db.milestones[&m])))
}

pub async fn delete_milestone(
    st: St,
    Extension(caller): Extension<Caller>,
    Path((id, mid)): Path<(String, String)>,
) -> ApiResult {
    let mut db = st.db.write();
    let pid = writable(&db, &caller, &id, access::REPORTER)?;
    let m = find_milestone(&db, pid, &mid)?;
    db.milestones.remove(&m);
    for i in db.issues.values_mut().filter(|i| i.milestone_id == Some(m)) {
        i.milestone_id = None;
    }
    Ok(no_content())
}
