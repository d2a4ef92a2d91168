//! Tasks, their wire format and the handlers that run them.
//!
//! Body: JSON `{"kind": "...", "job_id": 1, "item_id": 2, "payload": {...}}`, content type
//! `application/json`, delivery mode persistent. Headers: `traceparent` (W3C trace context),
//! `x-mm-attempt` (1 on first delivery), and on parked tasks `x-mm-error`,
//! `x-mm-error-kind`, `x-mm-failed-at`.

use std::{collections::HashMap, fmt, sync::Arc, time::Duration};

use async_trait::async_trait;
use lapin::{
    BasicProperties,
    types::{AMQPValue, FieldTable, LongString, ShortString},
};
use serde::{Deserialize, Serialize};

/// Header with the number of the attempt a delivery represents (1-based).
pub const ATTEMPT_HEADER: &str = "x-mm-attempt";
/// Header with the last error of a parked task.
pub const ERROR_HEADER: &str = "x-mm-error";
/// Header with why a task was parked: see [`DeadReason`].
pub const ERROR_KIND_HEADER: &str = "x-mm-error-kind";
/// Header with the RFC 3339 time a task was parked.
pub const FAILED_AT_HEADER: &str = "x-mm-failed-at";
/// W3C trace context header.
pub const TRACEPARENT_HEADER: &str = "traceparent";

const PERSISTENT: u8 = 2;

/// The JSON body of a task message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskBody {
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_id: Option<i64>,
    #[serde(default)]
    pub payload: serde_json::Value,
}

/// One unit of work as a handler sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub kind: String,
    pub job_id: Option<i64>,
    pub item_id: Option<i64>,
    pub payload: serde_json::Value,
    /// 1 on the first run, incremented on every retry.
    pub attempt: u32,
    /// W3C `traceparent` of the request that created the task, if any.
    pub traceparent: Option<String>,
    /// The broker delivered this message before without an acknowledgement (e.g. a worker
    /// crashed while handling it): handlers must be idempotent.
    pub redelivered: bool,
    pub message_id: Option<String>,
    /// Set by the dispatcher when a retryable failure of this run would not be retried
    /// (attempts exhausted): the handler should record the failure as final.
    pub last_attempt: bool,
}

impl Task {
    /// A first-attempt task without tracing context.
    pub fn new(kind: impl Into<String>, payload: serde_json::Value) -> Self {
        Task {
            kind: kind.into(),
            job_id: None,
            item_id: None,
            payload,
            attempt: 1,
            traceparent: None,
            redelivered: false,
            message_id: None,
            last_attempt: false,
        }
    }

    pub fn with_job(mut self, job_id: i64, item_id: Option<i64>) -> Self {
        self.job_id = Some(job_id);
        self.item_id = item_id;
        self
    }

    pub fn with_traceparent(mut self, traceparent: impl Into<String>) -> Self {
        self.traceparent = Some(traceparent.into());
        self
    }

    /// The JSON body of this task.
    pub fn body(&self) -> TaskBody {
        TaskBody {
            kind: self.kind.clone(),
            job_id: self.job_id,
            item_id: self.item_id,
            payload: self.payload.clone(),
        }
    }

    /// Encodes the task as message body and properties (JSON, persistent, headers).
    pub fn to_message(&self) -> (Vec<u8>, BasicProperties) {
        let body = serde_json::to_vec(&self.body()).expect("a task body always serialises");
        let mut headers = FieldTable::default();
        headers.insert(
            ATTEMPT_HEADER.into(),
            AMQPValue::LongInt(i32::try_from(self.attempt).unwrap_or(i32::MAX)),
        );
        if let Some(traceparent) = &self.traceparent {
            set_header(&mut headers, TRACEPARENT_HEADER, traceparent);
        }
        let mut properties = BasicProperties::default()
            .with_content_type("application/json".into())
            .with_delivery_mode(PERSISTENT)
            .with_headers(headers);
        if let Some(id) = &self.message_id {
            properties = properties.with_message_id(id.as_str().into());
        }
        (body, properties)
    }

    /// Decodes a delivered message. Fails when the body is not a task.
    pub fn from_message(
        data: &[u8],
        properties: &BasicProperties,
        redelivered: bool,
    ) -> Result<Task, serde_json::Error> {
        let body: TaskBody = serde_json::from_slice(data)?;
        let headers = properties.headers().as_ref();
        let attempt = headers
            .and_then(|h| header_int(h, ATTEMPT_HEADER))
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n > 0)
            .unwrap_or(1);
        Ok(Task {
            kind: body.kind,
            job_id: body.job_id,
            item_id: body.item_id,
            payload: body.payload,
            attempt,
            traceparent: headers.and_then(|h| header_str(h, TRACEPARENT_HEADER)),
            redelivered,
            message_id: properties.message_id().as_ref().map(|id| id.to_string()),
            last_attempt: false,
        })
    }
}

