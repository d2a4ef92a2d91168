//! Issues, issue notes and issue time tracking.

use axum::Extension;
use axum::extract::Path;
use axum::http::StatusCode;
use chrono::Utc;
use serde_json::{Value, json};

use super::labels::{ensure_label, milestone_json};
use super::{St, level, visible_project};
use crate::auth::Caller;
use crate::entities::user_basic_by_id;
use crate::error::{ApiError, ApiResult, created, json_status, no_content, ok};
use crate::instance::Instance;
use crate::model::{Db, Issue, Note, access};
use crate::pagination::paginate;
use crate::params::Params;
use crate::util::{date_opt, ts, ts_opt};

/// Seconds in GitLab's time units (1d = 8h, 1w = 5d, 1mo = 4w).
const MIN: i64 = 60;
const HOUR: i64 = 3600;
const DAY: i64 = 8 * HOUR;
const WEEK: i64 = 5 * DAY;
const MONTH: i64 = 4 * WEEK;

/// Parse `1w2d3h30m`, `90m`, `1h 30m` (ChronicDuration-style).
pub fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim().replace(' ', "");
    if s.is_empty() {
        return None;
    }
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r.to_string()),
        None => (false, s),
    };
    let mut total = 0i64;
    let mut num = String::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            num.push(c);
            i += 1;
            continue;
        }
        let n: i64 = num.parse().ok()?;
        num.clear();
        let unit = if c == 'm' && chars.get(i + 1) == Some(&'o') {
            i += 2;
            MONTH
        } else {
            i += 1;
            match c {
                's' => 1,
                'm' => MIN,
                'h' => HOUR,
                'd' => DAY,
                'w' => WEEK,
                _ => return None,
            }
        };
        total += n * unit;
    }
    if !num.is_empty() {
        return None;
    }
    Some(if neg { -total } else { total })
}

/// `3h 30m`, or null for 0.
pub fn human(secs: i64) -> Value {
    if secs == 0 {
        return Value::Null;
    }
    let neg = secs < 0;
    let mut s = secs.abs();
    let mut parts = vec![];
    for (u, name) in [
        (MONTH, "mo"),
        (WEEK, "w"),
        (DAY, "d"),
        (HOUR, "h"),
        (MIN, "m"),
        (1, "s"),
    ] {
        if s >= u {
            parts.push(format!("{}{}", s / u, name));
            s %= u;
        }
    }
    let txt = parts.join(" ");
    json!(if neg { format!("-{txt}") } else { txt })
}

fn stats_json(i: &Issue) -> Value {
    json!({
        "time_estimate": i.time_estimate,
        "total_time_spent": i.total_time_spent,
        "human_time_estimate": human(i.time_estimate),
        "human_total_time_spent": human(i.total_time_spent),
    })
}

pub fn issue_json(inst: &Instance, db: &Db, i: &Issue) -> Value {
    let path = db
        .projects
        .get(&i.project_id)
        .map(|p| p.full_path.clone())
        .unwrap_or_default();
    let api = format!("{}/api/v4/projects/{}", inst.base_url, i.project_id);
    let assignees: Vec<Value> = i
        .assignee_ids
        .iter()
        .map(|u| user_basic_by_id(inst, db, *u))
        .collect();
    let notes = db
        .notes
        .values()
        .filter(|n| n.issue_id == i.id && !n.system)
        .count();
    let mut v = json!({
        "id": i.id,
        "iid": i.iid,
        "project_id": i.project_id,
        "title": i.title,
        "description": i.description,
        "state": i.state,
        "created_at": ts(&i.created_at),
        "updated_at": ts(&i.updated_at),
        "closed_at": ts_opt(&i.closed_at),
        "closed_by": i.closed_by.map(|u| user_basic_by_id(inst, db, u)),
        "labels": i.labels,
        "milestone": i.milestone_id.and_then(|m| db.milestones.get(&m)).map(|m| milestone_json(inst, db, m)),
        "assignees": assignees,
        "assignee": assignees.first().cloned(),
        "author": user_basic_by_id(inst, db, i.author_id),
        "type": i.issue_type.to_uppercase(),
        "issue_type": i.issue_type,
        "user_notes_count": notes,
        "merge_requests_count": 0,
        "upvotes": 0,
        "downvotes": 0,
        "due_date": date_opt(&i.due_date),
        "confidential": i.confidential,
        "discussion_locked": i.discussion_locked,
        "web_url": format!("{}/-/issues/{}", inst.web_url(&path), i.iid),
        "time_stats": stats_json(i),
        "task_completion_status": {"count": 0, "completed_count": 0},
        "has_tasks": false,
        "task_status": "",
        "references": {"short": format!("#{}", i.iid), "relative": format!("#{}", i.iid), "full": format!("{}#{}", path, i.iid)},
        "severity": "UNKNOWN",
        "subscribed": false,
        "moved_to_id": null,
        "imported": false,
        "imported_from": "none",
        "service_desk_reply_to": null,
        "_links": {
            "self": format!("{api}/issues/{}", i.iid),
            "notes": format!("{api}/issues/{}/notes", i.iid),
            "award_emoji": format!("{api}/issues/{}/award_emoji", i.iid),
            "project": api,
            "closed_as_duplicate_of": null,
        },
    });
    if inst.is_ee() {
        v["weight"] = json!(i.weight);
        v["blocking_issues_count"] = json!(0);
        v["epic_iid"] = Value::Null;
        v["epic"] = Value::Null;
        v["iteration"] = Value::Null;
        v["health_status"] = Value::Null;
    }
    v
}

