//! `GET /api/dashboard/metrics` and `GET /api/dashboard/quick-stats`.

use axum::extract::State;
use chrono::{DateTime, Utc};
use mm_proto::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::time;
use crate::{
    GatewayState,
    common::{self, missing},
    errors::GatewayError,
    extract::Json,
    grpc::Forward,
};

/// Totals. Mirror figures count ready mirrors (set up in GitLab); `lifecycle` counts all.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Summary {
    pub total_mirrors: i64,
    pub total_pairs: i64,
    pub total_instances: i64,
    pub enabled_mirrors: i64,
    /// `health.success / total_mirrors` in percent, one decimal; 100 without mirrors.
    #[schema(minimum = 0, maximum = 100)]
    pub health_percentage: f64,
}

/// Ready mirrors by their last GitLab status: `success` (finished), `failed`, `pending`
/// (none, scheduled, started, to_retry) and `unknown` (never checked, or another value).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HealthCounts {
    pub success: i64,
    pub failed: i64,
    pub pending: i64,
    pub unknown: i64,
}

/// Every mirror by lifecycle.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LifecycleCounts {
    pub creating: i64,
    pub ready: i64,
    pub create_failed: i64,
    pub deleting: i64,
}

/// The periodic status refresh (`MM_STATUS_REFRESH_INTERVAL_SECS`), from its jobs
/// (`scheduled.refresh_status`) and the scheduler's lease.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AutoRefresh {
    /// The interval is not 0.
    pub enabled: bool,
    /// A scheduler (a worker replica) holds its lease.
    pub running: bool,
    /// The newest round has not finished.
    pub refreshing: bool,
    /// `interval_seconds / 60`; `null` when the refresh is off.
    pub interval_minutes: Option<f64>,
    pub interval_seconds: i64,
    #[serde(serialize_with = "common::serialize_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_refresh_started_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "common::serialize_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_refresh_completed_at: Option<DateTime<Utc>>,
    /// Mirrors, successes and failures of the newest finished round.
    pub last_refresh_total: Option<i64>,
    pub last_refresh_success: Option<i64>,
    pub last_refresh_errors: Option<i64>,
    /// The newest round's creation plus the interval.
    #[serde(serialize_with = "common::serialize_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_refresh_due_at: Option<DateTime<Utc>>,
    /// Job of the newest round (`/api/jobs/{id}`).
    pub last_refresh_job_id: Option<i64>,
}

/// How recent the ready mirrors' statuses are.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StatusFreshness {
    /// Checked within `fresh_window_seconds`.
    pub fresh_count: i64,
    /// Checked earlier, or never.
    pub stale_count: i64,
    /// Of `stale_count`, never checked.
    pub never_checked_count: i64,
    /// Oldest status check.
    #[serde(serialize_with = "common::serialize_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub oldest_update: Option<DateTime<Utc>>,
    /// Newest status check.
    #[serde(serialize_with = "common::serialize_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub newest_update: Option<DateTime<Utc>>,
    /// Twice the refresh interval (a status that missed two rounds is stale), or one hour
    /// when the refresh is off.
    pub fresh_window_seconds: i64,
    pub auto_refresh: AutoRefresh,
}

/// A job of the last 24 hours, newest first (scheduled refresh rounds are in `auto_refresh`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Activity {
    /// The job's id (`/api/jobs/{id}`).
    pub id: i64,
    /// Source path of the job's mirror, else the pair's or instance's name; empty when gone.
    pub project: String,
    /// `created`, `synced`, `deleted`, `failed` or `updated`.
    #[schema(example = "synced")]
    pub activity_type: String,
    /// A plain-text symbol for the type: ✨ created, ✓ synced, 🗑 deleted, ✗ failed, ↻ updated.
    pub icon: String,
    /// Age of `timestamp`: `45s`, `12m`, `3h`, `2d`.
    pub time_ago: String,
    /// The job's state: `queued`, `running`, `succeeded`, `failed`, `partially_failed`,
    /// `cancelled`.
    pub status: String,
    /// When the job last did something (end, start or creation).
    #[serde(serialize_with = "common::serialize_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub timestamp: Option<DateTime<Utc>>,
    /// The job's kind, e.g. `mirror.sync`.
    pub job_kind: String,
    pub mirror_id: Option<i64>,
    pub instance_pair_id: Option<i64>,
}

