//! In-process protections of password checks: a per-username failure limit and a short cache
//! of successful HTTP Basic verifications.

use std::{
    collections::{HashMap, VecDeque},
    time::{Duration, Instant},
};

use parking_lot::Mutex;

/// Failed logins allowed per username per window.
const MAX_FAILURES: usize = 10;
const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// How long a successful Basic verification is reused.
const BASIC_CACHE_TTL: Duration = Duration::from_secs(60);
/// Bounds on memory: beyond these sizes, expired entries are swept on insert, and the cache
/// is cleared if still full.
const MAX_TRACKED_USERNAMES: usize = 10_000;
const MAX_CACHED_CREDENTIALS: usize = 10_000;

/// Counts failed password checks per username in a sliding window.
#[derive(Default)]
pub(crate) struct FailureLimiter {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl FailureLimiter {
    /// `Err(seconds until the next attempt is allowed)` when the username is locked out.
    pub(crate) fn check(&self, username: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut failures = self.failures.lock();
        let Some(times) = failures.get_mut(username) else {
            return Ok(());
        };
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= FAILURE_WINDOW)
        {
            times.pop_front();
        }
        if times.len() < MAX_FAILURES {
            return Ok(());
        }
        let oldest = times.front().copied().unwrap_or(now);
        let wait = FAILURE_WINDOW.saturating_sub(now.duration_since(oldest));
        Err(wait.as_secs().max(1))
    }

    pub(crate) fn record_failure(&self, username: &str) {
        let now = Instant::now();
        let mut failures = self.failures.lock();
        if failures.len() >= MAX_TRACKED_USERNAMES {
            failures.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < FAILURE_WINDOW)
            });
        }
        let times = failures.entry(username.to_owned()).or_default();
        times.push_back(now);
        while times.len() > MAX_FAILURES {
            times.pop_front();
        }
    }

    pub(crate) fn record_success(&self, username: &str) {
        self.failures.lock().remove(username);
    }
}

/// Successful Basic verifications, keyed by the SHA-256 of the whole header value, so the
/// password itself is never kept.
#[derive(Default)]
pub(crate) struct BasicCache {
    entries: Mutex<HashMap<[u8; 32], (i64, Instant)>>,
}

impl BasicCache {
    /// The user id verified for this header within the last minute.
    pub(crate) fn get(&self, header_digest: &[u8; 32]) -> Option<i64> {
        let mut entries = self.entries.lock();
        match entries.get(header_digest) {
            Some((user_id, verified)) if verified.elapsed() < BASIC_CACHE_TTL => Some(*user_id),
            Some(_) => {
                entries.remove(header_digest);
                None
            }
            None => None,
        }
    }

    pub(crate) fn insert(&self, header_digest: [u8; 32], user_id: i64) {
        let mut entries = self.entries.lock();
        if entries.len() >= MAX_CACHED_CREDENTIALS {
            entries.retain(|_, (_, verified)| verified.elapsed() < BASIC_CACHE_TTL);
            if entries.len() >= MAX_CACHED_CREDENTIALS {
                entries.clear();
            }
        }
        entries.insert(header_digest, (user_id, Instant::now()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_locks_out_after_the_allowed_failures_and_resets_on_success() {
        let limiter = FailureLimiter::default();
        for _ in 0..MAX_FAILURES {
            assert!(limiter.check("alice").is_ok());
            limiter.record_failure("alice");
        }
        let wait = limiter.check("alice").unwrap_err();
        assert!((1..=60).contains(&wait));
        assert!(limiter.check("bob").is_ok());
        limiter.record_success("alice");
        assert!(limiter.check("alice").is_ok());
    }

    #[test]
    fn basic_cache_returns_fresh_entries() {
        let cache = BasicCache::default();
        cache.insert([1; 32], 7);
        assert_eq!(cache.get(&[1; 32]), Some(7));
        assert_eq!(cache.get(&[2; 32]), None);
    }
}
