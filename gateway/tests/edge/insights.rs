//! Read models through the real API service: `/api/dashboard/…`, `/api/topology…` and
//! `/api/search`, with mirror statuses recorded through storage as the status refresh would.

use chrono::{Duration, SubsecRound, Utc};
use mm_storage::{MirrorLifecycle, MirrorProvisioning, MirrorStatusUpdate, NewMirror};
use reqwest::Method;
use serde_json::{Value, json};

use super::{Edge, SECRET_TOKENS, sqlite};

/// Two instances and a push pair; returns (pair id, source id, target id).
async fn pair(e: &Edge, name: &str) -> (i64, i64, i64) {
    let a = e
        .create_instance(&format!("{name}-src"), SECRET_TOKENS[0])
        .await;
    let b = e
        .create_instance(&format!("{name}-dst"), SECRET_TOKENS[1])
        .await;
    let pair = e
        .call(
            Method::POST,
            "/api/pairs",
            Some(json!({"name": name, "source_instance_id": a["id"],
                        "target_instance_id": b["id"], "mirror_direction": "push"})),
        )
        .await
        .expect(201);
    (
        pair["id"].as_i64().unwrap(),
        a["id"].as_i64().unwrap(),
        b["id"].as_i64().unwrap(),
    )
}

/// A ready mirror `source` → `target` with `status` and a success `success_hours` ago.
async fn ready_mirror(
    e: &Edge,
    pair_id: i64,
    source: &str,
    status: &str,
    success_hours: Option<i64>,
) -> i64 {
    let storage = e.api.ctx.storage();
    let id = storage
        .insert_mirror(&NewMirror::new(pair_id, source, format!("mirror/{source}")))
        .await
        .unwrap()
        .id;
    storage
        .record_mirror_provisioning(
            id,
            &MirrorProvisioning {
                lifecycle: Some(MirrorLifecycle::Ready),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let now = Utc::now().trunc_subsecs(6);
    storage
        .record_mirror_status(
            id,
            &MirrorStatusUpdate {
                last_update_status: Some(status.to_owned()),
                last_successful_update_time: success_hours.map(|h| now - Duration::hours(h)),
                last_update_time: Some(now),
                last_error: None,
                enabled: None,
                checked_at: now,
            },
        )
        .await
        .unwrap();
    id
}

#[tokio::test]
async fn dashboard_metrics_and_quick_stats_keep_the_console_field_names() {
    let e = sqlite().await;
    let (pair_id, ..) = pair(&e, "dash").await;
    ready_mirror(&e, pair_id, "team/app", "finished", Some(1)).await;
    let failed = ready_mirror(&e, pair_id, "team/lib", "failed", None).await;
    let syncing = ready_mirror(&e, pair_id, "team/web", "started", None).await;

    let metrics = e
        .call(Method::GET, "/api/dashboard/metrics", None)
        .await
        .expect(200);
    let summary = &metrics["summary"];
    assert_eq!(summary["total_mirrors"], 3);
    assert_eq!(summary["total_pairs"], 1);
    assert_eq!(summary["total_instances"], 2);
    assert_eq!(summary["enabled_mirrors"], 3);
    assert_eq!(summary["health_percentage"], 33.3);
    assert_eq!(
        metrics["health"],
        json!({"success": 1, "failed": 1, "pending": 1, "unknown": 0})
    );
    let freshness = &metrics["status_freshness"];
    assert_eq!(freshness["fresh_count"], 3);
    assert_eq!(freshness["stale_count"], 0);
    assert!(freshness["oldest_update"].as_str().unwrap().ends_with('Z'));
    let refresh = &freshness["auto_refresh"];
    assert_eq!(refresh["enabled"], true);
    assert_eq!(refresh["interval_minutes"], 5.0);
    assert_eq!(refresh["last_refresh_completed_at"], Value::Null);
    assert_eq!(
        metrics["mirrors_by_pair"],
        json!([{"pair_id": pair_id, "pair_name": "dash", "count": 3}])
    );
    // The instance verifications are the recent jobs.
    let activity = metrics["recent_activity"].as_array().unwrap();
    assert_eq!(activity.len(), 2);
    for entry in activity {
        assert_eq!(entry["activity_type"], "updated");
        assert_eq!(entry["icon"], "↻");
        assert!(entry["time_ago"].as_str().unwrap().ends_with('s'));
        assert_eq!(entry["job_kind"], "instance.verify");
        assert!(entry["project"].as_str().unwrap().starts_with("dash-"));
    }

    let quick = e
        .call(Method::GET, "/api/dashboard/quick-stats", None)
        .await
        .expect(200);
    assert_eq!(quick["syncing_count"], 1);
    assert_eq!(quick["syncing_mirror_ids"], json!([syncing]));
    assert_eq!(quick["recent_failures"], 1);
    assert!(quick["timestamp"].is_string());
    assert_ne!(failed, syncing);

    let anonymous = e
        .call_as(None, Method::GET, "/api/dashboard/quick-stats", None)
        .await;
    anonymous.expect(401);
    e.assert_no_token_leaked();
}

#[tokio::test]
async fn topology_and_link_mirrors_with_thresholds() {
    let e = sqlite().await;
    let (pair_id, source, target) = pair(&e, "topo").await;
    let ok = ready_mirror(&e, pair_id, "a/ok", "finished", Some(1)).await;
    let stale = ready_mirror(&e, pair_id, "a/stale", "finished", Some(48)).await;
    let never = ready_mirror(&e, pair_id, "a/never", "none", None).await;

    let graph = e.call(Method::GET, "/api/topology", None).await.expect(200);
    assert_eq!(graph["nodes"].as_array().unwrap().len(), 2);
    let node = &graph["nodes"][0];
    assert_eq!(node["name"], "topo-dst");
    assert_eq!(node["mirrors_in"], 3);
    assert_eq!(node["pairs_in"], 1);
    let link = &graph["links"][0];
    assert_eq!(
        (link["source"].as_i64(), link["target"].as_i64()),
        (Some(source), Some(target))
    );
    assert_eq!(link["mirror_direction"], "push");
    assert_eq!(link["mirror_count"], 3);
    assert_eq!(link["pair_ids"], json!([pair_id]));
    assert_eq!(link["status_counts"], json!({"finished": 2, "none": 1}));
    assert_eq!(link["health"], "warning");
    assert_eq!(link["staleness"], "ok");
    assert_eq!(link["never_succeeded_count"], 1);

    let path = format!(
        "/api/topology/link-mirrors?source_instance_id={source}&target_instance_id={target}\
         &mirror_direction=PUSH&never_succeeded_level=error"
    );
    let page = e.call(Method::GET, &path, None).await.expect(200);
    assert_eq!(page["total"], 3);
    let ids: Vec<i64> = page["mirrors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [never, stale, ok]);
    let first = &page["mirrors"][0];
    assert_eq!(first["instance_pair_id"], pair_id);
    assert_eq!(first["instance_pair_name"], "topo");
    assert_eq!(first["never_succeeded"], true);
    assert_eq!(first["health"], "error");
    assert_eq!(first["last_successful_update"], Value::Null);
    assert_eq!(page["mirrors"][1]["health"], "warning");
    assert_eq!(page["mirrors"][1]["last_update_status"], "finished");

    // Thresholds off: the 48-hour-old success is fine.
    let relaxed = e
        .call(
            Method::GET,
            &format!("{path}&stale_warning_seconds=0&stale_error_seconds=0&limit=1&offset=1"),
            None,
        )
        .await
        .expect(200);
    assert_eq!(relaxed["mirrors"].as_array().unwrap().len(), 1);
    assert_eq!(relaxed["mirrors"][0]["staleness"], "ok");
}

#[tokio::test]
async fn read_model_parameters_are_checked_and_named() {
    let e = sqlite().await;
    let link = "/api/topology/link-mirrors?source_instance_id=1&target_instance_id=2";
    e.call(Method::GET, link, None)
        .await
        .expect_field_error("mirror_direction");
    e.call(
        Method::GET,
        &format!("{link}&mirror_direction=sideways"),
        None,
    )
    .await
    .expect_field_error("mirror_direction");
    e.call(
        Method::GET,
        &format!("{link}&mirror_direction=pull&limit=0"),
        None,
    )
    .await
    .expect_field_error("limit");
    e.call(
        Method::GET,
        "/api/topology/link-mirrors?target_instance_id=2&mirror_direction=pull",
        None,
    )
    .await
    .expect_field_error("source_instance_id");
    // Range rules live in the API service: 400 with the REST parameter name.
    let reply = e
        .call(
            Method::GET,
            "/api/topology?stale_warning_seconds=100&stale_error_seconds=10",
            None,
        )
        .await;
    assert_eq!(reply.status.as_u16(), 400);
    reply.expect_field_error("stale_error_seconds");
    e.call(
        Method::GET,
        "/api/topology?never_succeeded_level=fatal",
        None,
    )
    .await
    .expect_field_error("never_succeeded_level");
    e.call(Method::GET, "/api/topology?stale_warning_seconds=-1", None)
        .await
        .expect_field_error("stale_warning_seconds");
    e.call(Method::GET, "/api/topology?instance_pair_id=0", None)
        .await
        .expect_field_error("instance_pair_id");
    e.call(Method::GET, "/api/search", None)
        .await
        .expect_field_error("q");
    e.call(Method::GET, "/api/search?q=%20", None)
        .await
        .expect_field_error("q");
    e.call(Method::GET, "/api/search?q=x&limit=51", None)
        .await
        .expect_field_error("limit");
    e.call(
        Method::GET,
        &format!("/api/search?q={}", "x".repeat(201)),
        None,
    )
    .await
    .expect_field_error("q");
}

#[tokio::test]
async fn search_returns_plain_text_items_of_every_kind() {
    let e = sqlite().await;
    let (pair_id, ..) = pair(&e, "shop").await;
    // Markup in names and paths comes back as data, never as HTML.
    let id = ready_mirror(&e, pair_id, "shop/<b>front</b>", "finished", Some(1)).await;
    let reply = e
        .call(Method::GET, "/api/search?q=SHOP&limit=5", None)
        .await;
    assert_eq!(reply.headers["content-type"], "application/json");
    let results = reply.expect(200);
    assert_eq!(results["query"], "SHOP");
    assert_eq!(results["total_count"], 4);
    assert_eq!(results["instances"].as_array().unwrap().len(), 2);
    let pair = &results["pairs"][0];
    assert_eq!(pair["type"], "pair");
    assert_eq!(pair["subtitle"], "push mirror");
    assert_eq!(pair["url"], format!("/api/pairs/{pair_id}"));
    let mirror = &results["mirrors"][0];
    assert_eq!(mirror["type"], "mirror");
    assert_eq!(mirror["id"], id);
    assert_eq!(
        mirror["title"],
        "shop/<b>front</b> → mirror/shop/<b>front</b>"
    );
    assert_eq!(mirror["subtitle"], "Status: finished");
    assert_eq!(mirror["instance_pair_id"], pair_id);
    assert_eq!(mirror["lifecycle"], "ready");
    assert_eq!(
        results["more"],
        json!({"instances": false, "pairs": false, "mirrors": false})
    );

    let one = e
        .call(Method::GET, "/api/search?q=shop&limit=1", None)
        .await
        .expect(200);
    assert_eq!(one["more"]["instances"], true);
    assert_eq!(one["total_count"], 3);
}