fn note_json(inst: &Instance, db: &Db, n: &Note, iid: u64) -> Value {
    json!({
        "id": n.id,
        "type": null,
        "body": n.body,
        "attachment": null,
        "author": user_basic_by_id(inst, db, n.author_id),
        "created_at": ts(&n.created_at),
        "updated_at": ts(&n.updated_at),
        "system": n.system,
        "noteable_id": n.issue_id,
        "noteable_type": "Issue",
        "project_id": n.project_id,
        "noteable_iid": iid,
        "resolvable": false,
        "confidential": n.internal,
        "internal": n.internal,
        "imported": false,
        "imported_from": "none",
        "commands_changes": {},
    })
}

fn find_issue(db: &Db, pid: u64, iid: &str) -> Result<u64, ApiError> {
    iid.parse::<u64>()
        .ok()
        .and_then(|n| {
            db.issues
                .values()
                .find(|i| i.project_id == pid && i.iid == n)
        })
        .map(|i| i.id)
        .ok_or_else(|| ApiError::not_found("Issue"))
}

/// Project id after checks: read access, or `min` level for writes.
fn project_for(db: &Db, caller: &Caller, id: &str, min: u8) -> Result<u64, ApiError> {
    if min > 0 {
        caller.user()?;
    }
    let p = visible_project(db, caller, id)?;
    if min > 0 && level(db, caller, p) < min {
        return Err(ApiError::forbidden());
    }
    Ok(p.id)
}

