//! Tasks, their wire format and the handlers that run them.
//!
//! Body: JSON `{"kind": "...", "job_id": 1, "item_id": 2, "payload": {...}}`, content type
//! `application/json`, delivery mode persistent. Headers: `traceparent` (W3C trace context),
//! `x-mm-attempt` (1 on first delivery), and on parked tasks `x-mm-error`,
//! `x-mm-error-kind`, `x-mm-failed-at`.

use lapin::{
    BasicProperties,
    types::{AMQPValue, FieldTable, LongString, ShortString},
};
pub use mm_tasks::{HandlerRegistry, Task, TaskBody, TaskError, TaskHandler};

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

/// AMQP encoding of a [`Task`].
pub trait TaskMessage: Sized {
    /// Encodes the task as message body and properties (JSON, persistent, headers).
    fn to_message(&self) -> (Vec<u8>, BasicProperties);
    /// Decodes a delivered message. Fails when the body is not a task.
    fn from_message(
        data: &[u8],
        properties: &BasicProperties,
        redelivered: bool,
    ) -> Result<Self, serde_json::Error>;
}

impl TaskMessage for Task {
    fn to_message(&self) -> (Vec<u8>, BasicProperties) {
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

    fn from_message(
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
