//! The embedded default: API, gateway and worker in one process, sharing one database.

use std::net::SocketAddr;

use anyhow::Context as _;
use mm_config::Settings;
use tokio::{net::TcpListener, sync::watch, task::JoinHandle};

/// Runs every service until Ctrl-C or SIGTERM.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let product = start(settings).await?;
    product.print_banner();
    product.wait().await
}

/// The running services of the embedded product.
pub struct RunningProduct {
    settings: Settings,
    http_addr: SocketAddr,
    grpc_addr: SocketAddr,
    generated_admin: Option<mm_api::GeneratedAdmin>,
    stop: watch::Sender<bool>,
    api: JoinHandle<anyhow::Result<()>>,
    gateway: JoinHandle<anyhow::Result<()>>,
    jobs: JoinHandle<anyhow::Result<()>>,
}

/// Migrates the database, prepares keys and the admin account, and starts every service.
pub async fn start(settings: Settings) -> anyhow::Result<RunningProduct> {
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("MM_DATA_DIR: cannot create {}", settings.data_dir.display()))?;
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

    // Jobs run in this process: from the outbox directly, or through RabbitMQ when
    // MM_AMQP_URL is set (relay and consumer both here).
    let runtime = mm_worker::runtime::JobRuntime::assemble(
        &settings,
        context.storage().clone(),
        context.cipher().clone(),
        mm_worker::runtime::rate_budget(&settings, None),
    );
    let context = context.with_rate_budget(runtime.budget.clone());
    let dispatch = mm_worker::runtime::Dispatch::from_settings(&settings, true);

    let (stop, stop_rx) = watch::channel(false);
    let jobs = tokio::spawn({
        let settings = settings.clone();
        let shutdown = mm_worker::Shutdown::from_future(stopped(stop_rx.clone()));
        async move {
            mm_worker::runtime::run_dispatch(&settings, runtime, dispatch, true, shutdown).await
        }
    });
    let api = tokio::spawn(mm_api::serve(
        context,
        grpc_listener,
        stopped(stop_rx.clone()),
    ));
    let gateway = tokio::spawn({
        let stop = stopped(stop_rx);
        async move { mm_gateway::serve(&gateway_settings, http_listener, stop).await }
    });
    Ok(RunningProduct {
        settings,
        http_addr,
        grpc_addr,
        generated_admin,
        stop,
        api,
        gateway,
        jobs,
    })
}

impl RunningProduct {
    pub fn grpc_url(&self) -> String {
        format!("http://{}", self.grpc_addr)
    }

    pub fn admin_username(&self) -> String {
        self.settings.admin_username.clone()
    }

    /// The admin password when this process knows it (generated now or configured).
    pub fn admin_password(&self) -> Option<String> {
        match (&self.generated_admin, &self.settings.admin_password) {
            (Some(admin), _) => Some(admin.password.clone()),
            (None, Some(password)) => Some(password.expose().to_owned()),
            (None, None) => None,
        }
    }

    /// Prints where the product listens and how to log in.
    pub fn print_banner(&self) {
        let http_addr = self.http_addr;
        println!();
        println!("  Mirror Maestro is running");
        println!("    Web console & REST API  http://{http_addr}/");
        println!("    API documentation       http://{http_addr}/api/docs");
        println!("    gRPC API                {}", self.grpc_addr);
        println!(
            "    Data directory          {}",
            self.settings.data_dir.display()
        );
        println!(
            "    Admin user              {}",
            self.settings.admin_username
        );
        match (&self.generated_admin, &self.settings.admin_password) {
            (Some(admin), _) => println!(
                "    Admin password          {}   (generated; shown only this once)",
                admin.password
            ),
            (None, Some(_)) => println!("    Admin password          from MM_ADMIN_PASSWORD"),
            (None, None) => println!("    Admin password          printed at first start"),
        }
        println!(
            "    Try it                  curl -u {}:<password> http://{http_addr}/api/instances",
            self.settings.admin_username
        );
        println!();
    }

    /// Waits for Ctrl-C or SIGTERM (or a service failing), then stops every service.
    pub async fn wait(self) -> anyhow::Result<()> {
        let RunningProduct {
            stop,
            mut api,
            mut gateway,
            mut jobs,
            ..
        } = self;
        let early_exit = tokio::select! {
            () = shutdown_signal() => None,
            result = &mut api => Some(("API", result)),
            result = &mut gateway => Some(("gateway", result)),
            result = &mut jobs => Some(("job runner", result)),
        };
        tracing::info!("shutting down");
        let _ = stop.send(true);
        if let Some((service, result)) = early_exit {
            result.with_context(|| format!("{service} task panicked"))??;
            anyhow::bail!("the {service} stopped unexpectedly");
        }
        api.await.context("API task panicked")??;
        gateway.await.context("gateway task panicked")??;
        jobs.await.context("job runner task panicked")??;
        Ok(())
    }
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
