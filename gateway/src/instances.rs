//! `/api/instances`: registered GitLab instances. The API token is write-only.

use axum::{
    extract::{OriginalUri, State},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use http::StatusCode;
use mm_proto::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    GatewayState,
    common::{self, ApiPage, Listed, MaskBuilder, PageParams, Patch, missing},
    errors::GatewayError,
    extract::{IdPath, Json, Query},
    grpc::Forward,
    jobs::{self, Accepted, Job},
};

/// A registered GitLab instance. The token is never returned; `token_set` says whether one is
/// stored.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Instance {
    pub id: i64,
    /// Unique display name.
    pub name: String,
    /// Base URL, e.g. `https://gitlab.example.com`.
    pub url: String,
    pub description: String,
    /// Whether an API token is stored.
    pub token_set: bool,
    /// GitLab user id of the token's owner, once verified.
    pub token_user_id: Option<i64>,
    /// GitLab username of the token's owner, once verified.
    pub token_username: Option<String>,
    /// GitLab version, e.g. `17.6.1`, once verified.
    pub gitlab_version: Option<String>,
    /// `Community` or `Enterprise`, once verified.
    pub gitlab_edition: Option<String>,
    /// Number of pairs using this instance as source or target.
    pub pair_count: i64,
    #[serde(serialize_with = "common::serialize_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "common::serialize_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<pb::Instance> for Instance {
    fn from(i: pb::Instance) -> Self {
        Self {
            created_at: common::timestamp(i.create_time.as_ref()),
            updated_at: common::timestamp(i.update_time.as_ref()),
            id: i.id,
            name: i.name,
            url: i.url,
            description: i.description,
            token_set: i.token_set,
            token_user_id: i.token_user_id,
            token_username: i.token_username,
            gitlab_version: i.gitlab_version,
            gitlab_edition: i.gitlab_edition,
            pair_count: i.pair_count,
        }
    }
}

/// An instance as returned by create and update, with the job that verifies it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InstanceWritten {
    #[serde(flatten)]
    pub instance: Instance,
    /// The job that checks the token and reads the GitLab version and edition (on create,
    /// and on update when the URL or token changed). Omitted when none was started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_job: Option<Job>,
}

/// Body of `POST /api/instances`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInstance {
    /// Unique display name (1-100 characters).
    #[schema(min_length = 1, max_length = 100, example = "gitlab-prod")]
    pub name: String,
    /// Base URL of the GitLab instance (http or https).
    #[schema(max_length = 500, example = "https://gitlab.example.com")]
    pub url: String,
    /// GitLab access token with the `api` scope. Write-only: never returned.
    #[schema(write_only, min_length = 1, example = "glpat-xxxxxxxxxxxxxxxxxxxx")]
    pub token: String,
    /// Free text (at most 500 characters).
    #[serde(default)]
    #[schema(max_length = 500)]
    pub description: Option<String>,
}

/// Body of `PUT`/`PATCH /api/instances/{id}`: only the keys present are changed.
/// `description: null` clears the description; `name`, `url` and `token` cannot be null.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateInstance {
    #[serde(default)]
    #[schema(value_type = String, min_length = 1, max_length = 100)]
    pub name: Patch<String>,
    #[serde(default)]
    #[schema(value_type = String, max_length = 500)]
    pub url: Patch<String>,
    /// New API token. Write-only.
    #[serde(default)]
    #[schema(value_type = String, write_only, min_length = 1)]
    pub token: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub description: Patch<String>,
}

/// Query of `GET /api/instances`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListInstancesQuery {
    /// Case-insensitive substring of name, url or description.
    #[param(max_length = 500)]
    pub search: Option<String>,
    /// 1-based page number (at most 100; use `page_token` beyond).
    #[param(minimum = 1, maximum = 100)]
    pub page: Option<u32>,
    /// Page size, 1-200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
    /// Token from the `X-Next-Page-Token` header of the previous page (instead of `page`).
    pub page_token: Option<String>,
    /// Sort key: `name` (default), `id`, `created_at`, `updated_at`; prefix `-` or suffix
    /// ` desc` for descending order.
    pub order_by: Option<String>,
}

/// Query of `DELETE /api/instances/{id}`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteInstanceQuery {
    /// Also delete the pairs that use the instance. Without it, deleting an instance that is
    /// in use fails with 400 (FAILED_PRECONDITION).
    pub force: Option<bool>,
}

