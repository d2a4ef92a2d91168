//! The embedded default: API, gateway and worker in one process, sharing one database.

use anyhow::Context as _;
use mm_config::Settings;
use tokio::{net::TcpListener, sync::watch};

/// Runs every service until Ctrl-C or SIGTERM.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    std::fs::create_dir_all(&settings.data_dir).with_context(|| {
        format!("MM_DATA_DIR: cannot create {}", settings.data_dir.display())
    })?;
    let (context, generated_admin) = mm_api::prepare(&settings, true).await?;

    let grpc_listener = TcpListener::bind(settings.grpc_addr)
        .await
        .with_context(|| format!("MM_GRPC_ADDR: cannot listen on {}", settings.grpc_addr))?;
    let http_listener = TcpListener::bind(settings.http_addr)
        .await
        .with_context(|| format!("MM_HTTP_ADDR: cannot listen on {}", settings.http_addr))?;
    let grpc_addr = grpc_listener.local_addr()?;
    let http_addr = http_listener.local_addr()?;

    // The gateway talks to the API over real gRPC, exactly as in a split deployment.
    let mut gateway_settings = settings.clone();
    gateway_settings.api_url = format!("http://{grpc_addr}");

    let (stop_tx, stop_rx) = watch::channel(false);
    let api = tokio::spawn(mm_api::serve(context, grpc_listener, stopped(stop_rx.clone())));
    let gateway = tokio::spawn({
        let stop = stopped(stop_rx.clone());
        async move { mm_gateway::serve(&gateway_settings, http_listener, stop).await }
    });

    print_banner(&settings, http_addr, grpc_addr, generated_admin.as_ref());

    shutdown_signal().await;
    tracing::info!("shutting down");
    let _ = stop_tx.send(true);
    api.await.context("API task panicked")??;
    gateway.await.context("gateway task panicked")??;
    Ok(())
}

fn print_banner(
    settings: &Settings,
    http_addr: std::net::SocketAddr,
    grpc_addr: std::net::SocketAddr,
    generated_admin: Option<&mm_api::GeneratedAdmin>,
) {
    println!();
    println!("  Mirror Maestro is running");
    println!("    Web console & REST API  http://{http_addr}/");
    println!("    API documentation       http://{http_addr}/api/docs");
    println!("    gRPC API                {grpc_addr}");
    println!("    Data directory          {}", settings.data_dir.display());
    match generated_admin {
        Some(admin) => {
            println!("    Admin user              {}", admin.username);
            println!("    Admin password          {}   (generated; shown only this once)", admin.password);
        }
        None if settings.admin_password.is_some() => {
            println!("    Admin user              {} (password from MM_ADMIN_PASSWORD)", settings.admin_username);
        }
        None => {
            println!(
                "    Admin user              {} (password was printed at first start)",
                settings.admin_username
            );
        }
    }
    println!();
}

async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}

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
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
