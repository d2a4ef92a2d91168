//! Request accounting: counts per route template and per token, 429s, and
//! the highest number of requests seen in any sliding 1 s and 60 s window,
//! overall and per user.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde::Serialize;

/// Exact sliding-window maxima over request timestamps.
#[derive(Default)]
struct Windows {
    last_1s: VecDeque<Instant>,
    last_60s: VecDeque<Instant>,
    max_1s: u64,
    max_60s: u64,
    total: u64,
}

impl Windows {
    fn record(&mut self, now: Instant) {
        self.total += 1;
        push(
            &mut self.last_1s,
            now,
            Duration::from_secs(1),
            &mut self.max_1s,
        );
        push(
            &mut self.last_60s,
            now,
            Duration::from_secs(60),
            &mut self.max_60s,
        );
    }
}

fn push(q: &mut VecDeque<Instant>, now: Instant, w: Duration, max: &mut u64) {
    q.push_back(now);
    while let Some(front) = q.front() {
        if now.duration_since(*front) >= w {
            q.pop_front();
        } else {
            break;
        }
    }
    *max = (*max).max(q.len() as u64);
}

#[derive(Default)]
struct Inner {
    started: Option<Instant>,
    by_route: HashMap<String, u64>,
    by_status: BTreeMap<u16, u64>,
    by_token: HashMap<String, u64>,
    throttled: u64,
    throttled_by_user: HashMap<String, u64>,
    overall: Windows,
    per_user: HashMap<String, Windows>,
    git_requests: u64,
}

/// Counters of one instance.
#[derive(Default)]
pub struct Stats {
    inner: Mutex<Inner>,
}

/// Sliding-window maxima of one user (or of everything).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WindowStats {
    pub requests: u64,
    pub max_per_1s: u64,
    pub max_per_60s: u64,
}

/// A snapshot, as served by `/-/sim/stats`.
#[derive(Debug, Clone, Serialize)]
pub struct StatsSnapshot {
    /// Seconds since the counters were (re)started.
    pub elapsed_secs: f64,
    pub total_requests: u64,
    /// API requests (`/api/v4/...`) only; the sliding windows cover these.
    pub api_requests: u64,
    pub git_requests: u64,
    /// `"GET /api/v4/projects/{id}"` → count.
    pub requests_by_endpoint: BTreeMap<String, u64>,
    pub requests_by_status: BTreeMap<u16, u64>,
    /// `"<token id>:<token name> (<username>)"` → count; `anonymous` for none.
    pub requests_by_token: BTreeMap<String, u64>,
    pub throttled_429: u64,
    pub throttled_by_user: BTreeMap<String, u64>,
    pub overall: WindowStats,
    pub per_user: BTreeMap<String, WindowStats>,
}

impl Stats {
    /// Count one incoming request. `user` is the username (or `anonymous`);
    /// sliding windows are kept for API requests only.
    pub fn record(&self, route: &str, token: &str, user: &str, api: bool) {
        let now = Instant::now();
        let mut s = self.inner.lock();
        s.started.get_or_insert(now);
        bump(&mut s.by_route, route);
        bump(&mut s.by_token, token);
        if api {
            s.overall.record(now);
            match s.per_user.get_mut(user) {
                Some(w) => w.record(now),
                None => {
                    let mut w = Windows::default();
                    w.record(now);
                    s.per_user.insert(user.to_string(), w);
                }
            }
        } else {
            s.git_requests += 1;
        }
    }

    pub fn record_status(&self, status: u16) {
        *self.inner.lock().by_status.entry(status).or_insert(0) += 1;
    }

    pub fn record_throttled(&self, user: &str) {
        let mut s = self.inner.lock();
        s.throttled += 1;
        bump(&mut s.throttled_by_user, user);
    }

    pub fn reset(&self) {
        *self.inner.lock() = Inner::default();
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        let s = self.inner.lock();
        let win = |w: &Windows| WindowStats {
            requests: w.total,
            max_per_1s: w.max_1s,
            max_per_60s: w.max_60s,
        };
        StatsSnapshot {
            elapsed_secs: s.started.map(|t| t.elapsed().as_secs_f64()).unwrap_or(0.0),
            total_requests: s.overall.total + s.git_requests,
            api_requests: s.overall.total,
            git_requests: s.git_requests,
            requests_by_endpoint: s.by_route.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            requests_by_status: s.by_status.clone(),
            requests_by_token: s.by_token.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            throttled_429: s.throttled,
            throttled_by_user: s
                .throttled_by_user
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
            overall: win(&s.overall),
            per_user: s
                .per_user
                .iter()
                .map(|(k, w)| (k.clone(), win(w)))
                .collect(),
        }
    }
}

fn bump(m: &mut HashMap<String, u64>, k: &str) {
    match m.get_mut(k) {
        Some(v) => *v += 1,
        None => {
            m.insert(k.to_string(), 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_max_counts_bursts() {
        let s = Stats::default();
        for _ in 0..25 {
            s.record("GET /api/v4/version", "1:t (root)", "root", true);
        }
        s.record("GIT info/refs", "1:t (root)", "root", false);
        let snap = s.snapshot();
        assert_eq!(snap.api_requests, 25);
        assert_eq!(snap.git_requests, 1);
        assert_eq!(snap.overall.max_per_1s, 25);
        assert_eq!(snap.per_user["root"].max_per_60s, 25);
        assert_eq!(snap.requests_by_endpoint["GET /api/v4/version"], 25);
    }
}
