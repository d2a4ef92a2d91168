//! Budget accuracy over a longer run (not part of CI).
//!
//! Starts one simulated GitLab throttled at LIMIT requests per PERIOD
//! seconds, gives the client the same budget, keeps CONCURRENCY callers busy
//! for DURATION seconds, and prints the achieved rate ÷ the budget, the
//! simulator's 429 count and its highest 1 s / 60 s window counts.
//!
//! ```sh
//! cargo run --release -p mm-gitlab --example budget_accuracy -- [LIMIT] [PERIOD] [DURATION] [CONCURRENCY] [BURST]
//! # default: 120 60 130 16 1
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use gitlab_sim::{InstanceSpec, RateLimitConfig, Seed, Sim, SimConfig};
use mm_gitlab::{
    BudgetConfig, GitLabClient, InstanceKey, LocalRateBudget, RetryPolicy, SecretToken,
};

fn arg(i: usize, default: u64) -> u64 {
    std::env::args()
        .nth(i)
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let limit = arg(1, 120);
    let period = arg(2, 60);
    let duration = Duration::from_secs(arg(3, 130));
    let concurrency = arg(4, 16) as usize;
    let burst = arg(5, 1) as u32;

    let sim = Sim::start(SimConfig {
        instances: vec![InstanceSpec::ee("bench")],
        seed: Seed::None,
        ..Default::default()
    })
    .await?;
    let inst = sim.instance(0);
    inst.set_rate_limit(RateLimitConfig::per_user(limit, period));

    let cfg = BudgetConfig::new(limit as u32, Duration::from_secs(period)).with_burst(burst);
    let budget = Arc::new(LocalRateBudget::new(cfg));
    let gl = GitLabClient::builder(
        inst.base_url.clone(),
        SecretToken::new(inst.admin_token.clone()),
    )
    .instance(InstanceKey::new("bench"))
    .budget(budget)
    .max_concurrency(concurrency)
    .retry(RetryPolicy {
        overall_deadline: Duration::from_secs(3600),
        ..RetryPolicy::default()
    })
    .build()?;

    println!(
        "budget {limit}/{period}s (burst {burst}, margin {:?}, interval {:?}), {concurrency} callers, {duration:?}",
        cfg.safety_margin,
        cfg.interval()
    );
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let t0 = Instant::now();
    let end = t0 + duration;
    let mut tasks = vec![];
    for _ in 0..concurrency {
        let (gl, ok, failed) = (gl.clone(), ok.clone(), failed.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < end {
                let call = gl.with_deadline(end.saturating_duration_since(Instant::now()));
                match call.version().await {
                    Ok(_) => ok.fetch_add(1, Ordering::Relaxed),
                    Err(mm_gitlab::GitLabError::Budget { .. }) => break,
                    Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let st = inst.stats();
    let achieved = ok.load(Ordering::Relaxed) as f64 / elapsed;
    let budgeted = limit as f64 / period as f64;
    println!(
        "requests ok {} failed {} in {elapsed:.1}s",
        ok.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed)
    );
    println!(
        "achieved {achieved:.3}/s, budget {budgeted:.3}/s, achieved ÷ budget = {:.3}",
        achieved / budgeted
    );
    println!(
        "simulator: 429s {}, max in any 1 s {}, max in any 60 s {} (limit {limit} per {period}s)",
        st.throttled_429, st.overall.max_per_1s, st.overall.max_per_60s
    );
    sim.shutdown().await;
    Ok(())
}
