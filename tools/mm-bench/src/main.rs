//! `mm-bench`: benchmarks of Mirror Maestro.
//!
//! - Without a subcommand: gRPC and REST reads of pairs on SQLite and PostgreSQL, with the
//!   services in this process (see `pair_reads`).
//! - `jobs`: GitLab jobs against the simulator — batch sync under a rate budget, scaling over
//!   worker processes, import, and API latency during a sync — with the release binaries as
//!   separate processes on PostgreSQL and RabbitMQ (see `jobs`).

mod jobs;
mod load;
mod pair_reads;
mod product;
mod read_models;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    about = "Benchmarks of the Mirror Maestro API, gateway and jobs",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(flatten)]
    pair_reads: pair_reads::Args,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// GitLab jobs against the simulator, with mm-api, mm-gateway and mm-worker processes.
    Jobs(jobs::Args),
    /// Dashboard, topology and search read models with 100,000 mirrors, REST and gRPC.
    ReadModels(read_models::Args),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cli = Cli::parse();
    match cli.command {
        None => pair_reads::run(cli.pair_reads).await,
        Some(Command::Jobs(args)) => jobs::run(args).await,
        Some(Command::ReadModels(args)) => read_models::run(args).await,
    }
}
