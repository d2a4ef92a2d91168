//! Spawning the real API service for tests (feature `testing`).
//!
//! ```ignore
//! let Some(api) = mm_api::testing::spawn_api(TestBackend::Sqlite).await else { return };
//! let token = api.admin_token().await;
//! ```
//!
//! Each [`SpawnedApi`] has its own database (see `mm_storage::testing`), data directory and
//! port on 127.0.0.1; everything is removed when it is dropped.

use std::net::SocketAddr;

use mm_config::{CliOverrides, Mode, Settings};
use mm_proto::v1::{LoginRequest, auth_service_client::AuthServiceClient};
pub use mm_storage::testing::{TestBackend, TestDatabase, postgres_skipped};
use tokio::{sync::oneshot, task::JoinHandle};
use tonic::transport::Channel;

use crate::ApiContext;

/// Options of [`spawn_api_with`].
#[derive(Debug, Clone, Default)]
pub struct SpawnOptions {
    /// Accept instance URLs on loopback and private networks.
    pub allow_private_ips: bool,
}

/// A running API service.
pub struct SpawnedApi {
    /// Address it listens on.
    pub addr: SocketAddr,
    /// `http://<addr>`, for tonic clients.
    pub url: String,
    pub admin_username: String,
    pub admin_password: String,
    /// The JWT secret, for tests that forge tokens.
    pub jwt_secret: String,
    /// The service's shared state (storage, cipher, settings).
    pub ctx: ApiContext,
    /// The database behind the service.
    pub database: TestDatabase,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
    _data_dir: tempfile::TempDir,
}

/// Spawns the service on a fresh database of `backend`, with default options. `None` only
/// for PostgreSQL when `MM_SKIP_POSTGRES=1`; fails when PostgreSQL is unreachable otherwise.
pub async fn spawn_api(backend: TestBackend) -> Option<SpawnedApi> {
    spawn_api_with(backend, SpawnOptions::default()).await
}

/// Spawns the service with `options`; see [`spawn_api`].
pub async fn spawn_api_with(backend: TestBackend, options: SpawnOptions) -> Option<SpawnedApi> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let database = TestDatabase::create(backend).await?;
    let data_dir = tempfile::tempdir().expect("create a data directory");
    let admin_password = mm_crypto::random_password(20);
    let jwt_secret = mm_crypto::random_secret();
    let cli = CliOverrides {
        data_dir: Some(data_dir.path().to_owned()),
        database_url: Some(database.url.clone()),
        ..CliOverrides::default()
    };
    let env = [
        ("MM_ADMIN_USERNAME", "admin".to_owned()),
        ("MM_ADMIN_PASSWORD", admin_password.clone()),
        ("MM_JWT_SECRET", jwt_secret.clone()),
        ("MM_DB_MAX_CONNECTIONS", "5".to_owned()),
        (
            "MM_ALLOW_PRIVATE_IPS",
            options.allow_private_ips.to_string(),
        ),
    ];
    let settings = Settings::load_from(
        Mode::Service,
        &cli,
        env.into_iter().map(|(k, v)| (k.to_owned(), v)),
    )
    .expect("test settings are valid");
    let (ctx, _) = crate::prepare(&settings, true)
        .await
        .expect("prepare the API service");

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a test port");
    let addr = listener.local_addr().expect("local address");
    let (shutdown, shutdown_signal) = oneshot::channel::<()>();
    let server = tokio::spawn(crate::serve(ctx.clone(), listener, async move {
        let _ = shutdown_signal.await;
    }));
    Some(SpawnedApi {
        addr,
        url: format!("http://{addr}"),
        admin_username: settings.admin_username.clone(),
        admin_password,
        jwt_secret,
        ctx,
        database,
        shutdown: Some(shutdown),
        server: Some(server),
        _data_dir: data_dir,
    })
}

impl SpawnedApi {
    /// A connected gRPC channel.
    pub async fn channel(&self) -> Channel {
        Channel::from_shared(self.url.clone())
            .expect("valid URL")
            .connect()
            .await
            .expect("connect to the spawned API")
    }

    /// Logs in as the administrator and returns the access token.
    pub async fn admin_token(&self) -> String {
        let mut client = AuthServiceClient::new(self.channel().await);
        client
            .login(LoginRequest {
                username: self.admin_username.clone(),
                password: self.admin_password.clone(),
            })
            .await
            .expect("administrator login")
            .into_inner()
            .access_token
    }

    /// Stops the server and waits for it to finish.
    pub async fn shutdown(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        self.ctx.storage().close().await;
    }
}

impl Drop for SpawnedApi {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}
