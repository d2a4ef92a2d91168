//! The product's gRPC API as the benchmark uses it: log in, register instances, create pairs,
//! import, batch-sync and wait for jobs.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use mm_proto::v1::{
    self as pb, auth_service_client::AuthServiceClient,
    instance_service_client::InstanceServiceClient, job_service_client::JobServiceClient,
    mirror_service_client::MirrorServiceClient, pair_service_client::PairServiceClient,
};
use tonic::{
    Request, metadata::MetadataValue, service::interceptor::InterceptedService, transport::Channel,
};

use super::stack::Stack;

type Authorize =
    Box<dyn FnMut(Request<()>) -> Result<Request<()>, tonic::Status> + Send + Sync + 'static>;
type Authed = InterceptedService<Channel, Authorize>;

pub struct Api {
    /// `Bearer <jwt>`, for REST calls too.
    pub bearer: String,
    instances: InstanceServiceClient<Authed>,
    pairs: PairServiceClient<Authed>,
    mirrors: MirrorServiceClient<Authed>,
    jobs: JobServiceClient<Authed>,
}

/// A job as the benchmark sees it once it finished.
#[derive(Debug, Clone)]
pub struct FinishedJob {
    pub job: pb::Job,
    /// From the request to the moment the benchmark saw it finish.
    pub wall: Duration,
}

impl FinishedJob {
    pub fn succeeded(&self) -> bool {
        self.job.state == pb::JobState::Succeeded as i32
    }

    pub fn summary(&self) -> String {
        format!(
            "{} job {}: {:?}, {} succeeded, {} failed, {} skipped of {}",
            self.job.kind,
            self.job.id,
            pb::JobState::try_from(self.job.state).unwrap_or(pb::JobState::Unspecified),
            self.job.succeeded,
            self.job.failed,
            self.job.skipped,
            self.job.total
        )
    }
}

impl Api {
    /// Connects and logs in as the administrator, retrying while `mm-api` starts.
    pub async fn connect(stack: &mut Stack) -> anyhow::Result<Api> {
        let deadline = Instant::now() + Duration::from_secs(90);
        let (channel, token) = loop {
            stack.ensure_running()?;
            let attempt = async {
                let channel = Channel::from_shared(stack.grpc_url.clone())?
                    .connect()
                    .await?;
                let login = AuthServiceClient::new(channel.clone())
                    .login(pb::LoginRequest {
                        username: "admin".into(),
                        password: stack.admin_password.clone(),
                    })
                    .await?
                    .into_inner();
                anyhow::Ok((channel, login.access_token))
            }
            .await;
            match attempt {
                Ok(connected) => break connected,
                Err(error) if Instant::now() >= deadline => {
                    return Err(error.context(format!(
                        "mm-api did not answer within 90 s; end of its log:\n{}",
                        stack.api_log_tail()
                    )));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(300)).await,
            }
        };
        let bearer = format!("Bearer {token}");
        let value: MetadataValue<_> = bearer.parse()?;
        let authorize = || -> Authorize {
            let value = value.clone();
            Box::new(move |mut request: Request<()>| {
                request
                    .metadata_mut()
                    .insert("authorization", value.clone());
                Ok(request)
            })
        };
        Ok(Api {
            bearer,
            instances: InstanceServiceClient::with_interceptor(channel.clone(), authorize()),
            pairs: PairServiceClient::with_interceptor(channel.clone(), authorize()),
            mirrors: MirrorServiceClient::with_interceptor(channel.clone(), authorize())
                .max_decoding_message_size(64 << 20),
            jobs: JobServiceClient::with_interceptor(channel, authorize()),
        })
    }

    /// Registers a simulated instance and waits for its verification job.
    pub async fn register_instance(
        &mut self,
        name: &str,
        url: &str,
        token: &str,
    ) -> anyhow::Result<i64> {
        let created = self
            .instances
            .create_instance(pb::CreateInstanceRequest {
                name: name.to_owned(),
                url: url.to_owned(),
                description: "benchmark".into(),
                token: token.to_owned(),
            })
            .await
            .with_context(|| format!("registering instance {name}"))?
            .into_inner();
        let id = created.instance.context("no instance in the answer")?.id;
        if let Some(job) = created.verify_job {
            let verified = self.wait_job(job.id, Duration::from_secs(120)).await?;
            anyhow::ensure!(
                verified.succeeded(),
                "verifying {name}: {}",
                verified.summary()
            );
        }
        Ok(id)
    }

