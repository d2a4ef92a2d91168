//! The distributed product for reliability tests: a fresh PostgreSQL database, `mm-api` and
//! `mm-worker` processes on a given broker, gRPC clients, and the simulator set up with a
//! push pair of `count` projects to import.
//!
//! Included with `#[path]` by the test crates that need it, beside `mod support;`.

use std::{
    process::Command,
    time::{Duration, Instant},
};

use gitlab_sim::{InstanceSpec, MirrorTiming, ProjectSeed, Seed, SeedSpec, Sim, SimConfig};
use mm_proto::v1::{
    self as pb, job_service_client::JobServiceClient, mirror_service_client::MirrorServiceClient,
};
use tonic::{
    Request, metadata::MetadataValue, service::interceptor::InterceptedService, transport::Channel,
};

use crate::support::{Running, binary_path, free_port};

pub const PASSWORD: &str = "reliability-password";

type Auth = Box<dyn FnMut(Request<()>) -> Result<Request<()>, tonic::Status> + Send + Sync>;
type Authed = InterceptedService<Channel, Auth>;

/// gRPC clients authenticated as the administrator.
pub struct Clients {
    pub instances: pb::instance_service_client::InstanceServiceClient<Authed>,
    pub pairs: pb::pair_service_client::PairServiceClient<Authed>,
    pub mirrors: MirrorServiceClient<Authed>,
    pub jobs: JobServiceClient<Authed>,
}

fn auth() -> Auth {
    use base64::Engine as _;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("admin:{PASSWORD}"))
    );
    let value: MetadataValue<_> = basic.parse().unwrap();
    Box::new(move |mut request: Request<()>| {
        request
            .metadata_mut()
            .insert("authorization", value.clone());
        Ok(request)
    })
}

/// A fresh database with the product's processes on it; dropped with the processes.
pub struct Product {
    admin_url: String,
    database: String,
    database_url: String,
    amqp_url: String,
    queue_prefix: String,
    data_dir: tempfile::TempDir,
    grpc_port: u16,
    /// Extra `MM_*` settings of every process.
    extra: Vec<(&'static str, String)>,
    pub api: Option<Running>,
    pub worker: Option<Running>,
    pub worker_port: u16,
}

fn psql(url: &str, sql: &str) {
    let status = Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-qc", sql])
        .status()
        .expect("psql is needed for this test");
    assert!(status.success(), "psql failed: {sql}");
}

impl Product {
    /// Creates and migrates database `mm_<name>_<pid>`; `extra` settings apply to every
    /// process started later.
    pub fn new(name: &str, amqp_url: String, extra: Vec<(&'static str, String)>) -> Product {
        let admin_url = std::env::var("MM_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let database = format!("mm_{name}_{}", std::process::id());
        psql(&admin_url, &format!("DROP DATABASE IF EXISTS {database}"));
        psql(&admin_url, &format!("CREATE DATABASE {database}"));
        let database_url = format!("{}/{database}", admin_url.rsplit_once('/').unwrap().0);
        let product = Product {
            admin_url,
            database,
            database_url,
            amqp_url,
            queue_prefix: format!("{name}{}", std::process::id()),
            data_dir: tempfile::tempdir().unwrap(),
            grpc_port: free_port(),
            extra,
            api: None,
            worker: None,
            worker_port: free_port(),
        };
        let migrate = Command::new(binary_path("mirror-maestro"))
            .arg("migrate")
            .env_clear()
            .envs(product.env(0).iter().map(|(k, v)| (*k, v.as_str())))
            .output()
            .unwrap();
        assert!(
            migrate.status.success(),
            "{}",
            String::from_utf8_lossy(&migrate.stderr)
        );
        product
    }

    fn env(&self, worker_port: u16) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("MM_DATABASE_URL", self.database_url.clone()),
            ("MM_AMQP_URL", self.amqp_url.clone()),
            ("MM_DATA_DIR", self.data_dir.path().display().to_string()),
            (
                "MM_JWT_SECRET",
                "a-reliability-secret-of-at-least-32-chars".to_owned(),
            ),
            (
                "MM_ENCRYPTION_KEY",
                "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".to_owned(),
            ),
            ("MM_ADMIN_PASSWORD", PASSWORD.to_owned()),
            ("MM_ALLOW_PRIVATE_IPS", "true".to_owned()),
            ("MM_GRPC_ADDR", format!("127.0.0.1:{}", self.grpc_port)),
            ("MM_WORKER_ADDR", format!("127.0.0.1:{worker_port}")),
            ("MM_WORKER_QUEUE_PREFIX", self.queue_prefix.clone()),
            ("MM_STATUS_REFRESH_INTERVAL_SECS", "0".to_owned()),
            ("MM_LOG_FORMAT", "json".to_owned()),
        ];
        env.extend(self.extra.iter().cloned());
        env
    }

