//! Mirror conformance tests: round trips, uniqueness, updates that must (not) touch
//! `update_time`, and the status scheduler. Lists, token status and the group tree are in
//! `mirror_lists`.

use std::{sync::Arc, time::Duration as StdDuration};

use chrono::{DateTime, Duration, SubsecRound, Utc};
use mm_storage::{
    Mirror, MirrorChanges, MirrorFilter, MirrorLifecycle, MirrorListParams, MirrorOverrides,
    MirrorProvisioning, MirrorStatusUpdate, NewMirror, Storage, StorageError,
};

use super::{create_instance, create_pair, setup_pair};

pub(crate) fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A pause long enough for `now()` to move on both databases.
pub(crate) async fn tick() {
    tokio::time::sleep(StdDuration::from_millis(3)).await;
}

pub(crate) fn status(status: Option<&str>, checked_at: DateTime<Utc>) -> MirrorStatusUpdate {
    MirrorStatusUpdate {
        last_update_status: status.map(str::to_owned),
        checked_at,
        ..Default::default()
    }
}

pub(crate) fn ids(mirrors: &[Mirror]) -> Vec<i64> {
    mirrors.iter().map(|mirror| mirror.id).collect()
}

pub(crate) async fn list(
    storage: &Arc<dyn Storage>,
    filter: &MirrorFilter,
    params: &MirrorListParams,
) -> (Vec<i64>, i64) {
    let page = storage.list_mirrors(filter, params).await.unwrap();
    (ids(&page.items), page.total)
}

pub(crate) fn window(limit: u32, offset: u64) -> MirrorListParams {
    MirrorListParams {
        limit,
        offset,
        ..Default::default()
    }
}

