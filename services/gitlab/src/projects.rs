//! Instance metadata, the current user, projects, groups, branches and tags.

use futures::Stream;
use serde::Deserialize;

use crate::client::{ApiRequest, GitLabClient, IdOrPath, encode_segment};
use crate::errors::GitLabError;
use crate::pagination::{Page, PageRequest};

/// `GET /version`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Version {
    pub version: String,
    #[serde(default)]
    pub revision: Option<String>,
}

/// `GET /metadata` (falls back to `/version` on instances without it).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Metadata {
    pub version: String,
    #[serde(default)]
    pub revision: Option<String>,
    #[serde(default)]
    pub enterprise: Option<bool>,
    #[serde(default)]
    pub kas: Option<Kas>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Kas {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default, rename = "externalUrl")]
    pub external_url: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
}

impl Metadata {
    /// Enterprise edition: the `enterprise` flag, else a `-ee` version.
    pub fn is_enterprise(&self) -> bool {
        self.enterprise
            .unwrap_or_else(|| self.version.contains("-ee"))
    }

    /// `(major, minor)` of the version, e.g. `(17, 6)` for `17.6.1-ee`.
    pub fn major_minor(&self) -> Option<(u32, u32)> {
        let mut it = self.version.split(['.', '-']);
        let major = it.next()?.parse().ok()?;
        let minor = it.next()?.parse().ok()?;
        Some((major, minor))
    }
}

/// `GET /user`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct User {
    pub id: u64,
    pub username: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub is_admin: Option<bool>,
    #[serde(default)]
    pub bot: Option<bool>,
    #[serde(default)]
    pub web_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Namespace {
    pub id: u64,
    pub name: String,
    pub path: String,
    pub kind: String,
    pub full_path: String,
    #[serde(default)]
    pub parent_id: Option<u64>,
    #[serde(default)]
    pub web_url: Option<String>,
}

/// A project (the simple and the full entity; fields absent from the
/// simple one are `None`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Project {
    pub id: u64,
    pub name: String,
    pub path: String,
    pub path_with_namespace: String,
    #[serde(default)]
    pub name_with_namespace: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub default_branch: Option<String>,
    #[serde(default)]
    pub http_url_to_repo: Option<String>,
    #[serde(default)]
    pub ssh_url_to_repo: Option<String>,
    #[serde(default)]
    pub web_url: Option<String>,
    #[serde(default)]
    pub visibility: Option<String>,
    #[serde(default)]
    pub archived: Option<bool>,
    #[serde(default)]
    pub empty_repo: Option<bool>,
    #[serde(default)]
    pub namespace: Option<Namespace>,
    #[serde(default)]
    pub last_activity_at: Option<String>,
    /// EE: pull mirroring enabled.
    #[serde(default)]
    pub mirror: Option<bool>,
    /// Masked; only shown to project admins.
    #[serde(default)]
    pub import_url: Option<String>,
    #[serde(default)]
    pub import_status: Option<String>,
    #[serde(default)]
    pub mirror_trigger_builds: Option<bool>,
    #[serde(default)]
    pub only_mirror_protected_branches: Option<bool>,
    #[serde(default)]
    pub mirror_overwrites_diverged_branches: Option<bool>,
}