pub async fn list(
    st: St,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    p: Params,
) -> ApiResult {
    let db = st.db.read();
    let pid = project_for(&db, &caller, &id, 0)?;
    let state = p.str("state").unwrap_or_else(|| "all".into());
    let labels = p.list("labels");
    let milestone = p.str("milestone");
    let iids = p.list("iids").unwrap_or_default();
    let search = p.str("search").map(|s| s.to_lowercase());
    let t = |k: &str| p.str(k).and_then(|s| crate::util::parse_ts(&s));
    let (ua, ub, ca, cb) = (
        t("updated_after"),
        t("updated_before"),
        t("created_after"),
        t("created_before"),
    );
    let author = p.int("author_id")?;
    let assignee = p.int("assignee_id")?;
    let confidential = p.bool("confidential")?;
    let mut issues: Vec<&Issue> = db
        .issues
        .values()
        .filter(|i| i.project_id == pid)
        .filter(|i| state == "all" || i.state == state)
        .filter(|i| match labels.as_deref() {
            None => true,
            Some([x]) if x == "None" => i.labels.is_empty(),
            Some([x]) if x == "Any" => !i.labels.is_empty(),
            Some(ls) => ls.iter().all(|l| i.labels.contains(l)),
        })
        .filter(|i| match milestone.as_deref() {
            None => true,
            Some("None") => i.milestone_id.is_none(),
            Some("Any") => i.milestone_id.is_some(),
            Some(t) => i
                .milestone_id
                .and_then(|m| db.milestones.get(&m))
                .is_some_and(|m| m.title == t),
        })
        .filter(|i| iids.is_empty() || iids.contains(&i.iid.to_string()))
        .filter(|i| {
            search.as_ref().is_none_or(|s| {
                i.title.to_lowercase().contains(s)
                    || i.description
                        .as_deref()
                        .is_some_and(|d| d.to_lowercase().contains(s))
            })
        })
        .filter(|i| ua.is_none_or(|t| i.updated_at >= t) && ub.is_none_or(|t| i.updated_at <= t))
        .filter(|i| ca.is_none_or(|t| i.created_at >= t) && cb.is_none_or(|t| i.created_at <= t))
        .filter(|i| author.is_none_or(|a| i.author_id as i64 == a))
        .filter(|i| assignee.is_none_or(|a| i.assignee_ids.contains(&(a as u64))))
        .filter(|i| confidential.is_none_or(|c| i.confidential == c))
        .collect();
    match p.str("order_by").as_deref().unwrap_or("created_at") {
        "updated_at" => issues.sort_by_key(|i| (i.updated_at, i.id)),
        "title" => issues.sort_by(|a, b| a.title.cmp(&b.title)),
        "due_date" => issues.sort_by_key(|i| (i.due_date, i.id)),
        _ => issues.sort_by_key(|i| (i.created_at, i.id)),
    }
    if p.str("sort").as_deref() != Some("asc") {
        issues.reverse();
    }
    let items = issues
        .into_iter()
        .map(|i| issue_json(&st, &db, i))
        .collect();
    paginate(&st.base_url, &p, items)
}

pub async fn get_one(
    st: St,
    Extension(caller): Extension<Caller>,
    Path((id, iid)): Path<(String, String)>,
) -> ApiResult {
    let db = st.db.read();
    let pid = project_for(&db, &caller, &id, 0)?;
    let i = find_issue(&db, pid, &iid)?;
    Ok(ok(issue_json(&st, &db, &db.issues[&i])))
}

fn set_labels(db: &mut Db, pid: u64, names: &[String]) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for n in names {
        ensure_label(db, pid, n);
        if !out.contains(n) {
            out.push(n.clone());
        }
    }
    out
}

pub async fn create(
    st: St,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    p: Params,
) -> ApiResult {
    let me = caller.user()?.clone();
    let title = p.req_str("title")?;
    let due = match p.str("due_date").filter(|s| !s.is_empty()) {
        Some(s) => Some(crate::util::parse_date(&s).ok_or_else(|| ApiError::invalid("due_date"))?),
        None => None,
    };
    let mut db = st.db.write();
    let pid = project_for(&db, &caller, &id, access::GUEST)?;
    let privileged =
        me.is_admin || db.effective_project_access(me.user_id, &db.projects[&pid]) >= access::OWNER;
    let labels = set_labels(&mut db, pid, &p.list("labels").unwrap_or_default());
    let milestone_id = p
        .int("milestone_id")?
        .map(|m| m as u64)
        .filter(|m| db.milestones.get(m).is_some_and(|x| x.project_id == pid));
    let assignees = p
        .int_list("assignee_ids")?
        .unwrap_or_default()
        .into_iter()
        .filter(|a| *a > 0)
        .map(|a| a as u64)
        .collect();
    let created_at = if privileged {
        p.str("created_at").and_then(|s| crate::util::parse_ts(&s))
    } else {
        None
    }
    .unwrap_or_else(Utc::now);
    let proj = db.projects.get_mut(&pid).expect("exists");
    let iid = match p.int("iid")?.filter(|_| privileged) {
        Some(n) => n as u64,
        None => proj.next_issue_iid,
    };
    proj.next_issue_iid = proj.next_issue_iid.max(iid + 1);
    let issue_id = db.next_id("issues");
    db.issues.insert(
        issue_id,
        Issue {
            id: issue_id,
            iid,
            project_id: pid,
            title,
            description: p.str("description"),
            state: "opened".into(),
            created_at,
            updated_at: created_at,
            closed_at: None,
            closed_by: None,
            labels,
            milestone_id,
            assignee_ids: assignees,
            author_id: me.user_id,
            confidential: p.bool_or("confidential", false)?,
            discussion_locked: None,
            due_date: due,
            issue_type: p.str("issue_type").unwrap_or_else(|| "issue".into()),
            weight: if st.is_ee() { p.int("weight")? } else { None },
            time_estimate: 0,
            total_time_spent: 0,
        },
    );
    Ok(created(issue_json(&st, &db, &db.issues[&issue_id])))
}

