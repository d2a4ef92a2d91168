//! The distributed product for one benchmark: a fresh PostgreSQL database, `mm-api` (which
//! runs the outbox relay), optionally `mm-gateway`, and any number of `mm-worker` processes on
//! a RabbitMQ queue prefix of their own. Everything is removed again by [`Stack::shutdown`].

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use anyhow::Context as _;
use base64::Engine as _;
use mm_storage::testing::{TestBackend, TestDatabase};
use rand::Rng as _;
use sqlx::PgPool;

use super::process::{Service, free_port};

/// How the workers talk to GitLab.
#[derive(Debug, Clone, Copy)]
pub struct WorkerSettings {
    /// `MM_GITLAB_REQUESTS_PER_MINUTE`: the budget of every instance, shared by all workers.
    pub requests_per_minute: u32,
    /// `MM_GITLAB_MAX_CONCURRENCY`: requests in flight per instance and process.
    pub max_concurrency: u32,
    /// `MM_WORKER_PREFETCH`: tasks in flight per worker process.
    pub prefetch: u32,
}

pub struct Stack {
    pub grpc_url: String,
    /// `http://127.0.0.1:PORT` of the gateway, when started.
    pub http_base: Option<String>,
    pub admin_password: String,
    /// Pool on the product's database, for bulk seeding.
    pub pool: PgPool,
    bin_dir: PathBuf,
    base_env: Vec<(String, String)>,
    amqp_url: String,
    queue_prefix: String,
    api: Service,
    gateway: Option<Service>,
    workers: Vec<Service>,
    started_workers: usize,
    // Dropped last: the database goes after every process using it has stopped.
    log_dir: tempfile::TempDir,
    database: TestDatabase,
}

