//! `/api/pairs`: source/target instance pairs with the default settings of their mirrors.

use axum::{
    extract::{OriginalUri, State},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use http::StatusCode;
use mm_proto::v1 as pb;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    GatewayState,
    common::{self, ApiPage, Listed, MaskBuilder, PageParams, Patch, missing},
    errors::GatewayError,
    extract::{IdPath, Json, Query},
    grpc::Forward,
    jobs::{self, Accepted, Job},
};

/// Mirror direction of a pair. Input is case-insensitive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MirrorDirection {
    /// The source project pushes to the target (remote mirror on the source).
    Push,
    /// The target project pulls from the source (pull mirror on the target; GitLab Premium).
    Pull,
}

impl<'de> Deserialize<'de> for MirrorDirection {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        MirrorDirection::parse(&value).ok_or_else(|| {
            serde::de::Error::custom(format!("must be \"push\" or \"pull\", got {value:?}"))
        })
    }
}

impl MirrorDirection {
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "push" => Some(Self::Push),
            "pull" => Some(Self::Pull),
            _ => None,
        }
    }

    fn to_proto(self) -> pb::MirrorDirection {
        match self {
            Self::Push => pb::MirrorDirection::Push,
            Self::Pull => pb::MirrorDirection::Pull,
        }
    }

    fn from_proto(value: i32) -> Option<Self> {
        match pb::MirrorDirection::try_from(value).ok()? {
            pb::MirrorDirection::Push => Some(Self::Push),
            pb::MirrorDirection::Pull => Some(Self::Pull),
            pb::MirrorDirection::Unspecified => None,
        }
    }
}

/// A source/target instance pair.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Pair {
    pub id: i64,
    /// Unique name.
    pub name: String,
    pub source_instance_id: i64,
    pub target_instance_id: i64,
    pub mirror_direction: MirrorDirection,
    /// Default for mirrors: overwrite diverged branches on the target.
    pub mirror_overwrite_diverged: bool,
    /// Default for pull mirrors: trigger pipelines for mirror updates.
    pub mirror_trigger_builds: bool,
    /// Default for mirrors: mirror only protected branches.
    pub only_mirror_protected_branches: bool,
    /// Default for mirrors: only branches matching this regex.
    pub mirror_branch_regex: Option<String>,
    pub description: String,
    /// Number of mirrors in the pair.
    pub mirror_count: i64,
    #[serde(serialize_with = "common::serialize_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "common::serialize_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub updated_at: Option<DateTime<Utc>>,
}

impl TryFrom<pb::Pair> for Pair {
    type Error = GatewayError;

    fn try_from(p: pb::Pair) -> Result<Self, GatewayError> {
        let mirror_direction = MirrorDirection::from_proto(p.mirror_direction)
            .ok_or_else(missing("mirror_direction"))?;
        Ok(Self {
            created_at: common::timestamp(p.create_time.as_ref()),
            updated_at: common::timestamp(p.update_time.as_ref()),
            id: p.id,
            name: p.name,
            source_instance_id: p.source_instance_id,
            target_instance_id: p.target_instance_id,
            mirror_direction,
            mirror_overwrite_diverged: p.mirror_overwrite_diverged,
            mirror_trigger_builds: p.mirror_trigger_builds,
            only_mirror_protected_branches: p.only_mirror_protected_branches,
            mirror_branch_regex: p.mirror_branch_regex,
            description: p.description,
            mirror_count: p.mirror_count,
        })
    }
}

/// A pair as returned by create and update, with the API's findings.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PairWritten {
    #[serde(flatten)]
    pub pair: Pair,
    /// Non-fatal findings, such as a reverse pair (bidirectional mirroring). Omitted when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Id of the pair mirroring in the opposite direction, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverse_pair_id: Option<i64>,
}

/// Body of `POST /api/pairs`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePair {
    /// Unique name (1-100 characters).
    #[schema(min_length = 1, max_length = 100, example = "prod-to-dr")]
    pub name: String,
    #[schema(minimum = 1)]
    pub source_instance_id: i64,
    /// Must differ from `source_instance_id`.
    #[schema(minimum = 1)]
    pub target_instance_id: i64,
    /// `push` or `pull` (default `pull`), case-insensitive.
    #[serde(default)]
    pub mirror_direction: Option<MirrorDirection>,
    #[serde(default)]
    pub mirror_overwrite_diverged: Option<bool>,
    #[serde(default)]
    pub mirror_trigger_builds: Option<bool>,
    #[serde(default)]
    pub only_mirror_protected_branches: Option<bool>,
    /// RE2 regex of the branches to mirror (at most 255 characters).
    #[serde(default)]
    #[schema(max_length = 255)]
    pub mirror_branch_regex: Option<String>,
    /// Free text (at most 500 characters).
    #[serde(default)]
    #[schema(max_length = 500)]
    pub description: Option<String>,
}

