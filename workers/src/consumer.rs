//! Consumes the task queue with bounded concurrency and at-least-once semantics.
//!
//! A delivery is acknowledged only after its handler returned and, for failures, after the
//! broker confirmed the copy in the retry or dead-letter queue. On shutdown the consumer is
//! cancelled, prefetched but unstarted deliveries are requeued, in-flight handlers get a
//! grace period, and whatever is still running then is requeued too.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use futures::StreamExt;
use lapin::{
    Acker, Connection,
    message::Delivery,
    options::{
        BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions,
    },
    types::FieldTable,
};
use tokio::task::JoinSet;

use crate::{
    metrics,
    publish::Publisher,
    retry::{Dispatcher, Outcome},
    shutdown::Shutdown,
    task::{DeadReason, Task, TaskMessage},
    topology::Topology,
};

/// Consumer settings.
#[derive(Debug, Clone)]
pub struct ConsumerOptions {
    /// Deliveries in flight at once (`basic.qos` prefetch).
    pub prefetch: u16,
    /// Time in-flight handlers get after shutdown was requested.
    pub shutdown_grace: Duration,
}

/// What a consumer run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsumeReport {
    /// Deliveries whose handler ran to the end (any outcome).
    pub handled: usize,
    /// Deliveries returned to the queue at shutdown.
    pub requeued: usize,
}

type Pending = Arc<Mutex<HashMap<u64, Acker>>>;

/// Consumes `topology`'s task queue on `connection` until `shutdown` fires.
///
/// Returns an error when the broker connection fails for good (automatic recovery gave up)
/// or the broker cancelled the consumer (e.g. the queue was deleted).
pub async fn consume(
    connection: &Connection,
    topology: &Topology,
    dispatcher: Dispatcher,
    options: ConsumerOptions,
    mut shutdown: Shutdown,
) -> anyhow::Result<ConsumeReport> {
    let channel = connection.create_channel().await?;
    channel
        .basic_qos(options.prefetch, BasicQosOptions::default())
        .await?;
    let publisher = Publisher::new(connection.create_channel().await?, topology.clone()).await?;
    let tag = format!("mm-worker-{}", uuid::Uuid::new_v4());
    let mut consumer = channel
        .basic_consume(
            topology.task_queue().as_str().into(),
            tag.as_str().into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    tracing::info!(queue = %topology.task_queue(), prefetch = options.prefetch, "consuming tasks");

    let dispatcher = Arc::new(dispatcher);
    let pending: Pending = Arc::default();
    let mut in_flight = JoinSet::new();
    let mut report = ConsumeReport::default();
    let mut next_id = 0u64;

    let cancelled_by_broker = loop {
        tokio::select! {
            biased;
            _ = shutdown.wait() => break false,
            Some(joined) = in_flight.join_next(), if !in_flight.is_empty() => {
                finished(joined, &mut report);
            }
            next = consumer.next() => match next {
                Some(Ok(delivery)) => {
                    next_id += 1;
                    let id = next_id;
                    lock(&pending).insert(id, delivery.acker.clone());
                    let dispatcher = dispatcher.clone();
                    let publisher = publisher.clone();
                    let pending = pending.clone();
                    in_flight.spawn(async move {
                        process(delivery, &dispatcher, &publisher).await;
                        lock(&pending).remove(&id);
                    });
                }
                Some(Err(error)) => {
                    tracing::warn!(%error, "consumer error; waiting for the connection to recover");
                    channel.wait_for_recovery(error).await?;
                }
                None => break true,
            },
        }
    };

    if cancelled_by_broker {
        anyhow::bail!(
            "the broker cancelled the consumer of {}",
            topology.task_queue()
        );
    }

    tracing::info!(in_flight = in_flight.len(), "stopping consumer");
    if let Err(error) = channel
        .basic_cancel(tag.as_str().into(), BasicCancelOptions::default())
        .await
    {
        tracing::warn!(%error, "cancelling the consumer failed");
    }
    // Deliveries already prefetched but not started go back to the queue.
    while let Ok(Some(Ok(delivery))) =
        tokio::time::timeout(Duration::from_millis(500), consumer.next()).await
    {
        if requeue(&delivery.acker).await {
            report.requeued += 1;
        }
    }

    let grace = tokio::time::sleep(options.shutdown_grace);
    tokio::pin!(grace);
    loop {
        tokio::select! {
            joined = in_flight.join_next() => match joined {
                Some(joined) => finished(joined, &mut report),
                None => break,
            },
            _ = &mut grace => {
                tracing::warn!(
                    remaining = in_flight.len(),
                    "shutdown grace period over; requeueing unfinished tasks"
                );
                in_flight.abort_all();
                let ackers: Vec<Acker> = lock(&pending).drain().map(|(_, a)| a).collect();
                for acker in ackers {
                    if requeue(&acker).await {
                        report.requeued += 1;
                    }
                }
                while in_flight.join_next().await.is_some() {}
                break;
            }
        }
    }
    metrics::requeued(report.requeued);
    let _ = channel.close(200, "worker shutting down".into()).await;
    Ok(report)
}

fn lock(pending: &Pending) -> std::sync::MutexGuard<'_, HashMap<u64, Acker>> {
    pending.lock().unwrap_or_else(|e| e.into_inner())
}

