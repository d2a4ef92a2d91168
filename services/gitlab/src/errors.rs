//! One error type for every GitLab call, classified for retries and for the
//! circuit breaker.

use std::time::Duration;

use crate::secret::mask_url_credentials;

/// Why a request never produced an HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// Could not connect (DNS, refused, TLS handshake). The request did not
    /// reach GitLab, so even a non-idempotent call may be retried.
    Connect,
    /// No complete answer in time. The request may have been processed.
    Timeout,
    /// The connection broke while sending or reading. It may have been
    /// processed.
    Other,
}

/// Why the rate budget refused to hand out a slot.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BudgetError {
    /// The next slot is later than the caller's deadline.
    #[error("rate budget exhausted; next slot in {ready_in:?}")]
    Exhausted { ready_in: Duration },
    /// The caller's cancellation token fired while waiting.
    #[error("cancelled while waiting for the rate budget")]
    Cancelled,
    /// A shared budget could not be reached (database error, …).
    #[error("rate budget unavailable: {0}")]
    Unavailable(String),
}

/// Every failure of a GitLab call.
///
/// Messages are GitLab's own (`message` / `error` of the JSON body, or the
/// plain-text body) with any `user:password@` masked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GitLabError {
    #[error("{endpoint}: transport error ({kind:?}): {message}")]
    Transport {
        endpoint: String,
        kind: TransportKind,
        message: String,
    },
    #[error("{endpoint}: GitLab server error {status}: {message}")]
    Server {
        endpoint: String,
        status: u16,
        message: String,
    },
    #[error("{endpoint}: rate limited by GitLab (retry after {retry_after:?})")]
    RateLimited {
        endpoint: String,
        retry_after: Option<Duration>,
        message: String,
    },
    #[error("{endpoint}: 401 unauthorized: {message}")]
    Unauthorized { endpoint: String, message: String },
    #[error("{endpoint}: 403 forbidden: {message}")]
    Forbidden { endpoint: String, message: String },
    #[error("{endpoint}: 404 not found: {message}")]
    NotFound { endpoint: String, message: String },
    #[error("{endpoint}: 409 conflict: {message}")]
    Conflict { endpoint: String, message: String },
    /// 400 or 422: GitLab rejected the parameters.
    #[error("{endpoint}: {status} validation failed: {message}")]
    Validation {
        endpoint: String,
        status: u16,
        message: String,
    },
    /// Any other status (3xx, 405, 412, …).
    #[error("{endpoint}: unexpected status {status}: {message}")]
    UnexpectedStatus {
        endpoint: String,
        status: u16,
        message: String,
    },
    /// The instance's circuit breaker is open; nothing was sent.
    #[error("circuit open for GitLab instance {instance}; retry in {retry_in:?}")]
    CircuitOpen {
        instance: String,
        retry_in: Duration,
    },
    /// No request slot before the deadline, or cancelled while waiting.
    #[error("{endpoint}: {source}")]
    Budget {
        endpoint: String,
        #[source]
        source: BudgetError,
    },
    /// A 2xx body that does not match the expected type.
    #[error("{endpoint}: cannot decode response: {message}")]
    Decode { endpoint: String, message: String },
    /// Bad arguments or configuration on our side (nothing was sent).
    #[error("invalid request: {0}")]
    Invalid(String),
}