/// Body of `PUT`/`PATCH /api/pairs/{id}`: only the keys present are changed.
/// `mirror_branch_regex: null` and `description: null` clear those fields. Instances and
/// direction cannot change once the pair has mirrors.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePair {
    #[serde(default)]
    #[schema(value_type = String, min_length = 1, max_length = 100)]
    pub name: Patch<String>,
    #[serde(default)]
    #[schema(value_type = i64, minimum = 1)]
    pub source_instance_id: Patch<i64>,
    #[serde(default)]
    #[schema(value_type = i64, minimum = 1)]
    pub target_instance_id: Patch<i64>,
    #[serde(default)]
    #[schema(value_type = MirrorDirection)]
    pub mirror_direction: Patch<MirrorDirection>,
    #[serde(default)]
    #[schema(value_type = bool)]
    pub mirror_overwrite_diverged: Patch<bool>,
    #[serde(default)]
    #[schema(value_type = bool)]
    pub mirror_trigger_builds: Patch<bool>,
    #[serde(default)]
    #[schema(value_type = bool)]
    pub only_mirror_protected_branches: Patch<bool>,
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 255)]
    pub mirror_branch_regex: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub description: Patch<String>,
}

/// Query of `GET /api/pairs`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListPairsQuery {
    /// Case-insensitive substring of name or description.
    #[param(max_length = 500)]
    pub search: Option<String>,
    /// Only pairs with this direction (`push` or `pull`).
    #[param(value_type = Option<MirrorDirection>)]
    pub direction: Option<String>,
    /// Only pairs with this source instance.
    #[param(minimum = 1)]
    pub source_instance_id: Option<i64>,
    /// Only pairs with this target instance.
    #[param(minimum = 1)]
    pub target_instance_id: Option<i64>,
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

/// Result of a delete.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PairDeleted {
    /// Always `deleted`.
    #[schema(example = "deleted")]
    pub status: String,
    pub warnings: Vec<String>,
    pub warning_count: usize,
}

/// List pairs.
///
/// Returns a JSON array. Pagination as for instances (`X-Total-Count`, `Link`,
/// `X-Next-Page-Token`).
#[utoipa::path(
    get, path = "/api/pairs", tag = "pairs", operation_id = "list_pairs",
    params(ListPairsQuery),
    responses((status = 200, description = "Pairs", body = Vec<Pair>, headers(
        ("X-Total-Count" = i64, description = "Number of pairs matching the filter"),
        ("X-Next-Page-Token" = String, description = "Token of the next page, absent on the last page"),
        ("Link" = String, description = "`<url>; rel=\"next\"` when there is a next page"),
    ))),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn list_pairs(
    State(state): State<GatewayState>,
    forward: Forward,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<ListPairsQuery>,
) -> Result<Listed<Pair>, GatewayError> {
    let paging = PageParams::new(query.page, query.per_page, &query.page_token).validate()?;
    let direction = match query.direction.as_deref().map(str::trim) {
        None | Some("") => pb::MirrorDirection::Unspecified,
        Some(value) => MirrorDirection::parse(value)
            .ok_or_else(|| {
                GatewayError::unprocessable("direction", "must be \"push\" or \"pull\"")
            })?
            .to_proto(),
    };
    common::check_ids(&[
        ("source_instance_id", query.source_instance_id),
        ("target_instance_id", query.target_instance_id),
    ])?;
    let search = query.search.unwrap_or_default();
    let order_by = common::order_by(query.order_by.as_deref());
    common::list(&paging, &uri, |page_token, page_size| {
        let request = forward.request(pb::ListPairsRequest {
            page_size,
            page_token,
            search: search.clone(),
            mirror_direction: direction as i32,
            source_instance_id: query.source_instance_id.unwrap_or(0),
            target_instance_id: query.target_instance_id.unwrap_or(0),
            order_by: order_by.clone(),
        });
        let mut client = state.api().pairs();
        async move {
            let response = client.list_pairs(request).await?.into_inner();
            Ok(ApiPage {
                items: response
                    .pairs
                    .into_iter()
                    .map(Pair::try_from)
                    .collect::<Result<Vec<_>, _>>()?,
                next_page_token: response.next_page_token,
                total: response.total_size,
            })
        }
    })
    .await
}