/// Mirrors of a pair (every lifecycle).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PairMirrorCount {
    pub pair_id: i64,
    pub pair_name: String,
    pub count: i64,
}

/// The dashboard.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DashboardMetrics {
    pub summary: Summary,
    pub health: HealthCounts,
    pub lifecycle: LifecycleCounts,
    pub status_freshness: StatusFreshness,
    /// At most 10.
    pub recent_activity: Vec<Activity>,
    /// The five pairs with the most mirrors (pairs without mirrors fill up), most first.
    pub mirrors_by_pair: Vec<PairMirrorCount>,
    #[serde(serialize_with = "common::serialize_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub generated_at: Option<DateTime<Utc>>,
}

/// Mirrors syncing now and recent failures.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QuickStats {
    /// Ready mirrors with an update running (`scheduled`, `started`) whose status was read
    /// within 15 minutes.
    pub syncing_count: i64,
    /// Ready mirrors whose update failed within the last hour.
    pub recent_failures: i64,
    /// Lowest ids of the syncing mirrors, at most 100.
    pub syncing_mirror_ids: Vec<i64>,
    #[serde(serialize_with = "common::serialize_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub timestamp: Option<DateTime<Utc>>,
}

/// `45s`, `12m`, `3h`, `2d`.
pub fn time_ago(time: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (now - time).num_seconds().max(0);
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3600 => format!("{}m", seconds / 60),
        3600..86_400 => format!("{}h", seconds / 3600),
        _ => format!("{}d", seconds / 86_400),
    }
}

fn icon(activity_type: &str) -> &'static str {
    match activity_type {
        "created" => "✨",
        "synced" => "✓",
        "deleted" => "🗑",
        "failed" => "✗",
        _ => "↻",
    }
}

fn activity(a: pb::Activity, now: DateTime<Utc>) -> Activity {
    let timestamp = time(a.timestamp);
    Activity {
        id: a.job_id,
        icon: icon(&a.activity_type).to_owned(),
        time_ago: timestamp.map(|t| time_ago(t, now)).unwrap_or_default(),
        project: a.project,
        activity_type: a.activity_type,
        status: a.status,
        timestamp,
        job_kind: a.job_kind,
        mirror_id: a.mirror_id,
        instance_pair_id: a.pair_id,
    }
}

fn auto_refresh(a: pb::AutoRefresh) -> AutoRefresh {
    AutoRefresh {
        interval_minutes: a
            .enabled
            .then(|| (a.interval_seconds as f64 / 6.0).round() / 10.0),
        enabled: a.enabled,
        running: a.running,
        refreshing: a.refreshing,
        interval_seconds: a.interval_seconds,
        last_refresh_started_at: time(a.last_refresh_started_at),
        last_refresh_completed_at: time(a.last_refresh_completed_at),
        last_refresh_total: a.last_refresh_total,
        last_refresh_success: a.last_refresh_success,
        last_refresh_errors: a.last_refresh_errors,
        next_refresh_due_at: time(a.next_refresh_due_at),
        last_refresh_job_id: a.last_refresh_job_id,
    }
}

impl TryFrom<pb::GetDashboardMetricsResponse> for DashboardMetrics {
    type Error = GatewayError;

