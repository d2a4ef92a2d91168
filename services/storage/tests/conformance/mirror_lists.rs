//! Mirror list conformance tests: filters combined with paging, every sort in both
//! directions, token status boundaries and the group tree.

use std::sync::Arc;

use chrono::Duration;
use mm_storage::{
    Mirror, MirrorChanges, MirrorFilter, MirrorGroupSummary, MirrorLifecycle, MirrorListParams,
    MirrorProvisioning, MirrorSortField, NewMirror, Storage, TokenStatus,
};

use super::{
    create_instance, create_item, create_pair,
    mirrors::{at, list, now, status, tick, window},
    new_job, setup_pair,
};

/// Mirrors of the list tests, in id order (all created by one job, so they share create_time):
///
/// | # | source                   | target                        | status   | lifecycle | enabled |
/// |---|--------------------------|-------------------------------|----------|-----------|---------|
/// | 0 | platform/backend/api     | mirror/backend/api            | failed   | ready     | yes     |
/// | 1 | platform/backend/sub/x   | mirror/x                      | finished | ready     | yes     |
/// | 2 | platform/backend-old/x   | mirror/old-x                  | failed   | ready     | yes     |
/// | 3 | Zeta/App                 | mirror/zeta                   | —        | ready     | yes     |
/// | 4 | alpha/app                | platform/backend/target-side  | started  | creating  | yes     |
/// | 5 | alpha/app                | mirror/alpha-2                | failed   | creating  | yes     |
/// | 6 | beta/Tool                | mirror/tool                   | —        | creating  | no      |
/// | 7 | platform/backend         | mirror/exact                  | finished | creating  | yes     |
async fn list_fixture(storage: &Arc<dyn Storage>) -> (i64, Vec<i64>) {
    let pair = setup_pair(storage).await;
    let rows = [
        ("platform/backend/api", "mirror/backend/api", Some("failed")),
        ("platform/backend/sub/x", "mirror/x", Some("finished")),
        ("platform/backend-old/x", "mirror/old-x", Some("failed")),
        ("Zeta/App", "mirror/zeta", None),
        ("alpha/app", "platform/backend/target-side", Some("started")),
        ("alpha/app", "mirror/alpha-2", Some("failed")),
        ("beta/Tool", "mirror/tool", None),
        ("platform/backend", "mirror/exact", Some("finished")),
    ];
    let job = new_job(
        "pair.import",
        Some(pair.id),
        rows.iter()
            .map(|(source, target, _)| create_item(pair.id, source, target))
            .collect(),
    );
    let created = storage.create_job(&job).await.unwrap();
    let ids = created.new_mirror_ids;
    for (index, (_, _, last_status)) in rows.iter().enumerate() {
        let mut update = status(*last_status, now());
        update.enabled = Some(index != 6);
        assert!(
            storage
                .record_mirror_status(ids[index], &update)
                .await
                .unwrap()
        );
        if index < 4 {
            tick().await;
            let ready = MirrorProvisioning {
                lifecycle: Some(MirrorLifecycle::Ready),
                ..Default::default()
            };
            storage
                .record_mirror_provisioning(ids[index], &ready)
                .await
                .unwrap();
        }
    }
    (pair.id, ids)
}

