//! Fault injection: latency, error rates, hanging requests and outages,
//! per endpoint (method + path pattern) or for the whole instance.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use parking_lot::{Mutex, RwLock};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// How the random part of the latency is drawn.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Distribution {
    /// Uniform in `[0, jitter_ms]`.
    #[default]
    Uniform,
    /// Exponential with mean `jitter_ms` (a long tail).
    Exponential,
}

/// One rule. Rules without `method`/`path` apply to every request.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default)]
pub struct FaultRule {
    /// HTTP method (case-insensitive); absent = any.
    pub method: Option<String>,
    /// Path pattern: `*` matches one segment, `**` any number of segments.
    /// It is matched against the request path and the route template
    /// (`/api/v4/projects/{id}`). Absent = any path.
    pub path: Option<String>,
    /// Fixed added latency.
    pub latency_ms: u64,
    /// Random added latency (see `distribution`).
    pub jitter_ms: u64,
    pub distribution: Distribution,
    /// Probability (0..1) of answering with an error instead.
    pub error_rate: f64,
    /// Statuses to pick from for errors (500, 502, 503); default 500.
    pub error_statuses: Vec<u16>,
    /// Probability (0..1) that the request hangs.
    pub hang_rate: f64,
    /// How long a hanging request hangs before a 504 (default 1 h, i.e. the
    /// client gives up first).
    pub hang_ms: Option<u64>,
}

/// Fault settings of one instance.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default)]
pub struct FaultConfig {
    pub rules: Vec<FaultRule>,
    /// Start a full outage of this length (every non-admin request gets
    /// `outage_status`) when the config is applied.
    pub outage_ms: Option<u64>,
    /// Status during an outage (default 503).
    pub outage_status: Option<u16>,
}

impl FaultConfig {
    /// A rule for every request.
    pub fn everywhere(rule: FaultRule) -> Self {
        Self {
            rules: vec![rule],
            ..Self::default()
        }
    }

    /// An outage of `ms` milliseconds.
    pub fn outage(ms: u64) -> Self {
        Self {
            outage_ms: Some(ms),
            ..Self::default()
        }
    }
}

impl FaultRule {
    pub fn latency(ms: u64, jitter_ms: u64) -> Self {
        Self {
            latency_ms: ms,
            jitter_ms,
            ..Self::default()
        }
    }

    pub fn errors(rate: f64, statuses: &[u16]) -> Self {
        Self {
            error_rate: rate,
            error_statuses: statuses.to_vec(),
            ..Self::default()
        }
    }

    pub fn on(mut self, method: &str, path: &str) -> Self {
        self.method = Some(method.to_string());
        self.path = Some(path.to_string());
        self
    }
}

/// What to do with one request.
#[derive(Debug, Default)]
pub struct Plan {
    pub delay: Duration,
    pub action: Option<Action>,
}

#[derive(Debug)]
pub enum Action {
    Error(StatusCode),
    Hang(Duration),
    Outage(StatusCode),
}

/// Runtime fault state.
#[derive(Default)]
pub struct Faults {
    config: RwLock<FaultConfig>,
    outage_until: Mutex<Option<Instant>>,
    any: std::sync::atomic::AtomicBool,
}

impl Faults {
    pub fn new(cfg: FaultConfig) -> Self {
        let f = Self::default();
        f.set(cfg);
        f
    }

    pub fn get(&self) -> FaultConfig {
        self.config.read().clone()
    }

    /// Milliseconds left of the current outage.
    pub fn outage_remaining_ms(&self) -> u64 {
        match *self.outage_until.lock() {
            Some(t) => t.saturating_duration_since(Instant::now()).as_millis() as u64,
            None => 0,
        }
    }

    pub fn set(&self, cfg: FaultConfig) {
        *self.outage_until.lock() = cfg
            .outage_ms
            .map(|ms| Instant::now() + Duration::from_millis(ms));
        self.any.store(
            !cfg.rules.is_empty() || cfg.outage_ms.is_some(),
            std::sync::atomic::Ordering::Relaxed,
        );
        *self.config.write() = cfg;
    }

    pub fn clear(&self) {
        self.set(FaultConfig::default());
    }

