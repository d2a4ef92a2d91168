//! Names of jobs and of the tasks their items run: the contract between the API, which
//! records jobs, and the workers, which run them.
//!
//! Every item payload is a JSON object; items about a mirror carry `mirror_id`.

/// Job kinds (`Job::kind`).
pub mod job {
    pub const MIRROR_CREATE: &str = "mirror.create";
    pub const MIRROR_UPDATE: &str = "mirror.update";
    pub const MIRROR_DELETE: &str = "mirror.delete";
    pub const MIRROR_SYNC: &str = "mirror.sync";
    pub const MIRROR_ROTATE_TOKEN: &str = "mirror.rotate_token";
    pub const MIRROR_REFRESH_STATUS: &str = "mirror.refresh_status";
    pub const MIRROR_VERIFY: &str = "mirror.verify";
    /// Sync every enabled mirror of a pair.
    pub const PAIR_SYNC: &str = "pair.sync";
    /// Create the mirrors of an import file.
    pub const PAIR_IMPORT: &str = "pair.import";
    /// Refresh the status of every mirror of a pair.
    pub const PAIR_REFRESH_STATUS: &str = "pair.refresh_status";
    /// Remove every mirror of a pair from GitLab, then the pair.
    pub const PAIR_DELETE: &str = "pair.delete";
    /// Remove every mirror of every pair of an instance from GitLab, then the instance.
    pub const INSTANCE_DELETE: &str = "instance.delete";
    /// Check an instance's token and read its version and edition.
    pub const INSTANCE_VERIFY: &str = "instance.verify";
    /// The scheduler's periodic status refresh over all pairs.
    pub const SCHEDULED_STATUS_REFRESH: &str = "scheduled.refresh_status";
}

/// Task kinds (`JobItem::task_kind`, the `kind` of a broker message).
pub mod task {
    /// Look up the projects, preflight, create the token and the mirror; roll back on failure.
    /// Payload: `{mirror_id}`.
    pub const MIRROR_CREATE: &str = "mirror.create";
    /// Push the mirror's effective settings to GitLab. Payload: `{mirror_id}`.
    pub const MIRROR_UPDATE: &str = "mirror.update";
    /// Remove the GitLab mirror, then revoke the token, then delete the row (best effort,
    /// warnings on the item). Payload: `{mirror_id}`.
    pub const MIRROR_DELETE: &str = "mirror.delete";
    /// Trigger a sync (re-enabling a mirror GitLab paused). Payload: `{mirror_id}`.
    pub const MIRROR_SYNC: &str = "mirror.sync";
    /// New token, switch, confirm, revoke the old one. Payload: `{mirror_id}`.
    pub const MIRROR_ROTATE_TOKEN: &str = "mirror.rotate_token";
    /// Read the status from GitLab. Payload: `{mirror_id}`.
    pub const MIRROR_REFRESH_STATUS: &str = "mirror.refresh_status";
    /// Compare GitLab's configuration with ours. Payload: `{mirror_id}`.
    pub const MIRROR_VERIFY: &str = "mirror.verify";
    /// Payload: `{instance_id}`.
    pub const INSTANCE_VERIFY: &str = "instance.verify";
    /// Final step of `pair.delete` / `instance.delete`, queued when every mirror item ended.
    /// Payload: `{pair_id}` or `{instance_id}`.
    pub const PAIR_REMOVE: &str = "pair.remove";
    pub const INSTANCE_REMOVE: &str = "instance.remove";
}
