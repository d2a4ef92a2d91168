//! Project access tokens (`/projects/:id/access_tokens`), each backed by
//! a bot user that is a member of the project.

use axum::Extension;
use axum::extract::Path;
use chrono::NaiveDate;

use super::{St, level, visible_project};
use crate::auth::Caller;
use crate::entities;
use crate::error::{ApiError, ApiResult, created, no_content, ok};
use crate::instance::Instance;
use crate::model::{Db, TokenKind, access};
use crate::pagination::paginate;
use crate::params::Params;

/// `Gitlab::Auth.resource_bot_scopes`.
pub const BOT_SCOPES: &[&str] = &[
    "api",
    "read_api",
    "read_repository",
    "write_repository",
    "read_registry",
    "write_registry",
    "create_runner",
    "manage_runner",
    "k8s_proxy",
    "self_rotate",
    "ai_features",
    "read_virtual_registry",
    "write_virtual_registry",
];

/// Extra scopes a personal token may have.
pub const PERSONAL_ONLY_SCOPES: &[&str] = &["read_user", "sudo", "admin_mode", "read_service_ping"];

pub fn validate_scopes(scopes: &[String], personal: bool) -> Result<(), ApiError> {
    if scopes.is_empty() {
        return Err(ApiError::grape("scopes is empty"));
    }
    let ok = scopes.iter().all(|s| {
        BOT_SCOPES.contains(&s.as_str()) || (personal && PERSONAL_ONLY_SCOPES.contains(&s.as_str()))
    });
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid_value("scopes"))
    }
}

/// `expires_at`: default and maximum are the instance's max lifetime
/// (365 days); later dates are refused like the model validation does.
pub fn expiry_from_params(
    inst: &Instance,
    p: &Params,
    max_days: i64,
) -> Result<NaiveDate, ApiError> {
    let max = inst.today() + chrono::Duration::days(max_days);
    match p.str("expires_at").filter(|s| !s.is_empty()) {
        None => Ok(max),
        Some(s) => {
            let d = crate::util::parse_date(&s).ok_or_else(|| ApiError::invalid("expires_at"))?;
            if d > max {
                return Err(ApiError::bad_request(format!(
                    "Expires at must be before {max}"
                )));
            }
            Ok(d)
        }
    }
}

fn project_token(db: &Db, pid: u64, token_id: &str) -> Option<u64> {
    token_id
        .parse::<u64>()
        .ok()
        .and_then(|i| db.tokens.get(&i))
        .filter(|t| t.kind == TokenKind::Project(pid))
        .map(|t| t.id)
}

fn not_found() -> ApiError {
    ApiError::not_found("project Access Token")
}

pub async fn list(
    st: St,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    p: Params,
) -> ApiResult {
    caller.user()?;
    let db = st.db.read();
    let proj = visible_project(&db, &caller, &id)?;
    if level(&db, &caller, proj) < access::MAINTAINER {
        return Err(ApiError::unauthorized());
    }
    let today = st.today();
    let state = p.str("state");
    let revoked = p.bool("revoked")?;
    let search = p.str("search").map(|s| s.to_lowercase());
    let mut toks: Vec<_> = db
        .tokens
        .values()
        .filter(|t| t.kind == TokenKind::Project(proj.id))
        .filter(|t| match state.as_deref() {
            Some("active") => t.active(today),
            Some("inactive") => !t.active(today),
            _ => true,
        })
        .filter(|t| revoked.is_none_or(|r| t.revoked == r))
        .filter(|t| {
            search
                .as_ref()
                .is_none_or(|s| t.name.to_lowercase().contains(s))
        })
        .collect();
    match p.str("sort").as_deref() {
        Some("created_asc") => toks.sort_by_key(|t| (t.created_at, t.id)),
        Some("name_asc") => toks.sort_by(|a, b| a.name.cmp(&b.name)),
        Some("name_desc") => toks.sort_by(|a, b| b.name.cmp(&a.name)),
        Some("expires_asc") => toks.sort_by_key(|t| t.expires_at),
        Some("expires_desc") => toks.sort_by_key(|t| std::cmp::Reverse(t.expires_at)),
        _ => toks.sort_by_key(|t| std::cmp::Reverse((t.created_at, t.id))),
    }
    let items = toks
        .into_iter()
        .map(|t| entities::access_token(&db, t, today, false))
        .collect();
    paginate(&st.base_url, &p, items)
}

pub async fn get_one(
    st: St,
    Extension(caller): Extension<Caller>,
    Path((id, token_id)): Path<(String, String)>,
) -> ApiResult {
    caller.user()?;
    let db = st.db.read();
    let proj = visible_project(&db, &caller, &id)?;
    if level(&db, &caller, proj) < access::MAINTAINER {
        return Err(ApiError::unauthorized());
    }
    let tid = project_token(&db, proj.id, &token_id).ok_or_else(not_found)?;
    Ok(ok(entities::access_token(
        &db,
        &db.tokens[&tid],
        st.today(),
        false,
    )))
}