pub async fn mirror_list_filters_combine_with_paging(storage: Arc<dyn Storage>) {
    let (pair_id, m) = list_fixture(&storage).await;
    // Another pair's mirrors never show up under the pair filter.
    let c = create_instance(&storage, "C").await;
    let d = create_instance(&storage, "D").await;
    let other = create_pair(&storage, "c-to-d", c.id, d.id).await;
    let foreign = storage
        .insert_mirror(&NewMirror::new(
            other.id,
            "platform/backend/api",
            "mirror/api",
        ))
        .await
        .unwrap();

    let in_pair = |filter: MirrorFilter| MirrorFilter {
        pair_id: Some(pair_id),
        ..filter
    };
    let all = window(100, 0);
    let cases: Vec<(MirrorFilter, Vec<i64>)> = vec![
        (in_pair(MirrorFilter::default()), m.clone()),
        (
            in_pair(MirrorFilter {
                status: Some("failed".into()),
                ..Default::default()
            }),
            vec![m[0], m[2], m[5]],
        ),
        (
            in_pair(MirrorFilter {
                status: Some("unknown".into()),
                ..Default::default()
            }),
            vec![m[3], m[6]],
        ),
        (
            in_pair(MirrorFilter {
                enabled: Some(false),
                ..Default::default()
            }),
            vec![m[6]],
        ),
        (
            in_pair(MirrorFilter {
                lifecycle: Some(MirrorLifecycle::Ready),
                ..Default::default()
            }),
            vec![m[0], m[1], m[2], m[3]],
        ),
        (
            in_pair(MirrorFilter {
                lifecycle: Some(MirrorLifecycle::Deleting),
                ..Default::default()
            }),
            vec![],
        ),
        // Search: case-insensitive substring of the source or the target path.
        (
            in_pair(MirrorFilter {
                search: Some("APP".into()),
                ..Default::default()
            }),
            vec![m[3], m[4], m[5]],
        ),
        (
            in_pair(MirrorFilter {
                search: Some("Backend".into()),
                ..Default::default()
            }),
            vec![m[0], m[1], m[2], m[4], m[7]],
        ),
        (
            in_pair(MirrorFilter {
                search: Some("%".into()),
                ..Default::default()
            }),
            vec![],
        ),
        (
            in_pair(MirrorFilter {
                search: Some(String::new()),
                ..Default::default()
            }),
            m.clone(),
        ),
        // Group prefix: under `P/` in the source or the target; not `P-old/…`, not `P` itself.
        (
            in_pair(MirrorFilter {
                group_prefix: Some("platform/backend".into()),
                ..Default::default()
            }),
            vec![m[0], m[1], m[4]],
        ),
        (
            in_pair(MirrorFilter {
                group_prefix: Some("platform/backend/".into()),
                ..Default::default()
            }),
            vec![m[0], m[1], m[4]],
        ),
        (
            in_pair(MirrorFilter {
                group_prefix: Some("platform".into()),
                ..Default::default()
            }),
            vec![m[0], m[1], m[2], m[4], m[7]],
        ),
        (
            in_pair(MirrorFilter {
                group_prefix: Some("Platform".into()),
                ..Default::default()
            }),
            vec![],
        ),
        // Combined.
        (
            in_pair(MirrorFilter {
                group_prefix: Some("platform/backend".into()),
                status: Some("failed".into()),
                ..Default::default()
            }),
            vec![m[0]],
        ),
        (
            in_pair(MirrorFilter {
                search: Some("app".into()),
                lifecycle: Some(MirrorLifecycle::Creating),
                status: Some("failed".into()),
                enabled: Some(true),
                ..Default::default()
            }),
            vec![m[5]],
        ),
        // Without the pair filter the other pair's mirror matches too.
        (
            MirrorFilter {
                group_prefix: Some("platform/backend".into()),
                ..Default::default()
            },
            vec![m[0], m[1], m[4], foreign.id],
        ),
    ];
    for (filter, expected) in cases {
        let (found, total) = list(&storage, &filter, &all).await;
        assert_eq!(found, expected, "{filter:?}");
        assert_eq!(total, expected.len() as i64, "{filter:?}");
    }

    // Filters apply before paging, and the total counts every match.
    let creating = in_pair(MirrorFilter {
        lifecycle: Some(MirrorLifecycle::Creating),
        ..Default::default()
    });
    let by_source = |limit, offset| MirrorListParams {
        sort: MirrorSortField::SourcePath,
        descending: false,
        limit,
        offset,
    };
    assert_eq!(
        list(&storage, &creating, &by_source(2, 0)).await,
        (vec![m[4], m[5]], 4)
    );
    assert_eq!(
        list(&storage, &creating, &by_source(2, 1)).await,
        (vec![m[5], m[6]], 4)
    );
    assert_eq!(
        list(&storage, &creating, &by_source(2, 3)).await,
        (vec![m[7]], 4)
    );
    assert_eq!(
        list(&storage, &creating, &by_source(2, 4)).await,
        (vec![], 4)
    );
    assert_eq!(
        list(&storage, &creating, &by_source(2, 1000)).await,
        (vec![], 4)
    );
    // A limit of 0 still returns one row.
    assert_eq!(
        list(&storage, &creating, &by_source(0, 0)).await,
        (vec![m[4]], 4)
    );
    let failed_page = list(
        &storage,
        &in_pair(MirrorFilter {
            status: Some("failed".into()),
            ..Default::default()
        }),
        &window(1, 1),
    )
    .await;
    assert_eq!(failed_page, (vec![m[2]], 3));
}

