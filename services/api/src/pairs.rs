//! `mirrormaestro.v1.PairService`.

use mm_common::ApiError;
use mm_proto::v1::{self, pair_service_server::PairService};
use mm_storage::{NewPair, Pair, PairChanges, PairFilter};
use tonic::{Request, Response, Status};

use crate::{
    ApiContext,
    auth::principal,
    convert,
    errors::storage_error,
    jobs::{self, Requester},
    mirrors,
    paging::CursorPaging,
    validation::{self, Violations},
};

const UPDATABLE_FIELDS: &[&str] = &[
    "name",
    "description",
    "source_instance_id",
    "target_instance_id",
    "mirror_direction",
    "mirror_overwrite_diverged",
    "mirror_trigger_builds",
    "only_mirror_protected_branches",
    "mirror_branch_regex",
];

pub(crate) struct PairServiceImpl {
    ctx: ApiContext,
}

fn not_found(id: i64) -> ApiError {
    ApiError::not_found(format!("pair {id} not found"))
}

/// The warning given when a pair mirrors in the opposite direction of an existing one.
fn reverse_pair_warning(reverse_pair_id: i64) -> String {
    format!(
        "bidirectional mirroring: pair {reverse_pair_id} already mirrors these instances in the \
         opposite direction; changes made on both sides are not merged (the last write wins), \
         so keep one instance as the source of truth for each project"
    )
}

impl PairServiceImpl {
    pub(crate) fn new(ctx: ApiContext) -> Self {
        Self { ctx }
    }

    /// NotFound naming `field` when the instance does not exist.
    async fn require_instance(&self, field: &str, role: &str, id: i64) -> Result<(), ApiError> {
        let exists = self
            .ctx
            .storage()
            .get_instance(id)
            .await
            .map_err(|error| storage_error(error, "pair.name"))?
            .is_some();
        if exists {
            Ok(())
        } else {
            Err(
                ApiError::not_found(format!("{role} instance {id} not found"))
                    .with_field(field, "no instance with this id"),
            )
        }
    }

    async fn reverse_pair(
        &self,
        source_instance_id: i64,
        target_instance_id: i64,
        excluding: Option<i64>,
    ) -> Result<Option<i64>, ApiError> {
        self.ctx
            .storage()
            .find_reverse_pair(source_instance_id, target_instance_id, excluding)
            .await
            .map_err(|error| storage_error(error, "pair.name"))
    }
}

#[tonic::async_trait]
impl PairService for PairServiceImpl {
    async fn list_pairs(
        &self,
        request: Request<v1::ListPairsRequest>,
    ) -> Result<Response<v1::ListPairsResponse>, Status> {
        let request = request.into_inner();
        let mut violations = Violations::default();
        let limit = violations.check(validation::page_size(request.page_size));
        let search = violations.check(validation::search(&request.search));
        let direction = violations.check(validation::direction_filter(
            "mirror_direction",
            request.mirror_direction,
        ));
        let source = violations.check(validation::id_filter(
            "source_instance_id",
            request.source_instance_id,
        ));
        let target = violations.check(validation::id_filter(
            "target_instance_id",
            request.target_instance_id,
        ));
        let sort = violations.check(validation::order_by(&request.order_by));
        let filter_key = [
            search.clone().flatten().unwrap_or_default(),
            request.mirror_direction.to_string(),
            request.source_instance_id.to_string(),
            request.target_instance_id.to_string(),
        ];
        let paging = sort.and_then(|sort| {
            let filters: Vec<&str> = filter_key.iter().map(String::as_str).collect();
            violations.check(CursorPaging::new(
                "pairs",
                &filters,
                sort,
                &request.page_token,
            ))
        });
        violations.finish()?;
        let (Some(limit), Some(search), Some(direction), Some(source), Some(target), Some(paging)) =
            (limit, search, direction, source, target, paging)
        else {
            return Err(ApiError::internal().into());
        };

        let filter = PairFilter {
            search,
            direction,
            source_instance_id: source,
            target_instance_id: target,
        };
        let page = self
            .ctx
            .storage()
            .list_pairs(&filter, &paging.params(limit))
            .await
            .map_err(|error| storage_error(error, "name"))?;
        Ok(Response::new(v1::ListPairsResponse {
            pairs: page.items.iter().map(convert::pair).collect(),
            next_page_token: paging.next_token(page.next),
            total_size: page.total,
        }))
    }

    async fn get_pair(
        &self,
        request: Request<v1::GetPairRequest>,
    ) -> Result<Response<v1::GetPairResponse>, Status> {
        let id = validation::require_id("id", request.get_ref().id)?;
        let pair = self
            .ctx
            .storage()
            .get_pair(id)
            .await
            .map_err(|error| storage_error(error, "pair.name"))?
            .ok_or_else(|| not_found(id))?;
        Ok(Response::new(v1::GetPairResponse {
            pair: Some(convert::pair(&pair)),
        }))
    }

