//! Consumes the task queue with bounded concurrency and at-least-once semantics.
//!
//! A delivery is acknowledged only after its handler returned and, for failures, after the
//! broker confirmed the copy in the retry or dead-letter queue. On shutdown the consumer is
//! cancelled, prefetched but unstarted deliveries are requeued, in-flight handlers get a
//! grace period, and whatever is still running then is requeued too. When the connection is
//! lost the run ends with [`ConsumeEnd::Lost`] once its handlers finished, and the caller
//! connects again.

use std::{
    collections::{HashMap, HashSet},
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

impl ConsumeReport {
    /// Adds the counts of another run (a consumer restarted after a lost connection).
    pub fn absorb(&mut self, other: &ConsumeReport) {
        self.handled += other.handled;
        self.requeued += other.requeued;
    }
}

/// Why a consumer run ended.
#[derive(Debug)]
pub enum ConsumeEnd {
    /// Shutdown was requested; the run finished its work or requeued it.
    Shutdown,
    /// The connection or channel failed, or the broker cancelled the consumer: connect again.
    /// The broker requeued every unacknowledged delivery when the channel closed.
    Lost(anyhow::Error),
}

type Pending = Arc<Mutex<HashMap<u64, Acker>>>;

/// Items whose handler runs in this process now: a second delivery of one of them (a
/// republished outbox row, a redelivery after a reconnect) waits instead of running twice
/// at once.
type ItemsInFlight = Arc<Mutex<HashSet<i64>>>;

/// Consumes `topology`'s task queue on `connection` until `shutdown` fires or the broker is
/// lost. Returns what it did and why it stopped.
///
/// When the broker is lost, no new delivery starts; the handlers already running get the
/// shutdown grace period to finish (their results are committed; their acknowledgements fail
/// and the broker redelivers them, which the handlers recognise as done), then the rest is
/// aborted. Only then does the caller reconnect, so a redelivered task never runs beside its
/// first run in this process.
pub async fn consume(
    connection: &Connection,
    topology: &Topology,
    dispatcher: Dispatcher,
    options: ConsumerOptions,
    mut shutdown: Shutdown,
) -> (ConsumeReport, ConsumeEnd) {
    let mut report = ConsumeReport::default();
    let setup = async {
        let channel = connection.create_channel().await?;
        channel
            .basic_qos(options.prefetch, BasicQosOptions::default())
            .await?;
        let publisher =
            Publisher::new(connection.create_channel().await?, topology.clone()).await?;
        let tag = format!("mm-worker-{}", uuid::Uuid::new_v4());
        let consumer = channel
            .basic_consume(
                topology.task_queue().as_str().into(),
                tag.as_str().into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        Ok::<_, lapin::Error>((channel, publisher, tag, consumer))
    };
    let (channel, publisher, tag, mut consumer) = match setup.await {
        Ok(parts) => parts,
        Err(error) => {
            let error = anyhow::Error::new(error).context("starting the consumer");
            return (report, ConsumeEnd::Lost(error));
        }
    };
    tracing::info!(queue = %topology.task_queue(), prefetch = options.prefetch, "consuming tasks");

    let dispatcher = Arc::new(dispatcher);
    let pending: Pending = Arc::default();
    let items: ItemsInFlight = Arc::default();
    let mut in_flight = JoinSet::new();
    let mut next_id = 0u64;

    let lost = loop {
        tokio::select! {
            biased;
            _ = shutdown.wait() => break None,
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
                    let items = items.clone();
                    in_flight.spawn(async move {
                        process(delivery, &dispatcher, &publisher, &items).await;
                        lock(&pending).remove(&id);
                    });
                }
                Some(Err(error)) => {
                    break Some(anyhow::Error::new(error).context("the task consumer failed"));
                }
                None => {
                    break Some(anyhow::anyhow!(
                        "the consumer of {} was cancelled (channel closed or queue deleted)",
                        topology.task_queue()
                    ));
                }
            },
        }
    };

    if let Some(error) = lost {
        tracing::warn!(
            error = %format!("{error:#}"),
            in_flight = in_flight.len(),
            "lost the RabbitMQ consumer; letting running tasks finish before reconnecting"
        );
        let unfinished = drain(&mut in_flight, options.shutdown_grace, &mut report).await;
        if unfinished > 0 {
            tracing::warn!(
                unfinished,
                "tasks still running after the grace period were stopped; the broker redelivers them"
            );
        }
        // Their acknowledgements died with the channel; the broker already requeued them.
        lock(&pending).clear();
        return (report, ConsumeEnd::Lost(error));
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

    let unfinished = drain(&mut in_flight, options.shutdown_grace, &mut report).await;
    if unfinished > 0 {
        tracing::warn!(
            remaining = unfinished,
            "shutdown grace period over; requeueing unfinished tasks"
        );
        let ackers: Vec<Acker> = lock(&pending).drain().map(|(_, a)| a).collect();
        for acker in ackers {
            if requeue(&acker).await {
                report.requeued += 1;
            }
        }
    }
    metrics::requeued(report.requeued);
    let _ = channel.close(200, "worker shutting down".into()).await;
    (report, ConsumeEnd::Shutdown)
}

/// Waits up to `grace` for the running handlers, then aborts the rest. Returns how many were
/// aborted.
async fn drain(in_flight: &mut JoinSet<()>, grace: Duration, report: &mut ConsumeReport) -> usize {
    let grace = tokio::time::sleep(grace);
    tokio::pin!(grace);
    loop {
        tokio::select! {
            joined = in_flight.join_next() => match joined {
                Some(joined) => finished(joined, report),
                None => return 0,
            },
            _ = &mut grace => {
                let unfinished = in_flight.len();
                in_flight.abort_all();
                while in_flight.join_next().await.is_some() {}
                return unfinished;
            }
        }
    }
}

fn lock<T>(shared: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
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
async fn process(
    delivery: Delivery,
    dispatcher: &Dispatcher,
    publisher: &Publisher,
    items: &ItemsInFlight,
) {
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

    let item = task.item_id;
    if let Some(item) = item
        && !lock(items).insert(item)
    {
        // The same item is running here already: look again after the shortest retry delay,
        // without using an attempt.
        let attempt = task.attempt;
        let delay = dispatcher.policy().delays.first().copied();
        tracing::info!(parent: &span, "the item is already running in this worker; the copy waits");
        let published = publisher
            .retry(
                &delivery.data,
                &delivery.properties,
                0,
                delay.unwrap_or(Duration::from_secs(5)),
                attempt,
                "the item was already running in this worker",
            )
            .await
            .map_err(|e| e.to_string());
        settle(&delivery, published).await;
        return;
    }
    let outcome = tracing::Instrument::instrument(dispatcher.dispatch(task), span.clone()).await;
    if let Some(item) = item {
        lock(items).remove(&item);
    }
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
