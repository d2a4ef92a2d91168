//! The one JSON error body of the REST API and the conversions into it.
//!
//! Every error response of the gateway, whether it comes from the API service (a gRPC
//! status), from the gateway's own input checks, or from a generic HTTP layer (unknown route,
//! wrong method, body too large, timeout), has the same shape:
//!
//! ```json
//! {"code":"INVALID_ARGUMENT","message":"name: must not be empty","detail":"name: must not be empty",
//!  "field_violations":[{"field":"name","description":"must not be empty"}],"request_id":"..."}
//! ```
//!
//! `detail` repeats `message` for clients of the previous FastAPI service, which read
//! `{"detail": ...}`.
//!
//! Status codes: errors of the API service use the single gRPC→HTTP table of
//! [`mm_common::ErrorCode::http_status`]. The gateway itself answers 400 for malformed JSON,
//! 422 for well-formed input of the wrong shape (wrong types, unknown or missing fields, bad
//! path or query parameters), 404/405 for unknown routes and methods, 413 for oversized bodies,
//! 415 for a non-JSON content type, 503 when the API service cannot be reached and 504 when it
//! does not answer in time.

use std::borrow::Cow;

use axum::{
    Json,
    response::{IntoResponse, Response},
};
use http::{HeaderValue, StatusCode, header};
use mm_common::{ApiError, ErrorCode, FieldViolation};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::middleware::current_request_id;

/// Value of `WWW-Authenticate` on every 401. A Bearer challenge, never Basic: a Basic
/// challenge would make browsers show a login dialog over the web UI.
pub const WWW_AUTHENTICATE: &str = "Bearer realm=\"mirror-maestro\"";

/// Error body of every failed request.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "code": "INVALID_ARGUMENT",
    "message": "name: must not be empty",
    "detail": "name: must not be empty",
    "field_violations": [{"field": "name", "description": "must not be empty"}],
    "request_id": "0190f1c6-5a1e-7cc1-9b43-2f1f3c7e4d10"
}))]
pub struct ErrorBody {
    /// Machine-readable error code: a gRPC code name such as `INVALID_ARGUMENT`, `NOT_FOUND`,
    /// `ALREADY_EXISTS`, `UNAUTHENTICATED`, `UNAVAILABLE`, or an HTTP-level code such as
    /// `METHOD_NOT_ALLOWED`, `PAYLOAD_TOO_LARGE`, `UNSUPPORTED_MEDIA_TYPE`.
    pub code: String,
    /// Human-readable description. For bad input it names the field(s).
    pub message: String,
    /// Same as `message`; kept for clients of the previous API (`{"detail": ...}`).
    pub detail: String,
    /// The offending request fields, when the error is about input.
    pub field_violations: Vec<FieldViolationBody>,
    /// Id of the request (also in the `X-Request-ID` response header).
    pub request_id: String,
}

/// One invalid request field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldViolationBody {
    /// Path of the field in the request, e.g. `name`, `per_page`, `id`.
    pub field: String,
    /// What is wrong with it.
    pub description: String,
}

impl From<FieldViolation> for FieldViolationBody {
    fn from(v: FieldViolation) -> Self {
        Self {
            field: v.field,
            description: v.description,
        }
    }
}

/// An error response of the gateway: an HTTP status plus the fields of [`ErrorBody`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayError {
    pub status: StatusCode,
    pub code: Cow<'static, str>,
    pub message: String,
    pub field_violations: Vec<FieldViolation>,
}

impl GatewayError {
    pub fn new(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            field_violations: Vec::new(),
        }
    }

    /// Well-formed input of the wrong shape in one field (422).
    pub fn unprocessable(field: impl Into<String>, description: impl Into<String>) -> Self {
        let field = field.into();
        let description = description.into();
        let message = if field.is_empty() {
            description.clone()
        } else {
            format!("{field}: {description}")
        };
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: Cow::Borrowed(ErrorCode::InvalidArgument.as_str()),
            message,
            field_violations: vec![FieldViolation::new(field, description)],
        }
    }

    /// Malformed request (400), optionally about one field.
    pub fn bad_request(field: Option<&str>, description: impl Into<String>) -> Self {
        let description = description.into();
        match field {
            Some(field) if !field.is_empty() => Self {
                status: StatusCode::BAD_REQUEST,
                code: Cow::Borrowed(ErrorCode::InvalidArgument.as_str()),
                message: format!("{field}: {description}"),
                field_violations: vec![FieldViolation::new(field, description)],
            },
            _ => Self::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::InvalidArgument.as_str(),
                description,
            ),
        }
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::from(ApiError::unauthenticated(message))
    }

    /// The API service could not be reached.
    pub fn api_unavailable() -> Self {
        Self::from(ApiError::unavailable("the API service is unavailable"))
    }

    /// An error built only from an HTTP status, for responses of generic HTTP layers.
    pub fn from_http_status(status: StatusCode, message: Option<String>) -> Self {
        let (code, default_message): (&'static str, &str) = match status.as_u16() {
            400 => ("INVALID_ARGUMENT", "bad request"),
            401 => ("UNAUTHENTICATED", "authentication required"),
            403 => ("PERMISSION_DENIED", "permission denied"),
            404 => ("NOT_FOUND", "no such route"),
            405 => ("METHOD_NOT_ALLOWED", "method not allowed for this route"),
            408 | 504 => ("DEADLINE_EXCEEDED", "the request took too long"),
            409 => ("ALREADY_EXISTS", "conflict"),
            413 => ("PAYLOAD_TOO_LARGE", "request body too large"),
            415 => (
                "UNSUPPORTED_MEDIA_TYPE",
                "expected Content-Type: application/json",
            ),
            422 => ("INVALID_ARGUMENT", "invalid request"),
            429 => ("RESOURCE_EXHAUSTED", "too many requests"),
            501 => ("UNIMPLEMENTED", "not implemented"),
            503 => ("UNAVAILABLE", "service unavailable"),
            s if (400..500).contains(&s) => ("INVALID_ARGUMENT", "bad request"),
            _ => ("INTERNAL", "internal error"),
        };
        let message = message
            .filter(|m| !m.trim().is_empty())
            .unwrap_or_else(|| default_message.to_owned());
        Self::new(status, code, message)
    }

    /// Renames fields of the gRPC request (`pair.name`) to the REST body's (`name`), in the
    /// violations and in the message.
    pub fn without_field_prefix(self, prefix: &str) -> Self {
        self.rename_fields(|field| field.strip_prefix(prefix).map(str::to_owned))
    }

    /// Renames fields of the violations, and in the message, to their REST names. `rename`
    /// returns the new name of a field, or `None` to keep it.
    pub fn rename_fields(mut self, rename: impl Fn(&str) -> Option<String>) -> Self {
        for violation in &mut self.field_violations {
            if let Some(renamed) = rename(&violation.field)
                && renamed != violation.field
            {
                self.message = self.message.replace(&violation.field, &renamed);
                violation.field = renamed;
            }
        }
        self
    }

    /// The JSON body for this error and the given request id.
    pub fn body(&self, request_id: &str) -> ErrorBody {
        ErrorBody {
            code: self.code.to_string(),
            message: self.message.clone(),
            detail: self.message.clone(),
            field_violations: self
                .field_violations
                .iter()
                .cloned()
                .map(FieldViolationBody::from)
                .collect(),
            request_id: request_id.to_owned(),
        }
    }

    /// Renders the error with an explicit request id.
    pub fn into_response_with_id(self, request_id: &str) -> Response {
        let body = self.body(request_id);
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(WWW_AUTHENTICATE),
            );
        }
        response
    }
}

