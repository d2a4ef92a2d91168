//! Scheduled work that must run once however many replicas run: the periodic mirror status
//! refresh. Replicas compete for a database lease; the holder checks when the last scheduled
//! job was created and records a new one when the interval has passed. Because "when" lives
//! in the database, a new leader continues the schedule where the old one stopped.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use mm_storage::{JobFilter, NewJob, NewJobItem, Storage, Window};

use crate::shutdown::Shutdown;

/// Name of the lease the scheduler holds.
pub const LEASE: &str = "scheduler";
/// Job kind of the periodic refresh (same value as `mm_mirrors::kinds::job`).
pub const JOB_KIND: &str = "scheduled.refresh_status";
/// Task each item runs.
pub const TASK_KIND: &str = "mirror.refresh_status";

/// Scheduler settings.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    /// How often every mirror's status is refreshed.
    pub status_interval: Duration,
    /// How often the lease is tried or renewed.
    pub tick: Duration,
    /// At most this many mirrors per scheduled job.
    pub max_items: u32,
    /// Identifies this replica in the lease.
    pub holder: String,
}

impl SchedulerOptions {
    pub fn new(status_interval: Duration) -> Self {
        SchedulerOptions {
            status_interval,
            tick: Duration::from_secs(15).min(status_interval),
            max_items: 10_000,
            holder: format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()),
        }
    }
}

/// Runs until `shutdown`; a zero interval disables the schedule.
pub async fn run(storage: Arc<dyn Storage>, options: SchedulerOptions, mut shutdown: Shutdown) {
    if options.status_interval.is_zero() {
        return;
    }
    let ttl = options.tick * 3;
    loop {
        match storage.try_acquire_lease(LEASE, &options.holder, ttl).await {
            Ok(true) => {
                if let Err(error) = tick(&*storage, &options).await {
                    tracing::warn!(%error, "scheduled status refresh failed");
                }
            }
            Ok(false) => {}
            Err(error) => tracing::warn!(%error, "scheduler cannot reach the database"),
        }
        tokio::select! {
            _ = tokio::time::sleep(options.tick) => {}
            _ = shutdown.wait() => break,
        }
    }
    let _ = storage.release_lease(LEASE, &options.holder).await;
}

/// One round as leader: records a refresh job when the last one is older than the interval.
/// Returns the new job's id, if one was created.
pub async fn tick(
    storage: &dyn Storage,
    options: &SchedulerOptions,
) -> mm_storage::StorageResult<Option<i64>> {
    let interval = chrono::Duration::from_std(options.status_interval).unwrap_or_default();
    let now = Utc::now();
    let filter = JobFilter {
        kind: Some(JOB_KIND.to_owned()),
        ..JobFilter::default()
    };
    let last = storage
        .list_jobs(
            &filter,
            Window {
                offset: 0,
                limit: 1,
            },
        )
        .await?;
    if let Some(last) = last.items.first()
        && (now - last.create_time < interval || !last.state.is_finished())
    {
        // Not due yet, or the previous round is still running (a slow GitLab must not pile
        // rounds up).
        return Ok(None);
    }
    let due = storage
        .mirrors_due_for_status_check(now - interval, options.max_items)
        .await?;
    if due.is_empty() {
        // Nothing to do: no empty jobs in the list. New mirrors (never checked) are due at
        // once, so they get their first status within a tick.
        return Ok(None);
    }
    let items = due
        .iter()
        .map(|mirror| {
            NewJobItem::for_mirror(
                mirror.id,
                format!(
                    "{} -> {}",
                    mirror.source_project_path, mirror.target_project_path
                ),
                TASK_KIND,
            )
        })
        .collect();
    let job = storage
        .create_job(&NewJob {
            kind: JOB_KIND.to_owned(),
            pair_id: None,
            mirror_id: None,
            instance_id: None,
            requested_by: "scheduler".to_owned(),
            params: serde_json::json!({
                "interval_seconds": options.status_interval.as_secs(),
                "mirrors": due.len(),
            }),
            items,
            traceparent: None,
            mark_deleting: Vec::new(),
        })
        .await?;
    tracing::info!(
        job_id = job.job.id,
        mirrors = due.len(),
        "scheduled status refresh"
    );
    Ok(Some(job.job.id))
}
