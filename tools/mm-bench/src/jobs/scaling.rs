//! Benchmark 2: the same batch sync with 1, 2 and 4 `mm-worker` processes over 4 push pairs
//! of 8 simulated instances.
//!
//! Design: the workers, not the budget, must be the bottleneck. Every simulated GitLab API
//! request takes a fixed extra latency (`/-/sim/faults`), and each worker runs at most
//! `prefetch` tasks at once (`MM_WORKER_PREFETCH`), so one worker can sync at most
//! `prefetch / (3 × latency)` mirrors per second whatever the machine does. The budget of
//! every instance is set above what four workers can ask of one instance, so it only has to
//! hold, never to throttle; the report checks that it held (max requests in any window
//! against the limit, 429s).

use std::time::{Duration, Instant};

use super::{
    JobsOptions, SETUP_WORKER,
    api::Api,
    sim::{self, Traffic},
    stack::{Stack, WorkerSettings},
};

/// GitLab requests of one mirror sync: read the mirror, trigger, read the status back.
const CALLS_PER_SYNC: f64 = 3.0;
const PAIRS: usize = 4;

#[derive(Debug, Clone, clap::Args)]
pub struct ScalingArgs {
    /// Mirrors per pair (4 pairs).
    #[arg(long, default_value_t = 60)]
    pub scale_mirrors_per_pair: usize,
    /// Worker counts to measure, in order.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4")]
    pub scale_workers: Vec<usize>,
    /// Added latency of every simulated GitLab API request, in milliseconds.
    #[arg(long, default_value_t = 400)]
    pub scale_latency_ms: u64,
    /// Tasks in flight per worker process (`MM_WORKER_PREFETCH`).
    #[arg(long, default_value_t = 4)]
    pub scale_prefetch: u32,
    /// Budget of every instance, requests per minute.
    #[arg(long, default_value_t = 3000)]
    pub scale_limit: u32,
}

pub struct ScalingRun {
    pub workers: usize,
    pub mirrors: i64,
    pub wall: Duration,
    pub failed_jobs: Vec<String>,
    pub traffic: Vec<Traffic>,
}

impl ScalingRun {
    pub fn mirrors_per_second(&self) -> f64 {
        self.mirrors as f64 / self.wall.as_secs_f64().max(1e-9)
    }

    pub fn requests(&self) -> u64 {
        self.traffic.iter().map(|t| t.api_requests).sum()
    }
}

pub struct ScalingReport {
    pub args: ScalingArgs,
    pub runs: Vec<ScalingRun>,
}

impl ScalingReport {
    pub fn print(&self) {
        let a = &self.args;
        let ceiling =
            f64::from(a.scale_prefetch) / (CALLS_PER_SYNC * a.scale_latency_ms as f64 / 1000.0);
        println!(
            "\n== scaling: {} pairs × {} mirrors, API latency {} ms, prefetch {} per worker, L = {}/min per instance ==",
            PAIRS, a.scale_mirrors_per_pair, a.scale_latency_ms, a.scale_prefetch, a.scale_limit
        );
        println!("  ceiling per worker: {ceiling:.2} mirrors/s");
        println!(
            "  {:>7} {:>8} {:>10} {:>9} {:>8} {:>10} {:>16} {:>5}",
            "workers",
            "wall s",
            "mirrors/s",
            "speed-up",
            "req/s",
            "of ceiling",
            "max 60 s window",
            "429s"
        );
        let base = self.runs.first().map(ScalingRun::mirrors_per_second);
        for run in &self.runs {
            let rate = run.mirrors_per_second();
            let max_window = run.traffic.iter().map(|t| t.max_per_60s).max().unwrap_or(0);
            let throttled: u64 = run.traffic.iter().map(|t| t.throttled_429).sum();
            println!(
                "  {:>7} {:>8.1} {:>10.2} {:>9.2} {:>8.1} {:>9.0}% {:>9} / {:<5} {:>5}",
                run.workers,
                run.wall.as_secs_f64(),
                rate,
                base.map_or(f64::NAN, |b| rate / b),
                run.requests() as f64 / run.wall.as_secs_f64().max(1e-9),
                100.0 * rate / (ceiling * run.workers as f64),
                max_window,
                a.scale_limit,
                throttled
            );
            for failed in &run.failed_jobs {
                println!("    not fully successful: {failed}");
            }
        }
        for run in &self.runs {
            let per_instance: Vec<String> = run
                .traffic
                .iter()
                .filter(|t| t.api_requests > 0)
                .map(|t| {
                    format!(
                        "{} {} req (max 60 s {}, 1 s {})",
                        t.name, t.api_requests, t.max_per_60s, t.max_per_1s
                    )
                })
                .collect();
            println!("  {} workers: {}", run.workers, per_instance.join("; "));
        }
    }
}

