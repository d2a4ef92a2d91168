use std::fmt;

use serde::{Deserialize, Serialize};
use tonic_types::{ErrorDetails, StatusExt};

/// Kind of failure, independent of transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    InvalidArgument,
    FailedPrecondition,
    OutOfRange,
    Unauthenticated,
    PermissionDenied,
    NotFound,
    AlreadyExists,
    Aborted,
    ResourceExhausted,
    Cancelled,
    Unimplemented,
    Unavailable,
    DeadlineExceeded,
    Internal,
}

impl ErrorCode {
    /// Every code, for exhaustive tests and documentation.
    pub const ALL: [ErrorCode; 14] = [
        ErrorCode::InvalidArgument,
        ErrorCode::FailedPrecondition,
        ErrorCode::OutOfRange,
        ErrorCode::Unauthenticated,
        ErrorCode::PermissionDenied,
        ErrorCode::NotFound,
        ErrorCode::AlreadyExists,
        ErrorCode::Aborted,
        ErrorCode::ResourceExhausted,
        ErrorCode::Cancelled,
        ErrorCode::Unimplemented,
        ErrorCode::Unavailable,
        ErrorCode::DeadlineExceeded,
        ErrorCode::Internal,
    ];

    /// The gRPC status code for this error.
    pub fn grpc_code(self) -> tonic::Code {
        match self {
            ErrorCode::InvalidArgument => tonic::Code::InvalidArgument,
            ErrorCode::FailedPrecondition => tonic::Code::FailedPrecondition,
            ErrorCode::OutOfRange => tonic::Code::OutOfRange,
            ErrorCode::Unauthenticated => tonic::Code::Unauthenticated,
            ErrorCode::PermissionDenied => tonic::Code::PermissionDenied,
            ErrorCode::NotFound => tonic::Code::NotFound,
            ErrorCode::AlreadyExists => tonic::Code::AlreadyExists,
            ErrorCode::Aborted => tonic::Code::Aborted,
            ErrorCode::ResourceExhausted => tonic::Code::ResourceExhausted,
            ErrorCode::Cancelled => tonic::Code::Cancelled,
            ErrorCode::Unimplemented => tonic::Code::Unimplemented,
            ErrorCode::Unavailable => tonic::Code::Unavailable,
            ErrorCode::DeadlineExceeded => tonic::Code::DeadlineExceeded,
            ErrorCode::Internal => tonic::Code::Internal,
        }
    }

    /// The HTTP status for this error (grpc-gateway's table).
    pub fn http_status(self) -> http::StatusCode {
        use http::StatusCode as S;
        match self {
            ErrorCode::InvalidArgument | ErrorCode::FailedPrecondition | ErrorCode::OutOfRange => {
                S::BAD_REQUEST
            }
            ErrorCode::Unauthenticated => S::UNAUTHORIZED,
            ErrorCode::PermissionDenied => S::FORBIDDEN,
            ErrorCode::NotFound => S::NOT_FOUND,
            ErrorCode::AlreadyExists | ErrorCode::Aborted => S::CONFLICT,
            ErrorCode::ResourceExhausted => S::TOO_MANY_REQUESTS,
            // 499 "client closed request" is not a registered status but is well understood.
            ErrorCode::Cancelled => S::from_u16(499).unwrap_or(S::BAD_REQUEST),
            ErrorCode::Unimplemented => S::NOT_IMPLEMENTED,
            ErrorCode::Unavailable => S::SERVICE_UNAVAILABLE,
            ErrorCode::DeadlineExceeded => S::GATEWAY_TIMEOUT,
            ErrorCode::Internal => S::INTERNAL_SERVER_ERROR,
        }
    }

    /// The error code for a gRPC status code. `Ok` and codes without a domain meaning map to
    /// `Internal`.
    pub fn from_grpc(code: tonic::Code) -> ErrorCode {
        match code {
            tonic::Code::InvalidArgument => ErrorCode::InvalidArgument,
            tonic::Code::FailedPrecondition => ErrorCode::FailedPrecondition,
            tonic::Code::OutOfRange => ErrorCode::OutOfRange,
            tonic::Code::Unauthenticated => ErrorCode::Unauthenticated,
            tonic::Code::PermissionDenied => ErrorCode::PermissionDenied,
            tonic::Code::NotFound => ErrorCode::NotFound,
            tonic::Code::AlreadyExists => ErrorCode::AlreadyExists,
            tonic::Code::Aborted => ErrorCode::Aborted,
            tonic::Code::ResourceExhausted => ErrorCode::ResourceExhausted,
            tonic::Code::Cancelled => ErrorCode::Cancelled,
            tonic::Code::Unimplemented => ErrorCode::Unimplemented,
            tonic::Code::Unavailable => ErrorCode::Unavailable,
            tonic::Code::DeadlineExceeded => ErrorCode::DeadlineExceeded,
            _ => ErrorCode::Internal,
        }
    }

