//! List, get, create, update and delete mirrors, and the group tree.

use axum::extract::{OriginalUri, State};
use mm_proto::v1 as pb;

use super::{
    CreateMirror, Lifecycle, ListMirrorsQuery, Mirror, MirrorCreated, MirrorGroup, MirrorTreeQuery,
    MirrorUpdated, TokenStatus, UpdateMirror, group_filter, mirror_error, mirror_order_by,
    required_mirror, text_filter,
};
use crate::{
    GatewayState,
    common::{self, ApiPage, Listed, MaskBuilder, PageLimits, PageParams, PageRequest, Patch},
    errors::GatewayError,
    extract::{IdPath, Json, Query},
    grpc::Forward,
    jobs::{self, Accepted, Job},
};

/// Deepest page number of `GET /api/mirrors` (the API pages by number itself).
pub const MAX_MIRROR_PAGE: u32 = 1_000_000;

const MIRROR_PAGES: PageLimits = PageLimits {
    max_page: MAX_MIRROR_PAGE,
    ..PageLimits::CURSOR_PAGE_SIZE
};

/// List mirrors.
///
/// Returns a JSON array with `X-Total-Count`, `X-Total-Pages`, `X-Next-Page-Token` and
/// `Link`. Filters combine with AND.
#[utoipa::path(
    get, path = "/api/mirrors", tag = "mirrors", operation_id = "list_mirrors",
    params(ListMirrorsQuery),
    responses((status = 200, description = "Mirrors", body = Vec<Mirror>, headers(
        ("X-Total-Count" = i64, description = "Number of mirrors matching the filter"),
        ("X-Total-Pages" = i64, description = "Number of pages at this page size"),
        ("X-Next-Page-Token" = String, description = "Token of the next page, absent on the last page"),
        ("Link" = String, description = "`<url>; rel=\"next\"` when there is a next page"),
    ))),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn list_mirrors(
    State(state): State<GatewayState>,
    forward: Forward,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<ListMirrorsQuery>,
) -> Result<Listed<Mirror>, GatewayError> {
    let paging = PageParams::new(query.page, query.page_size, &query.page_token)
        .validate_with(MIRROR_PAGES)?;
    common::check_ids(&[("instance_pair_id", query.instance_pair_id)])?;
    let order_by = mirror_order_by(query.order_by.as_deref(), query.order_dir)?;
    let (page, page_token) = match &paging {
        PageRequest::Number { page, .. } => (*page as i32, String::new()),
        PageRequest::Token { token, .. } => (0, token.clone()),
    };
    let request = pb::ListMirrorsRequest {
        page_size: paging.per_page() as i32,
        page_token,
        page,
        pair_id: query.instance_pair_id.unwrap_or(0),
        status: text_filter("status", query.status, 50)?,
        enabled: query.enabled,
        search: text_filter("search", query.search, 500)?,
        token_status: TokenStatus::filter(query.token_status),
        group_prefix: group_filter(query.group_path)?,
        order_by,
        lifecycle: Lifecycle::filter(query.lifecycle),
    };
    let response = state
        .api()
        .mirrors()
        .list_mirrors(forward.request(request))
        .await
        .map_err(mirror_error)?
        .into_inner();
    let per_page = i64::from(paging.per_page());
    let total_pages = (response.total_size.max(0) + per_page - 1) / per_page;
    let page = ApiPage {
        items: response
            .mirrors
            .into_iter()
            .map(Mirror::try_from)
            .collect::<Result<_, _>>()?,
        next_page_token: response.next_page_token,
        total: response.total_size,
    };
    Ok(Listed::within(page, &paging, &uri, MAX_MIRROR_PAGE).header("x-total-pages", total_pages))
}

