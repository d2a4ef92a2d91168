//! Per-instance request budget: how many requests may be sent to one GitLab
//! instance, shared by every caller of that instance.
//!
//! The algorithm is GCRA (generic cell rate algorithm): one "theoretical
//! arrival time" (TAT) per instance. A request may go at
//! `max(now, TAT - tolerance)`; taking the slot moves the TAT to
//! `max(TAT, slot) + interval`. Callers *reserve* slots, so concurrent
//! callers queue up behind each other instead of polling.
//!
//! # Guarantee
//!
//! With `limit` requests per `period` and a `burst` of `b`, the interval is
//! `(period + safety_margin) / (limit - b + 1)` and the tolerance
//! `(b - 1) * interval`. Then **no window of length `period` ever holds
//! more than `limit` granted slots**: up to `b` requests go back to back,
//! and the long-run rate is `(limit - b + 1) / (period + margin)`. The
//! safety margin absorbs the jitter between the moment a slot is granted
//! and the moment GitLab counts the request. GitLab's Rack::Attack uses
//! fixed windows, which a sliding-window bound satisfies a fortiori.
//!
//! # Shared budget across replicas (for the storage owner)
//!
//! [`LocalRateBudget`] keeps the TAT in memory, which is exact for one
//! process. Several worker replicas need the TAT in one database row per
//! instance, updated atomically (rust-stack-notes §C.6). Implement
//! [`RateBudget`] over this table (PostgreSQL):
//!
//! ```sql
//! CREATE TABLE gitlab_rate_budget (
//!     instance_id       BIGINT PRIMARY KEY REFERENCES gitlab_instances(id) ON DELETE CASCADE,
//!     tat               TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
//!     base_interval     INTERVAL    NOT NULL,  -- (period + margin) / (limit - burst + 1)
//!     emission_interval INTERVAL    NOT NULL,  -- >= base_interval; slowed by observe()
//!     tolerance         INTERVAL    NOT NULL,  -- (burst - 1) * emission_interval
//!     paused_until      TIMESTAMPTZ            -- set by penalize()
//! );
//! ```
//!
//! `acquire(instance, deadline)`: reserve a slot in one statement (`$2` is
//! the caller's deadline as a timestamp, `'infinity'` when none). The row
//! lock serialises replicas; the database clock is the only clock.
//!
//! ```sql
//! WITH cur AS (
//!     SELECT instance_id, tat, emission_interval,
//!            greatest(clock_timestamp(), tat - tolerance,
//!                     coalesce(paused_until, '-infinity')) AS slot
//!       FROM gitlab_rate_budget WHERE instance_id = $1 FOR UPDATE
//! ), upd AS (
//!     UPDATE gitlab_rate_budget b
//!        SET tat = greatest(cur.tat, cur.slot) + cur.emission_interval
//!       FROM cur
//!      WHERE b.instance_id = cur.instance_id AND cur.slot <= $2
//!     RETURNING cur.slot
//! )
//! SELECT cur.slot, (SELECT slot FROM upd) IS NOT NULL AS granted,
//!        cur.slot - clock_timestamp() AS wait
//!   FROM cur;
//! ```
//!
//! Not granted → `BudgetError::Exhausted { ready_in: wait }`. Granted →
//! sleep `wait`, then re-check `paused_until > clock_timestamp()` (a 429
//! seen by another replica meanwhile) and reserve again if paused.
//!
//! `penalize(instance, until)` (429 + `Retry-After`, or
//! `RateLimit-Remaining: 0` until `RateLimit-Reset`) pauses every replica:
//!
//! ```sql
//! UPDATE gitlab_rate_budget
//!    SET paused_until = greatest(coalesce(paused_until, '-infinity'), $2),
//!        tat          = greatest(tat, $2)
//!  WHERE instance_id = $1;
//! ```
//!
//! `observe(instance, headers)` slows the pace, never below the configured
//! interval (`$2` = `60 s / RateLimit-Limit` with the margin applied):
//!
//! ```sql
//! UPDATE gitlab_rate_budget
//!    SET emission_interval = greatest(base_interval, $2),
//!        tolerance = (tolerance / emission_interval) * greatest(base_interval, $2)
//!  WHERE instance_id = $1 AND emission_interval <> greatest(base_interval, $2);
//! ```
//!
//! The row is created (`INSERT … ON CONFLICT (instance_id) DO UPDATE SET
//! base_interval = …`) when an instance is added or its budget changes.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use parking_lot::Mutex;
use reqwest::header::HeaderMap;
use tokio_util::sync::CancellationToken;

