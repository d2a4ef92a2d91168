//! Instance conformance tests.

use std::sync::Arc;

use mm_storage::{
    Cursor, CursorKey, DeleteInstanceOutcome, InstanceChanges, InstanceFilter,
    InstanceVerification, ListParams, Sort, SortField, Storage, StorageError,
};

use super::{
    add_mirror, all_instance_pages, create_instance, create_pair, names, new_instance, params,
    sealer,
};

pub async fn instance_round_trip_seals_token_with_its_id(storage: Arc<dyn Storage>) {
    let created = create_instance(&storage, "Alpha").await;
    assert_eq!(created.encrypted_token, format!("v1:test:{}", created.id));
    assert_eq!(created.name, "Alpha");
    assert_eq!(created.url, "https://alpha.example.com");
    assert_eq!(created.description, "Alpha description");
    assert_eq!(created.pair_count, 0);
    assert_eq!(created.token_user_id, None);
    assert_eq!(created.create_time, created.update_time);
    // Timestamps are UTC with microsecond precision and survive a round trip unchanged.
    assert_eq!(created.create_time.timestamp_subsec_nanos() % 1000, 0);
    let fetched = storage.get_instance(created.id).await.unwrap().unwrap();
    assert_eq!(fetched, created);
    assert_eq!(storage.get_instance(created.id + 1000).await.unwrap(), None);

    // A failing sealer leaves no row behind.
    let failing = |_: i64| Err::<String, String>("no key".into());
    let error = storage
        .create_instance(&new_instance("Beta"), &failing)
        .await
        .unwrap_err();
    assert!(matches!(error, StorageError::Seal(_)));
    let page = storage
        .list_instances(&InstanceFilter::default(), &ListParams::default())
        .await
        .unwrap();
    assert_eq!(page.total, 1);
}

pub async fn instance_names_are_unique_on_create_and_update(storage: Arc<dyn Storage>) {
    create_instance(&storage, "Alpha").await;
    let beta = create_instance(&storage, "Beta").await;
    let error = storage
        .create_instance(&new_instance("Alpha"), &sealer)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            StorageError::AlreadyExists {
                entity: "instance",
                field: "name"
            }
        ),
        "{error:?}"
    );
    let error = storage
        .update_instance(
            beta.id,
            &InstanceChanges {
                name: Some("Alpha".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            StorageError::AlreadyExists {
                entity: "instance",
                field: "name"
            }
        ),
        "{error:?}"
    );
    // Case differs: a different name on both backends.
    create_instance(&storage, "alpha").await;
}