/// Create a mirror.
///
/// Records the mirror and starts the job that creates its project access token and the
/// mirror in GitLab. Answers 202 with the mirror (lifecycle `creating`) and the job.
#[utoipa::path(
    post, path = "/api/mirrors", tag = "mirrors", operation_id = "create_mirror",
    request_body = CreateMirror,
    responses((status = 202, description = "Mirror recorded; the job sets it up in GitLab",
        body = MirrorCreated, headers(("Location" = String, description = "`/api/jobs/{id}` of the job")))),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn create_mirror(
    State(state): State<GatewayState>,
    forward: Forward,
    Json(body): Json<CreateMirror>,
) -> Result<Accepted<MirrorCreated>, GatewayError> {
    common::check_ids(&[("instance_pair_id", Some(body.instance_pair_id))])?;
    let request = pb::CreateMirrorRequest {
        pair_id: body.instance_pair_id,
        source_project_path: body.source_project_path,
        target_project_path: body.target_project_path,
        overrides: Some(pb::MirrorOverrides {
            mirror_overwrite_diverged: body.mirror_overwrite_diverged,
            mirror_trigger_builds: body.mirror_trigger_builds,
            only_mirror_protected_branches: body.only_mirror_protected_branches,
            mirror_branch_regex: body.mirror_branch_regex,
        }),
        enabled: body.enabled,
    };
    let response = state
        .api()
        .mirrors()
        .create_mirror(forward.request(request))
        .await
        .map_err(mirror_error)?
        .into_inner();
    let mirror = required_mirror(response.mirror)?;
    let job = jobs::required_job(response.job)?;
    Ok(Accepted {
        job_id: job.id,
        body: MirrorCreated { mirror, job },
    })
}

/// Get one mirror.
#[utoipa::path(
    get, path = "/api/mirrors/{id}", tag = "mirrors", operation_id = "get_mirror",
    params(("id" = i64, Path, description = "Mirror id", minimum = 1)),
    responses((status = 200, description = "The mirror", body = Mirror)),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn get_mirror(
    State(state): State<GatewayState>,
    forward: Forward,
    IdPath(id): IdPath,
) -> Result<Json<Mirror>, GatewayError> {
    fetch(&state, &forward, id).await.map(Json)
}

async fn fetch(state: &GatewayState, forward: &Forward, id: i64) -> Result<Mirror, GatewayError> {
    let response = state
        .api()
        .mirrors()
        .get_mirror(forward.request(pb::GetMirrorRequest { id }))
        .await?
        .into_inner();
    required_mirror(response.mirror)
}

/// Update a mirror (PUT).
///
/// Partial update, same as PATCH: only the keys present in the body change.
#[utoipa::path(
    put, path = "/api/mirrors/{id}", tag = "mirrors", operation_id = "replace_mirror",
    params(("id" = i64, Path, description = "Mirror id", minimum = 1)),
    request_body = UpdateMirror,
    responses((status = 200, description = "The mirror and the job applying the change", body = MirrorUpdated)),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn put_mirror(
    state: State<GatewayState>,
    forward: Forward,
    id: IdPath,
    body: Json<UpdateMirror>,
) -> Result<Json<MirrorUpdated>, GatewayError> {
    patch_mirror(state, forward, id, body).await
}

/// Update a mirror (PATCH).
///
/// Only the keys present change; `null` clears an override so the mirror inherits the
/// pair's setting again. `enabled` cannot be null. Project paths and the pair cannot change
/// (422). The job applying the change in GitLab is returned (`null` when GitLab is not
/// touched).
#[utoipa::path(
    patch, path = "/api/mirrors/{id}", tag = "mirrors", operation_id = "update_mirror",
    params(("id" = i64, Path, description = "Mirror id", minimum = 1)),
    request_body = UpdateMirror,
    responses((status = 200, description = "The mirror and the job applying the change", body = MirrorUpdated)),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn patch_mirror(
    State(state): State<GatewayState>,
    forward: Forward,
    IdPath(id): IdPath,
    Json(body): Json<UpdateMirror>,
) -> Result<Json<MirrorUpdated>, GatewayError> {
    for (field, present) in [
        ("instance_pair_id", body.instance_pair_id.is_present()),
        ("source_project_path", body.source_project_path.is_present()),
        ("target_project_path", body.target_project_path.is_present()),
    ] {
        if present {
            return Err(GatewayError::unprocessable(
                field,
                "cannot be changed; delete the mirror and create a new one",
            ));
        }
    }
    let (mirror, mask) = update_message(id, body)?;
    if mask.is_empty() {
        let mirror = fetch(&state, &forward, id).await?;
        return Ok(Json(MirrorUpdated { mirror, job: None }));
    }
    let response = state
        .api()
        .mirrors()
        .update_mirror(forward.request(pb::UpdateMirrorRequest {
            mirror: Some(mirror),
            update_mask: Some(mask.into_field_mask()),
        }))
        .await
        .map_err(mirror_error)?
        .into_inner();
    Ok(Json(MirrorUpdated {
        mirror: required_mirror(response.mirror)?,
        job: jobs::optional_job(response.job)?,
    }))
}

