//! The rate budget against the simulator's Rack::Attack-style throttles.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use gitlab_sim::{RateLimitConfig, Seed};
use mm_gitlab::{
    BudgetConfig, GitLabClient, GitLabError, InstanceKey, LocalRateBudget, RetryPolicy,
};

async fn burst(gl: &GitLabClient, n: usize) -> Vec<Result<(), GitLabError>> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let gl = gl.clone();
            tokio::spawn(async move { gl.version().await.map(|_| ()) })
        })
        .collect();
    let mut out = vec![];
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// Simulator limit L per second, budget L per second, 3×L calls at once:
/// no 429 and never more than L requests in any 1-second window.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn budget_equal_to_limit_never_gets_429() {
    const L: u32 = 20;
    let sim = common::sim(1, Seed::None).await;
    let a = sim.instance(0);
    a.set_rate_limit(RateLimitConfig::per_user(L as u64, 1));
    for cfg in [
        BudgetConfig::per_second(L),
        BudgetConfig::per_second(L).with_burst(L / 4),
    ] {
        // Fresh throttle windows, and a pause so the previous run's last
        // window is over.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        a.set_rate_limit(RateLimitConfig::per_user(L as u64, 1));
        a.reset_stats();
        let budget = Arc::new(LocalRateBudget::new(cfg));
        let gl = common::builder_with(a, budget)
            .max_concurrency(3 * L as usize)
            .build()
            .unwrap();
        let t0 = Instant::now();
        let results = burst(&gl, 3 * L as usize).await;
        let elapsed = t0.elapsed();
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        let st = a.stats();
        assert_eq!(st.throttled_429, 0, "{cfg:?}: {st:?}");
        assert!(
            st.overall.max_per_1s <= L as u64,
            "{cfg:?}: max in 1 s = {}",
            st.overall.max_per_1s
        );
        assert_eq!(st.api_requests, 3 * L as u64);
        // Not slower than needed either: 3L requests at L/s (plus margin).
        assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
        println!(
            "{cfg:?}: {} requests in {elapsed:?}, max per 1 s {}",
            st.api_requests, st.overall.max_per_1s
        );
    }
}

/// A 429 with `Retry-After` pauses every caller of the instance: while the
/// pause lasts, no request reaches GitLab.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retry_after_pauses_all_concurrent_callers() {
    let sim = common::sim(1, Seed::None).await;
    let a = sim.instance(0);
    a.set_rate_limit(RateLimitConfig::per_user(5, 3));
    let budget = Arc::new(LocalRateBudget::new(BudgetConfig::per_second(1000)));
    let key = InstanceKey::new(&a.name);
    let gl = common::builder_with(a, budget.clone())
        .max_concurrency(20)
        .retry(RetryPolicy {
            max_attempts: 10,
            overall_deadline: Duration::from_secs(60),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    let calls = tokio::spawn({
        let gl = gl.clone();
        async move { burst(&gl, 20).await }
    });

    // Wait for the first pause, let in-flight requests land, then check
    // that nothing is sent until the pause ends.
    let t0 = Instant::now();
    let until = loop {
        if let Some(u) = budget.paused_until(&key) {
            break u;
        }
        assert!(t0.elapsed() < Duration::from_secs(10), "never paused");
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    let before = a.stats().api_requests;
    let check_until = budget.paused_until(&key).unwrap_or(until);
    let quiet = check_until.saturating_duration_since(Instant::now());
    assert!(
        quiet >= Duration::from_millis(500),
        "pause too short: {quiet:?}"
    );
    tokio::time::sleep(quiet - Duration::from_millis(100)).await;
    let during = a.stats().api_requests;
    assert_eq!(before, during, "requests were sent during the pause");

    let results = calls.await.unwrap();
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let st = a.stats();
    // Only the initial burst (in flight together) was throttled: after the
    // pause the budget follows GitLab's advertised pace.
    assert!(st.throttled_429 <= 20, "{}", st.throttled_429);
    println!(
        "429s: {}, requests: {}, max per 1 s: {}",
        st.throttled_429, st.api_requests, st.overall.max_per_1s
    );
}

/// Rack::Attack's bare `429 Retry later` (no headers): a default pause for
/// everyone, retried, classified as rate-limited.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn plain_text_429_without_headers() {
    let sim = common::sim(1, Seed::None).await;
    let a = sim.instance(0);
    a.set_rate_limit(RateLimitConfig::per_user(5, 1).plain());
    let budget = Arc::new(LocalRateBudget::new(BudgetConfig::per_second(1000)));

    // Without retries the caller sees the classified error.
    let once = common::builder_with(a, budget.clone())
        .retry(RetryPolicy {
            default_rate_limit_pause: Duration::from_millis(400),
            ..RetryPolicy::none()
        })
        .build()
        .unwrap();
    let results = burst(&once, 8).await;
    let err = results
        .into_iter()
        .find_map(Result::err)
        .expect("some call throttled");
    match &err {
        GitLabError::RateLimited {
            retry_after,
            message,
            ..
        } => {
            assert_eq!(*retry_after, Some(Duration::from_millis(400)));
            assert_eq!(message, "Retry later");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.is_retryable() && !err.counts_against_breaker());

    // With retries every call eventually succeeds.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    a.reset_stats();
    let gl = common::builder_with(a, budget)
        .max_concurrency(10)
        .retry(RetryPolicy {
            max_attempts: 10,
            default_rate_limit_pause: Duration::from_millis(400),
            overall_deadline: Duration::from_secs(30),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    let results = burst(&gl, 12).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let st = a.stats();
    assert!(st.throttled_429 > 0);
    println!(
        "plain 429s: {}, requests: {}",
        st.throttled_429, st.api_requests
    );
}
