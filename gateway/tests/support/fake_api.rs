//! An in-memory stand-in for the gRPC API service, following the contract of
//! `proto/mirrormaestro/v1` (field masks, page tokens, field violations, auth metadata). It
//! lets the gateway's REST↔gRPC mapping be tested without the real service, and records what
//! the gateway sent. The real service is exercised by the `edge` tests.
//!
//! The mirror and job services are in `fake_mirrors.rs` and `fake_jobs.rs`.

#![allow(dead_code)]

#[path = "fake_jobs.rs"]
mod fake_jobs;
#[path = "fake_mirrors.rs"]
mod fake_mirrors;

#[allow(unused_imports)]
pub use fake_jobs::{HOLD_OPEN_KIND, SLOW_KIND, STREAM_ERROR_KIND, Scope, start_job};
pub use fake_mirrors::Recorded;

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use base64::Engine;
use mm_common::{ApiError, FieldViolation};
use mm_proto::v1::{self as pb, *};
use tonic::{Request, Response, Status, metadata::MetadataMap};

pub const USERNAME: &str = "admin";
pub const PASSWORD: &str = "secret-password";
pub const JWT: &str = "fake.jwt.token";

#[derive(Default)]
pub struct Inner {
    pub instances: BTreeMap<i64, pb::Instance>,
    pub tokens: BTreeMap<i64, String>,
    pub pairs: BTreeMap<i64, pb::Pair>,
    pub(crate) next_id: i64,
    /// Metadata of the last authenticated call.
    pub last_metadata: Option<MetadataMap>,
    /// Update masks received, in order.
    pub masks: Vec<Vec<String>>,
    pub mirrors: BTreeMap<i64, pb::Mirror>,
    pub jobs: BTreeMap<i64, pb::Job>,
    pub job_items: BTreeMap<i64, Vec<pb::JobItem>>,
    /// The last request of each mirror/job RPC, as received.
    pub recorded: Recorded,
}

#[derive(Clone, Default)]
pub struct FakeApi {
    pub inner: Arc<Mutex<Inner>>,
}

pub struct Spawned {
    pub addr: SocketAddr,
    pub api: FakeApi,
}

impl Spawned {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Starts the fake API on `addr` (use port 0 for any).
pub async fn spawn_on(addr: SocketAddr) -> Spawned {
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let api = FakeApi::default();
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;
    let server = tonic::transport::Server::builder()
        .add_service(health)
        .add_service(auth_service_server::AuthServiceServer::new(api.clone()))
        .add_service(instance_service_server::InstanceServiceServer::new(
            api.clone(),
        ))
        .add_service(pair_service_server::PairServiceServer::new(api.clone()))
        .add_service(mirror_service_server::MirrorServiceServer::new(api.clone()))
        .add_service(job_service_server::JobServiceServer::new(api.clone()));
    tokio::spawn(async move {
        let _reporter = reporter;
        server
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
            .await
            .unwrap();
    });
    Spawned { addr, api }
}

pub async fn spawn() -> Spawned {
    spawn_on("127.0.0.1:0".parse().unwrap()).await
}

pub(crate) fn now() -> Option<pbjson_types::Timestamp> {
    let now = chrono::Utc::now();
    Some(pbjson_types::Timestamp {
        seconds: now.timestamp(),
        nanos: now.timestamp_subsec_nanos() as i32,
    })
}

fn admin() -> pb::User {
    pb::User {
        id: 1,
        username: USERNAME.into(),
        email: Some("admin@example.com".into()),
        is_admin: true,
        is_active: true,
        create_time: Some(pbjson_types::Timestamp {
            seconds: 1_700_000_000,
            nanos: 123_456_000,
        }),
    }
}

pub(crate) fn invalid(field: &str, description: &str) -> Status {
    ApiError::invalid_field(field, description).to_status()
}

pub(crate) fn page<T: Clone>(
    items: &[T],
    size: i32,
    token: &str,
) -> Result<(Vec<T>, String), Status> {
    let size = match size {
        0 => 50,
        1..=200 => size as usize,
        _ => return Err(invalid("page_size", "must be between 1 and 200")),
    };
    let offset: usize = if token.is_empty() {
        0
    } else {
        token
            .strip_prefix("o")
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| invalid("page_token", "invalid page token"))?
    };
    let end = (offset + size).min(items.len());
    let slice = items.get(offset..end).unwrap_or_default().to_vec();
    let next = if end < items.len() {
        format!("o{end}")
    } else {
        String::new()
    };
    Ok((slice, next))
}

