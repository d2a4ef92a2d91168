//! Circuit breaker, outages, timeouts and the retry rules, against injected
//! faults in the simulator.

mod common;

use std::time::{Duration, Instant};

use gitlab_sim::{FaultConfig, FaultRule, Seed};
use mm_gitlab::{
    BreakerState, CreateAccessToken, GitLabError, PageRequest, RetryPolicy, TokenState,
    TransportKind,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn breaker_opens_on_503_and_closes_after_recovery() {
    let sim = common::sim(1, Seed::None).await;
    let a = sim.instance(0);
    let gl = common::client(a);
    gl.version().await.unwrap();

    a.set_faults(FaultConfig::everywhere(FaultRule::errors(1.0, &[503])));
    let err = gl.version().await.unwrap_err();
    assert!(
        matches!(err, GitLabError::Server { status: 503, .. }),
        "{err}"
    );
    // Four attempts per call (retried), five consecutive failures open it.
    let _ = gl.version().await;
    assert_eq!(gl.breaker_state(), BreakerState::Open);
    let sent = a.stats().api_requests;
    let t0 = Instant::now();
    let err = gl.version().await.unwrap_err();
    assert!(matches!(err, GitLabError::CircuitOpen { .. }), "{err}");
    assert!(err.retry_after().is_some());
    assert!(t0.elapsed() < Duration::from_millis(50), "fails fast");
    assert_eq!(a.stats().api_requests, sent, "nothing sent while open");

    a.clear_faults();
    tokio::time::sleep(gl.breaker().config().cooldown).await;
    gl.version().await.unwrap(); // probe 1 (half-open)
    assert_eq!(gl.breaker_state(), BreakerState::HalfOpen);
    gl.version().await.unwrap(); // probe 2 closes it
    assert_eq!(gl.breaker_state(), BreakerState::Closed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn client_errors_never_open_the_breaker() {
    let sim = common::sim(1, Seed::None).await;
    let a = sim.instance(0);
    let gl = common::client(a);
    a.reset_stats();
    for id in 0..30u64 {
        let err = gl.project(900_000 + id).await.unwrap_err();
        assert!(err.is_not_found(), "{err}");
    }
    let bad = mm_gitlab::GitLabClient::builder(a.base_url.clone(), "glpat-nope".into())
        .breaker(gl.breaker().config())
        .build()
        .unwrap();
    for _ in 0..10 {
        assert!(matches!(
            bad.current_user().await.unwrap_err(),
            GitLabError::Unauthorized { .. }
        ));
    }
    assert_eq!(gl.breaker_state(), BreakerState::Closed);
    assert_eq!(bad.breaker_state(), BreakerState::Closed);
    // 4xx are not retried either: one request per call.
    assert_eq!(a.stats().api_requests, 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outage_opens_breaker_and_recovery_closes_it() {
    let sim = common::sim(1, Seed::None).await;
    let a = sim.instance(0);
    let gl = common::client(a);
    a.set_faults(FaultConfig::outage(1500));
    let t0 = Instant::now();
    let mut saw_open = false;
    let mut recovered_after = None;
    while t0.elapsed() < Duration::from_secs(15) {
        match gl.version().await {
            Ok(_) => {
                recovered_after = Some(t0.elapsed());
                break;
            }
            Err(GitLabError::CircuitOpen { retry_in, .. }) => {
                saw_open = true;
                tokio::time::sleep(retry_in.min(Duration::from_millis(200))).await;
            }
            Err(e) => assert!(e.counts_against_breaker(), "{e}"),
        }
    }
    assert!(saw_open, "the outage opened the breaker");
    let recovered_after = recovered_after.expect("recovered");
    assert!(
        recovered_after >= Duration::from_millis(1400),
        "{recovered_after:?}"
    );
    gl.version().await.unwrap();
    assert_eq!(gl.breaker_state(), BreakerState::Closed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hanging_requests_time_out() {
    let sim = common::sim(1, Seed::None).await;
    let a = sim.instance(0);
    let gl = common::builder(a)
        .request_timeout(Duration::from_millis(300))
        .retry(RetryPolicy {
            max_attempts: 2,
            initial_backoff: Duration::from_millis(10),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    a.set_faults(FaultConfig::everywhere(
        FaultRule {
            hang_rate: 1.0,
            hang_ms: Some(30_000),
            ..FaultRule::default()
        }
        .on("GET", "/api/v4/version"),
    ));
    let t0 = Instant::now();
    let err = gl.version().await.unwrap_err();
    let elapsed = t0.elapsed();
    assert!(
        matches!(
            err,
            GitLabError::Transport {
                kind: TransportKind::Timeout,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.counts_against_breaker() && err.is_retryable());
    assert!(
        elapsed >= Duration::from_millis(600) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    // Other endpoints still answer.
    gl.current_user().await.unwrap();

    // The overall deadline bounds the call even with many attempts.
    let gl = common::builder(a)
        .request_timeout(Duration::from_secs(5))
        .retry(RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(10),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap()
        .with_deadline(Duration::from_millis(800));
    let t0 = Instant::now();
    let err = gl.version().await.unwrap_err();
    assert!(
        matches!(
            err,
            GitLabError::Transport {
                kind: TransportKind::Timeout,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        t0.elapsed() < Duration::from_millis(1500),
        "{:?}",
        t0.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn non_idempotent_create_is_not_retried_after_ambiguous_failure() {
    let sim = common::sim(1, Seed::Demo).await;
    let a = sim.instance(0);
    let gl = common::builder(a)
        .request_timeout(Duration::from_millis(400))
        .build()
        .unwrap();
    let project = gl.project("mirror-targets/target-03").await.unwrap();

    // GitLab is slow: the client gives up before the answer. (Real GitLab
    // may still create the token; the simulator drops the request when the
    // client disconnects.)
    a.set_faults(FaultConfig::everywhere(
        FaultRule::latency(1200, 0).on("POST", "/api/v4/projects/*/access_tokens"),
    ));
    a.reset_stats();
    let req = CreateAccessToken::new("mm-lbc-1", &["read_repository"]);
    let err = gl
        .create_project_access_token(project.id, &req)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            GitLabError::Transport {
                kind: TransportKind::Timeout,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        a.stats().requests_by_endpoint["POST /api/v4/projects/{id}/access_tokens"],
        1,
        "not retried"
    );
    a.clear_faults();
    // Look before create: reuse (rotate) a token of that name if the first
    // request went through, else create it now.
    let page = gl
        .list_project_access_tokens(project.id, Some(TokenState::Active), PageRequest::default())
        .await
        .unwrap();
    let token = match page.items.iter().find(|t| t.name == "mm-lbc-1") {
        Some(t) => gl
            .rotate_project_access_token(project.id, t.id, None)
            .await
            .unwrap(),
        None => gl
            .create_project_access_token(project.id, &req)
            .await
            .unwrap(),
    };
    gl.revoke_project_access_token(project.id, token.info.id)
        .await
        .unwrap();

    // 5xx on a create: not retried either. On a GET: retried.
    a.set_faults(FaultConfig::everywhere(FaultRule::errors(1.0, &[502])));
    a.reset_stats();
    let err = gl
        .create_project_access_token(project.id, &req)
        .await
        .unwrap_err();
    assert!(matches!(err, GitLabError::Server { status: 502, .. }));
    let _ = gl.project(project.id).await.unwrap_err();
    let st = a.stats();
    assert_eq!(
        st.requests_by_endpoint["POST /api/v4/projects/{id}/access_tokens"],
        1
    );
    assert_eq!(st.requests_by_endpoint["GET /api/v4/projects/{id}"], 4);
    a.clear_faults();
    assert!(a.leftovers().is_empty(), "{:?}", a.leftovers());
}