/// Result of a delete.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InstanceDeleted {
    /// Always `deleted`.
    #[schema(example = "deleted")]
    pub status: String,
    /// Number of pairs deleted with the instance (`force=true`).
    pub deleted_pair_count: i64,
    /// Non-fatal problems met while deleting.
    pub warnings: Vec<String>,
    /// Number of warnings.
    pub warning_count: usize,
}

/// List instances.
///
/// Returns a JSON array. Pagination: `page`/`per_page` (or `page_token`); the total number of
/// matches is in `X-Total-Count`, the next page in `Link` and `X-Next-Page-Token`.
#[utoipa::path(
    get, path = "/api/instances", tag = "instances", operation_id = "list_instances",
    params(ListInstancesQuery),
    responses((status = 200, description = "Instances", body = Vec<Instance>, headers(
        ("X-Total-Count" = i64, description = "Number of instances matching the filter"),
        ("X-Next-Page-Token" = String, description = "Token of the next page, absent on the last page"),
        ("Link" = String, description = "`<url>; rel=\"next\"` when there is a next page"),
    ))),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn list_instances(
    State(state): State<GatewayState>,
    forward: Forward,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<ListInstancesQuery>,
) -> Result<Listed<Instance>, GatewayError> {
    let paging = PageParams::new(query.page, query.per_page, &query.page_token).validate()?;
    let search = query.search.unwrap_or_default();
    let order_by = common::order_by(query.order_by.as_deref());
    common::list(&paging, &uri, |page_token, page_size| {
        let request = forward.request(pb::ListInstancesRequest {
            page_size,
            page_token,
            search: search.clone(),
            order_by: order_by.clone(),
        });
        let mut client = state.api().instances();
        async move {
            let response = client.list_instances(request).await?.into_inner();
            Ok(ApiPage {
                items: response.instances.into_iter().map(Instance::from).collect(),
                next_page_token: response.next_page_token,
                total: response.total_size,
            })
        }
    })
    .await
}

/// Register a GitLab instance.
///
/// The API service checks the URL (scheme, no private addresses unless allowed) before
/// storing it, and starts `verify_job`, which checks the token against GitLab.
#[utoipa::path(
    post, path = "/api/instances", tag = "instances", operation_id = "create_instance",
    request_body = CreateInstance,
    responses((status = 201, description = "Instance created", body = InstanceWritten)),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn create_instance(
    State(state): State<GatewayState>,
    forward: Forward,
    Json(body): Json<CreateInstance>,
) -> Result<(StatusCode, Json<InstanceWritten>), GatewayError> {
    let request = forward.request(pb::CreateInstanceRequest {
        name: body.name,
        url: body.url,
        description: body.description.unwrap_or_default(),
        token: body.token,
    });
    let response = state
        .api()
        .instances()
        .create_instance(request)
        .await?
        .into_inner();
    let instance = response.instance.ok_or_else(missing("instance"))?;
    Ok((
        StatusCode::CREATED,
        Json(InstanceWritten {
            instance: instance.into(),
            verify_job: jobs::optional_job(response.verify_job)?,
        }),
    ))
}

/// Get one instance.
#[utoipa::path(
    get, path = "/api/instances/{id}", tag = "instances", operation_id = "get_instance",
    params(("id" = i64, Path, description = "Instance id", minimum = 1)),
    responses((status = 200, description = "The instance", body = Instance)),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn get_instance(
    State(state): State<GatewayState>,
    forward: Forward,
    IdPath(id): IdPath,
) -> Result<Json<Instance>, GatewayError> {
    fetch(&state, &forward, id).await.map(Json)
}

async fn fetch(state: &GatewayState, forward: &Forward, id: i64) -> Result<Instance, GatewayError> {
    let request = forward.request(pb::GetInstanceRequest { id });
    let response = state.api().instances().get_instance(request).await?;
    response
        .into_inner()
        .instance
        .map(Instance::from)
        .ok_or_else(missing("instance"))
}