use crate::errors::BudgetError;

/// Identifies one GitLab instance inside the budget (the instance id of the
/// product's database, or its name). Cheap to clone.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstanceKey(Arc<str>);

impl InstanceKey {
    pub fn new(key: impl AsRef<str>) -> Self {
        Self(Arc::from(key.as_ref()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InstanceKey({})", self.0)
    }
}

impl fmt::Display for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for InstanceKey {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

/// GitLab's rate-limit headers of one response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RateLimitHeaders {
    /// `RateLimit-Limit`: requests per minute (GitLab rounds other periods
    /// to a per-minute figure).
    pub limit: Option<u64>,
    /// `RateLimit-Remaining`.
    pub remaining: Option<u64>,
    /// `RateLimit-Reset`: Unix epoch seconds of the window's end.
    pub reset: Option<SystemTime>,
    /// `Retry-After` (seconds or an HTTP date).
    pub retry_after: Option<Duration>,
}

impl RateLimitHeaders {
    pub fn parse(headers: &HeaderMap) -> Self {
        let num = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|s| s.trim().parse::<u64>().ok())
        };
        let reset = num("ratelimit-reset").map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s));
        let retry_after = headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        Self {
            limit: num("ratelimit-limit"),
            remaining: num("ratelimit-remaining"),
            reset,
            retry_after,
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// `Retry-After: 30` or `Retry-After: Tue, 05 Jan 2021 11:00:00 GMT`.
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let at = SystemTime::from(at);
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// A per-instance request budget shared by every caller (and, for a
/// database-backed implementation, by every replica).
#[async_trait]
pub trait RateBudget: Send + Sync + 'static {
    /// Wait until one request may be sent to `instance`. Fails fast with
    /// [`BudgetError::Exhausted`] when the slot would come after `deadline`
    /// (without using it up), and with [`BudgetError::Cancelled`] when
    /// `cancel` fires while waiting. Returns how long the caller waited.
    async fn acquire(
        &self,
        instance: &InstanceKey,
        deadline: Option<Instant>,
        cancel: Option<&CancellationToken>,
    ) -> Result<Duration, BudgetError>;

    /// Send nothing to `instance` before `until` (a 429 with `Retry-After`,
    /// or `RateLimit-Remaining: 0` until `RateLimit-Reset`). Applies to
    /// every caller at once, including those already waiting.
    async fn penalize(&self, instance: &InstanceKey, until: SystemTime);

    /// Adapt the pace to what GitLab advertises. Never faster than the
    /// configured budget; slower when GitLab says so.
    async fn observe(&self, instance: &InstanceKey, headers: &RateLimitHeaders);
}

/// Budget of one instance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetConfig {
    /// At most this many requests in any window of `period`.
    pub limit: u32,
    pub period: Duration,
    /// How many may go back to back (1 = evenly spaced). Must be `<= limit`.
    pub burst: u32,
    /// Added to `period` when spacing requests, to absorb the jitter between
    /// granting a slot and GitLab counting the request.
    pub safety_margin: Duration,
}

impl BudgetConfig {
    /// `limit` per `period`, no burst, margin `max(2 % of period, 100 ms)`.
    pub fn new(limit: u32, period: Duration) -> Self {
        Self {
            limit: limit.max(1),
            period,
            burst: 1,
            safety_margin: (period / 50).max(Duration::from_millis(100)),
        }
    }

    pub fn per_minute(limit: u32) -> Self {
        Self::new(limit, Duration::from_secs(60))
    }

