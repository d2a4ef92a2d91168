//! Pair and mirror conformance tests.

use std::sync::Arc;

use mm_storage::{
    ListParams, MirrorDirection, NewMirror, NewPair, PairChanges, PairFilter, SortField, Storage,
    StorageError,
};

use super::{add_mirror, create_instance, create_pair, names, new_pair, params};

pub async fn pair_round_trip_and_counts(storage: Arc<dyn Storage>) {
    let a = create_instance(&storage, "A").await;
    let b = create_instance(&storage, "B").await;
    let created = storage
        .create_pair(&NewPair {
            name: "a-to-b".into(),
            source_instance_id: a.id,
            target_instance_id: b.id,
            mirror_direction: MirrorDirection::Pull,
            mirror_overwrite_diverged: true,
            mirror_trigger_builds: true,
            only_mirror_protected_branches: true,
            mirror_branch_regex: Some("^(main|release/.*)$".into()),
            description: "desc".into(),
        })
        .await
        .unwrap();
    assert!(created.id > 0);
    assert_eq!(created.mirror_direction, MirrorDirection::Pull);
    assert!(created.mirror_overwrite_diverged);
    assert!(created.mirror_trigger_builds);
    assert!(created.only_mirror_protected_branches);
    assert_eq!(
        created.mirror_branch_regex.as_deref(),
        Some("^(main|release/.*)$")
    );
    assert_eq!(created.mirror_count, 0);
    assert_eq!(
        storage.get_pair(created.id).await.unwrap(),
        Some(created.clone())
    );
    assert_eq!(storage.get_pair(created.id + 1000).await.unwrap(), None);

    add_mirror(&storage, created.id, 10).await;
    add_mirror(&storage, created.id, 11).await;
    assert_eq!(
        storage
            .get_pair(created.id)
            .await
            .unwrap()
            .unwrap()
            .mirror_count,
        2
    );
    assert_eq!(storage.count_mirrors(created.id).await.unwrap(), 2);

    let updated = storage
        .update_pair(
            created.id,
            &PairChanges {
                mirror_branch_regex: Some(None),
                mirror_trigger_builds: Some(false),
                description: Some("changed".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.mirror_branch_regex, None);
    assert!(!updated.mirror_trigger_builds);
    assert!(updated.mirror_overwrite_diverged);
    assert_eq!(updated.description, "changed");
    assert_eq!(updated.mirror_count, 2);
    assert_eq!(
        storage.get_pair(created.id).await.unwrap().unwrap(),
        updated
    );
    assert_eq!(
        storage
            .update_pair(created.id + 1000, &PairChanges::default())
            .await
            .unwrap(),
        None
    );
}

pub async fn pair_constraints_are_enforced(storage: Arc<dyn Storage>) {
    let a = create_instance(&storage, "A").await;
    let b = create_instance(&storage, "B").await;
    let ab = create_pair(&storage, "a-to-b", a.id, b.id).await;

    let error = storage
        .create_pair(&new_pair("a-to-b", b.id, a.id))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            StorageError::AlreadyExists {
                entity: "pair",
                field: "name"
            }
        ),
        "{error:?}"
    );
    let error = storage
        .create_pair(&new_pair("self", a.id, a.id))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, StorageError::CheckViolation { constraint } if constraint == "pairs_distinct_instances"),
        "{error:?}"
    );
    let error = storage
        .create_pair(&new_pair("dangling", a.id, b.id + 1000))
        .await
        .unwrap_err();
    assert!(matches!(error, StorageError::MissingReference), "{error:?}");
    let error = storage
        .create_pair(&new_pair(&"n".repeat(101), a.id, b.id))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, StorageError::CheckViolation { constraint } if constraint == "pairs_name_length"),
        "{error:?}"
    );
    let mut long_regex = new_pair("regex", a.id, b.id);
    long_regex.mirror_branch_regex = Some("a".repeat(256));
    let error = storage.create_pair(&long_regex).await.unwrap_err();
    assert!(
        matches!(&error, StorageError::CheckViolation { constraint } if constraint == "pairs_mirror_branch_regex_length"),
        "{error:?}"
    );
    // Limits count characters, not bytes: 100 multi-byte characters fit.
    create_pair(&storage, &"é".repeat(100), b.id, a.id).await;

    // An update cannot make a pair mirror an instance onto itself.
    let error = storage
        .update_pair(
            ab.id,
            &PairChanges {
                target_instance_id: Some(a.id),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&error, StorageError::CheckViolation { constraint } if constraint == "pairs_distinct_instances"),
        "{error:?}"
    );
}

