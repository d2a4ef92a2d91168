//! The mirror lifecycle end to end, through the shipped binaries and the GitLab simulator:
//! register two instances, create a pair, import 200 mirrors, batch-sync them, check that the
//! target repositories equal the sources (real git), rotate a token, delete the pair and find
//! nothing left in GitLab.
//!
//! Runs twice: distributed (`mm-api` + two `mm-worker` processes on PostgreSQL and RabbitMQ,
//! one worker killed with SIGKILL in the middle of the import and replaced) and embedded
//! (`mirror-maestro up` on SQLite with the in-process bus).

mod support;

use std::{
    process::Command,
    time::{Duration, Instant},
};

use gitlab_sim::{InstanceSpec, MirrorTiming, ProjectSeed, Seed, SeedSpec, Sim, SimConfig};
use mm_proto::v1::{
    self as pb, job_service_client::JobServiceClient, mirror_service_client::MirrorServiceClient,
};
use support::{Running, binary_path, free_port};
use tonic::{
    Request, metadata::MetadataValue, service::interceptor::InterceptedService, transport::Channel,
};

const MIRRORS: usize = 200;
const PASSWORD: &str = "end-to-end-password";

type Auth = Box<dyn FnMut(Request<()>) -> Result<Request<()>, tonic::Status> + Send + Sync>;

