//! `mm-bench read-models`: latency of the web console's read models (dashboard metrics and
//! quick stats, topology, link mirrors, search) with many mirrors in the database, through
//! the gateway (REST) and the API (gRPC), on SQLite and PostgreSQL.
//!
//! The API and the gateway run in this process on loopback. Instances and pairs are inserted
//! row by row, the mirrors with one bulk `INSERT … SELECT` over a number series, with a
//! realistic mix of lifecycles (97 % ready), statuses (75 % finished, 5 % each of failed,
//! started, scheduled, none and never checked), success ages up to two weeks, statuses read
//! within the last five minutes as a running status refresh leaves them (2 % hours old) and
//! 4 % disabled mirrors. Each endpoint
//! then runs in a closed loop (every client sends its next request when the previous answer
//! arrived) and p50/p99 are reported.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use mm_config::{CliOverrides, Mode, Settings};
use mm_proto::v1::{
    self, auth_service_client::AuthServiceClient, dashboard_service_client::DashboardServiceClient,
    search_service_client::SearchServiceClient, topology_service_client::TopologyServiceClient,
};
use mm_storage::testing::{TestBackend, TestDatabase};
use tokio::{net::TcpListener, sync::watch};
use tonic::transport::Channel;

const ADMIN_PASSWORD: &str = "bench-admin-password";
/// A term matching a handful of mirrors (`project-4242`, `project-42420`…), one matching
/// nothing, which makes every search scan its whole index, and one matching every mirror.
const RARE_TERM: &str = "project-4242";
const MISSING_TERM: &str = "no-such-project";
const COMMON_TERM: &str = "project-";

#[derive(clap::Args)]
pub struct Args {
    /// Mirrors in the database.
    #[arg(long, default_value_t = 100_000)]
    mirrors: u32,
    /// GitLab instances.
    #[arg(long, default_value_t = 8)]
    instances: u32,
    /// Pairs between them.
    #[arg(long, default_value_t = 40)]
    pairs: u32,
    /// Clients in the closed loop (each waits for its answer before the next request).
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Measured seconds per endpoint (after a 1 s warm-up).
    #[arg(long, default_value_t = 3)]
    seconds: u64,
    /// Backends to measure: sqlite, postgres or both.
    #[arg(long, default_value = "both")]
    backend: String,
}

/// The read models, at both edges.
#[derive(Debug, Clone, Copy)]
enum Endpoint {
    Metrics,
    QuickStats,
    Topology,
    LinkMirrors,
    SearchRare,
    SearchMissing,
    SearchCommon,
}

impl Endpoint {
    const ALL: [Endpoint; 7] = [
        Endpoint::Metrics,
        Endpoint::QuickStats,
        Endpoint::Topology,
        Endpoint::LinkMirrors,
        Endpoint::SearchRare,
        Endpoint::SearchMissing,
        Endpoint::SearchCommon,
    ];

    fn name(self) -> &'static str {
        match self {
            Endpoint::Metrics => "dashboard metrics",
            Endpoint::QuickStats => "quick stats",
            Endpoint::Topology => "topology",
            Endpoint::LinkMirrors => "link mirrors (200)",
            Endpoint::SearchRare => "search (few hits)",
            Endpoint::SearchMissing => "search (no hit)",
            Endpoint::SearchCommon => "search (every mirror)",
        }
    }
}

