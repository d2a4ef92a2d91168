//! `GET /api/instances/{id}/projects` and `GET /api/instances/{id}/groups`: search the projects
//! and groups of an instance in GitLab (through the instance's rate budget and circuit
//! breaker), for the project and group pickers of the console.

use axum::{
    extract::{OriginalUri, State},
    http::Uri,
};
use mm_proto::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::text_filter;
use crate::{
    GatewayState,
    common::{self, Listed},
    errors::GatewayError,
    extract::{IdPath, Query},
    grpc::Forward,
};

/// Deepest page of a project or group search (GitLab's offset pagination gets slow beyond).
pub const MAX_PROJECT_PAGE: u32 = 1000;

/// A GitLab project.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GitLabProject {
    /// GitLab id.
    pub id: i64,
    #[schema(example = "platform/backend/api")]
    pub path_with_namespace: String,
    pub name: String,
    pub web_url: String,
    pub default_branch: Option<String>,
}

impl From<pb::GitLabProject> for GitLabProject {
    fn from(p: pb::GitLabProject) -> Self {
        Self {
            id: p.id,
            path_with_namespace: p.path_with_namespace,
            name: p.name,
            web_url: p.web_url,
            default_branch: Some(p.default_branch).filter(|b| !b.is_empty()),
        }
    }
}

/// Query of `GET /api/instances/{id}/projects`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchProjectsQuery {
    /// Matched by GitLab against project name and path.
    #[param(max_length = 255)]
    pub search: Option<String>,
    /// 1-based page number.
    #[param(minimum = 1, maximum = 1000)]
    pub page: Option<u32>,
    /// Page size, 1-100 (default 20). `per_page` is accepted too.
    #[serde(alias = "per_page")]
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<u32>,
}

/// Search the projects of an instance.
///
/// Asks GitLab (through the instance's rate budget). Returns a JSON array; when there are
/// more results, `X-Next-Page` holds the next page number and `Link` its URL.
#[utoipa::path(
    get, path = "/api/instances/{id}/projects", tag = "instances", operation_id = "search_instance_projects",
    params(("id" = i64, Path, description = "Instance id", minimum = 1), SearchProjectsQuery),
    responses((status = 200, description = "Projects", body = Vec<GitLabProject>, headers(
        ("X-Next-Page" = i64, description = "Number of the next page, absent on the last page"),
        ("Link" = String, description = "`<url>; rel=\"next\"` when there is a next page"),
    ))),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn search_projects(
    State(state): State<GatewayState>,
    forward: Forward,
    OriginalUri(uri): OriginalUri,
    IdPath(id): IdPath,
    Query(query): Query<SearchProjectsQuery>,
) -> Result<Listed<GitLabProject>, GatewayError> {
    let (page, page_size) = paging(query.page, query.page_size)?;
    let request = pb::SearchInstanceProjectsRequest {
        instance_id: id,
        search: text_filter("search", query.search, 255)?,
        page_size: page_size as i32,
        page: page as i32,
    };
    let response = state
        .api()
        .mirrors()
        .search_instance_projects(forward.request(request))
        .await
        .map_err(|status| {
            GatewayError::from(status)
                .rename_fields(|field| (field == "instance_id").then(|| "id".to_owned()))
        })?
        .into_inner();
    let projects = response
        .projects
        .into_iter()
        .map(GitLabProject::from)
        .collect();
    Ok(listed(&uri, projects, page, response.has_next_page))
}

/// A GitLab group.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GitLabGroup {
    /// GitLab id.
    pub id: i64,
    #[schema(example = "platform/backend")]
    pub full_path: String,
    #[schema(example = "backend")]
    pub name: String,
    /// Names of the group and its parents.
    #[schema(example = "Platform / backend")]
    pub full_name: String,
    pub web_url: String,
    /// Id of the parent group; null for a top-level group.
    pub parent_id: Option<i64>,
}

impl From<pb::GitLabGroup> for GitLabGroup {
    fn from(g: pb::GitLabGroup) -> Self {
        Self {
            id: g.id,
            full_path: g.full_path,
            name: g.name,
            full_name: g.full_name,
            web_url: g.web_url,
            parent_id: Some(g.parent_id).filter(|id| *id > 0),
        }
    }
}

/// Query of `GET /api/instances/{id}/groups`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchGroupsQuery {
    /// Matched by GitLab against group name and path.
    #[param(max_length = 255)]
    pub search: Option<String>,
    /// 1-based page number.
    #[param(minimum = 1, maximum = 1000)]
    pub page: Option<u32>,
    /// Page size, 1-100 (default 20). `per_page` is accepted too.
    #[serde(alias = "per_page")]
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<u32>,
}

/// Search the groups of an instance.
///
/// Asks GitLab (through the instance's rate budget). Returns a JSON array; when there are
/// more results, `X-Next-Page` holds the next page number and `Link` its URL.
#[utoipa::path(
    get, path = "/api/instances/{id}/groups", tag = "instances", operation_id = "search_instance_groups",
    params(("id" = i64, Path, description = "Instance id", minimum = 1), SearchGroupsQuery),
    responses((status = 200, description = "Groups", body = Vec<GitLabGroup>, headers(
        ("X-Next-Page" = i64, description = "Number of the next page, absent on the last page"),
        ("Link" = String, description = "`<url>; rel=\"next\"` when there is a next page"),
    ))),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn search_groups(
    State(state): State<GatewayState>,
    forward: Forward,
    OriginalUri(uri): OriginalUri,
    IdPath(id): IdPath,
    Query(query): Query<SearchGroupsQuery>,
) -> Result<Listed<GitLabGroup>, GatewayError> {
    let (page, page_size) = paging(query.page, query.page_size)?;
    let request = pb::SearchInstanceGroupsRequest {
        instance_id: id,
        search: text_filter("search", query.search, 255)?,
        page_size: page_size as i32,
        page: page as i32,
    };
    let response = state
        .api()
        .mirrors()
        .search_instance_groups(forward.request(request))
        .await
        .map_err(|status| {
            GatewayError::from(status)
                .rename_fields(|field| (field == "instance_id").then(|| "id".to_owned()))
        })?
        .into_inner();
    let groups = response.groups.into_iter().map(GitLabGroup::from).collect();
    Ok(listed(&uri, groups, page, response.has_next_page))
}

/// The page and page size of a search, checked.
fn paging(page: Option<u32>, page_size: Option<u32>) -> Result<(u32, u32), GatewayError> {
    let page = page.unwrap_or(1);
    if !(1..=MAX_PROJECT_PAGE).contains(&page) {
        return Err(GatewayError::unprocessable(
            "page",
            format!("must be between 1 and {MAX_PROJECT_PAGE}"),
        ));
    }
    let page_size = page_size.unwrap_or(20);
    if !(1..=100).contains(&page_size) {
        return Err(GatewayError::unprocessable(
            "page_size",
            "must be between 1 and 100",
        ));
    }
    Ok((page, page_size))
}

/// One page of results with `Link` and `X-Next-Page` when GitLab has more.
fn listed<T>(uri: &Uri, items: Vec<T>, page: u32, has_next_page: bool) -> Listed<T> {
    let next = (has_next_page && page < MAX_PROJECT_PAGE).then_some(page + 1);
    let listed = Listed::plain(
        items,
        next.map(|n| common::link_to(uri, "page", &n.to_string())),
    );
    match next {
        Some(n) => listed.header("x-next-page", n),
        None => listed,
    }
}
