//! `mirrormaestro.v1.InstanceService`.

use mm_common::ApiError;
use mm_crypto::aad;
use mm_mirrors::kinds;
use mm_proto::v1::{self, instance_service_server::InstanceService};
use mm_storage::{
    DeleteInstanceOutcome, Instance, InstanceChanges, InstanceFilter, ItemMirror, ItemState,
    NewInstance, NewJobItem,
};
use serde_json::json;
use tonic::{Request, Response, Status};

use crate::{
    ApiContext, convert,
    errors::{internal, storage_error},
    jobs::{self, Requester},
    mirrors,
    paging::CursorPaging,
    url_guard,
    validation::{self, Violations},
};

const UPDATABLE_FIELDS: &[&str] = &["name", "url", "description", "token"];

pub(crate) struct InstanceServiceImpl {
    ctx: ApiContext,
}

impl InstanceServiceImpl {
    pub(crate) fn new(ctx: ApiContext) -> Self {
        Self { ctx }
    }

    /// Queues the `instance.verify` job (token check, version and edition). The instance is
    /// already saved, so a failure here is logged and the response carries no job rather than
    /// an error (the operator can update the token to verify again).
    async fn start_verification(
        &self,
        requester: &Requester,
        instance: &Instance,
    ) -> Option<v1::Job> {
        let mut job = requester.job(kinds::job::INSTANCE_VERIFY);
        job.instance_id = Some(instance.id);
        job.params = json!({ "instance_name": instance.name, "url": instance.url });
        job.items = vec![NewJobItem {
            mirror: ItemMirror::None,
            label: instance.name.clone(),
            task_kind: kinds::task::INSTANCE_VERIFY.to_owned(),
            payload: json!({ "instance_id": instance.id }),
            state: ItemState::Queued,
            error: None,
        }];
        match jobs::create(&self.ctx, &job).await {
            Ok(created) => Some(jobs::job_message(&created.job)),
            Err(error) => {
                tracing::error!(
                    instance_id = instance.id,
                    error = %error.message,
                    "could not queue the verification of an instance"
                );
                None
            }
        }
    }

    /// With `force`: when the instance's pairs have mirrors, starts the `instance.delete`
    /// job (mirrors removed from GitLab, then the instance with its pairs) and returns it;
    /// `None` when there is nothing to clean up in GitLab.
    async fn start_removal(
        &self,
        requester: &Requester,
        id: i64,
    ) -> Result<Option<mm_storage::Job>, ApiError> {
        let instance = self
            .ctx
            .storage()
            .get_instance(id)
            .await
            .map_err(|error| storage_error(error, "name"))?
            .ok_or_else(|| not_found(id))?;
        let pairs = mirrors::instance_pairs(&self.ctx, id).await?;
        let mut all_mirrors = Vec::new();
        for pair in &pairs {
            all_mirrors.extend(mirrors::pair_mirrors(&self.ctx, pair.id).await?);
        }
        if all_mirrors.is_empty() {
            return Ok(None);
        }
        let job = mirrors::delete_instance_job(
            &self.ctx,
            requester,
            &instance,
            pairs.len(),
            &all_mirrors,
        )
        .await?;
        tracing::info!(
            instance_id = id,
            job_id = job.id,
            by = %requester.username(),
            pairs = pairs.len(),
            mirrors = all_mirrors.len(),
            "instance deletion started"
        );
        Ok(Some(job))
    }

    /// Encrypts a token bound to the instance's row.
    fn seal(&self, token: &str, instance_id: i64) -> Result<String, ApiError> {
        self.ctx
            .cipher()
            .encrypt(token, &aad::instance_token(instance_id))
            .map_err(|error| internal("encrypting an instance token failed", error))
    }
}

fn not_found(id: i64) -> ApiError {
    ApiError::not_found(format!("instance {id} not found"))
}

