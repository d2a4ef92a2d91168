//! Jobs: work that touches GitLab, recorded with its items and the messages that drive them.
//!
//! Creating a job writes the job, its items, any new mirror rows and one outbox message per
//! item in a single transaction. A relay moves outbox messages to the broker (or the
//! in-process bus runs them straight from the outbox), so nothing is lost between the API's
//! answer and a worker picking the work up.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::NewMirror;

/// State of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    Failed,
    /// Finished; some items failed and some succeeded.
    PartiallyFailed,
    Cancelled,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::PartiallyFailed => "partially_failed",
            JobState::Cancelled => "cancelled",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "succeeded" => JobState::Succeeded,
            "failed" => JobState::Failed,
            "partially_failed" => JobState::PartiallyFailed,
            "cancelled" => JobState::Cancelled,
            _ => return None,
        })
    }

    pub fn is_finished(self) -> bool {
        !matches!(self, JobState::Queued | JobState::Running)
    }
}

/// State of one item of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemState {
    Queued,
    Running,
    Succeeded,
    Failed,
    /// Nothing to do (e.g. a duplicate on import, a disabled mirror in a batch sync).
    Skipped,
    Cancelled,
}

impl ItemState {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Queued => "queued",
            ItemState::Running => "running",
            ItemState::Succeeded => "succeeded",
            ItemState::Failed => "failed",
            ItemState::Skipped => "skipped",
            ItemState::Cancelled => "cancelled",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "queued" => ItemState::Queued,
            "running" => ItemState::Running,
            "succeeded" => ItemState::Succeeded,
            "failed" => ItemState::Failed,
            "skipped" => ItemState::Skipped,
            "cancelled" => ItemState::Cancelled,
            _ => return None,
        })
    }

    pub fn is_finished(self) -> bool {
        !matches!(self, ItemState::Queued | ItemState::Running)
    }
}

/// A job and its progress counters.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: i64,
    /// What the job does, e.g. `mirror.create`, `pair.sync`, `pair.import`, `pair.delete`.
    pub kind: String,
    pub state: JobState,
    pub pair_id: Option<i64>,
    pub mirror_id: Option<i64>,
    pub instance_id: Option<i64>,
    /// Username of whoever asked.
    pub requested_by: String,
    /// Request parameters worth showing (no secrets).
    pub params: Value,
    pub total: i64,
    /// Items in a finished state (succeeded, failed, skipped, cancelled).
    pub done: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub skipped: i64,
    pub cancelled: i64,
    /// Number of warnings over all items.
    pub warning_count: i64,
    pub create_time: DateTime<Utc>,
    pub start_time: Option<DateTime<Utc>>,
    pub end_time: Option<DateTime<Utc>>,
    pub update_time: DateTime<Utc>,
}

/// One unit of work of a job (usually one mirror).
#[derive(Debug, Clone, PartialEq)]
pub struct JobItem {
    pub id: i64,
    pub job_id: i64,
    pub mirror_id: Option<i64>,
    /// Human-readable subject, e.g. `group/app → mirror/app`.
    pub label: String,
    /// Task kind the worker runs, e.g. `mirror.sync`.
    pub task_kind: String,
    pub payload: Value,
    pub state: ItemState,
    /// How many times a worker started the item.
    pub attempts: i32,
    pub error: Option<String>,
    pub warnings: Vec<String>,
    /// Handler-specific result (e.g. `{"gitlab_status": "started"}`).
    pub result: Value,
    pub duration_ms: Option<i64>,
    pub start_time: Option<DateTime<Utc>>,
    pub end_time: Option<DateTime<Utc>>,
}

/// The mirror an item is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemMirror {
    None,
    Existing(i64),
    /// Inserted in the job's transaction (lifecycle `creating`); its id goes into the item
    /// and into the payload as `mirror_id`.
    New(NewMirror),
}

/// An item to create with its job.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJobItem {
    pub mirror: ItemMirror,
    pub label: String,
    pub task_kind: String,
    /// JSON object; `mirror_id` is added when the item has a mirror.
    pub payload: Value,
    /// Items created already finished (e.g. `Skipped` duplicates of an import) get no
    /// outbox message.
    pub state: ItemState,
    pub error: Option<String>,
}

impl NewJobItem {
    /// A queued item running `task_kind` for an existing mirror.
    pub fn for_mirror(mirror_id: i64, label: impl Into<String>, task_kind: &str) -> Self {
        NewJobItem {
            mirror: ItemMirror::Existing(mirror_id),
            label: label.into(),
            task_kind: task_kind.to_owned(),
            payload: serde_json::json!({}),
            state: ItemState::Queued,
            error: None,
        }
    }
}

/// A job to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub kind: String,
    pub pair_id: Option<i64>,
    pub mirror_id: Option<i64>,
    pub instance_id: Option<i64>,
    pub requested_by: String,
    pub params: Value,
    pub items: Vec<NewJobItem>,
    /// W3C trace context of the request, carried in every outbox message.
    pub traceparent: Option<String>,
    /// Mirror rows to switch to lifecycle `deleting` in the same transaction.
    pub mark_deleting: Vec<i64>,
}

/// What creating a job wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct CreatedJob {
    pub job: Job,
    /// Ids of the mirrors inserted for [`ItemMirror::New`] items, in item order.
    pub new_mirror_ids: Vec<i64>,
}

/// A message waiting in the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxMessage {
    pub id: i64,
    pub job_id: Option<i64>,
    pub item_id: Option<i64>,
    pub task_kind: String,
    pub payload: Value,
    pub traceparent: Option<String>,
    /// Times the message was claimed before (in-process bus: the attempt number − 1).
    pub claims: i32,
}

/// Answer to a worker about to run an item.
// One answer per item run, moved once: its size does not matter, and unboxed fields keep
// pattern matching simple for callers.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum ItemStart {
    /// Run it; the item is now `running` (attempts incremented) and the job `running`.
    Run { item: JobItem, job: Job },
    /// Already finished (a redelivery): acknowledge without doing anything.
    AlreadyFinished,
    /// The job was cancelled; the item is now `cancelled`.
    Cancelled,
    /// No such item (job deleted).
    Missing,
}

/// How an item ended.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemOutcome {
    /// A finished state.
    pub state: ItemState,
    pub error: Option<String>,
    pub warnings: Vec<String>,
    pub result: Value,
    pub duration_ms: i64,
}

/// Filter of job lists (newest first).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobFilter {
    pub kind: Option<String>,
    pub state: Option<JobState>,
    pub pair_id: Option<i64>,
    pub mirror_id: Option<i64>,
}

/// A window of a list with offset paging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub offset: u64,
    pub limit: u32,
}

/// One page of a list with offset paging.
#[derive(Debug, Clone, PartialEq)]
pub struct OffsetPage<T> {
    pub items: Vec<T>,
    pub total: i64,
}
