//! `/api/export/pair/{id}` (download) and imports (`POST /api/export/pair/{id}`,
//! `/api/import/pair/{id}`).

use mm_proto::v1 as pb;
use reqwest::Method;
use serde_json::{Value, json};

use crate::stack::{Stack, stack};

/// A pair renamed to `name` after creation (its instances are `<base>-src`, `<base>-dst`).
async fn named_pair(s: &Stack, base: &str, name: &str) -> i64 {
    let id = s.pair(base).await;
    let reply = s
        .call(
            Method::PATCH,
            &format!("/api/pairs/{id}"),
            Some(json!({"name": name})),
        )
        .await;
    reply.expect(200);
    id
}

#[tokio::test]
async fn export_downloads_the_previous_format_with_a_safe_filename() {
    let s = stack().await;
    let pair = named_pair(&s, "prod", "Prod → DR (main)").await;
    s.seed_mirror(pair, "platform/api", "mirror/api", |m| {
        m.overrides = Some(pb::MirrorOverrides {
            mirror_trigger_builds: Some(true),
            mirror_branch_regex: Some("^main$".into()),
            ..Default::default()
        });
        m.last_update_status = "failed".into();
    });
    s.seed_mirror(pair, "platform/web", "mirror/web", |m| m.enabled = false);

    let reply = s
        .call(Method::GET, &format!("/api/export/pair/{pair}"), None)
        .await;
    assert_eq!(
        reply.header("content-disposition"),
        Some("attachment; filename=\"mirrors_Prod___DR__main.json\"")
    );
    assert!(
        reply
            .header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    assert!(
        reply.text.contains("\n  \"metadata\""),
        "indented: {}",
        reply.text
    );
    let file = reply.expect(200);
    let metadata = &file["metadata"];
    assert_eq!(metadata["pair_name"], "Prod → DR (main)");
    assert_eq!(metadata["mirror_direction"], "pull");
    assert_eq!(metadata["total_mirrors"], 2);
    assert_eq!(metadata["exported_at"], "2026-01-04T12:00:00.000000Z");
    assert_eq!(
        metadata["source_instance_url"],
        "https://prod-src.example.com"
    );
    assert_eq!(
        metadata["target_instance_url"],
        "https://prod-dst.example.com"
    );
    assert_eq!(
        file["mirrors"],
        json!([
            {"source_project_path": "platform/api", "target_project_path": "mirror/api",
             "mirror_overwrite_diverged": null, "mirror_trigger_builds": true,
             "only_mirror_protected_branches": null, "mirror_branch_regex": "^main$",
             "enabled": true},
            {"source_project_path": "platform/web", "target_project_path": "mirror/web",
             "mirror_overwrite_diverged": null, "mirror_trigger_builds": null,
             "only_mirror_protected_branches": null, "mirror_branch_regex": null,
             "enabled": false},
        ])
    );

    let reply = s.call(Method::GET, "/api/export/pair/999", None).await;
    reply.expect_error(404, "NOT_FOUND", Some("id"));
    let unnamed = named_pair(&s, "odd", "._/").await;
    let reply = s
        .call(Method::GET, &format!("/api/export/pair/{unnamed}"), None)
        .await;
    assert_eq!(
        reply.header("content-disposition"),
        Some("attachment; filename=\"mirrors_mirrors.json\"")
    );
    assert_eq!(reply.expect(200)["mirrors"], json!([]));
}

#[tokio::test]
async fn import_dry_run_plans_and_import_starts_a_job() {
    let s = stack().await;
    let source = s.pair("source").await;
    s.seed_mirror(source, "platform/api", "mirror/api", |m| {
        m.overrides = Some(pb::MirrorOverrides {
            only_mirror_protected_branches: Some(true),
            ..Default::default()
        });
    });
    s.seed_mirror(source, "platform/web", "mirror/web", |_| {});
    let export = s
        .call(Method::GET, &format!("/api/export/pair/{source}"), None)
        .await
        .expect(200);

    // Round trip into another pair: everything would be created.
    let target = s.pair("target").await;
    let reply = s
        .call(
            Method::POST,
            &format!("/api/export/pair/{target}?dry_run=true"),
            Some(export.clone()),
        )
        .await;
    let plan = reply.expect(200);
    assert!(reply.header("location").is_none());
    assert_eq!(plan["create_count"], 2);
    assert_eq!(plan["skip_count"], 0);
    assert_eq!(plan["gitlab_calls"], 8);
    assert_eq!(plan["estimated_seconds"], 2.0);
    assert_eq!(plan["job"], Value::Null);
    assert_eq!(
        plan["plan"][0],
        json!({"source_project_path": "platform/api", "target_project_path": "mirror/api",
               "action": "create", "reason": null})
    );
    let request = s.recorded().import.unwrap();
    assert!(request.dry_run);
    assert_eq!(request.pair_id, target);
    assert_eq!(
        request.mirrors[0].only_mirror_protected_branches,
        Some(true)
    );
    assert_eq!(request.mirrors[0].enabled, Some(true));
    assert_eq!(request.mirrors[0].mirror_trigger_builds, None);
    assert_eq!(
        s.with_api(|inner| inner
            .mirrors
            .values()
            .filter(|m| m.pair_id == target)
            .count()),
        0,
        "a dry run records nothing"
    );

    // Into the same pair: every entry already exists.
    let reply = s
        .call(
            Method::POST,
            &format!("/api/import/pair/{source}?dry_run=true"),
            Some(export.clone()),
        )
        .await;
    let plan = reply.expect(200);
    assert_eq!(plan["skip_count"], 2);
    assert_eq!(plan["plan"][1]["action"], "skip");
    assert_eq!(plan["plan"][1]["reason"], "already exists in the pair");

    // The real import: 202 with the plan and the job. Informational keys of the previous
    // product are ignored.
    let body = json!({
        "metadata": {"pair_name": "old", "exported_at": "2024-01-01"},
        "mirrors": [
            {"source_project_path": "a/one", "target_project_path": "b/one",
             "issue_sync_enabled": true, "last_update_status": "success", "mirror_id": 7},
            {"source_project_path": "a/one", "target_project_path": "b/one"},
            {"source_project_path": "bad", "target_project_path": "b/two", "enabled": false},
        ]
    });
    let reply = s
        .call(
            Method::POST,
            &format!("/api/import/pair/{target}"),
            Some(body),
        )
        .await;
    let result = reply.expect(202);
    assert_eq!(result["create_count"], 1);
    assert_eq!(result["skip_count"], 2);
    assert_eq!(result["plan"][1]["reason"], "duplicate in the file");
    assert_eq!(result["plan"][2]["reason"], "invalid path");
    assert_eq!(result["job"]["kind"], "pair.import");
    assert_eq!(
        reply.header("location"),
        Some(format!("/api/jobs/{}", result["job"]["id"]).as_str())
    );
    assert!(!s.recorded().import.unwrap().dry_run);

    // Nothing to create: 200 without a job.
    let reply = s
        .call(
            Method::POST,
            &format!("/api/export/pair/{target}?dry_run=false"),
            Some(json!({"mirrors": [{"source_project_path": "a/one", "target_project_path": "b/one"}]})),
        )
        .await;
    assert_eq!(reply.expect(200)["job"], Value::Null);
}

#[tokio::test]
async fn import_input_errors_name_the_field() {
    let s = stack().await;
    let pair = s.pair("p").await;
    let path = format!("/api/export/pair/{pair}");
    let entry = json!({"source_project_path": "a/b", "target_project_path": "c/d"});
    for (body, field) in [
        (json!({"mirrors": [entry], "extra": 1}), "extra"),
        (json!({"metadata": {}}), "mirrors"),
        (json!({"mirrors": {"a": 1}}), "mirrors"),
        (
            json!({"mirrors": [{"source_project_path": "a/b"}]}),
            "mirrors[0].target_project_path",
        ),
        (
            json!({"mirrors": [entry, {"source_project_path": "a/b", "target_project_path": "c/d", "enabled": "yes"}]}),
            "mirrors[1].enabled",
        ),
    ] {
        let reply = s.call(Method::POST, &path, Some(body)).await;
        reply.expect_error(422, "INVALID_ARGUMENT", Some(field));
    }
    let reply = s
        .call(
            Method::POST,
            &format!("{path}?dry_run=perhaps"),
            Some(json!({"mirrors": []})),
        )
        .await;
    reply.expect_error(422, "INVALID_ARGUMENT", Some("dry_run"));
    let too_many: Vec<Value> = (0..10_001)
        .map(|n| json!({"source_project_path": format!("a/{n}"), "target_project_path": format!("b/{n}")}))
        .collect();
    let reply = s
        .call(Method::POST, &path, Some(json!({"mirrors": too_many})))
        .await;
    reply.expect_error(422, "INVALID_ARGUMENT", Some("mirrors"));
    let reply = s
        .call(
            Method::POST,
            "/api/export/pair/999",
            Some(json!({"mirrors": []})),
        )
        .await;
    reply.expect_error(404, "NOT_FOUND", Some("id"));
}