pub async fn create(
    st: St,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    p: Params,
) -> ApiResult {
    let me = caller.user()?.clone();
    // Grape validation first.
    let name = p.req_str("name")?;
    let scopes = p
        .list("scopes")
        .ok_or_else(|| ApiError::missing("scopes"))?;
    validate_scopes(&scopes, false)?;
    let access_level = p.int("access_level")?.unwrap_or(access::MAINTAINER as i64);
    if !access::VALID_TOKEN_LEVELS.contains(&access_level) {
        return Err(ApiError::invalid_value("access_level"));
    }
    if p.has("expires_at")
        && p.str("expires_at").is_some_and(|s| !s.is_empty())
        && crate::util::parse_date(&p.str("expires_at").unwrap_or_default()).is_none()
    {
        return Err(ApiError::invalid("expires_at"));
    }
    let mut db = st.db.write();
    let proj = visible_project(&db, &caller, &id)?.clone();
    let my_level = level(&db, &caller, &proj);
    if my_level < access::MAINTAINER || me.bot {
        return Err(ApiError::bad_request(
            "User does not have permission to create project access token",
        ));
    }
    if !me.is_admin && (access_level as u8) > my_level {
        return Err(ApiError::bad_request(
            "Access level of the token contains permissions not held by the creating user",
        ));
    }
    let expires = expiry_from_params(&st, &p, st.max_token_lifetime_days)?;
    let hex = crate::util::random_hex(16);
    let host = st.host.split(':').next().unwrap_or("127.0.0.1").to_string();
    let username = format!("project_{}_bot_{}", proj.id, hex);
    let email = format!("project_{}_bot_{}@noreply.{}", proj.id, hex, host);
    let uid = Instance::create_user(&mut db, &username, &name, false, true, &email);
    db.add_project_member(proj.id, uid, access_level as u8);
    let (tid, _) = Instance::create_token(
        &mut db,
        uid,
        &name,
        p.str("description"),
        scopes.clone(),
        Some(expires),
        TokenKind::Project(proj.id),
        None,
        None,
    );
    db.log(
        "project_access_token_created",
        Some(proj.id),
        tid,
        format!(
            "{name} ({}; level {access_level}; by {})",
            scopes.join(","),
            me.username
        ),
    );
    Ok(created(entities::access_token(
        &db,
        &db.tokens[&tid],
        st.today(),
        true,
    )))
}

pub async fn revoke(
    st: St,
    Extension(caller): Extension<Caller>,
    Path((id, token_id)): Path<(String, String)>,
) -> ApiResult {
    let me = caller.user()?.clone();
    let mut db = st.db.write();
    let proj = visible_project(&db, &caller, &id)?.clone();
    let tid = project_token(&db, proj.id, &token_id).ok_or_else(not_found)?;
    if level(&db, &caller, &proj) < access::MAINTAINER {
        let bot = db
            .tokens
            .get(&tid)
            .and_then(|t| db.users.get(&t.user_id))
            .map(|u| u.name.clone())
            .unwrap_or_default();
        let me_name = db
            .users
            .get(&me.user_id)
            .map(|u| u.name.clone())
            .unwrap_or_default();
        return Err(ApiError::bad_request(format!(
            "{me_name} cannot delete {bot}"
        )));
    }
    let t = db.tokens.get_mut(&tid).ok_or_else(not_found)?;
    if t.revoked {
        return Err(ApiError::bad_request("Failed to find bot user"));
    }
    t.revoked = true;
    let name = t.name.clone();
    db.log(
        "project_access_token_revoked",
        Some(proj.id),
        tid,
        format!("{name} (by {})", me.username),
    );
    Ok(no_content())
}

pub async fn rotate(
    st: St,
    Extension(caller): Extension<Caller>,
    Path((id, token_id)): Path<(String, String)>,
    p: Params,
) -> ApiResult {
    let me = caller.user()?.clone();
    let expires = super::meta::rotate_expiry(&st, &p)?;
    let mut db = st.db.write();
    let proj = visible_project(&db, &caller, &id)?.clone();
    let tid = if token_id == "self" {
        let own = db
            .tokens
            .get(&me.token_id)
            .filter(|t| t.kind == TokenKind::Project(proj.id));
        match own {
            Some(t) if me.has_scope("api") || me.has_scope("self_rotate") => Some(t.id),
            Some(_) => return Err(ApiError::forbidden()),
            None => None,
        }
    } else if level(&db, &caller, &proj) >= access::MAINTAINER && !me.bot {
        project_token(&db, proj.id, &token_id)
    } else {
        None
    };
    let Some(tid) = tid else {
        return Err(if me.is_admin {
            ApiError::record_not_found()
        } else {
            ApiError::unauthorized()
        });
    };
    let new_id = super::meta::rotate(&st, &mut db, tid, expires)?;
    db.log(
        "project_access_token_rotated",
        Some(proj.id),
        new_id,
        format!("{tid} -> {new_id} (by {})", me.username),
    );
    Ok(ok(entities::access_token(
        &db,
        &db.tokens[&new_id],
        st.today(),
        true,
    )))
}