pub async fn mirror_round_trip_and_lookups(storage: Arc<dyn Storage>) {
    let pair = setup_pair(&storage).await;
    let before = now();
    let created = storage
        .insert_mirror(&NewMirror {
            source_project_id: Some(11),
            target_project_id: Some(22),
            overrides: MirrorOverrides {
                mirror_overwrite_diverged: Some(true),
                mirror_trigger_builds: Some(false),
                only_mirror_protected_branches: None,
                mirror_branch_regex: Some("^main$".into()),
            },
            enabled: false,
            ..NewMirror::new(pair.id, "Group/App", "mirror/app")
        })
        .await
        .unwrap();
    assert!(created.id > 0);
    assert_eq!(created.pair_id, pair.id);
    assert_eq!(created.lifecycle, MirrorLifecycle::Creating);
    assert_eq!(created.source_project_id, Some(11));
    assert_eq!(created.target_project_id, Some(22));
    assert_eq!(created.source_project_path, "Group/App");
    assert_eq!(created.overrides.mirror_overwrite_diverged, Some(true));
    assert_eq!(created.overrides.mirror_trigger_builds, Some(false));
    assert_eq!(created.overrides.only_mirror_protected_branches, None);
    assert_eq!(
        created.overrides.mirror_branch_regex.as_deref(),
        Some("^main$")
    );
    assert!(!created.enabled);
    assert_eq!(created.last_update_status, None);
    assert_eq!(created.status_check_time, None);
    assert_eq!(created.encrypted_mirror_token, None);
    assert_eq!(created.create_time, created.update_time);
    assert!(created.create_time >= before);
    assert_eq!(created.create_time.timestamp_subsec_nanos() % 1000, 0);

    assert_eq!(
        storage.get_mirror(created.id).await.unwrap(),
        Some(created.clone())
    );
    assert_eq!(storage.get_mirror(created.id + 1000).await.unwrap(), None);
    assert_eq!(
        storage
            .find_mirror_by_paths(pair.id, "Group/App", "mirror/app")
            .await
            .unwrap(),
        Some(created.clone())
    );
    // Exact and case-sensitive.
    for (source, target) in [
        ("group/app", "mirror/app"),
        ("Group/App", "mirror/App"),
        ("Group/Ap", "mirror/app"),
    ] {
        assert_eq!(
            storage
                .find_mirror_by_paths(pair.id, source, target)
                .await
                .unwrap(),
            None
        );
    }
    assert_eq!(
        storage
            .find_mirror_by_paths(pair.id + 1000, "Group/App", "mirror/app")
            .await
            .unwrap(),
        None
    );

    // Project ids are optional (not yet looked up), and NULL ids never collide.
    let second = storage
        .insert_mirror(&NewMirror::new(pair.id, "group/app", "mirror/app"))
        .await
        .unwrap();
    let third = storage
        .insert_mirror(&NewMirror::new(pair.id, "group/other", "mirror/other"))
        .await
        .unwrap();
    assert_eq!(second.source_project_id, None);
    assert!(second.enabled);
    assert_eq!(second.overrides, MirrorOverrides::default());
    assert_eq!(
        ids(&storage.pair_mirrors(pair.id).await.unwrap()),
        [created.id, second.id, third.id]
    );
    assert_eq!(storage.count_mirrors(pair.id).await.unwrap(), 3);
    assert_eq!(
        storage
            .get_pair(pair.id)
            .await
            .unwrap()
            .unwrap()
            .mirror_count,
        3
    );

    assert!(storage.delete_mirror(second.id).await.unwrap());
    assert!(!storage.delete_mirror(second.id).await.unwrap());
    assert_eq!(storage.get_mirror(second.id).await.unwrap(), None);
    assert_eq!(
        ids(&storage.pair_mirrors(pair.id).await.unwrap()),
        [created.id, third.id]
    );
    // A deleted mirror's id is not handed out again, not even the highest one.
    let fourth = storage
        .insert_mirror(&NewMirror::new(pair.id, "group/fourth", "mirror/fourth"))
        .await
        .unwrap();
    assert!(storage.delete_mirror(fourth.id).await.unwrap());
    let fifth = storage
        .insert_mirror(&NewMirror::new(pair.id, "group/fifth", "mirror/fifth"))
        .await
        .unwrap();
    assert!(fifth.id > fourth.id);

    // Search folds ASCII case only, identically on both databases.
    let accented = storage
        .insert_mirror(&NewMirror::new(pair.id, "Équipe/Äpp", "mirror/équipe"))
        .await
        .unwrap();
    for (needle, found) in [
        ("Équipe/", true),
        ("ÄPP", true),
        ("équipe/", false),
        ("äpp", false),
        ("MIRROR/é", true),
    ] {
        let filter = MirrorFilter {
            pair_id: Some(pair.id),
            search: Some(needle.to_owned()),
            ..Default::default()
        };
        let page = storage
            .list_mirrors(&filter, &MirrorListParams::default())
            .await
            .unwrap();
        let expected = if found { vec![accented.id] } else { vec![] };
        assert_eq!(ids(&page.items), expected, "{needle}");
    }
    assert!(
        storage
            .pair_mirrors(pair.id + 1000)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn mirror_paths_are_unique_per_pair(storage: Arc<dyn Storage>) {
    let a = create_instance(&storage, "A").await;
    let b = create_instance(&storage, "B").await;
    let pair = create_pair(&storage, "a-to-b", a.id, b.id).await;
    let other = create_pair(&storage, "a-to-b-2", a.id, b.id).await;
    storage
        .insert_mirror(&NewMirror::new(pair.id, "g/p", "m/p"))
        .await
        .unwrap();
    let error = storage
        .insert_mirror(&NewMirror::new(pair.id, "g/p", "m/p"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            StorageError::AlreadyExists {
                entity: "mirror",
                field: "source_project_path"
            }
        ),
        "{error:?}"
    );
    // Another target, another case or another pair is another mirror.
    storage
        .insert_mirror(&NewMirror::new(pair.id, "g/p", "m/p2"))
        .await
        .unwrap();
    storage
        .insert_mirror(&NewMirror::new(pair.id, "G/P", "m/p"))
        .await
        .unwrap();
    storage
        .insert_mirror(&NewMirror::new(other.id, "g/p", "m/p"))
        .await
        .unwrap();
    let error = storage
        .insert_mirror(&NewMirror::new(pair.id, "", "m/p"))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, StorageError::CheckViolation { constraint } if constraint == "mirrors_source_project_path_length"),
        "{error:?}"
    );
    assert_eq!(storage.count_mirrors(pair.id).await.unwrap(), 3);
}