    fn try_from(m: pb::GetDashboardMetricsResponse) -> Result<Self, GatewayError> {
        let now = Utc::now();
        let summary = m.summary.ok_or_else(missing("summary"))?;
        let health = m.health.ok_or_else(missing("health"))?;
        let lifecycle = m.lifecycle.ok_or_else(missing("lifecycle"))?;
        let freshness = m.status_freshness.ok_or_else(missing("status_freshness"))?;
        let refresh = freshness.auto_refresh.ok_or_else(missing("auto_refresh"))?;
        Ok(Self {
            summary: Summary {
                total_mirrors: summary.total_mirrors,
                total_pairs: summary.total_pairs,
                total_instances: summary.total_instances,
                enabled_mirrors: summary.enabled_mirrors,
                health_percentage: summary.health_percentage,
            },
            health: HealthCounts {
                success: health.success,
                failed: health.failed,
                pending: health.pending,
                unknown: health.unknown,
            },
            lifecycle: LifecycleCounts {
                creating: lifecycle.creating,
                ready: lifecycle.ready,
                create_failed: lifecycle.create_failed,
                deleting: lifecycle.deleting,
            },
            status_freshness: StatusFreshness {
                fresh_count: freshness.fresh_count,
                stale_count: freshness.stale_count,
                never_checked_count: freshness.never_checked_count,
                oldest_update: time(freshness.oldest_update),
                newest_update: time(freshness.newest_update),
                fresh_window_seconds: freshness.fresh_window_seconds,
                auto_refresh: auto_refresh(refresh),
            },
            recent_activity: m
                .recent_activity
                .into_iter()
                .map(|a| activity(a, now))
                .collect(),
            mirrors_by_pair: m
                .mirrors_by_pair
                .into_iter()
                .map(|p| PairMirrorCount {
                    pair_id: p.pair_id,
                    pair_name: p.pair_name,
                    count: p.count,
                })
                .collect(),
            generated_at: time(m.generate_time),
        })
    }
}

/// Dashboard metrics.
///
/// Counts, health, status freshness and the status refresh schedule, the newest jobs and
/// the pairs with the most mirrors. Aggregated in the database.
#[utoipa::path(
    get, path = "/api/dashboard/metrics", tag = "dashboard", operation_id = "dashboard_metrics",
    responses((status = 200, description = "The dashboard", body = DashboardMetrics)),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn metrics(
    State(state): State<GatewayState>,
    forward: Forward,
) -> Result<Json<DashboardMetrics>, GatewayError> {
    let response = state
        .api()
        .dashboard()
        .get_dashboard_metrics(forward.request(pb::GetDashboardMetricsRequest {}))
        .await?
        .into_inner();
    DashboardMetrics::try_from(response).map(Json)
}

/// Quick stats for polling.
///
/// Mirrors syncing now and failures of the last hour; two small indexed queries.
#[utoipa::path(
    get, path = "/api/dashboard/quick-stats", tag = "dashboard",
    operation_id = "dashboard_quick_stats",
    responses((status = 200, description = "Syncing mirrors and recent failures", body = QuickStats)),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn quick_stats(
    State(state): State<GatewayState>,
    forward: Forward,
) -> Result<Json<QuickStats>, GatewayError> {
    let response = state
        .api()
        .dashboard()
        .get_quick_stats(forward.request(pb::GetQuickStatsRequest {}))
        .await?
        .into_inner();
    Ok(Json(QuickStats {
        syncing_count: response.syncing_count,
        recent_failures: response.recent_failures,
        syncing_mirror_ids: response.syncing_mirror_ids,
        timestamp: time(response.timestamp),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_the_console_expects() {
        let now = Utc::now();
        let ago = |s| time_ago(now - chrono::Duration::seconds(s), now);
        assert_eq!(ago(45), "45s");
        assert_eq!(ago(12 * 60 + 5), "12m");
        assert_eq!(ago(3 * 3600), "3h");
        assert_eq!(ago(2 * 86_400 + 7), "2d");
        assert_eq!(time_ago(now + chrono::Duration::seconds(5), now), "0s");
    }
}
