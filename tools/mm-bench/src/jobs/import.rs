//! Benchmark 3: an import of 1,000 mirrors into one pair under a budget of L requests per
//! minute per instance, against the ideal: the GitLab calls it needs divided by the budget.

use std::time::Duration;

use super::{
    JobsOptions, SETUP_WORKER,
    api::Api,
    sim::{self, Traffic},
    stack::{Stack, WorkerSettings},
};

#[derive(Debug, Clone, clap::Args)]
pub struct ImportArgs {
    /// Mirrors imported.
    #[arg(long, default_value_t = 1000)]
    pub import_mirrors: usize,
    /// Worker processes running the import.
    #[arg(long, default_value_t = 2)]
    pub import_workers: usize,
}

pub struct ImportReport {
    pub limit: u32,
    pub workers: usize,
    pub job_summary: String,
    pub planned_calls: i64,
    pub estimated_seconds: f64,
    pub wall: Duration,
    pub traffic: Vec<Traffic>,
}

impl ImportReport {
    /// Seconds the busiest instance's requests need at L per minute: no schedule can be
    /// faster.
    pub fn ideal_seconds(&self) -> f64 {
        let busiest = self
            .traffic
            .iter()
            .map(|t| t.api_requests)
            .max()
            .unwrap_or(0);
        busiest as f64 * 60.0 / f64::from(self.limit)
    }

    pub fn print(&self) {
        println!(
            "\n== import: L = {}/min per instance, {} workers ==",
            self.limit, self.workers
        );
        println!("  {}", self.job_summary);
        println!(
            "  dry run: {} GitLab calls, estimated {:.1} s",
            self.planned_calls, self.estimated_seconds
        );
        let total: u64 = self.traffic.iter().map(|t| t.api_requests).sum();
        println!(
            "  wall time {:.1} s; ideal {:.1} s (busiest instance's calls ÷ L) = {:.0}% of ideal speed; {} calls made in all",
            self.wall.as_secs_f64(),
            self.ideal_seconds(),
            100.0 * self.ideal_seconds() / self.wall.as_secs_f64().max(1e-9),
            total
        );
        for t in &self.traffic {
            println!(
                "  {}: {} calls, max in any 60 s window {} (limit {}), max 1 s {}, 429s {}",
                t.name, t.api_requests, t.max_per_60s, self.limit, t.max_per_1s, t.throttled_429
            );
            println!("    {}", t.endpoints());
        }
    }
}

pub async fn run(options: &JobsOptions, args: &ImportArgs) -> anyhow::Result<ImportReport> {
    println!(
        "\n-- import: setting up {} project pairs",
        args.import_mirrors
    );
    let sim = sim::start(2).await?;
    let (source, target) = (sim.instance(0), sim.instance(1));
    sim::seed_projects(source, target, args.import_mirrors).await?;
    let mut stack = Stack::start(&options.bin_dir, false, options.limit).await?;
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
            .create_push_pair("bench-import", source_id, target_id)
            .await?;
        stack.stop_workers().await;

        let paths = sim::project_paths(args.import_mirrors);
        let plan = api.plan_import(pair_id, &paths).await?;
        stack
            .start_workers(
                args.import_workers,
                WorkerSettings {
                    requests_per_minute: options.limit,
                    max_concurrency: 8,
                    prefetch: 16,
                },
            )
            .await?;
        for instance in [source, target] {
            sim::limit_per_minute(instance, options.limit);
            instance.reset_stats();
        }
        let job = api.start_import(pair_id, &paths).await?;
        let finished = api.wait_job(job, Duration::from_secs(1800)).await?;
        let traffic = vec![sim::traffic(source), sim::traffic(target)];
        if !finished.succeeded() {
            eprintln!(
                "  the import did not fully succeed: {}; {:?}",
                finished.summary(),
                api.failed_items(job).await
            );
        }
        Ok(ImportReport {
            limit: options.limit,
            workers: args.import_workers,
            job_summary: finished.summary(),
            planned_calls: plan.gitlab_calls,
            estimated_seconds: plan.estimated_seconds,
            wall: finished.wall,
            traffic,
        })
    }
    .await;
    stack.shutdown().await;
    sim.shutdown().await;
    result
}
