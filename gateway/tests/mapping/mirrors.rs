//! `/api/mirrors…`, `/api/pairs/{id}/sync-mirrors|refresh-status` and
//! `/api/instances/{id}/projects`.

use mm_proto::v1 as pb;
use reqwest::Method;
use serde_json::{Value, json};

use crate::stack::stack;

#[tokio::test]
async fn list_maps_every_filter_and_paging_parameter() {
    let s = stack().await;
    let pair = s.pair("p").await;
    for n in 1..=5 {
        s.seed_mirror(
            pair,
            &format!("platform/app-{n}"),
            &format!("mirror/app-{n}"),
            |m| {
                m.lifecycle = pb::MirrorLifecycle::Ready as i32;
                m.token_status = pb::TokenStatus::ExpiringSoon as i32;
                m.last_update_status = "failed".into();
            },
        );
    }
    s.seed_mirror(pair, "other/x", "mirror/x", |_| {});

    let reply = s
        .call(
            Method::GET,
            &format!(
                "/api/mirrors?pair_id={pair}&status=failed&enabled=true&search=APP\
                 &token_status=Expiring_Soon&group_path=/platform/&lifecycle=ready\
                 &page=2&page_size=2&order_by=source_project_path&order_dir=asc"
            ),
            None,
        )
        .await;
    let list = reply.expect(200);
    let request = s.recorded().list_mirrors.unwrap();
    assert_eq!(
        request,
        pb::ListMirrorsRequest {
            page_size: 2,
            page_token: String::new(),
            page: 2,
            pair_id: pair,
            status: "failed".into(),
            enabled: Some(true),
            search: "APP".into(),
            token_status: pb::TokenStatus::ExpiringSoon as i32,
            group_prefix: "platform".into(),
            order_by: "source_project_path".into(),
            lifecycle: pb::MirrorLifecycle::Ready as i32,
        }
    );
    let paths: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["source_project_path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["platform/app-3", "platform/app-4"]);
    assert_eq!(reply.header("x-total-count"), Some("5"));
    assert_eq!(reply.header("x-total-pages"), Some("3"));
    assert!(reply.header("x-next-page-token").is_some());
    let link = reply.header("link").unwrap();
    assert!(
        link.contains("page=3") && link.contains("order_dir=asc"),
        "{link}"
    );

    // Mirror JSON: raw overrides, effective settings, RFC 3339 times, no token.
    let mirror = &list[0];
    assert_eq!(mirror["instance_pair_id"], pair);
    assert_eq!(mirror["mirror_branch_regex"], Value::Null);
    assert_eq!(mirror["effective_mirror_branch_regex"], "^release/.*$");
    assert_eq!(mirror["lifecycle"], "ready");
    assert_eq!(mirror["token_status"], "expiring_soon");
    assert_eq!(mirror["last_update_status"], "failed");
    assert!(mirror["created_at"].as_str().unwrap().ends_with('Z'));
    for key in [
        "id",
        "source_project_id",
        "target_project_id",
        "mirror_overwrite_diverged",
        "effective_mirror_trigger_builds",
        "effective_only_mirror_protected_branches",
        "effective_mirror_overwrite_diverged",
        "enabled",
        "mirror_id",
        "last_update_at",
        "last_successful_update",
        "last_error",
        "status_checked_at",
        "mirror_token_expires_at",
        "token_name",
        "updated_at",
    ] {
        assert!(mirror.get(key).is_some(), "{key} missing in {mirror}");
    }
    assert!(mirror.get("token").is_none());

    // Defaults: newest first, page 1 of 50; blank filters mean "any".
    let reply = s
        .call(
            Method::GET,
            "/api/mirrors?status=&enabled=&token_status=&lifecycle=&instance_pair_id=",
            None,
        )
        .await;
    assert_eq!(reply.expect(200).as_array().unwrap().len(), 6);
    let request = s.recorded().list_mirrors.unwrap();
    assert_eq!(request.order_by, "create_time desc");
    assert_eq!((request.page, request.page_size), (1, 50));
    assert_eq!(request.enabled, None);
    assert_eq!(reply.header("x-total-pages"), Some("1"));
    assert!(reply.header("link").is_none());

    // The API's own sort names and an explicit cursor.
    let reply = s
        .call(
            Method::GET,
            "/api/mirrors?order_by=update_time&per_page=4",
            None,
        )
        .await;
    reply.expect(200);
    assert_eq!(
        s.recorded().list_mirrors.unwrap().order_by,
        "update_time desc"
    );
    let token = reply.header("x-next-page-token").unwrap().to_owned();
    let reply = s
        .call(
            Method::GET,
            &format!("/api/mirrors?page_size=4&page_token={token}"),
            None,
        )
        .await;
    assert_eq!(reply.expect(200).as_array().unwrap().len(), 2);
    let request = s.recorded().list_mirrors.unwrap();
    assert_eq!(
        (request.page, request.page_token.as_str()),
        (0, token.as_str())
    );
}

#[tokio::test]
async fn list_rejects_bad_parameters_naming_them() {
    let s = stack().await;
    for (query, field) in [
        ("token_status=bogus", "token_status"),
        ("lifecycle=alive", "lifecycle"),
        ("enabled=maybe", "enabled"),
        ("instance_pair_id=0", "instance_pair_id"),
        ("pair_id=abc", "pair_id"),
        ("page=0", "page"),
        ("page=4294967296", "page"),
        ("page_size=201", "page_size"),
        ("page_size=0", "page_size"),
        ("order_by=colour", "order_by"),
        ("order_dir=sideways", "order_dir"),
        ("page=2&page_token=o5", "page_token"),
    ] {
        let reply = s
            .call(Method::GET, &format!("/api/mirrors?{query}"), None)
            .await;
        reply.expect_error(422, "INVALID_ARGUMENT", Some(field));
    }
    let long = "x".repeat(501);
    let reply = s
        .call(Method::GET, &format!("/api/mirrors?search={long}"), None)
        .await;
    reply.expect_error(422, "INVALID_ARGUMENT", Some("search"));
}

#[tokio::test]
async fn create_answers_202_with_the_job() {
    let s = stack().await;
    let pair = s.pair("p").await;
    let reply = s
        .call(
            Method::POST,
            "/api/mirrors",
            Some(json!({
                "instance_pair_id": pair,
                "source_project_path": "platform/api",
                "target_project_path": "mirror/api",
                "mirror_trigger_builds": true,
                "mirror_branch_regex": "^main$",
                "enabled": false,
            })),
        )
        .await;
    let body = reply.expect(202);
    let job_id = body["job"]["id"].as_i64().unwrap();
    assert_eq!(
        reply.header("location"),
        Some(format!("/api/jobs/{job_id}").as_str())
    );
    assert_eq!(body["job"]["kind"], "mirror.create");
    assert_eq!(body["job"]["state"], "queued");
    assert_eq!(body["job"]["progress_percent"], 0.0);
    assert_eq!(body["mirror"]["lifecycle"], "creating");
    assert_eq!(body["mirror"]["enabled"], false);
    assert_eq!(body["mirror"]["mirror_trigger_builds"], true);
    assert_eq!(
        body["mirror"]["only_mirror_protected_branches"],
        Value::Null
    );
    let request = s.recorded().create_mirror.unwrap();
    assert_eq!(request.pair_id, pair);
    assert_eq!(request.enabled, Some(false));
    assert_eq!(
        request.overrides.unwrap(),
        pb::MirrorOverrides {
            mirror_overwrite_diverged: None,
            mirror_trigger_builds: Some(true),
            only_mirror_protected_branches: None,
            mirror_branch_regex: Some("^main$".into()),
        }
    );

    let base = json!({"instance_pair_id": pair, "source_project_path": "a/b", "target_project_path": "c/d"});
    let with = |key: &str, value: Value| {
        let mut body = base.clone();
        body[key] = value;
        body
    };
    let cases = [
        (
            with("source_project_id", json!(4)),
            422,
            "INVALID_ARGUMENT",
            "source_project_id",
        ),
        (
            with("enabled", json!("yes")),
            422,
            "INVALID_ARGUMENT",
            "enabled",
        ),
        (
            with("instance_pair_id", json!(0)),
            422,
            "INVALID_ARGUMENT",
            "instance_pair_id",
        ),
        (
            with("source_project_path", json!("no-slash")),
            400,
            "INVALID_ARGUMENT",
            "source_project_path",
        ),
        (
            with("mirror_branch_regex", json!("x".repeat(300))),
            400,
            "INVALID_ARGUMENT",
            "mirror_branch_regex",
        ),
        (
            with("instance_pair_id", json!(999)),
            404,
            "NOT_FOUND",
            "instance_pair_id",
        ),
        (
            json!({"instance_pair_id": pair, "source_project_path": "a/b"}),
            422,
            "INVALID_ARGUMENT",
            "target_project_path",
        ),
    ];
    for (body, status, code, field) in cases {
        let reply = s.call(Method::POST, "/api/mirrors", Some(body)).await;
        reply.expect_error(status, code, Some(field));
    }
    let duplicate = json!({"instance_pair_id": pair, "source_project_path": "platform/api", "target_project_path": "mirror/api"});
    let reply = s.call(Method::POST, "/api/mirrors", Some(duplicate)).await;
    reply.expect_error(409, "ALREADY_EXISTS", None);
}

#[tokio::test]
async fn updates_are_presence_tracked_and_clear_overrides() {
    let s = stack().await;
    let pair = s.pair("p").await;
    let id = s.seed_mirror(pair, "a/b", "c/d", |m| {
        m.overrides = Some(pb::MirrorOverrides {
            mirror_branch_regex: Some("^main$".into()),
            mirror_trigger_builds: Some(true),
            ..Default::default()
        });
    });

    let reply = s
        .call(
            Method::PATCH,
            &format!("/api/mirrors/{id}"),
            Some(json!({"mirror_branch_regex": null, "mirror_trigger_builds": false})),
        )
        .await;
    let body = reply.expect(200);
    assert_eq!(
        s.last_mask(),
        [
            "overrides.mirror_trigger_builds",
            "overrides.mirror_branch_regex"
        ]
    );
    let sent = s.recorded().update_mirror.unwrap().mirror.unwrap();
    assert_eq!(sent.id, id);
    assert_eq!(sent.overrides.unwrap().mirror_branch_regex, None);
    assert_eq!(body["mirror"]["mirror_branch_regex"], Value::Null);
    assert_eq!(
        body["mirror"]["effective_mirror_branch_regex"],
        "^release/.*$"
    );
    assert_eq!(body["mirror"]["mirror_trigger_builds"], false);
    assert_eq!(body["job"]["kind"], "mirror.update");

    let reply = s
        .call(
            Method::PUT,
            &format!("/api/mirrors/{id}"),
            Some(json!({"enabled": false, "only_mirror_protected_branches": true})),
        )
        .await;
    assert_eq!(reply.expect(200)["mirror"]["enabled"], false);
    assert_eq!(
        s.last_mask(),
        ["overrides.only_mirror_protected_branches", "enabled"]
    );

    // An empty body changes nothing and calls no UpdateMirror.
    let calls = s.recorded().update_mirror_calls;
    let reply = s
        .call(
            Method::PATCH,
            &format!("/api/mirrors/{id}"),
            Some(json!({})),
        )
        .await;
    let body = reply.expect(200);
    assert_eq!(body["job"], Value::Null);
    assert_eq!(body["mirror"]["id"], id);
    assert_eq!(s.recorded().update_mirror_calls, calls);

    for (body, field) in [
        (json!({"source_project_path": "x/y"}), "source_project_path"),
        (json!({"target_project_path": null}), "target_project_path"),
        (json!({"instance_pair_id": 3}), "instance_pair_id"),
        (json!({"enabled": null}), "enabled"),
        (json!({"issue_sync_enabled": true}), "issue_sync_enabled"),
        (
            json!({"mirror_trigger_builds": "yes"}),
            "mirror_trigger_builds",
        ),
    ] {
        let reply = s
            .call(Method::PATCH, &format!("/api/mirrors/{id}"), Some(body))
            .await;
        reply.expect_error(422, "INVALID_ARGUMENT", Some(field));
    }
    assert_eq!(s.recorded().update_mirror_calls, calls);

    // Violations of the nested message name the REST field.
    let reply = s
        .call(
            Method::PATCH,
            &format!("/api/mirrors/{id}"),
            Some(json!({"mirror_branch_regex": "(a+)+"})),
        )
        .await;
    reply.expect_error(400, "INVALID_ARGUMENT", Some("mirror_branch_regex"));
    let reply = s
        .call(
            Method::PATCH,
            "/api/mirrors/999",
            Some(json!({"enabled": true})),
        )
        .await;
    reply.expect_error(404, "NOT_FOUND", None);
}

#[tokio::test]
async fn actions_answer_202_with_the_job_and_its_location() {
    let s = stack().await;
    let pair = s.pair("p").await;
    let id = s.seed_mirror(pair, "a/b", "c/d", |m| {
        m.lifecycle = pb::MirrorLifecycle::Ready as i32;
    });
    let got = s
        .call(Method::GET, &format!("/api/mirrors/{id}"), None)
        .await
        .expect(200);
    assert_eq!(got["source_project_path"], "a/b");

    for (method, action, kind) in [
        (Method::POST, "update", "mirror.sync"),
        (Method::POST, "sync", "mirror.sync"),
        (Method::POST, "rotate-token", "mirror.rotate_token"),
        (Method::POST, "refresh-status", "mirror.refresh_status"),
        (Method::POST, "verify", "mirror.verify"),
        (Method::GET, "verify", "mirror.verify"),
    ] {
        let reply = s
            .call(method.clone(), &format!("/api/mirrors/{id}/{action}"), None)
            .await;
        let job = reply.expect(202);
        assert_eq!(job["kind"], kind, "{method} {action}");
        assert_eq!(job["mirror_id"], id);
        assert_eq!(job["pair_id"], pair);
        let location = format!("/api/jobs/{}", job["id"]);
        assert_eq!(reply.header("location"), Some(location.as_str()));
        // The location is a job.
        let fetched = s.call(Method::GET, &location, None).await.expect(200);
        assert_eq!(fetched["id"], job["id"]);
    }

    // A mirror that is not ready: FAILED_PRECONDITION as errors.rs maps it (400).
    let creating = s.seed_mirror(pair, "e/f", "g/h", |_| {});
    let reply = s
        .call(Method::POST, &format!("/api/mirrors/{creating}/sync"), None)
        .await;
    reply.expect_error(400, "FAILED_PRECONDITION", None);
    let reply = s.call(Method::POST, "/api/mirrors/999/update", None).await;
    reply.expect_error(404, "NOT_FOUND", None);
    let reply = s.call(Method::POST, "/api/mirrors/x/update", None).await;
    reply.expect_error(422, "INVALID_ARGUMENT", Some("id"));

    let reply = s
        .call(Method::DELETE, &format!("/api/mirrors/{id}"), None)
        .await;
    let job = reply.expect(202);
    assert_eq!(job["kind"], "mirror.delete");
    assert!(reply.header("location").is_some());
    let got = s
        .call(Method::GET, &format!("/api/mirrors/{id}"), None)
        .await
        .expect(200);
    assert_eq!(got["lifecycle"], "deleting");
}

#[tokio::test]
async fn pair_wide_sync_and_refresh() {
    let s = stack().await;
    let pair = s.pair("p").await;
    for n in 0..3 {
        s.seed_mirror(pair, &format!("a/{n}"), &format!("b/{n}"), |m| {
            m.enabled = n != 0;
        });
    }
    let reply = s
        .call(
            Method::POST,
            &format!("/api/pairs/{pair}/sync-mirrors"),
            None,
        )
        .await;
    let body = reply.expect(202);
    assert_eq!(body["mirror_count"], 2);
    assert_eq!(body["skipped_count"], 1);
    assert_eq!(body["gitlab_calls"], 6);
    assert_eq!(body["estimated_seconds"], 1.0);
    assert_eq!(body["job"]["kind"], "pair.sync");
    assert_eq!(body["job"]["total"], 2);
    assert_eq!(
        reply.header("location"),
        Some(format!("/api/jobs/{}", body["job"]["id"]).as_str())
    );
    let reply = s
        .call(
            Method::POST,
            &format!("/api/pairs/{pair}/refresh-status"),
            None,
        )
        .await;
    assert_eq!(reply.expect(202)["kind"], "pair.refresh_status");
    let reply = s
        .call(Method::POST, "/api/pairs/999/sync-mirrors", None)
        .await;
    reply.expect_error(404, "NOT_FOUND", Some("id"));

    // A dry run plans and starts nothing: 200, no job, no Location.
    let reply = s
        .call(
            Method::POST,
            &format!("/api/pairs/{pair}/sync-mirrors?dry_run=true"),
            None,
        )
        .await;
    assert_eq!(reply.header("location"), None);
    let plan = reply.expect(200);
    assert_eq!(plan["job"], serde_json::Value::Null);
    assert_eq!(
        (
            plan["mirror_count"].as_i64(),
            plan["skipped_count"].as_i64()
        ),
        (Some(2), Some(1))
    );
    let reply = s
        .call(
            Method::POST,
            &format!("/api/pairs/{pair}/sync-mirrors?dry_run=perhaps"),
            None,
        )
        .await;
    reply.expect_error(422, "INVALID_ARGUMENT", Some("dry_run"));
}

#[tokio::test]
async fn tree_maps_filters_and_counts_levels() {
    let s = stack().await;
    let pair = s.pair("p").await;
    s.seed_mirror(pair, "platform/backend/api", "m/api", |m| {
        m.last_update_status = "failed".into();
    });
    s.seed_mirror(pair, "platform/web", "m/web", |_| {});
    let reply = s
        .call(
            Method::GET,
            &format!("/api/mirrors/tree?pair_id={pair}&group_prefix=platform&search=&status="),
            None,
        )
        .await;
    let tree = reply.expect(200);
    assert_eq!(
        tree,
        json!([
            {"group_path": "platform", "mirror_count": 2, "failed_count": 1, "level": 0},
            {"group_path": "platform/backend", "mirror_count": 1, "failed_count": 1, "level": 1},
        ])
    );
    let request = s.recorded().tree.unwrap();
    assert_eq!(request.pair_id, pair);
    assert_eq!(request.group_prefix, "platform");
    let reply = s
        .call(Method::GET, "/api/mirrors/tree?instance_pair_id=-1", None)
        .await;
    reply.expect_error(422, "INVALID_ARGUMENT", Some("instance_pair_id"));
}

#[tokio::test]
async fn project_search_pages_through_gitlab() {
    let s = stack().await;
    let instance = s.instance("gl").await;
    let reply = s
        .call(
            Method::GET,
            &format!("/api/instances/{instance}/projects?search=project&page=2&page_size=20"),
            None,
        )
        .await;
    let projects = reply.expect(200);
    assert_eq!(projects.as_array().unwrap().len(), 20);
    assert_eq!(projects[0]["path_with_namespace"], "group/project-21");
    assert_eq!(projects[0]["default_branch"], "main");
    assert_eq!(reply.header("x-next-page"), Some("3"));
    assert!(reply.header("link").unwrap().contains("page=3"));
    let request = s.recorded().search_projects.unwrap();
    assert_eq!(
        request,
        pb::SearchInstanceProjectsRequest {
            instance_id: instance,
            search: "project".into(),
            page_size: 20,
            page: 2,
        }
    );
    let reply = s
        .call(
            Method::GET,
            &format!("/api/instances/{instance}/projects?page=3"),
            None,
        )
        .await;
    assert_eq!(reply.expect(200).as_array().unwrap().len(), 5);
    assert!(reply.header("x-next-page").is_none());
    for (query, field) in [("page_size=101", "page_size"), ("page=0", "page")] {
        let reply = s
            .call(
                Method::GET,
                &format!("/api/instances/{instance}/projects?{query}"),
                None,
            )
            .await;
        reply.expect_error(422, "INVALID_ARGUMENT", Some(field));
    }
    let reply = s
        .call(Method::GET, "/api/instances/999/projects", None)
        .await;
    reply.expect_error(404, "NOT_FOUND", Some("id"));
}

#[tokio::test]
async fn deleting_pairs_and_instances_with_mirrors_starts_jobs() {
    let s = stack().await;
    // Instances report their verification job on create and on URL/token changes.
    let reply = s
        .call(
            Method::POST,
            "/api/instances",
            Some(json!({"name": "v", "url": "https://v.example.com", "token": "glpat-x"})),
        )
        .await;
    let created = reply.expect(201);
    assert_eq!(created["verify_job"]["kind"], "instance.verify");
    assert_eq!(created["name"], "v");
    let id = created["id"].as_i64().unwrap();
    let reply = s
        .call(
            Method::PATCH,
            &format!("/api/instances/{id}"),
            Some(json!({"url": "https://v2.example.com"})),
        )
        .await;
    assert_eq!(reply.expect(200)["verify_job"]["kind"], "instance.verify");
    let reply = s
        .call(
            Method::PATCH,
            &format!("/api/instances/{id}"),
            Some(json!({"description": "d"})),
        )
        .await;
    assert!(reply.expect(200).get("verify_job").is_none());

    let empty = s.pair("empty").await;
    let reply = s
        .call(Method::DELETE, &format!("/api/pairs/{empty}"), None)
        .await;
    assert_eq!(reply.expect(200)["status"], "deleted");
    assert!(reply.header("location").is_none());

    let pair = s.pair("full").await;
    s.seed_mirror(pair, "a/b", "c/d", |_| {});
    let reply = s
        .call(Method::DELETE, &format!("/api/pairs/{pair}"), None)
        .await;
    let body = reply.expect(202);
    assert_eq!(body["job"]["kind"], "pair.delete");
    assert_eq!(body["warnings"].as_array().unwrap().len(), 1);
    assert_eq!(
        reply.header("location"),
        Some(format!("/api/jobs/{}", body["job"]["id"]).as_str())
    );

    let pair = s.pair("inst").await;
    s.seed_mirror(pair, "a/b", "c/d", |_| {});
    let source = s.with_api(|inner| inner.pairs[&pair].source_instance_id);
    let reply = s
        .call(
            Method::DELETE,
            &format!("/api/instances/{source}?force=true"),
            None,
        )
        .await;
    let body = reply.expect(202);
    assert_eq!(body["job"]["kind"], "instance.delete");
    assert_eq!(body["deleted_pair_count"], 1);
    assert!(reply.header("location").is_some());
}
