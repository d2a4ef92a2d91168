//! The mirror service of the fake API (`fake_api.rs`): in-memory mirrors following
//! `mirrors.proto`, recording the last request of each RPC. Jobs are in `fake_jobs.rs`.

use mm_common::ApiError;
use mm_proto::v1::{self as pb, *};
use tonic::{Request, Response, Status};

use super::{FakeApi, Inner, Scope, invalid, now, page, start_job};

/// The last request of each RPC.
#[derive(Debug, Default, Clone)]
pub struct Recorded {
    pub list_mirrors: Option<ListMirrorsRequest>,
    pub create_mirror: Option<CreateMirrorRequest>,
    pub update_mirror: Option<UpdateMirrorRequest>,
    pub tree: Option<GetMirrorTreeRequest>,
    pub import: Option<ImportPairMirrorsRequest>,
    pub search_projects: Option<SearchInstanceProjectsRequest>,
    pub list_jobs: Option<ListJobsRequest>,
    pub list_job_items: Option<ListJobItemsRequest>,
    /// Number of UpdateMirror calls.
    pub update_mirror_calls: usize,
}

fn effective(pair: &pb::Pair, o: &MirrorOverrides) -> EffectiveMirrorSettings {
    EffectiveMirrorSettings {
        mirror_overwrite_diverged: o
            .mirror_overwrite_diverged
            .unwrap_or(pair.mirror_overwrite_diverged),
        mirror_trigger_builds: o
            .mirror_trigger_builds
            .unwrap_or(pair.mirror_trigger_builds),
        only_mirror_protected_branches: o
            .only_mirror_protected_branches
            .unwrap_or(pair.only_mirror_protected_branches),
        mirror_branch_regex: o
            .mirror_branch_regex
            .clone()
            .or_else(|| pair.mirror_branch_regex.clone()),
    }
}

fn valid_path(path: &str) -> bool {
    let path = path.trim_matches('/');
    path.contains('/')
        && path.len() <= 500
        && path.split('/').all(|s| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        })
}

fn mirror_sort_key(order_by: &str) -> Result<(&str, bool), Status> {
    let (field, desc) = match order_by.strip_suffix(" desc") {
        Some(field) => (field, true),
        None => (order_by, false),
    };
    match field {
        "" => Ok(("create_time", desc)),
        "create_time"
        | "update_time"
        | "source_project_path"
        | "target_project_path"
        | "last_update_status" => Ok((field, desc)),
        _ => Err(invalid("order_by", "unknown sort key")),
    }
}

impl FakeApi {
    fn mirror(inner: &Inner, id: i64) -> Result<pb::Mirror, Status> {
        inner
            .mirrors
            .get(&id)
            .cloned()
            .ok_or_else(|| Status::not_found(format!("mirror {id} not found")))
    }

    fn pair_of(inner: &Inner, id: i64) -> Result<pb::Pair, Status> {
        inner.pairs.get(&id).cloned().ok_or_else(|| {
            ApiError::not_found(format!("pair {id} not found"))
                .with_field("pair_id", "no such pair")
                .to_status()
        })
    }

    /// Records a mirror the way CreateMirror does (no validation), for seeding tests.
    pub fn insert_mirror(
        inner: &mut Inner,
        pair_id: i64,
        source: &str,
        target: &str,
        overrides: MirrorOverrides,
        enabled: bool,
    ) -> pb::Mirror {
        let pair = inner.pairs.get(&pair_id).cloned().unwrap_or_default();
        inner.next_id += 1;
        let mirror = pb::Mirror {
            id: inner.next_id,
            pair_id,
            source_project_path: source.to_owned(),
            target_project_path: target.to_owned(),
            effective_settings: Some(effective(&pair, &overrides)),
            overrides: Some(overrides),
            enabled,
            lifecycle: MirrorLifecycle::Creating as i32,
            token_status: TokenStatus::None as i32,
            create_time: now(),
            update_time: now(),
            ..Default::default()
        };
        inner.mirrors.insert(mirror.id, mirror.clone());
        Self::recount(inner);
        mirror
    }

