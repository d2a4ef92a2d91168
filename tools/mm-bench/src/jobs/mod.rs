//! `mm-bench jobs`: GitLab jobs end to end, against the simulator, with the release binaries
//! as separate processes — `mm-api` (running the outbox relay), `mm-gateway` and N
//! `mm-worker` — on a fresh PostgreSQL database and a RabbitMQ queue prefix of their own,
//! all removed afterwards.
//!
//! Scenarios (`--scenario`, default all):
//! - `batch-sync`: 2,000 mirrors synced under L requests/minute per instance: achieved rate ÷ L,
//!   requests above the limit in any 60 s window, 429s, wall time; and the latency of
//!   `GET /api/mirrors` with 100,000 mirror rows while the batch runs.
//! - `scaling`: the same with 1, 2 and 4 workers over 4 pairs of 8 instances.
//! - `import`: 1,000 mirrors imported under L, against the ideal (calls ÷ L).

mod api;
mod batch_sync;
mod import;
mod process;
mod rest_latency;
mod scaling;
mod sim;
mod stack;

use std::path::PathBuf;

use stack::WorkerSettings;

/// The worker that registers instances and imports the mirrors a measured run needs: a
/// budget far above what the machine can send, so setup is as fast as possible.
const SETUP_WORKER: WorkerSettings = WorkerSettings {
    requests_per_minute: 100_000,
    max_concurrency: 16,
    prefetch: 32,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Scenario {
    BatchSync,
    Scaling,
    Import,
    All,
}

#[derive(clap::Args)]
pub struct Args {
    /// Which benchmark to run.
    #[arg(long, value_enum, default_value = "all")]
    scenario: Scenario,
    /// L: the budget of each GitLab instance in requests per minute
    /// (`MM_GITLAB_REQUESTS_PER_MINUTE`), also enforced by the simulator per user, for the
    /// batch sync and the import.
    #[arg(long, default_value_t = 3000)]
    limit: u32,
    /// Directory of mm-api, mm-gateway and mm-worker (default: beside this executable).
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    #[command(flatten)]
    batch_sync: batch_sync::BatchSyncArgs,
    #[command(flatten)]
    scaling: scaling::ScalingArgs,
    #[command(flatten)]
    import: import::ImportArgs,
}

/// What every scenario needs to know.
pub struct JobsOptions {
    pub bin_dir: PathBuf,
    pub limit: u32,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(args.limit >= 60, "--limit: at least 60 requests per minute");
    anyhow::ensure!(
        args.batch_sync.sync_mirrors > 0,
        "--sync-mirrors: at least 1"
    );
    anyhow::ensure!(
        args.batch_sync.sync_workers > 0,
        "--sync-workers: at least 1"
    );
    anyhow::ensure!(args.batch_sync.rows >= 0, "--rows: must not be negative");
    anyhow::ensure!(
        args.batch_sync.api_rate > 0.0,
        "--api-rate: must be positive"
    );
    anyhow::ensure!(
        args.scaling.scale_mirrors_per_pair > 0,
        "--scale-mirrors-per-pair: at least 1"
    );
    anyhow::ensure!(
        !args.scaling.scale_workers.is_empty() && !args.scaling.scale_workers.contains(&0),
        "--scale-workers: worker counts of at least 1, e.g. 1,2,4"
    );
    anyhow::ensure!(
        args.scaling.scale_prefetch > 0,
        "--scale-prefetch: at least 1"
    );
    anyhow::ensure!(
        args.scaling.scale_limit >= 60,
        "--scale-limit: at least 60 per minute"
    );
    anyhow::ensure!(
        args.import.import_mirrors > 0,
        "--import-mirrors: at least 1"
    );
    anyhow::ensure!(
        args.import.import_workers > 0,
        "--import-workers: at least 1"
    );
    let options = JobsOptions {
        bin_dir: process::binary_dir(args.bin_dir.as_deref())?,
        limit: args.limit,
    };
    println!(
        "mm-bench jobs: binaries in {}, {} cores",
        options.bin_dir.display(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let all = args.scenario == Scenario::All;
    let mut reports: Vec<Box<dyn FnOnce()>> = Vec::new();
    if all || args.scenario == Scenario::BatchSync {
        let report = batch_sync::run(&options, &args.batch_sync).await?;
        report.print();
        reports.push(Box::new(move || report.print()));
    }
    if all || args.scenario == Scenario::Scaling {
        let report = scaling::run(&options, &args.scaling).await?;
        report.print();
        reports.push(Box::new(move || report.print()));
    }
    if all || args.scenario == Scenario::Import {
        let report = import::run(&options, &args.import).await?;
        report.print();
        reports.push(Box::new(move || report.print()));
    }
    if reports.len() > 1 {
        println!("\n==== summary ====");
        for print in reports {
            print();
        }
    }
    Ok(())
}
