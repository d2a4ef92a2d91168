//! Rate limiting, fault injection, statistics and the admin endpoints.

mod common;

use std::time::{Duration, Instant};

use common::*;
use gitlab_sim::{FaultConfig, FaultRule, InstanceSpec, RateLimitConfig};
use reqwest::StatusCode;
use serde_json::json;

/// Start counting at the beginning of a minute so 61 requests share a window.
async fn align_to_fresh_minute() {
    let s = chrono::Utc::now().timestamp() % 60;
    if s > 45 {
        tokio::time::sleep(Duration::from_secs((61 - s) as u64)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_first_request_in_a_minute_is_throttled() {
    let sim = demo_sim(vec![
        InstanceSpec::ee("gl").with_rate_limit(RateLimitConfig::per_user(60, 60)),
    ])
    .await;
    let i = sim.instance(0);
    let admin = Api::new(&i.base_url, &i.admin_token);
    align_to_fresh_minute().await;
    i.reset_stats();
    for n in 1..=60 {
        let r = admin.get("/projects/1").await;
        assert_eq!(r.status, StatusCode::OK, "request {n}");
        assert_eq!(r.header("ratelimit-limit").unwrap(), "60");
        assert_eq!(
            r.header("ratelimit-name").unwrap(),
            "throttle_authenticated_api"
        );
        assert_eq!(r.header("ratelimit-observed").unwrap(), n.to_string());
        assert_eq!(
            r.header("ratelimit-remaining").unwrap(),
            (60 - n).to_string()
        );
        assert!(r.header("retry-after").is_none());
    }
    let r = admin.get("/projects/1").await;
    let now = chrono::Utc::now().timestamp();
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.text, "Retry later\n");
    assert_eq!(r.header("ratelimit-limit").unwrap(), "60");
    assert_eq!(r.header("ratelimit-observed").unwrap(), "61");
    assert_eq!(r.header("ratelimit-remaining").unwrap(), "0");
    let reset: i64 = r.header("ratelimit-reset").unwrap().parse().unwrap();
    assert_eq!(reset % 60, 0, "end of the fixed window");
    assert!(reset > now && reset <= now + 60);
    let retry: i64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    assert!((reset - now - retry).abs() <= 1);
    let reset_time = r.header("ratelimit-resettime").unwrap();
    assert!(reset_time.ends_with(" GMT"), "{reset_time}");

    // Another user has their own bucket.
    let dev = admin.with_token(&i.token_for("developer").unwrap());
    assert_eq!(dev.get("/projects").await.status, StatusCode::OK);

    let stats = admin.get("/-/sim/stats").await;
    assert_eq!(
        stats.status,
        StatusCode::OK,
        "admin endpoints are not throttled"
    );
    assert_eq!(stats.body["throttled_429"], json!(1));
    assert_eq!(stats.body["throttled_by_user"]["root"], json!(1));
    assert_eq!(stats.body["per_user"]["root"]["max_per_60s"], json!(61));
    assert_eq!(
        stats.body["requests_by_endpoint"]["GET /api/v4/projects/{id}"],
        json!(61)
    );
    assert_eq!(stats.body["requests_by_status"]["429"], json!(1));
    let snap = i.stats();
    assert_eq!(snap.overall.requests, 62);
    assert!(snap.overall.max_per_1s >= 1);

    // Plain mode: a bare 429 without rate-limit headers.
    i.set_rate_limit(RateLimitConfig::per_user(2, 60).plain());
    admin.get("/version").await;
    let ok = admin.get("/version").await;
    assert!(ok.header("ratelimit-limit").is_none());
    let r = admin.get("/version").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.text, "Retry later\n");
    assert!(r.header("retry-after").is_none() && r.header("ratelimit-reset").is_none());
    let r = admin.post("/-/sim/stats/reset", json!({})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(i.stats().throttled_429, 0);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_at_runtime_through_the_admin_endpoint() {
    let sim = demo_sim(vec![InstanceSpec::ee("gl")]).await;
    let i = sim.instance(0);
    let admin = Api::new(&i.base_url, &i.admin_token);

    // Admin endpoints need the instance admin token.
    assert_eq!(
        Api::anonymous(&i.base_url)
            .get("/-/sim/faults")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let dev = admin.with_token(&i.token_for("developer").unwrap());
    assert_eq!(dev.get("/-/sim/faults").await.status, StatusCode::FORBIDDEN);

    // Per endpoint errors.
    let cfg = json!({"rules": [{"method": "GET", "path": "/api/v4/projects/*", "error_rate": 1.0, "error_statuses": [503]}]});
    let r = admin.put("/-/sim/faults", cfg).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = admin.get("/projects/1").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(admin.get("/projects").await.status, StatusCode::OK);
    assert_eq!(
        admin.get("/projects/1/remote_mirrors").await.status,
        StatusCode::OK
    );
    let g = admin.get("/-/sim/faults").await;
    assert_eq!(g.body["config"]["rules"][0]["error_statuses"], json!([503]));
    // 500 answers with GitLab's JSON body.
    i.set_faults(FaultConfig::everywhere(
        FaultRule::errors(1.0, &[500]).on("GET", "/api/v4/version"),
    ));
    let r = admin.get("/version").await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.body, json!({"message": "500 Internal Server Error"}));

    // Latency on everything.
    i.set_faults(FaultConfig::everywhere(FaultRule::latency(150, 50)));
    let t = Instant::now();
    assert_eq!(admin.get("/version").await.status, StatusCode::OK);
    let el = t.elapsed();
    assert!(
        el >= Duration::from_millis(150) && el < Duration::from_millis(1500),
        "{el:?}"
    );

    // A hanging endpoint: the client gives up first.
    i.set_faults(FaultConfig::everywhere(
        FaultRule {
            hang_rate: 1.0,
            ..FaultRule::default()
        }
        .on("GET", "/api/v4/user"),
    ));
    let r = reqwest::Client::new()
        .get(format!("{}/api/v4/user", i.base_url))
        .header("PRIVATE-TOKEN", &i.admin_token)
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(r.unwrap_err().is_timeout());

    // Full outage for a while, then recovery; git is down too.
    let r = admin.put("/-/sim/faults", json!({"outage_ms": 700})).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        admin.get("/version").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let gr = reqwest::get(format!(
        "{}/acme/platform/backend/api-gateway.git/info/refs?service=git-upload-pack",
        i.base_url
    ))
    .await
    .unwrap();
    assert_eq!(gr.status(), StatusCode::SERVICE_UNAVAILABLE);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(admin.get("/version").await.status, StatusCode::OK);
    assert_eq!(
        admin.delete("/-/sim/faults").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        admin.get("/-/sim/faults").await.body["config"]["rules"],
        json!([])
    );

    // Rate limit and mirror timing are adjustable over HTTP as well.
    let r = admin
        .put(
            "/-/sim/rate_limit",
            json!({"enabled": true, "authenticated": {"limit": 1000, "period_secs": 60}}),
        )
        .await;
    assert_eq!(r.body["authenticated"]["limit"], json!(1000));
    let r = admin.get("/projects/1").await;
    assert_eq!(r.header("ratelimit-limit").unwrap(), "1000");
    let r = admin
        .put("/-/sim/mirror_timing", json!({"push_backoff_ms": 0}))
        .await;
    assert_eq!(r.body["push_backoff_ms"], json!(0));
    let info = admin.get("/-/sim/info").await;
    assert_eq!(info.body["edition"], "ee");
    let left = admin.get("/-/sim/leftovers").await;
    assert_eq!(left.body["remote_mirrors"], json!([]));
    let muts = admin.get("/-/sim/mutations").await;
    assert!(muts.body.is_array());
    sim.shutdown().await;
}
