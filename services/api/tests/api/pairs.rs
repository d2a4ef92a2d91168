use mm_proto::v1;
use mm_storage::NewMirror;
use tonic::Code;

use crate::helpers::{TestApp, api_tests, assert_field, mask};

api_tests!(
    pair_create_get_update_delete,
    duplicate_pair_names_are_already_exists,
    reverse_pairs_are_allowed_with_a_warning,
    instances_and_direction_are_locked_once_mirrors_exist,
    pair_list_filters_and_pages,
    pair_instances_must_exist,
    deleting_a_pair_with_mirrors_starts_a_job,
    a_pair_without_mirrors_is_deleted_at_once,
);

async fn add_mirror(app: &TestApp, pair_id: i64, project_id: i64) {
    app.api
        .ctx
        .storage()
        .insert_mirror(&NewMirror::new(
            pair_id,
            format!("group/project-{project_id}"),
            format!("mirror/project-{project_id}"),
        ))
        .await
        .unwrap();
}

async fn pair_create_get_update_delete(app: TestApp) {
    let a = app.create_instance("A").await;
    let b = app.create_instance("B").await;
    let mut client = app.pairs();
    let response = client
        .create_pair(v1::CreatePairRequest {
            pair: Some(v1::Pair {
                name: " a to b ".into(),
                source_instance_id: a.id,
                target_instance_id: b.id,
                mirror_direction: v1::MirrorDirection::Pull as i32,
                mirror_trigger_builds: true,
                mirror_branch_regex: Some("^(main|release/.+)$".into()),
                description: "nightly".into(),
                // Ignored on create.
                id: 999,
                mirror_count: 7,
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(response.warnings.is_empty());
    assert_eq!(response.reverse_pair_id, None);
    let created = response.pair.unwrap();
    assert_ne!(created.id, 999);
    assert_eq!(created.name, "a to b");
    assert_eq!(created.mirror_direction, v1::MirrorDirection::Pull as i32);
    assert!(created.mirror_trigger_builds);
    assert!(!created.mirror_overwrite_diverged);
    assert_eq!(
        created.mirror_branch_regex.as_deref(),
        Some("^(main|release/.+)$")
    );
    assert_eq!(created.mirror_count, 0);

    let fetched = client
        .get_pair(v1::GetPairRequest { id: created.id })
        .await
        .unwrap()
        .into_inner()
        .pair
        .unwrap();
    assert_eq!(fetched, created);

    add_mirror(&app, created.id, 1).await;
    // A named optional field that is unset is cleared; unnamed fields stay.
    let updated = client
        .update_pair(v1::UpdatePairRequest {
            pair: Some(v1::Pair {
                id: created.id,
                mirror_overwrite_diverged: true,
                mirror_branch_regex: None,
                description: "not in the mask".into(),
                ..Default::default()
            }),
            update_mask: mask(&["mirror_overwrite_diverged", "pair.mirror_branch_regex"]),
        })
        .await
        .unwrap()
        .into_inner();
    let pair = updated.pair.unwrap();
    assert!(pair.mirror_overwrite_diverged);
    assert_eq!(pair.mirror_branch_regex, None);
    assert_eq!(pair.description, "nightly");
    assert_eq!(pair.mirror_count, 1);
    assert!(updated.warnings.is_empty());

    // With a mirror, a cleanup job deletes the pair (see deleting_a_pair_with_mirrors_starts_a_job);
    // its last step is emulated here.
    let response = client
        .delete_pair(v1::DeletePairRequest { id: created.id })
        .await
        .unwrap()
        .into_inner();
    assert!(response.warnings.is_empty());
    assert_eq!(response.job.unwrap().kind, "pair.delete");
    app.api.ctx.storage().delete_pair(created.id).await.unwrap();
    let status = client
        .get_pair(v1::GetPairRequest { id: created.id })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let status = client
        .delete_pair(v1::DeletePairRequest { id: created.id })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
}

async fn duplicate_pair_names_are_already_exists(app: TestApp) {
    let a = app.create_instance("A").await;
    let b = app.create_instance("B").await;
    app.create_pair("taken", a.id, b.id).await;
    let other = app.create_pair("other", a.id, b.id).await.pair.unwrap();
    let mut client = app.pairs();
    let status = client
        .create_pair(v1::CreatePairRequest {
            pair: Some(TestApp::pair_spec("taken", a.id, b.id)),
        })
        .await
        .unwrap_err();
    assert_field(&status, Code::AlreadyExists, "pair.name");
    let status = client
        .update_pair(v1::UpdatePairRequest {
            pair: Some(v1::Pair {
                id: other.id,
                name: "taken".into(),
                ..Default::default()
            }),
            update_mask: None,
        })
        .await
        .unwrap_err();
    assert_field(&status, Code::AlreadyExists, "pair.name");
}

async fn reverse_pairs_are_allowed_with_a_warning(app: TestApp) {
    let a = app.create_instance("A").await;
    let b = app.create_instance("B").await;
    let c = app.create_instance("C").await;
    let ab = app.create_pair("a-to-b", a.id, b.id).await.pair.unwrap();
    let response = app.create_pair("b-to-a", b.id, a.id).await;
    assert_eq!(response.reverse_pair_id, Some(ab.id));
    assert_eq!(response.warnings.len(), 1);
    assert!(response.warnings[0].contains("bidirectional"));

    // Moving a pair onto the reverse of another warns too.
    let cb = app.create_pair("c-to-b", c.id, b.id).await;
    assert!(cb.warnings.is_empty());
    let updated = app
        .pairs()
        .update_pair(v1::UpdatePairRequest {
            pair: Some(v1::Pair {
                id: cb.pair.unwrap().id,
                source_instance_id: b.id,
                target_instance_id: a.id,
                ..Default::default()
            }),
            update_mask: mask(&["source_instance_id", "target_instance_id"]),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.reverse_pair_id, Some(ab.id));
    assert_eq!(updated.warnings.len(), 1);
}

async fn instances_and_direction_are_locked_once_mirrors_exist(app: TestApp) {
    let a = app.create_instance("A").await;
    let b = app.create_instance("B").await;
    let c = app.create_instance("C").await;
    let pair = app.create_pair("a-to-b", a.id, b.id).await.pair.unwrap();
    add_mirror(&app, pair.id, 42).await;
    let mut client = app.pairs();
    for (field, value) in [
        ("source_instance_id", c.id),
        ("target_instance_id", c.id),
        ("mirror_direction", v1::MirrorDirection::Pull as i64),
    ] {
        let mut changed = v1::Pair {
            id: pair.id,
            ..Default::default()
        };
        match field {
            "source_instance_id" => changed.source_instance_id = value,
            "target_instance_id" => changed.target_instance_id = value,
            _ => changed.mirror_direction = value as i32,
        }
        let status = client
            .update_pair(v1::UpdatePairRequest {
                pair: Some(changed),
                update_mask: mask(&[field]),
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::FailedPrecondition, "{field}");
        assert!(status.message().contains("mirror"), "{}", status.message());
    }
    // Resending the current values with other changes is allowed.
    let updated = client
        .update_pair(v1::UpdatePairRequest {
            pair: Some(v1::Pair {
                id: pair.id,
                name: "renamed".into(),
                source_instance_id: a.id,
                target_instance_id: b.id,
                mirror_direction: v1::MirrorDirection::Push as i32,
                ..Default::default()
            }),
            update_mask: None,
        })
        .await
        .unwrap()
        .into_inner()
        .pair
        .unwrap();
    assert_eq!(updated.name, "renamed");
}

async fn pair_list_filters_and_pages(app: TestApp) {
    let a = app.create_instance("A").await;
    let b = app.create_instance("B").await;
    let c = app.create_instance("C").await;
    let mut client = app.pairs();
    for (name, source, target, direction) in [
        ("p1", a.id, b.id, v1::MirrorDirection::Push),
        ("p2", a.id, c.id, v1::MirrorDirection::Pull),
        ("p3", b.id, c.id, v1::MirrorDirection::Push),
        ("p4", c.id, a.id, v1::MirrorDirection::Pull),
    ] {
        let mut spec = TestApp::pair_spec(name, source, target);
        spec.mirror_direction = direction as i32;
        client
            .create_pair(v1::CreatePairRequest { pair: Some(spec) })
            .await
            .unwrap();
    }
    let list = |request: v1::ListPairsRequest| {
        let mut client = client.clone();
        async move { client.list_pairs(request).await.unwrap().into_inner() }
    };
    let names = |response: &v1::ListPairsResponse| {
        response
            .pairs
            .iter()
            .map(|p| p.name.clone())
            .collect::<Vec<_>>()
    };

    let first = list(v1::ListPairsRequest {
        page_size: 3,
        order_by: "name desc".into(),
        ..Default::default()
    })
    .await;
    assert_eq!(names(&first), ["p4", "p3", "p2"]);
    assert_eq!(first.total_size, 4);
    let second = list(v1::ListPairsRequest {
        page_size: 3,
        order_by: "name desc".into(),
        page_token: first.next_page_token.clone(),
        ..Default::default()
    })
    .await;
    assert_eq!(names(&second), ["p1"]);
    assert!(second.next_page_token.is_empty());

    let pulls = list(v1::ListPairsRequest {
        mirror_direction: v1::MirrorDirection::Pull as i32,
        ..Default::default()
    })
    .await;
    assert_eq!(names(&pulls), ["p2", "p4"]);
    let from_a = list(v1::ListPairsRequest {
        source_instance_id: a.id,
        ..Default::default()
    })
    .await;
    assert_eq!(names(&from_a), ["p1", "p2"]);
    let to_c_push = list(v1::ListPairsRequest {
        target_instance_id: c.id,
        mirror_direction: v1::MirrorDirection::Push as i32,
        ..Default::default()
    })
    .await;
    assert_eq!(names(&to_c_push), ["p3"]);
    assert_eq!(to_c_push.total_size, 1);

    // A token from one filter is refused with another.
    let status = client
        .list_pairs(v1::ListPairsRequest {
            page_size: 3,
            order_by: "name desc".into(),
            page_token: first.next_page_token,
            source_instance_id: a.id,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_field(&status, Code::InvalidArgument, "page_token");
}

async fn pair_instances_must_exist(app: TestApp) {
    let a = app.create_instance("A").await;
    let mut client = app.pairs();
    let status = client
        .create_pair(v1::CreatePairRequest {
            pair: Some(TestApp::pair_spec("p", a.id, a.id + 100)),
        })
        .await
        .unwrap_err();
    assert_field(&status, Code::NotFound, "pair.target_instance_id");
    let status = client
        .create_pair(v1::CreatePairRequest {
            pair: Some(TestApp::pair_spec("p", a.id + 100, a.id)),
        })
        .await
        .unwrap_err();
    assert_field(&status, Code::NotFound, "pair.source_instance_id");

    let b = app.create_instance("B").await;
    let pair = app.create_pair("p", a.id, b.id).await.pair.unwrap();
    let status = client
        .update_pair(v1::UpdatePairRequest {
            pair: Some(v1::Pair {
                id: pair.id,
                target_instance_id: b.id + 100,
                ..Default::default()
            }),
            update_mask: mask(&["target_instance_id"]),
        })
        .await
        .unwrap_err();
    assert_field(&status, Code::NotFound, "pair.target_instance_id");
}

async fn deleting_a_pair_with_mirrors_starts_a_job(app: TestApp) {
    use mm_storage::{ItemOutcome, ItemState, MirrorLifecycle, Window};

    let a = app.create_instance("A").await;
    let b = app.create_instance("B").await;
    let pair = app.create_pair("a-to-b", a.id, b.id).await.pair.unwrap();
    add_mirror(&app, pair.id, 1).await;
    add_mirror(&app, pair.id, 2).await;
    let storage = app.api.ctx.storage().clone();
    let outbox_before = storage.outbox_len().await.unwrap();

    let mut client = app.pairs();
    let response = client
        .delete_pair(v1::DeletePairRequest { id: pair.id })
        .await
        .unwrap()
        .into_inner();
    let job = response
        .job
        .expect("a pair with mirrors is removed by a job");
    assert_eq!(job.kind, "pair.delete");
    assert_eq!((job.pair_id, job.total), (Some(pair.id), 3));
    assert_eq!(storage.outbox_len().await.unwrap(), outbox_before + 3);
    let items = storage
        .list_job_items(
            job.id,
            None,
            Window {
                offset: 0,
                limit: 10,
            },
        )
        .await
        .unwrap()
        .items;
    let tasks: Vec<&str> = items.iter().map(|item| item.task_kind.as_str()).collect();
    assert_eq!(tasks, ["mirror.delete", "mirror.delete", "pair.remove"]);
    assert_eq!(items[2].payload["pair_id"], pair.id);
    for mirror in storage.pair_mirrors(pair.id).await.unwrap() {
        assert_eq!(mirror.lifecycle, MirrorLifecycle::Deleting);
    }

    // The pair stays until the job's items have finished.
    client
        .get_pair(v1::GetPairRequest { id: pair.id })
        .await
        .unwrap();
    let status = client
        .delete_pair(v1::DeletePairRequest { id: pair.id })
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        Code::FailedPrecondition,
        "already being deleted"
    );
    let status = app
        .mirrors()
        .create_mirror(v1::CreateMirrorRequest {
            pair_id: pair.id,
            source_project_path: "group/new".into(),
            target_project_path: "mirror/new".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        Code::FailedPrecondition,
        "no new mirrors meanwhile"
    );
    let succeeded = ItemOutcome {
        state: ItemState::Succeeded,
        error: None,
        warnings: vec![],
        result: serde_json::json!({}),
        duration_ms: 1,
    };
    for item in &items[..2] {
        storage.start_job_item(item.id).await.unwrap();
        storage.finish_job_item(item.id, &succeeded).await.unwrap();
    }
    client
        .get_pair(v1::GetPairRequest { id: pair.id })
        .await
        .unwrap();
}

async fn a_pair_without_mirrors_is_deleted_at_once(app: TestApp) {
    let a = app.create_instance("A").await;
    let b = app.create_instance("B").await;
    let pair = app.create_pair("a-to-b", a.id, b.id).await.pair.unwrap();
    let mut client = app.pairs();
    let response = client
        .delete_pair(v1::DeletePairRequest { id: pair.id })
        .await
        .unwrap()
        .into_inner();
    assert!(response.job.is_none());
    assert!(response.warnings.is_empty());
    let status = client
        .get_pair(v1::GetPairRequest { id: pair.id })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
}