fn sort_key(order_by: &str) -> Result<(&str, bool), Status> {
    let (field, desc) = match order_by.strip_suffix(" desc") {
        Some(field) => (field, true),
        None => (order_by, false),
    };
    match field {
        "" | "name" => Ok(("name", desc)),
        "id" | "create_time" | "update_time" => Ok(("id", desc)),
        _ => Err(invalid("order_by", "unknown sort key")),
    }
}

impl FakeApi {
    pub(crate) fn authenticate(&self, metadata: &MetadataMap) -> Result<pb::User, Status> {
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{USERNAME}:{PASSWORD}"))
        );
        let bearer = format!("Bearer {JWT}");
        match metadata.get("authorization").and_then(|v| v.to_str().ok()) {
            Some(value) if value == basic || value == bearer => {
                self.inner.lock().unwrap().last_metadata = Some(metadata.clone());
                Ok(admin())
            }
            Some(_) => Err(Status::unauthenticated("invalid credentials")),
            None => Err(Status::unauthenticated("authentication required")),
        }
    }

    fn check_instance(inner: &Inner, i: &pb::Instance) -> Result<(), Status> {
        let mut violations = Vec::new();
        if i.name.trim().is_empty() || i.name.chars().count() > 100 {
            violations.push(FieldViolation::new("name", "must be 1-100 characters"));
        }
        let url_ok = (i.url.starts_with("https://") || i.url.starts_with("http://"))
            && i.url.split("://").nth(1).is_some_and(|h| !h.is_empty());
        if !url_ok {
            violations.push(FieldViolation::new(
                "url",
                "must be an http(s) URL with a host",
            ));
        }
        if i.description.chars().count() > 500 {
            violations.push(FieldViolation::new("description", "at most 500 characters"));
        }
        if !violations.is_empty() {
            return Err(ApiError::invalid_fields(violations).to_status());
        }
        if inner
            .instances
            .values()
            .any(|o| o.id != i.id && o.name == i.name)
        {
            return Err(
                ApiError::already_exists("an instance with this name exists")
                    .with_field("name", "already in use")
                    .to_status(),
            );
        }
        Ok(())
    }

    fn check_pair(inner: &Inner, p: &pb::Pair) -> Result<(), Status> {
        if p.name.trim().is_empty() || p.name.chars().count() > 100 {
            return Err(invalid("pair.name", "must be 1-100 characters"));
        }
        if p.mirror_direction == pb::MirrorDirection::Unspecified as i32 {
            return Err(invalid("pair.mirror_direction", "must be push or pull"));
        }
        if p.mirror_branch_regex
            .as_ref()
            .is_some_and(|r| r.len() > 255)
        {
            return Err(invalid(
                "pair.mirror_branch_regex",
                "at most 255 characters",
            ));
        }
        if p.source_instance_id == p.target_instance_id {
            return Err(invalid(
                "pair.target_instance_id",
                "must differ from source_instance_id",
            ));
        }
        for (field, id) in [
            ("pair.source_instance_id", p.source_instance_id),
            ("pair.target_instance_id", p.target_instance_id),
        ] {
            if !inner.instances.contains_key(&id) {
                return Err(ApiError::not_found(format!("instance {id} not found"))
                    .with_field(field, "no such instance")
                    .to_status());
            }
        }
        if inner
            .pairs
            .values()
            .any(|o| o.id != p.id && o.name == p.name)
        {
            return Err(ApiError::already_exists("a pair with this name exists")
                .with_field("pair.name", "already in use")
                .to_status());
        }
        Ok(())
    }

    fn reverse(inner: &Inner, p: &pb::Pair) -> (Vec<String>, Option<i64>) {
        match inner.pairs.values().find(|o| {
            o.source_instance_id == p.target_instance_id
                && o.target_instance_id == p.source_instance_id
        }) {
            Some(o) => (
                vec![format!(
                    "reverse pair {} exists: bidirectional mirroring",
                    o.id
                )],
                Some(o.id),
            ),
            None => (Vec::new(), None),
        }
    }

    pub(crate) fn recount(inner: &mut Inner) {
        let mirrors: Vec<i64> = inner.mirrors.values().map(|m| m.pair_id).collect();
        for pair in inner.pairs.values_mut() {
            pair.mirror_count = mirrors.iter().filter(|id| **id == pair.id).count() as i64;
        }
        let pairs: Vec<pb::Pair> = inner.pairs.values().cloned().collect();
        for instance in inner.instances.values_mut() {
            instance.pair_count = pairs
                .iter()
                .filter(|p| {
                    p.source_instance_id == instance.id || p.target_instance_id == instance.id
                })
                .count() as i64;
        }
    }
}

