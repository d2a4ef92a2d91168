//! `SearchInstanceProjects` and `SearchInstanceGroups`: the RPCs that call GitLab themselves
//! (`GET /projects?search=…`, `GET /groups?search=…`), through the instance's rate budget and
//! circuit breaker and with a short deadline.
//!
//! Errors: a token GitLab rejects (401, 403) or one that cannot be decrypted is
//! `FAILED_PRECONDITION`; a search GitLab refuses (400, 422) is `INVALID_ARGUMENT` naming
//! `search`; everything else (transport, timeout, 5xx, 429, open circuit, exhausted budget,
//! unexpected answers) is `UNAVAILABLE`. Never `INTERNAL`.

use mm_common::ApiError;
use mm_gitlab::{GitLabClient, GitLabError, PageRequest, ProjectFilter};
use mm_mirrors::ClientError;
use mm_proto::v1;

use crate::{
    ApiContext,
    context::GITLAB_DEADLINE,
    errors::storage_error,
    validation::{self, Violations},
};

const DEFAULT_PAGE_SIZE: u32 = 20;
const MAX_PAGE_SIZE: i32 = 100;
const MAX_PAGE: i32 = 10_000;

/// A validated search: the instance's client (with the interactive deadline) and the page.
struct Lookup {
    url: String,
    client: GitLabClient,
    search: Option<String>,
    page: PageRequest,
}

/// Validates the fields every search has in common and builds the instance's client.
async fn lookup(
    ctx: &ApiContext,
    instance_id: i64,
    search: &str,
    page_size: i32,
    page: i32,
) -> Result<Lookup, ApiError> {
    let mut violations = Violations::default();
    let instance_id = violations.check(validation::id("instance_id", instance_id));
    let search = violations.check(validation::search(search));
    let per_page = violations.check(validation::page_size_within(
        page_size,
        DEFAULT_PAGE_SIZE,
        MAX_PAGE_SIZE,
    ));
    if !(0..=MAX_PAGE).contains(&page) {
        violations.push(
            "page",
            format!("must be between 0 and {MAX_PAGE} (0 means 1)"),
        );
    }
    violations.finish()?;
    let (Some(instance_id), Some(search), Some(per_page)) = (instance_id, search, per_page) else {
        return Err(ApiError::internal());
    };
    let page = page.max(1).unsigned_abs();

    let instance = ctx
        .storage()
        .get_instance(instance_id)
        .await
        .map_err(|error| storage_error(error, "name"))?
        .ok_or_else(|| {
            ApiError::not_found(format!("instance {instance_id} not found"))
                .with_field("instance_id", "no instance with this id")
        })?;
    let client = ctx
        .gitlab()
        .client(&instance)
        .map_err(client_error)?
        .with_deadline(GITLAB_DEADLINE);
    Ok(Lookup {
        url: instance.url,
        client,
        search,
        page: PageRequest::new(page, per_page),
    })
}

/// Runs one GitLab call of a search; the client enforces the deadline, the timeout is a
/// backstop.
async fn ask<T>(
    url: &str,
    what: &str,
    call: impl std::future::Future<Output = Result<T, GitLabError>>,
) -> Result<T, ApiError> {
    tokio::time::timeout(GITLAB_DEADLINE + std::time::Duration::from_secs(1), call)
        .await
        .map_err(|_| {
            ApiError::unavailable(format!(
                "GitLab at {url} did not answer within {} s",
                GITLAB_DEADLINE.as_secs()
            ))
        })?
        .map_err(|error| gitlab_error(url, what, error))
}

pub(super) async fn search(
    ctx: &ApiContext,
    request: v1::SearchInstanceProjectsRequest,
) -> Result<v1::SearchInstanceProjectsResponse, ApiError> {
    let lookup = lookup(
        ctx,
        request.instance_id,
        &request.search,
        request.page_size,
        request.page,
    )
    .await?;
    // With the namespace in the match, a typed path prefix (`acme/plat`) finds its projects.
    let search_namespaces = lookup.search.as_ref().map(|_| true);
    let filter = ProjectFilter {
        search: lookup.search,
        search_namespaces,
        simple: Some(true),
        ..ProjectFilter::default()
    };
    let answer = ask(
        &lookup.url,
        "project search",
        lookup.client.projects_filtered(&filter, lookup.page),
    )
    .await?;

    Ok(v1::SearchInstanceProjectsResponse {
        has_next_page: answer.has_next(),
        projects: answer
            .items
            .into_iter()
            .map(|project| v1::GitLabProject {
                id: i64::try_from(project.id).unwrap_or(i64::MAX),
                path_with_namespace: project.path_with_namespace,
                name: project.name,
                web_url: project.web_url.unwrap_or_default(),
                default_branch: project.default_branch.unwrap_or_default(),
            })
            .collect(),
    })
}

/// `SearchInstanceGroups`: `GET /groups?search=…`, with the same rules as the project search.
pub(super) async fn search_groups(
    ctx: &ApiContext,
    request: v1::SearchInstanceGroupsRequest,
) -> Result<v1::SearchInstanceGroupsResponse, ApiError> {
    let lookup = lookup(
        ctx,
        request.instance_id,
        &request.search,
        request.page_size,
        request.page,
    )
    .await?;
    let answer = ask(
        &lookup.url,
        "group search",
        lookup.client.groups(lookup.search.as_deref(), lookup.page),
    )
    .await?;

    Ok(v1::SearchInstanceGroupsResponse {
        has_next_page: answer.has_next(),
        groups: answer
            .items
            .into_iter()
            .map(|group| v1::GitLabGroup {
                id: i64::try_from(group.id).unwrap_or(i64::MAX),
                full_name: group.full_name.unwrap_or_else(|| group.name.clone()),
                full_path: group.full_path,
                name: group.name,
                web_url: group.web_url.unwrap_or_default(),
                parent_id: group
                    .parent_id
                    .map_or(0, |id| i64::try_from(id).unwrap_or(i64::MAX)),
            })
            .collect(),
    })
}

fn client_error(error: ClientError) -> ApiError {
    match error {
        ClientError::Decrypt { instance_id, .. } => {
            tracing::error!(%error, "decrypting an instance token failed");
            ApiError::failed_precondition(format!(
                "the API token of instance {instance_id} cannot be decrypted (was the \
                 encryption key changed?); set the instance's token again"
            ))
        }
        ClientError::Build {
            instance_id,
            reason,
        } => ApiError::failed_precondition(format!(
            "instance {instance_id} has an unusable URL or token: {reason}"
        )),
    }
}

fn gitlab_error(url: &str, what: &str, error: GitLabError) -> ApiError {
    match &error {
        GitLabError::Unauthorized { .. } | GitLabError::Forbidden { .. } => {
            ApiError::failed_precondition(format!(
                "the instance token was rejected by GitLab at {url} ({}); update the \
                 instance's token",
                error.status().unwrap_or_default()
            ))
        }
        GitLabError::Validation { message, .. } => {
            ApiError::invalid_field("search", format!("GitLab refused the search: {message}"))
        }
        GitLabError::Invalid(message) => ApiError::failed_precondition(format!(
            "the instance's GitLab URL cannot be used: {message}"
        )),
        _ => {
            tracing::warn!(%error, %url, what, "instance search failed");
            ApiError::unavailable(format!("GitLab at {url} is not available: {error}"))
        }
    }
}