    /// Stable upper-snake name used in REST error bodies, e.g. `INVALID_ARGUMENT`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidArgument => "INVALID_ARGUMENT",
            ErrorCode::FailedPrecondition => "FAILED_PRECONDITION",
            ErrorCode::OutOfRange => "OUT_OF_RANGE",
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::PermissionDenied => "PERMISSION_DENIED",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::AlreadyExists => "ALREADY_EXISTS",
            ErrorCode::Aborted => "ABORTED",
            ErrorCode::ResourceExhausted => "RESOURCE_EXHAUSTED",
            ErrorCode::Cancelled => "CANCELLED",
            ErrorCode::Unimplemented => "UNIMPLEMENTED",
            ErrorCode::Unavailable => "UNAVAILABLE",
            ErrorCode::DeadlineExceeded => "DEADLINE_EXCEEDED",
            ErrorCode::Internal => "INTERNAL",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One invalid field of a request, named by its path in the request (`pair.name`, `url`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
        }
    }
}

/// An error as reported to API clients: a code, a human message and, for bad input, the
/// offending fields. Internal details never go into `message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub field_violations: Vec<FieldViolation>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field_violations: Vec::new(),
        }
    }

    /// Bad input in one field. The message names the field.
    pub fn invalid_field(field: impl Into<String>, description: impl Into<String>) -> Self {
        let violation = FieldViolation::new(field, description);
        Self {
            code: ErrorCode::InvalidArgument,
            message: format!("{}: {}", violation.field, violation.description),
            field_violations: vec![violation],
        }
    }

    /// Bad input in several fields; the message lists them all.
    pub fn invalid_fields(violations: Vec<FieldViolation>) -> Self {
        let message = violations
            .iter()
            .map(|v| format!("{}: {}", v.field, v.description))
            .collect::<Vec<_>>()
            .join("; ");
        Self {
            code: ErrorCode::InvalidArgument,
            message,
            field_violations: violations,
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    pub fn already_exists(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::AlreadyExists, message)
    }

    pub fn failed_precondition(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::FailedPrecondition, message)
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthenticated, message)
    }

    pub fn permission_denied(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::PermissionDenied, message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unavailable, message)
    }

    /// An unexpected failure. The message shown to clients is generic; log the cause.
    pub fn internal() -> Self {
        Self::new(ErrorCode::Internal, "internal error")
    }

    /// Attaches a field violation to an error of any code (for example an AlreadyExists on
    /// `name`), so clients can point at the field.
    pub fn with_field(mut self, field: impl Into<String>, description: impl Into<String>) -> Self {
        self.field_violations
            .push(FieldViolation::new(field, description));
        self
    }

    /// The gRPC status, with field violations as `google.rpc.BadRequest` details.
    pub fn to_status(&self) -> tonic::Status {
        if self.field_violations.is_empty() {
            return tonic::Status::new(self.code.grpc_code(), self.message.clone());
        }
        let mut details = ErrorDetails::new();
        for violation in &self.field_violations {
            details
                .add_bad_request_violation(violation.field.clone(), violation.description.clone());
        }
        tonic::Status::with_error_details(self.code.grpc_code(), self.message.clone(), details)
    }

    /// Rebuilds the error from a gRPC status, reading `google.rpc.BadRequest` details.
    pub fn from_status(status: &tonic::Status) -> Self {
        let field_violations = status
            .get_details_bad_request()
            .map(|bad_request| {
                bad_request
                    .field_violations
                    .into_iter()
                    .map(|v| FieldViolation::new(v.field, v.description))
                    .collect()
            })
            .unwrap_or_default();
        Self {
            code: ErrorCode::from_grpc(status.code()),
            message: status.message().to_owned(),
            field_violations,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<ApiError> for tonic::Status {
    fn from(error: ApiError) -> Self {
        error.to_status()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_and_http_mappings_agree_for_every_code() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_grpc(code.grpc_code()), code);
            let status = code.http_status().as_u16();
            match code {
                ErrorCode::Internal => assert_eq!(status, 500),
                ErrorCode::Unimplemented | ErrorCode::Unavailable | ErrorCode::DeadlineExceeded => {
                    assert!(status > 500)
                }
                _ => assert!((400..500).contains(&status), "{code} -> {status}"),
            }
        }
    }

    #[test]
    fn field_violations_survive_a_round_trip_through_grpc_status() {
        let error = ApiError::invalid_fields(vec![
            FieldViolation::new("name", "must not be empty"),
            FieldViolation::new("url", "scheme must be http or https"),
        ]);
        let status = error.to_status();
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert!(status.message().contains("name: must not be empty"));
        let back = ApiError::from_status(&status);
        assert_eq!(back, error);
    }

    #[test]
    fn non_validation_errors_can_name_a_field() {
        let error = ApiError::already_exists("an instance named \"a\" already exists")
            .with_field("name", "already in use");
        let back = ApiError::from_status(&error.to_status());
        assert_eq!(back.code, ErrorCode::AlreadyExists);
        assert_eq!(back.field_violations[0].field, "name");
    }
}