/// The services on a seeded database.
struct Stack {
    grpc: Channel,
    http_base: String,
    bearer: String,
    /// The busiest link: (source, target, direction).
    link: (i64, i64, &'static str),
    stop: watch::Sender<bool>,
    _database: TestDatabase,
    _data_dir: tempfile::TempDir,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let backends = match args.backend.as_str() {
        "sqlite" => vec![TestBackend::Sqlite],
        "postgres" => vec![TestBackend::Postgres],
        "both" => TestBackend::ALL.to_vec(),
        other => anyhow::bail!("--backend: expected sqlite, postgres or both, got {other:?}"),
    };
    anyhow::ensure!(args.instances >= 2, "--instances: at least 2");
    anyhow::ensure!(args.pairs >= 1, "--pairs: at least 1");
    println!(
        "mm-bench read-models: {} mirrors, {} instances, {} pairs, {} clients, {} s per endpoint, {} cores",
        args.mirrors,
        args.instances,
        args.pairs,
        args.concurrency,
        args.seconds,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "{:<9} {:<5} {:<19} {:>9} {:>8} {:>8} {:>8} {:>7}",
        "backend", "edge", "endpoint", "requests", "req/s", "p50 ms", "p99 ms", "errors"
    );
    for backend in backends {
        let started = Instant::now();
        let stack = Stack::start(backend, &args).await?;
        eprintln!(
            "{}: seeded {} mirrors in {:.1} s",
            label(backend),
            args.mirrors,
            started.elapsed().as_secs_f64()
        );
        for endpoint in Endpoint::ALL {
            for grpc in [false, true] {
                let result = measure(&stack, endpoint, grpc, args.concurrency, args.seconds).await;
                println!(
                    "{:<9} {:<5} {:<19} {:>9} {:>8.0} {:>8.2} {:>8.2} {:>7}",
                    label(backend),
                    if grpc { "gRPC" } else { "REST" },
                    endpoint.name(),
                    result.latencies_us.len(),
                    result.latencies_us.len() as f64 / result.elapsed.as_secs_f64(),
                    result.percentile_ms(50.0),
                    result.percentile_ms(99.0),
                    result.errors
                );
            }
        }
        let _ = stack.stop.send(true);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

fn label(backend: TestBackend) -> &'static str {
    match backend {
        TestBackend::Sqlite => "sqlite",
        TestBackend::Postgres => "postgres",
    }
}

impl Stack {
    async fn start(backend: TestBackend, args: &Args) -> anyhow::Result<Stack> {
        let database = TestDatabase::create(backend)
            .await
            .context("PostgreSQL benchmarks were skipped with MM_SKIP_POSTGRES")?;
        let data_dir = tempfile::tempdir()?;
        let cli = CliOverrides {
            data_dir: Some(data_dir.path().to_path_buf()),
            database_url: Some(database.url.clone()),
            ..Default::default()
        };
        let settings = Settings::load_from(
            Mode::Embedded,
            &cli,
            [
                ("MM_ADMIN_PASSWORD".to_owned(), ADMIN_PASSWORD.to_owned()),
                ("MM_LOG_LEVEL".to_owned(), "warn".to_owned()),
                ("MM_DB_MAX_CONNECTIONS".to_owned(), "16".to_owned()),
            ],
        )?;
        let (context, _) = mm_api::prepare(&settings, true).await?;
        let link = seed(&database, args).await?;

        let grpc_listener = TcpListener::bind("127.0.0.1:0").await?;
        let http_listener = TcpListener::bind("127.0.0.1:0").await?;
        let grpc_addr: SocketAddr = grpc_listener.local_addr()?;
        let http_addr: SocketAddr = http_listener.local_addr()?;
        let mut gateway_settings = settings.clone();
        gateway_settings.api_url = format!("http://{grpc_addr}");
        let (stop, stop_rx) = watch::channel(false);
        let mut api_stop = stop_rx.clone();
        tokio::spawn(mm_api::serve(context, grpc_listener, async move {
            let _ = api_stop.wait_for(|s| *s).await;
        }));
        let mut gateway_stop = stop_rx;
        tokio::spawn(async move {
            mm_gateway::serve(&gateway_settings, http_listener, async move {
                let _ = gateway_stop.wait_for(|s| *s).await;
            })
            .await
        });
        let grpc = Channel::from_shared(format!("http://{grpc_addr}"))?
            .connect()
            .await?;
        let login = AuthServiceClient::new(grpc.clone())
            .login(v1::LoginRequest {
                username: settings.admin_username.clone(),
                password: ADMIN_PASSWORD.to_owned(),
            })
            .await?
            .into_inner();
        Ok(Stack {
            grpc,
            http_base: format!("http://{http_addr}"),
            bearer: format!("Bearer {}", login.access_token),
            link,
            stop,
            _database: database,
            _data_dir: data_dir,
        })
    }
}

/// Pair `p` goes from instance `p % n` to the `1 + p / n`-th next one, alternating push
/// and pull, so links differ in size.
fn pair_ends(p: u32, instances: u32) -> (u32, u32, &'static str) {
    let source = p % instances;
    let target = (source + 1 + (p / instances) % (instances - 1)) % instances;
    (
        source,
        target,
        if p.is_multiple_of(2) { "push" } else { "pull" },
    )
}

/// The bulk insert of the mirrors; `pair`, `ago` (minutes ago as a timestamp), `now` and
/// `series` (the number series `g`) are the dialect's expressions.
fn mirror_insert(pair: &str, ago: &dyn Fn(&str) -> String, now: &str, series: &str) -> String {
    format!(
        "INSERT INTO mirrors (pair_id, source_project_id, source_project_path, \
         target_project_id, target_project_path, enabled, lifecycle, last_update_status, \
         last_successful_update_time, last_update_time, status_check_time, create_time, \
         update_time) \
         SELECT {pair}, g, 'group-' || (g % 500) || '/sub-' || (g % 37) || '/project-' || g, \
           g + 1000000000, 'mirror-' || (g % 500) || '/project-' || g, g % 25 <> 0, \
           CASE g % 100 WHEN 0 THEN 'creating' WHEN 1 THEN 'create_failed' \
             WHEN 2 THEN 'deleting' ELSE 'ready' END, \
           CASE g % 20 WHEN 0 THEN 'failed' WHEN 1 THEN 'started' WHEN 2 THEN 'none' \
             WHEN 3 THEN NULL WHEN 4 THEN 'scheduled' ELSE 'finished' END, \
           CASE WHEN g % 20 IN (2, 3) THEN NULL ELSE {success} END, \
           {attempt}, \
           CASE WHEN g % 20 = 3 THEN NULL ELSE {checked} END, \
           {now}, {now} \
         FROM {series}",
        success = ago("g % 20000"),
        attempt = ago("g % 600"),
        checked = format_args!(
            "CASE WHEN g % 50 = 7 THEN {} ELSE {} END",
            ago("180 + g % 600"),
            ago("g % 5")
        ),
    )
}

/// Inserts the instances, pairs and mirrors; returns the busiest link.
async fn seed(database: &TestDatabase, args: &Args) -> anyhow::Result<(i64, i64, &'static str)> {
    let mut ends = std::collections::BTreeMap::<(u32, u32, &str), u32>::new();
    for p in 0..args.pairs {
        *ends.entry(pair_ends(p, args.instances)).or_default() += 1;
    }
    let busiest = ends
        .iter()
        .max_by_key(|(_, count)| **count)
        .map(|(link, _)| *link)
        .context("no pairs")?;
    let link = |first_instance: i64| {
        (
            first_instance + i64::from(busiest.0),
            first_instance + i64::from(busiest.1),
            busiest.2,
        )
    };
    let instance_sql = |now: &str| {
        format!(
            "INSERT INTO instances (name, url, description, encrypted_token, create_time, \
             update_time) VALUES ($1, $2, 'benchmark', 'v1:bench', {now}, {now}) RETURNING id"
        )
    };
    let pair_sql = |now: &str| {
        format!(
            "INSERT INTO pairs (name, source_instance_id, target_instance_id, \
             mirror_direction, create_time, update_time) \
             VALUES ($1, $2, $3, $4, {now}, {now}) RETURNING id"
        )
    };
    let pairs = i64::from(args.pairs);
    let mirrors = i64::from(args.mirrors);
    match database.backend {
        TestBackend::Postgres => {
            let pool = sqlx::PgPool::connect(&database.url).await?;
            let now = "now()";
            let mut instance_ids = Vec::new();
            for i in 0..args.instances {
                instance_ids.push(
                    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(instance_sql(now)))
                        .bind(format!("bench-instance-{i:02}"))
                        .bind(format!("https://gitlab-{i:02}.bench.test"))
                        .fetch_one(&pool)
                        .await?,
                );
            }
            let mut first_pair = None;
            for p in 0..args.pairs {
                let (s, t, direction) = pair_ends(p, args.instances);
                let id = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(pair_sql(now)))
                    .bind(format!("bench-pair-{p:03}"))
                    .bind(instance_ids[s as usize])
                    .bind(instance_ids[t as usize])
                    .bind(direction)
                    .fetch_one(&pool)
                    .await?;
                first_pair.get_or_insert(id);
            }
            let ago = |minutes: &str| format!("now() - make_interval(mins => ({minutes})::int)");
            let pair = format!("{} + g % {pairs}", first_pair.unwrap_or(1));
            let sql = mirror_insert(&pair, &ago, "now()", "generate_series(1::bigint, $1) AS g");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(mirrors)
                .execute(&pool)
                .await?;
            // What autovacuum does after a bulk load: statistics and the visibility map that
            // index-only scans rely on.
            sqlx::query("VACUUM ANALYZE").execute(&pool).await?;
            pool.close().await;
            Ok(link(instance_ids[0]))
        }
        TestBackend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&database.url).await?;
            // The stored format: fixed width, microseconds, `Z`.
            let now = "(strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')";
            let mut instance_ids = Vec::new();
            for i in 0..args.instances {
                instance_ids.push(
                    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(instance_sql(now)))
                        .bind(format!("bench-instance-{i:02}"))
                        .bind(format!("https://gitlab-{i:02}.bench.test"))
                        .fetch_one(&pool)
                        .await?,
                );
            }
            let mut first_pair = None;
            for p in 0..args.pairs {
                let (s, t, direction) = pair_ends(p, args.instances);
                let id = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(pair_sql(now)))
                    .bind(format!("bench-pair-{p:03}"))
                    .bind(instance_ids[s as usize])
                    .bind(instance_ids[t as usize])
                    .bind(direction)
                    .fetch_one(&pool)
                    .await?;
                first_pair.get_or_insert(id);
            }
            let ago = |minutes: &str| {
                format!(
                    "strftime('%Y-%m-%dT%H:%M:%f', 'now', '-' || ({minutes}) || ' minutes') \
                     || '000Z'"
                )
            };
            let pair = format!("{} + g % {pairs}", first_pair.unwrap_or(1));
            let sql = format!(
                "WITH RECURSIVE series(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM series \
                 WHERE g < $1) {}",
                mirror_insert(&pair, &ago, now, "series")
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(mirrors)
                .execute(&pool)
                .await?;
            sqlx::query("ANALYZE").execute(&pool).await?;
            pool.close().await;
            Ok(link(instance_ids[0]))
        }
    }
}

