//! Retry policy: which failures are retried, how long to wait, and when to
//! stop.
//!
//! Only retryable errors are retried (transport, 5xx, 429 — see
//! [`GitLabError::is_retryable`]), with exponential backoff and full
//! jitter, at most `max_attempts` times and never past the call's overall
//! deadline. A 429 is additionally turned into a pause of the whole
//! instance's rate budget, so every caller waits, not only this one.
//!
//! # Non-idempotent calls
//!
//! Creating a project access token or a push mirror is not idempotent: if
//! the connection breaks or times out after the request was sent, GitLab may
//! have created the object, and sending the request again would create a
//! duplicate (two tokens, two mirrors to the same target). Such calls carry
//! [`Idempotency::NonIdempotent`] and are retried **only** when GitLab
//! certainly did not process them: a connect error (nothing was sent) or a
//! 429 (Rack::Attack rejects before the application runs). After a timeout,
//! a broken connection or a 5xx the error is returned to the caller, which
//! must **look before it creates** again:
//!
//! - push mirror: `list_remote_mirrors(project)` and look for a mirror whose
//!   masked `url` has the target's host and path (GitLab masks the
//!   credentials, so compare with [`mask_url_credentials`] of the intended
//!   URL); reuse it (update it) instead of creating another;
//! - project access token: `list_project_access_tokens(project)` filtered on
//!   the unique token name the caller chose (e.g. `mm-<mirror id>-<attempt>`)
//!   and `active`; since the value of an existing token cannot be read back,
//!   rotate it (`rotate_project_access_token`) or revoke it and create a new
//!   one.
//!
//! [`GitLabError::is_retryable`]: crate::GitLabError::is_retryable
//! [`mask_url_credentials`]: crate::mask_url_credentials

use std::time::Duration;

use rand::Rng;

use crate::errors::{GitLabError, TransportKind};

/// Whether a request may be sent twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// GET, PUT, DELETE, and POSTs whose repetition is harmless (sync,
    /// start pull). Retried on every retryable error.
    Idempotent,
    /// Creates something (token, mirror) or rotates a token. Retried only
    /// when GitLab certainly did not process the request.
    NonIdempotent,
}

/// Retry settings of a client.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in total (1 = no retry).
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    pub multiplier: f64,
    /// Overall deadline of one call, including budget waits and retries.
    pub overall_deadline: Duration,
    /// Pause of the instance after a 429 without `Retry-After` or
    /// `RateLimit-Reset` (a plain-text Rack::Attack answer).
    pub default_rate_limit_pause: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(10),
            multiplier: 2.0,
            overall_deadline: Duration::from_secs(120),
            default_rate_limit_pause: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Backoff before attempt `attempt + 1` (attempt counts from 1): full
    /// jitter over `initial * multiplier^(attempt-1)`, capped.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .multiplier
            .powi(attempt.saturating_sub(1).min(30) as i32);
        let cap = self
            .initial_backoff
            .mul_f64(exp.max(1.0))
            .min(self.max_backoff);
        if cap.is_zero() {
            return cap;
        }
        let ms = rand::rng().random_range(cap.as_secs_f64() / 2.0..=cap.as_secs_f64());
        Duration::from_secs_f64(ms)
    }

    /// Whether `err` after attempt `attempt` should be retried for a call
    /// of the given idempotency.
    pub fn should_retry(&self, err: &GitLabError, attempt: u32, idem: Idempotency) -> bool {
        if attempt >= self.max_attempts || !err.is_retryable() {
            return false;
        }
        match idem {
            Idempotency::Idempotent => true,
            Idempotency::NonIdempotent => matches!(
                err,
                GitLabError::RateLimited { .. }
                    | GitLabError::Transport {
                        kind: TransportKind::Connect,
                        ..
                    }
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transport(kind: TransportKind) -> GitLabError {
        GitLabError::Transport {
            endpoint: "POST /x".into(),
            kind,
            message: String::new(),
        }
    }

    #[test]
    fn non_idempotent_rules() {
        let p = RetryPolicy::default();
        let n = Idempotency::NonIdempotent;
        assert!(p.should_retry(&transport(TransportKind::Connect), 1, n));
        assert!(!p.should_retry(&transport(TransportKind::Timeout), 1, n));
        assert!(!p.should_retry(&transport(TransportKind::Other), 1, n));
        let s503 = GitLabError::from_status("POST /x", 503, b"", None);
        assert!(!p.should_retry(&s503, 1, n));
        assert!(p.should_retry(&s503, 1, Idempotency::Idempotent));
        assert!(!p.should_retry(&s503, 4, Idempotency::Idempotent));
        let r429 = GitLabError::from_status("POST /x", 429, b"", None);
        assert!(p.should_retry(&r429, 1, n));
        let r404 = GitLabError::from_status("GET /x", 404, b"", None);
        assert!(!p.should_retry(&r404, 1, Idempotency::Idempotent));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy::default();
        for attempt in 1..10 {
            let b = p.backoff(attempt);
            assert!(b <= p.max_backoff);
            let cap = p.initial_backoff.mul_f64(2f64.powi(attempt as i32 - 1));
            assert!(b <= cap.min(p.max_backoff));
            assert!(b >= cap.min(p.max_backoff) / 2);
        }
    }
}
