//! Update merging shared by both backends: the new row is computed from the locked current
//! row, then written in full.

use chrono::{DateTime, Utc};

use crate::{Instance, InstanceChanges, Pair, PairChanges};

/// The instance after `changes`.
pub(crate) fn merge_instance(
    current: &Instance,
    changes: &InstanceChanges,
    now: DateTime<Utc>,
) -> Instance {
    let mut next = current.clone();
    if let Some(name) = &changes.name {
        next.name.clone_from(name);
    }
    if let Some(description) = &changes.description {
        next.description.clone_from(description);
    }
    if let Some(url) = changes.url.as_ref().filter(|url| **url != current.url) {
        next.url.clone_from(url);
        // Another server: everything learnt about the old one is void.
        next.token_user_id = None;
        next.token_username = None;
        next.gitlab_version = None;
        next.gitlab_edition = None;
        next.verify_time = None;
    }
    if let Some(token) = &changes.encrypted_token {
        next.encrypted_token.clone_from(token);
        next.token_user_id = None;
        next.token_username = None;
        next.verify_time = None;
    }
    next.update_time = now;
    next
}

/// Whether applying `changes` would move the URL.
pub(crate) fn url_changes(current: &Instance, changes: &InstanceChanges) -> bool {
    changes.url.as_ref().is_some_and(|url| *url != current.url)
}

/// The pair after `changes`.
pub(crate) fn merge_pair(current: &Pair, changes: &PairChanges, now: DateTime<Utc>) -> Pair {
    let mut next = current.clone();
    if let Some(name) = &changes.name {
        next.name.clone_from(name);
    }
    if let Some(id) = changes.source_instance_id {
        next.source_instance_id = id;
    }
    if let Some(id) = changes.target_instance_id {
        next.target_instance_id = id;
    }
    if let Some(direction) = changes.mirror_direction {
        next.mirror_direction = direction;
    }
    if let Some(value) = changes.mirror_overwrite_diverged {
        next.mirror_overwrite_diverged = value;
    }
    if let Some(value) = changes.mirror_trigger_builds {
        next.mirror_trigger_builds = value;
    }
    if let Some(value) = changes.only_mirror_protected_branches {
        next.only_mirror_protected_branches = value;
    }
    if let Some(regex) = &changes.mirror_branch_regex {
        next.mirror_branch_regex.clone_from(regex);
    }
    if let Some(description) = &changes.description {
        next.description.clone_from(description);
    }
    next.update_time = now;
    next
}

/// Whether `next` changes what existing mirrors were created for: the instances or the
/// direction. GitLab mirrors are not migrated, so these are locked once mirrors exist.
pub(crate) fn pair_mirror_fields_change(current: &Pair, next: &Pair) -> bool {
    current.source_instance_id != next.source_instance_id
        || current.target_instance_id != next.target_instance_id
        || current.mirror_direction != next.mirror_direction
}