    pub fn per_second(limit: u32) -> Self {
        Self::new(limit, Duration::from_secs(1))
    }

    pub fn with_burst(mut self, burst: u32) -> Self {
        self.burst = burst.clamp(1, self.limit);
        self
    }

    pub fn with_safety_margin(mut self, margin: Duration) -> Self {
        self.safety_margin = margin;
        self
    }

    /// Spacing between slots once the burst is used.
    pub fn interval(&self) -> Duration {
        let burst = self.burst.clamp(1, self.limit);
        (self.period + self.safety_margin) / (self.limit - burst + 1)
    }

    /// The relative margin, applied to GitLab's advertised per-minute limit.
    fn margin_ratio(&self) -> f64 {
        if self.period.is_zero() {
            0.0
        } else {
            self.safety_margin.as_secs_f64() / self.period.as_secs_f64()
        }
    }
}

struct Gcra {
    cfg: BudgetConfig,
    tat: Instant,
    paused_until: Option<Instant>,
    /// From `RateLimit-Limit` (with the margin).
    advertised: Option<Duration>,
    /// From `RateLimit-Remaining` spread over the time to `RateLimit-Reset`.
    pace: Option<(Duration, Instant)>,
    /// GitLab's window is longer than a minute: its `Remaining` is computed
    /// against the per-minute figure and cannot be trusted.
    long_window: bool,
}

impl Gcra {
    fn new(cfg: BudgetConfig, now: Instant) -> Self {
        Self {
            cfg,
            tat: now,
            paused_until: None,
            advertised: None,
            pace: None,
            long_window: false,
        }
    }

    fn interval(&self, now: Instant) -> Duration {
        let mut t = self.cfg.interval();
        if let Some(a) = self.advertised {
            t = t.max(a);
        }
        if let Some((p, until)) = self.pace
            && now < until
        {
            t = t.max(p);
        }
        t
    }

    fn tolerance(&self, interval: Duration) -> Duration {
        interval * (self.cfg.burst.clamp(1, self.cfg.limit) - 1)
    }
}

enum Step {
    /// Sleep until then and look again (paused).
    Paused(Instant),
    /// Slot reserved at this instant.
    Reserved(Instant),
}

/// In-process GCRA budget, one state per instance.
pub struct LocalRateBudget {
    default: BudgetConfig,
    overrides: Mutex<HashMap<InstanceKey, BudgetConfig>>,
    states: Mutex<HashMap<InstanceKey, Arc<Mutex<Gcra>>>>,
}

impl LocalRateBudget {
    /// Every instance gets `default` unless [`set_config`](Self::set_config)
    /// says otherwise.
    pub fn new(default: BudgetConfig) -> Self {
        Self {
            default,
            overrides: Mutex::default(),
            states: Mutex::default(),
        }
    }

    /// Change one instance's budget (keeps its TAT and any pause).
    pub fn set_config(&self, instance: &InstanceKey, cfg: BudgetConfig) {
        self.overrides.lock().insert(instance.clone(), cfg);
        if let Some(s) = self.states.lock().get(instance) {
            s.lock().cfg = cfg;
        }
    }

    pub fn config(&self, instance: &InstanceKey) -> BudgetConfig {
        self.overrides
            .lock()
            .get(instance)
            .copied()
            .unwrap_or(self.default)
    }

    /// The instant until which `instance` is paused, if it is.
    pub fn paused_until(&self, instance: &InstanceKey) -> Option<Instant> {
        let st = self.state(instance);
        let g = st.lock();
        g.paused_until.filter(|u| *u > Instant::now())
    }

    /// The current spacing between requests to `instance`.
    pub fn current_interval(&self, instance: &InstanceKey) -> Duration {
        let st = self.state(instance);
        let g = st.lock();
        g.interval(Instant::now())
    }

    fn state(&self, instance: &InstanceKey) -> Arc<Mutex<Gcra>> {
        let cfg = self.config(instance);
        self.states
            .lock()
            .entry(instance.clone())
            .or_insert_with(|| Arc::new(Mutex::new(Gcra::new(cfg, Instant::now()))))
            .clone()
    }

