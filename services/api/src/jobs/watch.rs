//! `WatchJob`: the job at once, then every change of its state or counters, until it
//! is over (final state and every item ended) or the client goes away.
//!
//! Each watcher polls storage every [`POLL_INTERVAL`] (one indexed row read), which keeps the
//! API stateless: any replica can serve any watcher, whichever worker runs the items.

use std::{pin::Pin, sync::Arc, time::Duration};

use mm_common::ApiError;
use mm_proto::v1;
use mm_storage::{Job, Storage};
use tokio::sync::mpsc;
use tokio_stream::{Stream, wrappers::ReceiverStream};
use tonic::Status;

use super::convert;

/// How often a watcher reads the job.
pub(crate) const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// Consecutive failed reads after which the stream ends with `UNAVAILABLE`.
const MAX_READ_FAILURES: u32 = 5;

pub(crate) type WatchStream =
    Pin<Box<dyn Stream<Item = Result<v1::WatchJobResponse, Status>> + Send + 'static>>;

/// The stream of `job`'s progress, starting with `job` itself.
pub(crate) fn watch(storage: Arc<dyn Storage>, job: Job) -> WatchStream {
    let (sender, receiver) = mpsc::channel(4);
    tokio::spawn(poll(storage, job, sender));
    Box::pin(ReceiverStream::new(receiver))
}

type Sender = mpsc::Sender<Result<v1::WatchJobResponse, Status>>;

async fn poll(storage: Arc<dyn Storage>, mut last: Job, sender: Sender) {
    if !send(&sender, &last).await {
        return;
    }
    let mut failures = 0;
    while !super::is_over(&last) {
        tokio::select! {
            () = sender.closed() => return,
            () = tokio::time::sleep(POLL_INTERVAL) => {}
        }
        match storage.get_job(last.id).await {
            Ok(Some(job)) => {
                failures = 0;
                if progressed(&last, &job) {
                    last = job;
                    if !send(&sender, &last).await {
                        return;
                    }
                }
            }
            Ok(None) => {
                let error = ApiError::not_found(format!("job {} was deleted", last.id));
                let _ = sender.send(Err(error.to_status())).await;
                return;
            }
            Err(error) => {
                failures += 1;
                tracing::warn!(job_id = last.id, %error, failures, "watching a job: read failed");
                if failures >= MAX_READ_FAILURES {
                    let error = ApiError::unavailable(
                        "the job's progress cannot be read right now; watch it again",
                    );
                    let _ = sender.send(Err(error.to_status())).await;
                    return;
                }
            }
        }
    }
}

/// Sends `job`; false when the client has gone.
async fn send(sender: &Sender, job: &Job) -> bool {
    let response = v1::WatchJobResponse {
        job: Some(convert::job(job)),
    };
    sender.send(Ok(response)).await.is_ok()
}

/// Whether anything a watcher shows changed: state or counters.
fn progressed(before: &Job, now: &Job) -> bool {
    before.state != now.state
        || before.total != now.total
        || before.done != now.done
        || before.succeeded != now.succeeded
        || before.failed != now.failed
        || before.skipped != now.skipped
        || before.cancelled != now.cancelled
        || before.warning_count != now.warning_count
}
