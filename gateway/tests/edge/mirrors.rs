//! Mirrors, jobs and export/import through the real API service. No worker runs here, so
//! every job stays queued: these tests check what the API records and how the gateway
//! presents it.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use super::{Edge, SECRET_TOKENS, sqlite};

/// Two instances (`<base>-src`, `<base>-dst`) and a pull pair `name` between them; returns
/// the pair id.
async fn pair(e: &Edge, base: &str, name: &str) -> i64 {
    let a = e
        .create_instance(&format!("{base}-src"), SECRET_TOKENS[0])
        .await;
    let b = e
        .create_instance(&format!("{base}-dst"), SECRET_TOKENS[1])
        .await;
    assert_eq!(a["verify_job"]["kind"], "instance.verify", "{a}");
    let pair = e
        .call(
            Method::POST,
            "/api/pairs",
            Some(
                json!({"name": name, "source_instance_id": a["id"], "target_instance_id": b["id"],
                        "mirror_branch_regex": "^main$"}),
            ),
        )
        .await
        .expect(201);
    pair["id"].as_i64().unwrap()
}

async fn create_mirror(e: &Edge, body: Value) -> (Value, String) {
    let reply = e.call(Method::POST, "/api/mirrors", Some(body)).await;
    let created = reply.expect(202);
    let location = reply.headers["location"].to_str().unwrap().to_owned();
    (created, location)
}