    fn step(st: &Mutex<Gcra>, deadline: Option<Instant>) -> Result<Step, BudgetError> {
        let mut g = st.lock();
        let now = Instant::now();
        if let Some(p) = g.paused_until {
            if p > now {
                if deadline.is_some_and(|d| d < p) {
                    return Err(BudgetError::Exhausted { ready_in: p - now });
                }
                return Ok(Step::Paused(p));
            }
            g.paused_until = None;
        }
        let interval = g.interval(now);
        let tolerance = g.tolerance(interval);
        let allowed = g.tat.checked_sub(tolerance).unwrap_or(now);
        let slot = allowed.max(now);
        if let Some(d) = deadline
            && slot > d
        {
            return Err(BudgetError::Exhausted {
                ready_in: slot - now,
            });
        }
        g.tat = g.tat.max(slot) + interval;
        Ok(Step::Reserved(slot))
    }
}

async fn sleep_until(at: Instant, cancel: Option<&CancellationToken>) -> Result<(), BudgetError> {
    let sleep = tokio::time::sleep_until(tokio::time::Instant::from_std(at));
    match cancel {
        Some(c) => tokio::select! {
            _ = sleep => Ok(()),
            _ = c.cancelled() => Err(BudgetError::Cancelled),
        },
        None => {
            sleep.await;
            Ok(())
        }
    }
}

fn to_instant(at: SystemTime) -> Instant {
    let now = Instant::now();
    match at.duration_since(SystemTime::now()) {
        Ok(d) => now + d,
        Err(_) => now,
    }
}

#[async_trait]
impl RateBudget for LocalRateBudget {
    async fn acquire(
        &self,
        instance: &InstanceKey,
        deadline: Option<Instant>,
        cancel: Option<&CancellationToken>,
    ) -> Result<Duration, BudgetError> {
        let started = Instant::now();
        let st = self.state(instance);
        loop {
            if cancel.is_some_and(|c| c.is_cancelled()) {
                return Err(BudgetError::Cancelled);
            }
            match Self::step(&st, deadline)? {
                Step::Paused(until) => sleep_until(until, cancel).await?,
                Step::Reserved(slot) => {
                    if slot > Instant::now() {
                        sleep_until(slot, cancel).await?;
                    }
                    // A pause that began while we slept applies to us too.
                    let paused = st.lock().paused_until.is_some_and(|p| p > Instant::now());
                    if !paused {
                        return Ok(started.elapsed());
                    }
                }
            }
        }
    }

    async fn penalize(&self, instance: &InstanceKey, until: SystemTime) {
        let until = to_instant(until);
        if until <= Instant::now() {
            return;
        }
        let st = self.state(instance);
        let mut g = st.lock();
        g.paused_until = Some(g.paused_until.map_or(until, |p| p.max(until)));
        g.tat = g.tat.max(until);
    }

    async fn observe(&self, instance: &InstanceKey, h: &RateLimitHeaders) {
        if h.limit.is_none() && h.remaining.is_none() {
            return;
        }
        let st = self.state(instance);
        let now = Instant::now();
        let sys_now = SystemTime::now();
        let mut pause = None;
        {
            let mut g = st.lock();
            let ratio = g.cfg.margin_ratio();
            if let Some(limit) = h.limit.filter(|l| *l > 0) {
                let t = Duration::from_secs_f64(60.0 * (1.0 + ratio) / limit as f64);
                g.advertised = Some(t);
            }
            let to_reset = h
                .reset
                .and_then(|r| r.duration_since(sys_now).ok())
                .filter(|d| !d.is_zero());
            if let Some(d) = to_reset
                && d > Duration::from_secs(61)
            {
                g.long_window = true;
            }
            if let (Some(rem), Some(d), false) = (h.remaining, to_reset, g.long_window) {
                if rem == 0 {
                    pause = h.reset;
                } else {
                    let p = Duration::from_secs_f64(d.as_secs_f64() * (1.0 + ratio) / rem as f64);
                    g.pace = Some((p, now + d));
                }
            }
        }
        if let Some(until) = pause {
            self.penalize(instance, until).await;
        }
    }
}

