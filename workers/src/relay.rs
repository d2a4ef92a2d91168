//! The outbox relay: moves task messages recorded with their jobs to RabbitMQ.
//!
//! The API writes a job, its items and one outbox row per item in one transaction; this loop
//! claims rows (several relays may run: each claim is leased, PostgreSQL hands a row to one
//! claimer only), publishes them with publisher confirms and deletes them once confirmed. A
//! crash between publish and delete republishes the row after its lease: consumers are
//! idempotent, so a duplicate costs nothing.

use std::{sync::Arc, time::Duration};

use mm_storage::{OutboxMessage, Storage};

use crate::{Publisher, Task, connect, shutdown::Shutdown, topology::Topology};

/// Relay settings.
#[derive(Debug, Clone)]
pub struct RelayOptions {
    /// Rows claimed per round.
    pub batch: u32,
    /// How long a claim stays exclusive.
    pub lease: Duration,
    /// Pause between rounds when the outbox is empty.
    pub idle_poll: Duration,
}

impl Default for RelayOptions {
    fn default() -> Self {
        RelayOptions {
            batch: 500,
            lease: Duration::from_secs(60),
            idle_poll: Duration::from_millis(200),
        }
    }
}

/// The broker message for an outbox row.
pub fn task_of(message: &OutboxMessage) -> Task {
    let mut task = Task::new(message.task_kind.clone(), message.payload.clone());
    task.job_id = message.job_id;
    task.item_id = message.item_id;
    task.traceparent = message.traceparent.clone();
    task.message_id = Some(format!("outbox-{}", message.id));
    task
}

/// Runs the relay until `shutdown`, reconnecting to the broker with backoff whenever it is lost
/// (rows it could not publish are released for the next connection).
pub async fn run(
    storage: Arc<dyn Storage>,
    amqp_url: String,
    topology: Topology,
    options: RelayOptions,
    shutdown: Shutdown,
) {
    while !shutdown.is_triggered() {
        let Some(connection) = connect::connect_with_backoff(&amqp_url, &shutdown).await else {
            return;
        };
        let result = async {
            let channel = connection.create_channel().await?;
            topology.declare(&channel).await?;
            let publisher = Publisher::new(channel, topology.clone()).await?;
            relay_loop(
                &*storage,
                &connection,
                &publisher,
                &options,
                shutdown.clone(),
            )
            .await
        }
        .await;
        if let Err(error) = result {
            tracing::warn!(error = %format!("{error:#}"), "outbox relay lost the broker; reconnecting");
        }
        let _ = connection.close(200, "relay stopped".into()).await;
    }
}

async fn relay_loop(
    storage: &dyn Storage,
    connection: &lapin::Connection,
    publisher: &Publisher,
    options: &RelayOptions,
    mut shutdown: Shutdown,
) -> anyhow::Result<()> {
    loop {
        if shutdown.is_triggered() {
            return Ok(());
        }
        let claimed = match storage.claim_outbox(options.batch, options.lease).await {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::warn!(%error, "outbox relay cannot read the outbox");
                Vec::new()
            }
        };
        if claimed.is_empty() {
            // Notice a lost broker while idle too, so the next job is not held up by it.
            if !connection.status().connected() {
                anyhow::bail!("the RabbitMQ connection was closed");
            }
            tokio::select! {
                _ = tokio::time::sleep(options.idle_poll) => {}
                _ = shutdown.wait() => return Ok(()),
            }
            continue;
        }
        let mut published = Vec::with_capacity(claimed.len());
        let mut failure = None;
        for message in &claimed {
            match publisher.publish_task(&task_of(message)).await {
                Ok(()) => published.push(message.id),
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            }
        }
        let count = published.len();
        if !published.is_empty()
            && let Err(error) = storage.delete_outbox(&published).await
        {
            // The rows come back after their lease and are published again (harmless).
            tracing::warn!(%error, "outbox relay cannot delete published rows");
        }
        metrics::counter!("mm_outbox_published_total").increment(count as u64);
        if let Some(error) = failure {
            release_unpublished(storage, &claimed[count..]).await;
            return Err(error.into());
        }
    }
}

/// Frees the claims of rows the broker did not confirm, so that the next connection publishes
/// them at once instead of after their lease. The first of them may have reached the broker
/// before the connection broke; publishing it again costs a duplicate delivery, which the
/// handlers recognise.
async fn release_unpublished(storage: &dyn Storage, unpublished: &[OutboxMessage]) {
    let now = chrono::Utc::now();
    for message in unpublished {
        if let Err(error) = storage.release_outbox(message.id, now).await {
            // The lease frees it later.
            tracing::warn!(%error, outbox_id = message.id, "outbox relay cannot release a claim");
            return;
        }
    }
}
