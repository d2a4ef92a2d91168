//! `mirror-maestro`: the whole product in one process (API, REST gateway and web UI, worker)
//! on SQLite with an in-process job bus, plus the operator commands around it.

mod demo;
mod embedded;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mm_config::{CliOverrides, Mode, Settings};

#[derive(Parser)]
#[command(
    name = "mirror-maestro",
    version,
    about = "Orchestrates GitLab repository mirrors"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    overrides: CliOverrides,
}

#[derive(Subcommand)]
enum Command {
    /// Run every service in one process (the default).
    Up,
    /// Apply the database migrations and exit.
    Migrate,
    /// Run the product with two simulated GitLab instances, registered and paired.
    Demo,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mode = match cli.command {
        Some(Command::Migrate) => Mode::Service,
        _ => Mode::Embedded,
    };
    let settings = match Settings::load(mode, &cli.overrides) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("mirror-maestro: configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();

    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("mirror-maestro: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        let _telemetry =
            mm_telemetry::init("mirror-maestro", settings.log_format, &settings.log_level)?;
        match cli.command.unwrap_or(Command::Up) {
            Command::Up => embedded::run(settings).await,
            Command::Demo => demo::run(settings).await,
            Command::Migrate => {
                mm_api::migrate(&settings).await?;
                println!("migrations applied");
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mirror-maestro: {error:#}");
            ExitCode::FAILURE
        }
    }
}
