//! Starting jobs: who asked, the trace the workers continue, and the one storage transaction
//! that records the job, its items, new mirrors and outbox messages.

use mm_common::ApiError;
use mm_storage::{CreatedJob, Job, JobFilter, JobState, NewJob, Window};
use serde_json::json;
use tonic::{Request, metadata::MetadataMap};

use crate::{ApiContext, auth::principal, errors::storage_error};

/// The caller of an RPC that starts jobs.
#[derive(Debug, Clone)]
pub(crate) struct Requester {
    username: String,
    traceparent: Option<String>,
}

impl Requester {
    /// The authenticated caller of `request`, and the W3C trace context to hand to the
    /// workers: the current span's when tracing exports spans, else the caller's
    /// `traceparent` header (when well-formed).
    pub(crate) fn of<T>(request: &Request<T>) -> Result<Self, ApiError> {
        let username = principal(request)?.user.username.clone();
        Ok(Requester {
            username,
            traceparent: traceparent(request.metadata()),
        })
    }

    pub(crate) fn username(&self) -> &str {
        &self.username
    }

    pub(crate) fn traceparent(&self) -> Option<&str> {
        self.traceparent.as_deref()
    }

    /// An empty job of `kind` asked for by this caller; fill in its scope, params and items.
    pub(crate) fn job(&self, kind: &str) -> NewJob {
        NewJob {
            kind: kind.to_owned(),
            pair_id: None,
            mirror_id: None,
            instance_id: None,
            requested_by: self.username.clone(),
            params: json!({}),
            items: Vec::new(),
            traceparent: self.traceparent.clone(),
            mark_deleting: Vec::new(),
        }
    }
}

/// Records `job` (one transaction: job, items, new mirrors, outbox messages).
pub(crate) async fn create(ctx: &ApiContext, job: &NewJob) -> Result<CreatedJob, ApiError> {
    let created = ctx
        .storage()
        .create_job(job)
        .await
        .map_err(|error| storage_error(error, "name"))?;
    tracing::info!(
        job_id = created.job.id,
        kind = %job.kind,
        items = job.items.len(),
        by = %job.requested_by,
        "job queued"
    );
    Ok(created)
}

/// Jobs matching `filter` that have not finished (at most 50 of each unfinished state).
pub(crate) async fn unfinished(ctx: &ApiContext, filter: JobFilter) -> Result<Vec<Job>, ApiError> {
    let mut jobs = Vec::new();
    for state in [JobState::Queued, JobState::Running] {
        let filter = JobFilter {
            state: Some(state),
            ..filter.clone()
        };
        let page = ctx
            .storage()
            .list_jobs(
                &filter,
                Window {
                    offset: 0,
                    limit: 50,
                },
            )
            .await
            .map_err(|error| storage_error(error, "name"))?;
        jobs.extend(page.items);
    }
    Ok(jobs)
}

fn traceparent(metadata: &MetadataMap) -> Option<String> {
    let mut headers = http::HeaderMap::new();
    mm_telemetry::inject_current_context(&mut headers);
    let current = headers
        .get("traceparent")
        .and_then(|value| value.to_str().ok())
        .filter(|value| is_traceparent(value))
        .map(str::to_owned);
    current.or_else(|| {
        metadata
            .get("traceparent")
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
            .filter(|value| is_traceparent(value))
            .map(str::to_owned)
    })
}

/// A W3C `traceparent`: `version-traceid-parentid-flags` in lower-case hex, with a non-zero
/// trace and parent id (later versions may append fields).
fn is_traceparent(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    let hex = |part: &str, len: usize| {
        part.len() == len && part.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    let nonzero = |part: &str| part.bytes().any(|b| b != b'0');
    parts.len() >= 4
        && value.len() <= 128
        && hex(parts[0], 2)
        && parts[0] != "ff"
        && hex(parts[1], 32)
        && nonzero(parts[1])
        && hex(parts[2], 16)
        && nonzero(parts[2])
        && hex(parts[3], 2)
        && (parts[0] != "00" || parts.len() == 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_traceparents_are_carried() {
        let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert!(is_traceparent(good));
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        ] {
            assert!(!is_traceparent(bad), "{bad}");
        }
        let mut metadata = MetadataMap::new();
        metadata.insert("traceparent", good.parse().unwrap());
        assert_eq!(traceparent(&metadata).as_deref(), Some(good));
        metadata.insert("traceparent", "garbage".parse().unwrap());
        assert_eq!(traceparent(&metadata), None);
    }
}
