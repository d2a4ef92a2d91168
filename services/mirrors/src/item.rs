//! The job-item bookkeeping around every handler.
//!
//! A task that carries an `item_id` starts its item first (`start_job_item`): an item that is
//! already finished, cancelled or gone is acknowledged without doing anything. Otherwise the
//! operation runs and the item is finished with its outcome:
//!
//! | operation ended with | item | task result |
//! |---|---|---|
//! | success / skip | succeeded / skipped, result JSON, warnings | `Ok` |
//! | the instance's circuit breaker is open, or its rate budget has no slot in time | left `running` | `Err(Deferred)`: waits without using an attempt |
//! | retryable GitLab error (transport, 5xx, 429) or storage error, not the last attempt | left `running` (started again on redelivery) | `Err(Retryable)` |
//! | the same on the last attempt | failed | `Ok` |
//! | any other error | failed, with GitLab's message | `Ok` |
//! | "not yet" | left as it is | `Err(Deferred)` |
//!
//! Handlers never return `Permanent`: a failure is recorded on the item, where the operator
//! sees it, instead of parking the message in the dead-letter queue.
//!
//! An open breaker says the instance is down, not that the item is wrong: burning the item's
//! attempts on it would fail a whole batch during a short GitLab outage. Such items wait for
//! the cooldown instead. The calls that do reach a failing GitLab (the ones that open the
//! breaker, and failed half-open probes) still count, so an instance that never recovers
//! still fails its items in the end.

use std::time::{Duration, Instant};

use mm_gitlab::{BudgetError, GitLabError, mask_url_credentials};
use mm_storage::{ItemOutcome, ItemStart, ItemState, StorageError};
use mm_tasks::{Task, TaskError};
use serde_json::{Map, Value};

use crate::clients::ClientError;
use crate::context::MirrorsContext;

/// Why an operation did not complete.
#[derive(Debug)]
pub(crate) enum OpError {
    /// A GitLab call failed; `context` says what we were doing.
    GitLab { context: String, error: GitLabError },
    /// The operation cannot succeed as things are (message for the operator).
    Failed(String),
    /// The database failed (retried like a transient GitLab error).
    Storage(StorageError),
    /// Not ready yet: run again after `after` without counting an attempt.
    Deferred { message: String, after: Duration },
}

impl OpError {
    pub fn gitlab(context: impl Into<String>, error: GitLabError) -> Self {
        OpError::GitLab {
            context: context.into(),
            error,
        }
    }

    pub fn failed(message: impl Into<String>) -> Self {
        OpError::Failed(message.into())
    }

    /// Whether trying the whole task again later can help.
    pub fn is_retryable(&self) -> bool {
        match self {
            OpError::GitLab { error, .. } => error.is_retryable() || is_circuit_open(error),
            OpError::Storage(_) => true,
            OpError::Failed(_) | OpError::Deferred { .. } => false,
        }
    }

    /// The earliest useful retry, when known.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            OpError::GitLab { error, .. } => error.retry_after(),
            _ => None,
        }
    }

    /// Text for the item and the logs (credentials in URLs masked; tokens never appear).
    pub fn message(&self) -> String {
        let text = match self {
            OpError::GitLab { context, error } => format!("{context}: {error}"),
            OpError::Failed(message) => message.clone(),
            OpError::Storage(error) => format!("database error: {error}"),
            OpError::Deferred { message, .. } => message.clone(),
        };
        mask_url_credentials(&text)
    }
}

/// Shortest wait of an item whose instance is unavailable (an exhausted budget may report a
/// slot "now", which would only spin).
const MIN_INSTANCE_WAIT: Duration = Duration::from_secs(1);

impl OpError {
    /// When the call was not sent because the instance is unavailable right now (circuit
    /// open, no rate-budget slot in time): how long to wait before trying again.
    pub fn instance_unavailable_for(&self) -> Option<Duration> {
        let OpError::GitLab { error, .. } = self else {
            return None;
        };
        let unavailable = matches!(
            error,
            GitLabError::CircuitOpen { .. }
                | GitLabError::Budget {
                    source: BudgetError::Exhausted { .. },
                    ..
                }
        );
        unavailable.then(|| {
            error
                .retry_after()
                .unwrap_or(MIN_INSTANCE_WAIT)
                .max(MIN_INSTANCE_WAIT)
        })
    }
}