pub async fn update(
    st: St,
    Extension(caller): Extension<Caller>,
    Path((id, iid)): Path<(String, String)>,
    p: Params,
) -> ApiResult {
    let me = caller.user()?.clone();
    let mut db = st.db.write();
    let pid = project_for(&db, &caller, &id, access::GUEST)?;
    let i = find_issue(&db, pid, &iid)?;
    let lvl = db.effective_project_access(me.user_id, &db.projects[&pid]);
    if lvl < access::REPORTER && db.issues[&i].author_id != me.user_id {
        return Err(ApiError::forbidden());
    }
    if p.has("updated_at") && p.str("updated_at").is_none_or(|s| s.is_empty()) {
        return Err(ApiError::grape("updated_at is empty"));
    }
    let new_labels = p.list("labels").map(|l| set_labels(&mut db, pid, &l));
    let add = p.list("add_labels").map(|l| set_labels(&mut db, pid, &l));
    let milestone = p.int("milestone_id")?;
    let assignees = p.int_list("assignee_ids")?;
    let due = match p.str("due_date") {
        Some(s) if !s.is_empty() => Some(Some(
            crate::util::parse_date(&s).ok_or_else(|| ApiError::invalid("due_date"))?,
        )),
        Some(_) => Some(None),
        None => None,
    };
    let privileged = me.is_admin || lvl >= access::OWNER;
    let milestone_ok = milestone.map(|m| {
        m == 0
            || db
                .milestones
                .get(&(m as u64))
                .is_some_and(|x| x.project_id == pid)
    });
    let ee = st.is_ee();
    let issue = db.issues.get_mut(&i).expect("exists");
    if let Some(t) = p.str("title").filter(|s| !s.is_empty()) {
        issue.title = t;
    }
    if p.has("description") {
        issue.description = p.str("description");
    }
    if let Some(l) = new_labels {
        issue.labels = l;
    }
    if let Some(a) = add {
        for l in a {
            if !issue.labels.contains(&l) {
                issue.labels.push(l);
            }
        }
    }
    if let Some(r) = p.list("remove_labels") {
        issue.labels.retain(|l| !r.contains(l));
    }
    if let (Some(m), Some(true)) = (milestone, milestone_ok) {
        issue.milestone_id = (m > 0).then_some(m as u64);
    }
    if let Some(a) = assignees {
        issue.assignee_ids = a.into_iter().filter(|x| *x > 0).map(|x| x as u64).collect();
    }
    if let Some(d) = due {
        issue.due_date = d;
    }
    if let Some(c) = p.bool("confidential")? {
        issue.confidential = c;
    }
    if let Some(c) = p.bool("discussion_locked")? {
        issue.discussion_locked = Some(c);
    }
    if let Some(t) = p.str("issue_type") {
        issue.issue_type = t;
    }
    if ee && p.has("weight") {
        issue.weight = p.int("weight")?;
    }
    let now = Utc::now();
    match p.str("state_event").as_deref() {
        Some("close") if issue.state != "closed" => {
            issue.state = "closed".into();
            issue.closed_at = Some(now);
            issue.closed_by = Some(me.user_id);
        }
        Some("reopen") if issue.state != "opened" => {
            issue.state = "opened".into();
            issue.closed_at = None;
            issue.closed_by = None;
        }
        Some("close") | Some("reopen") | None => {}
        Some(_) => return Err(ApiError::invalid_value("state_event")),
    }
    issue.updated_at = match p
        .str("updated_at")
        .filter(|_| privileged)
        .and_then(|s| crate::util::parse_ts(&s))
    {
        Some(t) => t,
        None => now,
    };
    Ok(ok(issue_json(&st, &db, &db.issues[&i])))
}

pub async fn delete(
    st: St,
    Extension(caller): Extension<Caller>,
    Path((id, iid)): Path<(String, String)>,
) -> ApiResult {
    let mut db = st.db.write();
    let pid = project_for(&db, &caller, &id, access::OWNER)?;
    let i = find_issue(&db, pid, &iid)?;
    db.issues.remove(&i);
    db.notes.retain(|_, n| n.issue_id != i);
    Ok(no_content())
}

