//! Every kind of bad input is InvalidArgument with BadRequest details naming the field.

use mm_proto::v1;
use tonic::Code;

use crate::helpers::{TestApp, api_tests, assert_field, mask};

api_tests!(
    bad_instance_creations_name_the_field,
    bad_ids_name_the_field,
    bad_list_requests_name_the_field,
    bad_instance_updates_name_the_field,
    bad_pairs_name_the_field,
);

fn instance(name: &str, url: &str, token: &str, description: &str) -> v1::CreateInstanceRequest {
    v1::CreateInstanceRequest {
        name: name.into(),
        url: url.into(),
        description: description.into(),
        token: token.into(),
    }
}

async fn bad_instance_creations_name_the_field(app: TestApp) {
    let ok_url = "https://8.8.8.8";
    let cases = [
        (instance("", ok_url, "t", ""), "name"),
        (instance("   ", ok_url, "t", ""), "name"),
        (instance(&"n".repeat(101), ok_url, "t", ""), "name"),
        (instance("n", "", "t", ""), "url"),
        (instance("n", "gitlab.example.com", "t", ""), "url"),
        (instance("n", "ftp://8.8.8.8", "t", ""), "url"),
        (instance("n", "https://user:pw@8.8.8.8", "t", ""), "url"),
        (instance("n", "https://8.8.8.8:0", "t", ""), "url"),
        (instance("n", "https://8.8.8.8:65536", "t", ""), "url"),
        (
            instance(
                "n",
                &format!("https://8.8.8.8/{}", "p".repeat(500)),
                "t",
                "",
            ),
            "url",
        ),
        (instance("n", ok_url, "", ""), "token"),
        (instance("n", ok_url, "  ", ""), "token"),
        (instance("n", ok_url, &"t".repeat(1001), ""), "token"),
        (instance("n", ok_url, "two words", ""), "token"),
        (instance("n", ok_url, "t", &"d".repeat(501)), "description"),
    ];
    let mut client = app.instances();
    for (request, field) in cases {
        let status = client.create_instance(request.clone()).await.unwrap_err();
        assert_field(&status, Code::InvalidArgument, field);
    }
    // All bad fields are reported at once.
    let status = client
        .create_instance(instance("", "ftp://x", "", ""))
        .await
        .unwrap_err();
    for field in ["name", "url", "token"] {
        assert_field(&status, Code::InvalidArgument, field);
    }
    // Nothing was created by any of them.
    let list = client
        .list_instances(v1::ListInstancesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(list.total_size, 0);
}

async fn bad_ids_name_the_field(app: TestApp) {
    let mut instances = app.instances();
    let mut pairs = app.pairs();
    for id in [0, -1, i64::MIN] {
        let status = instances
            .get_instance(v1::GetInstanceRequest { id })
            .await
            .unwrap_err();
        assert_field(&status, Code::InvalidArgument, "id");
        let status = instances
            .delete_instance(v1::DeleteInstanceRequest { id, force: true })
            .await
            .unwrap_err();
        assert_field(&status, Code::InvalidArgument, "id");
        let status = pairs.get_pair(v1::GetPairRequest { id }).await.unwrap_err();
        assert_field(&status, Code::InvalidArgument, "id");
        let status = pairs
            .delete_pair(v1::DeletePairRequest { id })
            .await
            .unwrap_err();
        assert_field(&status, Code::InvalidArgument, "id");
        let status = pairs
            .update_pair(v1::UpdatePairRequest {
                pair: Some(v1::Pair {
                    id,
                    name: "x".into(),
                    ..Default::default()
                }),
                update_mask: None,
            })
            .await
            .unwrap_err();
        assert_field(&status, Code::InvalidArgument, "pair.id");
    }
    let status = instances
        .update_instance(v1::UpdateInstanceRequest {
            instance: None,
            token: String::new(),
            update_mask: None,
        })
        .await
        .unwrap_err();
    assert_field(&status, Code::InvalidArgument, "instance");
}

async fn bad_list_requests_name_the_field(app: TestApp) {
    let mut instances = app.instances();
    let mut pairs = app.pairs();
    let cases = [
        (
            v1::ListInstancesRequest {
                page_size: 201,
                ..Default::default()
            },
            "page_size",
        ),
        (
            v1::ListInstancesRequest {
                page_size: -1,
                ..Default::default()
            },
            "page_size",
        ),
        (
            v1::ListInstancesRequest {
                page_token: "garbage".into(),
                ..Default::default()
            },
            "page_token",
        ),
        (
            v1::ListInstancesRequest {
                order_by: "url".into(),
                ..Default::default()
            },
            "order_by",
        ),
        (
            v1::ListInstancesRequest {
                order_by: "name upwards".into(),
                ..Default::default()
            },
            "order_by",
        ),
        (
            v1::ListInstancesRequest {
                search: "s".repeat(501),
                ..Default::default()
            },
            "search",
        ),
    ];
    for (request, field) in cases {
        let status = instances.list_instances(request).await.unwrap_err();
        assert_field(&status, Code::InvalidArgument, field);
    }
    let pair_cases = [
        (
            v1::ListPairsRequest {
                mirror_direction: 7,
                ..Default::default()
            },
            "mirror_direction",
        ),
        (
            v1::ListPairsRequest {
                source_instance_id: -1,
                ..Default::default()
            },
            "source_instance_id",
        ),
        (
            v1::ListPairsRequest {
                target_instance_id: -5,
                ..Default::default()
            },
            "target_instance_id",
        ),
        (
            v1::ListPairsRequest {
                page_size: 1000,
                ..Default::default()
            },
            "page_size",
        ),
        (
            v1::ListPairsRequest {
                order_by: "mirror_count".into(),
                ..Default::default()
            },
            "order_by",
        ),
    ];
    for (request, field) in pair_cases {
        let status = pairs.list_pairs(request).await.unwrap_err();
        assert_field(&status, Code::InvalidArgument, field);
    }
}

async fn bad_instance_updates_name_the_field(app: TestApp) {
    let created = app.create_instance("A").await;
    let mut client = app.instances();
    let update = |instance: v1::Instance, token: &str, paths: &[&str]| v1::UpdateInstanceRequest {
        instance: Some(instance),
        token: token.into(),
        update_mask: mask(paths),
    };
    let with_id = |f: fn(&mut v1::Instance)| {
        let mut instance = v1::Instance {
            id: created.id,
            ..Default::default()
        };
        f(&mut instance);
        instance
    };
    let cases = [
        (update(with_id(|_| {}), "", &["token_set"]), "update_mask"),
        (update(with_id(|_| {}), "", &["pair_count"]), "update_mask"),
        (update(with_id(|_| {}), "", &["bogus"]), "update_mask"),
        (update(with_id(|_| {}), "", &["name"]), "instance.name"),
        (update(with_id(|_| {}), "", &["url"]), "instance.url"),
        (update(with_id(|_| {}), "", &["token"]), "token"),
        (
            update(with_id(|i| i.url = "http://127.0.0.1".into()), "", &["url"]),
            "instance.url",
        ),
        (
            update(with_id(|i| i.description = "d".repeat(501)), "", &[]),
            "instance.description",
        ),
        (
            update(
                v1::Instance {
                    id: 0,
                    name: "x".into(),
                    ..Default::default()
                },
                "",
                &[],
            ),
            "instance.id",
        ),
    ];
    for (request, field) in cases {
        let status = client.update_instance(request.clone()).await.unwrap_err();
        assert_field(&status, Code::InvalidArgument, field);
    }
}

async fn bad_pairs_name_the_field(app: TestApp) {
    let a = app.create_instance("A").await;
    let b = app.create_instance("B").await;
    let valid = || TestApp::pair_spec("p", a.id, b.id);
    let with = |f: &dyn Fn(&mut v1::Pair)| {
        let mut pair = valid();
        f(&mut pair);
        pair
    };
    let cases: Vec<(v1::Pair, &[&str])> = vec![
        (with(&|p| p.name = String::new()), &["pair.name"]),
        (with(&|p| p.name = "n".repeat(101)), &["pair.name"]),
        (
            with(&|p| p.source_instance_id = 0),
            &["pair.source_instance_id"],
        ),
        (
            with(&|p| p.target_instance_id = -3),
            &["pair.target_instance_id"],
        ),
        (
            with(&|p| p.target_instance_id = a.id),
            &["pair.source_instance_id", "pair.target_instance_id"],
        ),
        (
            with(&|p| p.mirror_direction = v1::MirrorDirection::Unspecified as i32),
            &["pair.mirror_direction"],
        ),
        (
            with(&|p| p.mirror_direction = 9),
            &["pair.mirror_direction"],
        ),
        (
            with(&|p| p.mirror_branch_regex = Some("(unclosed".into())),
            &["pair.mirror_branch_regex"],
        ),
        (
            with(&|p| p.mirror_branch_regex = Some("a".repeat(256))),
            &["pair.mirror_branch_regex"],
        ),
        (
            with(&|p| p.description = "d".repeat(501)),
            &["pair.description"],
        ),
    ];
    let mut client = app.pairs();
    for (pair, fields) in cases {
        let status = client
            .create_pair(v1::CreatePairRequest {
                pair: Some(pair.clone()),
            })
            .await
            .unwrap_err();
        for field in fields {
            assert_field(&status, Code::InvalidArgument, field);
        }
    }
    let status = client
        .create_pair(v1::CreatePairRequest { pair: None })
        .await
        .unwrap_err();
    assert_field(&status, Code::InvalidArgument, "pair");

    // Updates validate the same way, including a move onto the pair's own source.
    let pair = app.create_pair("p", a.id, b.id).await.pair.unwrap();
    let status = client
        .update_pair(v1::UpdatePairRequest {
            pair: Some(v1::Pair {
                id: pair.id,
                target_instance_id: a.id,
                ..Default::default()
            }),
            update_mask: mask(&["target_instance_id"]),
        })
        .await
        .unwrap_err();
    assert_field(&status, Code::InvalidArgument, "pair.target_instance_id");
    let status = client
        .update_pair(v1::UpdatePairRequest {
            pair: Some(v1::Pair {
                id: pair.id,
                mirror_branch_regex: Some("[z-a]".into()),
                ..Default::default()
            }),
            update_mask: None,
        })
        .await
        .unwrap_err();
    assert_field(&status, Code::InvalidArgument, "pair.mirror_branch_regex");
    let status = client
        .update_pair(v1::UpdatePairRequest {
            pair: Some(v1::Pair {
                id: pair.id,
                ..Default::default()
            }),
            update_mask: mask(&["mirror_count"]),
        })
        .await
        .unwrap_err();
    assert_field(&status, Code::InvalidArgument, "update_mask");
}