/// Create a pair.
///
/// When the reverse pair (target → source) exists, the pair is still created and the response
/// carries `warnings` and `reverse_pair_id`.
#[utoipa::path(
    post, path = "/api/pairs", tag = "pairs", operation_id = "create_pair",
    request_body = CreatePair,
    responses((status = 201, description = "Pair created", body = PairWritten)),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn create_pair(
    State(state): State<GatewayState>,
    forward: Forward,
    Json(body): Json<CreatePair>,
) -> Result<(StatusCode, Json<PairWritten>), GatewayError> {
    let pair = pb::Pair {
        name: body.name,
        source_instance_id: body.source_instance_id,
        target_instance_id: body.target_instance_id,
        mirror_direction: body
            .mirror_direction
            .unwrap_or(MirrorDirection::Pull)
            .to_proto() as i32,
        mirror_overwrite_diverged: body.mirror_overwrite_diverged.unwrap_or(false),
        mirror_trigger_builds: body.mirror_trigger_builds.unwrap_or(false),
        only_mirror_protected_branches: body.only_mirror_protected_branches.unwrap_or(false),
        mirror_branch_regex: body.mirror_branch_regex,
        description: body.description.unwrap_or_default(),
        ..Default::default()
    };
    let response = state
        .api()
        .pairs()
        .create_pair(forward.request(pb::CreatePairRequest { pair: Some(pair) }))
        .await
        .map_err(pair_error)?
        .into_inner();
    let pair = response.pair.ok_or_else(missing("pair"))?.try_into()?;
    Ok((
        StatusCode::CREATED,
        Json(PairWritten {
            pair,
            warnings: response.warnings,
            reverse_pair_id: response.reverse_pair_id,
        }),
    ))
}

/// Get one pair.
#[utoipa::path(
    get, path = "/api/pairs/{id}", tag = "pairs", operation_id = "get_pair",
    params(("id" = i64, Path, description = "Pair id", minimum = 1)),
    responses((status = 200, description = "The pair", body = Pair)),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn get_pair(
    State(state): State<GatewayState>,
    forward: Forward,
    IdPath(id): IdPath,
) -> Result<Json<Pair>, GatewayError> {
    fetch(&state, &forward, id).await.map(Json)
}

async fn fetch(state: &GatewayState, forward: &Forward, id: i64) -> Result<Pair, GatewayError> {
    let response = state
        .api()
        .pairs()
        .get_pair(forward.request(pb::GetPairRequest { id }))
        .await?;
    response
        .into_inner()
        .pair
        .ok_or_else(missing("pair"))?
        .try_into()
}

/// Update a pair (PUT).
///
/// Partial update, same as PATCH: only the keys present in the body change.
#[utoipa::path(
    put, path = "/api/pairs/{id}", tag = "pairs", operation_id = "replace_pair",
    params(("id" = i64, Path, description = "Pair id", minimum = 1)),
    request_body = UpdatePair,
    responses((status = 200, description = "The updated pair", body = PairWritten)),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn put_pair(
    state: State<GatewayState>,
    forward: Forward,
    id: IdPath,
    body: Json<UpdatePair>,
) -> Result<Json<PairWritten>, GatewayError> {
    patch_pair(state, forward, id, body).await
}

/// Update a pair (PATCH).
///
/// Only the keys present in the body change; `null` clears `mirror_branch_regex` and
/// `description`. Instances and direction are locked once the pair has mirrors (400).
#[utoipa::path(
    patch, path = "/api/pairs/{id}", tag = "pairs", operation_id = "update_pair",
    params(("id" = i64, Path, description = "Pair id", minimum = 1)),
    request_body = UpdatePair,
    responses((status = 200, description = "The updated pair", body = PairWritten)),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn patch_pair(
    State(state): State<GatewayState>,
    forward: Forward,
    IdPath(id): IdPath,
    Json(body): Json<UpdatePair>,
) -> Result<Json<PairWritten>, GatewayError> {
    let mut mask = MaskBuilder::default();
    let name = mask.required("name", body.name)?;
    let source = mask.required("source_instance_id", body.source_instance_id)?;
    let target = mask.required("target_instance_id", body.target_instance_id)?;
    let direction = mask.required("mirror_direction", body.mirror_direction)?;
    let overwrite = mask.required("mirror_overwrite_diverged", body.mirror_overwrite_diverged)?;
    let trigger = mask.required("mirror_trigger_builds", body.mirror_trigger_builds)?;
    let protected = mask.required(
        "only_mirror_protected_branches",
        body.only_mirror_protected_branches,
    )?;
    let regex = mask.optional("mirror_branch_regex", body.mirror_branch_regex);
    let description = mask.optional("description", body.description);
    if mask.is_empty() {
        let pair = fetch(&state, &forward, id).await?;
        return Ok(Json(PairWritten {
            pair,
            warnings: Vec::new(),
            reverse_pair_id: None,
        }));
    }
    let pair = pb::Pair {
        id,
        name: name.unwrap_or_default(),
        source_instance_id: source.unwrap_or_default(),
        target_instance_id: target.unwrap_or_default(),
        mirror_direction: direction
            .map_or(pb::MirrorDirection::Unspecified, MirrorDirection::to_proto)
            as i32,
        mirror_overwrite_diverged: overwrite.unwrap_or_default(),
        mirror_trigger_builds: trigger.unwrap_or_default(),
        only_mirror_protected_branches: protected.unwrap_or_default(),
        mirror_branch_regex: regex.flatten(),
        description: description.flatten().unwrap_or_default(),
        ..Default::default()
    };
    let response = state
        .api()
        .pairs()
        .update_pair(forward.request(pb::UpdatePairRequest {
            pair: Some(pair),
            update_mask: Some(mask.into_field_mask()),
        }))
        .await
        .map_err(pair_error)?
        .into_inner();
    let pair = response.pair.ok_or_else(missing("pair"))?.try_into()?;
    Ok(Json(PairWritten {
        pair,
        warnings: response.warnings,
        reverse_pair_id: response.reverse_pair_id,
    }))
}

