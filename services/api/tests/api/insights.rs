//! Read models: DashboardService, TopologyService and SearchService. Mirror statuses are
//! recorded through storage, as the status refresh would record them.

use chrono::{Duration, SubsecRound, Utc};
use mm_proto::v1::{
    self, dashboard_service_client::DashboardServiceClient,
    search_service_client::SearchServiceClient, topology_service_client::TopologyServiceClient,
};
use mm_storage::{MirrorLifecycle, MirrorProvisioning, MirrorStatusUpdate, NewJob, NewMirror};
use serde_json::json;
use tonic::Code;

use crate::helpers::{Authed, Authorization, TestApp, api_tests, assert_field};

api_tests!(
    dashboard_counts_ready_mirrors_and_reads_the_schedule,
    topology_folds_pairs_into_links_with_health,
    link_mirrors_are_ordered_worst_first,
    search_finds_instances_pairs_and_mirrors,
    read_model_parameters_are_validated,
);

fn dashboard(app: &TestApp) -> DashboardServiceClient<Authed> {
    DashboardServiceClient::with_interceptor(app.channel.clone(), app.bearer())
}

fn topology(app: &TestApp) -> TopologyServiceClient<Authed> {
    TopologyServiceClient::with_interceptor(app.channel.clone(), app.bearer())
}

fn search(app: &TestApp) -> SearchServiceClient<Authed> {
    SearchServiceClient::with_interceptor(app.channel.clone(), app.bearer())
}