struct Measured {
    latencies_us: Vec<u64>,
    errors: usize,
    elapsed: Duration,
}

impl Measured {
    fn percentile_ms(&self, percentile: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let rank = ((percentile / 100.0) * (self.latencies_us.len() - 1) as f64).round() as usize;
        self.latencies_us[rank] as f64 / 1000.0
    }
}

async fn measure(
    stack: &Stack,
    endpoint: Endpoint,
    grpc: bool,
    concurrency: usize,
    seconds: u64,
) -> Measured {
    let http = reqwest::Client::new();
    // Warm-up, not measured.
    drive(
        stack,
        &http,
        endpoint,
        grpc,
        concurrency,
        Duration::from_secs(1),
    )
    .await;
    let started = Instant::now();
    let runs = drive(
        stack,
        &http,
        endpoint,
        grpc,
        concurrency,
        Duration::from_secs(seconds),
    )
    .await;
    let elapsed = started.elapsed();
    let mut latencies_us = Vec::new();
    let mut errors = 0;
    for (latencies, failed) in runs {
        latencies_us.extend(latencies);
        errors += failed;
    }
    latencies_us.sort_unstable();
    Measured {
        latencies_us,
        errors,
        elapsed,
    }
}

fn rest_path(stack: &Stack, endpoint: Endpoint) -> String {
    let (source, target, direction) = stack.link;
    match endpoint {
        Endpoint::Metrics => "/api/dashboard/metrics".into(),
        Endpoint::QuickStats => "/api/dashboard/quick-stats".into(),
        Endpoint::Topology => "/api/topology".into(),
        Endpoint::LinkMirrors => format!(
            "/api/topology/link-mirrors?source_instance_id={source}&target_instance_id={target}\
             &mirror_direction={direction}&limit=200"
        ),
        Endpoint::SearchRare => format!("/api/search?q={RARE_TERM}&limit=10"),
        Endpoint::SearchMissing => format!("/api/search?q={MISSING_TERM}&limit=10"),
        Endpoint::SearchCommon => format!("/api/search?q={COMMON_TERM}&limit=10"),
    }
}

