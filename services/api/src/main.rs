//! `mm-api`: the gRPC API service as a standalone process.

use std::process::ExitCode;

use clap::Parser;
use mm_config::{CliOverrides, Mode, Settings};

/// Mirror Maestro gRPC API service.
#[derive(Debug, Parser)]
#[command(name = "mm-api", version, about)]
struct Cli {
    #[command(flatten)]
    overrides: CliOverrides,
    /// Apply pending database migrations before serving (normally done by
    /// `mirror-maestro migrate`).
    #[arg(long)]
    migrate: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(Mode::Service, &cli.overrides) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    // One process-wide TLS provider, whatever the dependencies enable.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();

    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(settings, cli.migrate)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "mm-api stopped");
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(settings: Settings, migrate: bool) -> anyhow::Result<()> {
    let _telemetry = mm_telemetry::init("mm-api", settings.log_format, &settings.log_level)?;
    let (ctx, generated_admin) = mm_api::prepare(&settings, migrate).await?;
    if let Some(admin) = generated_admin {
        // Printed once for the operator, on stdout and never into the log.
        println!(
            "Created the administrator account {:?} with the generated password: {}\n\
             Store it now; it is not shown again.",
            admin.username, admin.password
        );
    }
    let listener = tokio::net::TcpListener::bind(settings.grpc_addr)
        .await
        .map_err(|e| {
            anyhow::anyhow!("MM_GRPC_ADDR: cannot listen on {}: {e}", settings.grpc_addr)
        })?;

    // Jobs recorded here reach the workers through the outbox relay (RabbitMQ), or run in
    // this process when no broker is configured. The project search shares the workers'
    // rate budget.
    let (_, pg) = mm_worker::runtime::connect_storage(&settings).await?;
    let runtime = mm_worker::runtime::JobRuntime::assemble(
        &settings,
        ctx.storage().clone(),
        ctx.cipher().clone(),
        mm_worker::runtime::rate_budget(&settings, pg.as_ref()),
    );
    let ctx = ctx.with_rate_budget(runtime.budget.clone());
    let dispatch = mm_worker::runtime::Dispatch::from_settings(&settings, false);
    if matches!(dispatch, mm_worker::runtime::Dispatch::InProcess) {
        tracing::warn!("MM_AMQP_URL is not set: this process runs the jobs itself");
    }
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let jobs = tokio::spawn({
        let settings = settings.clone();
        let shutdown = mm_worker::Shutdown::from_future(async move {
            let mut stop_rx = stop_rx;
            let _ = stop_rx.wait_for(|stopped| *stopped).await;
        });
        // With a broker the workers run the schedule; alone, this process does.
        let schedule = matches!(dispatch, mm_worker::runtime::Dispatch::InProcess);
        async move {
            mm_worker::runtime::run_dispatch(&settings, runtime, dispatch, schedule, shutdown).await
        }
    });
    let served = mm_api::serve(ctx, listener, shutdown_signal()).await;
    let _ = stop.send(true);
    jobs.await??;
    served
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