    fn mirror_job(
        &self,
        metadata: &tonic::metadata::MetadataMap,
        id: i64,
        kind: &str,
    ) -> Result<pb::Job, Status> {
        self.authenticate(metadata)?;
        let mut inner = self.inner.lock().unwrap();
        let mirror = Self::mirror(&inner, id)?;
        let needs_ready = matches!(
            kind,
            "mirror.sync" | "mirror.rotate_token" | "mirror.verify"
        );
        if needs_ready && mirror.lifecycle != MirrorLifecycle::Ready as i32 {
            return Err(
                ApiError::failed_precondition("the mirror is not ready in GitLab").to_status(),
            );
        }
        Ok(start_job(
            &mut inner,
            kind,
            Scope::mirror(mirror.pair_id, id),
            1,
        ))
    }
}

#[tonic::async_trait]
impl mirror_service_server::MirrorService for FakeApi {
    async fn list_mirrors(
        &self,
        request: Request<ListMirrorsRequest>,
    ) -> Result<Response<ListMirrorsResponse>, Status> {
        self.authenticate(request.metadata())?;
        let r = request.into_inner();
        let mut inner = self.inner.lock().unwrap();
        inner.recorded.list_mirrors = Some(r.clone());
        let (key, desc) = mirror_sort_key(&r.order_by)?;
        let search = r.search.to_lowercase();
        let group = format!("{}/", r.group_prefix.to_lowercase());
        let mut all: Vec<pb::Mirror> = inner
            .mirrors
            .values()
            .filter(|m| r.pair_id == 0 || m.pair_id == r.pair_id)
            .filter(|m| r.status.is_empty() || m.last_update_status == r.status)
            .filter(|m| r.enabled.is_none_or(|e| m.enabled == e))
            .filter(|m| {
                m.source_project_path.to_lowercase().contains(&search)
                    || m.target_project_path.to_lowercase().contains(&search)
            })
            .filter(|m| r.token_status == 0 || m.token_status == r.token_status)
            .filter(|m| r.lifecycle == 0 || m.lifecycle == r.lifecycle)
            .filter(|m| {
                r.group_prefix.is_empty()
                    || m.source_project_path.to_lowercase().starts_with(&group)
                    || m.target_project_path.to_lowercase().starts_with(&group)
            })
            .cloned()
            .collect();
        match key {
            "source_project_path" => {
                all.sort_by(|a, b| a.source_project_path.cmp(&b.source_project_path))
            }
            "target_project_path" => {
                all.sort_by(|a, b| a.target_project_path.cmp(&b.target_project_path))
            }
            "last_update_status" => {
                all.sort_by(|a, b| a.last_update_status.cmp(&b.last_update_status))
            }
            _ => all.sort_by_key(|m| m.id),
        }
        if desc {
            all.reverse();
        }
        let token = if r.page_token.is_empty() && r.page > 1 {
            let size = if r.page_size == 0 { 50 } else { r.page_size };
            format!("o{}", (r.page - 1) * size)
        } else {
            r.page_token.clone()
        };
        let (mirrors, next_page_token) = page(&all, r.page_size, &token)?;
        Ok(Response::new(ListMirrorsResponse {
            mirrors,
            next_page_token,
            total_size: all.len() as i64,
        }))
    }

    async fn get_mirror(
        &self,
        request: Request<GetMirrorRequest>,
    ) -> Result<Response<GetMirrorResponse>, Status> {
        self.authenticate(request.metadata())?;
        let inner = self.inner.lock().unwrap();
        let mirror = Self::mirror(&inner, request.into_inner().id)?;
        Ok(Response::new(GetMirrorResponse {
            mirror: Some(mirror),
        }))
    }