#[tonic::async_trait]
impl InstanceService for InstanceServiceImpl {
    async fn list_instances(
        &self,
        request: Request<v1::ListInstancesRequest>,
    ) -> Result<Response<v1::ListInstancesResponse>, Status> {
        let request = request.into_inner();
        let mut violations = Violations::default();
        let limit = violations.check(validation::page_size(request.page_size));
        let search = violations.check(validation::search(&request.search));
        let sort = violations.check(validation::order_by(&request.order_by));
        let paging = sort.and_then(|sort| {
            let search = search.clone().flatten().unwrap_or_default();
            violations.check(CursorPaging::new(
                "instances",
                &[&search],
                sort,
                &request.page_token,
            ))
        });
        violations.finish()?;
        let (Some(limit), Some(search), Some(paging)) = (limit, search, paging) else {
            return Err(ApiError::internal().into());
        };

        let page = self
            .ctx
            .storage()
            .list_instances(&InstanceFilter { search }, &paging.params(limit))
            .await
            .map_err(|error| storage_error(error, "name"))?;
        Ok(Response::new(v1::ListInstancesResponse {
            instances: page.items.iter().map(convert::instance).collect(),
            next_page_token: paging.next_token(page.next),
            total_size: page.total,
        }))
    }

    async fn get_instance(
        &self,
        request: Request<v1::GetInstanceRequest>,
    ) -> Result<Response<v1::GetInstanceResponse>, Status> {
        let id = validation::require_id("id", request.get_ref().id)?;
        let instance = self
            .ctx
            .storage()
            .get_instance(id)
            .await
            .map_err(|error| storage_error(error, "name"))?
            .ok_or_else(|| not_found(id))?;
        Ok(Response::new(v1::GetInstanceResponse {
            instance: Some(convert::instance(&instance)),
        }))
    }

