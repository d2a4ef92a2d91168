//! Simulator control endpoints under `/-/sim/` (instance admin token
//! required): faults, stats, mutation log, leftovers, rate limit, timings.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{Value, json};

use crate::auth::{self, Lookup};
use crate::config::MirrorTiming;
use crate::error::ApiError;
use crate::faults::FaultConfig;
use crate::instance::Instance;
use crate::model::{Mutation, TokenKind};
use crate::rate_limit::RateLimitConfig;

type S = State<Arc<Instance>>;

/// Only the instance's administrators may drive the simulator.
fn require_admin(inst: &Instance, req: &Request) -> Result<(), ApiError> {
    let tok =
        auth::extract_token(req.headers(), req.uri().query()).ok_or_else(ApiError::unauthorized)?;
    match auth::resolve(inst, &tok) {
        Lookup::Valid(u) if u.is_admin => Ok(()),
        Lookup::Valid(_) => Err(ApiError::forbidden()),
        _ => Err(ApiError::unauthorized()),
    }
}

async fn body_json<T: serde::de::DeserializeOwned>(req: Request) -> Result<T, ApiError> {
    let bytes = axum::body::to_bytes(req.into_body(), 1 << 20)
        .await
        .map_err(|_| ApiError::grape("body is invalid"))?;
    let text = if bytes.is_empty() {
        &b"{}"[..]
    } else {
        &bytes[..]
    };
    serde_json::from_slice(text).map_err(|e| ApiError::grape(format!("invalid body: {e}")))
}

macro_rules! guarded {
    ($name:ident, |$inst:ident, $req:ident| $body:expr) => {
        async fn $name(State($inst): S, $req: Request) -> Response {
            if let Err(e) = require_admin(&$inst, &$req) {
                return e.into_response();
            }
            let r: Result<Response, ApiError> = async move { $body }.await;
            r.unwrap_or_else(|e| e.into_response())
        }
    };
}

/// What a test checks at the end: nothing the orchestrator created may remain.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Leftovers {
    /// Active project access tokens.
    pub project_access_tokens: Vec<Value>,
    /// Active personal tokens created after start (not by the seed or for the admin).
    pub personal_access_tokens: Vec<Value>,
    pub remote_mirrors: Vec<Value>,
    /// Projects with pull mirroring enabled.
    pub pull_mirrors: Vec<Value>,
}

impl Leftovers {
    pub fn is_empty(&self) -> bool {
        self.project_access_tokens.is_empty()
            && self.personal_access_tokens.is_empty()
            && self.remote_mirrors.is_empty()
            && self.pull_mirrors.is_empty()
    }
}

pub fn leftovers(inst: &Instance) -> Leftovers {
    let db = inst.db.read();
    let today = inst.today();
    let path = |pid: u64| db.projects.get(&pid).map(|p| p.full_path.clone());
    let mut out = Leftovers {
        project_access_tokens: vec![],
        personal_access_tokens: vec![],
        remote_mirrors: vec![],
        pull_mirrors: vec![],
    };
    for t in db.tokens.values().filter(|t| t.active(today)) {
        let v = json!({
            "id": t.id, "name": t.name, "user_id": t.user_id, "scopes": t.scopes,
            "expires_at": crate::util::date_opt(&t.expires_at), "created_at": crate::util::ts(&t.created_at),
        });
        match t.kind {
            TokenKind::Project(pid) => {
                let mut v = v;
                v["project_id"] = json!(pid);
                v["project_path"] = json!(path(pid));
                out.project_access_tokens.push(v);
            }
            TokenKind::Personal => {
                if t.user_id != inst.admin_user_id && !db.seeded_tokens.contains(&t.id) {
                    out.personal_access_tokens.push(v);
                }
            }
        }
    }
    for m in db.remote_mirrors.values() {
        out.remote_mirrors.push(json!({
            "id": m.id, "project_id": m.project_id, "project_path": path(m.project_id),
            "url": crate::util::mask_url(&m.url), "enabled": m.enabled, "update_status": m.update_status,
        }));
    }
    for p in db.projects.values().filter(|p| p.mirror) {
        out.pull_mirrors.push(json!({
            "project_id": p.id, "project_path": p.full_path,
            "url": p.import_url.as_deref().map(crate::util::mask_url),
            "update_status": p.import_state.as_ref().map(|s| s.status.clone()),
        }));
    }
    out
}

pub fn mutations(inst: &Instance, since: usize) -> Vec<Mutation> {
    inst.db
        .read()
        .mutations
        .iter()
        .skip(since)
        .cloned()
        .collect()
}

fn info(inst: &Instance) -> Value {
    let db = inst.db.read();
    json!({
        "name": inst.name,
        "edition": if inst.is_ee() { "ee" } else { "ce" },
        "version": inst.version,
        "base_url": inst.base_url,
        "repo_root": inst.repo_root,
        "users": db.users.len(),
        "groups": db.groups.len(),
        "projects": db.projects.len(),
        "remote_mirrors": db.remote_mirrors.len(),
    })
}

guarded!(get_info, |inst, _req| Ok(Json(info(&inst)).into_response()));
guarded!(get_faults, |inst, _req| Ok(Json(json!({
    "config": inst.faults.get(),
    "outage_remaining_ms": inst.faults.outage_remaining_ms(),
}))
.into_response()));
guarded!(put_faults, |inst, req| {
    let cfg: FaultConfig = body_json(req).await?;
    inst.faults.set(cfg);
    Ok(Json(json!({"config": inst.faults.get()})).into_response())
});
guarded!(delete_faults, |inst, _req| {
    inst.faults.clear();
    Ok(StatusCode::NO_CONTENT.into_response())
});
guarded!(get_stats, |inst, _req| Ok(
    Json(inst.stats.snapshot()).into_response()
));
guarded!(reset_stats, |inst, _req| {
    inst.stats.reset();
    Ok(StatusCode::NO_CONTENT.into_response())
});
guarded!(get_mutations, |inst, req| {
    let since = req
        .uri()
        .query()
        .and_then(|q| url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "since"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    Ok(Json(mutations(&inst, since)).into_response())
});
guarded!(get_leftovers, |inst, _req| Ok(
    Json(leftovers(&inst)).into_response()
));
guarded!(get_rate_limit, |inst, _req| Ok(
    Json(inst.limiter.config()).into_response()
));
guarded!(put_rate_limit, |inst, req| {
    let cfg: RateLimitConfig = body_json(req).await?;
    inst.limiter.set_config(cfg);
    Ok(Json(inst.limiter.config()).into_response())
});
guarded!(get_timing, |inst, _req| Ok(Json(
    inst.timing.read().clone()
)
.into_response()));
guarded!(put_timing, |inst, req| {
    let cfg: MirrorTiming = body_json(req).await?;
    *inst.timing.write() = cfg;
    Ok(Json(inst.timing.read().clone()).into_response())
});

pub fn router() -> Router<Arc<Instance>> {
    Router::new()
        .route("/-/sim/info", get(get_info))
        .route(
            "/-/sim/faults",
            get(get_faults).put(put_faults).delete(delete_faults),
        )
        .route("/-/sim/stats", get(get_stats))
        .route("/-/sim/stats/reset", post(reset_stats))
        .route("/-/sim/mutations", get(get_mutations))
        .route("/-/sim/leftovers", get(get_leftovers))
        .route("/-/sim/rate_limit", get(get_rate_limit).put(put_rate_limit))
        .route("/-/sim/mirror_timing", get(get_timing).put(put_timing))
}
