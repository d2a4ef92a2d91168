//! The dashboard: one aggregate query over the mirrors (counts per pair, lifecycle, status
//! and enabled flag), the instance/pair skeleton, the newest jobs and the scheduler's rounds,
//! folded into the metrics here.

use std::{collections::BTreeMap, time::Duration};

use chrono::{DateTime, Utc};
use mm_proto::v1;
use mm_storage::{
    ActivityEntry, Graph, JobState, MirrorFreshness, MirrorLifecycle, MirrorStatusGroup,
    RefreshRounds, StatusClass,
};

use crate::convert::timestamp;

/// Pairs listed under "mirrors by pair".
pub(crate) const TOP_PAIRS: usize = 5;
/// Recent activity: at most this many jobs of the last day.
pub(crate) const ACTIVITY_LIMIT: u32 = 10;
pub(crate) const ACTIVITY_WINDOW: chrono::Duration = chrono::Duration::hours(24);
/// Freshness window when the periodic refresh is off.
const FRESH_WINDOW_WITHOUT_REFRESH: Duration = Duration::from_secs(3600);

/// How long a status counts as fresh: two refresh intervals (a status that missed two rounds
/// is stale), or an hour when the refresh is off.
pub(crate) fn fresh_window(refresh_interval: Duration) -> Duration {
    if refresh_interval.is_zero() {
        FRESH_WINDOW_WITHOUT_REFRESH
    } else {
        refresh_interval.saturating_mul(2)
    }
}

/// `total` over the four health buckets of ready mirrors, rounded to one decimal; 100 when
/// there is no mirror.
fn health_percentage(success: i64, total: i64) -> f64 {
    if total <= 0 {
        return 100.0;
    }
    ((success as f64) * 1000.0 / total as f64).round() / 10.0
}

/// Summary, health, lifecycle and freshness from the status groups and the freshness of
/// the ready mirrors.
pub(crate) fn counts(
    groups: &[MirrorStatusGroup],
    fresh: &MirrorFreshness,
    graph: &Graph,
    fresh_window: Duration,
) -> (
    v1::DashboardSummary,
    v1::HealthCounts,
    v1::LifecycleCounts,
    v1::StatusFreshness,
) {
    let mut health = v1::HealthCounts::default();
    let mut lifecycle = v1::LifecycleCounts::default();
    let mut enabled = 0;
    for group in groups {
        let n = group.mirror_count;
        match group.lifecycle {
            MirrorLifecycle::Creating => lifecycle.creating += n,
            MirrorLifecycle::CreateFailed => lifecycle.create_failed += n,
            MirrorLifecycle::Deleting => lifecycle.deleting += n,
            MirrorLifecycle::Ready => lifecycle.ready += n,
        }
        // Mirrors not (or no longer) set up in GitLab have no status worth judging.
        if group.lifecycle != MirrorLifecycle::Ready {
            continue;
        }
        match StatusClass::of(group.last_update_status.as_deref()) {
            StatusClass::Success => health.success += n,
            StatusClass::Failed => health.failed += n,
            StatusClass::Pending => health.pending += n,
            StatusClass::Unknown => health.unknown += n,
        }
        if group.enabled {
            enabled += n;
        }
    }
    let freshness = v1::StatusFreshness {
        // The counts and the freshness are read by separate statements: clamp, so a mirror
        // changing in between cannot make a count negative.
        fresh_count: (lifecycle.ready - fresh.stale_count).max(0),
        stale_count: fresh.stale_count.min(lifecycle.ready),
        oldest_update: fresh.oldest_check.map(timestamp),
        newest_update: fresh.newest_check.map(timestamp),
        fresh_window_seconds: i64::try_from(fresh_window.as_secs()).unwrap_or(i64::MAX),
        auto_refresh: None,
        never_checked_count: fresh.never_checked_count,
    };
    let summary = v1::DashboardSummary {
        total_mirrors: lifecycle.ready,
        total_pairs: len(graph.pairs.len()),
        total_instances: len(graph.instances.len()),
        enabled_mirrors: enabled,
        health_percentage: health_percentage(health.success, lifecycle.ready),
    };
    (summary, health, lifecycle, freshness)
}

