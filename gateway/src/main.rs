//! `mm-gateway`: the REST/JSON gateway as a standalone service.

use std::process::ExitCode;

use clap::Parser;
use mm_config::{CliOverrides, Mode, Settings};

/// REST/JSON gateway and web UI of Mirror Maestro, in front of the gRPC API service.
#[derive(Debug, Parser)]
#[command(name = "mm-gateway", version, about)]
struct Cli {
    #[command(flatten)]
    overrides: CliOverrides,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(Mode::Service, &cli.overrides) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("mm-gateway: configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    // One rustls provider for the whole process (TLS to the API service, if https).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("mm-gateway: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("mm-gateway failed: {error:#}");
            eprintln!("mm-gateway: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(settings: Settings) -> anyhow::Result<()> {
    let _telemetry = mm_telemetry::init("mm-gateway", settings.log_format, &settings.log_level)?;
    let listener = tokio::net::TcpListener::bind(settings.http_addr)
        .await
        .map_err(|e| {
            anyhow::anyhow!("MM_HTTP_ADDR: cannot listen on {}: {e}", settings.http_addr)
        })?;
    tracing::info!(api_url = %settings.api_url, "forwarding to the API service");
    mm_gateway::serve(&settings, listener, shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
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