fn finished(joined: Result<(), tokio::task::JoinError>, report: &mut ConsumeReport) {
    match joined {
        Ok(()) => report.handled += 1,
        Err(error) if error.is_cancelled() => {}
        Err(error) => tracing::error!(%error, "task processing failed"),
    }
}

async fn requeue(acker: &Acker) -> bool {
    match acker
        .nack(BasicNackOptions {
            requeue: true,
            ..Default::default()
        })
        .await
    {
        Ok(done) => done,
        Err(error) => {
            tracing::warn!(%error, "requeue failed; the broker requeues on channel close");
            false
        }
    }
}

/// Handles one delivery to the end: run, then retry / park, then acknowledge.
async fn process(delivery: Delivery, dispatcher: &Dispatcher, publisher: &Publisher) {
    let task = match Task::from_message(&delivery.data, &delivery.properties, delivery.redelivered)
    {
        Ok(task) => task,
        Err(error) => {
            metrics::malformed();
            tracing::warn!(%error, "parking a message that is not a task");
            let published = publisher
                .park(
                    &delivery.data,
                    &delivery.properties,
                    DeadReason::Malformed,
                    &format!("not a task message: {error}"),
                )
                .await;
            settle(&delivery, published.map_err(|e| e.to_string())).await;
            return;
        }
    };
    let span = tracing::info_span!(
        "task",
        kind = %task.kind,
        job_id = task.job_id,
        item_id = task.item_id,
        attempt = task.attempt,
        traceparent = task.traceparent.as_deref().unwrap_or(""),
    );

    let outcome = tracing::Instrument::instrument(dispatcher.dispatch(task), span.clone()).await;
    let published = match &outcome {
        Outcome::Done => Ok(()),
        Outcome::Retry {
            queue,
            delay,
            next_attempt,
            error,
        } => publisher
            .retry(
                &delivery.data,
                &delivery.properties,
                *queue,
                *delay,
                *next_attempt,
                error,
            )
            .await
            .map_err(|e| e.to_string()),
        Outcome::Dead { reason, error } => {
            tracing::warn!(parent: &span, reason = reason.as_str(), %error, "parking task in the dead-letter queue");
            publisher
                .park(&delivery.data, &delivery.properties, *reason, error)
                .await
                .map_err(|e| e.to_string())
        }
    };
    settle(&delivery, published).await;
}

/// Acknowledges once the follow-up publish succeeded; otherwise requeues so the task runs
/// again (the broker's delivery limit parks a message that keeps failing this way).
async fn settle(delivery: &Delivery, published: Result<(), String>) {
    match published {
        Ok(()) => {
            if let Err(error) = delivery.ack(BasicAckOptions::default()).await {
                tracing::warn!(%error, "ack failed; the task will be redelivered");
            }
        }
        Err(error) => {
            tracing::error!(%error, "could not hand the task on; requeueing it");
            requeue(&delivery.acker).await;
        }
    }
}