    async fn create_mirror(
        &self,
        request: Request<CreateMirrorRequest>,
    ) -> Result<Response<CreateMirrorResponse>, Status> {
        self.authenticate(request.metadata())?;
        let r = request.into_inner();
        let mut inner = self.inner.lock().unwrap();
        inner.recorded.create_mirror = Some(r.clone());
        Self::pair_of(&inner, r.pair_id)?;
        for (field, path) in [
            ("source_project_path", &r.source_project_path),
            ("target_project_path", &r.target_project_path),
        ] {
            if !valid_path(path) {
                return Err(invalid(
                    field,
                    "must be a project path such as group/project",
                ));
            }
        }
        let overrides = r.overrides.clone().unwrap_or_default();
        if overrides
            .mirror_branch_regex
            .as_ref()
            .is_some_and(|x| x.len() > 255)
        {
            return Err(invalid(
                "overrides.mirror_branch_regex",
                "at most 255 characters",
            ));
        }
        if inner.mirrors.values().any(|m| {
            m.pair_id == r.pair_id
                && m.source_project_path == r.source_project_path
                && m.target_project_path == r.target_project_path
        }) {
            return Err(ApiError::already_exists("the pair already has this mirror").to_status());
        }
        let mirror = Self::insert_mirror(
            &mut inner,
            r.pair_id,
            &r.source_project_path,
            &r.target_project_path,
            overrides,
            r.enabled.unwrap_or(true),
        );
        let job = start_job(
            &mut inner,
            "mirror.create",
            Scope::mirror(r.pair_id, mirror.id),
            1,
        );
        Ok(Response::new(CreateMirrorResponse {
            mirror: Some(mirror),
            job: Some(job),
        }))
    }

    async fn update_mirror(
        &self,
        request: Request<UpdateMirrorRequest>,
    ) -> Result<Response<UpdateMirrorResponse>, Status> {
        self.authenticate(request.metadata())?;
        let r = request.into_inner();
        let mut inner = self.inner.lock().unwrap();
        inner.recorded.update_mirror = Some(r.clone());
        inner.recorded.update_mirror_calls += 1;
        let new = r.mirror.unwrap_or_default();
        let paths = r.update_mask.unwrap_or_default().paths;
        inner.masks.push(paths.clone());
        let mut mirror = Self::mirror(&inner, new.id)?;
        let new_overrides = new.overrides.unwrap_or_default();
        let mut overrides = mirror.overrides.clone().unwrap_or_default();
        for path in &paths {
            match path.as_str() {
                "enabled" => mirror.enabled = new.enabled,
                "overrides.mirror_overwrite_diverged" => {
                    overrides.mirror_overwrite_diverged = new_overrides.mirror_overwrite_diverged
                }
                "overrides.mirror_trigger_builds" => {
                    overrides.mirror_trigger_builds = new_overrides.mirror_trigger_builds
                }
                "overrides.only_mirror_protected_branches" => {
                    overrides.only_mirror_protected_branches =
                        new_overrides.only_mirror_protected_branches
                }
                "overrides.mirror_branch_regex" => {
                    if new_overrides
                        .mirror_branch_regex
                        .as_ref()
                        .is_some_and(|x| x.contains("(a+)+"))
                    {
                        return Err(invalid(
                            "mirror.overrides.mirror_branch_regex",
                            "nested quantifiers",
                        ));
                    }
                    overrides.mirror_branch_regex = new_overrides.mirror_branch_regex.clone()
                }
                other => return Err(invalid("update_mask", &format!("unknown field {other}"))),
            }
        }
        let pair = inner
            .pairs
            .get(&mirror.pair_id)
            .cloned()
            .unwrap_or_default();
        mirror.effective_settings = Some(effective(&pair, &overrides));
        mirror.overrides = Some(overrides);
        mirror.update_time = now();
        inner.mirrors.insert(mirror.id, mirror.clone());
        let job = start_job(
            &mut inner,
            "mirror.update",
            Scope::mirror(mirror.pair_id, mirror.id),
            1,
        );
        Ok(Response::new(UpdateMirrorResponse {
            mirror: Some(mirror),
            job: Some(job),
        }))
    }

