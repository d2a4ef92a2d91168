//! Read models of the web console: dashboard counts, the topology graph, quick stats and the
//! global search. Everything here is aggregated in SQL (see `sql_insights`); the rules that
//! turn counts into health levels live here so both the SQL ordering of link mirrors and the
//! aggregation of the graph apply the same ones.

use chrono::{DateTime, Utc};

use crate::{MirrorDirection, MirrorLifecycle};

/// GitLab `update_status` values of a mirror that last updated successfully (`success` is the
/// earlier product's word for it, kept for imported data).
pub const SUCCESS_STATUSES: &[&str] = &["finished", "success"];
/// Values of a mirror whose last update failed.
pub const FAILED_STATUSES: &[&str] = &["failed"];
/// Values of a mirror with an update under way or expected: GitLab's `none` (created, no
/// update yet), `scheduled`, `started` and `to_retry`, plus the earlier product's words.
pub const PENDING_STATUSES: &[&str] = &[
    "none",
    "scheduled",
    "started",
    "to_retry",
    "pending",
    "syncing",
    "updating",
];
/// Values of a mirror whose update is running right now (quick stats' "syncing").
pub const SYNCING_STATUSES: &[&str] = &["scheduled", "started", "syncing", "updating"];

/// What a mirror's last status says, in the four buckets of the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusClass {
    Success,
    Failed,
    Pending,
    /// Never checked, or a value outside the lists above.
    Unknown,
}

impl StatusClass {
    /// The class of a stored `last_update_status` (exact, lower-case values as GitLab sends).
    pub fn of(status: Option<&str>) -> StatusClass {
        match status {
            Some(s) if SUCCESS_STATUSES.contains(&s) => StatusClass::Success,
            Some(s) if FAILED_STATUSES.contains(&s) => StatusClass::Failed,
            Some(s) if PENDING_STATUSES.contains(&s) => StatusClass::Pending,
            _ => StatusClass::Unknown,
        }
    }

    /// The health this status alone implies: failed → error, pending → warning,
    /// success → ok, else unknown.
    pub fn health(self) -> HealthLevel {
        match self {
            StatusClass::Failed => HealthLevel::Error,
            StatusClass::Pending => HealthLevel::Warning,
            StatusClass::Success => HealthLevel::Ok,
            StatusClass::Unknown => HealthLevel::Unknown,
        }
    }
}

/// Severity of a node, link or mirror; ordered `Unknown < Ok < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum HealthLevel {
    #[default]
    Unknown,
    Ok,
    Warning,
    Error,
}

impl HealthLevel {
    /// The rank used in SQL ordering (0-3).
    pub fn rank(self) -> i64 {
        match self {
            HealthLevel::Unknown => 0,
            HealthLevel::Ok => 1,
            HealthLevel::Warning => 2,
            HealthLevel::Error => 3,
        }
    }

    pub fn from_rank(rank: i64) -> HealthLevel {
        match rank {
            1 => HealthLevel::Ok,
            2 => HealthLevel::Warning,
            3.. => HealthLevel::Error,
            _ => HealthLevel::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HealthLevel::Unknown => "unknown",
            HealthLevel::Ok => "ok",
            HealthLevel::Warning => "warning",
            HealthLevel::Error => "error",
        }
    }
}

/// When the age of the newest successful update makes something stale. A threshold of 0
/// switches its level off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StalenessRules {
    pub warning_seconds: i64,
    pub error_seconds: i64,
    /// Level of a mirror (or of a node/link whose mirrors all) never succeeded.
    pub never_succeeded: HealthLevel,
}

impl Default for StalenessRules {
    /// One day for a warning, seven for an error, never-succeeded is a warning.
    fn default() -> Self {
        StalenessRules {
            warning_seconds: 86_400,
            error_seconds: 604_800,
            never_succeeded: HealthLevel::Warning,
        }
    }
}