#[tokio::test]
async fn create_list_and_follow_mirror_jobs() {
    let e = sqlite().await;
    let pair_id = pair(&e, "prod", "prod-to-dr").await;

    let (created, location) = create_mirror(
        &e,
        json!({"instance_pair_id": pair_id, "source_project_path": "platform/backend/api",
               "target_project_path": "mirror/api", "mirror_trigger_builds": true}),
    )
    .await;
    let mirror = &created["mirror"];
    let job = &created["job"];
    assert_eq!(location, format!("/api/jobs/{}", job["id"]));
    assert_eq!(job["kind"], "mirror.create");
    assert_eq!(job["state"], "queued");
    assert_eq!(mirror["lifecycle"], "creating");
    assert_eq!(mirror["instance_pair_id"], pair_id);
    assert_eq!(mirror["mirror_trigger_builds"], true);
    assert_eq!(mirror["mirror_branch_regex"], Value::Null);
    assert_eq!(mirror["effective_mirror_branch_regex"], "^main$");
    assert_eq!(mirror["enabled"], true);
    let mirror_id = mirror["id"].as_i64().unwrap();
    let followed = e.call(Method::GET, &location, None).await.expect(200);
    assert_eq!(followed["id"], job["id"]);

    let (web, _) = create_mirror(
        &e,
        json!({"instance_pair_id": pair_id, "source_project_path": "platform/web",
               "target_project_path": "mirror/web", "enabled": false}),
    )
    .await;

    // Input errors name the REST field, whoever finds them.
    let base = json!({"instance_pair_id": pair_id, "source_project_path": "a/b", "target_project_path": "c/d"});
    let with = |key: &str, value: Value| {
        let mut body = base.clone();
        body[key] = value;
        body
    };
    for (body, field) in [
        (
            with("source_project_path", json!("no-group")),
            "source_project_path",
        ),
        (
            with("target_project_path", json!("a//b")),
            "target_project_path",
        ),
        (
            with("mirror_branch_regex", json!("(")),
            "mirror_branch_regex",
        ),
        (with("instance_pair_id", json!(99_999)), "instance_pair_id"),
        (with("source_project_id", json!(1)), "source_project_id"),
    ] {
        let reply = e.call(Method::POST, "/api/mirrors", Some(body)).await;
        reply.expect_field_error(field);
    }
    let duplicate = json!({"instance_pair_id": pair_id, "source_project_path": "platform/web",
                           "target_project_path": "mirror/web"});
    let reply = e.call(Method::POST, "/api/mirrors", Some(duplicate)).await;
    assert_eq!(reply.expect(409)["code"], "ALREADY_EXISTS");

    // Lists with filters, sorting and pages.
    let ids = |list: &Value| -> Vec<i64> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_i64().unwrap())
            .collect()
    };
    let web_id = web["mirror"]["id"].as_i64().unwrap();
    for (query, expected) in [
        (
            format!("instance_pair_id={pair_id}&search=API"),
            vec![mirror_id],
        ),
        (format!("pair_id={pair_id}&enabled=false"), vec![web_id]),
        ("group_path=platform/backend".to_owned(), vec![mirror_id]),
        (
            "lifecycle=creating&token_status=none".to_owned(),
            vec![web_id, mirror_id],
        ),
        ("lifecycle=ready".to_owned(), vec![]),
        (
            "order_by=source_project_path&order_dir=asc".to_owned(),
            vec![mirror_id, web_id],
        ),
        (
            "order_by=created_at&order_dir=asc".to_owned(),
            vec![mirror_id, web_id],
        ),
    ] {
        let reply = e
            .call(Method::GET, &format!("/api/mirrors?{query}"), None)
            .await;
        assert_eq!(ids(&reply.expect(200)), expected, "{query}");
    }
    let reply = e
        .call(Method::GET, "/api/mirrors?page_size=1&page=2", None)
        .await;
    assert_eq!(ids(&reply.expect(200)), vec![mirror_id], "newest first");
    assert_eq!(reply.headers["x-total-count"], "2");
    assert_eq!(reply.headers["x-total-pages"], "2");
    let reply = e.call(Method::GET, "/api/mirrors?page_size=1", None).await;
    let token = reply.headers["x-next-page-token"]
        .to_str()
        .unwrap()
        .to_owned();
    let reply = e
        .call(
            Method::GET,
            &format!("/api/mirrors?page_size=1&page_token={token}"),
            None,
        )
        .await;
    assert_eq!(ids(&reply.expect(200)), vec![mirror_id]);
    e.call(Method::GET, "/api/mirrors?token_status=soon", None)
        .await
        .expect_field_error("token_status");

    let tree = e
        .call(
            Method::GET,
            &format!("/api/mirrors/tree?instance_pair_id={pair_id}"),
            None,
        )
        .await
        .expect(200);
    let platform = tree
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group_path"] == "platform")
        .unwrap_or_else(|| panic!("{tree}"));
    assert_eq!(platform["mirror_count"], 2);
    assert_eq!(platform["level"], 0);

    // A mirror being created cannot be synced or changed yet: FAILED_PRECONDITION (400).
    let reply = e
        .call(
            Method::POST,
            &format!("/api/mirrors/{mirror_id}/sync"),
            None,
        )
        .await;
    assert_eq!(reply.expect(400)["code"], "FAILED_PRECONDITION");
    let reply = e
        .call(
            Method::PATCH,
            &format!("/api/mirrors/{mirror_id}"),
            Some(json!({"mirror_trigger_builds": null})),
        )
        .await;
    assert_eq!(reply.expect(400)["code"], "FAILED_PRECONDITION");
    e.call(
        Method::PATCH,
        &format!("/api/mirrors/{mirror_id}"),
        Some(json!({"source_project_path": "x/y"})),
    )
    .await
    .expect_field_error("source_project_path");

    // Jobs: list, items, the event stream, cancel.
    let jobs = e
        .call(
            Method::GET,
            &format!("/api/jobs?kind=mirror.create&pair_id={pair_id}"),
            None,
        )
        .await
        .expect(200);
    assert_eq!(jobs.as_array().unwrap().len(), 2, "{jobs}");
    let job_id = job["id"].as_i64().unwrap();
    let items = e
        .call(Method::GET, &format!("/api/jobs/{job_id}/items"), None)
        .await
        .expect(200);
    assert_eq!(items[0]["job_id"], job_id);
    assert_eq!(items[0]["state"], "queued");
    let first = first_event(&e, &format!("/api/jobs/{job_id}/events")).await;
    assert!(first.starts_with("event: progress\n"), "{first}");
    assert!(first.contains("\"state\":\"queued\""), "{first}");
    let web_job = web["job"]["id"].as_i64().unwrap();
    let cancelled = e
        .call(Method::POST, &format!("/api/jobs/{web_job}/cancel"), None)
        .await
        .expect(200);
    assert_eq!(cancelled["id"], web_job);

    // Deleting the pair with mirrors is a job.
    let reply = e
        .call(Method::DELETE, &format!("/api/pairs/{pair_id}"), None)
        .await;
    let deleting = reply.expect(202);
    assert_eq!(deleting["job"]["kind"], "pair.delete");
    assert_eq!(
        reply.headers["location"],
        format!("/api/jobs/{}", deleting["job"]["id"]).as_str()
    );
    e.assert_no_token_leaked();
}