    async fn delete_mirror(
        &self,
        request: Request<DeleteMirrorRequest>,
    ) -> Result<Response<DeleteMirrorResponse>, Status> {
        let id = request.get_ref().id;
        let job = self.mirror_job(request.metadata(), id, "mirror.delete")?;
        let mut inner = self.inner.lock().unwrap();
        if let Some(mirror) = inner.mirrors.get_mut(&id) {
            mirror.lifecycle = MirrorLifecycle::Deleting as i32;
        }
        Ok(Response::new(DeleteMirrorResponse { job: Some(job) }))
    }

    async fn sync_mirror(
        &self,
        request: Request<SyncMirrorRequest>,
    ) -> Result<Response<SyncMirrorResponse>, Status> {
        let job = self.mirror_job(request.metadata(), request.get_ref().id, "mirror.sync")?;
        Ok(Response::new(SyncMirrorResponse { job: Some(job) }))
    }

    async fn rotate_mirror_token(
        &self,
        request: Request<RotateMirrorTokenRequest>,
    ) -> Result<Response<RotateMirrorTokenResponse>, Status> {
        let job = self.mirror_job(
            request.metadata(),
            request.get_ref().id,
            "mirror.rotate_token",
        )?;
        Ok(Response::new(RotateMirrorTokenResponse { job: Some(job) }))
    }

    async fn refresh_mirror_status(
        &self,
        request: Request<RefreshMirrorStatusRequest>,
    ) -> Result<Response<RefreshMirrorStatusResponse>, Status> {
        let job = self.mirror_job(
            request.metadata(),
            request.get_ref().id,
            "mirror.refresh_status",
        )?;
        Ok(Response::new(RefreshMirrorStatusResponse {
            job: Some(job),
        }))
    }

    async fn verify_mirror(
        &self,
        request: Request<VerifyMirrorRequest>,
    ) -> Result<Response<VerifyMirrorResponse>, Status> {
        let job = self.mirror_job(request.metadata(), request.get_ref().id, "mirror.verify")?;
        Ok(Response::new(VerifyMirrorResponse { job: Some(job) }))
    }

    async fn sync_pair_mirrors(
        &self,
        request: Request<SyncPairMirrorsRequest>,
    ) -> Result<Response<SyncPairMirrorsResponse>, Status> {
        self.authenticate(request.metadata())?;
        let SyncPairMirrorsRequest { pair_id, dry_run } = request.into_inner();
        let mut inner = self.inner.lock().unwrap();
        Self::pair_of(&inner, pair_id)?;
        let (count, skipped) = inner
            .mirrors
            .values()
            .filter(|m| m.pair_id == pair_id)
            .fold((0, 0), |(count, skipped), m| {
                if m.enabled {
                    (count + 1, skipped)
                } else {
                    (count, skipped + 1)
                }
            });
        let job =
            (!dry_run).then(|| start_job(&mut inner, "pair.sync", Scope::pair(pair_id), count));
        Ok(Response::new(SyncPairMirrorsResponse {
            job,
            mirror_count: count,
            estimated_seconds: count as f64 * 0.5,
            skipped_count: skipped,
            gitlab_calls: count * 3,
        }))
    }

    async fn refresh_pair_mirror_status(
        &self,
        request: Request<RefreshPairMirrorStatusRequest>,
    ) -> Result<Response<RefreshPairMirrorStatusResponse>, Status> {
        self.authenticate(request.metadata())?;
        let pair_id = request.into_inner().pair_id;
        let mut inner = self.inner.lock().unwrap();
        Self::pair_of(&inner, pair_id)?;
        let count = inner
            .mirrors
            .values()
            .filter(|m| m.pair_id == pair_id)
            .count() as i64;
        let job = start_job(
            &mut inner,
            "pair.refresh_status",
            Scope::pair(pair_id),
            count,
        );
        Ok(Response::new(RefreshPairMirrorStatusResponse {
            job: Some(job),
        }))
    }

