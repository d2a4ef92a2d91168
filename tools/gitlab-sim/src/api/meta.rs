//! `/version`, `/metadata`, `/user`, `/users`, personal access tokens.

use axum::Extension;
use axum::extract::Path;
use serde_json::json;

use super::St;
use crate::api::access_tokens::{expiry_from_params, validate_scopes};
use crate::auth::Caller;
use crate::entities;
use crate::error::{ApiError, ApiResult, created, no_content, ok};
use crate::instance::Instance;
use crate::model::TokenKind;
use crate::pagination::paginate;
use crate::params::Params;

/// `GET /version` and `GET /metadata` (the Metadata entity).
pub async fn version(st: St, Extension(caller): Extension<Caller>) -> ApiResult {
    caller.user()?;
    let inst = &st.0;
    let v = if inst.is_ee() {
        format!("{}-ee", inst.version)
    } else {
        inst.version.clone()
    };
    Ok(ok(json!({
        "version": v,
        "revision": inst.revision,
        "kas": {"enabled": false, "externalUrl": null, "externalK8sProxyUrl": null, "version": null},
        "enterprise": inst.is_ee(),
    })))
}

pub async fn current_user(st: St, Extension(caller): Extension<Caller>) -> ApiResult {
    let u = caller.user()?;
    let db = st.db.read();
    let user = db
        .users
        .get(&u.user_id)
        .ok_or_else(ApiError::unauthorized)?;
    Ok(ok(entities::user_full(&st, user, u.is_admin, true)))
}

pub async fn list_users(st: St, Extension(caller): Extension<Caller>, p: Params) -> ApiResult {
    let me = caller.user()?;
    let db = st.db.read();
    let search = p.str("search").map(|s| s.to_lowercase());
    let username = p.str("username").map(|s| s.to_lowercase());
    let items: Vec<_> = db
        .users
        .values()
        .filter(|u| {
            username
                .as_ref()
                .is_none_or(|n| u.username.to_lowercase() == *n)
        })
        .filter(|u| {
            search.as_ref().is_none_or(|s| {
                u.username.to_lowercase().contains(s)
                    || u.name.to_lowercase().contains(s)
                    || u.email.to_lowercase() == *s
            })
        })
        .map(|u| entities::user_full(&st, u, me.is_admin, u.id == me.user_id))
        .collect();
    paginate(&st.base_url, &p, items)
}

