//! The in-process bus of the all-in-one process: runs tasks straight from the outbox.
//!
//! The outbox row is the message: it is claimed with a lease, handed to the same
//! [`Dispatcher`] the RabbitMQ consumer uses, and deleted when the handler is done (or parked
//! for good); a retry makes it available again after the backoff delay. Unfinished work
//! survives a restart because the rows stay in the database until their task has run.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use mm_storage::Storage;
use tokio::{sync::Semaphore, task::JoinSet};

use crate::{Dispatcher, Outcome, relay::task_of, shutdown::Shutdown};

/// Settings of the in-process bus.
#[derive(Debug, Clone)]
pub struct InProcessOptions {
    /// Tasks running at once.
    pub concurrency: usize,
    /// How long a claimed row stays exclusive; longer than any task runs.
    pub lease: Duration,
    /// Pause between polls when nothing is available.
    pub idle_poll: Duration,
    /// Time running tasks get to finish at shutdown.
    pub shutdown_grace: Duration,
}

impl Default for InProcessOptions {
    fn default() -> Self {
        InProcessOptions {
            concurrency: 16,
            lease: Duration::from_secs(15 * 60),
            idle_poll: Duration::from_millis(100),
            shutdown_grace: Duration::from_secs(20),
        }
    }
}

/// Runs tasks from the outbox until `shutdown`. Call [`Storage::release_outbox_claims`]
/// before starting when this process is the only consumer, so rows claimed by a process that
/// died are picked up at once instead of after their lease.
pub async fn run(
    storage: Arc<dyn Storage>,
    dispatcher: Dispatcher,
    options: InProcessOptions,
    mut shutdown: Shutdown,
) {
    let slots = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let mut running = JoinSet::new();
    loop {
        if shutdown.is_triggered() {
            break;
        }
        while running.try_join_next().is_some() {}
        let free = slots.available_permits();
        if free == 0 {
            tokio::select! {
                _ = running.join_next() => {}
                _ = shutdown.wait() => break,
            }
            continue;
        }
        let claimed = match storage.claim_outbox(free as u32, options.lease).await {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::warn!(%error, "in-process bus cannot read the outbox");
                Vec::new()
            }
        };
        if claimed.is_empty() {
            tokio::select! {
                _ = tokio::time::sleep(options.idle_poll) => {}
                _ = shutdown.wait() => break,
            }
            continue;
        }
        for message in claimed {
            let permit = slots
                .clone()
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            let storage = storage.clone();
            let dispatcher = dispatcher.clone();
            running.spawn(async move {
                let _permit = permit;
                let mut task = task_of(&message);
                // `claims` counts earlier claims: a task that ran before is a retry.
                task.attempt = u32::try_from(message.claims.max(0) + 1).unwrap_or(u32::MAX);
                task.redelivered = message.claims > 0;
                let outcome = dispatcher.dispatch(task).await;
                settle(&*storage, message.id, &message.task_kind, outcome).await;
            });
        }
    }
    drain(&mut running, options.shutdown_grace).await;
}

async fn settle(storage: &dyn Storage, id: i64, kind: &str, outcome: Outcome) {
    let result = match outcome {
        Outcome::Done => storage.delete_outbox(&[id]).await,
        Outcome::Retry { delay, error, .. } => {
            tracing::debug!(kind, %error, ?delay, "task will run again");
            let at = Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
            storage.release_outbox(id, at).await
        }
        Outcome::Dead { reason, error } => {
            tracing::error!(kind, reason = reason.as_str(), %error, "task parked for good");
            storage.delete_outbox(&[id]).await
        }
    };
    if let Err(error) = result {
        // The row's lease expires and the task runs again; handlers are idempotent.
        tracing::warn!(%error, kind, "cannot settle an outbox row");
    }
}

async fn drain(running: &mut JoinSet<()>, grace: Duration) {
    let all_done = async { while running.join_next().await.is_some() {} };
    if tokio::time::timeout(grace, all_done).await.is_err() {
        tracing::warn!(
            left = running.len(),
            "tasks still running at shutdown; they run again after restart"
        );
        running.abort_all();
    }
}
