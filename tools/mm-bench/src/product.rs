//! Starts the API and the gateway in-process on a fresh database and seeds it.

use std::net::SocketAddr;

use anyhow::Context as _;
use mm_config::{CliOverrides, Mode, Settings};
use mm_proto::v1::{
    CreateInstanceRequest, CreatePairRequest, LoginRequest, MirrorDirection, Pair,
    auth_service_client::AuthServiceClient, instance_service_client::InstanceServiceClient,
    pair_service_client::PairServiceClient,
};
use mm_storage::testing::{TestBackend, TestDatabase};
use tokio::{net::TcpListener, sync::watch};
use tonic::{Request, metadata::MetadataValue, transport::Channel};

const ADMIN_PASSWORD: &str = "bench-admin-password";
const INSTANCES: usize = 20;

pub struct Product {
    pub grpc: Channel,
    pub http_base: String,
    pub bearer: String,
    pub pair_ids: Vec<i64>,
    stop: watch::Sender<bool>,
    _database: TestDatabase,
    _data_dir: tempfile::TempDir,
}

impl Product {
    pub async fn start(backend: TestBackend, pairs: usize) -> anyhow::Result<Product> {
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
            .login(LoginRequest {
                username: settings.admin_username.clone(),
                password: ADMIN_PASSWORD.to_owned(),
            })
            .await?
            .into_inner();
        let bearer = format!("Bearer {}", login.access_token);
        let pair_ids = seed(&grpc, &bearer, pairs).await?;
        Ok(Product {
            grpc,
            http_base: format!("http://{http_addr}"),
            bearer,
            pair_ids,
            stop,
            _database: database,
            _data_dir: data_dir,
        })
    }

    pub async fn stop(self) {
        let _ = self.stop.send(true);
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

async fn seed(grpc: &Channel, bearer: &str, pairs: usize) -> anyhow::Result<Vec<i64>> {
    let authorization: MetadataValue<_> = bearer.parse()?;
    fn authorized<T>(
        message: T,
        authorization: &MetadataValue<tonic::metadata::Ascii>,
    ) -> Request<T> {
        let mut request = Request::new(message);
        request
            .metadata_mut()
            .insert("authorization", authorization.clone());
        request
    }
    let with_auth_instance = |m| authorized(m, &authorization);
    let with_auth_pair = |m| authorized(m, &authorization);
    let mut instances = InstanceServiceClient::new(grpc.clone());
    let mut instance_ids = Vec::with_capacity(INSTANCES);
    for i in 0..INSTANCES {
        let created = instances
            .create_instance(with_auth_instance(CreateInstanceRequest {
                name: format!("bench-instance-{i:02}"),
                url: format!("http://127.0.0.1:{}/", 20000 + i),
                description: "benchmark".into(),
                token: format!("bench-token-{i}"),
            }))
            .await?
            .into_inner();
        instance_ids.push(created.instance.context("no instance")?.id);
    }
    let mut pair_client = PairServiceClient::new(grpc.clone());
    let mut pair_ids = Vec::with_capacity(pairs);
    for i in 0..pairs {
        let source = i % INSTANCES;
        let target = (source + 1 + (i / INSTANCES) % (INSTANCES - 1)) % INSTANCES;
        let created = pair_client
            .create_pair(with_auth_pair(CreatePairRequest {
                pair: Some(Pair {
                    name: format!("bench-pair-{i:05}"),
                    source_instance_id: instance_ids[source],
                    target_instance_id: instance_ids[target],
                    mirror_direction: if i % 2 == 0 {
                        MirrorDirection::Push as i32
                    } else {
                        MirrorDirection::Pull as i32
                    },
                    description: "benchmark pair".into(),
                    ..Default::default()
                }),
            }))
            .await?
            .into_inner();
        pair_ids.push(created.pair.context("no pair")?.id);
    }
    Ok(pair_ids)
}
