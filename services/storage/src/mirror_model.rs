//! Mirrors: the rows Mirror Maestro manages and what it knows of their GitLab side.

use chrono::{DateTime, Utc};

/// Where a mirror is in its life on GitLab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MirrorLifecycle {
    /// Recorded; the create job has not finished setting it up in GitLab yet.
    Creating,
    /// Token and mirror exist in GitLab.
    Ready,
    /// Setting it up in GitLab failed; everything created was removed again.
    CreateFailed,
    /// A delete job is removing it from GitLab.
    Deleting,
}

impl MirrorLifecycle {
    pub fn as_str(self) -> &'static str {
        match self {
            MirrorLifecycle::Creating => "creating",
            MirrorLifecycle::Ready => "ready",
            MirrorLifecycle::CreateFailed => "create_failed",
            MirrorLifecycle::Deleting => "deleting",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "creating" => MirrorLifecycle::Creating,
            "ready" => MirrorLifecycle::Ready,
            "create_failed" => MirrorLifecycle::CreateFailed,
            "deleting" => MirrorLifecycle::Deleting,
            _ => return None,
        })
    }
}

/// Per-mirror overrides of the pair's default settings; `None` inherits the pair's value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MirrorOverrides {
    pub mirror_overwrite_diverged: Option<bool>,
    pub mirror_trigger_builds: Option<bool>,
    pub only_mirror_protected_branches: Option<bool>,
    pub mirror_branch_regex: Option<String>,
}

/// A mirror between a source and a target project of a pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mirror {
    pub id: i64,
    pub pair_id: i64,
    /// GitLab project ids; `None` until the create job has looked them up.
    pub source_project_id: Option<i64>,
    pub source_project_path: String,
    pub target_project_id: Option<i64>,
    pub target_project_path: String,
    pub overrides: MirrorOverrides,
    pub lifecycle: MirrorLifecycle,
    /// GitLab's remote-mirror id (push mirrors); `None` for pull mirrors and before creation.
    pub gitlab_mirror_id: Option<i64>,
    pub enabled: bool,
    /// GitLab's `update_status` (`none`, `scheduled`, `started`, `finished`, `failed`, …) as
    /// last seen; `None` before the first status check.
    pub last_update_status: Option<String>,
    pub last_successful_update_time: Option<DateTime<Utc>>,
    pub last_update_time: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// When GitLab was last asked for the status (does not change `update_time`).
    pub status_check_time: Option<DateTime<Utc>>,
    /// Ciphertext of the project access token the mirror authenticates with (AAD bound to
    /// the mirror id, see `mm_crypto::aad`); never returned by any API.
    pub encrypted_mirror_token: Option<String>,
    pub mirror_token_name: Option<String>,
    pub mirror_token_expire_time: Option<DateTime<Utc>>,
    /// GitLab id of the project access token and of the project that owns it.
    pub gitlab_token_id: Option<i64>,
    pub token_project_id: Option<i64>,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
}

/// A mirror to record (lifecycle `creating`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMirror {
    pub pair_id: i64,
    pub source_project_id: Option<i64>,
    pub source_project_path: String,
    pub target_project_id: Option<i64>,
    pub target_project_path: String,
    pub overrides: MirrorOverrides,
    pub enabled: bool,
}

impl NewMirror {
    /// A mirror of `source` to `target` in `pair` with inherited settings.
    pub fn new(pair_id: i64, source: impl Into<String>, target: impl Into<String>) -> Self {
        NewMirror {
            pair_id,
            source_project_id: None,
            source_project_path: source.into(),
            target_project_id: None,
            target_project_path: target.into(),
            overrides: MirrorOverrides::default(),
            enabled: true,
        }
    }
}

/// Changes an operator may make to a mirror; `None` leaves a field unchanged and
/// `Some(None)` clears an override back to "inherit the pair's value".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MirrorChanges {
    pub mirror_overwrite_diverged: Option<Option<bool>>,
    pub mirror_trigger_builds: Option<Option<bool>>,
    pub only_mirror_protected_branches: Option<Option<bool>>,
    pub mirror_branch_regex: Option<Option<String>>,
    pub enabled: Option<bool>,
}

impl MirrorChanges {
    pub fn is_empty(&self) -> bool {
        *self == MirrorChanges::default()
    }
}

/// What the create or rotate job learned in GitLab; `None` fields stay unchanged.
/// Recording it changes `update_time` only when `lifecycle` changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MirrorProvisioning {
    pub source_project_id: Option<i64>,
    pub target_project_id: Option<i64>,
    pub gitlab_mirror_id: Option<i64>,
    pub encrypted_mirror_token: Option<String>,
    pub mirror_token_name: Option<String>,
    pub mirror_token_expire_time: Option<DateTime<Utc>>,
    pub gitlab_token_id: Option<i64>,
    pub token_project_id: Option<i64>,
    pub lifecycle: Option<MirrorLifecycle>,
    /// `Some(None)` clears the error.
    pub last_error: Option<Option<String>>,
}

/// A status read from GitLab. Recording it sets `status_check_time` and never `update_time`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MirrorStatusUpdate {
    pub last_update_status: Option<String>,
    pub last_successful_update_time: Option<DateTime<Utc>>,
    pub last_update_time: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// GitLab disabled or re-enabled the mirror (`None`: unchanged).
    pub enabled: Option<bool>,
    pub checked_at: DateTime<Utc>,
}

/// Token status of a mirror, computed in SQL from `mirror_token_expire_time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenStatus {
    /// No token recorded.
    None,
    Active,
    /// Expires within the "expiring soon" window (30 days).
    ExpiringSoon,
    Expired,
}

/// Order of a mirror list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MirrorSortField {
    #[default]
    CreateTime,
    UpdateTime,
    SourcePath,
    TargetPath,
    /// By `last_update_status` (NULLs first ascending), then id.
    Status,
}

/// Filter of mirror lists. Every field is applied in SQL before paging.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MirrorFilter {
    pub pair_id: Option<i64>,
    /// Matches `last_update_status`; the value `"unknown"` matches mirrors never checked.
    pub status: Option<String>,
    pub enabled: Option<bool>,
    pub lifecycle: Option<MirrorLifecycle>,
    /// Case-insensitive substring of the source or target path.
    pub search: Option<String>,
    pub token_status: Option<TokenStatus>,
    /// Group path prefix of the source or target path: `"platform/backend"` matches
    /// `platform/backend/api` and `platform/backend/sub/x`, not `platform/backend-old/x`.
    pub group_prefix: Option<String>,
    /// Token status is computed at this instant (normally now).
    pub now: Option<DateTime<Utc>>,
}

/// Order and window of a mirror page (offset paging: the console jumps to page N).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorListParams {
    pub sort: MirrorSortField,
    pub descending: bool,
    pub offset: u64,
    /// Maximum number of rows (at least 1).
    pub limit: u32,
}

impl Default for MirrorListParams {
    fn default() -> Self {
        MirrorListParams {
            sort: MirrorSortField::default(),
            descending: false,
            offset: 0,
            limit: 50,
        }
    }
}

/// One page of mirrors with the total matching the filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorPage {
    pub items: Vec<Mirror>,
    pub total: i64,
}

/// One group of the tree view: mirrors whose source path lies under `path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorGroupSummary {
    /// Group path (`a`, `a/b`, …); the tree holds every ancestor group of every mirror.
    pub path: String,
    /// Mirrors directly or indirectly under the group.
    pub mirror_count: i64,
    /// Of those, how many have `last_update_status = 'failed'`.
    pub failed_count: i64,
}