fn amqp_url() -> String {
    std::env::var("MM_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

fn random_secret(bytes: usize) -> Vec<u8> {
    let mut out = vec![0u8; bytes];
    rand::rng().fill(&mut out[..]);
    out
}

impl Stack {
    /// Creates the database, starts `mm-api` (migrating the database) and, with
    /// `with_gateway`, `mm-gateway`. `api_requests_per_minute` is what the API uses for its
    /// estimates.
    pub async fn start(
        bin_dir: &Path,
        with_gateway: bool,
        api_requests_per_minute: u32,
    ) -> anyhow::Result<Stack> {
        let database = TestDatabase::create(TestBackend::Postgres)
            .await
            .context("the job benchmarks need PostgreSQL (MM_SKIP_POSTGRES is set)")?;
        let log_dir = tempfile::Builder::new()
            .prefix("mm-bench-jobs-")
            .tempdir()?;
        let engine = base64::engine::general_purpose::STANDARD;
        let admin_password =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_secret(18));
        let queue_prefix = format!(
            "bench{}x{}",
            std::process::id(),
            rand::rng().random::<u32>()
        );
        let base_env: Vec<(String, String)> = [
            ("MM_DATABASE_URL", database.url.clone()),
            ("MM_AMQP_URL", amqp_url()),
            ("MM_DATA_DIR", log_dir.path().display().to_string()),
            ("MM_JWT_SECRET", engine.encode(random_secret(36))),
            ("MM_ENCRYPTION_KEY", engine.encode(random_secret(32))),
            ("MM_ADMIN_PASSWORD", admin_password.clone()),
            ("MM_ALLOW_PRIVATE_IPS", "true".into()),
            ("MM_WORKER_QUEUE_PREFIX", queue_prefix.clone()),
            ("MM_STATUS_REFRESH_INTERVAL_SECS", "0".into()),
            ("MM_LOG_FORMAT", "json".into()),
            ("MM_LOG_LEVEL", "warn".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();

        let grpc_addr = format!("127.0.0.1:{}", free_port()?);
        let mut api_env = base_env.clone();
        api_env.extend([
            ("MM_GRPC_ADDR".to_owned(), grpc_addr.clone()),
            (
                "MM_GITLAB_REQUESTS_PER_MINUTE".to_owned(),
                api_requests_per_minute.to_string(),
            ),
            ("MM_DB_MAX_CONNECTIONS".to_owned(), "16".to_owned()),
        ]);
        let api = Service::spawn(
            bin_dir,
            "mm-api",
            "mm-api",
            &["--migrate"],
            &api_env,
            log_dir.path(),
        )?;
        let gateway = if with_gateway {
            let http_addr = format!("127.0.0.1:{}", free_port()?);
            let mut env = base_env.clone();
            env.extend([
                ("MM_HTTP_ADDR".to_owned(), http_addr.clone()),
                ("MM_API_URL".to_owned(), format!("http://{grpc_addr}")),
            ]);
            Some((
                Service::spawn(
                    bin_dir,
                    "mm-gateway",
                    "mm-gateway",
                    &[],
                    &env,
                    log_dir.path(),
                )?,
                format!("http://{http_addr}"),
            ))
        } else {
            None
        };
        let pool = PgPool::connect(&database.url)
            .await
            .context("connecting to the benchmark database")?;
        let (gateway, http_base) = match gateway {
            Some((service, base)) => (Some(service), Some(base)),
            None => (None, None),
        };
        Ok(Stack {
            grpc_url: format!("http://{grpc_addr}"),
            http_base,
            admin_password,
            pool,
            bin_dir: bin_dir.to_path_buf(),
            base_env,
            amqp_url: amqp_url(),
            queue_prefix,
            api,
            gateway,
            workers: Vec::new(),
            started_workers: 0,
            log_dir,
            database,
        })
    }

    /// Fails with the end of its log when a service has exited.
    pub fn ensure_running(&mut self) -> anyhow::Result<()> {
        self.api.ensure_running()?;
        if let Some(gateway) = &mut self.gateway {
            gateway.ensure_running()?;
        }
        for worker in &mut self.workers {
            worker.ensure_running()?;
        }
        Ok(())
    }

    /// Starts `count` workers and waits until each reports ready (connected to RabbitMQ).
    pub async fn start_workers(
        &mut self,
        count: usize,
        settings: WorkerSettings,
    ) -> anyhow::Result<()> {
        let http = reqwest::Client::new();
        let mut ready_urls = Vec::with_capacity(count);
        for _ in 0..count {
            let addr = format!("127.0.0.1:{}", free_port()?);
            let mut env = self.base_env.clone();
            env.extend([
                ("MM_WORKER_ADDR".to_owned(), addr.clone()),
                (
                    "MM_GITLAB_REQUESTS_PER_MINUTE".to_owned(),
                    settings.requests_per_minute.to_string(),
                ),
                (
                    "MM_GITLAB_MAX_CONCURRENCY".to_owned(),
                    settings.max_concurrency.to_string(),
                ),
                (
                    "MM_WORKER_PREFETCH".to_owned(),
                    settings.prefetch.to_string(),
                ),
                (
                    "MM_DB_MAX_CONNECTIONS".to_owned(),
                    (settings.prefetch + 4).to_string(),
                ),
            ]);
            self.started_workers += 1;
            let name = format!("mm-worker-{}", self.started_workers);
            self.workers.push(Service::spawn(
                &self.bin_dir,
                "mm-worker",
                &name,
                &[],
                &env,
                self.log_dir.path(),
            )?);
            ready_urls.push(format!("http://{addr}/readyz"));
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        for url in ready_urls {
            loop {
                self.ensure_running()?;
                let ready = http
                    .get(&url)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if ready {
                    break;
                }
                anyhow::ensure!(Instant::now() < deadline, "{url} not ready within 60 s");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        Ok(())
    }

    /// Stops every worker (they finish in-flight tasks first).
    pub async fn stop_workers(&mut self) {
        for worker in self.workers.drain(..) {
            worker.stop(Duration::from_secs(10)).await;
        }
    }

    /// Stops every process, deletes the queues and drops the database.
    pub async fn shutdown(mut self) {
        self.stop_workers().await;
        if let Some(gateway) = self.gateway.take() {
            gateway.stop(Duration::from_secs(5)).await;
        }
        self.pool.close().await;
        let Stack {
            api,
            amqp_url,
            queue_prefix,
            log_dir,
            database,
            ..
        } = self;
        api.stop(Duration::from_secs(5)).await;
        if let Err(error) = delete_queues(&amqp_url, &queue_prefix).await {
            eprintln!("could not delete the RabbitMQ queues {queue_prefix}.*: {error:#}");
        }
        drop(log_dir);
        drop(database);
    }

    /// The end of a service's log, for error reports.
    pub fn api_log_tail(&self) -> String {
        self.api.log_tail(20)
    }
}

async fn delete_queues(amqp_url: &str, prefix: &str) -> anyhow::Result<()> {
    let connection = mm_worker::connect::connect(amqp_url).await?;
    let channel = connection.create_channel().await?;
    mm_worker::Topology::with_prefix(prefix)
        .delete(&channel)
        .await?;
    let _ = connection.close(200, "benchmark done".into()).await;
    Ok(())
}
