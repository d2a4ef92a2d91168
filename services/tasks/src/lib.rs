//! Tasks and their handlers, independent of the bus that delivers them (RabbitMQ in
//! `mm-worker`, or the in-process bus of the all-in-one process).

use std::{collections::HashMap, fmt, sync::Arc, time::Duration};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

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