#[tonic::async_trait]
impl auth_service_server::AuthService for FakeApi {
    async fn login(
        &self,
        request: Request<LoginRequest>,
    ) -> Result<Response<LoginResponse>, Status> {
        let r = request.into_inner();
        if r.username != USERNAME || r.password != PASSWORD {
            return Err(Status::unauthenticated("incorrect username or password"));
        }
        Ok(Response::new(LoginResponse {
            access_token: JWT.into(),
            token_type: "bearer".into(),
            expires_in: 86_400,
            user: Some(admin()),
        }))
    }

    async fn who_am_i(
        &self,
        request: Request<WhoAmIRequest>,
    ) -> Result<Response<WhoAmIResponse>, Status> {
        let user = self.authenticate(request.metadata())?;
        Ok(Response::new(WhoAmIResponse { user: Some(user) }))
    }
}

#[tonic::async_trait]
impl instance_service_server::InstanceService for FakeApi {
    async fn list_instances(
        &self,
        request: Request<ListInstancesRequest>,
    ) -> Result<Response<ListInstancesResponse>, Status> {
        self.authenticate(request.metadata())?;
        let r = request.into_inner();
        let (key, desc) = sort_key(&r.order_by)?;
        let inner = self.inner.lock().unwrap();
        let search = r.search.to_lowercase();
        let mut all: Vec<pb::Instance> = inner
            .instances
            .values()
            .filter(|i| {
                [&i.name, &i.url, &i.description]
                    .iter()
                    .any(|f| f.to_lowercase().contains(&search))
            })
            .cloned()
            .collect();
        if key == "name" {
            all.sort_by(|a, b| a.name.cmp(&b.name));
        }
        if desc {
            all.reverse();
        }
        let (instances, next_page_token) = page(&all, r.page_size, &r.page_token)?;
        Ok(Response::new(ListInstancesResponse {
            instances,
            next_page_token,
            total_size: all.len() as i64,
        }))
    }

    async fn get_instance(
        &self,
        request: Request<GetInstanceRequest>,
    ) -> Result<Response<GetInstanceResponse>, Status> {
        self.authenticate(request.metadata())?;
        let id = request.into_inner().id;
        let inner = self.inner.lock().unwrap();
        let instance = inner
            .instances
            .get(&id)
            .cloned()
            .ok_or_else(|| Status::not_found(format!("instance {id} not found")))?;
        Ok(Response::new(GetInstanceResponse {
            instance: Some(instance),
        }))
    }

    async fn create_instance(
        &self,
        request: Request<CreateInstanceRequest>,
    ) -> Result<Response<CreateInstanceResponse>, Status> {
        self.authenticate(request.metadata())?;
        let r = request.into_inner();
        let mut inner = self.inner.lock().unwrap();
        let mut instance = pb::Instance {
            name: r.name.trim().to_owned(),
            url: r.url,
            description: r.description,
            token_set: true,
            gitlab_version: Some("17.6.1".into()),
            gitlab_edition: Some("Enterprise".into()),
            create_time: now(),
            update_time: now(),
            ..Default::default()
        };
        Self::check_instance(&inner, &instance)?;
        if r.token.trim().is_empty() {
            return Err(invalid("token", "must not be empty"));
        }
        inner.next_id += 1;
        instance.id = inner.next_id;
        inner.tokens.insert(instance.id, r.token);
        inner.instances.insert(instance.id, instance.clone());
        let verify_job = fake_jobs::start_job(
            &mut inner,
            "instance.verify",
            fake_jobs::Scope::instance(instance.id),
            1,
        );
        Ok(Response::new(CreateInstanceResponse {
            instance: Some(instance),
            verify_job: Some(verify_job),
        }))
    }