/// The expected order of `mirrors` for a sort: the key, then id, both in the same direction;
/// text byte-wise; a missing status before any status ascending.
fn expected_order(mirrors: &[Mirror], sort: MirrorSortField, descending: bool) -> Vec<i64> {
    let mut sorted: Vec<&Mirror> = mirrors.iter().collect();
    sorted.sort_by(|a, b| {
        let key = match sort {
            MirrorSortField::CreateTime => a.create_time.cmp(&b.create_time),
            MirrorSortField::UpdateTime => a.update_time.cmp(&b.update_time),
            MirrorSortField::SourcePath => a
                .source_project_path
                .as_bytes()
                .cmp(b.source_project_path.as_bytes()),
            MirrorSortField::TargetPath => a
                .target_project_path
                .as_bytes()
                .cmp(b.target_project_path.as_bytes()),
            // `None < Some(_)`: NULLs first ascending.
            MirrorSortField::Status => a.last_update_status.cmp(&b.last_update_status),
        };
        key.then(a.id.cmp(&b.id))
    });
    if descending {
        sorted.reverse();
    }
    sorted.into_iter().map(|mirror| mirror.id).collect()
}

pub async fn mirror_list_sorts_both_directions_with_tie_break(storage: Arc<dyn Storage>) {
    let (pair_id, m) = list_fixture(&storage).await;
    // Distinct update times for two of the mirrors created together.
    for id in [m[5], m[6]] {
        tick().await;
        storage
            .update_mirror(
                id,
                &MirrorChanges {
                    mirror_trigger_builds: Some(Some(true)),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
    tick().await;
    // Created later, alone.
    let late = storage
        .insert_mirror(&NewMirror::new(pair_id, "alpha/app", "a-first"))
        .await
        .unwrap();
    let filter = MirrorFilter {
        pair_id: Some(pair_id),
        ..Default::default()
    };
    let mirrors = storage.pair_mirrors(pair_id).await.unwrap();
    assert_eq!(mirrors.len(), 9);

    // Spelled out once: byte-wise (upper case before lower case, '-' before '/'), ties by id.
    let by_source = MirrorListParams {
        sort: MirrorSortField::SourcePath,
        ..window(100, 0)
    };
    assert_eq!(
        list(&storage, &filter, &by_source).await.0,
        [m[3], m[4], m[5], late.id, m[6], m[7], m[2], m[0], m[1]]
    );
    let by_status = MirrorListParams {
        sort: MirrorSortField::Status,
        ..window(100, 0)
    };
    assert_eq!(
        list(&storage, &filter, &by_status).await.0,
        [m[3], m[6], late.id, m[0], m[2], m[5], m[1], m[7], m[4]]
    );
    let by_status_descending = MirrorListParams {
        descending: true,
        ..by_status
    };
    assert_eq!(
        list(&storage, &filter, &by_status_descending).await.0,
        [m[4], m[7], m[1], m[5], m[2], m[0], late.id, m[6], m[3]]
    );
    // Created by one job: the same create_time, so id decides.
    let by_create = MirrorListParams {
        sort: MirrorSortField::CreateTime,
        descending: true,
        ..window(100, 0)
    };
    assert_eq!(
        list(&storage, &filter, &by_create).await.0,
        [late.id, m[7], m[6], m[5], m[4], m[3], m[2], m[1], m[0]]
    );

    for sort in [
        MirrorSortField::CreateTime,
        MirrorSortField::UpdateTime,
        MirrorSortField::SourcePath,
        MirrorSortField::TargetPath,
        MirrorSortField::Status,
    ] {
        for descending in [false, true] {
            let expected = expected_order(&mirrors, sort, descending);
            let whole = MirrorListParams {
                sort,
                descending,
                offset: 0,
                limit: 100,
            };
            assert_eq!(
                list(&storage, &filter, &whole).await,
                (expected.clone(), 9),
                "{sort:?} descending={descending}"
            );
            // Pages of 2 put together give the same order.
            let mut paged = Vec::new();
            for offset in (0..9).step_by(2) {
                let page = MirrorListParams {
                    offset,
                    limit: 2,
                    ..whole.clone()
                };
                let (found, total) = list(&storage, &filter, &page).await;
                assert_eq!(total, 9);
                paged.extend(found);
            }
            assert_eq!(paged, expected, "{sort:?} descending={descending} paged");
        }
    }
}

pub async fn mirror_token_status_boundaries(storage: Arc<dyn Storage>) {
    let pair = setup_pair(&storage).await;
    let t = at("2030-01-01T00:00:00Z");
    let micro = Duration::microseconds(1);
    let expiries = [
        ("none", None),
        ("long-expired", Some(t - Duration::days(400))),
        ("just-expired", Some(t - micro)),
        ("expires-now", Some(t)),
        ("soon-start", Some(t + micro)),
        ("soon-middle", Some(t + Duration::days(10))),
        ("soon-end", Some(t + Duration::days(30))),
        ("active-start", Some(t + Duration::days(30) + micro)),
        ("active-later", Some(t + Duration::days(365))),
    ];
    let mut ids = Vec::new();
    for (name, expires) in expiries {
        let mirror = storage
            .insert_mirror(&NewMirror::new(pair.id, format!("g/{name}"), "m/x"))
            .await
            .unwrap();
        storage
            .record_mirror_provisioning(
                mirror.id,
                &MirrorProvisioning {
                    mirror_token_expire_time: expires,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        ids.push(mirror.id);
    }
    let with_status = |token_status| MirrorFilter {
        pair_id: Some(pair.id),
        token_status: Some(token_status),
        now: Some(t),
        ..Default::default()
    };
    let all = window(100, 0);
    assert_eq!(
        list(&storage, &with_status(TokenStatus::None), &all).await,
        (vec![ids[0]], 1)
    );
    assert_eq!(
        list(&storage, &with_status(TokenStatus::Expired), &all).await,
        (vec![ids[1], ids[2], ids[3]], 3)
    );
    assert_eq!(
        list(&storage, &with_status(TokenStatus::ExpiringSoon), &all).await,
        (vec![ids[4], ids[5], ids[6]], 3)
    );
    assert_eq!(
        list(&storage, &with_status(TokenStatus::Active), &all).await,
        (vec![ids[7], ids[8]], 2)
    );
    // Another instant, another answer: 20 days later "soon-middle" has expired too.
    let later = MirrorFilter {
        now: Some(t + Duration::days(20)),
        ..with_status(TokenStatus::Expired)
    };
    assert_eq!(
        list(&storage, &later, &all).await,
        (vec![ids[1], ids[2], ids[3], ids[4], ids[5]], 5)
    );
    // Without `now`, the current time decides.
    let real = storage
        .insert_mirror(&NewMirror::new(pair.id, "g/real", "m/x"))
        .await
        .unwrap();
    storage
        .record_mirror_provisioning(
            real.id,
            &MirrorProvisioning {
                mirror_token_expire_time: Some(now() + Duration::days(10)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let current = |token_status| MirrorFilter {
        now: None,
        ..with_status(token_status)
    };
    let soon = list(&storage, &current(TokenStatus::ExpiringSoon), &all)
        .await
        .0;
    assert!(soon.contains(&real.id), "{soon:?}");
    for other in [TokenStatus::Active, TokenStatus::Expired, TokenStatus::None] {
        let found = list(&storage, &current(other), &all).await.0;
        assert!(!found.contains(&real.id), "{other:?}: {found:?}");
    }
}

pub async fn mirror_group_tree_counts_every_ancestor(storage: Arc<dyn Storage>) {
    let pair = setup_pair(&storage).await;
    let rows = [
        ("a/b/c/p1", "m/1", Some("failed")),
        ("a/b/p2", "m/2", Some("finished")),
        ("a/x/p3", "m/3", Some("failed")),
        // The same source twice: two mirrors.
        ("a/x/p3", "m/3b", None),
        ("d/p4", "m/4", None),
        ("solo", "m/5", Some("failed")),
        ("a-b/p6", "m/6", Some("failed")),
    ];
    for (source, target, last_status) in rows {
        let mirror = storage
            .insert_mirror(&NewMirror::new(pair.id, source, target))
            .await
            .unwrap();
        storage
            .record_mirror_status(mirror.id, &status(last_status, now()))
            .await
            .unwrap();
    }
    // Another pair's mirrors stay out under a pair filter.
    let c = create_instance(&storage, "C").await;
    let d = create_instance(&storage, "D").await;
    let other = create_pair(&storage, "c-to-d", c.id, d.id).await;
    storage
        .insert_mirror(&NewMirror::new(other.id, "a/b/q", "m/q"))
        .await
        .unwrap();

    let group = |path: &str, mirror_count, failed_count| MirrorGroupSummary {
        path: path.to_owned(),
        mirror_count,
        failed_count,
    };
    let in_pair = MirrorFilter {
        pair_id: Some(pair.id),
        ..Default::default()
    };
    assert_eq!(
        storage.mirror_group_tree(&in_pair).await.unwrap(),
        [
            group("a", 4, 2),
            group("a-b", 1, 1),
            group("a/b", 2, 1),
            group("a/b/c", 1, 1),
            group("a/x", 2, 1),
            group("d", 1, 0),
        ]
    );
    assert_eq!(
        storage
            .mirror_group_tree(&MirrorFilter::default())
            .await
            .unwrap()[..3],
        [group("a", 5, 2), group("a-b", 1, 1), group("a/b", 3, 1)]
    );
    let failed = MirrorFilter {
        status: Some("failed".into()),
        ..in_pair.clone()
    };
    assert_eq!(
        storage.mirror_group_tree(&failed).await.unwrap(),
        [
            group("a", 2, 2),
            group("a-b", 1, 1),
            group("a/b", 1, 1),
            group("a/b/c", 1, 1),
            group("a/x", 1, 1),
        ]
    );
    let under_a_b = MirrorFilter {
        group_prefix: Some("a/b".into()),
        ..in_pair.clone()
    };
    assert_eq!(
        storage.mirror_group_tree(&under_a_b).await.unwrap(),
        [group("a", 2, 1), group("a/b", 2, 1), group("a/b/c", 1, 1)]
    );
    let nothing = MirrorFilter {
        pair_id: Some(pair.id + 1000),
        ..Default::default()
    };
    assert!(
        storage
            .mirror_group_tree(&nothing)
            .await
            .unwrap()
            .is_empty()
    );
}
