//! Mirrors as protobuf messages. The mirror's token (`encrypted_mirror_token`) is never
//! copied into any message.

use chrono::{DateTime, Duration, Utc};
use mm_proto::v1;
use mm_storage::{Mirror, MirrorLifecycle, MirrorOverrides, Pair};

use crate::convert::timestamp;

/// A token expiring within this many days is "expiring soon" (as in the storage filter).
const EXPIRING_SOON_DAYS: i64 = 30;

/// The mirror as clients see it; `pair` gives the effective settings (absent without it).
pub(crate) fn mirror(mirror: &Mirror, pair: Option<&Pair>, now: DateTime<Utc>) -> v1::Mirror {
    v1::Mirror {
        id: mirror.id,
        pair_id: mirror.pair_id,
        source_project_path: mirror.source_project_path.clone(),
        target_project_path: mirror.target_project_path.clone(),
        source_project_id: mirror.source_project_id,
        target_project_id: mirror.target_project_id,
        overrides: Some(overrides(&mirror.overrides)),
        effective_settings: pair.map(|pair| effective(pair, mirror)),
        enabled: mirror.enabled,
        lifecycle: lifecycle(mirror.lifecycle) as i32,
        last_update_status: mirror.last_update_status.clone().unwrap_or_default(),
        last_successful_update_time: mirror.last_successful_update_time.map(timestamp),
        last_update_time: mirror.last_update_time.map(timestamp),
        last_error: mirror.last_error.clone(),
        status_check_time: mirror.status_check_time.map(timestamp),
        token_status: token_status(mirror.mirror_token_expire_time, now) as i32,
        token_expire_time: mirror.mirror_token_expire_time.map(timestamp),
        token_name: mirror.mirror_token_name.clone(),
        gitlab_mirror_id: mirror.gitlab_mirror_id,
        create_time: Some(timestamp(mirror.create_time)),
        update_time: Some(timestamp(mirror.update_time)),
    }
}

pub(crate) fn overrides(overrides: &MirrorOverrides) -> v1::MirrorOverrides {
    v1::MirrorOverrides {
        mirror_overwrite_diverged: overrides.mirror_overwrite_diverged,
        mirror_trigger_builds: overrides.mirror_trigger_builds,
        only_mirror_protected_branches: overrides.only_mirror_protected_branches,
        mirror_branch_regex: overrides.mirror_branch_regex.clone(),
    }
}

/// The pair's defaults with the mirror's overrides applied, as the workers send them to
/// GitLab: GitLab refuses protected-only together with a branch regex, so protected-only wins
/// and the effective regex is then absent.
pub(crate) fn effective(pair: &Pair, mirror: &Mirror) -> v1::EffectiveMirrorSettings {
    let o = &mirror.overrides;
    let only_protected = o
        .only_mirror_protected_branches
        .unwrap_or(pair.only_mirror_protected_branches);
    let regex = o
        .mirror_branch_regex
        .clone()
        .or_else(|| pair.mirror_branch_regex.clone())
        .filter(|regex| !regex.is_empty());
    v1::EffectiveMirrorSettings {
        mirror_overwrite_diverged: o
            .mirror_overwrite_diverged
            .unwrap_or(pair.mirror_overwrite_diverged),
        mirror_trigger_builds: o
            .mirror_trigger_builds
            .unwrap_or(pair.mirror_trigger_builds),
        only_mirror_protected_branches: only_protected,
        mirror_branch_regex: if only_protected { None } else { regex },
    }
}

pub(crate) fn lifecycle(lifecycle: MirrorLifecycle) -> v1::MirrorLifecycle {
    match lifecycle {
        MirrorLifecycle::Creating => v1::MirrorLifecycle::Creating,
        MirrorLifecycle::Ready => v1::MirrorLifecycle::Ready,
        MirrorLifecycle::CreateFailed => v1::MirrorLifecycle::CreateFailed,
        MirrorLifecycle::Deleting => v1::MirrorLifecycle::Deleting,
    }
}

/// Token status at `now`, with the same boundaries as the storage filter: expired at or
/// before now, expiring soon within 30 days, active after.
pub(crate) fn token_status(expire: Option<DateTime<Utc>>, now: DateTime<Utc>) -> v1::TokenStatus {
    match expire {
        None => v1::TokenStatus::None,
        Some(time) if time <= now => v1::TokenStatus::Expired,
        Some(time) if time <= now + Duration::days(EXPIRING_SOON_DAYS) => {
            v1::TokenStatus::ExpiringSoon
        }
        Some(_) => v1::TokenStatus::Active,
    }
}

/// `"source -> target"`, the label of a mirror's job items.
pub(crate) fn label(source: &str, target: &str) -> String {
    format!("{source} -> {target}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_statuses() {
        let now = Utc::now();
        assert_eq!(token_status(None, now), v1::TokenStatus::None);
        assert_eq!(token_status(Some(now), now), v1::TokenStatus::Expired);
        assert_eq!(
            token_status(Some(now + Duration::days(30)), now),
            v1::TokenStatus::ExpiringSoon
        );
        assert_eq!(
            token_status(Some(now + Duration::days(31)), now),
            v1::TokenStatus::Active
        );
    }
}