/// A breaker that is open says "the instance is unhealthy right now": worth retrying later.
fn is_circuit_open(error: &GitLabError) -> bool {
    matches!(
        error,
        GitLabError::CircuitOpen { .. } | GitLabError::Budget { .. }
    )
}

impl From<StorageError> for OpError {
    fn from(error: StorageError) -> Self {
        OpError::Storage(error)
    }
}

impl From<ClientError> for OpError {
    fn from(error: ClientError) -> Self {
        OpError::Failed(error.to_string())
    }
}

pub(crate) type OpResult<T = ()> = Result<T, OpError>;

/// What a finished operation reports besides its result fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Done {
    Succeeded,
    /// Nothing to do (disabled mirror, deleted row, …).
    Skipped,
}

/// One run of an operation: the task, what it learned (result fields) and warnings.
#[derive(Debug)]
pub(crate) struct Run {
    pub task: Task,
    /// The job of the item (from the task or the item).
    pub job_id: Option<i64>,
    pub item_id: Option<i64>,
    /// The item's payload when the task carries none.
    item_payload: Value,
    pub warnings: Vec<String>,
    pub result: Map<String, Value>,
}

impl Run {
    pub fn new(task: Task) -> Self {
        Run {
            job_id: task.job_id,
            item_id: task.item_id,
            task,
            item_payload: Value::Null,
            warnings: Vec::new(),
            result: Map::new(),
        }
    }

    /// An id from the payload (`mirror_id`, `pair_id`, `instance_id`).
    pub fn payload_id(&self, key: &str) -> OpResult<i64> {
        [&self.task.payload, &self.item_payload]
            .into_iter()
            .find_map(|payload| payload.get(key).and_then(Value::as_i64))
            .ok_or_else(|| OpError::failed(format!("the task payload has no {key}")))
    }

    pub fn warn(&mut self, warning: impl Into<String>) {
        let warning = mask_url_credentials(&warning.into());
        tracing::warn!(kind = %self.task.kind, item_id = ?self.item_id, %warning, "mirror task warning");
        self.warnings.push(warning);
    }

    pub fn set(&mut self, key: &str, value: impl Into<Value>) {
        self.result.insert(key.to_owned(), value.into());
    }
}

/// Runs `operation` for `task` with the item bookkeeping described in the module docs;
/// `before_start` may defer the task before its item is started.
pub(crate) async fn run_item<F, P>(
    ctx: &MirrorsContext,
    task: Task,
    before_start: P,
    operation: F,
) -> Result<(), TaskError>
where
    P: AsyncFnOnce(&MirrorsContext, &Run) -> OpResult,
    F: AsyncFnOnce(&MirrorsContext, &mut Run) -> OpResult<Done>,
{
    let mut run = Run::new(task);
    if run.job_id.is_none()
        && let Some(item_id) = run.item_id
    {
        // The job is needed by the final steps of delete jobs; the item knows it.
        match ctx.storage.get_job_item(item_id).await {
            Ok(Some(item)) => run.job_id = Some(item.job_id),
            Ok(None) => return Ok(()),
            Err(error) => return Err(storage_retry(&error)),
        }
    }
    // A check before the item starts (the final steps of delete jobs wait there, so their
    // item stays queued meanwhile). A failure it finds is recorded like the operation's.
    let mut early_failure = None;
    if let Err(error) = before_start(ctx, &run).await {
        if let Some(after) = error.instance_unavailable_for() {
            return Err(wait_for_instance(&run, &error, after));
        }
        match error {
            OpError::Deferred { message, after } => return Err(TaskError::defer(message, after)),
            other if other.is_retryable() && !run.task.last_attempt => {
                return Err(TaskError::Retryable {
                    message: other.message(),
                    after: other.retry_after(),
                });
            }
            other => early_failure = Some(other),
        }
    }
    let started = Instant::now();
    if let Some(item_id) = run.item_id {
        match ctx.storage.start_job_item(item_id).await {
            Ok(ItemStart::Run { item, job }) => {
                run.job_id = Some(job.id);
                run.item_payload = item.payload;
            }
            Ok(ItemStart::AlreadyFinished | ItemStart::Cancelled | ItemStart::Missing) => {
                return Ok(());
            }
            Err(error) => return Err(storage_retry(&error)),
        }
    }
    let outcome = match early_failure {
        Some(error) => Err(error),
        None => operation(ctx, &mut run).await,
    };
    finish(ctx, &mut run, started, outcome).await
}