impl StalenessRules {
    /// Staleness of something whose newest success is `last_success` (`None`: never), at
    /// `now`: the level and the age in seconds.
    pub fn judge(
        &self,
        last_success: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> (HealthLevel, Option<i64>) {
        let Some(last_success) = last_success else {
            return (self.never_succeeded, None);
        };
        let age = (now - last_success).num_seconds().max(0);
        let level = if self.error_seconds > 0 && age >= self.error_seconds {
            HealthLevel::Error
        } else if self.warning_seconds > 0 && age >= self.warning_seconds {
            HealthLevel::Warning
        } else {
            HealthLevel::Ok
        };
        (level, Some(age))
    }
}

/// Mirrors of one pair with the same lifecycle, status and enabled flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorStatusGroup {
    pub pair_id: i64,
    pub lifecycle: MirrorLifecycle,
    /// `None`: never checked.
    pub last_update_status: Option<String>,
    pub enabled: bool,
    pub mirror_count: i64,
    /// Mirrors with no successful update recorded.
    pub never_succeeded_count: i64,
}

/// How recent the statuses of the ready mirrors are.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MirrorFreshness {
    /// Read before the query's instant, or never.
    pub stale_count: i64,
    /// Of those, never read.
    pub never_checked_count: i64,
    pub oldest_check: Option<DateTime<Utc>>,
    pub newest_check: Option<DateTime<Utc>>,
}

/// The newest successful update of a pair's ready mirrors (`None`: none succeeded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairLastSuccess {
    pub pair_id: i64,
    pub last_success: Option<DateTime<Utc>>,
}

/// An instance as a node of the topology.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphInstance {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub description: String,
}

/// A pair as an edge of the topology.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphPair {
    pub id: i64,
    pub name: String,
    pub source_instance_id: i64,
    pub target_instance_id: i64,
    pub mirror_direction: MirrorDirection,
}

/// Every instance and pair (ordered by id): the skeleton of the topology and the names of
/// the dashboard. Both are small tables.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Graph {
    pub instances: Vec<GraphInstance>,
    pub pairs: Vec<GraphPair>,
}

/// One entry of the dashboard's recent activity: a job, with what it was about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityEntry {
    pub job_id: i64,
    pub kind: String,
    pub state: crate::JobState,
    /// Source path of the job's mirror, else the pair's or instance's name (`None` when the
    /// subject no longer exists).
    pub subject: Option<String>,
    pub mirror_id: Option<i64>,
    pub pair_id: Option<i64>,
    pub create_time: DateTime<Utc>,
    /// End of the job, or its start, or its creation: when it last did something.
    pub activity_time: DateTime<Utc>,
}

/// A scheduled status-refresh round (a job of the scheduler's kind).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRound {
    pub job_id: i64,
    pub state: crate::JobState,
    pub total: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub create_time: DateTime<Utc>,
    pub start_time: Option<DateTime<Utc>>,
    pub end_time: Option<DateTime<Utc>>,
}

/// What the jobs table and the scheduler's lease say about the periodic status refresh.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RefreshRounds {
    /// The newest round, finished or not.
    pub latest: Option<RefreshRound>,
    /// The newest finished round.
    pub latest_finished: Option<RefreshRound>,
    /// Expiry of the scheduler's lease, when some replica holds or held it.
    pub lease_expires_at: Option<DateTime<Utc>>,
}

/// Parameters of [`crate::Storage::mirror_quick_stats`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuickStatsQuery {
    /// Syncing mirrors count only when their status was read at or after this instant (an
    /// older "started" says nothing about now).
    pub syncing_checked_since: DateTime<Utc>,
    /// Failures count when GitLab's last update attempt was at or after this instant.
    pub failed_since: DateTime<Utc>,
    /// At most this many syncing mirror ids are returned (the count is exact).
    pub id_limit: u32,
}

/// Mirrors syncing now and recent failures (ready mirrors only).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MirrorQuickStats {
    pub syncing_count: i64,
    /// Lowest ids first, at most `id_limit`.
    pub syncing_mirror_ids: Vec<i64>,
    pub recent_failures: i64,
}