    pub async fn create_push_pair(
        &mut self,
        name: &str,
        source_instance_id: i64,
        target_instance_id: i64,
    ) -> anyhow::Result<i64> {
        let created = self
            .pairs
            .create_pair(pb::CreatePairRequest {
                pair: Some(pb::Pair {
                    name: name.to_owned(),
                    source_instance_id,
                    target_instance_id,
                    mirror_direction: pb::MirrorDirection::Push as i32,
                    mirror_overwrite_diverged: true,
                    description: "benchmark pair".into(),
                    ..Default::default()
                }),
            })
            .await
            .with_context(|| format!("creating pair {name}"))?
            .into_inner();
        Ok(created.pair.context("no pair in the answer")?.id)
    }

    /// The dry run of an import: GitLab calls it needs and the estimated seconds.
    pub async fn plan_import(
        &mut self,
        pair_id: i64,
        paths: &[String],
    ) -> anyhow::Result<pb::ImportPairMirrorsResponse> {
        Ok(self
            .mirrors
            .import_pair_mirrors(import_request(pair_id, paths, true))
            .await
            .context("import dry run")?
            .into_inner())
    }

    /// Starts an import job of mirrors between equal paths; returns the job id.
    pub async fn start_import(&mut self, pair_id: i64, paths: &[String]) -> anyhow::Result<i64> {
        let response = self
            .mirrors
            .import_pair_mirrors(import_request(pair_id, paths, false))
            .await
            .context("import")?
            .into_inner();
        Ok(response.job.context("the import started no job")?.id)
    }

    /// Starts a batch sync of a pair; returns the job id and the mirror count.
    pub async fn start_sync(&mut self, pair_id: i64) -> anyhow::Result<(i64, i64)> {
        let response = self
            .mirrors
            .sync_pair_mirrors(pb::SyncPairMirrorsRequest {
                pair_id,
                dry_run: false,
            })
            .await
            .context("batch sync")?
            .into_inner();
        Ok((
            response.job.context("the batch sync started no job")?.id,
            response.mirror_count,
        ))
    }

    /// Polls a job every 250 ms until it finished.
    pub async fn wait_job(&mut self, id: i64, timeout: Duration) -> anyhow::Result<FinishedJob> {
        let started = Instant::now();
        loop {
            let job = self
                .jobs
                .get_job(pb::GetJobRequest { id })
                .await
                .with_context(|| format!("reading job {id}"))?
                .into_inner()
                .job
                .context("no job in the answer")?;
            let state = pb::JobState::try_from(job.state).unwrap_or(pb::JobState::Unspecified);
            if !matches!(state, pb::JobState::Queued | pb::JobState::Running) {
                return Ok(FinishedJob {
                    job,
                    wall: started.elapsed(),
                });
            }
            anyhow::ensure!(
                started.elapsed() < timeout,
                "job {id} did not finish within {timeout:?}: {} of {} items done",
                job.done,
                job.total
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Error messages of a few failed items, for the report of a failed job.
    pub async fn failed_items(&mut self, job_id: i64) -> Vec<String> {
        let Ok(response) = self
            .jobs
            .list_job_items(pb::ListJobItemsRequest {
                job_id,
                page_size: 5,
                state: pb::JobItemState::Failed as i32,
                ..Default::default()
            })
            .await
        else {
            return Vec::new();
        };
        response
            .into_inner()
            .items
            .into_iter()
            .map(|item| format!("{}: {:?}", item.label, item.error))
            .collect()
    }
}

fn import_request(pair_id: i64, paths: &[String], dry_run: bool) -> pb::ImportPairMirrorsRequest {
    pb::ImportPairMirrorsRequest {
        pair_id,
        mirrors: paths
            .iter()
            .map(|path| pb::ExportedMirror {
                source_project_path: path.clone(),
                target_project_path: path.clone(),
                ..Default::default()
            })
            .collect(),
        dry_run,
    }
}