    async fn get_mirror_tree(
        &self,
        request: Request<GetMirrorTreeRequest>,
    ) -> Result<Response<GetMirrorTreeResponse>, Status> {
        self.authenticate(request.metadata())?;
        let r = request.into_inner();
        let mut inner = self.inner.lock().unwrap();
        inner.recorded.tree = Some(r.clone());
        let mut groups: std::collections::BTreeMap<String, (i64, i64)> = Default::default();
        for m in inner.mirrors.values() {
            if (r.pair_id != 0 && m.pair_id != r.pair_id)
                || (!r.status.is_empty() && m.last_update_status != r.status)
                || !m.source_project_path.contains(&r.search)
            {
                continue;
            }
            let segments: Vec<&str> = m.source_project_path.split('/').collect();
            for depth in 1..segments.len() {
                let path = segments[..depth].join("/");
                if !r.group_prefix.is_empty() && !path.starts_with(&r.group_prefix) {
                    continue;
                }
                let entry = groups.entry(path).or_default();
                entry.0 += 1;
                if m.last_update_status == "failed" {
                    entry.1 += 1;
                }
            }
        }
        Ok(Response::new(GetMirrorTreeResponse {
            groups: groups
                .into_iter()
                .map(|(path, (mirror_count, failed_count))| MirrorGroup {
                    path,
                    mirror_count,
                    failed_count,
                })
                .collect(),
        }))
    }

    async fn export_pair_mirrors(
        &self,
        request: Request<ExportPairMirrorsRequest>,
    ) -> Result<Response<ExportPairMirrorsResponse>, Status> {
        self.authenticate(request.metadata())?;
        let pair_id = request.into_inner().pair_id;
        let inner = self.inner.lock().unwrap();
        let pair = Self::pair_of(&inner, pair_id)?;
        let url = |id: i64| {
            inner
                .instances
                .get(&id)
                .map(|i| i.url.clone())
                .unwrap_or_default()
        };
        let mirrors = inner
            .mirrors
            .values()
            .filter(|m| m.pair_id == pair_id)
            .map(|m| {
                let o = m.overrides.clone().unwrap_or_default();
                ExportedMirror {
                    source_project_path: m.source_project_path.clone(),
                    target_project_path: m.target_project_path.clone(),
                    mirror_overwrite_diverged: o.mirror_overwrite_diverged,
                    mirror_trigger_builds: o.mirror_trigger_builds,
                    only_mirror_protected_branches: o.only_mirror_protected_branches,
                    mirror_branch_regex: o.mirror_branch_regex,
                    enabled: Some(m.enabled),
                    last_update_status: m.last_update_status.clone(),
                }
            })
            .collect();
        let direction = if pair.mirror_direction == pb::MirrorDirection::Push as i32 {
            "push"
        } else {
            "pull"
        };
        Ok(Response::new(ExportPairMirrorsResponse {
            pair_name: pair.name.clone(),
            source_instance_url: url(pair.source_instance_id),
            target_instance_url: url(pair.target_instance_id),
            mirror_direction: direction.to_owned(),
            mirrors,
            exported_time: Some(pbjson_types::Timestamp {
                seconds: 1_767_528_000,
                nanos: 0,
            }),
        }))
    }

