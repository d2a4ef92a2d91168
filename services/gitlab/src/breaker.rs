//! Circuit breaker per GitLab instance.
//!
//! Closed → **open** after `failure_threshold` consecutive counted failures
//! (transport errors, timeouts, 5xx — see
//! [`GitLabError::counts_against_breaker`](crate::GitLabError::counts_against_breaker));
//! open → **half-open** once `cooldown` has passed, letting at most
//! `half_open_max_in_flight` probes through; half-open → **closed** after
//! `success_threshold` successful probes, or back to open on a counted
//! failure. Any answer below 500 (even 404 or 401) proves the instance is up
//! and counts as a success; a 429 is neutral.

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// Breaker settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    pub failure_threshold: u32,
    pub cooldown: Duration,
    pub success_threshold: u32,
    pub half_open_max_in_flight: u32,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            cooldown: Duration::from_secs(30),
            success_threshold: 2,
            half_open_max_in_flight: 1,
        }
    }
}

/// What the breaker looks like from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    /// Gauge value: 0 closed, 1 half-open, 2 open.
    pub fn as_gauge(self) -> f64 {
        match self {
            BreakerState::Closed => 0.0,
            BreakerState::HalfOpen => 1.0,
            BreakerState::Open => 2.0,
        }
    }

    fn label(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::HalfOpen => "half_open",
            BreakerState::Open => "open",
        }
    }
}

/// How one request ended, for the breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
    Neutral,
}

#[derive(Debug)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { in_flight: u32, successes: u32 },
}

#[derive(Debug)]
struct Inner {
    cfg: BreakerConfig,
    instance: String,
    state: Mutex<State>,
}

/// Cheap to clone; clones share the state.
#[derive(Debug, Clone)]
pub struct CircuitBreaker {
    inner: Arc<Inner>,
}

/// Permission to send one request. Report how it went with
/// [`Ticket::record`]; dropping it unreported counts as neutral.
#[derive(Debug)]
pub struct Ticket {
    breaker: CircuitBreaker,
    probe: bool,
    done: bool,
}

impl Ticket {
    pub fn record(mut self, outcome: Outcome) {
        self.done = true;
        self.breaker.finish(self.probe, outcome);
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if !self.done {
            self.breaker.finish(self.probe, Outcome::Neutral);
        }
    }
}

impl CircuitBreaker {
    pub fn new(instance: impl Into<String>, cfg: BreakerConfig) -> Self {
        let b = Self {
            inner: Arc::new(Inner {
                cfg,
                instance: instance.into(),
                state: Mutex::new(State::Closed { failures: 0 }),
            }),
        };
        b.publish(BreakerState::Closed);
        b
    }

    pub fn config(&self) -> BreakerConfig {
        self.inner.cfg
    }