impl GitLabError {
    /// Whether trying again later can help: transport failures, 5xx and
    /// 429 only.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            GitLabError::Transport { .. }
                | GitLabError::Server { .. }
                | GitLabError::RateLimited { .. }
        )
    }

    /// Whether this outcome says "the instance is unhealthy": transport
    /// errors, timeouts and 5xx only. A 4xx (including 429) proves GitLab
    /// is up and answering, so it never trips the breaker.
    pub fn counts_against_breaker(&self) -> bool {
        matches!(
            self,
            GitLabError::Transport { .. } | GitLabError::Server { .. }
        )
    }

    /// The earliest moment a retry is useful, when GitLab or the client
    /// knows it (`Retry-After`, breaker cooldown, next budget slot).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            GitLabError::RateLimited { retry_after, .. } => *retry_after,
            GitLabError::CircuitOpen { retry_in, .. } => Some(*retry_in),
            GitLabError::Budget {
                source: BudgetError::Exhausted { ready_in },
                ..
            } => Some(*ready_in),
            _ => None,
        }
    }

    /// HTTP status GitLab answered with, if any.
    pub fn status(&self) -> Option<u16> {
        match self {
            GitLabError::Server { status, .. }
            | GitLabError::Validation { status, .. }
            | GitLabError::UnexpectedStatus { status, .. } => Some(*status),
            GitLabError::RateLimited { .. } => Some(429),
            GitLabError::Unauthorized { .. } => Some(401),
            GitLabError::Forbidden { .. } => Some(403),
            GitLabError::NotFound { .. } => Some(404),
            GitLabError::Conflict { .. } => Some(409),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, GitLabError::NotFound { .. })
    }

    /// GitLab's message, when it sent one.
    pub fn gitlab_message(&self) -> Option<&str> {
        match self {
            GitLabError::Server { message, .. }
            | GitLabError::RateLimited { message, .. }
            | GitLabError::Unauthorized { message, .. }
            | GitLabError::Forbidden { message, .. }
            | GitLabError::NotFound { message, .. }
            | GitLabError::Conflict { message, .. }
            | GitLabError::Validation { message, .. }
            | GitLabError::UnexpectedStatus { message, .. } => Some(message),
            _ => None,
        }
    }

    /// Classify a non-2xx answer.
    pub(crate) fn from_status(
        endpoint: &str,
        status: u16,
        body: &[u8],
        retry_after: Option<Duration>,
    ) -> Self {
        let endpoint = endpoint.to_string();
        let message = extract_message(body);
        match status {
            401 => GitLabError::Unauthorized { endpoint, message },
            403 => GitLabError::Forbidden { endpoint, message },
            404 => GitLabError::NotFound { endpoint, message },
            409 => GitLabError::Conflict { endpoint, message },
            400 | 422 => GitLabError::Validation {
                endpoint,
                status,
                message,
            },
            429 => GitLabError::RateLimited {
                endpoint,
                retry_after,
                message,
            },
            500..=599 => GitLabError::Server {
                endpoint,
                status,
                message,
            },
            _ => GitLabError::UnexpectedStatus {
                endpoint,
                status,
                message,
            },
        }
    }

    pub(crate) fn from_reqwest(endpoint: &str, e: reqwest::Error) -> Self {
        let kind = if e.is_timeout() {
            TransportKind::Timeout
        } else if e.is_connect() {
            TransportKind::Connect
        } else {
            TransportKind::Other
        };
        // Drop the URL from the error text: it is ours and carries no
        // secret, but keeping messages URL-free keeps them short.
        let e = e.without_url();
        let mut message = e.to_string();
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            message.push_str(": ");
            message.push_str(&s.to_string());
            src = s.source();
        }
        GitLabError::Transport {
            endpoint: endpoint.to_string(),
            kind,
            message: mask_url_credentials(&message),
        }
    }
}

const MAX_MESSAGE: usize = 500;

/// GitLab's error text: `{"message": "…"}`, `{"message": {"field": ["…"]}}`,
/// `{"error": "…"}`, or a plain-text / HTML body.
pub(crate) fn extract_message(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let msg = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(map)) => {
            let pick = map
                .get("message")
                .or_else(|| map.get("error"))
                .or_else(|| map.get("error_description"));
            match pick {
                Some(v) => flatten_json_message(v),
                None => text.trim().to_string(),
            }
        }
        _ => html_title(&text).unwrap_or_else(|| text.trim().to_string()),
    };
    let mut msg = mask_url_credentials(&msg);
    if msg.len() > MAX_MESSAGE {
        let mut cut = MAX_MESSAGE;
        while !msg.is_char_boundary(cut) {
            cut -= 1;
        }
        msg.truncate(cut);
        msg.push('…');
    }
    msg
}

fn flatten_json_message(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}: {}", flatten_json_message(v)))
            .collect::<Vec<_>>()
            .join("; "),
        serde_json::Value::Array(items) => items
            .iter()
            .map(flatten_json_message)
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

fn html_title(text: &str) -> Option<String> {
    let start = text.find("<title>")? + "<title>".len();
    let end = text[start..].find("</title>")? + start;
    Some(text[start..end].trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        assert_eq!(
            extract_message(br#"{"message":"404 Project Not Found"}"#),
            "404 Project Not Found"
        );
        assert_eq!(
            extract_message(
                br#"{"message":{"url":["is blocked: Only allowed schemes are http, https, ssh, git"]}}"#
            ),
            "url: is blocked: Only allowed schemes are http, https, ssh, git"
        );
        assert_eq!(
            extract_message(br#"{"error":"scopes does not have a valid value"}"#),
            "scopes does not have a valid value"
        );
        assert_eq!(extract_message(b"Retry later\n"), "Retry later");
        assert_eq!(
            extract_message(b"<html><head><title>503 Service Unavailable</title></head></html>"),
            "503 Service Unavailable"
        );
        assert_eq!(
            extract_message(br#"{"message":"bad url https://a:b@h/x"}"#),
            "bad url https://*****:*****@h/x"
        );
    }

    #[test]
    fn classification() {
        let e = |s| GitLabError::from_status("GET /x", s, b"{}", None);
        for s in [400, 401, 403, 404, 409, 422, 429] {
            assert!(!e(s).counts_against_breaker(), "{s}");
        }
        for s in [401, 403, 404, 409, 400, 422] {
            assert!(!e(s).is_retryable(), "{s}");
        }
        assert!(e(429).is_retryable());
        assert!(e(503).is_retryable() && e(503).counts_against_breaker());
        assert!(matches!(
            e(422),
            GitLabError::Validation { status: 422, .. }
        ));
    }
}