/// A budget that never waits (tests, or callers that rate-limit upstream).
pub struct UnlimitedBudget;

#[async_trait]
impl RateBudget for UnlimitedBudget {
    async fn acquire(
        &self,
        _: &InstanceKey,
        _: Option<Instant>,
        cancel: Option<&CancellationToken>,
    ) -> Result<Duration, BudgetError> {
        if cancel.is_some_and(|c| c.is_cancelled()) {
            return Err(BudgetError::Cancelled);
        }
        Ok(Duration::ZERO)
    }
    async fn penalize(&self, _: &InstanceKey, _: SystemTime) {}
    async fn observe(&self, _: &InstanceKey, _: &RateLimitHeaders) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_math() {
        let c = BudgetConfig::per_second(10).with_safety_margin(Duration::ZERO);
        assert_eq!(c.interval(), Duration::from_millis(100));
        let c = c.with_burst(5);
        assert_eq!(c.interval(), Duration::from_millis(1000) / 6);
        assert_eq!(
            BudgetConfig::per_minute(60).safety_margin,
            Duration::from_millis(1200)
        );
    }

    #[tokio::test]
    async fn spacing_and_burst() {
        let b = LocalRateBudget::new(
            BudgetConfig::per_second(10)
                .with_burst(3)
                .with_safety_margin(Duration::ZERO),
        );
        let k = InstanceKey::new("a");
        let t0 = Instant::now();
        for _ in 0..3 {
            b.acquire(&k, None, None).await.unwrap();
        }
        assert!(t0.elapsed() < Duration::from_millis(5));
        // A deadline before the next slot fails fast without consuming it.
        let err = b
            .acquire(&k, Some(Instant::now() + Duration::from_millis(10)), None)
            .await
            .unwrap_err();
        assert!(matches!(err, BudgetError::Exhausted { .. }));
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("30"), Some(Duration::from_secs(30)));
        assert_eq!(
            parse_retry_after("Tue, 05 Jan 2021 11:00:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[tokio::test]
    async fn penalty_pauses_every_waiter() {
        let b = Arc::new(LocalRateBudget::new(BudgetConfig::per_second(1000)));
        let k = InstanceKey::new("a");
        let until = SystemTime::now() + Duration::from_millis(300);
        b.penalize(&k, until).await;
        let t0 = Instant::now();
        let mut tasks = vec![];
        for _ in 0..8 {
            let (b, k) = (b.clone(), k.clone());
            tasks.push(tokio::spawn(async move { b.acquire(&k, None, None).await }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
            assert!(t0.elapsed() >= Duration::from_millis(280));
        }
    }

    #[tokio::test]
    async fn remaining_zero_pauses_until_reset() {
        let b = LocalRateBudget::new(BudgetConfig::per_second(1000));
        let k = InstanceKey::new("a");
        let reset = SystemTime::now() + Duration::from_secs(2);
        b.observe(
            &k,
            &RateLimitHeaders {
                limit: Some(60),
                remaining: Some(0),
                reset: Some(reset),
                retry_after: None,
            },
        )
        .await;
        assert!(b.paused_until(&k).is_some());
        // Advertised 60/min is slower than 1000/s: the pace follows GitLab.
        assert!(b.current_interval(&k) >= Duration::from_secs(1));
    }

    #[tokio::test]
    async fn cancel_while_waiting() {
        let b = LocalRateBudget::new(BudgetConfig::per_second(1));
        let k = InstanceKey::new("a");
        b.acquire(&k, None, None).await.unwrap();
        let c = CancellationToken::new();
        let c2 = c.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            c2.cancel();
        });
        let r = b.acquire(&k, None, Some(&c)).await;
        assert_eq!(r, Err(BudgetError::Cancelled));
    }
}