impl From<ApiError> for GatewayError {
    fn from(error: ApiError) -> Self {
        Self {
            status: error.code.http_status(),
            code: Cow::Borrowed(error.code.as_str()),
            message: error.message,
            field_violations: error.field_violations,
        }
    }
}

impl From<tonic::Status> for GatewayError {
    fn from(status: tonic::Status) -> Self {
        // Statuses produced by the client itself (connection refused, timeout) carry no
        // response metadata; statuses sent by the API service always do.
        let from_transport = status.metadata().is_empty();
        if from_transport {
            match status.code() {
                tonic::Code::Cancelled if status.message().contains("Timeout expired") => {
                    tracing::warn!(grpc.message = status.message(), "API call timed out");
                    return Self::from(ApiError::new(
                        ErrorCode::DeadlineExceeded,
                        "the API service did not answer in time",
                    ));
                }
                tonic::Code::Unavailable | tonic::Code::Unknown | tonic::Code::Internal => {
                    tracing::warn!(
                        grpc.code = ?status.code(),
                        grpc.message = status.message(),
                        "API service unreachable"
                    );
                    return Self::api_unavailable();
                }
                _ => {}
            }
        }
        let error = ApiError::from_status(&status);
        if error.code == ErrorCode::Internal {
            // Never pass internal details through; the API logs them with the request id.
            tracing::error!(
                grpc.code = ?status.code(),
                grpc.message = status.message(),
                "API service reported an internal error"
            );
            return Self::from(ApiError::internal());
        }
        Self::from(error)
    }
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        let request_id = current_request_id().unwrap_or_default();
        self.into_response_with_id(&request_id)
    }
}

impl std::fmt::Display for GatewayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for GatewayError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_errors_use_the_shared_status_table() {
        for code in ErrorCode::ALL {
            let error = GatewayError::from(ApiError::new(code, "x"));
            assert_eq!(error.status, code.http_status());
            assert_eq!(error.code, code.as_str());
        }
    }

    #[test]
    fn field_violations_from_a_grpc_status_reach_the_body() {
        let status = ApiError::invalid_field("name", "must not be empty").to_status();
        // Pretend the status came from a server so it is not treated as a transport error.
        let mut status = status;
        status
            .metadata_mut()
            .insert("content-type", "application/grpc".parse().unwrap());
        let error = GatewayError::from(status);
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        let body = error.body("rid");
        assert_eq!(body.code, "INVALID_ARGUMENT");
        assert_eq!(body.message, "name: must not be empty");
        assert_eq!(body.detail, body.message);
        assert_eq!(body.field_violations[0].field, "name");
        assert_eq!(body.request_id, "rid");
    }

    #[test]
    fn transport_failures_become_503_and_504_without_internals() {
        let error = GatewayError::from(tonic::Status::unavailable(
            "tcp connect error: Connection refused (os error 111)",
        ));
        assert_eq!(error.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(!error.message.contains("111"));
        let error = GatewayError::from(tonic::Status::cancelled("Timeout expired"));
        assert_eq!(error.status, StatusCode::GATEWAY_TIMEOUT);
        let error = GatewayError::from(tonic::Status::unknown("h2 protocol error"));
        assert_eq!(error.status, StatusCode::SERVICE_UNAVAILABLE);
    }

    #[test]
    fn internal_errors_from_the_api_are_not_passed_through() {
        let mut status = tonic::Status::internal("database password is hunter2");
        status
            .metadata_mut()
            .insert("content-type", "application/grpc".parse().unwrap());
        let error = GatewayError::from(status);
        assert_eq!(error.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!error.message.contains("hunter2"));
    }

    #[test]
    fn unauthorized_responses_carry_a_bearer_challenge() {
        let response = GatewayError::unauthenticated("no credentials").into_response_with_id("r");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers()[header::WWW_AUTHENTICATE],
            "Bearer realm=\"mirror-maestro\""
        );
    }
}