// ----- notes ------------------------------------------------------------------

pub async fn notes(
    st: St,
    Extension(caller): Extension<Caller>,
    Path((id, iid)): Path<(String, String)>,
    p: Params,
) -> ApiResult {
    let db = st.db.read();
    let pid = project_for(&db, &caller, &id, 0)?;
    let i = find_issue(&db, pid, &iid)?;
    let n_iid = db.issues[&i].iid;
    let mut notes: Vec<&Note> = db.notes.values().filter(|n| n.issue_id == i).collect();
    match p.str("order_by").as_deref() {
        Some("updated_at") => notes.sort_by_key(|n| (n.updated_at, n.id)),
        _ => notes.sort_by_key(|n| (n.created_at, n.id)),
    }
    if p.str("sort").as_deref() != Some("asc") {
        notes.reverse();
    }
    let items = notes
        .into_iter()
        .map(|n| note_json(&st, &db, n, n_iid))
        .collect();
    paginate(&st.base_url, &p, items)
}

pub async fn get_note(
    st: St,
    Extension(caller): Extension<Caller>,
    Path((id, iid, nid)): Path<(String, String, String)>,
) -> ApiResult {
    let db = st.db.read();
    let pid = project_for(&db, &caller, &id, 0)?;
    let i = find_issue(&db, pid, &iid)?;
    let n = nid
        .parse::<u64>()
        .ok()
        .and_then(|n| db.notes.get(&n))
        .filter(|n| n.issue_id == i)
        .ok_or_else(|| ApiError::not_found("Note"))?;
    Ok(ok(note_json(&st, &db, n, db.issues[&i].iid)))
}

pub async fn create_note(
    st: St,
    Extension(caller): Extension<Caller>,
    Path((id, iid)): Path<(String, String)>,
    p: Params,
) -> ApiResult {
    let me = caller.user()?.clone();
    let body = p.req_str("body")?;
    let mut db = st.db.write();
    let pid = project_for(&db, &caller, &id, access::GUEST)?;
    let i = find_issue(&db, pid, &iid)?;
    let privileged =
        me.is_admin || db.effective_project_access(me.user_id, &db.projects[&pid]) >= access::OWNER;
    let at = if privileged {
        p.str("created_at").and_then(|s| crate::util::parse_ts(&s))
    } else {
        None
    }
    .unwrap_or_else(Utc::now);
    let nid = db.next_id("notes");
    db.notes.insert(
        nid,
        Note {
            id: nid,
            issue_id: i,
            project_id: pid,
            body,
            author_id: me.user_id,
            created_at: at,
            updated_at: at,
            system: false,
            internal: p.bool_or("internal", false)?,
        },
    );
    if let Some(issue) = db.issues.get_mut(&i) {
        issue.updated_at = Utc::now();
    }
    let n_iid = db.issues[&i].iid;
    Ok(created(note_json(&st, &db, &db.notes[&nid], n_iid)))
}

pub async fn update_note(
    st: St,
    Extension(caller): Extension<Caller>,
    Path((id, iid, nid)): Path<(String, String, String)>,
    p: Params,
) -> ApiResult {
    let me = caller.user()?.clone();
    let mut db = st.db.write();
    let pid = project_for(&db, &caller, &id, access::GUEST)?;
    let i = find_issue(&db, pid, &iid)?;
    let nid = nid
        .parse::<u64>()
        .ok()
        .filter(|n| db.notes.get(n).is_some_and(|x| x.issue_id == i))
        .ok_or_else(|| ApiError::not_found("Note"))?;
    if db.notes[&nid].author_id != me.user_id && !me.is_admin {
        return Err(ApiError::forbidden());
    }
    let n = db.notes.get_mut(&nid).expect("exists");
    if let Some(b) = p.str("body") {
        n.body = b;
    }
    n.updated_at = Utc::now();
    let n_iid = db.issues[&i].iid;
    Ok(ok(note_json(&st, &db, &db.notes[&nid], n_iid)))
}