fn len(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The pairs with the most mirrors (every lifecycle), most first, then by name; pairs
/// without mirrors fill the list up.
pub(crate) fn mirrors_by_pair(
    groups: &[MirrorStatusGroup],
    graph: &Graph,
) -> Vec<v1::PairMirrorCount> {
    let mut counts: BTreeMap<i64, i64> = BTreeMap::new();
    for group in groups {
        *counts.entry(group.pair_id).or_default() += group.mirror_count;
    }
    let mut pairs: Vec<v1::PairMirrorCount> = graph
        .pairs
        .iter()
        .map(|pair| v1::PairMirrorCount {
            pair_id: pair.id,
            pair_name: pair.name.clone(),
            count: counts.get(&pair.id).copied().unwrap_or(0),
        })
        .collect();
    pairs.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.pair_name.cmp(&b.pair_name))
            .then(a.pair_id.cmp(&b.pair_id))
    });
    pairs.truncate(TOP_PAIRS);
    pairs
}

/// What a job means on the activity feed: failed (also partly), created, synced, deleted or
/// updated.
pub(crate) fn activity_type(kind: &str, state: JobState) -> &'static str {
    use mm_mirrors::kinds::job;
    if matches!(state, JobState::Failed | JobState::PartiallyFailed) {
        return "failed";
    }
    match kind {
        job::MIRROR_CREATE | job::PAIR_IMPORT => "created",
        job::MIRROR_SYNC | job::PAIR_SYNC => "synced",
        job::MIRROR_DELETE | job::PAIR_DELETE | job::INSTANCE_DELETE => "deleted",
        _ => "updated",
    }
}

pub(crate) fn activity(entry: &ActivityEntry) -> v1::Activity {
    v1::Activity {
        job_id: entry.job_id,
        project: entry.subject.clone().unwrap_or_default(),
        activity_type: activity_type(&entry.kind, entry.state).to_owned(),
        status: entry.state.as_str().to_owned(),
        timestamp: Some(timestamp(entry.activity_time)),
        job_kind: entry.kind.clone(),
        mirror_id: entry.mirror_id,
        pair_id: entry.pair_id,
    }
}

/// The status refresh block. `running`: a scheduler holds an unexpired lease.
pub(crate) fn auto_refresh(
    rounds: &RefreshRounds,
    interval: Duration,
    now: DateTime<Utc>,
) -> v1::AutoRefresh {
    let interval_seconds = i64::try_from(interval.as_secs()).unwrap_or(i64::MAX);
    let enabled = !interval.is_zero();
    let latest = rounds.latest.as_ref();
    let finished = rounds.latest_finished.as_ref();
    v1::AutoRefresh {
        enabled,
        running: enabled && rounds.lease_expires_at.is_some_and(|expiry| expiry > now),
        refreshing: latest.is_some_and(|round| !round.state.is_finished()),
        interval_seconds,
        last_refresh_started_at: latest
            .map(|round| timestamp(round.start_time.unwrap_or(round.create_time))),
        last_refresh_completed_at: finished.and_then(|round| round.end_time).map(timestamp),
        last_refresh_total: finished.map(|round| round.total),
        last_refresh_success: finished.map(|round| round.succeeded),
        last_refresh_errors: finished.map(|round| round.failed),
        next_refresh_due_at: latest.filter(|_| enabled).map(|round| {
            timestamp(round.create_time + chrono::Duration::seconds(interval_seconds))
        }),
        last_refresh_job_id: latest.map(|round| round.job_id),
    }
}

#[cfg(test)]
mod tests {
    use mm_storage::{GraphPair, MirrorDirection, RefreshRound};

    use super::*;

    fn group(
        pair_id: i64,
        lifecycle: MirrorLifecycle,
        status: Option<&str>,
        enabled: bool,
        count: i64,
    ) -> MirrorStatusGroup {
        MirrorStatusGroup {
            pair_id,
            lifecycle,
            last_update_status: status.map(str::to_owned),
            enabled,
            mirror_count: count,
            never_succeeded_count: 0,
        }
    }