/// Why a task failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskError {
    /// Try again later; `after` is the earliest useful retry (e.g. GitLab's `Retry-After`).
    #[error("retryable: {message}")]
    Retryable {
        message: String,
        after: Option<Duration>,
    },
    /// Retrying cannot help (bad input, missing object, rejected credentials).
    #[error("permanent: {message}")]
    Permanent { message: String },
    /// Not ready yet (e.g. waiting for other items of the job): run again after `after`
    /// without counting an attempt.
    #[error("deferred: {message}")]
    Deferred { message: String, after: Duration },
}

impl TaskError {
    pub fn retryable(message: impl Into<String>) -> Self {
        TaskError::Retryable {
            message: message.into(),
            after: None,
        }
    }

    pub fn retry_after(message: impl Into<String>, after: Duration) -> Self {
        TaskError::Retryable {
            message: message.into(),
            after: Some(after),
        }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        TaskError::Permanent {
            message: message.into(),
        }
    }

    pub fn defer(message: impl Into<String>, after: Duration) -> Self {
        TaskError::Deferred {
            message: message.into(),
            after,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            TaskError::Retryable { message, .. }
            | TaskError::Permanent { message }
            | TaskError::Deferred { message, .. } => message,
        }
    }
}

/// Runs tasks of one kind. Must be idempotent: delivery is at least once.
#[async_trait]
pub trait TaskHandler: Send + Sync + 'static {
    async fn handle(&self, task: Task) -> Result<(), TaskError>;
}

/// Handlers by task kind.
#[derive(Clone, Default)]
pub struct HandlerRegistry {
    handlers: HashMap<String, Arc<dyn TaskHandler>>,
}

impl fmt::Debug for HandlerRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut kinds: Vec<_> = self.handlers.keys().collect();
        kinds.sort();
        f.debug_struct("HandlerRegistry")
            .field("kinds", &kinds)
            .finish()
    }
}

impl HandlerRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `handler` for `kind`, replacing any earlier one.
    pub fn register(mut self, kind: impl Into<String>, handler: impl TaskHandler) -> Self {
        self.handlers.insert(kind.into(), Arc::new(handler));
        self
    }

    pub fn get(&self, kind: &str) -> Option<Arc<dyn TaskHandler>> {
        self.handlers.get(kind).cloned()
    }

    pub fn kinds(&self) -> impl Iterator<Item = &str> {
        self.handlers.keys().map(String::as_str)
    }
}

/// Why a task was parked in the dead-letter queue (value of `x-mm-error-kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadReason {
    Permanent,
    Exhausted,
    UnknownKind,
    Malformed,
}

impl DeadReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DeadReason::Permanent => "permanent",
            DeadReason::Exhausted => "exhausted",
            DeadReason::UnknownKind => "unknown_kind",
            DeadReason::Malformed => "malformed",
        }
    }
}

pub(crate) fn set_header(headers: &mut FieldTable, key: &str, value: &str) {
    headers.insert(
        ShortString::from(key),
        AMQPValue::LongString(LongString::from(value)),
    );
}

/// A string header, whichever string type the publisher used.
pub fn header_str(headers: &FieldTable, key: &str) -> Option<String> {
    match headers.inner().get(key)? {
        AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        AMQPValue::ShortString(s) => Some(s.to_string()),
        _ => None,
    }
}

/// An integer header, whichever integer type the publisher used.
pub fn header_int(headers: &FieldTable, key: &str) -> Option<i64> {
    Some(match headers.inner().get(key)? {
        AMQPValue::ShortShortInt(n) => i64::from(*n),
        AMQPValue::ShortShortUInt(n) => i64::from(*n),
        AMQPValue::ShortInt(n) => i64::from(*n),
        AMQPValue::ShortUInt(n) => i64::from(*n),
        AMQPValue::LongInt(n) => i64::from(*n),
        AMQPValue::LongUInt(n) => i64::from(*n),
        AMQPValue::LongLongInt(n) => *n,
        AMQPValue::Timestamp(n) => i64::try_from(*n).ok()?,
        AMQPValue::LongString(s) => std::str::from_utf8(s.as_bytes()).ok()?.parse().ok()?,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_round_trip() {
        let task = Task::new("mirror.sync", serde_json::json!({"mirror_id": 7}))
            .with_job(3, Some(4))
            .with_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        let (body, properties) = task.to_message();
        assert_eq!(
            properties.content_type().as_ref().map(|c| c.as_str()),
            Some("application/json")
        );
        assert_eq!(*properties.delivery_mode(), Some(2));
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "mirror.sync", "job_id": 3, "item_id": 4, "payload": {"mirror_id": 7}})
        );
        let decoded = Task::from_message(&body, &properties, false).unwrap();
        assert_eq!(decoded, task);
    }

    #[test]
    fn missing_headers_mean_first_attempt() {
        let decoded =
            Task::from_message(br#"{"kind":"x"}"#, &BasicProperties::default(), true).unwrap();
        assert_eq!(decoded.attempt, 1);
        assert!(decoded.redelivered);
        assert_eq!(decoded.payload, serde_json::Value::Null);
        assert!(Task::from_message(b"not json", &BasicProperties::default(), false).is_err());
    }
}