/// The item waits for its GitLab instance without using an attempt.
fn wait_for_instance(run: &Run, error: &OpError, after: Duration) -> TaskError {
    let message = error.message();
    tracing::info!(kind = %run.task.kind, item_id = ?run.item_id, attempt = run.task.attempt,
        wait_ms = after.as_millis() as u64, error = %message,
        "GitLab instance unavailable; the item waits without using an attempt");
    TaskError::defer(message, after)
}

fn storage_retry(error: &StorageError) -> TaskError {
    TaskError::retryable(format!("database error: {error}"))
}

async fn finish(
    ctx: &MirrorsContext,
    run: &mut Run,
    started: Instant,
    outcome: OpResult<Done>,
) -> Result<(), TaskError> {
    let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    if let Err(error) = &outcome
        && let Some(after) = error.instance_unavailable_for()
    {
        return Err(wait_for_instance(run, error, after));
    }
    let (state, error) = match outcome {
        Ok(Done::Succeeded) => (ItemState::Succeeded, None),
        Ok(Done::Skipped) => (ItemState::Skipped, None),
        Err(OpError::Deferred { message, after }) => {
            return Err(TaskError::defer(message, after));
        }
        Err(error) if error.is_retryable() && !run.task.last_attempt => {
            let message = error.message();
            tracing::info!(kind = %run.task.kind, item_id = ?run.item_id, attempt = run.task.attempt,
                error = %message, "mirror task will be retried");
            return Err(TaskError::Retryable {
                message,
                after: error.retry_after(),
            });
        }
        Err(error) => {
            let mut message = error.message();
            if error.is_retryable() {
                message.push_str(" (gave up after the last attempt)");
            }
            (ItemState::Failed, Some(message))
        }
    };
    let Some(item_id) = run.item_id else {
        match &error {
            Some(message) => {
                tracing::warn!(kind = %run.task.kind, error = %message, "mirror task failed")
            }
            None => tracing::debug!(kind = %run.task.kind, ?state, "mirror task done"),
        }
        return Ok(());
    };
    if let Some(message) = &error {
        tracing::warn!(kind = %run.task.kind, item_id, error = %message, "mirror task failed");
    }
    let outcome = ItemOutcome {
        state,
        error,
        warnings: std::mem::take(&mut run.warnings),
        result: Value::Object(std::mem::take(&mut run.result)),
        duration_ms,
    };
    match ctx.storage.finish_job_item(item_id, &outcome).await {
        Ok(_) => Ok(()),
        // The work is done (or failed) but not recorded: the redelivery repeats it, which
        // every operation tolerates.
        Err(error) => Err(storage_retry(&error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gitlab(error: GitLabError) -> OpError {
        OpError::gitlab("reading the project", error)
    }

    #[test]
    fn an_unavailable_instance_makes_the_item_wait() {
        let open = gitlab(GitLabError::CircuitOpen {
            instance: "3".into(),
            retry_in: Duration::from_secs(25),
        });
        assert_eq!(
            open.instance_unavailable_for(),
            Some(Duration::from_secs(25))
        );
        let no_slot = gitlab(GitLabError::Budget {
            endpoint: "GET /projects/:id".into(),
            source: BudgetError::Exhausted {
                ready_in: Duration::ZERO,
            },
        });
        assert_eq!(no_slot.instance_unavailable_for(), Some(MIN_INSTANCE_WAIT));
    }

    #[test]
    fn failures_of_the_instance_itself_still_use_attempts() {
        let server = gitlab(GitLabError::Server {
            endpoint: "GET /projects/:id".into(),
            status: 503,
            message: "down".into(),
        });
        assert!(server.is_retryable());
        assert_eq!(server.instance_unavailable_for(), None);
        let cancelled = gitlab(GitLabError::Budget {
            endpoint: "GET /projects/:id".into(),
            source: BudgetError::Cancelled,
        });
        assert_eq!(cancelled.instance_unavailable_for(), None);
        assert_eq!(
            OpError::failed("no such project").instance_unavailable_for(),
            None
        );
    }
}