/// The first event of a stream that does not end (no worker runs the job).
async fn first_event(e: &Edge, path: &str) -> String {
    let mut response = e
        .client
        .get(format!("{}{path}", e.base))
        .header("authorization", &e.basic)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut text = String::new();
    let read = async {
        while !text.contains("\n\n") {
            match response.chunk().await.unwrap() {
                Some(chunk) => text.push_str(std::str::from_utf8(&chunk).unwrap()),
                None => break,
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("the first event arrives");
    text
}

#[tokio::test]
async fn export_and_import_round_trip() {
    let e = sqlite().await;
    let source = pair(&e, "prod", "Prod → DR").await;
    for (src, dst, extra) in [
        (
            "platform/api",
            "mirror/api",
            json!({"only_mirror_protected_branches": true}),
        ),
        (
            "platform/web",
            "mirror/web",
            json!({"enabled": false, "mirror_branch_regex": "^release/"}),
        ),
    ] {
        let mut body = json!({"instance_pair_id": source, "source_project_path": src, "target_project_path": dst});
        for (key, value) in extra.as_object().unwrap() {
            body[key] = value.clone();
        }
        create_mirror(&e, body).await;
    }

    let reply = e
        .call(Method::GET, &format!("/api/export/pair/{source}"), None)
        .await;
    assert_eq!(
        reply.headers["content-disposition"],
        "attachment; filename=\"mirrors_Prod___DR.json\""
    );
    let file = reply.expect(200);
    let metadata = &file["metadata"];
    assert_eq!(metadata["pair_name"], "Prod → DR");
    assert_eq!(metadata["mirror_direction"], "pull");
    assert_eq!(metadata["total_mirrors"], 2);
    assert_eq!(
        metadata["source_instance_url"],
        "https://prod-src.gitlab.test"
    );
    assert!(metadata["exported_at"].as_str().unwrap().ends_with('Z'));
    let mirrors = file["mirrors"].as_array().unwrap();
    let web = mirrors
        .iter()
        .find(|m| m["source_project_path"] == "platform/web")
        .unwrap();
    assert_eq!(
        web,
        &json!({"source_project_path": "platform/web", "target_project_path": "mirror/web",
                "mirror_overwrite_diverged": null, "mirror_trigger_builds": null,
                "only_mirror_protected_branches": null, "mirror_branch_regex": "^release/",
                "enabled": false})
    );

    // Into a new pair: the dry run plans two creates and records nothing.
    let target = pair(&e, "copy", "copy").await;
    let reply = e
        .call(
            Method::POST,
            &format!("/api/export/pair/{target}?dry_run=true"),
            Some(file.clone()),
        )
        .await;
    let plan = reply.expect(200);
    assert_eq!(plan["create_count"], 2, "{plan}");
    assert_eq!(plan["skip_count"], 0);
    assert_eq!(plan["job"], Value::Null);
    assert!(plan["gitlab_calls"].as_i64().unwrap() > 0);
    assert!(plan["estimated_seconds"].as_f64().unwrap() > 0.0);
    let listed = e
        .call(
            Method::GET,
            &format!("/api/mirrors?instance_pair_id={target}"),
            None,
        )
        .await;
    assert_eq!(listed.expect(200), json!([]));

    // Into the same pair: both already exist.
    let plan = e
        .call(
            Method::POST,
            &format!("/api/import/pair/{source}?dry_run=true"),
            Some(file.clone()),
        )
        .await
        .expect(200);
    assert_eq!(plan["skip_count"], 2, "{plan}");
    assert!(
        plan["plan"]
            .as_array()
            .unwrap()
            .iter()
            .all(|entry| entry["action"] == "skip" && entry["reason"].is_string())
    );

    // The import itself, with the previous product's informational keys.
    let mut old_format = file.clone();
    old_format["mirrors"][0]["issue_sync_enabled"] = json!(true);
    old_format["mirrors"][0]["last_update_status"] = json!("success");
    let reply = e
        .call(
            Method::POST,
            &format!("/api/import/pair/{target}"),
            Some(old_format),
        )
        .await;
    let imported = reply.expect(202);
    assert_eq!(imported["create_count"], 2);
    assert_eq!(imported["job"]["kind"], "pair.import");
    assert_eq!(
        reply.headers["location"],
        format!("/api/jobs/{}", imported["job"]["id"]).as_str()
    );
    let listed = e
        .call(
            Method::GET,
            &format!(
                "/api/mirrors?instance_pair_id={target}&order_by=source_project_path&order_dir=asc"
            ),
            None,
        )
        .await
        .expect(200);
    let paths: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["source_project_path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["platform/api", "platform/web"]);
    assert_eq!(listed[0]["only_mirror_protected_branches"], true);
    assert_eq!(listed[1]["enabled"], false);
    assert_eq!(listed[1]["mirror_branch_regex"], "^release/");

    let reply = e
        .call(
            Method::POST,
            &format!("/api/export/pair/{target}"),
            Some(json!({"mirrors": [{"source_project_path": "a/b"}]})),
        )
        .await;
    reply.expect_field_error("mirrors[0].target_project_path");
    e.call(Method::GET, "/api/export/pair/99999", None)
        .await
        .expect_field_error("id");
    e.assert_no_token_leaked();
}
