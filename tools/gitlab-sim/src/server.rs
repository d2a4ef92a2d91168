//! The HTTP front of an instance: the request pipeline (identity, stats,
//! faults, rate limit, scopes) and the listener.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;

use crate::auth::{self, Caller, Lookup};
use crate::error::ApiError;
use crate::faults::Action;
use crate::instance::Instance;

#[derive(PartialEq, Eq, Clone, Copy)]
enum Kind {
    Api,
    Git,
    Admin,
    Other,
}

fn kind_of(path: &str) -> Kind {
    if path.starts_with("/api/") {
        Kind::Api
    } else if path.starts_with("/-/sim") {
        Kind::Admin
    } else if crate::git_http::split_git_path(path).is_some() {
        Kind::Git
    } else {
        Kind::Other
    }
}

/// Credentials of a git request (HTTP Basic: any user, token as password).
pub fn basic_password(req_headers: &axum::http::HeaderMap) -> Option<(String, String)> {
    let v = req_headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let b64 = v
        .strip_prefix("Basic ")
        .or_else(|| v.strip_prefix("basic "))?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (u, p) = s.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

fn git_route(path: &str, method: &Method) -> String {
    let tail = if path.ends_with("/info/refs") {
        "/info/refs"
    } else if path.ends_with("/git-upload-pack") {
        "/git-upload-pack"
    } else if path.ends_with("/git-receive-pack") {
        "/git-receive-pack"
    } else {
        "/other"
    };
    format!("{method} /{{namespace}}/{{project}}.git{tail}")
}

/// Every request passes through here.
pub async fn pipeline(State(inst): State<Arc<Instance>>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let kind = kind_of(&path);
    if kind == Kind::Admin || kind == Kind::Other {
        return next.run(req).await;
    }
    let template = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string());
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "127.0.0.1".into());

    // 1. Identity.
    let token = match kind {
        Kind::Api => auth::extract_token(req.headers(), req.uri().query()),
        _ => basic_password(req.headers()).map(|(_, p)| p),
    };
    let lookup = match &token {
        None => Lookup::Missing,
        Some(t) => auth::resolve(&inst, t),
    };
    let (caller, token_key) = match &lookup {
        Lookup::Valid(u) => {
            let k = u.token_key();
            (Caller::User(Arc::new(u.clone())), k)
        }
        Lookup::Invalid => (Caller::Anonymous, "invalid".to_string()),
        Lookup::Missing => (Caller::Anonymous, "anonymous".to_string()),
    };

    // 2. Accounting.
    let route = match kind {
        Kind::Git => git_route(&path, &method),
        _ => format!(
            "{} {}",
            method,
            template.as_deref().unwrap_or("(unmatched)")
        ),
    };
    inst.stats
        .record(&route, &token_key, caller.username(), kind == Kind::Api);

    // 3. Faults.
    let plan = inst
        .faults
        .plan(method.as_str(), &path, template.as_deref());
    if !plan.delay.is_zero() {
        tokio::time::sleep(plan.delay).await;
    }
    if let Some(a) = plan.action {
        let resp = fault_response(a).await;
        inst.stats.record_status(resp.status().as_u16());
        return resp;
    }

    // 4. Rate limiting (per user when authenticated, else per IP).
    let decision = match &caller {
        Caller::User(u) => {
            inst.limiter
                .check(&format!("user:{}", u.user_id), true, kind == Kind::Git)
        }
        Caller::Anonymous => inst
            .limiter
            .check(&format!("ip:{ip}"), false, kind == Kind::Git),
    };
    if let Some(d) = &decision
        && d.throttled
    {
        inst.stats.record_throttled(caller.username());
        inst.stats.record_status(429);
        let mut resp = (StatusCode::TOO_MANY_REQUESTS, "Retry later\n").into_response();
        resp.headers_mut().extend(d.headers());
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        return resp;
    }

    // 5. Authentication outcome and scopes (API only; git checks its own).
    if kind == Kind::Api {
        if matches!(lookup, Lookup::Invalid) {
            let resp = ApiError::unauthorized().into_response();
            inst.stats.record_status(401);
            return resp;
        }
        if let Caller::User(u) = &caller
            && let Err(e) = auth::check_api_scope(u, &method, &path)
        {
            inst.stats.record_status(e.status.as_u16());
            return e.into_response();
        }
    }
    req.extensions_mut().insert(caller);
    let mut resp = next.run(req).await;
    if let Some(d) = decision {
        resp.headers_mut().extend(d.headers());
    }
    inst.stats.record_status(resp.status().as_u16());
    resp
}

async fn fault_response(a: Action) -> Response {
    match a {
        Action::Hang(d) => {
            tokio::time::sleep(d).await;
            (
                StatusCode::GATEWAY_TIMEOUT,
                "GitLab is taking too much time to respond.\n",
            )
                .into_response()
        }
        Action::Error(s) | Action::Outage(s) => error_page(s),
    }
}

/// What GitLab's front (Workhorse/NGINX) answers for server-side errors.
pub fn error_page(s: StatusCode) -> Response {
    if s == StatusCode::INTERNAL_SERVER_ERROR {
        return ApiError::message(s, "500 Internal Server Error").into_response();
    }
    let title = match s.as_u16() {
        502 => "502 Bad Gateway",
        503 => "503 Service Unavailable",
        504 => "504 Gateway Timeout",
        _ => s.canonical_reason().unwrap_or("Error"),
    };
    let body = format!(
        "<!DOCTYPE html>\n<html>\n<head><title>{title}</title></head>\n<body>\n<h1>{title}</h1>\n<p>GitLab is not responding.</p>\n</body>\n</html>\n"
    );
    let mut r = (s, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

/// Serve an instance on a bound listener until `shutdown` resolves.
pub async fn serve(
    inst: Arc<Instance>,
    listener: tokio::net::TcpListener,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    use axum::serve::ListenerExt;
    let app = crate::api::router(inst.clone());
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    );
    let mut rx = shutdown.clone();
    let graceful = server.with_graceful_shutdown(async move {
        let _ = rx.wait_for(|v| *v).await;
    });
    let task = tokio::spawn(async move {
        let _ = graceful.await;
    });
    let _ = shutdown.wait_for(|v| *v).await;
    // Hanging requests would keep a graceful shutdown waiting forever.
    let abort = task.abort_handle();
    if tokio::time::timeout(Duration::from_secs(2), task)
        .await
        .is_err()
    {
        abort.abort();
    }
}
