//! The RabbitMQ objects the application owns, declared idempotently at start.
//!
//! ```text
//!  publisher ──(exchange mm.tasks, key mm.tasks)──▶ mm.tasks ──▶ workers
//!                                                      │  ▲
//!      worker: retryable failure ──▶ mm.tasks.retry.5s ┘  │ (TTL expires, dead-lettered back)
//!                                    mm.tasks.retry.30s ──┤
//!                                    mm.tasks.retry.5m  ──┘
//!      worker: permanent / exhausted / unknown kind ──▶ mm.tasks.dead (parking lot)
//! ```
//!
//! Every queue is a durable quorum queue bound to the direct exchange with its own name as
//! routing key. Retry queue names carry their delay, so changing the delays declares new
//! queues instead of clashing with the immutable arguments of existing ones.

use std::time::Duration;

use lapin::{
    Channel, ExchangeKind,
    options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions, QueueDeleteOptions},
    types::{AMQPValue, FieldTable, LongString, ShortString},
};

use crate::config::WorkerConfig;

/// How often the broker may redeliver one message (crashes, requeues) before it dead-letters
/// it: protects the workers from a message that kills them every time.
pub const DELIVERY_LIMIT: i32 = 20;

/// Names and arguments of the task exchange and queues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    prefix: Option<String>,
    retry_delays: Vec<Duration>,
}

/// One retry queue: where a task waits `delay` before it returns to the task queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryQueue {
    pub name: String,
    pub delay: Duration,
}

impl Default for Topology {
    fn default() -> Self {
        Topology {
            prefix: None,
            retry_delays: WorkerConfig::default().retry_delays,
        }
    }
}

impl Topology {
    /// The production names (`mm.tasks`, …) with the default retry delays.
    pub fn new() -> Self {
        Self::default()
    }

    /// Names prefixed with `<prefix>.` (for tests and side-by-side installations).
    pub fn with_prefix(prefix: impl Into<String>) -> Self {
        Topology {
            prefix: Some(prefix.into()),
            ..Self::default()
        }
    }

    /// The topology a worker with this configuration uses.
    pub fn from_config(config: &WorkerConfig) -> Self {
        Topology {
            prefix: config.queue_prefix.clone(),
            retry_delays: config.retry_delays.clone(),
        }
    }

    /// Replaces the retry delays (must be non-empty and increasing).
    pub fn with_retry_delays(mut self, delays: Vec<Duration>) -> Self {
        assert!(!delays.is_empty(), "at least one retry delay is required");
        self.retry_delays = delays;
        self
    }

    fn name(&self, base: &str) -> String {
        match &self.prefix {
            Some(prefix) => format!("{prefix}.{base}"),
            None => base.to_owned(),
        }
    }

    /// The direct exchange every task is published to.
    pub fn exchange(&self) -> String {
        self.name("mm.tasks")
    }

    /// The queue workers consume; also the routing key publishers use.
    pub fn task_queue(&self) -> String {
        self.name("mm.tasks")
    }

    /// The parking lot for tasks that failed for good; also its routing key.
    pub fn dead_queue(&self) -> String {
        self.name("mm.tasks.dead")
    }

    /// The retry queues, shortest delay first.
    pub fn retry_queues(&self) -> Vec<RetryQueue> {
        self.retry_delays
            .iter()
            .map(|delay| RetryQueue {
                name: self.name(&format!("mm.tasks.retry.{}", delay_label(*delay))),
                delay: *delay,
            })
            .collect()
    }

    /// Every queue name, task queue first.
    pub fn queue_names(&self) -> Vec<String> {
        let mut names = vec![self.task_queue()];
        names.extend(self.retry_queues().into_iter().map(|q| q.name));
        names.push(self.dead_queue());
        names
    }