    async fn import_pair_mirrors(
        &self,
        request: Request<ImportPairMirrorsRequest>,
    ) -> Result<Response<ImportPairMirrorsResponse>, Status> {
        self.authenticate(request.metadata())?;
        let r = request.into_inner();
        let mut inner = self.inner.lock().unwrap();
        inner.recorded.import = Some(r.clone());
        Self::pair_of(&inner, r.pair_id)?;
        let mut seen = std::collections::BTreeSet::new();
        let mut plan = Vec::new();
        for m in &r.mirrors {
            let key = (m.source_project_path.clone(), m.target_project_path.clone());
            let reason =
                if !valid_path(&m.source_project_path) || !valid_path(&m.target_project_path) {
                    Some("invalid path")
                } else if inner.mirrors.values().any(|e| {
                    e.pair_id == r.pair_id
                        && e.source_project_path == key.0
                        && e.target_project_path == key.1
                }) {
                    Some("already exists in the pair")
                } else if !seen.insert(key.clone()) {
                    Some("duplicate in the file")
                } else {
                    None
                };
            plan.push(ImportPlanEntry {
                source_project_path: key.0,
                target_project_path: key.1,
                action: if reason.is_some() { "skip" } else { "create" }.to_owned(),
                reason: reason.map(str::to_owned),
            });
        }
        let create_count = plan.iter().filter(|e| e.action == "create").count() as i64;
        let job = if !r.dry_run && create_count > 0 {
            for (entry, m) in plan.iter().zip(&r.mirrors) {
                if entry.action == "create" {
                    Self::insert_mirror(
                        &mut inner,
                        r.pair_id,
                        &m.source_project_path,
                        &m.target_project_path,
                        MirrorOverrides {
                            mirror_overwrite_diverged: m.mirror_overwrite_diverged,
                            mirror_trigger_builds: m.mirror_trigger_builds,
                            only_mirror_protected_branches: m.only_mirror_protected_branches,
                            mirror_branch_regex: m.mirror_branch_regex.clone(),
                        },
                        m.enabled.unwrap_or(true),
                    );
                }
            }
            Some(start_job(
                &mut inner,
                "pair.import",
                Scope::pair(r.pair_id),
                create_count,
            ))
        } else {
            None
        };
        Ok(Response::new(ImportPairMirrorsResponse {
            skip_count: plan.len() as i64 - create_count,
            plan,
            create_count,
            gitlab_calls: create_count * 4,
            estimated_seconds: create_count as f64,
            job,
        }))
    }

    async fn search_instance_projects(
        &self,
        request: Request<SearchInstanceProjectsRequest>,
    ) -> Result<Response<SearchInstanceProjectsResponse>, Status> {
        self.authenticate(request.metadata())?;
        let r = request.into_inner();
        let mut inner = self.inner.lock().unwrap();
        inner.recorded.search_projects = Some(r.clone());
        if !inner.instances.contains_key(&r.instance_id) {
            return Err(ApiError::not_found("instance not found")
                .with_field("instance_id", "no such instance")
                .to_status());
        }
        let all: Vec<GitLabProject> = (1..=45)
            .map(|n| GitLabProject {
                id: n,
                path_with_namespace: format!("group/project-{n}"),
                name: format!("project-{n}"),
                web_url: format!("https://gitlab.example.com/group/project-{n}"),
                default_branch: "main".into(),
            })
            .filter(|p| p.path_with_namespace.contains(&r.search))
            .collect();
        let size = if r.page_size == 0 {
            20
        } else {
            r.page_size as usize
        };
        let page = r.page.max(1) as usize;
        let start = ((page - 1) * size).min(all.len());
        let end = (start + size).min(all.len());
        Ok(Response::new(SearchInstanceProjectsResponse {
            projects: all[start..end].to_vec(),
            has_next_page: end < all.len(),
        }))
    }

    async fn search_instance_groups(
        &self,
        request: Request<SearchInstanceGroupsRequest>,
    ) -> Result<Response<SearchInstanceGroupsResponse>, Status> {
        self.authenticate(request.metadata())?;
        let r = request.into_inner();
        let inner = self.inner.lock().unwrap();
        if !inner.instances.contains_key(&r.instance_id) {
            return Err(ApiError::not_found("instance not found")
                .with_field("instance_id", "no such instance")
                .to_status());
        }
        let all: Vec<GitLabGroup> = (1..=30)
            .map(|n| GitLabGroup {
                id: n,
                full_path: format!("group/team-{n}"),
                name: format!("team-{n}"),
                full_name: format!("group / team-{n}"),
                web_url: format!("https://gitlab.example.com/groups/group/team-{n}"),
                parent_id: 100,
            })
            .filter(|g| g.full_path.contains(&r.search))
            .collect();
        let size = if r.page_size == 0 {
            20
        } else {
            r.page_size as usize
        };
        let page = r.page.max(1) as usize;
        let start = ((page - 1) * size).min(all.len());
        let end = (start + size).min(all.len());
        Ok(Response::new(SearchInstanceGroupsResponse {
            groups: all[start..end].to_vec(),
            has_next_page: end < all.len(),
        }))
    }
}