/// Result of deleting a pair with mirrors: the job that removes them from GitLab; the pair
/// is deleted when it finishes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PairDeleting {
    pub job: Job,
    pub warnings: Vec<String>,
}

/// Delete a pair.
///
/// A pair without mirrors is deleted at once (200). A pair with mirrors is deleted by a job
/// that first removes its mirrors and their tokens from GitLab (202 with the job and its
/// `Location`).
#[utoipa::path(
    delete, path = "/api/pairs/{id}", tag = "pairs", operation_id = "delete_pair",
    params(("id" = i64, Path, description = "Pair id", minimum = 1)),
    responses(
        (status = 200, description = "Pair deleted", body = PairDeleted),
        (status = 202, description = "Cleanup job started; the pair is deleted when it finishes",
            body = PairDeleting,
            headers(("Location" = String, description = "`/api/jobs/{id}` of the job"))),
    ),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn delete_pair(
    State(state): State<GatewayState>,
    forward: Forward,
    IdPath(id): IdPath,
) -> Result<Response, GatewayError> {
    let response = state
        .api()
        .pairs()
        .delete_pair(forward.request(pb::DeletePairRequest { id }))
        .await?
        .into_inner();
    Ok(match jobs::optional_job(response.job)? {
        Some(job) => Accepted {
            job_id: job.id,
            body: PairDeleting {
                job,
                warnings: response.warnings,
            },
        }
        .into_response(),
        None => Json(PairDeleted {
            status: "deleted".into(),
            warning_count: response.warnings.len(),
            warnings: response.warnings,
        })
        .into_response(),
    })
}

/// Field violations of pair RPCs name `pair.<field>`; the REST body has `<field>`.
fn pair_error(status: tonic::Status) -> GatewayError {
    GatewayError::from(status).without_field_prefix("pair.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direction_is_case_insensitive_and_strict() {
        let d: MirrorDirection = serde_json::from_str("\"PUSH\"").unwrap();
        assert_eq!(d, MirrorDirection::Push);
        let d: MirrorDirection = serde_json::from_str("\" Pull \"").unwrap();
        assert_eq!(d, MirrorDirection::Pull);
        assert!(serde_json::from_str::<MirrorDirection>("\"sideways\"").is_err());
        assert_eq!(
            serde_json::to_string(&MirrorDirection::Push).unwrap(),
            "\"push\""
        );
    }

    #[test]
    fn create_defaults_to_pull() {
        let body: CreatePair = crate::extract::parse_json(
            br#"{"name":"p","source_instance_id":1,"target_instance_id":2}"#,
        )
        .unwrap();
        assert!(body.mirror_direction.is_none());
        let e = crate::extract::parse_json::<CreatePair>(
            br#"{"name":"p","source_instance_id":1,"target_instance_id":2,"mirror_direction":"up"}"#,
        )
        .unwrap_err();
        assert_eq!(e.field_violations[0].field, "mirror_direction");
    }

    #[test]
    fn written_pairs_omit_empty_findings() {
        let pair = Pair {
            id: 1,
            name: "p".into(),
            source_instance_id: 1,
            target_instance_id: 2,
            mirror_direction: MirrorDirection::Pull,
            mirror_overwrite_diverged: false,
            mirror_trigger_builds: false,
            only_mirror_protected_branches: false,
            mirror_branch_regex: None,
            description: String::new(),
            mirror_count: 0,
            created_at: None,
            updated_at: None,
        };
        let json = serde_json::to_value(PairWritten {
            pair,
            warnings: vec![],
            reverse_pair_id: None,
        })
        .unwrap();
        assert!(json.get("warnings").is_none());
        assert!(json.get("reverse_pair_id").is_none());
        assert_eq!(json["mirror_direction"], "pull");
    }
}