    fn graph(pairs: usize) -> Graph {
        Graph {
            instances: Vec::new(),
            pairs: (1..=pairs as i64)
                .map(|id| GraphPair {
                    id,
                    name: format!("pair-{id}"),
                    source_instance_id: 1,
                    target_instance_id: 2,
                    mirror_direction: MirrorDirection::Push,
                })
                .collect(),
        }
    }

    #[test]
    fn counts_judge_ready_mirrors_only() {
        let groups = vec![
            group(1, MirrorLifecycle::Ready, Some("finished"), true, 2),
            group(1, MirrorLifecycle::Ready, Some("failed"), false, 1),
            group(2, MirrorLifecycle::Ready, Some("started"), true, 1),
            group(2, MirrorLifecycle::Ready, None, true, 1),
            group(2, MirrorLifecycle::Creating, None, true, 7),
        ];
        let fresh = MirrorFreshness {
            stale_count: 2,
            never_checked_count: 1,
            oldest_check: Some(Utc::now()),
            newest_check: None,
        };
        let (summary, health, lifecycle, freshness) =
            counts(&groups, &fresh, &graph(6), Duration::from_secs(600));
        assert_eq!(summary.total_mirrors, 5);
        assert_eq!(summary.enabled_mirrors, 4);
        assert_eq!(summary.total_pairs, 6);
        assert_eq!(summary.health_percentage, 40.0);
        assert_eq!(
            (
                health.success,
                health.failed,
                health.pending,
                health.unknown
            ),
            (2, 1, 1, 1)
        );
        assert_eq!((lifecycle.ready, lifecycle.creating), (5, 7));
        assert_eq!((freshness.fresh_count, freshness.stale_count), (3, 2));
        assert_eq!(freshness.never_checked_count, 1);
        assert_eq!(freshness.fresh_window_seconds, 600);
        assert!(freshness.oldest_update.is_some() && freshness.newest_update.is_none());
        let (empty, .., freshness) = counts(
            &[],
            &MirrorFreshness::default(),
            &graph(0),
            Duration::from_secs(1),
        );
        assert_eq!((freshness.fresh_count, freshness.stale_count), (0, 0));
        assert_eq!(empty.health_percentage, 100.0);

        let top = mirrors_by_pair(&groups, &graph(6));
        let ids: Vec<i64> = top.iter().map(|p| p.pair_id).collect();
        assert_eq!(ids, [2, 1, 3, 4, 5]);
        assert_eq!(top[0].count, 9);
    }

    #[test]
    fn auto_refresh_reads_rounds_and_lease() {
        let now = Utc::now();
        let round = |id, state, minutes_ago: i64| RefreshRound {
            job_id: id,
            state,
            total: 10,
            succeeded: 9,
            failed: 1,
            create_time: now - chrono::Duration::minutes(minutes_ago),
            start_time: None,
            end_time: Some(now - chrono::Duration::minutes(minutes_ago - 1)),
        };
        let rounds = RefreshRounds {
            latest: Some(round(2, JobState::Running, 1)),
            latest_finished: Some(round(1, JobState::PartiallyFailed, 6)),
            lease_expires_at: Some(now + chrono::Duration::seconds(30)),
        };
        let block = auto_refresh(&rounds, Duration::from_secs(300), now);
        assert!(block.enabled && block.running && block.refreshing);
        assert_eq!(block.last_refresh_errors, Some(1));
        assert_eq!(block.last_refresh_job_id, Some(2));
        assert!(block.next_refresh_due_at.is_some());
        let off = auto_refresh(&RefreshRounds::default(), Duration::ZERO, now);
        assert!(!off.enabled && !off.running && !off.refreshing);
        assert_eq!(off.last_refresh_total, None);
        assert_eq!(
            activity_type("mirror.create", JobState::Succeeded),
            "created"
        );
        assert_eq!(
            activity_type("pair.sync", JobState::PartiallyFailed),
            "failed"
        );
    }
}