    async fn update_instance(
        &self,
        request: Request<UpdateInstanceRequest>,
    ) -> Result<Response<UpdateInstanceResponse>, Status> {
        self.authenticate(request.metadata())?;
        let r = request.into_inner();
        let new = r.instance.unwrap_or_default();
        let paths = r.update_mask.unwrap_or_default().paths;
        let mut inner = self.inner.lock().unwrap();
        inner.masks.push(paths.clone());
        let mut instance = inner
            .instances
            .get(&new.id)
            .cloned()
            .ok_or_else(|| Status::not_found("instance not found"))?;
        for path in &paths {
            match path.as_str() {
                "name" => instance.name = new.name.clone(),
                "url" => instance.url = new.url.clone(),
                "description" => instance.description = new.description.clone(),
                "token" if r.token.trim().is_empty() => {
                    return Err(invalid("token", "must not be empty"));
                }
                "token" => {
                    inner.tokens.insert(new.id, r.token.clone());
                }
                other => return Err(invalid("update_mask", &format!("unknown field {other}"))),
            }
        }
        Self::check_instance(&inner, &instance).map_err(|s| prefix_violations(s, "instance."))?;
        instance.update_time = now();
        inner.instances.insert(instance.id, instance.clone());
        let verify_job = paths.iter().any(|p| p == "url" || p == "token").then(|| {
            fake_jobs::start_job(
                &mut inner,
                "instance.verify",
                fake_jobs::Scope::instance(instance.id),
                1,
            )
        });
        Ok(Response::new(UpdateInstanceResponse {
            instance: Some(instance),
            verify_job,
        }))
    }

    async fn delete_instance(
        &self,
        request: Request<DeleteInstanceRequest>,
    ) -> Result<Response<DeleteInstanceResponse>, Status> {
        self.authenticate(request.metadata())?;
        let r = request.into_inner();
        let mut inner = self.inner.lock().unwrap();
        if !inner.instances.contains_key(&r.id) {
            return Err(Status::not_found("instance not found"));
        }
        let using: Vec<i64> = inner
            .pairs
            .values()
            .filter(|p| p.source_instance_id == r.id || p.target_instance_id == r.id)
            .map(|p| p.id)
            .collect();
        if !using.is_empty() && !r.force {
            return Err(ApiError::failed_precondition("the instance is used by pairs").to_status());
        }
        let mirrors = inner
            .mirrors
            .values()
            .filter(|m| using.contains(&m.pair_id))
            .count() as i64;
        for id in &using {
            inner.pairs.remove(id);
        }
        inner.mirrors.retain(|_, m| !using.contains(&m.pair_id));
        inner.instances.remove(&r.id);
        inner.tokens.remove(&r.id);
        Self::recount(&mut inner);
        let job = (mirrors > 0).then(|| {
            fake_jobs::start_job(
                &mut inner,
                "instance.delete",
                fake_jobs::Scope::instance(r.id),
                mirrors,
            )
        });
        Ok(Response::new(DeleteInstanceResponse {
            deleted_pair_count: using.len() as i64,
            warnings: Vec::new(),
            job,
        }))
    }
}

/// Rewrites field violations as the real service reports them for nested messages.
fn prefix_violations(status: Status, prefix: &str) -> Status {
    let mut error = ApiError::from_status(&status);
    for v in &mut error.field_violations {
        v.field = format!("{prefix}{}", v.field);
    }
    error.to_status()
}

#[tonic::async_trait]
impl pair_service_server::PairService for FakeApi {
    async fn list_pairs(
        &self,
        request: Request<ListPairsRequest>,
    ) -> Result<Response<ListPairsResponse>, Status> {
        self.authenticate(request.metadata())?;
        let r = request.into_inner();
        let (key, desc) = sort_key(&r.order_by)?;
        let inner = self.inner.lock().unwrap();
        let search = r.search.to_lowercase();
        let mut all: Vec<pb::Pair> = inner
            .pairs
            .values()
            .filter(|p| {
                p.name.to_lowercase().contains(&search)
                    || p.description.to_lowercase().contains(&search)
            })
            .filter(|p| r.mirror_direction == 0 || p.mirror_direction == r.mirror_direction)
            .filter(|p| r.source_instance_id == 0 || p.source_instance_id == r.source_instance_id)
            .filter(|p| r.target_instance_id == 0 || p.target_instance_id == r.target_instance_id)
            .cloned()
            .collect();
        if key == "name" {
            all.sort_by(|a, b| a.name.cmp(&b.name));
        }
        if desc {
            all.reverse();
        }
        let (pairs, next_page_token) = page(&all, r.page_size, &r.page_token)?;
        Ok(Response::new(ListPairsResponse {
            pairs,
            next_page_token,
            total_size: all.len() as i64,
        }))
    }