/// The message and mask of an update: `overrides.<field>` for overrides (unset in the
/// message when cleared), `enabled`.
fn update_message(id: i64, body: UpdateMirror) -> Result<(pb::Mirror, MaskBuilder), GatewayError> {
    let mut mask = MaskBuilder::default();
    let mut overrides = pb::MirrorOverrides::default();
    let mut optional = |name: &str, patch: Patch<bool>| {
        mask.optional(&format!("overrides.{name}"), patch).flatten()
    };
    overrides.mirror_overwrite_diverged =
        optional("mirror_overwrite_diverged", body.mirror_overwrite_diverged);
    overrides.mirror_trigger_builds = optional("mirror_trigger_builds", body.mirror_trigger_builds);
    overrides.only_mirror_protected_branches = optional(
        "only_mirror_protected_branches",
        body.only_mirror_protected_branches,
    );
    overrides.mirror_branch_regex = mask
        .optional("overrides.mirror_branch_regex", body.mirror_branch_regex)
        .flatten();
    let enabled = mask.required("enabled", body.enabled)?;
    let mirror = pb::Mirror {
        id,
        overrides: Some(overrides),
        enabled: enabled.unwrap_or_default(),
        ..Default::default()
    };
    Ok((mirror, mask))
}

/// Delete a mirror.
///
/// Starts the job that removes the mirror and its token from GitLab, then the record.
#[utoipa::path(
    delete, path = "/api/mirrors/{id}", tag = "mirrors", operation_id = "delete_mirror",
    params(("id" = i64, Path, description = "Mirror id", minimum = 1)),
    responses((status = 202, description = "Delete job started", body = Job,
        headers(("Location" = String, description = "`/api/jobs/{id}` of the job")))),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn delete_mirror(
    State(state): State<GatewayState>,
    forward: Forward,
    IdPath(id): IdPath,
) -> Result<Accepted<Job>, GatewayError> {
    let response = state
        .api()
        .mirrors()
        .delete_mirror(forward.request(pb::DeleteMirrorRequest { id }))
        .await?
        .into_inner();
    Accepted::from_proto(response.job)
}

/// Group tree of the mirrors.
///
/// Every ancestor group of every matching mirror's source path, ordered by path, with the
/// number of mirrors under it and how many of those last failed.
#[utoipa::path(
    get, path = "/api/mirrors/tree", tag = "mirrors", operation_id = "mirror_tree",
    params(MirrorTreeQuery),
    responses((status = 200, description = "Groups", body = Vec<MirrorGroup>)),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn mirror_tree(
    State(state): State<GatewayState>,
    forward: Forward,
    Query(query): Query<MirrorTreeQuery>,
) -> Result<Json<Vec<MirrorGroup>>, GatewayError> {
    common::check_ids(&[("instance_pair_id", query.instance_pair_id)])?;
    let request = pb::GetMirrorTreeRequest {
        pair_id: query.instance_pair_id.unwrap_or(0),
        search: text_filter("search", query.search, 500)?,
        status: text_filter("status", query.status, 50)?,
        group_prefix: group_filter(query.group_path)?,
    };
    let response = state
        .api()
        .mirrors()
        .get_mirror_tree(forward.request(request))
        .await
        .map_err(mirror_error)?
        .into_inner();
    Ok(Json(
        response.groups.into_iter().map(MirrorGroup::from).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_name_overrides_and_clear_them() {
        let body: UpdateMirror = crate::extract::parse_json(
            br#"{"mirror_branch_regex": null, "mirror_trigger_builds": true, "enabled": false}"#,
        )
        .unwrap();
        let (mirror, mask) = update_message(9, body).unwrap();
        assert_eq!(
            mask.paths,
            [
                "overrides.mirror_trigger_builds",
                "overrides.mirror_branch_regex",
                "enabled"
            ]
        );
        let overrides = mirror.overrides.unwrap();
        assert_eq!(overrides.mirror_trigger_builds, Some(true));
        assert_eq!(overrides.mirror_branch_regex, None);
        assert!(!mirror.enabled);
        assert_eq!(mirror.id, 9);

        let body: UpdateMirror = crate::extract::parse_json(br#"{"enabled": null}"#).unwrap();
        let error = update_message(9, body).unwrap_err();
        assert_eq!(error.field_violations[0].field, "enabled");
    }

    #[test]
    fn unchangeable_fields_are_recognised() {
        let body: UpdateMirror =
            crate::extract::parse_json(br#"{"source_project_path": "x/y"}"#).unwrap();
        assert!(body.source_project_path.is_present());
        let error = crate::extract::parse_json::<UpdateMirror>(br#"{"colour": 1}"#).unwrap_err();
        assert_eq!(error.field_violations[0].field, "colour");
    }
}