pub async fn instance_updates_merge_and_clear_stale_verification(storage: Arc<dyn Storage>) {
    let created = create_instance(&storage, "Alpha").await;
    let verification = InstanceVerification {
        token_user_id: Some(9_007_199_254_740_993),
        token_username: Some("root".into()),
        gitlab_version: Some("17.6.1".into()),
        gitlab_edition: Some("Enterprise".into()),
    };
    assert!(
        storage
            .record_instance_verification(created.id, &verification)
            .await
            .unwrap()
    );
    assert!(
        !storage
            .record_instance_verification(created.id + 1000, &verification)
            .await
            .unwrap()
    );
    let verified = storage.get_instance(created.id).await.unwrap().unwrap();
    assert_eq!(verified.token_user_id, Some(9_007_199_254_740_993));
    assert_eq!(verified.gitlab_version.as_deref(), Some("17.6.1"));
    assert!(verified.verify_time.is_some());

    // Description only: verification stays.
    let updated = storage
        .update_instance(
            created.id,
            &InstanceChanges {
                description: Some(String::new()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.description, "");
    assert_eq!(updated.name, "Alpha");
    assert_eq!(updated.gitlab_version.as_deref(), Some("17.6.1"));
    assert!(updated.update_time >= created.update_time);
    assert_eq!(
        storage.get_instance(created.id).await.unwrap().unwrap(),
        updated
    );

    // New token: the token owner is unknown again, the server facts stay.
    let updated = storage
        .update_instance(
            created.id,
            &InstanceChanges {
                encrypted_token: Some("v1:test:new".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.encrypted_token, "v1:test:new");
    assert_eq!(updated.token_user_id, None);
    assert_eq!(updated.token_username, None);
    assert_eq!(updated.gitlab_version.as_deref(), Some("17.6.1"));

    // New URL: everything learnt about the old server is cleared.
    let updated = storage
        .update_instance(
            created.id,
            &InstanceChanges {
                url: Some("https://other.example.com".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.url, "https://other.example.com");
    assert_eq!(updated.gitlab_version, None);
    assert_eq!(updated.verify_time, None);
    assert_eq!(
        storage.get_instance(created.id).await.unwrap().unwrap(),
        updated
    );

    assert_eq!(
        storage
            .update_instance(created.id + 1000, &InstanceChanges::default())
            .await
            .unwrap(),
        None
    );
}

pub async fn instance_list_filters_orders_and_pages(storage: Arc<dyn Storage>) {
    // Created in this order, so create_time and id order agree.
    let mut created = Vec::new();
    for name in ["delta", "Alpha", "charlie", "Bravo", "echo"] {
        created.push(create_instance(&storage, name).await);
    }
    let all = InstanceFilter::default();

    // Name order is byte-wise on both backends (upper case first).
    let page = storage
        .list_instances(&all, &params(SortField::Name, false, 50))
        .await
        .unwrap();
    assert_eq!(
        names(&page.items, |i| &i.name),
        ["Alpha", "Bravo", "charlie", "delta", "echo"]
    );
    assert_eq!(page.total, 5);
    assert_eq!(page.next, None);

    // Paging by two: three pages, every row once, total on every page.
    let pages = all_instance_pages(&storage, &all, params(SortField::Name, true, 2)).await;
    assert_eq!(pages.len(), 3);
    assert!(pages.iter().all(|p| p.total == 5));
    let seen: Vec<String> = pages
        .iter()
        .flat_map(|p| names(&p.items, |i| &i.name))
        .collect();
    assert_eq!(seen, ["echo", "delta", "charlie", "Bravo", "Alpha"]);
    assert_eq!(
        pages[0].next,
        Some(Cursor {
            key: CursorKey::Text("delta".into()),
            id: created[0].id
        })
    );

    for (field, descending) in [
        (SortField::Id, false),
        (SortField::Id, true),
        (SortField::CreateTime, false),
        (SortField::CreateTime, true),
        (SortField::UpdateTime, false),
    ] {
        let pages = all_instance_pages(&storage, &all, params(field, descending, 2)).await;
        let mut ids: Vec<i64> = pages
            .iter()
            .flat_map(|p| p.items.iter().map(|i| i.id))
            .collect();
        if descending {
            ids.reverse();
        }
        let expected: Vec<i64> = created.iter().map(|i| i.id).collect();
        assert_eq!(ids, expected, "{field:?} descending={descending}");
    }

    // Search is a case-insensitive substring of name, URL or description.
    let search = |text: &str| InstanceFilter {
        search: Some(text.into()),
    };
    let page = storage
        .list_instances(&search("ALP"), &ListParams::default())
        .await
        .unwrap();
    assert_eq!(names(&page.items, |i| &i.name), ["Alpha"]);
    let page = storage
        .list_instances(&search("bravo.example"), &ListParams::default())
        .await
        .unwrap();
    assert_eq!(names(&page.items, |i| &i.name), ["Bravo"]);
    let page = storage
        .list_instances(&search("description"), &params(SortField::Name, false, 2))
        .await
        .unwrap();
    assert_eq!(page.total, 5);
    assert_eq!(page.items.len(), 2);
    // LIKE wildcards are plain characters.
    let page = storage
        .list_instances(&search("%"), &ListParams::default())
        .await
        .unwrap();
    assert_eq!(page.total, 0);

    // A cursor of the wrong kind for the sort is an error, not a wrong page.
    let error = storage
        .list_instances(
            &all,
            &ListParams {
                sort: Sort {
                    field: SortField::CreateTime,
                    descending: false,
                },
                after: Some(Cursor {
                    key: CursorKey::Text("x".into()),
                    id: 1,
                }),
                limit: 2,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(error, StorageError::InvalidCursor));
}

pub async fn instance_url_is_locked_while_pairs_use_it(storage: Arc<dyn Storage>) {
    let a = create_instance(&storage, "A").await;
    let b = create_instance(&storage, "B").await;
    create_pair(&storage, "a-to-b", a.id, b.id).await;
    assert_eq!(storage.instance_pair_count(a.id).await.unwrap(), 1);
    assert_eq!(
        storage
            .get_instance(b.id)
            .await
            .unwrap()
            .unwrap()
            .pair_count,
        1
    );

    let error = storage
        .update_instance(
            b.id,
            &InstanceChanges {
                url: Some("https://moved.example.com".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        StorageError::InstanceInUse { pair_count: 1 }
    ));
    // Re-sending the same URL with other changes is fine.
    let updated = storage
        .update_instance(
            b.id,
            &InstanceChanges {
                url: Some(b.url.clone()),
                name: Some("B2".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.name, "B2");
}

pub async fn instance_delete_refuses_or_cascades(storage: Arc<dyn Storage>) {
    let a = create_instance(&storage, "A").await;
    let b = create_instance(&storage, "B").await;
    let c = create_instance(&storage, "C").await;
    let ab = create_pair(&storage, "a-to-b", a.id, b.id).await;
    create_pair(&storage, "c-to-a", c.id, a.id).await;
    let bc = create_pair(&storage, "b-to-c", b.id, c.id).await;
    add_mirror(&storage, ab.id, 1).await;
    add_mirror(&storage, ab.id, 2).await;

    assert_eq!(
        storage.delete_instance(a.id, false).await.unwrap(),
        DeleteInstanceOutcome::InUse { pair_count: 2 }
    );
    assert!(storage.get_instance(a.id).await.unwrap().is_some());
    assert_eq!(
        storage.delete_instance(a.id, true).await.unwrap(),
        DeleteInstanceOutcome::Deleted {
            deleted_pairs: 2,
            deleted_mirrors: 2
        }
    );
    assert_eq!(storage.get_instance(a.id).await.unwrap(), None);
    assert_eq!(storage.get_pair(ab.id).await.unwrap(), None);
    assert!(storage.get_pair(bc.id).await.unwrap().is_some());
    assert_eq!(storage.count_mirrors(ab.id).await.unwrap(), 0);
    assert_eq!(
        storage.delete_instance(a.id, true).await.unwrap(),
        DeleteInstanceOutcome::NotFound
    );

    let unused = create_instance(&storage, "D").await;
    assert_eq!(
        storage.delete_instance(unused.id, false).await.unwrap(),
        DeleteInstanceOutcome::Deleted {
            deleted_pairs: 0,
            deleted_mirrors: 0
        }
    );
}
