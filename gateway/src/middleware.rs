//! Cross-cutting HTTP behaviour: request ids, security headers, JSON error bodies for generic
//! HTTP errors, access log, CORS, body size limit and request timeout.

use std::time::{Duration, Instant};

use axum::{
    extract::{MatchedPath, Request},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{HeaderName, HeaderValue, Method, StatusCode, header};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tracing::Instrument;

use crate::errors::GatewayError;

/// Request id header, accepted from clients and returned on every response.
pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Content-Security-Policy of every response except Swagger UI. No CDN, no inline code: the
/// web console and the API need nothing else.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; \
     object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// Content-Security-Policy of Swagger UI (`/api/docs`), which sets inline styles and uses
/// `data:` images.
pub const DOCS_CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
     font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
     frame-ancestors 'none'";

/// Permissions-Policy of every response: the UI needs none of these features.
pub const PERMISSIONS_POLICY: &str =
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()";

const SECURITY_HEADERS: [(&str, &str); 6] = [
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("permissions-policy", PERMISSIONS_POLICY),
    // The XSS auditor is gone from browsers; "0" is the current recommendation.
    ("x-xss-protection", "0"),
];

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being handled, when called inside the gateway middleware.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// The request id, stored in the request extensions by [`edge`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// Accepts a client-supplied request id when it is 1-128 characters of `[A-Za-z0-9._:-]`.
pub fn sane_request_id(value: &HeaderValue) -> Option<String> {
    let value = value.to_str().ok()?;
    let ok = !value.is_empty()
        && value.len() <= 128
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
    ok.then(|| value.to_owned())
}

fn request_id_for(request: &Request) -> String {
    request
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(sane_request_id)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string())
}

/// The outermost middleware: assigns the request id, renders non-JSON error responses of
/// inner layers as the JSON error body, adds security headers and writes the access log.
pub async fn edge(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = request_id_for(&request);
    request
        .extensions_mut()
        .insert(RequestId(request_id.clone()));
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());

    let span = tracing::info_span!("http_request", request_id = %request_id);
    mm_telemetry::set_remote_parent(&span, request.headers());
    let response = REQUEST_ID
        .scope(request_id.clone(), next.run(request).instrument(span))
        .await;
    let mut response = json_errors(response, &request_id);
    finish_headers(&mut response, &request_id, &path);

    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let route = route.as_deref().unwrap_or("<unmatched>");
    if status >= 500 {
        tracing::warn!(target: "mm_gateway::access", %method, route, path, status, latency_ms, request_id, "request failed");
    } else {
        tracing::info!(target: "mm_gateway::access", %method, route, path, status, latency_ms, request_id, "request");
    }
    response
}

/// Replaces the body of an error response that is not JSON (an axum 405, a body-limit 413, a
/// timeout 504, a Swagger UI 404) with the JSON error body.
fn json_errors(response: Response, request_id: &str) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return response;
    }
    let (parts, _body) = response.into_parts();
    let mut rendered =
        GatewayError::from_http_status(status, None).into_response_with_id(request_id);
    // Keep informative headers such as `Allow` on 405.
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            rendered.headers_mut().insert(name.clone(), value.clone());
        }
    }
    rendered
}

fn finish_headers(response: &mut Response, request_id: &str, path: &str) {
    let is_api = path.starts_with("/api/");
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    if path == "/api/docs" || path.starts_with("/api/docs/") {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DOCS_CONTENT_SECURITY_POLICY),
        );
    }
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert(X_REQUEST_ID.clone(), value);
    }
    if is_api && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// A complete 404 response for routes nobody serves, rendered with the same request id,
/// headers and access log as routed requests.
pub async fn not_found() -> Response {
    GatewayError::from_http_status(StatusCode::NOT_FOUND, None).into_response()
}

/// CORS for the configured origins; `None` when no origin is configured.
pub fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow_origin = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        let values: Vec<HeaderValue> = origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok())
            .collect();
        AllowOrigin::list(values)
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
                Method::OPTIONS,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                X_REQUEST_ID.clone(),
                HeaderName::from_static("traceparent"),
                HeaderName::from_static("tracestate"),
            ])
            .expose_headers([
                X_REQUEST_ID.clone(),
                HeaderName::from_static("x-total-count"),
                HeaderName::from_static("x-total-pages"),
                HeaderName::from_static("x-next-page-token"),
                HeaderName::from_static("x-next-page"),
                header::LINK,
                header::LOCATION,
                header::CONTENT_DISPOSITION,
            ])
            .max_age(Duration::from_secs(600)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_validated() {
        assert_eq!(
            sane_request_id(&HeaderValue::from_static("abc-123_x.y:z")).as_deref(),
            Some("abc-123_x.y:z")
        );
        assert!(sane_request_id(&HeaderValue::from_static("")).is_none());
        assert!(sane_request_id(&HeaderValue::from_static("a b")).is_none());
        assert!(sane_request_id(&HeaderValue::from_static("<script>")).is_none());
        let long = "a".repeat(129);
        assert!(sane_request_id(&HeaderValue::from_str(&long).unwrap()).is_none());
    }
}
