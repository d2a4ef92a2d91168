//! Authentication: token extraction (PRIVATE-TOKEN, `private_token`,
//! `Authorization: Bearer`, `access_token`), token validity, scopes.

use std::sync::Arc;

use axum::http::{HeaderMap, Method};

use crate::error::ApiError;
use crate::instance::Instance;
use crate::model::TokenKind;

/// The authenticated principal of a request.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user_id: u64,
    pub username: String,
    pub is_admin: bool,
    pub bot: bool,
    pub token_id: u64,
    pub token_name: String,
    pub scopes: Vec<String>,
    pub token_kind: TokenKind,
}

impl AuthUser {
    pub fn has_scope(&self, s: &str) -> bool {
        self.scopes.iter().any(|x| x == s)
    }

    /// Key used in `/-/sim/stats` per-token counters.
    pub fn token_key(&self) -> String {
        format!("{}:{} ({})", self.token_id, self.token_name, self.username)
    }
}

/// Who is calling: stored in request extensions by the middleware.
#[derive(Debug, Clone)]
pub enum Caller {
    Anonymous,
    User(Arc<AuthUser>),
}

impl Caller {
    pub fn uid(&self) -> Option<u64> {
        match self {
            Caller::User(u) => Some(u.user_id),
            Caller::Anonymous => None,
        }
    }

    /// The user, or `401` for anonymous callers (`authenticate!`).
    pub fn user(&self) -> Result<&AuthUser, ApiError> {
        match self {
            Caller::User(u) => Ok(u),
            Caller::Anonymous => Err(ApiError::unauthorized()),
        }
    }

    pub fn is_admin(&self) -> bool {
        matches!(self, Caller::User(u) if u.is_admin)
    }

    pub fn username(&self) -> &str {
        match self {
            Caller::User(u) => &u.username,
            Caller::Anonymous => "anonymous",
        }
    }
}

/// Result of looking a token up.
pub enum Lookup {
    Missing,
    Invalid,
    Valid(AuthUser),
}

/// Token from headers or query, in GitLab's order of precedence.
pub fn extract_token(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    if let Some(v) = headers.get("private-token").and_then(|v| v.to_str().ok()) {
        return Some(v.trim().to_string());
    }
    if let Some(v) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
        let v = v.trim();
        if let Some(t) = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
        {
            return Some(t.trim().to_string());
        }
    }
    if let Some(q) = query {
        for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
            if k == "private_token" || k == "access_token" {
                return Some(v.into_owned());
            }
        }
    }
    None
}

/// Resolve a token value against the instance (marks it used).
pub fn resolve(inst: &Instance, value: &str) -> Lookup {
    let db = inst.db.read();
    let Some(t) = db.token_index.get(value).and_then(|id| db.tokens.get(id)) else {
        return Lookup::Invalid;
    };
    if !t.active(inst.today()) {
        return Lookup::Invalid;
    }
    let Some(u) = db.users.get(&t.user_id) else {
        return Lookup::Invalid;
    };
    if u.state != "active" {
        return Lookup::Invalid;
    }
    t.touch(chrono::Utc::now().timestamp_millis());
    Lookup::Valid(AuthUser {
        user_id: u.id,
        username: u.username.clone(),
        is_admin: u.is_admin,
        bot: u.bot,
        token_id: t.id,
        token_name: t.name.clone(),
        scopes: t.scopes.clone(),
        token_kind: t.kind,
    })
}

/// Scope check for an API request: `Ok` or the scopes that would be
/// needed (for the `insufficient_scope` body).
pub fn check_api_scope(u: &AuthUser, method: &Method, path: &str) -> Result<(), ApiError> {
    if u.has_scope("api") {
        return Ok(());
    }
    let read = method == Method::GET || method == Method::HEAD;
    let user_path = path == "/api/v4/user" || path.starts_with("/api/v4/users");
    let pat_self = path.starts_with("/api/v4/personal_access_tokens/self");
    if read && u.has_scope("read_api") {
        return Ok(());
    }
    if read && (user_path || pat_self) && u.has_scope("read_user") {
        return Ok(());
    }
    if pat_self && path.ends_with("/rotate") && u.has_scope("self_rotate") {
        return Ok(());
    }
    // GitLab lets any valid token inspect or revoke itself.
    if pat_self && !path.ends_with("/rotate") {
        return Ok(());
    }
    let needed = if read {
        if user_path {
            "api read_api read_user"
        } else {
            "api read_api"
        }
    } else if pat_self {
        "api self_rotate"
    } else {
        "api"
    };
    Err(ApiError::insufficient_scope(needed))
}