/// Update an instance (PUT).
///
/// Partial update, same as PATCH: only the keys present in the body change.
#[utoipa::path(
    put, path = "/api/instances/{id}", tag = "instances", operation_id = "replace_instance",
    params(("id" = i64, Path, description = "Instance id", minimum = 1)),
    request_body = UpdateInstance,
    responses((status = 200, description = "The updated instance", body = InstanceWritten)),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn put_instance(
    state: State<GatewayState>,
    forward: Forward,
    id: IdPath,
    body: Json<UpdateInstance>,
) -> Result<Json<InstanceWritten>, GatewayError> {
    patch_instance(state, forward, id, body).await
}

/// Update an instance (PATCH).
///
/// Only the keys present in the body change; `"description": null` clears the description.
/// The token is write-only.
#[utoipa::path(
    patch, path = "/api/instances/{id}", tag = "instances", operation_id = "update_instance",
    params(("id" = i64, Path, description = "Instance id", minimum = 1)),
    request_body = UpdateInstance,
    responses((status = 200, description = "The updated instance", body = InstanceWritten)),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn patch_instance(
    State(state): State<GatewayState>,
    forward: Forward,
    IdPath(id): IdPath,
    Json(body): Json<UpdateInstance>,
) -> Result<Json<InstanceWritten>, GatewayError> {
    let mut mask = MaskBuilder::default();
    let name = mask.required("name", body.name)?;
    let url = mask.required("url", body.url)?;
    let token = mask.required("token", body.token)?;
    let description = mask.optional("description", body.description);
    if mask.is_empty() {
        let instance = fetch(&state, &forward, id).await?;
        return Ok(Json(InstanceWritten {
            instance,
            verify_job: None,
        }));
    }
    let request = forward.request(pb::UpdateInstanceRequest {
        instance: Some(pb::Instance {
            id,
            name: name.unwrap_or_default(),
            url: url.unwrap_or_default(),
            description: description.flatten().unwrap_or_default(),
            ..Default::default()
        }),
        token: token.unwrap_or_default(),
        update_mask: Some(mask.into_field_mask()),
    });
    let response = state
        .api()
        .instances()
        .update_instance(request)
        .await
        .map_err(|status| GatewayError::from(status).without_field_prefix("instance."))?
        .into_inner();
    let instance = response.instance.ok_or_else(missing("instance"))?;
    Ok(Json(InstanceWritten {
        instance: instance.into(),
        verify_job: jobs::optional_job(response.verify_job)?,
    }))
}

/// Result of deleting an instance whose pairs have mirrors: the job that removes them from
/// GitLab; the pairs and the instance are deleted when it finishes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InstanceDeleting {
    pub job: Job,
    pub warnings: Vec<String>,
    /// Number of pairs deleted with the instance.
    pub deleted_pair_count: i64,
}

/// Delete an instance.
///
/// Fails with 400 (FAILED_PRECONDITION) while pairs use the instance, unless `force=true`,
/// which deletes those pairs too. Without mirrors to clean up the instance is deleted at once
/// (200); otherwise a job removes the mirrors from GitLab first (202 with the job and its
/// `Location`).
#[utoipa::path(
    delete, path = "/api/instances/{id}", tag = "instances", operation_id = "delete_instance",
    params(("id" = i64, Path, description = "Instance id", minimum = 1), DeleteInstanceQuery),
    responses(
        (status = 200, description = "Instance deleted", body = InstanceDeleted),
        (status = 202, description = "Cleanup job started; the instance is deleted when it finishes",
            body = InstanceDeleting,
            headers(("Location" = String, description = "`/api/jobs/{id}` of the job"))),
    ),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn delete_instance(
    State(state): State<GatewayState>,
    forward: Forward,
    IdPath(id): IdPath,
    Query(query): Query<DeleteInstanceQuery>,
) -> Result<Response, GatewayError> {
    let request = forward.request(pb::DeleteInstanceRequest {
        id,
        force: query.force.unwrap_or(false),
    });
    let response = state
        .api()
        .instances()
        .delete_instance(request)
        .await?
        .into_inner();
    Ok(match jobs::optional_job(response.job)? {
        Some(job) => Accepted {
            job_id: job.id,
            body: InstanceDeleting {
                job,
                warnings: response.warnings,
                deleted_pair_count: response.deleted_pair_count,
            },
        }
        .into_response(),
        None => Json(InstanceDeleted {
            status: "deleted".into(),
            deleted_pair_count: response.deleted_pair_count,
            warning_count: response.warnings.len(),
            warnings: response.warnings,
        })
        .into_response(),
    })
}
