//! Confirmed publishing: new tasks, retries, parked tasks and dead-letter replay.

use std::time::Duration;

use lapin::{
    BasicProperties, Channel, Confirmation,
    options::{BasicAckOptions, BasicGetOptions, BasicPublishOptions, ConfirmSelectOptions},
    types::{AMQPValue, FieldTable},
};

use crate::{
    task::{
        ATTEMPT_HEADER, DeadReason, ERROR_HEADER, ERROR_KIND_HEADER, FAILED_AT_HEADER, Task,
        TaskMessage, set_header,
    },
    topology::Topology,
};

/// Header counting how often operators replayed a parked task.
pub const REPLAYED_HEADER: &str = "x-mm-replayed";

/// A publish that the broker did not accept.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Amqp(#[from] lapin::Error),
    #[error("the broker rejected the message for {0}")]
    Nacked(String),
    #[error("no queue is bound for routing key {0}")]
    Unroutable(String),
}

/// Publishes with publisher confirms on a dedicated channel.
#[derive(Clone, Debug)]
pub struct Publisher {
    channel: Channel,
    topology: Topology,
}

impl Publisher {
    /// Enables publisher confirms on `channel` (use a channel that does not consume).
    pub async fn new(channel: Channel, topology: Topology) -> lapin::Result<Self> {
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        Ok(Publisher { channel, topology })
    }

    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// Publishes a new task to the task queue and waits for the broker's confirm.
    pub async fn publish_task(&self, task: &Task) -> Result<(), PublishError> {
        let (body, properties) = task.to_message();
        self.publish(&self.topology.task_queue(), &body, properties)
            .await
    }

    /// Sends a delivered task to retry queue `queue` for `delay`, as attempt `next_attempt`.
    pub(crate) async fn retry(
        &self,
        body: &[u8],
        properties: &BasicProperties,
        queue: usize,
        delay: Duration,
        next_attempt: u32,
        error: &str,
    ) -> Result<(), PublishError> {
        let queues = self.topology.retry_queues();
        let target = queues
            .get(queue)
            .or(queues.last())
            .expect("a topology has at least one retry queue");
        let mut headers = headers_of(properties);
        set_attempt(&mut headers, next_attempt);
        set_header(&mut headers, ERROR_HEADER, error);
        let properties = properties
            .clone()
            .with_headers(headers)
            .with_expiration(delay.as_millis().max(1).to_string().into());
        self.publish(&target.name, body, properties).await
    }

    /// Parks a delivered task in the dead-letter queue with the error in its headers.
    pub(crate) async fn park(
        &self,
        body: &[u8],
        properties: &BasicProperties,
        reason: DeadReason,
        error: &str,
    ) -> Result<(), PublishError> {
        let mut headers = headers_of(properties);
        set_header(&mut headers, ERROR_HEADER, error);
        set_header(&mut headers, ERROR_KIND_HEADER, reason.as_str());
        set_header(
            &mut headers,
            FAILED_AT_HEADER,
            &chrono::Utc::now().to_rfc3339(),
        );
        let properties = without_expiration(properties).with_headers(headers);
        self.publish(&self.topology.dead_queue(), body, properties)
            .await
    }

    /// Moves up to `limit` parked tasks back to the task queue as first attempts. Returns how
    /// many were moved. Each is acknowledged only after the broker confirmed the copy.
    pub async fn replay_dead_letters(&self, limit: usize) -> Result<usize, PublishError> {
        let dead = self.topology.dead_queue();
        let mut moved = 0;
        while moved < limit {
            let Some(message) = self
                .channel
                .basic_get(dead.as_str().into(), BasicGetOptions::default())
                .await?
            else {
                break;
            };
            let delivery = &message.delivery;
            let mut headers = headers_of(&delivery.properties);
            let replayed = crate::task::header_int(&headers, REPLAYED_HEADER).unwrap_or(0);
            headers.insert(REPLAYED_HEADER.into(), AMQPValue::LongLongInt(replayed + 1));
            set_attempt(&mut headers, 1);
            let properties = without_expiration(&delivery.properties).with_headers(headers);
            self.publish(&self.topology.task_queue(), &delivery.data, properties)
                .await?;
            delivery.ack(BasicAckOptions::default()).await?;
            moved += 1;
        }
        Ok(moved)
    }

    async fn publish(
        &self,
        routing_key: &str,
        body: &[u8],
        properties: BasicProperties,
    ) -> Result<(), PublishError> {
        let confirm = self
            .channel
            .basic_publish(
                self.topology.exchange().as_str().into(),
                routing_key.into(),
                BasicPublishOptions {
                    mandatory: true,
                    ..Default::default()
                },
                body,
                properties,
            )
            .await?
            .await?;
        match confirm {
            Confirmation::Ack(None) | Confirmation::NotRequested => Ok(()),
            Confirmation::Ack(Some(_)) => Err(PublishError::Unroutable(routing_key.to_owned())),
            Confirmation::Nack(_) => Err(PublishError::Nacked(routing_key.to_owned())),
        }
    }
}

fn headers_of(properties: &BasicProperties) -> FieldTable {
    properties.headers().clone().unwrap_or_default()
}

fn set_attempt(headers: &mut FieldTable, attempt: u32) {
    headers.insert(
        ATTEMPT_HEADER.into(),
        AMQPValue::LongInt(i32::try_from(attempt).unwrap_or(i32::MAX)),
    );
}

/// The properties without a per-message TTL (rebuilt, since the builder cannot unset one).
fn without_expiration(properties: &BasicProperties) -> BasicProperties {
    let mut clean = BasicProperties::default();
    if let Some(v) = properties.content_type() {
        clean = clean.with_content_type(v.clone());
    }
    if let Some(v) = properties.content_encoding() {
        clean = clean.with_content_encoding(v.clone());
    }
    if let Some(v) = properties.delivery_mode() {
        clean = clean.with_delivery_mode(*v);
    }
    if let Some(v) = properties.priority() {
        clean = clean.with_priority(*v);
    }
    if let Some(v) = properties.correlation_id() {
        clean = clean.with_correlation_id(v.clone());
    }
    if let Some(v) = properties.message_id() {
        clean = clean.with_message_id(v.clone());
    }
    if let Some(v) = properties.timestamp() {
        clean = clean.with_timestamp(*v);
    }
    if let Some(v) = properties.kind() {
        clean = clean.with_type(v.clone());
    }
    if let Some(v) = properties.app_id() {
        clean = clean.with_app_id(v.clone());
    }
    if let Some(v) = properties.headers() {
        clean = clean.with_headers(v.clone());
    }
    clean
}