    async fn create_instance(
        &self,
        request: Request<v1::CreateInstanceRequest>,
    ) -> Result<Response<v1::CreateInstanceResponse>, Status> {
        let requester = Requester::of(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::default();
        let name = violations.check(validation::name("name", &request.name));
        let url = violations.check(
            url_guard::instance_url("url", &request.url, self.ctx.settings().allow_private_ips)
                .await,
        );
        let description =
            violations.check(validation::description("description", &request.description));
        let token = violations.check(validation::token("token", &request.token));
        violations.finish()?;
        let (Some(name), Some(url), Some(description), Some(token)) =
            (name, url, description, token)
        else {
            return Err(ApiError::internal().into());
        };

        let cipher = self.ctx.cipher().clone();
        let seal_token = move |id: i64| {
            cipher
                .encrypt(&token, &aad::instance_token(id))
                .map_err(|error| error.to_string())
        };
        let instance = self
            .ctx
            .storage()
            .create_instance(
                &NewInstance {
                    name,
                    url,
                    description,
                },
                &seal_token,
            )
            .await
            .map_err(|error| storage_error(error, "name"))?;
        tracing::info!(instance_id = instance.id, by = %requester.username(), "instance created");
        let verify_job = self.start_verification(&requester, &instance).await;
        Ok(Response::new(v1::CreateInstanceResponse {
            instance: Some(convert::instance(&instance)),
            verify_job,
        }))
    }

    async fn update_instance(
        &self,
        request: Request<v1::UpdateInstanceRequest>,
    ) -> Result<Response<v1::UpdateInstanceResponse>, Status> {
        let requester = Requester::of(&request)?;
        let request = request.into_inner();
        let instance = request
            .instance
            .ok_or_else(|| ApiError::invalid_field("instance", "is required"))?;
        let id = validation::require_id("instance.id", instance.id)?;
        let mask =
            validation::update_mask(request.update_mask.as_ref(), "instance", UPDATABLE_FIELDS)?;
        // An empty mask means "every field set to a non-default value".
        let wants = |field: &str| match &mask {
            Some(paths) => paths.iter().any(|p| p == field),
            None => match field {
                "name" => !instance.name.is_empty(),
                "url" => !instance.url.is_empty(),
                "description" => !instance.description.is_empty(),
                "token" => !request.token.is_empty(),
                _ => false,
            },
        };
        if !UPDATABLE_FIELDS.iter().any(|field| wants(field)) {
            return Err(ApiError::invalid_field(
                "update_mask",
                "names no field, and the request sets none to a non-default value",
            )
            .into());
        }

        let mut violations = Violations::default();
        let mut changes = InstanceChanges::default();
        if wants("name") {
            changes.name = violations.check(validation::name("instance.name", &instance.name));
        }
        if wants("url") {
            changes.url = violations.check(
                url_guard::instance_url(
                    "instance.url",
                    &instance.url,
                    self.ctx.settings().allow_private_ips,
                )
                .await,
            );
        }
        if wants("description") {
            changes.description = violations.check(validation::description(
                "instance.description",
                &instance.description,
            ));
        }
        let token = if wants("token") {
            violations.check(validation::token("token", &request.token))
        } else {
            None
        };
        violations.finish()?;

        let current = self
            .ctx
            .storage()
            .get_instance(id)
            .await
            .map_err(|error| storage_error(error, "instance.name"))?
            .ok_or_else(|| not_found(id))?;
        if let Some(token) = token {
            changes.encrypted_token = Some(self.seal(&token, id)?);
        }
        let url_changed = changes.url.as_ref().is_some_and(|url| *url != current.url);
        let updated = self
            .ctx
            .storage()
            .update_instance(id, &changes)
            .await
            .map_err(|error| storage_error(error, "instance.name"))?
            .ok_or_else(|| not_found(id))?;
        let token_changed = changes.encrypted_token.is_some();
        tracing::info!(
            instance_id = id,
            by = %requester.username(),
            token_changed,
            url_changed,
            "instance updated"
        );
        let verify_job = if url_changed || token_changed {
            self.start_verification(&requester, &updated).await
        } else {
            None
        };
        Ok(Response::new(v1::UpdateInstanceResponse {
            instance: Some(convert::instance(&updated)),
            verify_job,
        }))
    }

    async fn delete_instance(
        &self,
        request: Request<v1::DeleteInstanceRequest>,
    ) -> Result<Response<v1::DeleteInstanceResponse>, Status> {
        let requester = Requester::of(&request)?;
        let request = request.into_inner();
        let id = validation::require_id("id", request.id)?;
        if request.force
            && let Some(job) = self.start_removal(&requester, id).await?
        {
            return Ok(Response::new(v1::DeleteInstanceResponse {
                deleted_pair_count: 0,
                warnings: Vec::new(),
                job: Some(jobs::job_message(&job)),
            }));
        }
        let outcome = self
            .ctx
            .storage()
            .delete_instance(id, request.force)
            .await
            .map_err(|error| storage_error(error, "name"))?;
        match outcome {
            DeleteInstanceOutcome::NotFound => Err(not_found(id).into()),
            DeleteInstanceOutcome::InUse { pair_count } => {
                Err(ApiError::failed_precondition(format!(
                    "instance {id} is used by {pair_count} pair(s); delete them first, or set \
                     force to delete them together with the instance"
                ))
                .into())
            }
            DeleteInstanceOutcome::Deleted {
                deleted_pairs,
                deleted_mirrors,
            } => {
                tracing::info!(
                    instance_id = id,
                    by = %requester.username(),
                    deleted_pairs,
                    deleted_mirrors,
                    "instance deleted"
                );
                let mut warnings = Vec::new();
                if deleted_mirrors > 0 {
                    // Mirrors recorded between the check and the delete.
                    warnings.push(format!(
                        "{deleted_mirrors} mirror record(s) were deleted with the pairs; their \
                         configuration in GitLab was not removed"
                    ));
                }
                Ok(Response::new(v1::DeleteInstanceResponse {
                    deleted_pair_count: deleted_pairs,
                    warnings,
                    job: None,
                }))
            }
        }
    }
}
