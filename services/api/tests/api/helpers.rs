use std::future::Future;

use mm_api::testing::{SpawnOptions, SpawnedApi, TestBackend, spawn_api_with};
use mm_proto::v1::{
    self, auth_service_client::AuthServiceClient, instance_service_client::InstanceServiceClient,
    job_service_client::JobServiceClient, mirror_service_client::MirrorServiceClient,
    pair_service_client::PairServiceClient,
};
use tonic::{
    Code, Request, Status,
    metadata::{Ascii, MetadataValue},
    service::{Interceptor, interceptor::InterceptedService},
    transport::Channel,
};
use tonic_types::StatusExt;

/// Declares `sqlite` and `postgres` test modules running each listed `async fn(TestApp)`.
macro_rules! api_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    crate::helpers::run(mm_api::testing::TestBackend::Sqlite, super::$name).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    crate::helpers::run(mm_api::testing::TestBackend::Postgres, super::$name).await;
                }
            )*
        }
    };
}
pub(crate) use api_tests;

/// Adds an `authorization` header to every call.
#[derive(Clone)]
pub struct Authorization(pub Option<MetadataValue<Ascii>>);

impl Interceptor for Authorization {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

pub type Authed = InterceptedService<Channel, Authorization>;

/// A spawned API with an administrator token.
pub struct TestApp {
    pub api: SpawnedApi,
    pub channel: Channel,
    pub token: String,
}

/// Spawns the API on `backend` and runs `test` (skips PostgreSQL only with
/// `MM_SKIP_POSTGRES=1`).
pub async fn run<F, Fut>(backend: TestBackend, test: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(app) = spawn(backend, SpawnOptions::default()).await else {
        return;
    };
    test(app).await;
}

pub async fn spawn(backend: TestBackend, options: SpawnOptions) -> Option<TestApp> {
    let api = spawn_api_with(backend, options).await?;
    let channel = api.channel().await;
    let token = api.admin_token().await;
    Some(TestApp {
        api,
        channel,
        token,
    })
}

pub fn header(value: &str) -> Authorization {
    Authorization(Some(value.parse().expect("ASCII header value")))
}

impl TestApp {
    pub fn bearer(&self) -> Authorization {
        header(&format!("Bearer {}", self.token))
    }

    pub fn instances(&self) -> InstanceServiceClient<Authed> {
        InstanceServiceClient::with_interceptor(self.channel.clone(), self.bearer())
    }

    pub fn pairs(&self) -> PairServiceClient<Authed> {
        PairServiceClient::with_interceptor(self.channel.clone(), self.bearer())
    }

    pub fn mirrors(&self) -> MirrorServiceClient<Authed> {
        MirrorServiceClient::with_interceptor(self.channel.clone(), self.bearer())
    }

    pub fn jobs(&self) -> JobServiceClient<Authed> {
        JobServiceClient::with_interceptor(self.channel.clone(), self.bearer())
    }

    pub fn storage(&self) -> &std::sync::Arc<dyn mm_storage::Storage> {
        self.api.ctx.storage()
    }

    /// Two instances (on addresses nothing listens on: the API must not call them) and a push
    /// pair between them.
    pub async fn pair(&self, name: &str) -> v1::Pair {
        let source = self.create_instance(&format!("{name}-src")).await;
        let target = self.create_instance(&format!("{name}-dst")).await;
        self.create_pair(name, source.id, target.id)
            .await
            .pair
            .expect("pair in response")
    }

    pub fn auth_with(&self, authorization: Authorization) -> AuthServiceClient<Authed> {
        AuthServiceClient::with_interceptor(self.channel.clone(), authorization)
    }

    pub fn anonymous_auth(&self) -> AuthServiceClient<Authed> {
        self.auth_with(Authorization(None))
    }

    /// Creates an instance on a public address literal (no DNS needed).
    pub async fn create_instance(&self, name: &str) -> v1::Instance {
        self.instances()
            .create_instance(v1::CreateInstanceRequest {
                name: name.to_owned(),
                url: format!("https://8.8.4.4/{}", name.to_lowercase()),
                description: format!("{name} instance"),
                token: format!("glpat-{name}-token"),
            })
            .await
            .expect("create instance")
            .into_inner()
            .instance
            .expect("instance in response")
    }

    pub fn pair_spec(name: &str, source: i64, target: i64) -> v1::Pair {
        v1::Pair {
            name: name.to_owned(),
            source_instance_id: source,
            target_instance_id: target,
            mirror_direction: v1::MirrorDirection::Push as i32,
            ..Default::default()
        }
    }

    pub async fn create_pair(
        &self,
        name: &str,
        source: i64,
        target: i64,
    ) -> v1::CreatePairResponse {
        self.pairs()
            .create_pair(v1::CreatePairRequest {
                pair: Some(Self::pair_spec(name, source, target)),
            })
            .await
            .expect("create pair")
            .into_inner()
    }
}

/// Asserts the status code and that the BadRequest details (or, for other codes, the attached
/// field violations) name `field`.
#[track_caller]
pub fn assert_field(status: &Status, code: Code, field: &str) {
    assert_eq!(status.code(), code, "{status:?}");
    let fields: Vec<String> = status
        .get_details_bad_request()
        .map(|details| {
            details
                .field_violations
                .into_iter()
                .map(|violation| violation.field)
                .collect()
        })
        .unwrap_or_default();
    assert!(
        fields.iter().any(|f| f == field),
        "expected a violation of {field:?}, got {fields:?} ({})",
        status.message()
    );
}

pub fn mask(paths: &[&str]) -> Option<pbjson_types::FieldMask> {
    Some(pbjson_types::FieldMask {
        paths: paths.iter().map(|p| (*p).to_owned()).collect(),
    })
}