pub async fn mirror_updates_provisioning_and_status(storage: Arc<dyn Storage>) {
    let pair = setup_pair(&storage).await;
    let mirror = storage
        .insert_mirror(&NewMirror::new(pair.id, "g/app", "m/app"))
        .await
        .unwrap();

    // ---- operator changes bump update_time ----
    tick().await;
    let updated = storage
        .update_mirror(
            mirror.id,
            &MirrorChanges {
                mirror_overwrite_diverged: Some(Some(true)),
                mirror_branch_regex: Some(Some("^release/".into())),
                enabled: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.overrides.mirror_overwrite_diverged, Some(true));
    assert_eq!(updated.overrides.mirror_trigger_builds, None);
    assert_eq!(
        updated.overrides.mirror_branch_regex.as_deref(),
        Some("^release/")
    );
    assert!(!updated.enabled);
    assert!(updated.update_time > mirror.update_time);
    assert_eq!(updated.create_time, mirror.create_time);
    assert_eq!(
        storage.get_mirror(mirror.id).await.unwrap(),
        Some(updated.clone())
    );
    tick().await;
    let cleared = storage
        .update_mirror(
            mirror.id,
            &MirrorChanges {
                mirror_overwrite_diverged: Some(None),
                mirror_trigger_builds: Some(Some(false)),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cleared.overrides.mirror_overwrite_diverged, None);
    assert_eq!(cleared.overrides.mirror_trigger_builds, Some(false));
    assert_eq!(
        cleared.overrides.mirror_branch_regex.as_deref(),
        Some("^release/")
    );
    assert!(!cleared.enabled);
    assert!(cleared.update_time > updated.update_time);
    assert_eq!(
        storage
            .update_mirror(mirror.id + 1000, &MirrorChanges::default())
            .await
            .unwrap(),
        None
    );

    // ---- provisioning: only given fields; update_time only with a lifecycle change ----
    let expires = at("2031-05-06T07:08:09.123456Z");
    assert!(
        storage
            .record_mirror_provisioning(
                mirror.id,
                &MirrorProvisioning {
                    source_project_id: Some(101),
                    target_project_id: Some(202),
                    last_error: Some(Some("boom".into())),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
    );
    let provisioned = storage.get_mirror(mirror.id).await.unwrap().unwrap();
    assert_eq!(provisioned.source_project_id, Some(101));
    assert_eq!(provisioned.target_project_id, Some(202));
    assert_eq!(provisioned.last_error.as_deref(), Some("boom"));
    assert_eq!(provisioned.lifecycle, MirrorLifecycle::Creating);
    assert_eq!(provisioned.update_time, cleared.update_time);

    tick().await;
    assert!(
        storage
            .record_mirror_provisioning(
                mirror.id,
                &MirrorProvisioning {
                    gitlab_mirror_id: Some(77),
                    encrypted_mirror_token: Some("v1:k:token".into()),
                    mirror_token_name: Some("mirror-maestro".into()),
                    mirror_token_expire_time: Some(expires),
                    gitlab_token_id: Some(88),
                    token_project_id: Some(202),
                    lifecycle: Some(MirrorLifecycle::Ready),
                    last_error: Some(None),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
    );
    let ready = storage.get_mirror(mirror.id).await.unwrap().unwrap();
    assert_eq!(ready.lifecycle, MirrorLifecycle::Ready);
    assert!(ready.update_time > provisioned.update_time);
    assert_eq!(ready.source_project_id, Some(101));
    assert_eq!(ready.gitlab_mirror_id, Some(77));
    assert_eq!(ready.encrypted_mirror_token.as_deref(), Some("v1:k:token"));
    assert_eq!(ready.mirror_token_name.as_deref(), Some("mirror-maestro"));
    assert_eq!(ready.mirror_token_expire_time, Some(expires));
    assert_eq!(ready.gitlab_token_id, Some(88));
    assert_eq!(ready.token_project_id, Some(202));
    assert_eq!(ready.last_error, None);
    // The same lifecycle again is no change.
    tick().await;
    assert!(
        storage
            .record_mirror_provisioning(
                mirror.id,
                &MirrorProvisioning {
                    lifecycle: Some(MirrorLifecycle::Ready),
                    gitlab_token_id: Some(89),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
    );
    let same = storage.get_mirror(mirror.id).await.unwrap().unwrap();
    assert_eq!(same.gitlab_token_id, Some(89));
    assert_eq!(same.update_time, ready.update_time);
    assert!(
        !storage
            .record_mirror_provisioning(mirror.id + 1000, &MirrorProvisioning::default())
            .await
            .unwrap()
    );

    // ---- status: sets status_check_time, never update_time ----
    tick().await;
    let checked_at = now();
    let success = at("2026-11-20T10:00:00Z");
    assert!(
        storage
            .record_mirror_status(
                mirror.id,
                &MirrorStatusUpdate {
                    last_update_status: Some("finished".into()),
                    last_successful_update_time: Some(success),
                    last_update_time: Some(success + Duration::seconds(5)),
                    last_error: None,
                    enabled: Some(true),
                    checked_at,
                },
            )
            .await
            .unwrap()
    );
    let checked = storage.get_mirror(mirror.id).await.unwrap().unwrap();
    assert_eq!(checked.last_update_status.as_deref(), Some("finished"));
    assert_eq!(checked.last_successful_update_time, Some(success));
    assert_eq!(
        checked.last_update_time,
        Some(success + Duration::seconds(5))
    );
    assert!(checked.enabled);
    assert_eq!(checked.status_check_time, Some(checked_at));
    assert_eq!(checked.update_time, same.update_time);
    // `enabled: None` leaves it; the other fields are what GitLab reported.
    let later = checked_at + Duration::seconds(60);
    assert!(
        storage
            .record_mirror_status(
                mirror.id,
                &MirrorStatusUpdate {
                    last_update_status: Some("failed".into()),
                    last_successful_update_time: Some(success),
                    last_update_time: Some(later),
                    last_error: Some("13:fetch failed".into()),
                    enabled: None,
                    checked_at: later,
                },
            )
            .await
            .unwrap()
    );
    let failed = storage.get_mirror(mirror.id).await.unwrap().unwrap();
    assert_eq!(failed.last_update_status.as_deref(), Some("failed"));
    assert_eq!(failed.last_error.as_deref(), Some("13:fetch failed"));
    assert!(failed.enabled);
    assert_eq!(failed.status_check_time, Some(later));
    assert_eq!(failed.update_time, same.update_time);
    assert!(
        !storage
            .record_mirror_status(mirror.id + 1000, &status(None, later))
            .await
            .unwrap()
    );
}

pub async fn mirrors_due_for_status_check_oldest_first(storage: Arc<dyn Storage>) {
    let pair = setup_pair(&storage).await;
    let t = at("2026-11-01T00:00:00Z");
    let ready = MirrorProvisioning {
        lifecycle: Some(MirrorLifecycle::Ready),
        ..Default::default()
    };
    // (name, ready, last check)
    let rows = [
        ("recent", true, Some(t + Duration::minutes(10))),
        ("never-1", true, None),
        ("old", true, Some(t - Duration::minutes(10))),
        ("creating", false, None),
        ("older", true, Some(t - Duration::minutes(20))),
        ("never-2", true, None),
        ("edge", true, Some(t)),
    ];
    let mut ids = Vec::new();
    for (name, is_ready, checked) in rows {
        let mirror = storage
            .insert_mirror(&NewMirror::new(pair.id, format!("g/{name}"), "m/x"))
            .await
            .unwrap();
        if is_ready {
            storage
                .record_mirror_provisioning(mirror.id, &ready)
                .await
                .unwrap();
        }
        if let Some(checked) = checked {
            storage
                .record_mirror_status(mirror.id, &status(Some("finished"), checked))
                .await
                .unwrap();
        }
        ids.push(mirror.id);
    }
    let due = storage.mirrors_due_for_status_check(t, 100).await.unwrap();
    assert_eq!(ids_of(&due), [ids[1], ids[5], ids[4], ids[2]]);
    let due = storage.mirrors_due_for_status_check(t, 3).await.unwrap();
    assert_eq!(ids_of(&due), [ids[1], ids[5], ids[4]]);
    let due = storage
        .mirrors_due_for_status_check(t + Duration::hours(1), 100)
        .await
        .unwrap();
    assert_eq!(
        ids_of(&due),
        [ids[1], ids[5], ids[4], ids[2], ids[6], ids[0]]
    );
    // Deleting mirrors are not checked any more.
    let deleting = MirrorProvisioning {
        lifecycle: Some(MirrorLifecycle::Deleting),
        ..Default::default()
    };
    storage
        .record_mirror_provisioning(ids[1], &deleting)
        .await
        .unwrap();
    let due = storage.mirrors_due_for_status_check(t, 100).await.unwrap();
    assert_eq!(ids_of(&due), [ids[5], ids[4], ids[2]]);
}

fn ids_of(mirrors: &[Mirror]) -> Vec<i64> {
    ids(mirrors)
}
