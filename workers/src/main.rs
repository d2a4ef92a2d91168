//! `mm-worker`: the standalone task worker.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mm_config::{Mode, Settings};
use mm_worker::{Publisher, Topology, WorkerConfig};

#[derive(Parser)]
#[command(name = "mm-worker", version, about = "Mirror Maestro task worker")]
struct Cli {
    #[command(flatten)]
    overrides: mm_config::CliOverrides,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Consume tasks (the default).
    Run,
    /// Move parked tasks from the dead-letter queue back to the task queue.
    ReplayDeadLetters {
        /// Move at most this many.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
}

fn main() -> ExitCode {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cli = Cli::parse();
    let settings = match Settings::load(Mode::Service, &cli.overrides) {
        Ok(settings) => settings,
        Err(error) => return config_error(&error),
    };
    if let Err(error) = WorkerConfig::load() {
        return config_error(&error);
    }
    if settings.amqp_url.is_none() {
        return config_error(
            &"MM_AMQP_URL: must be set for mm-worker, e.g. amqp://user:password@rabbitmq:5672/%2f",
        );
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("mm-worker: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let _telemetry = mm_telemetry::init("mm-worker", settings.log_format, &settings.log_level)?;
        match cli.command.unwrap_or(Command::Run) {
            Command::Run => mm_worker::run(&settings, mm_worker::shutdown::signal()).await,
            Command::ReplayDeadLetters { limit } => replay(&settings, limit).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("mm-worker: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn config_error(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("mm-worker: configuration error: {error}");
    ExitCode::from(2)
}

async fn replay(settings: &Settings, limit: usize) -> anyhow::Result<()> {
    let config = WorkerConfig::load()?;
    let url = settings.amqp_url.as_deref().unwrap_or_default();
    let connection = mm_worker::connect::connect(url).await?;
    let topology = Topology::from_config(&config);
    let publisher = Publisher::new(connection.create_channel().await?, topology.clone()).await?;
    let moved = publisher.replay_dead_letters(limit).await?;
    println!(
        "moved {moved} task(s) from {} to {}",
        topology.dead_queue(),
        topology.task_queue()
    );
    connection.close(200, "replay done".into()).await?;
    Ok(())
}