/// Parameters of [`crate::Storage::link_mirrors`]: the ready mirrors of one topology link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkMirrorQuery {
    pub source_instance_id: i64,
    pub target_instance_id: i64,
    pub direction: MirrorDirection,
    pub pair_id: Option<i64>,
    pub include_disabled: bool,
    pub rules: StalenessRules,
    pub now: DateTime<Utc>,
    pub limit: u32,
    pub offset: u64,
}

/// One mirror of a link, with its health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkMirror {
    pub id: i64,
    pub pair_id: i64,
    pub pair_name: String,
    pub source_project_path: String,
    pub target_project_path: String,
    pub mirror_direction: MirrorDirection,
    pub enabled: bool,
    pub last_update_status: Option<String>,
    pub last_successful_update_time: Option<DateTime<Utc>>,
    pub staleness: HealthLevel,
    pub staleness_age_seconds: Option<i64>,
    pub health: HealthLevel,
}

/// A page of link mirrors, worst health first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LinkMirrorPage {
    pub total: i64,
    pub mirrors: Vec<LinkMirror>,
}

/// An instance found by the global search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceHit {
    pub id: i64,
    pub name: String,
    pub url: String,
}

/// A pair found by the global search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairHit {
    pub id: i64,
    pub name: String,
    pub mirror_direction: MirrorDirection,
}

/// A mirror found by the global search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorHit {
    pub id: i64,
    pub pair_id: i64,
    pub source_project_path: String,
    pub target_project_path: String,
    pub last_update_status: Option<String>,
    pub lifecycle: MirrorLifecycle,
}

/// Global search results: up to `limit` per kind, ordered by name (paths for mirrors), and
/// whether more matched.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchHits {
    pub instances: Vec<InstanceHit>,
    pub pairs: Vec<PairHit>,
    pub mirrors: Vec<MirrorHit>,
    pub more_instances: bool,
    pub more_pairs: bool,
    pub more_mirrors: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_fall_into_one_class_each() {
        assert_eq!(StatusClass::of(Some("finished")), StatusClass::Success);
        assert_eq!(StatusClass::of(Some("failed")), StatusClass::Failed);
        assert_eq!(StatusClass::of(Some("started")), StatusClass::Pending);
        assert_eq!(StatusClass::of(Some("none")), StatusClass::Pending);
        assert_eq!(StatusClass::of(None), StatusClass::Unknown);
        assert_eq!(StatusClass::of(Some("canceled")), StatusClass::Unknown);
        for s in SYNCING_STATUSES {
            assert_eq!(StatusClass::of(Some(s)), StatusClass::Pending, "{s}");
        }
    }

    #[test]
    fn staleness_thresholds_and_switches() {
        let now = Utc::now();
        let rules = StalenessRules {
            warning_seconds: 100,
            error_seconds: 1000,
            never_succeeded: HealthLevel::Error,
        };
        let ago = |s| Some(now - chrono::Duration::seconds(s));
        assert_eq!(rules.judge(ago(99), now), (HealthLevel::Ok, Some(99)));
        assert_eq!(
            rules.judge(ago(100), now),
            (HealthLevel::Warning, Some(100))
        );
        assert_eq!(
            rules.judge(ago(1000), now),
            (HealthLevel::Error, Some(1000))
        );
        assert_eq!(rules.judge(None, now), (HealthLevel::Error, None));
        let off = StalenessRules {
            warning_seconds: 0,
            error_seconds: 0,
            ..rules
        };
        assert_eq!(off.judge(ago(10_000_000), now).0, HealthLevel::Ok);
        assert!(
            HealthLevel::Unknown < HealthLevel::Ok && HealthLevel::Warning < HealthLevel::Error
        );
        assert_eq!(
            HealthLevel::from_rank(HealthLevel::Warning.rank()),
            HealthLevel::Warning
        );
    }
}