    pub fn state(&self) -> BreakerState {
        let st = self.inner.state.lock();
        match *st {
            State::Closed { .. } => BreakerState::Closed,
            State::Open { until } if Instant::now() >= until => BreakerState::HalfOpen,
            State::Open { .. } => BreakerState::Open,
            State::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// Ask to send a request. `Err(retry_in)` while open (or while the
    /// half-open probes are all in flight).
    pub fn try_acquire(&self) -> Result<Ticket, Duration> {
        let cfg = self.inner.cfg;
        let now = Instant::now();
        let mut st = self.inner.state.lock();
        let probe = match &mut *st {
            State::Closed { .. } => false,
            State::Open { until } => {
                if now < *until {
                    return Err(*until - now);
                }
                *st = State::HalfOpen {
                    in_flight: 1,
                    successes: 0,
                };
                drop(st);
                self.publish(BreakerState::HalfOpen);
                return Ok(self.ticket(true));
            }
            State::HalfOpen { in_flight, .. } => {
                if *in_flight >= cfg.half_open_max_in_flight.max(1) {
                    return Err(Duration::from_millis(100).min(cfg.cooldown));
                }
                *in_flight += 1;
                true
            }
        };
        drop(st);
        Ok(self.ticket(probe))
    }

    /// Force the breaker closed (operator action).
    pub fn reset(&self) {
        *self.inner.state.lock() = State::Closed { failures: 0 };
        self.publish(BreakerState::Closed);
    }

    fn ticket(&self, probe: bool) -> Ticket {
        Ticket {
            breaker: self.clone(),
            probe,
            done: false,
        }
    }

    fn finish(&self, probe: bool, outcome: Outcome) {
        let cfg = self.inner.cfg;
        let mut changed = None;
        {
            let mut st = self.inner.state.lock();
            match &mut *st {
                State::Closed { failures } if !probe => match outcome {
                    Outcome::Success => *failures = 0,
                    Outcome::Failure => {
                        *failures += 1;
                        if *failures >= cfg.failure_threshold.max(1) {
                            *st = State::Open {
                                until: Instant::now() + cfg.cooldown,
                            };
                            changed = Some(BreakerState::Open);
                        }
                    }
                    Outcome::Neutral => {}
                },
                State::HalfOpen {
                    in_flight,
                    successes,
                } if probe => {
                    *in_flight = in_flight.saturating_sub(1);
                    match outcome {
                        Outcome::Success => {
                            *successes += 1;
                            if *successes >= cfg.success_threshold.max(1) {
                                *st = State::Closed { failures: 0 };
                                changed = Some(BreakerState::Closed);
                            }
                        }
                        Outcome::Failure => {
                            *st = State::Open {
                                until: Instant::now() + cfg.cooldown,
                            };
                            changed = Some(BreakerState::Open);
                        }
                        Outcome::Neutral => {}
                    }
                }
                // A request that started in another state: its outcome says
                // nothing about the current probe round.
                _ => {}
            }
        }
        if let Some(s) = changed {
            self.publish(s);
        }
    }

    fn publish(&self, s: BreakerState) {
        let instance = self.inner.instance.clone();
        metrics::gauge!("gitlab_breaker_state", "instance" => instance.clone()).set(s.as_gauge());
        metrics::counter!("gitlab_breaker_transitions_total", "instance" => instance.clone(), "to" => s.label())
            .increment(1);
        match s {
            BreakerState::Open => {
                tracing::warn!(instance = %instance, "GitLab circuit breaker opened")
            }
            _ => {
                tracing::info!(instance = %instance, state = s.label(), "GitLab circuit breaker state")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> BreakerConfig {
        BreakerConfig {
            failure_threshold: 3,
            cooldown: Duration::from_millis(50),
            success_threshold: 2,
            half_open_max_in_flight: 1,
        }
    }

    #[test]
    fn opens_half_opens_and_closes() {
        let b = CircuitBreaker::new("t", cfg());
        for _ in 0..3 {
            b.try_acquire().unwrap().record(Outcome::Failure);
        }
        assert_eq!(b.state(), BreakerState::Open);
        assert!(b.try_acquire().is_err());
        std::thread::sleep(Duration::from_millis(60));
        let probe = b.try_acquire().unwrap();
        // Only one probe at a time.
        assert!(b.try_acquire().is_err());
        probe.record(Outcome::Success);
        b.try_acquire().unwrap().record(Outcome::Success);
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn neutral_and_success_do_not_open() {
        let b = CircuitBreaker::new("t", cfg());
        for _ in 0..10 {
            b.try_acquire().unwrap().record(Outcome::Failure);
            b.try_acquire().unwrap().record(Outcome::Failure);
            b.try_acquire().unwrap().record(Outcome::Success);
            b.try_acquire().unwrap().record(Outcome::Neutral);
        }
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn failed_probe_reopens_and_dropped_probe_frees_slot() {
        let b = CircuitBreaker::new("t", cfg());
        for _ in 0..3 {
            b.try_acquire().unwrap().record(Outcome::Failure);
        }
        std::thread::sleep(Duration::from_millis(60));
        drop(b.try_acquire().unwrap());
        b.try_acquire().unwrap().record(Outcome::Failure);
        assert_eq!(b.state(), BreakerState::Open);
    }
}