    async fn create_pair(
        &self,
        request: Request<v1::CreatePairRequest>,
    ) -> Result<Response<v1::CreatePairResponse>, Status> {
        let caller = principal(&request)?.user.username.clone();
        let pair = request
            .into_inner()
            .pair
            .ok_or_else(|| ApiError::invalid_field("pair", "is required"))?;
        let mut violations = Violations::default();
        let name = violations.check(validation::name("pair.name", &pair.name));
        let source = violations.check(validation::id(
            "pair.source_instance_id",
            pair.source_instance_id,
        ));
        let target = violations.check(validation::id(
            "pair.target_instance_id",
            pair.target_instance_id,
        ));
        if source.is_some() && source == target {
            violations.push(
                "pair.source_instance_id",
                "must differ from the target instance",
            );
            violations.push(
                "pair.target_instance_id",
                "must differ from the source instance",
            );
        }
        let direction = violations.check(validation::direction(
            "pair.mirror_direction",
            pair.mirror_direction,
        ));
        let regex = violations.check(validation::branch_regex(
            "pair.mirror_branch_regex",
            pair.mirror_branch_regex.as_deref(),
        ));
        let description = violations.check(validation::description(
            "pair.description",
            &pair.description,
        ));
        violations.finish()?;
        let (
            Some(name),
            Some(source),
            Some(target),
            Some(direction),
            Some(regex),
            Some(description),
        ) = (name, source, target, direction, regex, description)
        else {
            return Err(ApiError::internal().into());
        };

        self.require_instance("pair.source_instance_id", "source", source)
            .await?;
        self.require_instance("pair.target_instance_id", "target", target)
            .await?;
        let created = self
            .ctx
            .storage()
            .create_pair(&NewPair {
                name,
                source_instance_id: source,
                target_instance_id: target,
                mirror_direction: direction,
                mirror_overwrite_diverged: pair.mirror_overwrite_diverged,
                mirror_trigger_builds: pair.mirror_trigger_builds,
                only_mirror_protected_branches: pair.only_mirror_protected_branches,
                mirror_branch_regex: regex,
                description,
            })
            .await
            .map_err(|error| storage_error(error, "pair.name"))?;
        let reverse_pair_id = self.reverse_pair(source, target, Some(created.id)).await?;
        tracing::info!(pair_id = created.id, by = %caller, "pair created");
        Ok(Response::new(v1::CreatePairResponse {
            pair: Some(convert::pair(&created)),
            warnings: reverse_pair_id
                .map(reverse_pair_warning)
                .into_iter()
                .collect(),
            reverse_pair_id,
        }))
    }

    async fn update_pair(
        &self,
        request: Request<v1::UpdatePairRequest>,
    ) -> Result<Response<v1::UpdatePairResponse>, Status> {
        let caller = principal(&request)?.user.username.clone();
        let request = request.into_inner();
        let pair = request
            .pair
            .ok_or_else(|| ApiError::invalid_field("pair", "is required"))?;
        let id = validation::require_id("pair.id", pair.id)?;
        let mask = validation::update_mask(request.update_mask.as_ref(), "pair", UPDATABLE_FIELDS)?;
        let wants = |field: &str| match &mask {
            Some(paths) => paths.iter().any(|p| p == field),
            None => is_set(&pair, field),
        };
        if !UPDATABLE_FIELDS.iter().any(|field| wants(field)) {
            return Err(ApiError::invalid_field(
                "update_mask",
                "names no field, and the request sets none to a non-default value",
            )
            .into());
        }

        let changes = validate_changes(&pair, &wants)?;
        let current = self
            .ctx
            .storage()
            .get_pair(id)
            .await
            .map_err(|error| storage_error(error, "pair.name"))?
            .ok_or_else(|| not_found(id))?;
        let source = changes
            .source_instance_id
            .unwrap_or(current.source_instance_id);
        let target = changes
            .target_instance_id
            .unwrap_or(current.target_instance_id);
        if source == target {
            let mut violations = Violations::default();
            violations.push(
                "pair.source_instance_id",
                "must differ from the target instance",
            );
            violations.push(
                "pair.target_instance_id",
                "must differ from the source instance",
            );
            violations.finish()?;
        }
        let instances_change =
            source != current.source_instance_id || target != current.target_instance_id;
        let direction_changes = changes
            .mirror_direction
            .is_some_and(|direction| direction != current.mirror_direction);
        if (instances_change || direction_changes) && current.mirror_count > 0 {
            return Err(locked_error(&current).into());
        }
        if source != current.source_instance_id {
            self.require_instance("pair.source_instance_id", "source", source)
                .await?;
        }
        if target != current.target_instance_id {
            self.require_instance("pair.target_instance_id", "target", target)
                .await?;
        }

        let updated = self
            .ctx
            .storage()
            .update_pair(id, &changes)
            .await
            .map_err(|error| storage_error(error, "pair.name"))?
            .ok_or_else(|| not_found(id))?;
        let reverse_pair_id = if instances_change {
            self.reverse_pair(source, target, Some(id)).await?
        } else {
            None
        };
        tracing::info!(pair_id = id, by = %caller, "pair updated");
        Ok(Response::new(v1::UpdatePairResponse {
            pair: Some(convert::pair(&updated)),
            warnings: reverse_pair_id
                .map(reverse_pair_warning)
                .into_iter()
                .collect(),
            reverse_pair_id,
        }))
    }