    /// Decide the faults for one request.
    pub fn plan(&self, method: &str, path: &str, template: Option<&str>) -> Plan {
        let mut plan = Plan::default();
        if !self.any.load(std::sync::atomic::Ordering::Relaxed) {
            return plan;
        }
        let cfg = self.config.read();
        if let Some(until) = *self.outage_until.lock()
            && Instant::now() < until
        {
            let st = StatusCode::from_u16(cfg.outage_status.unwrap_or(503))
                .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            plan.action = Some(Action::Outage(st));
            return plan;
        }
        let mut rng = rand::rng();
        for r in &cfg.rules {
            if let Some(m) = &r.method
                && !m.eq_ignore_ascii_case(method)
            {
                continue;
            }
            if let Some(p) = &r.path {
                let hit = glob_match(p, path) || template.is_some_and(|t| glob_match(p, t));
                if !hit {
                    continue;
                }
            }
            let mut ms = r.latency_ms as f64;
            if r.jitter_ms > 0 {
                let j = r.jitter_ms as f64;
                ms += match r.distribution {
                    Distribution::Uniform => rng.random_range(0.0..=j),
                    Distribution::Exponential => {
                        let u: f64 = rng.random_range(f64::EPSILON..1.0);
                        (-u.ln() * j).min(j * 50.0)
                    }
                };
            }
            plan.delay += Duration::from_micros((ms * 1000.0) as u64);
            if plan.action.is_none() && r.hang_rate > 0.0 && rng.random_bool(r.hang_rate.min(1.0)) {
                plan.action = Some(Action::Hang(Duration::from_millis(
                    r.hang_ms.unwrap_or(3_600_000),
                )));
            }
            if plan.action.is_none() && r.error_rate > 0.0 && rng.random_bool(r.error_rate.min(1.0))
            {
                let statuses = if r.error_statuses.is_empty() {
                    vec![500]
                } else {
                    r.error_statuses.clone()
                };
                let s = statuses[rng.random_range(0..statuses.len())];
                plan.action = Some(Action::Error(
                    StatusCode::from_u16(s).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                ));
            }
        }
        plan
    }
}

/// Segment glob: `*` one segment (or part of one), `**` any segments.
pub fn glob_match(pattern: &str, path: &str) -> bool {
    let p: Vec<&str> = pattern.trim_matches('/').split('/').collect();
    let s: Vec<&str> = path.trim_matches('/').split('/').collect();
    match_segs(&p, &s)
}

fn match_segs(p: &[&str], s: &[&str]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some(&"**") => (0..=s.len()).any(|i| match_segs(&p[1..], &s[i..])),
        Some(seg) => !s.is_empty() && seg_match(seg, s[0]) && match_segs(&p[1..], &s[1..]),
    }
}

fn seg_match(pat: &str, s: &str) -> bool {
    if pat == "*" {
        return true;
    }
    match pat.split_once('*') {
        None => pat == s,
        Some((a, b)) => s.len() >= a.len() + b.len() && s.starts_with(a) && s.ends_with(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("/api/v4/projects/*", "/api/v4/projects/12"));
        assert!(!glob_match(
            "/api/v4/projects/*",
            "/api/v4/projects/12/remote_mirrors"
        ));
        assert!(glob_match(
            "/api/v4/**",
            "/api/v4/projects/12/remote_mirrors"
        ));
        assert!(glob_match("/**/info/refs", "/a/b/c.git/info/refs"));
        assert!(glob_match("/api/v4/projects/{id}", "/api/v4/projects/{id}"));
        assert!(glob_match("/*.git/**", "/p.git/info/refs"));
    }

    #[test]
    fn errors_and_outage() {
        let f = Faults::new(FaultConfig::everywhere(FaultRule::errors(1.0, &[502])));
        assert!(matches!(
            f.plan("GET", "/api/v4/version", None).action,
            Some(Action::Error(s)) if s == StatusCode::BAD_GATEWAY
        ));
        f.set(FaultConfig::outage(10_000));
        assert!(matches!(
            f.plan("GET", "/x", None).action,
            Some(Action::Outage(_))
        ));
        f.clear();
        assert!(f.plan("GET", "/x", None).action.is_none());
    }
}
