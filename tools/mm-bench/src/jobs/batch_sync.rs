//! Benchmark 1 (and 4): a batch sync of one pair's mirrors under a per-instance budget of L
//! requests per minute, with the simulator enforcing the same limit and advertising it in
//! `RateLimit-*` headers; meanwhile, optionally, the latency of `GET /api/mirrors` with
//! 100,000 other mirrors in the database.

use std::time::{Duration, Instant};

use super::{
    JobsOptions, SETUP_WORKER,
    api::Api,
    rest_latency::{self, Latencies, Sampler},
    sim::{self, Traffic},
    stack::{Stack, WorkerSettings},
};

#[derive(Debug, Clone, clap::Args)]
pub struct BatchSyncArgs {
    /// Mirrors in the synced pair.
    #[arg(long, default_value_t = 2000)]
    pub sync_mirrors: usize,
    /// Mirror rows seeded into other pairs for the API latency measurement (0: none, and no
    /// gateway).
    #[arg(long, default_value_t = 100_000)]
    pub rows: i64,
    /// Pairs the seeded rows are spread over.
    #[arg(long, default_value_t = 10)]
    pub row_pairs: i64,
    /// `GET /api/mirrors` requests per second while sampling.
    #[arg(long, default_value_t = 10.0)]
    pub api_rate: f64,
    /// Worker processes running the batch.
    #[arg(long, default_value_t = 2)]
    pub sync_workers: usize,
}

pub struct BatchSyncReport {
    pub limit: u32,
    pub workers: usize,
    pub mirrors: i64,
    pub job_summary: String,
    pub wall: Duration,
    pub source: Traffic,
    pub target: Traffic,
    pub idle_api: Option<Latencies>,
    pub busy_api: Option<Latencies>,
    pub rows: i64,
}

impl BatchSyncReport {
    /// Requests per second over the span of the batch's requests, divided by L per second.
    pub fn rate_ratio(&self) -> f64 {
        let rate = self.source.api_requests as f64 / self.source.elapsed_secs.max(1e-9);
        rate / (f64::from(self.limit) / 60.0)
    }

    pub fn print(&self) {
        let per_minute =
            self.source.api_requests as f64 * 60.0 / self.source.elapsed_secs.max(1e-9);
        println!(
            "\n== batch sync: {} mirrors, L = {}/min per instance, {} workers ==",
            self.mirrors, self.limit, self.workers
        );
        println!("  {}", self.job_summary);
        println!(
            "  wall time {:.1} s; {} GitLab requests to {} over {:.1} s = {:.0}/min = {:.3} × L (target ≥ 0.95)",
            self.wall.as_secs_f64(),
            self.source.api_requests,
            self.source.name,
            self.source.elapsed_secs,
            per_minute,
            self.rate_ratio()
        );
        for traffic in [&self.source, &self.target] {
            println!(
                "  {}: max in any 60 s window {} (limit {}, above: {}), max in any 1 s window {}, 429s {} (target 0)",
                traffic.name,
                traffic.max_per_60s,
                self.limit,
                traffic.max_per_60s.saturating_sub(u64::from(self.limit)),
                traffic.max_per_1s,
                traffic.throttled_429
            );
            if !traffic.by_endpoint.is_empty() {
                println!("    {}", traffic.endpoints());
            }
        }
        for (label, latencies) in [
            ("idle", &self.idle_api),
            ("during the sync", &self.busy_api),
        ] {
            if let Some(l) = latencies {
                println!(
                    "  GET /api/mirrors (50 of {} rows) {label}: {} requests, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, {} errors",
                    self.rows + self.mirrors,
                    l.count(),
                    l.percentile_ms(50.0),
                    l.percentile_ms(99.0),
                    l.max_ms(),
                    l.errors
                );
            }
        }
    }
}

pub async fn run(options: &JobsOptions, args: &BatchSyncArgs) -> anyhow::Result<BatchSyncReport> {
    println!("\n-- batch sync: setting up {} mirrors", args.sync_mirrors);
    let sim = sim::start(2).await?;
    let (source, target) = (sim.instance(0), sim.instance(1));
    sim::seed_projects(source, target, args.sync_mirrors).await?;
    let with_gateway = args.rows > 0;
    let mut stack = Stack::start(&options.bin_dir, with_gateway, options.limit).await?;
    let result = async {
        let mut api = Api::connect(&mut stack).await?;
        stack.start_workers(1, SETUP_WORKER).await?;
        let source_id = api
            .register_instance(&source.name, &source.base_url, &source.admin_token)
            .await?;
        let target_id = api
            .register_instance(&target.name, &target.base_url, &target.admin_token)
            .await?;
        let pair_id = api
            .create_push_pair("bench-sync", source_id, target_id)
            .await?;
        let setup = Instant::now();
        let import = api
            .start_import(pair_id, &sim::project_paths(args.sync_mirrors))
            .await?;
        let import = api.wait_job(import, Duration::from_secs(1800)).await?;
        if !import.succeeded() {
            anyhow::bail!(
                "setup import failed: {}; {:?}",
                import.summary(),
                api.failed_items(import.job.id).await
            );
        }
        println!(
            "  imported {} mirrors in {:.1} s (setup, unlimited budget)",
            args.sync_mirrors,
            setup.elapsed().as_secs_f64()
        );
        if args.rows > 0 {
            let mut other_pairs = Vec::new();
            for i in 0..args.row_pairs.max(1) {
                other_pairs.push(
                    api.create_push_pair(&format!("bench-rows-{i:02}"), source_id, target_id)
                        .await?,
                );
            }
            let per_pair = args.rows / other_pairs.len() as i64;
            rest_latency::seed_mirror_rows(&stack.pool, &other_pairs, per_pair).await?;
        }
        stack.stop_workers().await;

        // The measured run.
        stack
            .start_workers(
                args.sync_workers,
                WorkerSettings {
                    requests_per_minute: options.limit,
                    max_concurrency: 8,
                    prefetch: 16,
                },
            )
            .await?;
        for instance in [source, target] {
            sim::limit_per_minute(instance, options.limit);
        }
        let http_base = stack.http_base.clone();
        let idle_api = match &http_base {
            Some(base) => Some(
                rest_latency::sample_idle(
                    base,
                    &api.bearer,
                    args.api_rate,
                    Duration::from_secs(10),
                )
                .await,
            ),
            None => None,
        };
        for instance in [source, target] {
            instance.reset_stats();
        }
        let sampler = http_base
            .as_deref()
            .map(|base| Sampler::start(base, &api.bearer, args.api_rate));
        let (job_id, mirrors) = api.start_sync(pair_id).await?;
        let finished = api.wait_job(job_id, Duration::from_secs(1800)).await;
        let (source_traffic, target_traffic) = (sim::traffic(source), sim::traffic(target));
        let busy_api = match sampler {
            Some(sampler) => Some(sampler.finish().await),
            None => None,
        };
        let finished = finished?;
        if !finished.succeeded() {
            eprintln!(
                "  the batch sync did not fully succeed: {}; {:?}",
                finished.summary(),
                api.failed_items(job_id).await
            );
        }
        Ok(BatchSyncReport {
            limit: options.limit,
            workers: args.sync_workers,
            mirrors,
            job_summary: finished.summary(),
            wall: finished.wall,
            source: source_traffic,
            target: target_traffic,
            idle_api,
            busy_api,
            rows: args.rows,
        })
    }
    .await;
    stack.shutdown().await;
    sim.shutdown().await;
    result
}