    /// Declares the exchange, the queues and their bindings. Safe to call repeatedly and from
    /// many processes; fails if an existing queue has different arguments.
    pub async fn declare(&self, channel: &Channel) -> lapin::Result<()> {
        let exchange = self.exchange();
        channel
            .exchange_declare(
                exchange.as_str().into(),
                ExchangeKind::Direct,
                ExchangeDeclareOptions {
                    durable: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await?;

        let mut task_args = quorum_arguments();
        insert_str(&mut task_args, "x-dead-letter-exchange", &exchange);
        insert_str(
            &mut task_args,
            "x-dead-letter-routing-key",
            &self.dead_queue(),
        );
        task_args.insert(
            "x-delivery-limit".into(),
            AMQPValue::LongInt(DELIVERY_LIMIT),
        );
        self.declare_bound(channel, &self.task_queue(), task_args)
            .await?;

        for retry in self.retry_queues() {
            let mut args = quorum_arguments();
            insert_str(&mut args, "x-dead-letter-exchange", &exchange);
            insert_str(&mut args, "x-dead-letter-routing-key", &self.task_queue());
            insert_str(&mut args, "x-dead-letter-strategy", "at-least-once");
            insert_str(&mut args, "x-overflow", "reject-publish");
            let ttl_ms = i64::try_from(retry.delay.as_millis()).unwrap_or(i64::MAX);
            args.insert("x-message-ttl".into(), AMQPValue::LongLongInt(ttl_ms));
            self.declare_bound(channel, &retry.name, args).await?;
        }

        self.declare_bound(channel, &self.dead_queue(), quorum_arguments())
            .await?;
        Ok(())
    }

    async fn declare_bound(
        &self,
        channel: &Channel,
        queue: &str,
        arguments: FieldTable,
    ) -> lapin::Result<()> {
        channel
            .queue_declare(queue.into(), QueueDeclareOptions::durable(), arguments)
            .await?;
        channel
            .queue_bind(
                queue.into(),
                self.exchange().as_str().into(),
                queue.into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
    }

    /// Checks that every queue exists (passive declare) and returns their ready message counts
    /// in [`Topology::queue_names`] order.
    pub async fn inspect(&self, channel: &Channel) -> lapin::Result<Vec<(String, u32)>> {
        let mut counts = Vec::new();
        for name in self.queue_names() {
            let queue = channel
                .queue_declare(
                    name.as_str().into(),
                    QueueDeclareOptions {
                        passive: true,
                        ..Default::default()
                    },
                    FieldTable::default(),
                )
                .await?;
            counts.push((name, queue.message_count()));
        }
        Ok(counts)
    }

    /// Deletes the queues and the exchange (tests and uninstall). Messages in them are lost.
    pub async fn delete(&self, channel: &Channel) -> lapin::Result<()> {
        for name in self.queue_names() {
            channel
                .queue_delete(name.as_str().into(), QueueDeleteOptions::default())
                .await?;
        }
        channel
            .exchange_delete(self.exchange().as_str().into(), Default::default())
            .await
    }
}

fn quorum_arguments() -> FieldTable {
    let mut args = FieldTable::default();
    insert_str(&mut args, "x-queue-type", "quorum");
    args
}

fn insert_str(table: &mut FieldTable, key: &str, value: &str) {
    table.insert(
        ShortString::from(key),
        AMQPValue::LongString(LongString::from(value)),
    );
}

/// `5s`, `30s`, `5m`, `1h`, or milliseconds when the delay is not a whole second.
fn delay_label(delay: Duration) -> String {
    let ms = delay.as_millis();
    if !ms.is_multiple_of(1000) {
        format!("{ms}ms")
    } else if ms.is_multiple_of(3_600_000) {
        format!("{}h", ms / 3_600_000)
    } else if ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else {
        format!("{}s", ms / 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_names() {
        let topology = Topology::new();
        assert_eq!(topology.exchange(), "mm.tasks");
        assert_eq!(
            topology.queue_names(),
            [
                "mm.tasks",
                "mm.tasks.retry.5s",
                "mm.tasks.retry.30s",
                "mm.tasks.retry.5m",
                "mm.tasks.dead"
            ]
        );
    }

    #[test]
    fn prefixed_names() {
        let topology = Topology::with_prefix("test-1")
            .with_retry_delays(vec![Duration::from_millis(300), Duration::from_secs(3600)]);
        assert_eq!(topology.task_queue(), "test-1.mm.tasks");
        assert_eq!(topology.dead_queue(), "test-1.mm.tasks.dead");
        let retry: Vec<_> = topology
            .retry_queues()
            .into_iter()
            .map(|q| q.name)
            .collect();
        assert_eq!(
            retry,
            ["test-1.mm.tasks.retry.300ms", "test-1.mm.tasks.retry.1h"]
        );
    }
}