/// A group.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Group {
    pub id: u64,
    pub name: String,
    pub path: String,
    pub full_path: String,
    #[serde(default)]
    pub full_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub visibility: Option<String>,
    #[serde(default)]
    pub parent_id: Option<u64>,
    #[serde(default)]
    pub web_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Commit {
    pub id: String,
    #[serde(default)]
    pub short_id: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub committed_date: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Branch {
    pub name: String,
    pub commit: Commit,
    #[serde(default)]
    pub protected: bool,
    #[serde(default)]
    pub default: bool,
    #[serde(default)]
    pub merged: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Tag {
    pub name: String,
    pub commit: Commit,
    /// The tag object for annotated tags, the commit for lightweight ones.
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub protected: Option<bool>,
}

/// Filters of `GET /projects` and `GET /groups/:id/projects`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectFilter {
    pub search: Option<String>,
    /// Match `search` against the namespace too, so `acme/plat` finds `acme/platform/api`.
    pub search_namespaces: Option<bool>,
    pub membership: Option<bool>,
    pub archived: Option<bool>,
    pub simple: Option<bool>,
    /// `id`, `name`, `path`, `created_at`, `updated_at`, `last_activity_at`, …
    pub order_by: Option<String>,
    /// `asc` or `desc`.
    pub sort: Option<String>,
    /// Page size of the streaming helpers (default and maximum 100).
    pub per_page: Option<u32>,
    /// Keyset pagination (`pagination=keyset`, ordered by id): the next
    /// page is followed through the `Link` header. `GET /projects` only.
    pub keyset: bool,
}

impl ProjectFilter {
    pub fn search(s: impl Into<String>) -> Self {
        Self {
            search: Some(s.into()),
            ..Self::default()
        }
    }

    fn apply(&self, req: ApiRequest) -> ApiRequest {
        let (order_by, sort) = match (self.keyset, &self.order_by) {
            (true, None) => (Some("id"), self.sort.as_deref().or(Some("asc"))),
            _ => (self.order_by.as_deref(), self.sort.as_deref()),
        };
        req.query_opt("search", self.search.as_deref().filter(|s| !s.is_empty()))
            .query_opt("search_namespaces", self.search_namespaces)
            .query_opt("membership", self.membership)
            .query_opt("archived", self.archived)
            .query_opt("simple", self.simple)
            .query_opt("order_by", order_by)
            .query_opt("sort", sort)
            .query_opt("pagination", self.keyset.then_some("keyset"))
    }

    fn page_size(&self) -> u32 {
        self.per_page.unwrap_or(100)
    }
}

fn group_projects_req(group: &IdOrPath, include_subgroups: bool, f: &ProjectFilter) -> ApiRequest {
    let req = ApiRequest::get(
        "GET /groups/:id/projects",
        format!("groups/{}/projects", group.segment()),
    )
    .query("include_subgroups", include_subgroups);
    f.apply(req)
}

impl GitLabClient {
    /// `GET /version`.
    pub async fn version(&self) -> Result<Version, GitLabError> {
        self.json(ApiRequest::get("GET /version", "version")).await
    }

    /// `GET /metadata`, or `GET /version` where `/metadata` does not exist
    /// (GitLab < 15.2 answers 404).
    pub async fn metadata(&self) -> Result<Metadata, GitLabError> {
        match self
            .json(ApiRequest::get("GET /metadata", "metadata"))
            .await
        {
            Err(GitLabError::NotFound { .. }) => {
                let v = self.version().await?;
                Ok(Metadata {
                    version: v.version,
                    revision: v.revision,
                    enterprise: None,
                    kas: None,
                })
            }
            other => other,
        }
    }

    /// `GET /user`: the token's user (the standard "does the token work?").
    pub async fn current_user(&self) -> Result<User, GitLabError> {
        self.json(ApiRequest::get("GET /user", "user")).await
    }

    /// `GET /projects/:id` by id or full path.
    pub async fn project(&self, project: impl Into<IdOrPath>) -> Result<Project, GitLabError> {
        let p = project.into();
        self.json(ApiRequest::get(
            "GET /projects/:id",
            format!("projects/{}", p.segment()),
        ))
        .await
    }

    /// `GET /projects?search=…` (one page).
    pub async fn projects(
        &self,
        search: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<Project>, GitLabError> {
        let f = ProjectFilter {
            search: search.map(str::to_string),
            ..ProjectFilter::default()
        };
        self.projects_filtered(&f, page).await
    }

    pub async fn projects_filtered(
        &self,
        filter: &ProjectFilter,
        page: PageRequest,
    ) -> Result<Page<Project>, GitLabError> {
        let req = filter.apply(ApiRequest::get("GET /projects", "projects"));
        self.page(req, page).await
    }

    /// Every project matching `filter`, at most `cap`.
    pub fn all_projects(
        &self,
        filter: &ProjectFilter,
        cap: usize,
    ) -> impl Stream<Item = Result<Project, GitLabError>> + Send + 'static {
        let req = filter.apply(ApiRequest::get("GET /projects", "projects"));
        self.all(req, filter.page_size(), cap)
    }

    /// `GET /groups?search=…` (one page).
    pub async fn groups(
        &self,
        search: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<Group>, GitLabError> {
        let req = ApiRequest::get("GET /groups", "groups")
            .query_opt("search", search.filter(|s| !s.is_empty()));
        self.page(req, page).await
    }

    pub fn all_groups(
        &self,
        search: Option<&str>,
        cap: usize,
    ) -> impl Stream<Item = Result<Group, GitLabError>> + Send + 'static {
        let req = ApiRequest::get("GET /groups", "groups")
            .query_opt("search", search.filter(|s| !s.is_empty()));
        self.all(req, 100, cap)
    }

    /// `GET /groups/:id` by id or full path.
    pub async fn group(&self, group: impl Into<IdOrPath>) -> Result<Group, GitLabError> {
        let g = group.into();
        self.json(ApiRequest::get(
            "GET /groups/:id",
            format!("groups/{}", g.segment()),
        ))
        .await
    }

    /// `GET /groups/:id/projects` (one page).
    pub async fn group_projects(
        &self,
        group: impl Into<IdOrPath>,
        include_subgroups: bool,
        filter: &ProjectFilter,
        page: PageRequest,
    ) -> Result<Page<Project>, GitLabError> {
        let req = group_projects_req(&group.into(), include_subgroups, filter);
        self.page(req, page).await
    }

    pub fn all_group_projects(
        &self,
        group: impl Into<IdOrPath>,
        include_subgroups: bool,
        filter: &ProjectFilter,
        cap: usize,
    ) -> impl Stream<Item = Result<Project, GitLabError>> + Send + 'static {
        let req = group_projects_req(&group.into(), include_subgroups, filter);
        self.all(req, filter.page_size(), cap)
    }

    /// `GET /projects/:id/repository/branches` (one page).
    pub async fn branches(
        &self,
        project: impl Into<IdOrPath>,
        page: PageRequest,
    ) -> Result<Page<Branch>, GitLabError> {
        self.page(branches_req(&project.into()), page).await
    }

    pub fn all_branches(
        &self,
        project: impl Into<IdOrPath>,
        cap: usize,
    ) -> impl Stream<Item = Result<Branch, GitLabError>> + Send + 'static {
        self.all(branches_req(&project.into()), 100, cap)
    }

    /// `GET /projects/:id/repository/branches/:branch`.
    pub async fn branch(
        &self,
        project: impl Into<IdOrPath>,
        name: &str,
    ) -> Result<Branch, GitLabError> {
        let p = project.into();
        self.json(ApiRequest::get(
            "GET /projects/:id/repository/branches/:branch",
            format!(
                "projects/{}/repository/branches/{}",
                p.segment(),
                encode_segment(name)
            ),
        ))
        .await
    }

    /// `GET /projects/:id/repository/tags` (one page).
    pub async fn tags(
        &self,
        project: impl Into<IdOrPath>,
        page: PageRequest,
    ) -> Result<Page<Tag>, GitLabError> {
        self.page(tags_req(&project.into()), page).await
    }

    pub fn all_tags(
        &self,
        project: impl Into<IdOrPath>,
        cap: usize,
    ) -> impl Stream<Item = Result<Tag, GitLabError>> + Send + 'static {
        self.all(tags_req(&project.into()), 100, cap)
    }

    /// `GET /projects/:id/repository/tags/:tag_name`.
    pub async fn tag(&self, project: impl Into<IdOrPath>, name: &str) -> Result<Tag, GitLabError> {
        let p = project.into();
        self.json(ApiRequest::get(
            "GET /projects/:id/repository/tags/:tag_name",
            format!(
                "projects/{}/repository/tags/{}",
                p.segment(),
                encode_segment(name)
            ),
        ))
        .await
    }
}

fn branches_req(p: &IdOrPath) -> ApiRequest {
    ApiRequest::get(
        "GET /projects/:id/repository/branches",
        format!("projects/{}/repository/branches", p.segment()),
    )
}

fn tags_req(p: &IdOrPath) -> ApiRequest {
    ApiRequest::get(
        "GET /projects/:id/repository/tags",
        format!("projects/{}/repository/tags", p.segment()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_helpers() {
        let m: Metadata = serde_json::from_str(
            r#"{"version":"17.6.1-ee","revision":"abc","kas":{"enabled":false,"externalUrl":null,"version":null},"enterprise":true}"#,
        )
        .unwrap();
        assert!(m.is_enterprise());
        assert_eq!(m.major_minor(), Some((17, 6)));
    }
}
