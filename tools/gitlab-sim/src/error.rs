//! GitLab's error bodies: `{"message": ...}` from API helpers,
//! `{"error": ...}` from Grape parameter validation.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// An API error rendered exactly like GitLab renders it.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: Value,
    pub www_authenticate: Option<&'static str>,
}

pub type ApiResult<T = Response> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, body: Value) -> Self {
        Self {
            status,
            body,
            www_authenticate: None,
        }
    }

    /// `{"message": msg}`.
    pub fn message(status: StatusCode, msg: impl Into<String>) -> Self {
        Self::new(status, json!({ "message": msg.into() }))
    }

    /// Grape validation error `{"error": msg}` (status 400).
    pub fn grape(msg: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, json!({ "error": msg.into() }))
    }

    /// `render_validation_error!`: `{"message": {"field": ["msg"]}}`.
    pub fn validation(field: &str, msg: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            json!({ "message": { field: [msg.into()] } }),
        )
    }

    /// `bad_request!(reason)`: `400 Bad request - <reason>`.
    pub fn bad_request(reason: impl AsRef<str>) -> Self {
        Self::message(
            StatusCode::BAD_REQUEST,
            format!("400 Bad request - {}", reason.as_ref()),
        )
    }

    /// `unauthorized!`.
    pub fn unauthorized() -> Self {
        Self::message(StatusCode::UNAUTHORIZED, "401 Unauthorized")
    }

    /// `forbidden!`.
    pub fn forbidden() -> Self {
        Self::message(StatusCode::FORBIDDEN, "403 Forbidden")
    }

    /// `forbidden!(reason)`.
    pub fn forbidden_reason(reason: &str) -> Self {
        Self::message(StatusCode::FORBIDDEN, format!("403 Forbidden - {reason}"))
    }

    /// `not_found!('Project')` → `404 Project Not Found`.
    pub fn not_found(what: &str) -> Self {
        Self::message(StatusCode::NOT_FOUND, format!("404 {what} Not Found"))
    }

    /// `ActiveRecord::RecordNotFound` → `404 Not found`.
    pub fn record_not_found() -> Self {
        Self::message(StatusCode::NOT_FOUND, "404 Not found")
    }

    /// Unknown route.
    pub fn route_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, json!({ "error": "404 Not Found" }))
    }

    /// `conflict!(msg)`.
    pub fn conflict(msg: &str) -> Self {
        Self::message(StatusCode::CONFLICT, msg)
    }

    /// Token lacks the scope the endpoint needs.
    pub fn insufficient_scope(scopes: &str) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            body: json!({
                "error": "insufficient_scope",
                "error_description": "The request requires higher privileges than provided by the access token.",
                "scope": scopes,
            }),
            www_authenticate: Some(
                "Bearer realm=\"GitLab\", error=\"insufficient_scope\", error_description=\"The request requires higher privileges than provided by the access token.\"",
            ),
        }
    }

    /// Required parameter missing (Grape): `{"error":"name is missing"}`.
    pub fn missing(param: &str) -> Self {
        Self::grape(format!("{param} is missing"))
    }

    /// Parameter with a value outside its `values:` list.
    pub fn invalid_value(param: &str) -> Self {
        Self::grape(format!("{param} does not have a valid value"))
    }

    /// Parameter that does not coerce to its type.
    pub fn invalid(param: &str) -> Self {
        Self::grape(format!("{param} is invalid"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, axum::Json(self.body)).into_response();
        if let Some(v) = self.www_authenticate {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(v));
        }
        resp
    }
}

/// A JSON response with the given status.
pub fn json_status(status: StatusCode, v: Value) -> Response {
    (status, axum::Json(v)).into_response()
}

/// `200 OK` JSON.
pub fn ok(v: Value) -> Response {
    json_status(StatusCode::OK, v)
}

/// `201 Created` JSON.
pub fn created(v: Value) -> Response {
    json_status(StatusCode::CREATED, v)
}

/// `204 No Content`.
pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}