pub async fn pair_fields_locked_once_mirrors_exist(storage: Arc<dyn Storage>) {
    let a = create_instance(&storage, "A").await;
    let b = create_instance(&storage, "B").await;
    let c = create_instance(&storage, "C").await;
    let pair = create_pair(&storage, "a-to-b", a.id, b.id).await;

    // Without mirrors everything can change.
    let moved = storage
        .update_pair(
            pair.id,
            &PairChanges {
                target_instance_id: Some(c.id),
                mirror_direction: Some(MirrorDirection::Pull),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(moved.target_instance_id, c.id);
    assert_eq!(moved.mirror_direction, MirrorDirection::Pull);

    add_mirror(&storage, pair.id, 1).await;
    for changes in [
        PairChanges {
            source_instance_id: Some(b.id),
            ..Default::default()
        },
        PairChanges {
            target_instance_id: Some(b.id),
            ..Default::default()
        },
        PairChanges {
            mirror_direction: Some(MirrorDirection::Push),
            ..Default::default()
        },
    ] {
        let error = storage.update_pair(pair.id, &changes).await.unwrap_err();
        assert!(
            matches!(error, StorageError::PairHasMirrors { mirror_count: 1 }),
            "{changes:?}: {error:?}"
        );
    }
    // Unchanged values and unlocked fields are accepted.
    let renamed = storage
        .update_pair(
            pair.id,
            &PairChanges {
                name: Some("renamed".into()),
                source_instance_id: Some(a.id),
                target_instance_id: Some(c.id),
                mirror_direction: Some(MirrorDirection::Pull),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(renamed.name, "renamed");
}

pub async fn pair_list_filters_orders_and_pages(storage: Arc<dyn Storage>) {
    let a = create_instance(&storage, "A").await;
    let b = create_instance(&storage, "B").await;
    let c = create_instance(&storage, "C").await;
    let specs = [
        ("p1", a.id, b.id, MirrorDirection::Push, "nightly"),
        ("p2", a.id, c.id, MirrorDirection::Pull, ""),
        ("p3", b.id, c.id, MirrorDirection::Push, "Nightly builds"),
        ("p4", c.id, a.id, MirrorDirection::Pull, ""),
        ("p5", b.id, a.id, MirrorDirection::Push, ""),
    ];
    for (name, source, target, direction, description) in specs {
        let mut pair = new_pair(name, source, target);
        pair.mirror_direction = direction;
        pair.description = description.into();
        storage.create_pair(&pair).await.unwrap();
    }
    let list = |filter: PairFilter, params: ListParams| {
        let storage = storage.clone();
        async move { storage.list_pairs(&filter, &params).await.unwrap() }
    };

    let page = list(PairFilter::default(), params(SortField::Name, false, 2)).await;
    assert_eq!(names(&page.items, |p| &p.name), ["p1", "p2"]);
    assert_eq!(page.total, 5);
    let page = list(
        PairFilter::default(),
        ListParams {
            after: page.next,
            ..params(SortField::Name, false, 2)
        },
    )
    .await;
    assert_eq!(names(&page.items, |p| &p.name), ["p3", "p4"]);
    let page = list(
        PairFilter::default(),
        ListParams {
            after: page.next,
            ..params(SortField::Name, false, 2)
        },
    )
    .await;
    assert_eq!(names(&page.items, |p| &p.name), ["p5"]);
    assert_eq!(page.next, None);

    let page = list(
        PairFilter {
            direction: Some(MirrorDirection::Push),
            ..Default::default()
        },
        params(SortField::Name, true, 50),
    )
    .await;
    assert_eq!(names(&page.items, |p| &p.name), ["p5", "p3", "p1"]);
    assert_eq!(page.total, 3);

    let page = list(
        PairFilter {
            source_instance_id: Some(b.id),
            direction: Some(MirrorDirection::Push),
            ..Default::default()
        },
        ListParams::default(),
    )
    .await;
    assert_eq!(names(&page.items, |p| &p.name), ["p3", "p5"]);

    let page = list(
        PairFilter {
            target_instance_id: Some(a.id),
            ..Default::default()
        },
        ListParams::default(),
    )
    .await;
    assert_eq!(names(&page.items, |p| &p.name), ["p4", "p5"]);

    let page = list(
        PairFilter {
            search: Some("NIGHTLY".into()),
            ..Default::default()
        },
        params(SortField::CreateTime, true, 1),
    )
    .await;
    assert_eq!(names(&page.items, |p| &p.name), ["p3"]);
    assert_eq!(page.total, 2);
    assert!(page.next.is_some());
}

pub async fn reverse_pair_lookup(storage: Arc<dyn Storage>) {
    let a = create_instance(&storage, "A").await;
    let b = create_instance(&storage, "B").await;
    let c = create_instance(&storage, "C").await;
    let ab = create_pair(&storage, "a-to-b", a.id, b.id).await;
    // For a new pair B→A the existing A→B is the reverse.
    assert_eq!(
        storage.find_reverse_pair(b.id, a.id, None).await.unwrap(),
        Some(ab.id)
    );
    assert_eq!(
        storage.find_reverse_pair(a.id, b.id, None).await.unwrap(),
        None
    );
    assert_eq!(
        storage.find_reverse_pair(c.id, a.id, None).await.unwrap(),
        None
    );
    let ba = create_pair(&storage, "b-to-a", b.id, a.id).await;
    assert_eq!(
        storage.find_reverse_pair(a.id, b.id, None).await.unwrap(),
        Some(ba.id)
    );
    // A pair is never its own reverse.
    assert_eq!(
        storage
            .find_reverse_pair(b.id, a.id, Some(ab.id))
            .await
            .unwrap(),
        None
    );
}

pub async fn pair_delete_removes_its_mirrors(storage: Arc<dyn Storage>) {
    let a = create_instance(&storage, "A").await;
    let b = create_instance(&storage, "B").await;
    let pair = create_pair(&storage, "a-to-b", a.id, b.id).await;
    add_mirror(&storage, pair.id, 1).await;
    add_mirror(&storage, pair.id, 2).await;
    assert_eq!(storage.delete_pair(pair.id).await.unwrap(), Some(2));
    assert_eq!(storage.get_pair(pair.id).await.unwrap(), None);
    assert_eq!(storage.count_mirrors(pair.id).await.unwrap(), 0);
    assert_eq!(storage.delete_pair(pair.id).await.unwrap(), None);
    assert_eq!(storage.instance_pair_count(a.id).await.unwrap(), 0);
}

pub async fn mirror_projects_are_unique_per_pair(storage: Arc<dyn Storage>) {
    let a = create_instance(&storage, "A").await;
    let b = create_instance(&storage, "B").await;
    let pair = create_pair(&storage, "a-to-b", a.id, b.id).await;
    let other = create_pair(&storage, "a-to-b-again", a.id, b.id).await;
    add_mirror(&storage, pair.id, 5).await;
    // The same projects in another pair are fine.
    add_mirror(&storage, other.id, 5).await;
    let error = storage
        .insert_mirror(&NewMirror {
            source_project_id: Some(5),
            target_project_id: Some(5 + 1_000_000_000_000),
            ..NewMirror::new(pair.id, "g/p", "m/p")
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            StorageError::AlreadyExists {
                entity: "mirror",
                ..
            }
        ),
        "{error:?}"
    );
    let error = storage
        .insert_mirror(&NewMirror::new(pair.id + 1000, "g/p", "m/p"))
        .await
        .unwrap_err();
    assert!(matches!(error, StorageError::MissingReference), "{error:?}");
}