struct Clients {
    instances:
        pb::instance_service_client::InstanceServiceClient<InterceptedService<Channel, Auth>>,
    pairs: pb::pair_service_client::PairServiceClient<InterceptedService<Channel, Auth>>,
    mirrors: MirrorServiceClient<InterceptedService<Channel, Auth>>,
    jobs: JobServiceClient<InterceptedService<Channel, Auth>>,
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

async fn connect(grpc_url: &str) -> Clients {
    let deadline = Instant::now() + Duration::from_secs(60);
    let channel = loop {
        match Channel::from_shared(grpc_url.to_owned())
            .unwrap()
            .connect()
            .await
        {
            Ok(channel) => break channel,
            Err(error) if Instant::now() < deadline => {
                let _ = error;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(error) => panic!("cannot reach the API at {grpc_url}: {error}"),
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

fn project_path(i: usize) -> String {
    format!("load/team-{}/service-{i:03}", i % 10)
}

async fn start_sim() -> Sim {
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
    let project = |i: usize, empty: bool| ProjectSeed {
        path: project_path(i),
        empty,
        commits: if empty { 0 } else { 2 },
        branches: if empty || !i.is_multiple_of(4) {
            vec![]
        } else {
            vec!["develop".into()]
        },
        ..Default::default()
    };
    sim.instance(0)
        .seed(&SeedSpec {
            projects: (0..MIRRORS).map(|i| project(i, false)).collect(),
            ..Default::default()
        })
        .await
        .unwrap();
    sim.instance(1)
        .seed(&SeedSpec {
            projects: (0..MIRRORS).map(|i| project(i, true)).collect(),
            ..Default::default()
        })
        .await
        .unwrap();
    sim
}

/// Polls a job until it finished; panics after `timeout`.
async fn wait_job(clients: &mut Clients, id: i64, timeout: Duration) -> pb::Job {
    let deadline = Instant::now() + timeout;
    loop {
        let job = clients
            .jobs
            .get_job(pb::GetJobRequest { id })
            .await
            .unwrap()
            .into_inner()
            .job
            .unwrap();
        let state = pb::JobState::try_from(job.state).unwrap();
        if !matches!(state, pb::JobState::Queued | pb::JobState::Running) {
            return job;
        }
        assert!(
            Instant::now() < deadline,
            "job {id} did not finish in time: {job:?}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

async fn failed_items(clients: &mut Clients, job_id: i64) -> Vec<pb::JobItem> {
    clients
        .jobs
        .list_job_items(pb::ListJobItemsRequest {
            job_id,
            page_size: 50,
            state: pb::JobItemState::Failed as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .items
}

async fn assert_succeeded(clients: &mut Clients, job: &pb::Job, what: &str) {
    if job.state != pb::JobState::Succeeded as i32 {
        let failed = failed_items(clients, job.id).await;
        panic!("{what} did not succeed: {job:?}\nfailed items: {failed:#?}");
    }
}

async fn list_all(clients: &mut Clients, pair_id: i64, status: &str) -> (Vec<pb::Mirror>, i64) {
    let response = clients
        .mirrors
        .list_mirrors(pb::ListMirrorsRequest {
            pair_id,
            status: status.to_owned(),
            page_size: 200,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    (response.mirrors, response.total_size)
}

/// What happens between "jobs are being imported" and "they finished": the distributed run
/// kills a worker here.
type MidImport<'a> = Box<dyn FnOnce() + Send + 'a>;

async fn scenario(grpc_url: &str, sim: &Sim, mid_import: MidImport<'_>) {
    let mut clients = connect(grpc_url).await;
    let mut instance_ids = Vec::new();
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
        instance_ids.push((created.instance.unwrap().id, verify.id));
    }
    for (id, job) in instance_ids.clone() {
        let job = wait_job(&mut clients, job, Duration::from_secs(60)).await;
        assert_succeeded(&mut clients, &job, "instance verification").await;
        let instance = clients
            .instances
            .get_instance(pb::GetInstanceRequest { id })
            .await
            .unwrap()
            .into_inner()
            .instance
            .unwrap();
        assert!(
            format!("{instance:?}").contains("ee"),
            "verification recorded the edition: {instance:?}"
        );
    }

    let pair = clients
        .pairs
        .create_pair(pb::CreatePairRequest {
            pair: Some(pb::Pair {
                name: "load-push".into(),
                source_instance_id: instance_ids[0].0,
                target_instance_id: instance_ids[1].0,
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

    // Import: a dry run first changes nothing.
    let entries: Vec<pb::ExportedMirror> = (0..MIRRORS)
        .map(|i| pb::ExportedMirror {
            source_project_path: project_path(i),
            target_project_path: project_path(i),
            only_mirror_protected_branches: (i == 7).then_some(true),
            ..Default::default()
        })
        .collect();
    let plan = clients
        .mirrors
        .import_pair_mirrors(pb::ImportPairMirrorsRequest {
            pair_id: pair.id,
            mirrors: entries.clone(),
            dry_run: true,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(plan.create_count, MIRRORS as i64);
    assert!(plan.job.is_none());
    assert_eq!(list_all(&mut clients, pair.id, "").await.1, 0);

    let import = clients
        .mirrors
        .import_pair_mirrors(pb::ImportPairMirrorsRequest {
            pair_id: pair.id,
            mirrors: entries,
            dry_run: false,
        })
        .await
        .unwrap()
        .into_inner()
        .job
        .expect("the import runs as a job");
    mid_import();
    let import = wait_job(&mut clients, import.id, Duration::from_secs(600)).await;
    assert_succeeded(&mut clients, &import, "import").await;
    assert_eq!(import.succeeded, MIRRORS as i64);

    // Exactly one token and one remote mirror per mirror, whatever was redelivered.
    let created = sim.instance(1).leftovers();
    assert_eq!(
        created.project_access_tokens.len(),
        MIRRORS,
        "one token per mirror"
    );
    let remote = sim.instance(0).leftovers();
    assert_eq!(
        remote.remote_mirrors.len(),
        MIRRORS,
        "one GitLab mirror per mirror"
    );

    // Batch sync, then every mirror reports success.
    let sync = clients
        .mirrors
        .sync_pair_mirrors(pb::SyncPairMirrorsRequest {
            pair_id: pair.id,
            dry_run: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(sync.mirror_count, MIRRORS as i64);
    let sync = wait_job(&mut clients, sync.job.unwrap().id, Duration::from_secs(600)).await;
    assert_succeeded(&mut clients, &sync, "batch sync").await;

    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let refresh = clients
            .mirrors
            .refresh_pair_mirror_status(pb::RefreshPairMirrorStatusRequest { pair_id: pair.id })
            .await
            .unwrap()
            .into_inner()
            .job
            .unwrap();
        let refresh = wait_job(&mut clients, refresh.id, Duration::from_secs(300)).await;
        assert_succeeded(&mut clients, &refresh, "status refresh").await;
        let (_, finished) = list_all(&mut clients, pair.id, "finished").await;
        if finished == MIRRORS as i64 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {finished} of {MIRRORS} mirrors report success"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    for i in [0, 4, 99, 150, MIRRORS - 1] {
        let path = project_path(i);
        let source = sim.instance(0).refs(&path).await.unwrap();
        let target = sim.instance(1).refs(&path).await.unwrap();
        assert!(!source.is_empty());
        assert_eq!(source, target, "refs of {path}");
    }

    // Rotate the token of the mirror with an override: settings stay, old token revoked,
    // the mirror keeps working.
    let (mirrors, _) = list_all(&mut clients, pair.id, "").await;
    let rotated = mirrors
        .iter()
        .find(|m| m.source_project_path == project_path(7))
        .unwrap()
        .clone();
    let tokens_before = sim.instance(1).leftovers().project_access_tokens;
    let rotate = clients
        .mirrors
        .rotate_mirror_token(pb::RotateMirrorTokenRequest { id: rotated.id })
        .await
        .unwrap()
        .into_inner()
        .job
        .unwrap();
    let rotate = wait_job(&mut clients, rotate.id, Duration::from_secs(120)).await;
    assert_succeeded(&mut clients, &rotate, "token rotation").await;
    let after = clients
        .mirrors
        .get_mirror(pb::GetMirrorRequest { id: rotated.id })
        .await
        .unwrap()
        .into_inner()
        .mirror
        .unwrap();
    assert_eq!(after.overrides, rotated.overrides);
    assert_eq!(after.effective_settings, rotated.effective_settings);
    assert_ne!(after.token_name, None);
    let tokens_after = sim.instance(1).leftovers().project_access_tokens;
    assert_eq!(
        tokens_after.len(),
        tokens_before.len(),
        "old token revoked, new one active"
    );
    assert_ne!(
        tokens_after, tokens_before,
        "a new token replaced the old one"
    );
    let sync_one = clients
        .mirrors
        .sync_mirror(pb::SyncMirrorRequest { id: rotated.id })
        .await
        .unwrap()
        .into_inner()
        .job
        .unwrap();
    let sync_one = wait_job(&mut clients, sync_one.id, Duration::from_secs(60)).await;
    assert_succeeded(&mut clients, &sync_one, "sync after rotation").await;

    // Delete the pair: nothing the product created is left in GitLab.
    let deleted = clients
        .pairs
        .delete_pair(pb::DeletePairRequest { id: pair.id })
        .await
        .unwrap()
        .into_inner()
        .job
        .expect("a pair with mirrors is deleted by a cleanup job");
    let deleted = wait_job(&mut clients, deleted.id, Duration::from_secs(600)).await;
    assert_succeeded(&mut clients, &deleted, "pair deletion").await;
    for instance in &sim.instances {
        let left = instance.leftovers();
        assert!(left.is_empty(), "{} still has {left:?}", instance.name);
    }
    let gone = clients
        .pairs
        .get_pair(pb::GetPairRequest { id: pair.id })
        .await
        .unwrap_err();
    assert_eq!(gone.code(), tonic::Code::NotFound);
}

fn postgres_admin_url() -> String {
    std::env::var("MM_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn amqp_url() -> String {
    std::env::var("MM_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

fn psql(url: &str, sql: &str) {
    let status = Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-qc", sql])
        .status()
        .expect("psql is needed for this test");
    assert!(status.success(), "psql failed: {sql}");
}

#[tokio::test(flavor = "multi_thread")]
async fn distributed_workers_survive_a_killed_worker() {
    let sim = start_sim().await;
    let database = format!("mm_e2e_{}", std::process::id());
    let admin_url = postgres_admin_url();
    psql(&admin_url, &format!("DROP DATABASE IF EXISTS {database}"));
    psql(&admin_url, &format!("CREATE DATABASE {database}"));
    let database_url = format!("{}/{database}", admin_url.rsplit_once('/').unwrap().0);
    let data_dir = tempfile::tempdir().unwrap();
    let grpc_port = free_port();
    let env = |worker_port: u16| {
        vec![
            ("MM_DATABASE_URL", database_url.clone()),
            ("MM_AMQP_URL", amqp_url()),
            ("MM_DATA_DIR", data_dir.path().display().to_string()),
            (
                "MM_JWT_SECRET",
                "an-end-to-end-secret-of-at-least-32-chars".to_owned(),
            ),
            (
                "MM_ENCRYPTION_KEY",
                "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".to_owned(),
            ),
            ("MM_ADMIN_PASSWORD", PASSWORD.to_owned()),
            ("MM_ALLOW_PRIVATE_IPS", "true".to_owned()),
            ("MM_GRPC_ADDR", format!("127.0.0.1:{grpc_port}")),
            ("MM_WORKER_ADDR", format!("127.0.0.1:{worker_port}")),
            (
                "MM_WORKER_QUEUE_PREFIX",
                format!("e2e{}", std::process::id()),
            ),
            ("MM_WORKER_PREFETCH", "8".to_owned()),
            ("MM_GITLAB_REQUESTS_PER_MINUTE", "12000".to_owned()),
            ("MM_STATUS_REFRESH_INTERVAL_SECS", "0".to_owned()),
            ("MM_LOG_FORMAT", "json".to_owned()),
        ]
    };
    let migrate = Command::new(binary_path("mirror-maestro"))
        .arg("migrate")
        .env_clear()
        .envs(env(0).iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );

    let _api = Running::spawn("mm-api", &[], &env(0));
    let first = Running::spawn("mm-worker", &[], &env(free_port()));
    let _second = Running::spawn("mm-worker", &[], &env(free_port()));
    let replacement = std::sync::Mutex::new(None);
    {
        let kill_first = Box::new(|| {
            // Let the workers get going, then kill one without warning and start another.
            std::thread::sleep(Duration::from_secs(3));
            let pid = first.child.id();
            let status = Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status()
                .unwrap();
            assert!(status.success());
            *replacement.lock().unwrap() =
                Some(Running::spawn("mm-worker", &[], &env(free_port())));
        });
        scenario(&format!("http://127.0.0.1:{grpc_port}"), &sim, kill_first).await;
    }
    drop(replacement);
    psql(
        &admin_url,
        &format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"),
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn embedded_default_runs_the_same_scenario() {
    let sim = start_sim().await;
    let data_dir = tempfile::tempdir().unwrap();
    let grpc_port = free_port();
    let env = vec![
        ("MM_DATA_DIR", data_dir.path().display().to_string()),
        ("MM_ADMIN_PASSWORD", PASSWORD.to_owned()),
        ("MM_HTTP_ADDR", format!("127.0.0.1:{}", free_port())),
        ("MM_GRPC_ADDR", format!("127.0.0.1:{grpc_port}")),
        ("MM_GITLAB_REQUESTS_PER_MINUTE", "12000".to_owned()),
        ("MM_STATUS_REFRESH_INTERVAL_SECS", "0".to_owned()),
    ];
    let _product = Running::spawn("mirror-maestro", &["up"], &env);
    scenario(
        &format!("http://127.0.0.1:{grpc_port}"),
        &sim,
        Box::new(|| {}),
    )
    .await;
    sim.shutdown().await;
}