    async fn delete_pair(
        &self,
        request: Request<v1::DeletePairRequest>,
    ) -> Result<Response<v1::DeletePairResponse>, Status> {
        let requester = Requester::of(&request)?;
        let id = validation::require_id("id", request.get_ref().id)?;
        let pair = self
            .ctx
            .storage()
            .get_pair(id)
            .await
            .map_err(|error| storage_error(error, "pair.name"))?
            .ok_or_else(|| not_found(id))?;
        let mirrors = mirrors::pair_mirrors(&self.ctx, id).await?;
        if !mirrors.is_empty() {
            // The mirrors are removed from GitLab first; the job's last item deletes the pair.
            let job = mirrors::delete_pair_job(&self.ctx, &requester, &pair, &mirrors).await?;
            tracing::info!(
                pair_id = id,
                job_id = job.id,
                by = %requester.username(),
                mirrors = mirrors.len(),
                "pair deletion started"
            );
            return Ok(Response::new(v1::DeletePairResponse {
                warnings: Vec::new(),
                job: Some(jobs::job_message(&job)),
            }));
        }
        let deleted_mirrors = self
            .ctx
            .storage()
            .delete_pair(id)
            .await
            .map_err(|error| storage_error(error, "pair.name"))?
            .ok_or_else(|| not_found(id))?;
        tracing::info!(pair_id = id, by = %requester.username(), deleted_mirrors, "pair deleted");
        let mut warnings = Vec::new();
        if deleted_mirrors > 0 {
            // Mirrors recorded between the check and the delete.
            warnings.push(format!(
                "{deleted_mirrors} mirror record(s) were deleted with the pair; their \
                 configuration in GitLab was not removed"
            ));
        }
        Ok(Response::new(v1::DeletePairResponse {
            warnings,
            job: None,
        }))
    }
}

/// Whether a field of `pair` holds a non-default value (the meaning of an empty mask).
fn is_set(pair: &v1::Pair, field: &str) -> bool {
    match field {
        "name" => !pair.name.is_empty(),
        "description" => !pair.description.is_empty(),
        "source_instance_id" => pair.source_instance_id != 0,
        "target_instance_id" => pair.target_instance_id != 0,
        "mirror_direction" => pair.mirror_direction != v1::MirrorDirection::Unspecified as i32,
        "mirror_overwrite_diverged" => pair.mirror_overwrite_diverged,
        "mirror_trigger_builds" => pair.mirror_trigger_builds,
        "only_mirror_protected_branches" => pair.only_mirror_protected_branches,
        "mirror_branch_regex" => pair.mirror_branch_regex.is_some(),
        _ => false,
    }
}

/// The validated changes of the wanted fields; every bad field is reported.
fn validate_changes(
    pair: &v1::Pair,
    wants: &dyn Fn(&str) -> bool,
) -> Result<PairChanges, ApiError> {
    let mut violations = Violations::default();
    let mut changes = PairChanges::default();
    if wants("name") {
        changes.name = violations.check(validation::name("pair.name", &pair.name));
    }
    if wants("description") {
        changes.description = violations.check(validation::description(
            "pair.description",
            &pair.description,
        ));
    }
    if wants("source_instance_id") {
        changes.source_instance_id = violations.check(validation::id(
            "pair.source_instance_id",
            pair.source_instance_id,
        ));
    }
    if wants("target_instance_id") {
        changes.target_instance_id = violations.check(validation::id(
            "pair.target_instance_id",
            pair.target_instance_id,
        ));
    }
    if wants("mirror_direction") {
        changes.mirror_direction = violations.check(validation::direction(
            "pair.mirror_direction",
            pair.mirror_direction,
        ));
    }
    if wants("mirror_overwrite_diverged") {
        changes.mirror_overwrite_diverged = Some(pair.mirror_overwrite_diverged);
    }
    if wants("mirror_trigger_builds") {
        changes.mirror_trigger_builds = Some(pair.mirror_trigger_builds);
    }
    if wants("only_mirror_protected_branches") {
        changes.only_mirror_protected_branches = Some(pair.only_mirror_protected_branches);
    }
    if wants("mirror_branch_regex") {
        changes.mirror_branch_regex = violations.check(validation::branch_regex(
            "pair.mirror_branch_regex",
            pair.mirror_branch_regex.as_deref(),
        ));
    }
    violations.finish()?;
    Ok(changes)
}

fn locked_error(current: &Pair) -> ApiError {
    ApiError::failed_precondition(format!(
        "pair {} has {} mirror(s): its source, target and direction cannot change; delete the \
         mirrors or create a new pair",
        current.id, current.mirror_count
    ))
}
