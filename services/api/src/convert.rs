//! Storage models as protobuf messages.

use chrono::{DateTime, Utc};
use mm_proto::v1;
use mm_storage::{Instance, MirrorDirection, Pair, User};

pub(crate) fn timestamp(time: DateTime<Utc>) -> pbjson_types::Timestamp {
    pbjson_types::Timestamp {
        seconds: time.timestamp(),
        nanos: i32::try_from(time.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

pub(crate) fn user(user: &User) -> v1::User {
    v1::User {
        id: user.id,
        username: user.username.clone(),
        email: user.email.clone(),
        is_admin: user.is_admin,
        is_active: user.is_active,
        create_time: Some(timestamp(user.create_time)),
    }
}

/// The instance as clients see it: the token only as `token_set`.
pub(crate) fn instance(instance: &Instance) -> v1::Instance {
    v1::Instance {
        id: instance.id,
        name: instance.name.clone(),
        url: instance.url.clone(),
        description: instance.description.clone(),
        token_set: !instance.encrypted_token.is_empty(),
        token_user_id: instance.token_user_id,
        token_username: instance.token_username.clone(),
        gitlab_version: instance.gitlab_version.clone(),
        gitlab_edition: instance.gitlab_edition.clone(),
        pair_count: instance.pair_count,
        create_time: Some(timestamp(instance.create_time)),
        update_time: Some(timestamp(instance.update_time)),
    }
}

pub(crate) fn direction(direction: MirrorDirection) -> v1::MirrorDirection {
    match direction {
        MirrorDirection::Push => v1::MirrorDirection::Push,
        MirrorDirection::Pull => v1::MirrorDirection::Pull,
    }
}

pub(crate) fn pair(pair: &Pair) -> v1::Pair {
    v1::Pair {
        id: pair.id,
        name: pair.name.clone(),
        source_instance_id: pair.source_instance_id,
        target_instance_id: pair.target_instance_id,
        mirror_direction: direction(pair.mirror_direction) as i32,
        mirror_overwrite_diverged: pair.mirror_overwrite_diverged,
        mirror_trigger_builds: pair.mirror_trigger_builds,
        only_mirror_protected_branches: pair.only_mirror_protected_branches,
        mirror_branch_regex: pair.mirror_branch_regex.clone(),
        description: pair.description.clone(),
        mirror_count: pair.mirror_count,
        create_time: Some(timestamp(pair.create_time)),
        update_time: Some(timestamp(pair.update_time)),
    }
}
