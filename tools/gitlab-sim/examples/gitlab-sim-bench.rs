//! Throughput benchmark: concurrent authenticated `GET /api/v4/projects/:id`.
//!
//! ```text
//! cargo run --release -p gitlab-sim --example gitlab-sim-bench -- [--concurrency 64] [--secs 10]
//!     [--url http://127.0.0.1:PORT --token glpat-... --project 1]
//! ```
//!
//! Without `--url` it starts one in-process instance seeded with the demo
//! data. Prints requests per second and latency percentiles.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use gitlab_sim::{InstanceSpec, Seed, Sim, SimConfig};

struct Args {
    url: Option<String>,
    token: Option<String>,
    project: String,
    concurrency: usize,
    secs: u64,
    warmup_secs: u64,
}

fn parse_args() -> Args {
    let mut a = Args {
        url: None,
        token: None,
        project: "1".into(),
        concurrency: 64,
        secs: 10,
        warmup_secs: 2,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().unwrap_or_else(|| panic!("{k} needs a value"));
        match k.as_str() {
            "--url" => a.url = Some(v()),
            "--token" => a.token = Some(v()),
            "--project" => a.project = v(),
            "--concurrency" => a.concurrency = v().parse().expect("number"),
            "--secs" => a.secs = v().parse().expect("number"),
            "--warmup-secs" => a.warmup_secs = v().parse().expect("number"),
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args();
    let (sim, url, token) = match (&args.url, &args.token) {
        (Some(u), Some(t)) => (None, u.clone(), t.clone()),
        _ => {
            let sim = Sim::start(SimConfig {
                instances: vec![InstanceSpec::ee("bench")],
                seed: Seed::Demo,
                ..Default::default()
            })
            .await?;
            let (u, t) = (
                sim.instance(0).base_url.clone(),
                sim.instance(0).admin_token.clone(),
            );
            (Some(sim), u, t)
        }
    };
    let target = format!("{url}/api/v4/projects/{}", args.project);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .tcp_nodelay(true)
        .build()?;
    let probe = client
        .get(&target)
        .header("PRIVATE-TOKEN", &token)
        .send()
        .await?;
    anyhow::ensure!(
        probe.status().is_success(),
        "probe failed: {}",
        probe.status()
    );

    let ok = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = vec![];
    for _ in 0..args.concurrency {
        let (client, target, token) = (client.clone(), target.clone(), token.clone());
        let (ok, errors, measuring, stop) =
            (ok.clone(), errors.clone(), measuring.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(100_000);
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let r = client
                    .get(&target)
                    .header("PRIVATE-TOKEN", &token)
                    .send()
                    .await;
                let good = match r {
                    Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                    _ => false,
                };
                if measuring.load(Ordering::Relaxed) {
                    if good {
                        ok.fetch_add(1, Ordering::Relaxed);
                        lat.push(t.elapsed().as_micros() as u64);
                    } else {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            lat
        }));
    }
    tokio::time::sleep(Duration::from_secs(args.warmup_secs)).await;
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.secs)).await;
    measuring.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let mut lat = vec![];
    for t in tasks {
        lat.extend(t.await?);
    }
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    let n = ok.load(Ordering::Relaxed);
    println!(
        "GET /api/v4/projects/{}: {} requests in {:.1}s = {:.0} req/s (errors {}), concurrency {}, cores {}",
        args.project,
        n,
        elapsed,
        n as f64 / elapsed,
        errors.load(Ordering::Relaxed),
        args.concurrency,
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
    );
    println!(
        "latency: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(0.5) as f64 / 1000.0,
        pct(0.9) as f64 / 1000.0,
        pct(0.99) as f64 / 1000.0,
        lat.last().copied().unwrap_or(0) as f64 / 1000.0
    );
    if let Some(sim) = sim {
        sim.shutdown().await;
    }
    Ok(())
}
