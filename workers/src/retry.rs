//! What happens to a task after its handler ran: done, retried later, or parked.
//!
//! This part knows nothing about RabbitMQ, so an in-process job bus can reuse it.

use std::{panic::AssertUnwindSafe, time::Duration};

use futures::FutureExt;
use rand::Rng;

use crate::{
    config::WorkerConfig,
    metrics,
    task::{DeadReason, HandlerRegistry, Task, TaskError},
};

/// Attempts and backoff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Handler runs before a task is parked (at least 1).
    pub max_attempts: u32,
    /// Available delays (the retry queue TTLs), shortest first; the first is the backoff base.
    pub delays: Vec<Duration>,
}

impl RetryPolicy {
    pub fn from_config(config: &WorkerConfig) -> Self {
        RetryPolicy {
            max_attempts: config.max_attempts.max(1),
            delays: config.retry_delays.clone(),
        }
    }

    /// Exponential backoff with jitter for the retry after `attempt` failed: a random delay in
    /// `[base·2^(attempt-1) / 2, base·2^(attempt-1)]`, at least `after`, then fitted to a retry
    /// queue. Returns the index of that queue and the message expiration (never above the
    /// queue's TTL).
    pub fn backoff(&self, attempt: u32, after: Option<Duration>) -> (usize, Duration) {
        let base = self
            .delays
            .first()
            .copied()
            .unwrap_or(Duration::from_secs(5));
        let exponent = attempt.saturating_sub(1).min(20);
        let ceiling = base.saturating_mul(1 << exponent);
        let low = ceiling / 2;
        let span = ceiling.saturating_sub(low).as_millis() as u64;
        let jitter = if span == 0 {
            0
        } else {
            rand::rng().random_range(0..=span)
        };
        let mut delay = low + Duration::from_millis(jitter);
        if let Some(after) = after {
            delay = delay.max(after);
        }
        let index = self
            .delays
            .iter()
            .position(|ttl| *ttl >= delay)
            .unwrap_or(self.delays.len().saturating_sub(1));
        let ttl = self.delays.get(index).copied().unwrap_or(delay);
        (index, delay.min(ttl))
    }

    /// The outcome of a handler result for a task on its `attempt`-th run.
    pub fn decide(&self, attempt: u32, result: Result<(), TaskError>) -> Outcome {
        match result {
            Ok(()) => Outcome::Done,
            Err(TaskError::Permanent { message }) => Outcome::Dead {
                reason: DeadReason::Permanent,
                error: message,
            },
            Err(TaskError::Retryable { message, .. }) if attempt >= self.max_attempts => {
                Outcome::Dead {
                    reason: DeadReason::Exhausted,
                    error: format!("gave up after {attempt} attempts: {message}"),
                }
            }
            Err(TaskError::Deferred { message, after }) => {
                let index = self
                    .delays
                    .iter()
                    .position(|ttl| *ttl >= after)
                    .unwrap_or(self.delays.len().saturating_sub(1));
                let delay = self.delays.get(index).copied().unwrap_or(after);
                Outcome::Retry {
                    queue: index,
                    delay,
                    next_attempt: attempt,
                    error: message,
                }
            }
            Err(TaskError::Retryable { message, after }) => {
                let (queue, delay) = self.backoff(attempt, after);
                Outcome::Retry {
                    queue,
                    delay,
                    next_attempt: attempt + 1,
                    error: message,
                }
            }
        }
    }
}

/// What to do with a delivery once its handler returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Acknowledge.
    Done,
    /// Publish again to retry queue `queue` with expiration `delay`, then acknowledge.
    Retry {
        queue: usize,
        delay: Duration,
        next_attempt: u32,
        error: String,
    },
    /// Publish to the dead-letter queue with the error in headers, then acknowledge.
    Dead { reason: DeadReason, error: String },
}

impl Outcome {
    /// Metric label.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::Retry { .. } => "retry",
            Outcome::Dead { reason, .. } => reason.as_str(),
        }
    }
}

/// Finds the handler for a task, runs it and decides the outcome. Handler panics count as
/// retryable failures.
#[derive(Debug, Clone)]
pub struct Dispatcher {
    registry: HandlerRegistry,
    policy: RetryPolicy,
}

impl Dispatcher {
    pub fn new(registry: HandlerRegistry, policy: RetryPolicy) -> Self {
        Dispatcher { registry, policy }
    }

    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    pub async fn dispatch(&self, mut task: Task) -> Outcome {
        task.last_attempt = task.attempt >= self.policy.max_attempts;
        let kind = task.kind.clone();
        let attempt = task.attempt;
        let Some(handler) = self.registry.get(&kind) else {
            let outcome = Outcome::Dead {
                reason: DeadReason::UnknownKind,
                error: format!("no handler for task kind {kind:?}"),
            };
            metrics::task_finished("unknown", &outcome, Duration::ZERO);
            return outcome;
        };
        let started = std::time::Instant::now();
        let _in_flight = metrics::InFlight::enter();
        let result = match AssertUnwindSafe(handler.handle(task)).catch_unwind().await {
            Ok(result) => result,
            Err(_) => Err(TaskError::retryable("task handler panicked")),
        };
        if let Err(error) = &result {
            tracing::warn!(%kind, attempt, %error, "task failed");
        }
        let outcome = self.policy.decide(attempt, result);
        metrics::task_finished(&kind, &outcome, started.elapsed());
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            delays: vec![
                Duration::from_secs(5),
                Duration::from_secs(30),
                Duration::from_secs(300),
            ],
        }
    }

    #[test]
    fn backoff_grows_and_fits_the_queues() {
        let policy = policy();
        for _ in 0..200 {
            let (queue, delay) = policy.backoff(1, None);
            assert_eq!(queue, 0);
            assert!(delay >= Duration::from_millis(2500) && delay <= Duration::from_secs(5));
            let (queue, delay) = policy.backoff(3, None);
            assert_eq!(queue, 1);
            assert!(delay >= Duration::from_secs(10) && delay <= Duration::from_secs(20));
            let (queue, delay) = policy.backoff(15, None);
            assert_eq!(queue, 2);
            assert_eq!(delay, Duration::from_secs(300));
        }
    }

    #[test]
    fn retry_after_hint_is_respected() {
        let (queue, delay) = policy().backoff(1, Some(Duration::from_secs(12)));
        assert_eq!(queue, 1);
        assert_eq!(delay, Duration::from_secs(12));
    }

    #[test]
    fn decisions() {
        let policy = policy();
        assert_eq!(policy.decide(1, Ok(())), Outcome::Done);
        assert!(matches!(
            policy.decide(2, Err(TaskError::retryable("busy"))),
            Outcome::Retry {
                next_attempt: 3,
                ..
            }
        ));
        assert!(matches!(
            policy.decide(4, Err(TaskError::retryable("busy"))),
            Outcome::Dead {
                reason: DeadReason::Exhausted,
                ..
            }
        ));
        assert_eq!(
            policy.decide(1, Err(TaskError::permanent("bad token"))),
            Outcome::Dead {
                reason: DeadReason::Permanent,
                error: "bad token".into()
            }
        );
    }
}