    async fn get_pair(
        &self,
        request: Request<GetPairRequest>,
    ) -> Result<Response<GetPairResponse>, Status> {
        self.authenticate(request.metadata())?;
        let id = request.into_inner().id;
        let inner = self.inner.lock().unwrap();
        let pair = inner
            .pairs
            .get(&id)
            .cloned()
            .ok_or_else(|| Status::not_found(format!("pair {id} not found")))?;
        Ok(Response::new(GetPairResponse { pair: Some(pair) }))
    }

    async fn create_pair(
        &self,
        request: Request<CreatePairRequest>,
    ) -> Result<Response<CreatePairResponse>, Status> {
        self.authenticate(request.metadata())?;
        let mut pair = request.into_inner().pair.unwrap_or_default();
        let mut inner = self.inner.lock().unwrap();
        pair.id = 0;
        Self::check_pair(&inner, &pair)?;
        let (warnings, reverse_pair_id) = Self::reverse(&inner, &pair);
        inner.next_id += 1;
        pair.id = inner.next_id;
        pair.mirror_count = 0;
        pair.create_time = now();
        pair.update_time = now();
        inner.pairs.insert(pair.id, pair.clone());
        Self::recount(&mut inner);
        Ok(Response::new(CreatePairResponse {
            pair: Some(pair),
            warnings,
            reverse_pair_id,
        }))
    }

    async fn update_pair(
        &self,
        request: Request<UpdatePairRequest>,
    ) -> Result<Response<UpdatePairResponse>, Status> {
        self.authenticate(request.metadata())?;
        let r = request.into_inner();
        let new = r.pair.unwrap_or_default();
        let paths = r.update_mask.unwrap_or_default().paths;
        let mut inner = self.inner.lock().unwrap();
        inner.masks.push(paths.clone());
        let mut pair = inner
            .pairs
            .get(&new.id)
            .cloned()
            .ok_or_else(|| Status::not_found("pair not found"))?;
        for path in &paths {
            match path.as_str() {
                "name" => pair.name = new.name.clone(),
                "description" => pair.description = new.description.clone(),
                "source_instance_id" => pair.source_instance_id = new.source_instance_id,
                "target_instance_id" => pair.target_instance_id = new.target_instance_id,
                "mirror_direction" => pair.mirror_direction = new.mirror_direction,
                "mirror_overwrite_diverged" => {
                    pair.mirror_overwrite_diverged = new.mirror_overwrite_diverged
                }
                "mirror_trigger_builds" => pair.mirror_trigger_builds = new.mirror_trigger_builds,
                "only_mirror_protected_branches" => {
                    pair.only_mirror_protected_branches = new.only_mirror_protected_branches
                }
                "mirror_branch_regex" => pair.mirror_branch_regex = new.mirror_branch_regex.clone(),
                other => return Err(invalid("update_mask", &format!("unknown field {other}"))),
            }
        }
        Self::check_pair(&inner, &pair)?;
        let (warnings, reverse_pair_id) = Self::reverse(&inner, &pair);
        pair.update_time = now();
        inner.pairs.insert(pair.id, pair.clone());
        Self::recount(&mut inner);
        Ok(Response::new(UpdatePairResponse {
            pair: Some(pair),
            warnings,
            reverse_pair_id,
        }))
    }

    async fn delete_pair(
        &self,
        request: Request<DeletePairRequest>,
    ) -> Result<Response<DeletePairResponse>, Status> {
        self.authenticate(request.metadata())?;
        let id = request.into_inner().id;
        let mut inner = self.inner.lock().unwrap();
        inner
            .pairs
            .remove(&id)
            .ok_or_else(|| Status::not_found("pair not found"))?;
        let before = inner.mirrors.len();
        inner.mirrors.retain(|_, m| m.pair_id != id);
        let mirrors = (before - inner.mirrors.len()) as i64;
        Self::recount(&mut inner);
        let (job, warnings) = if mirrors > 0 {
            let job = fake_jobs::start_job(
                &mut inner,
                "pair.delete",
                fake_jobs::Scope::pair(id),
                mirrors,
            );
            (
                Some(job),
                vec![format!(
                    "{mirrors} mirrors are removed from GitLab by the job"
                )],
            )
        } else {
            (None, Vec::new())
        };
        Ok(Response::new(DeletePairResponse { warnings, job }))
    }
}