fn authorized<T>(bearer: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Ok(value) = bearer.parse() {
        request.metadata_mut().insert("authorization", value);
    }
    request
}

/// One gRPC call of `endpoint`; whether it succeeded.
async fn grpc_call(
    channel: &Channel,
    bearer: &str,
    endpoint: Endpoint,
    link: (i64, i64, &str),
) -> bool {
    let (source, target, direction) = link;
    match endpoint {
        Endpoint::Metrics => DashboardServiceClient::new(channel.clone())
            .get_dashboard_metrics(authorized(bearer, v1::GetDashboardMetricsRequest {}))
            .await
            .is_ok(),
        Endpoint::QuickStats => DashboardServiceClient::new(channel.clone())
            .get_quick_stats(authorized(bearer, v1::GetQuickStatsRequest {}))
            .await
            .is_ok(),
        Endpoint::Topology => TopologyServiceClient::new(channel.clone())
            .get_topology(authorized(bearer, v1::GetTopologyRequest::default()))
            .await
            .is_ok(),
        Endpoint::LinkMirrors => TopologyServiceClient::new(channel.clone())
            .list_link_mirrors(authorized(
                bearer,
                v1::ListLinkMirrorsRequest {
                    source_instance_id: source,
                    target_instance_id: target,
                    mirror_direction: if direction == "push" {
                        v1::MirrorDirection::Push as i32
                    } else {
                        v1::MirrorDirection::Pull as i32
                    },
                    page_size: 200,
                    ..Default::default()
                },
            ))
            .await
            .is_ok(),
        Endpoint::SearchRare | Endpoint::SearchMissing | Endpoint::SearchCommon => {
            let query = match endpoint {
                Endpoint::SearchRare => RARE_TERM,
                Endpoint::SearchMissing => MISSING_TERM,
                _ => COMMON_TERM,
            };
            SearchServiceClient::new(channel.clone())
                .search(authorized(
                    bearer,
                    v1::SearchRequest {
                        query: query.into(),
                        limit: 10,
                    },
                ))
                .await
                .is_ok()
        }
    }
}