pub async fn get_user(
    st: St,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult {
    let me = caller.user()?;
    let db = st.db.read();
    let u = id
        .parse::<u64>()
        .ok()
        .and_then(|i| db.users.get(&i))
        .ok_or_else(|| ApiError::not_found("User"))?;
    Ok(ok(entities::user_full(
        &st,
        u,
        me.is_admin,
        u.id == me.user_id,
    )))
}

/// `POST /users/:id/personal_access_tokens` (administrators).
pub async fn create_pat(
    st: St,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    p: Params,
) -> ApiResult {
    let me = caller.user()?;
    if !me.is_admin {
        return Err(ApiError::forbidden());
    }
    let name = p.req_str("name")?;
    let scopes = p
        .list("scopes")
        .ok_or_else(|| ApiError::missing("scopes"))?;
    validate_scopes(&scopes, true)?;
    let expires = expiry_from_params(&st, &p, st.max_token_lifetime_days)?;
    let mut db = st.db.write();
    let uid = id
        .parse::<u64>()
        .ok()
        .filter(|u| db.users.contains_key(u))
        .ok_or_else(|| ApiError::not_found("User"))?;
    let (tid, _) = Instance::create_token(
        &mut db,
        uid,
        &name,
        p.str("description"),
        scopes,
        Some(expires),
        TokenKind::Personal,
        None,
        None,
    );
    db.log(
        "personal_access_token_created",
        None,
        tid,
        format!("user {uid}: {name}"),
    );
    let t = &db.tokens[&tid];
    Ok(created(entities::personal_token(t, st.today(), true)))
}

pub async fn list_pats(st: St, Extension(caller): Extension<Caller>, p: Params) -> ApiResult {
    let me = caller.user()?;
    let db = st.db.read();
    let today = st.today();
    let user_filter = p.int("user_id")?.map(|u| u as u64);
    let state = p.str("state");
    let revoked = p.bool("revoked")?;
    let search = p.str("search").map(|s| s.to_lowercase());
    let items: Vec<_> = db
        .tokens
        .values()
        .filter(|t| me.is_admin || t.user_id == me.user_id)
        .filter(|t| user_filter.is_none_or(|u| t.user_id == u))
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
        .map(|t| entities::personal_token(t, today, false))
        .collect();
    paginate(&st.base_url, &p, items)
}

fn own_or_admin(
    db: &crate::model::Db,
    me: &crate::auth::AuthUser,
    id: &str,
) -> Result<u64, ApiError> {
    id.parse::<u64>()
        .ok()
        .and_then(|i| db.tokens.get(&i))
        .filter(|t| me.is_admin || t.user_id == me.user_id)
        .map(|t| t.id)
        .ok_or_else(|| ApiError::not_found("Personal Access Token"))
}

pub async fn get_pat(
    st: St,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult {
    let me = caller.user()?;
    let db = st.db.read();
    let tid = own_or_admin(&db, me, &id)?;
    Ok(ok(entities::personal_token(
        &db.tokens[&tid],
        st.today(),
        false,
    )))
}

pub async fn revoke_pat(
    st: St,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult {
    let me = caller.user()?;
    let mut db = st.db.write();
    let tid = own_or_admin(&db, me, &id)?;
    revoke(&mut db, tid)?;
    Ok(no_content())
}

fn revoke(db: &mut crate::model::Db, tid: u64) -> Result<(), ApiError> {
    let t = db
        .tokens
        .get_mut(&tid)
        .ok_or_else(|| ApiError::not_found("Personal Access Token"))?;
    if t.revoked {
        return Err(ApiError::bad_request("Token already revoked"));
    }
    t.revoked = true;
    let (kind, name) = (t.kind, t.name.clone());
    let pid = match kind {
        TokenKind::Project(pid) => Some(pid),
        TokenKind::Personal => None,
    };
    db.log("token_revoked", pid, tid, name);
    Ok(())
}

pub async fn rotate_pat(
    st: St,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    p: Params,
) -> ApiResult {
    let me = caller.user()?;
    let expires = rotate_expiry(&st, &p)?;
    let mut db = st.db.write();
    let tid = own_or_admin(&db, me, &id)?;
    let new_id = rotate(&st, &mut db, tid, expires)?;
    Ok(ok(entities::personal_token(
        &db.tokens[&new_id],
        st.today(),
        true,
    )))
}

pub async fn get_self(st: St, Extension(caller): Extension<Caller>) -> ApiResult {
    let me = caller.user()?;
    let db = st.db.read();
    let t = db
        .tokens
        .get(&me.token_id)
        .ok_or_else(ApiError::unauthorized)?;
    Ok(ok(entities::personal_token(t, st.today(), false)))
}

pub async fn revoke_self(st: St, Extension(caller): Extension<Caller>) -> ApiResult {
    let me = caller.user()?;
    let mut db = st.db.write();
    revoke(&mut db, me.token_id)?;
    Ok(no_content())
}

pub async fn rotate_self(st: St, Extension(caller): Extension<Caller>, p: Params) -> ApiResult {
    let me = caller.user()?;
    let expires = rotate_expiry(&st, &p)?;
    let mut db = st.db.write();
    let new_id = rotate(&st, &mut db, me.token_id, expires)?;
    Ok(ok(entities::personal_token(
        &db.tokens[&new_id],
        st.today(),
        true,
    )))
}

/// Rotation expiry: given date (max lifetime applies) or one week.
pub fn rotate_expiry(inst: &Instance, p: &Params) -> Result<chrono::NaiveDate, ApiError> {
    if p.str("expires_at").is_some_and(|s| !s.is_empty()) {
        expiry_from_params(inst, p, inst.max_token_lifetime_days)
    } else {
        Ok(inst.today() + chrono::Duration::days(7))
    }
}

/// `PersonalAccessTokens::RotateService`: revoke and create a successor
/// with the same name, scopes and user. Rotating a revoked token revokes
/// the whole family.
pub fn rotate(
    _inst: &Instance,
    db: &mut crate::model::Db,
    tid: u64,
    expires: chrono::NaiveDate,
) -> Result<u64, ApiError> {
    let t = db
        .tokens
        .get(&tid)
        .ok_or_else(|| ApiError::not_found("Personal Access Token"))?;
    if t.revoked {
        let mut family = vec![];
        let mut cur = Some(tid);
        // Walk to the newest descendant(s).
        while let Some(c) = cur {
            family.push(c);
            cur = db
                .tokens
                .values()
                .find(|x| x.previous_id == Some(c))
                .map(|x| x.id);
        }
        for f in family {
            if let Some(x) = db.tokens.get_mut(&f) {
                x.revoked = true;
            }
        }
        return Err(ApiError::bad_request("Token already revoked"));
    }
    let (uid, name, desc, scopes, kind) = (
        t.user_id,
        t.name.clone(),
        t.description.clone(),
        t.scopes.clone(),
        t.kind,
    );
    if let Some(x) = db.tokens.get_mut(&tid) {
        x.revoked = true;
    }
    let (new_id, _) = Instance::create_token(
        db,
        uid,
        &name,
        desc,
        scopes,
        Some(expires),
        kind,
        None,
        Some(tid),
    );
    let pid = match kind {
        TokenKind::Project(pid) => Some(pid),
        TokenKind::Personal => None,
    };
    db.log(
        "token_rotated",
        pid,
        new_id,
        format!("{name}: {tid} -> {new_id}"),
    );
    Ok(new_id)
}