    /// Starts `mm-api` and one `mm-worker` and connects to the API.
    pub async fn start(&mut self) -> Clients {
        self.api = Some(Running::spawn("mm-api", &[], &self.env(0)));
        self.worker = Some(Running::spawn(
            "mm-worker",
            &[],
            &self.env(self.worker_port),
        ));
        self.connect().await
    }

    async fn connect(&self) -> Clients {
        let url = format!("http://127.0.0.1:{}", self.grpc_port);
        let deadline = Instant::now() + Duration::from_secs(60);
        let channel = loop {
            match Channel::from_shared(url.clone()).unwrap().connect().await {
                Ok(channel) => break channel,
                Err(error) => {
                    assert!(
                        Instant::now() < deadline,
                        "cannot reach the API at {url}: {error}"
                    );
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        };
        Clients {
            instances: pb::instance_service_client::InstanceServiceClient::with_interceptor(
                channel.clone(),
                auth(),
            ),
            pairs: pb::pair_service_client::PairServiceClient::with_interceptor(
                channel.clone(),
                auth(),
            ),
            mirrors: MirrorServiceClient::with_interceptor(channel.clone(), auth()),
            jobs: JobServiceClient::with_interceptor(channel, auth()),
        }
    }

    /// The worker's Prometheus metrics.
    pub async fn worker_metrics(&self) -> String {
        let url = format!("http://127.0.0.1:{}/metrics", self.worker_port);
        reqwest::get(&url)
            .await
            .and_then(|response| response.error_for_status())
            .unwrap_or_else(|error| panic!("cannot read {url}: {error}"))
            .text()
            .await
            .unwrap()
    }
}

impl Drop for Product {
    fn drop(&mut self) {
        self.worker.take();
        self.api.take();
        let _ = Command::new("psql")
            .args([
                self.admin_url.as_str(),
                "-qc",
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.database),
            ])
            .status();
    }
}

/// Project `i` of the pair (the same path on both instances).
pub fn project_path(i: usize) -> String {
    format!("reliability/team-{}/service-{i:03}", i % 5)
}

/// Two Enterprise instances: `count` projects with a commit on the source, empty ones on the
/// target.
pub async fn start_sim(count: usize) -> Sim {
    let sim = Sim::start(SimConfig {
        instances: vec![
            InstanceSpec::ee("source").with_mirror_timing(MirrorTiming::fast()),
            InstanceSpec::ee("target").with_mirror_timing(MirrorTiming::fast()),
        ],
        seed: Seed::None,
        ..Default::default()
    })
    .await
    .expect("the simulator starts");
    for (index, empty) in [(0, false), (1, true)] {
        let projects = (0..count)
            .map(|i| ProjectSeed {
                path: project_path(i),
                empty,
                commits: if empty { 0 } else { 1 },
                ..Default::default()
            })
            .collect();
        sim.instance(index)
            .seed(&SeedSpec {
                projects,
                ..Default::default()
            })
            .await
            .unwrap();
    }
    sim
}

/// Polls a job until it finished; panics after `timeout`. `check` sees every poll.
pub async fn wait_job(
    clients: &mut Clients,
    id: i64,
    timeout: Duration,
    mut check: impl FnMut(&pb::Job),
) -> pb::Job {
    let deadline = Instant::now() + timeout;
    loop {
        let job = get_job(clients, id).await;
        check(&job);
        let state = pb::JobState::try_from(job.state).unwrap();
        if !matches!(state, pb::JobState::Queued | pb::JobState::Running) {
            return job;
        }
        assert!(
            Instant::now() < deadline,
            "job {id} did not finish within {timeout:?}: {job:?}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

pub async fn get_job(clients: &mut Clients, id: i64) -> pb::Job {
    clients
        .jobs
        .get_job(pb::GetJobRequest { id })
        .await
        .unwrap()
        .into_inner()
        .job
        .unwrap()
}

/// Every item of a job.
pub async fn job_items(clients: &mut Clients, job_id: i64) -> Vec<pb::JobItem> {
    let mut items = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = clients
            .jobs
            .list_job_items(pb::ListJobItemsRequest {
                job_id,
                page_size: 200,
                page_token: page_token.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        items.extend(page.items);
        if page.next_page_token.is_empty() {
            return items;
        }
        page_token = page.next_page_token;
    }
}

/// Panics with the failed items unless the job succeeded with `expected` items.
pub async fn assert_all_succeeded(clients: &mut Clients, job: &pb::Job, expected: usize) {
    if job.state != pb::JobState::Succeeded as i32 || job.succeeded != expected as i64 {
        let failed: Vec<pb::JobItem> = job_items(clients, job.id)
            .await
            .into_iter()
            .filter(|item| item.state != pb::JobItemState::Succeeded as i32)
            .collect();
        panic!(
            "job {} did not succeed with {expected} items: {job:?}\nother items: {failed:#?}",
            job.id
        );
    }
}

/// Registers both simulated instances (waiting for their verification) and creates a push
/// pair from the first to the second. Returns the instance ids and the pair id.
pub async fn register_pair(clients: &mut Clients, sim: &Sim) -> (Vec<i64>, i64) {
    let mut ids = Vec::new();
    for instance in &sim.instances {
        let created = clients
            .instances
            .create_instance(pb::CreateInstanceRequest {
                name: instance.name.clone(),
                url: instance.base_url.clone(),
                description: String::new(),
                token: instance.admin_token.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        let verify = created
            .verify_job
            .expect("creating an instance verifies it");
        let job = wait_job(clients, verify.id, Duration::from_secs(60), |_| {}).await;
        assert_all_succeeded(clients, &job, 1).await;
        ids.push(created.instance.unwrap().id);
    }
    let pair = clients
        .pairs
        .create_pair(pb::CreatePairRequest {
            pair: Some(pb::Pair {
                name: "reliability-push".into(),
                source_instance_id: ids[0],
                target_instance_id: ids[1],
                mirror_direction: pb::MirrorDirection::Push as i32,
                mirror_overwrite_diverged: true,
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .pair
        .unwrap();
    (ids, pair.id)
}

/// Imports mirrors of projects `0..count` into the pair; returns the import job's id.
pub async fn import(clients: &mut Clients, pair_id: i64, count: usize) -> i64 {
    let mirrors = (0..count)
        .map(|i| pb::ExportedMirror {
            source_project_path: project_path(i),
            target_project_path: project_path(i),
            ..Default::default()
        })
        .collect();
    clients
        .mirrors
        .import_pair_mirrors(pb::ImportPairMirrorsRequest {
            pair_id,
            mirrors,
            dry_run: false,
        })
        .await
        .unwrap()
        .into_inner()
        .job
        .expect("the import runs as a job")
        .id
}

/// Waits until at least `done` items of the job finished; returns the job then.
pub async fn wait_progress(
    clients: &mut Clients,
    id: i64,
    done: i64,
    timeout: Duration,
) -> pb::Job {
    let deadline = Instant::now() + timeout;
    loop {
        let job = get_job(clients, id).await;
        if job.done >= done {
            return job;
        }
        assert!(
            Instant::now() < deadline,
            "job {id} did not reach {done} finished items within {timeout:?}: {job:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Exactly one token on the target and one push mirror on the source per mirror.
pub fn assert_nothing_created_twice(sim: &Sim, mirrors: usize) {
    let tokens = sim.instance(1).leftovers().project_access_tokens;
    assert_eq!(tokens.len(), mirrors, "one token per mirror: {tokens:#?}");
    let remote = sim.instance(0).leftovers().remote_mirrors;
    assert_eq!(
        remote.len(),
        mirrors,
        "one GitLab mirror per mirror: {remote:#?}"
    );
}

/// The value of the Prometheus sample `name{labels…}` whose labels include every one of
/// `labels` (`key="value"`), if present.
pub fn metric(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let rest = series.strip_prefix(name)?;
            let matches = match rest.strip_prefix('{') {
                Some(labelled) => labels.iter().all(|label| labelled.contains(label)),
                None => rest.is_empty() && labels.is_empty(),
            };
            matches.then(|| value.parse::<f64>().ok()).flatten()
        })
        .next()
}