pub async fn run(options: &JobsOptions, args: &ScalingArgs) -> anyhow::Result<ScalingReport> {
    println!(
        "\n-- scaling: setting up {} pairs × {} mirrors on {} instances",
        PAIRS,
        args.scale_mirrors_per_pair,
        PAIRS * 2
    );
    let sim = sim::start(PAIRS * 2).await?;
    for pair in 0..PAIRS {
        sim::seed_projects(
            sim.instance(2 * pair),
            sim.instance(2 * pair + 1),
            args.scale_mirrors_per_pair,
        )
        .await?;
    }
    let mut stack = Stack::start(&options.bin_dir, false, args.scale_limit).await?;
    let result = async {
        let mut api = Api::connect(&mut stack).await?;
        stack.start_workers(1, SETUP_WORKER).await?;
        let mut instance_ids = Vec::new();
        for instance in &sim.instances {
            instance_ids.push(
                api.register_instance(&instance.name, &instance.base_url, &instance.admin_token)
                    .await?,
            );
        }
        let paths = sim::project_paths(args.scale_mirrors_per_pair);
        let mut pair_ids = Vec::new();
        let mut imports = Vec::new();
        for pair in 0..PAIRS {
            let id = api
                .create_push_pair(
                    &format!("bench-scale-{pair}"),
                    instance_ids[2 * pair],
                    instance_ids[2 * pair + 1],
                )
                .await?;
            pair_ids.push(id);
            imports.push(api.start_import(id, &paths).await?);
        }
        for import in imports {
            let job = api.wait_job(import, Duration::from_secs(1800)).await?;
            anyhow::ensure!(job.succeeded(), "setup import failed: {}", job.summary());
        }
        stack.stop_workers().await;

        for instance in &sim.instances {
            sim::api_latency(instance, args.scale_latency_ms);
            sim::limit_per_minute(instance, args.scale_limit);
        }
        let mut runs = Vec::new();
        for &workers in &args.scale_workers {
            stack
                .start_workers(
                    workers,
                    WorkerSettings {
                        requests_per_minute: args.scale_limit,
                        max_concurrency: 8,
                        prefetch: args.scale_prefetch,
                    },
                )
                .await?;
            for instance in &sim.instances {
                instance.reset_stats();
            }
            let started = Instant::now();
            let mut jobs = Vec::new();
            let mut mirrors = 0;
            for &pair_id in &pair_ids {
                let (job, count) = api.start_sync(pair_id).await?;
                jobs.push(job);
                mirrors += count;
            }
            let mut failed_jobs = Vec::new();
            for job in jobs {
                let finished = api.wait_job(job, Duration::from_secs(1800)).await?;
                if !finished.succeeded() {
                    failed_jobs.push(finished.summary());
                }
            }
            let wall = started.elapsed();
            let traffic = sim.instances.iter().map(sim::traffic).collect();
            stack.stop_workers().await;
            let run = ScalingRun {
                workers,
                mirrors,
                wall,
                failed_jobs,
                traffic,
            };
            println!(
                "  {workers} workers: {mirrors} mirrors in {:.1} s ({:.2} mirrors/s)",
                run.wall.as_secs_f64(),
                run.mirrors_per_second()
            );
            runs.push(run);
        }
        Ok(ScalingReport {
            args: args.clone(),
            runs,
        })
    }
    .await;
    stack.shutdown().await;
    sim.shutdown().await;
    result
}