/// A mirror of `pair_id` (`src/<n>` → `dst/<n>`); ready with `status` and a success
/// `success_hours` ago unless `status` is `None` (then it stays `creating`).
async fn mirror(
    app: &TestApp,
    pair_id: i64,
    n: u32,
    status: Option<&str>,
    success_hours: Option<i64>,
) -> i64 {
    let id = app
        .storage()
        .insert_mirror(&NewMirror::new(
            pair_id,
            format!("src/{n}"),
            format!("dst/{n}"),
        ))
        .await
        .unwrap()
        .id;
    let Some(status) = status else { return id };
    app.storage()
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
    app.storage()
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

async fn dashboard_counts_ready_mirrors_and_reads_the_schedule(app: TestApp) {
    let empty = dashboard(&app)
        .get_dashboard_metrics(v1::GetDashboardMetricsRequest {})
        .await
        .unwrap()
        .into_inner();
    let summary = empty.summary.unwrap();
    assert_eq!(
        (summary.total_mirrors, summary.health_percentage),
        (0, 100.0)
    );

    let pair = app.pair("dash").await;
    mirror(&app, pair.id, 1, Some("finished"), Some(1)).await;
    mirror(&app, pair.id, 2, Some("finished"), Some(2)).await;
    mirror(&app, pair.id, 3, Some("failed"), None).await;
    let syncing = mirror(&app, pair.id, 4, Some("started"), None).await;
    mirror(&app, pair.id, 5, Some("none"), None).await;
    mirror(&app, pair.id, 6, None, None).await;
    // A finished scheduled round.
    let round = app
        .storage()
        .create_job(&NewJob {
            kind: "scheduled.refresh_status".into(),
            pair_id: None,
            mirror_id: None,
            instance_id: None,
            requested_by: "scheduler".into(),
            params: json!({}),
            items: vec![],
            traceparent: None,
            mark_deleting: vec![],
        })
        .await
        .unwrap()
        .job
        .id;

    let metrics = dashboard(&app)
        .get_dashboard_metrics(v1::GetDashboardMetricsRequest {})
        .await
        .unwrap()
        .into_inner();
    let summary = metrics.summary.unwrap();
    assert_eq!(summary.total_mirrors, 5, "creating mirrors are not judged");
    assert_eq!((summary.total_pairs, summary.total_instances), (1, 2));
    assert_eq!(summary.enabled_mirrors, 5);
    assert_eq!(summary.health_percentage, 40.0);
    let health = metrics.health.unwrap();
    assert_eq!(
        (
            health.success,
            health.failed,
            health.pending,
            health.unknown
        ),
        (2, 1, 2, 0)
    );
    let lifecycle = metrics.lifecycle.unwrap();
    assert_eq!((lifecycle.ready, lifecycle.creating), (5, 1));
    let freshness = metrics.status_freshness.unwrap();
    assert_eq!((freshness.fresh_count, freshness.stale_count), (5, 0));
    // The test service runs with the default 300 s interval.
    assert_eq!(freshness.fresh_window_seconds, 600);
    let refresh = freshness.auto_refresh.unwrap();
    assert!(refresh.enabled && !refresh.refreshing && !refresh.running);
    assert_eq!(refresh.interval_seconds, 300);
    assert_eq!(refresh.last_refresh_job_id, Some(round));
    assert_eq!(refresh.last_refresh_total, Some(0));
    assert_eq!(metrics.mirrors_by_pair.len(), 1);
    assert_eq!(metrics.mirrors_by_pair[0].count, 6);
    // Instance verifications are the recent jobs; the scheduled round is not among them.
    assert!(!metrics.recent_activity.is_empty());
    assert!(
        metrics
            .recent_activity
            .iter()
            .all(|a| a.job_kind == "instance.verify" && a.activity_type == "updated")
    );

    let quick = dashboard(&app)
        .get_quick_stats(v1::GetQuickStatsRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(quick.syncing_count, 1);
    assert_eq!(quick.syncing_mirror_ids, [syncing]);
    assert_eq!(quick.recent_failures, 1);

    // Without credentials: refused.
    let mut anonymous =
        DashboardServiceClient::with_interceptor(app.channel.clone(), Authorization(None));
    let status = anonymous
        .get_quick_stats(v1::GetQuickStatsRequest {})
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
}

async fn topology_folds_pairs_into_links_with_health(app: TestApp) {
    let pair = app.pair("topo").await;
    let second = app
        .create_pair("topo-2", pair.source_instance_id, pair.target_instance_id)
        .await
        .pair
        .unwrap();
    mirror(&app, pair.id, 1, Some("finished"), Some(1)).await;
    mirror(&app, second.id, 2, Some("finished"), Some(200)).await;
    mirror(&app, second.id, 3, None, None).await;
    let lonely = app.create_instance("lonely").await;

    let graph = topology(&app)
        .get_topology(v1::GetTopologyRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(graph.nodes.len(), 3);
    let names: Vec<&str> = graph.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["lonely", "topo-dst", "topo-src"]);
    assert_eq!(graph.nodes[0].id, lonely.id);
    assert_eq!(graph.nodes[0].health, v1::HealthLevel::Unknown as i32);
    let source = &graph.nodes[2];
    assert_eq!(
        (source.mirrors_out, source.pairs_out, source.mirrors_in),
        (2, 2, 0)
    );
    assert_eq!(graph.links.len(), 1);
    let link = &graph.links[0];
    assert_eq!((link.mirror_count, link.pair_count), (2, 2));
    assert_eq!(link.pair_ids, [pair.id, second.id]);
    assert_eq!(link.status_counts["finished"], 2);
    assert_eq!(link.health, v1::HealthLevel::Ok as i32);
    let age = link.staleness_age_seconds.unwrap();
    assert!((3600..3660).contains(&age), "{age}");

    // A warning threshold of 30 minutes makes the newest success (1 h) stale.
    let strict = topology(&app)
        .get_topology(v1::GetTopologyRequest {
            stale_warning_seconds: Some(1800),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(strict.links[0].health, v1::HealthLevel::Warning as i32);
    // Only the second pair: its newest success is 200 h old, past the 7-day error age.
    let only = topology(&app)
        .get_topology(v1::GetTopologyRequest {
            pair_id: second.id,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(only.links[0].mirror_count, 1);
    assert_eq!(only.links[0].health, v1::HealthLevel::Error as i32);
}

async fn link_mirrors_are_ordered_worst_first(app: TestApp) {
    let pair = app.pair("links").await;
    let ok = mirror(&app, pair.id, 1, Some("finished"), Some(1)).await;
    let failed = mirror(&app, pair.id, 2, Some("failed"), Some(1)).await;
    let never = mirror(&app, pair.id, 3, Some("none"), None).await;
    let request = v1::ListLinkMirrorsRequest {
        source_instance_id: pair.source_instance_id,
        target_instance_id: pair.target_instance_id,
        mirror_direction: v1::MirrorDirection::Push as i32,
        ..Default::default()
    };
    let page = topology(&app)
        .list_link_mirrors(request)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.total_size, 3);
    let ids: Vec<i64> = page.mirrors.iter().map(|m| m.id).collect();
    assert_eq!(ids, [failed, never, ok]);
    assert!(page.mirrors[1].never_succeeded);
    assert_eq!(page.mirrors[1].staleness, v1::HealthLevel::Warning as i32);
    assert_eq!(page.mirrors[0].pair_name, "links");

    let page = topology(&app)
        .list_link_mirrors(v1::ListLinkMirrorsRequest {
            never_succeeded_level: v1::HealthLevel::Error as i32,
            page_size: 1,
            offset: 1,
            ..request
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.total_size, 3);
    assert_eq!(page.mirrors.len(), 1);
    assert_eq!(
        page.mirrors[0].id, never,
        "never-succeeded sorts after failed at error level"
    );
    assert_eq!(page.mirrors[0].health, v1::HealthLevel::Error as i32);
}

async fn search_finds_instances_pairs_and_mirrors(app: TestApp) {
    let pair = app.pair("searchable").await;
    mirror(&app, pair.id, 1, Some("finished"), Some(1)).await;
    let hits = search(&app)
        .search(v1::SearchRequest {
            query: " SEARCHABLE ".into(),
            limit: 0,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(hits.instances.len(), 2);
    assert_eq!(hits.pairs.len(), 1);
    assert_eq!(
        hits.pairs[0].mirror_direction,
        v1::MirrorDirection::Push as i32
    );
    assert!(hits.mirrors.is_empty());
    let hits = search(&app)
        .search(v1::SearchRequest {
            query: "dst/1".into(),
            limit: 1,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(hits.mirrors.len(), 1);
    assert_eq!(hits.mirrors[0].last_update_status, "finished");
    assert_eq!(hits.mirrors[0].lifecycle, v1::MirrorLifecycle::Ready as i32);
    assert!(!hits.more_mirrors);
    let limited = search(&app)
        .search(v1::SearchRequest {
            query: "searchable".into(),
            limit: 1,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(limited.instances.len(), 1);
    assert!(limited.more_instances);
}

async fn read_model_parameters_are_validated(app: TestApp) {
    let status = topology(&app)
        .get_topology(v1::GetTopologyRequest {
            stale_warning_seconds: Some(-5),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_field(&status, Code::InvalidArgument, "stale_warning_seconds");
    let status = topology(&app)
        .get_topology(v1::GetTopologyRequest {
            stale_warning_seconds: Some(100),
            stale_error_seconds: Some(50),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_field(&status, Code::InvalidArgument, "stale_error_seconds");
    let status = topology(&app)
        .get_topology(v1::GetTopologyRequest {
            never_succeeded_level: v1::HealthLevel::Ok as i32,
            pair_id: -1,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_field(&status, Code::InvalidArgument, "never_succeeded_level");
    assert_field(&status, Code::InvalidArgument, "pair_id");

    let status = topology(&app)
        .list_link_mirrors(v1::ListLinkMirrorsRequest {
            source_instance_id: 1,
            target_instance_id: 0,
            page_size: 501,
            offset: -1,
            ..Default::default()
        })
        .await
        .unwrap_err();
    for field in [
        "target_instance_id",
        "mirror_direction",
        "page_size",
        "offset",
    ] {
        assert_field(&status, Code::InvalidArgument, field);
    }

    for (query, limit, field) in [
        ("", 0, "query"),
        ("x", 51, "limit"),
        ("a\u{7}b", 0, "query"),
    ] {
        let status = search(&app)
            .search(v1::SearchRequest {
                query: query.into(),
                limit,
            })
            .await
            .unwrap_err();
        assert_field(&status, Code::InvalidArgument, field);
    }
}