async fn drive(
    stack: &Stack,
    http: &reqwest::Client,
    endpoint: Endpoint,
    grpc: bool,
    concurrency: usize,
    duration: Duration,
) -> Vec<(Vec<u64>, usize)> {
    let deadline = Instant::now() + duration;
    let url = format!("{}{}", stack.http_base, rest_path(stack, endpoint));
    let mut clients = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let http = http.clone();
        let url = url.clone();
        let channel = stack.grpc.clone();
        let bearer = stack.bearer.clone();
        let link = stack.link;
        clients.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failed = 0;
            while Instant::now() < deadline {
                let started = Instant::now();
                let ok = if grpc {
                    grpc_call(&channel, &bearer, endpoint, link).await
                } else {
                    match http.get(&url).header("authorization", &bearer).send().await {
                        Ok(response) => {
                            let ok = response.status().is_success();
                            ok && response.bytes().await.is_ok()
                        }
                        Err(_) => false,
                    }
                };
                if ok {
                    latencies.push(started.elapsed().as_micros() as u64);
                } else {
                    failed += 1;
                }
            }
            (latencies, failed)
        }));
    }
    let mut runs = Vec::with_capacity(concurrency);
    for client in clients {
        if let Ok(run) = client.await {
            runs.push(run);
        }
    }
    runs
}