pub async fn delete_note(
    st: St,
    Extension(caller): Extension<Caller>,
    Path((id, iid, nid)): Path<(String, String, String)>,
) -> ApiResult {
    let me = caller.user()?.clone();
    let mut db = st.db.write();
    let pid = project_for(&db, &caller, &id, access::GUEST)?;
    let i = find_issue(&db, pid, &iid)?;
    let nid = nid
        .parse::<u64>()
        .ok()
        .filter(|n| db.notes.get(n).is_some_and(|x| x.issue_id == i))
        .ok_or_else(|| ApiError::not_found("Note"))?;
    let lvl = db.effective_project_access(me.user_id, &db.projects[&pid]);
    if db.notes[&nid].author_id != me.user_id && lvl < access::MAINTAINER {
        return Err(ApiError::forbidden());
    }
    db.notes.remove(&nid);
    Ok(no_content())
}

// ----- time tracking ------------------------------------------------------------

fn with_issue<F>(
    st: &St,
    caller: &Caller,
    id: &str,
    iid: &str,
    min: u8,
    f: F,
) -> Result<Value, ApiError>
where
    F: FnOnce(&mut Issue) -> Result<(), ApiError>,
{
    let mut db = st.db.write();
    let pid = project_for(&db, caller, id, min)?;
    let i = find_issue(&db, pid, iid)?;
    let issue = db.issues.get_mut(&i).expect("exists");
    f(issue)?;
    Ok(stats_json(issue))
}

fn duration_param(p: &Params) -> Result<i64, ApiError> {
    let d = p.req_str("duration")?;
    parse_duration(&d).ok_or_else(|| ApiError::invalid("duration"))
}

pub async fn time_stats_get(st: St, caller: Caller, id: String, iid: String) -> ApiResult {
    let db = st.db.read();
    let pid = project_for(&db, &caller, &id, 0)?;
    let i = find_issue(&db, pid, &iid)?;
    Ok(ok(stats_json(&db.issues[&i])))
}

pub async fn time_stats(
    st: St,
    Extension(caller): Extension<Caller>,
    Path((id, iid)): Path<(String, String)>,
) -> ApiResult {
    time_stats_get(st, caller, id, iid).await
}

pub async fn time_estimate(
    st: St,
    Extension(caller): Extension<Caller>,
    Path((id, iid)): Path<(String, String)>,
    p: Params,
) -> ApiResult {
    let secs = duration_param(&p)?;
    if secs < 0 {
        return Err(ApiError::message(
            StatusCode::BAD_REQUEST,
            "Time estimate must have a valid format and be greater than or equal to zero.",
        ));
    }
    let v = with_issue(&st, &caller, &id, &iid, access::REPORTER, |i| {
        i.time_estimate = secs;
        Ok(())
    })?;
    Ok(ok(v))
}

pub async fn reset_time_estimate(
    st: St,
    Extension(caller): Extension<Caller>,
    Path((id, iid)): Path<(String, String)>,
) -> ApiResult {
    let v = with_issue(&st, &caller, &id, &iid, access::REPORTER, |i| {
        i.time_estimate = 0;
        Ok(())
    })?;
    Ok(ok(v))
}

pub async fn add_spent_time(
    st: St,
    Extension(caller): Extension<Caller>,
    Path((id, iid)): Path<(String, String)>,
    p: Params,
) -> ApiResult {
    let secs = duration_param(&p)?;
    let v = with_issue(&st, &caller, &id, &iid, access::REPORTER, |i| {
        i.total_time_spent = (i.total_time_spent + secs).max(0);
        Ok(())
    })?;
    Ok(json_status(StatusCode::CREATED, v))
}

pub async fn reset_spent_time(
    st: St,
    Extension(caller): Extension<Caller>,
    Path((id, iid)): Path<(String, String)>,
) -> ApiResult {
    let v = with_issue(&st, &caller, &id, &iid, access::REPORTER, |i| {
        i.total_time_spent = 0;
        Ok(())
    })?;
    Ok(ok(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("3h30m"), Some(3 * 3600 + 1800));
        assert_eq!(parse_duration("1w"), Some(5 * 8 * 3600));
        assert_eq!(
            parse_duration("1mo2d"),
            Some(4 * 5 * 8 * 3600 + 2 * 8 * 3600)
        );
        assert_eq!(parse_duration("abc"), None);
        assert_eq!(human(3 * 3600 + 1800), json!("3h 30m"));
        assert_eq!(human(0), Value::Null);
    }
}
