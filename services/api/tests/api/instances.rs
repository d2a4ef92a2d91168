use mm_api::testing::{SpawnOptions, TestBackend};
use mm_proto::v1;
use tonic::Code;

use crate::helpers::{TestApp, api_tests, assert_field, mask, spawn};

api_tests!(
    instance_create_get_update_delete,
    instance_list_pages_with_tokens_and_totals,
    instance_list_searches_and_orders,
    duplicate_instance_names_are_already_exists,
    private_urls_are_refused,
    empty_mask_updates_the_fields_that_are_set,
    url_is_locked_while_a_pair_uses_the_instance,
    delete_needs_force_while_pairs_use_the_instance,
    instance_changes_queue_verification_jobs,
);

async fn instance_create_get_update_delete(app: TestApp) {
    let mut client = app.instances();
    let created = client
        .create_instance(v1::CreateInstanceRequest {
            name: "  Primary GitLab  ".into(),
            url: " https://8.8.8.8/gitlab/ ".into(),
            description: "main".into(),
            token: " glpat-primary ".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .instance
        .unwrap();
    assert!(created.id > 0);
    assert_eq!(created.name, "Primary GitLab");
    assert_eq!(created.url, "https://8.8.8.8/gitlab");
    assert!(created.token_set);
    assert_eq!(created.pair_count, 0);
    assert_eq!(created.gitlab_version, None);
    assert!(created.create_time.is_some());

    let fetched = client
        .get_instance(v1::GetInstanceRequest { id: created.id })
        .await
        .unwrap()
        .into_inner()
        .instance
        .unwrap();
    assert_eq!(fetched, created);

    let updated = client
        .update_instance(v1::UpdateInstanceRequest {
            instance: Some(v1::Instance {
                id: created.id,
                name: "Renamed".into(),
                description: "ignored: not in the mask".into(),
                ..Default::default()
            }),
            token: String::new(),
            update_mask: mask(&["name"]),
        })
        .await
        .unwrap()
        .into_inner()
        .instance
        .unwrap();
    assert_eq!(updated.name, "Renamed");
    assert_eq!(updated.description, "main");
    assert_eq!(updated.url, created.url);

    // A named field set to its default clears it.
    let cleared = client
        .update_instance(v1::UpdateInstanceRequest {
            instance: Some(v1::Instance {
                id: created.id,
                ..Default::default()
            }),
            token: String::new(),
            update_mask: mask(&["instance.description"]),
        })
        .await
        .unwrap()
        .into_inner()
        .instance
        .unwrap();
    assert_eq!(cleared.description, "");

    let response = client
        .delete_instance(v1::DeleteInstanceRequest {
            id: created.id,
            force: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.deleted_pair_count, 0);
    let status = client
        .get_instance(v1::GetInstanceRequest { id: created.id })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let status = client
        .delete_instance(v1::DeleteInstanceRequest {
            id: created.id,
            force: true,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
}

async fn instance_list_pages_with_tokens_and_totals(app: TestApp) {
    for name in ["e", "a", "d", "b", "c"] {
        app.create_instance(name).await;
    }
    let mut client = app.instances();
    let mut names = Vec::new();
    let mut page_token = String::new();
    let mut pages = 0;
    loop {
        let response = client
            .list_instances(v1::ListInstancesRequest {
                page_size: 2,
                page_token: page_token.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(response.total_size, 5);
        names.extend(response.instances.into_iter().map(|i| i.name));
        pages += 1;
        if response.next_page_token.is_empty() {
            break;
        }
        page_token = response.next_page_token;
    }
    assert_eq!(pages, 3);
    assert_eq!(names, ["a", "b", "c", "d", "e"]);

    // A token only works with the request it came from.
    let first = client
        .list_instances(v1::ListInstancesRequest {
            page_size: 2,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let status = client
        .list_instances(v1::ListInstancesRequest {
            page_size: 2,
            page_token: first.next_page_token,
            order_by: "id desc".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_field(&status, Code::InvalidArgument, "page_token");

    // page_size 0 means 50.
    let all = client
        .list_instances(v1::ListInstancesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.instances.len(), 5);
    assert!(all.next_page_token.is_empty());
}

async fn instance_list_searches_and_orders(app: TestApp) {
    let alpha = app.create_instance("Alpha").await;
    let beta = app.create_instance("Beta").await;
    let gamma = app.create_instance("Gamma").await;
    let mut client = app.instances();
    let list = |search: &str, order_by: &str| v1::ListInstancesRequest {
        search: search.into(),
        order_by: order_by.into(),
        ..Default::default()
    };
    let names = |response: v1::ListInstancesResponse| {
        response
            .instances
            .into_iter()
            .map(|i| i.name)
            .collect::<Vec<_>>()
    };
    let response = client
        .list_instances(list("", "name desc"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(names(response), ["Gamma", "Beta", "Alpha"]);
    let response = client
        .list_instances(list("", "id"))
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<i64> = response.instances.iter().map(|i| i.id).collect();
    assert_eq!(ids, [alpha.id, beta.id, gamma.id]);
    let response = client
        .list_instances(list("", "create_time desc"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(names(response), ["Gamma", "Beta", "Alpha"]);
    // Case-insensitive, on name, URL and description.
    let response = client
        .list_instances(list("BET", ""))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.total_size, 1);
    assert_eq!(names(response), ["Beta"]);
    let response = client
        .list_instances(list("/gamma", ""))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(names(response), ["Gamma"]);
    let response = client
        .list_instances(list("instance", ""))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.total_size, 3);
}

async fn duplicate_instance_names_are_already_exists(app: TestApp) {
    app.create_instance("Prod").await;
    let other = app.create_instance("Staging").await;
    let mut client = app.instances();
    let status = client
        .create_instance(v1::CreateInstanceRequest {
            name: " Prod ".into(),
            url: "https://8.8.8.8".into(),
            description: String::new(),
            token: "glpat-x".into(),
        })
        .await
        .unwrap_err();
    assert_field(&status, Code::AlreadyExists, "name");
    let status = client
        .update_instance(v1::UpdateInstanceRequest {
            instance: Some(v1::Instance {
                id: other.id,
                name: "Prod".into(),
                ..Default::default()
            }),
            token: String::new(),
            update_mask: mask(&["name"]),
        })
        .await
        .unwrap_err();
    assert_field(&status, Code::AlreadyExists, "instance.name");
}

async fn private_urls_are_refused(app: TestApp) {
    let mut client = app.instances();
    for url in [
        "http://127.0.0.1:8080",
        "http://localhost",
        "http://10.0.0.5",
        "http://192.168.1.10",
        "http://169.254.169.254",
        "http://100.100.100.200",
        "http://metadata.google.internal",
        "http://[::1]",
        "http://[fd12::1]",
    ] {
        let status = client
            .create_instance(v1::CreateInstanceRequest {
                name: "internal".into(),
                url: url.into(),
                description: String::new(),
                token: "glpat-x".into(),
            })
            .await
            .unwrap_err();
        assert_field(&status, Code::InvalidArgument, "url");
    }
    let backend = match app.api.ctx.storage().backend() {
        mm_storage::Backend::Postgres => TestBackend::Postgres,
        mm_storage::Backend::Sqlite => TestBackend::Sqlite,
    };
    let Some(permissive) = spawn(
        backend,
        SpawnOptions {
            allow_private_ips: true,
        },
    )
    .await
    else {
        return;
    };
    let created = permissive
        .instances()
        .create_instance(v1::CreateInstanceRequest {
            name: "local simulator".into(),
            url: "http://127.0.0.1:8080".into(),
            description: String::new(),
            token: "glpat-x".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .instance
        .unwrap();
    assert_eq!(created.url, "http://127.0.0.1:8080");
}

async fn empty_mask_updates_the_fields_that_are_set(app: TestApp) {
    let created = app.create_instance("Alpha").await;
    let mut client = app.instances();
    let updated = client
        .update_instance(v1::UpdateInstanceRequest {
            instance: Some(v1::Instance {
                id: created.id,
                description: "new description".into(),
                ..Default::default()
            }),
            token: String::new(),
            update_mask: None,
        })
        .await
        .unwrap()
        .into_inner()
        .instance
        .unwrap();
    assert_eq!(updated.description, "new description");
    assert_eq!(updated.name, "Alpha");
    assert_eq!(updated.url, created.url);

    // Nothing set and no mask: nothing to do is a client error.
    let status = client
        .update_instance(v1::UpdateInstanceRequest {
            instance: Some(v1::Instance {
                id: created.id,
                ..Default::default()
            }),
            token: String::new(),
            update_mask: None,
        })
        .await
        .unwrap_err();
    assert_field(&status, Code::InvalidArgument, "update_mask");

    // The token alone.
    let updated = client
        .update_instance(v1::UpdateInstanceRequest {
            instance: Some(v1::Instance {
                id: created.id,
                ..Default::default()
            }),
            token: "glpat-rotated".into(),
            update_mask: None,
        })
        .await
        .unwrap()
        .into_inner()
        .instance
        .unwrap();
    assert!(updated.token_set);
    assert_eq!(updated.description, "new description");

    let status = client
        .update_instance(v1::UpdateInstanceRequest {
            instance: Some(v1::Instance {
                id: created.id + 1000,
                name: "x".into(),
                ..Default::default()
            }),
            token: String::new(),
            update_mask: None,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
}

async fn url_is_locked_while_a_pair_uses_the_instance(app: TestApp) {
    let a = app.create_instance("A").await;
    let b = app.create_instance("B").await;
    let pair = app.create_pair("a-to-b", a.id, b.id).await.pair.unwrap();
    let mut client = app.instances();
    let change_url = |id: i64, url: &str| v1::UpdateInstanceRequest {
        instance: Some(v1::Instance {
            id,
            url: url.into(),
            ..Default::default()
        }),
        token: String::new(),
        update_mask: mask(&["url"]),
    };
    let status = client
        .update_instance(change_url(b.id, "https://8.8.8.8/moved"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(status.message().contains("1 pair"), "{}", status.message());
    // The same URL is not a change.
    client
        .update_instance(change_url(b.id, &b.url))
        .await
        .unwrap();
    assert_eq!(
        client
            .get_instance(v1::GetInstanceRequest { id: a.id })
            .await
            .unwrap()
            .into_inner()
            .instance
            .unwrap()
            .pair_count,
        1
    );

    app.pairs()
        .delete_pair(v1::DeletePairRequest { id: pair.id })
        .await
        .unwrap();
    let moved = client
        .update_instance(change_url(b.id, "https://8.8.8.8/moved"))
        .await
        .unwrap()
        .into_inner()
        .instance
        .unwrap();
    assert_eq!(moved.url, "https://8.8.8.8/moved");
}

async fn delete_needs_force_while_pairs_use_the_instance(app: TestApp) {
    let a = app.create_instance("A").await;
    let b = app.create_instance("B").await;
    let c = app.create_instance("C").await;
    let ab = app.create_pair("a-to-b", a.id, b.id).await.pair.unwrap();
    app.create_pair("c-to-a", c.id, a.id).await;
    let bc = app.create_pair("b-to-c", b.id, c.id).await.pair.unwrap();
    app.api
        .ctx
        .storage()
        .insert_mirror(&mm_storage::NewMirror::new(ab.id, "g/p", "g/p"))
        .await
        .unwrap();

    let mut client = app.instances();
    let status = client
        .delete_instance(v1::DeleteInstanceRequest {
            id: a.id,
            force: false,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(status.message().contains("2 pair"), "{}", status.message());

    // A mirror in one of its pairs: a cleanup job removes it from GitLab, then the instance.
    let response = client
        .delete_instance(v1::DeleteInstanceRequest {
            id: a.id,
            force: true,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.deleted_pair_count, 0);
    assert!(response.warnings.is_empty(), "{:?}", response.warnings);
    let job = response.job.expect("a cleanup job");
    assert_eq!(
        (job.kind.as_str(), job.instance_id),
        ("instance.delete", Some(a.id))
    );
    assert_eq!(
        job.total, 2,
        "one mirror.delete and the final instance.remove"
    );
    let items = app
        .api
        .ctx
        .storage()
        .list_job_items(
            job.id,
            None,
            mm_storage::Window {
                offset: 0,
                limit: 10,
            },
        )
        .await
        .unwrap()
        .items;
    assert_eq!(items[0].task_kind, "mirror.delete");
    assert_eq!(items[1].task_kind, "instance.remove");
    assert_eq!(items[1].payload["instance_id"], a.id);
    let mut pairs = app.pairs();
    pairs
        .get_pair(v1::GetPairRequest { id: ab.id })
        .await
        .unwrap();
    let status = client
        .delete_instance(v1::DeleteInstanceRequest {
            id: a.id,
            force: true,
        })
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        Code::FailedPrecondition,
        "already being deleted"
    );

    // Without mirrors, force deletes the pairs with the instance at once.
    let response = client
        .delete_instance(v1::DeleteInstanceRequest {
            id: c.id,
            force: true,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.deleted_pair_count, 2);
    assert!(response.job.is_none());
    let status = pairs
        .get_pair(v1::GetPairRequest { id: bc.id })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    pairs
        .get_pair(v1::GetPairRequest { id: ab.id })
        .await
        .unwrap();
}

async fn instance_changes_queue_verification_jobs(app: TestApp) {
    let mut client = app.instances();
    let created = client
        .create_instance(v1::CreateInstanceRequest {
            name: "verified".into(),
            url: "https://8.8.8.8".into(),
            description: String::new(),
            token: "glpat-verify-me".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let instance = created.instance.unwrap();
    let job = created.verify_job.expect("a verification job");
    assert_eq!(
        (job.kind.as_str(), job.instance_id),
        ("instance.verify", Some(instance.id))
    );
    assert_eq!(job.state, v1::JobState::Queued as i32);
    let items = app
        .api
        .ctx
        .storage()
        .list_job_items(
            job.id,
            None,
            mm_storage::Window {
                offset: 0,
                limit: 10,
            },
        )
        .await
        .unwrap()
        .items;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].task_kind, "instance.verify");
    assert_eq!(
        items[0].payload,
        serde_json::json!({"instance_id": instance.id})
    );
    assert!(!format!("{job:?}").contains("glpat-verify-me"));

    let update = |instance: v1::Instance, token: &str, paths: &[&str]| v1::UpdateInstanceRequest {
        instance: Some(instance),
        token: token.to_owned(),
        update_mask: mask(paths),
    };
    let renamed = client
        .update_instance(update(
            v1::Instance {
                id: instance.id,
                name: "renamed".into(),
                ..Default::default()
            },
            "",
            &["name"],
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(
        renamed.verify_job.is_none(),
        "a new name needs no verification"
    );
    let same_url = client
        .update_instance(update(
            v1::Instance {
                id: instance.id,
                url: "https://8.8.8.8/".into(),
                ..Default::default()
            },
            "",
            &["url"],
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(same_url.verify_job.is_none(), "the URL did not change");
    for (instance, token, paths) in [
        (
            v1::Instance {
                id: instance.id,
                url: "https://8.8.4.4".into(),
                ..Default::default()
            },
            "",
            &["url"][..],
        ),
        (
            v1::Instance {
                id: instance.id,
                ..Default::default()
            },
            "glpat-new",
            &["token"][..],
        ),
    ] {
        let job = client
            .update_instance(update(instance, token, paths))
            .await
            .unwrap()
            .into_inner()
            .verify_job
            .expect("a new URL or token is verified");
        assert_eq!(job.kind, "instance.verify");
    }
}
