//! Rack::Attack-style throttles: fixed windows aligned to the epoch, one
//! counter per user (authenticated) or per IP (unauthenticated).

use std::collections::HashMap;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

/// One throttle: `limit` requests per `period_secs`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Throttle {
    pub limit: u64,
    pub period_secs: u64,
}

/// How a throttled request is answered.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum RateLimitMode {
    /// 429 `Retry later` plus `Retry-After` and `RateLimit-*` headers;
    /// `RateLimit-*` headers on every throttled-path response.
    #[default]
    Headers,
    /// A bare 429 `Retry later` without any rate-limit headers.
    Plain,
}

/// Per-instance rate-limit settings (GitLab's user and IP rate limits).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct RateLimitConfig {
    pub enabled: bool,
    /// `throttle_authenticated_api` (per user).
    pub authenticated: Throttle,
    /// `throttle_unauthenticated_api` (per IP).
    pub unauthenticated: Throttle,
    /// Optional second, shorter throttle per user (e.g. 100 per 60 s on top
    /// of 5,000 per hour), reported as `throttle_authenticated_api_burst`.
    pub burst: Option<Throttle>,
    pub mode: RateLimitMode,
    /// Also throttle git smart-HTTP requests (`throttle_authenticated_git_http`).
    pub include_git: bool,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            authenticated: Throttle {
                limit: 7200,
                period_secs: 3600,
            },
            unauthenticated: Throttle {
                limit: 3600,
                period_secs: 3600,
            },
            burst: None,
            mode: RateLimitMode::Headers,
            include_git: false,
        }
    }
}

impl RateLimitConfig {
    /// Authenticated limit of `limit` per `period_secs`, enabled.
    pub fn per_user(limit: u64, period_secs: u64) -> Self {
        Self {
            enabled: true,
            authenticated: Throttle { limit, period_secs },
            ..Self::default()
        }
    }

    pub fn plain(mut self) -> Self {
        self.mode = RateLimitMode::Plain;
        self
    }
}

/// The outcome of counting one request.
#[derive(Debug, Clone)]
pub struct Decision {
    pub throttled: bool,
    pub name: &'static str,
    pub throttle: Throttle,
    pub observed: u64,
    pub now: i64,
    pub mode: RateLimitMode,
}

impl Decision {
    fn retry_after(&self) -> i64 {
        let p = self.throttle.period_secs.max(1) as i64;
        p - self.now.rem_euclid(p)
    }

    /// Headers GitLab sends (all of them on 429; all but `Retry-After`
    /// and `RateLimit-ResetTime` otherwise).
    pub fn headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        if self.mode == RateLimitMode::Plain {
            return h;
        }
        let p = self.throttle.period_secs.max(1);
        let rounded = (self.throttle.limit * 60).div_ceil(p);
        let remaining = rounded.saturating_sub(self.observed);
        let retry_after = self.retry_after();
        let reset = self.now + retry_after;
        let mut put = |k: &'static str, v: String| {
            if let Ok(v) = HeaderValue::from_str(&v) {
                h.insert(HeaderName::from_static(k), v);
            }
        };
        put("ratelimit-name", self.name.to_string());
        put("ratelimit-limit", rounded.to_string());
        put("ratelimit-observed", self.observed.to_string());
        put("ratelimit-remaining", remaining.to_string());
        put("ratelimit-reset", reset.to_string());
        if self.throttled {
            put("ratelimit-resettime", crate::util::http_date(reset));
            put("retry-after", retry_after.to_string());
        }
        h
    }
}

#[derive(Default)]
struct Window {
    start: i64,
    count: u64,
}

/// Counters of one instance.
#[derive(Default)]
pub struct RateLimiter {
    config: Mutex<RateLimitConfig>,
    windows: Mutex<HashMap<(&'static str, String), Window>>,
}

impl RateLimiter {
    pub fn new(cfg: RateLimitConfig) -> Self {
        Self {
            config: Mutex::new(cfg),
            windows: Mutex::default(),
        }
    }

    pub fn config(&self) -> RateLimitConfig {
        self.config.lock().clone()
    }

    /// Replace the settings and start fresh windows.
    pub fn set_config(&self, cfg: RateLimitConfig) {
        *self.config.lock() = cfg;
        self.windows.lock().clear();
    }

    /// Count a request from `key` (user id or IP). Returns `None` when
    /// rate limiting is off for this kind of request.
    pub fn check(&self, key: &str, authenticated: bool, git: bool) -> Option<Decision> {
        let cfg = self.config.lock().clone();
        if !cfg.enabled || (git && !cfg.include_git) {
            return None;
        }
        let now = chrono::Utc::now().timestamp();
        let mut throttles: Vec<(&'static str, Throttle)> = Vec::with_capacity(2);
        match (authenticated, git) {
            (true, false) => throttles.push(("throttle_authenticated_api", cfg.authenticated)),
            (false, false) => throttles.push(("throttle_unauthenticated_api", cfg.unauthenticated)),
            (true, true) => throttles.push(("throttle_authenticated_git_http", cfg.authenticated)),
            (false, true) => {
                throttles.push(("throttle_unauthenticated_git_http", cfg.unauthenticated))
            }
        }
        if authenticated
            && !git
            && let Some(b) = cfg.burst
        {
            throttles.push(("throttle_authenticated_api_burst", b));
        }
        let mut windows = self.windows.lock();
        let mut result: Option<Decision> = None;
        for (name, t) in throttles {
            let period = t.period_secs.max(1) as i64;
            let start = now - now.rem_euclid(period);
            let w = windows.entry((name, key.to_string())).or_default();
            if w.start != start {
                w.start = start;
                w.count = 0;
            }
            w.count += 1;
            let d = Decision {
                throttled: w.count > t.limit,
                name,
                throttle: t,
                observed: w.count,
                now,
                mode: cfg.mode,
            };
            // Report the throttle that fired, else the first one.
            let replace = match &result {
                None => true,
                Some(prev) => d.throttled && !prev.throttled,
            };
            if replace {
                result = Some(d);
            }
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixty_first_request_is_throttled() {
        let rl = RateLimiter::new(RateLimitConfig::per_user(60, 60));
        let mut last = None;
        for _ in 0..61 {
            last = rl.check("1", true, false);
        }
        let d = last.unwrap();
        // All 61 requests fall in one window unless a minute boundary was
        // crossed during the loop, in which case the count restarted.
        if d.observed == 61 {
            assert!(d.throttled);
            let h = d.headers();
            assert_eq!(h["ratelimit-limit"], "60");
            assert_eq!(h["ratelimit-remaining"], "0");
            assert!(h.contains_key("retry-after"));
        }
    }

    #[test]
    fn per_minute_rounding() {
        let d = Decision {
            throttled: false,
            name: "throttle_authenticated_api",
            throttle: Throttle {
                limit: 7200,
                period_secs: 3600,
            },
            observed: 10,
            now: 1_000_000,
            mode: RateLimitMode::Headers,
        };
        let h = d.headers();
        assert_eq!(h["ratelimit-limit"], "120");
        assert_eq!(h["ratelimit-remaining"], "110");
        assert!(!h.contains_key("retry-after"));
    }
}
