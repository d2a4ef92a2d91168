//! Project access tokens: create, list, get, revoke, rotate.

use futures::Stream;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::client::{ApiRequest, GitLabClient, IdOrPath};
use crate::errors::GitLabError;
use crate::pagination::{Page, PageRequest};
use crate::retry::Idempotency;
use crate::secret::SecretToken;

/// Access levels a project token may have.
pub mod access_level {
    pub const GUEST: u32 = 10;
    pub const PLANNER: u32 = 15;
    pub const REPORTER: u32 = 20;
    pub const DEVELOPER: u32 = 30;
    pub const MAINTAINER: u32 = 40;
    pub const OWNER: u32 = 50;
}

/// A project access token (never with its value).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct ProjectAccessToken {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub revoked: bool,
    #[serde(default)]
    pub active: bool,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The bot user behind the token.
    #[serde(default)]
    pub user_id: Option<u64>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub last_used_at: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub access_level: Option<u32>,
}

/// A token as returned by create and rotate: the only time GitLab shows
/// its value.
#[derive(Debug, Clone, Deserialize)]
pub struct NewAccessToken {
    #[serde(flatten)]
    pub info: ProjectAccessToken,
    pub token: SecretToken,
}

/// `POST /projects/:id/access_tokens`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateAccessToken {
    /// Make it unique (e.g. `mm-mirror-<id>`) so a caller can find it again
    /// after a failed create (look before create).
    pub name: String,
    /// `api`, `read_api`, `read_repository`, `write_repository`, …
    pub scopes: Vec<String>,
    /// Default Maintainer (40); see [`access_level`].
    pub access_level: Option<u32>,
    /// `YYYY-MM-DD`; GitLab's maximum lifetime when `None`.
    pub expires_at: Option<String>,
    pub description: Option<String>,
}

impl CreateAccessToken {
    pub fn new(name: impl Into<String>, scopes: &[&str]) -> Self {
        Self {
            name: name.into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            access_level: None,
            expires_at: None,
            description: None,
        }
    }

    fn body(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), json!(self.name));
        m.insert("scopes".into(), json!(self.scopes));
        if let Some(v) = self.access_level {
            m.insert("access_level".into(), json!(v));
        }
        if let Some(v) = &self.expires_at {
            m.insert("expires_at".into(), json!(v));
        }
        if let Some(v) = &self.description {
            m.insert("description".into(), json!(v));
        }
        Value::Object(m)
    }
}

/// `state` filter of the token list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    Active,
    Inactive,
}

fn tokens_req(p: &IdOrPath, state: Option<TokenState>) -> ApiRequest {
    ApiRequest::get(
        "GET /projects/:id/access_tokens",
        format!("projects/{}/access_tokens", p.segment()),
    )
    .query_opt(
        "state",
        state.map(|s| match s {
            TokenState::Active => "active",
            TokenState::Inactive => "inactive",
        }),
    )
}

impl GitLabClient {
    /// `POST /projects/:id/access_tokens` (201, with the value). Not
    /// retried after a failure that may have reached GitLab: look for the
    /// token by name before creating again (see [`crate::retry`]).
    pub async fn create_project_access_token(
        &self,
        project: impl Into<IdOrPath>,
        req: &CreateAccessToken,
    ) -> Result<NewAccessToken, GitLabError> {
        let p = project.into();
        let r = ApiRequest::new(
            Method::POST,
            "POST /projects/:id/access_tokens",
            format!("projects/{}/access_tokens", p.segment()),
        )
        .json(req.body())
        .idempotency(Idempotency::NonIdempotent);
        self.json(r).await
    }

    /// `GET /projects/:id/access_tokens` (one page).
    pub async fn list_project_access_tokens(
        &self,
        project: impl Into<IdOrPath>,
        state: Option<TokenState>,
        page: PageRequest,
    ) -> Result<Page<ProjectAccessToken>, GitLabError> {
        self.page(tokens_req(&project.into(), state), page).await
    }

    pub fn all_project_access_tokens(
        &self,
        project: impl Into<IdOrPath>,
        state: Option<TokenState>,
        cap: usize,
    ) -> impl Stream<Item = Result<ProjectAccessToken, GitLabError>> + Send + 'static {
        self.all(tokens_req(&project.into(), state), 100, cap)
    }

    /// `GET /projects/:id/access_tokens/:token_id`.
    pub async fn get_project_access_token(
        &self,
        project: impl Into<IdOrPath>,
        token_id: u64,
    ) -> Result<ProjectAccessToken, GitLabError> {
        let p = project.into();
        self.json(ApiRequest::get(
            "GET /projects/:id/access_tokens/:token_id",
            format!("projects/{}/access_tokens/{token_id}", p.segment()),
        ))
        .await
    }

    /// `DELETE /projects/:id/access_tokens/:token_id` (204).
    pub async fn revoke_project_access_token(
        &self,
        project: impl Into<IdOrPath>,
        token_id: u64,
    ) -> Result<(), GitLabError> {
        let p = project.into();
        let r = ApiRequest::new(
            Method::DELETE,
            "DELETE /projects/:id/access_tokens/:token_id",
            format!("projects/{}/access_tokens/{token_id}", p.segment()),
        );
        self.empty(r).await.map(|_| ())
    }

    /// `POST /projects/:id/access_tokens/:token_id/rotate` (200): a new
    /// value; the old one is revoked at once. Rotating twice revokes the
    /// whole family, so this is never retried after an ambiguous failure.
    pub async fn rotate_project_access_token(
        &self,
        project: impl Into<IdOrPath>,
        token_id: u64,
        expires_at: Option<&str>,
    ) -> Result<NewAccessToken, GitLabError> {
        let p = project.into();
        let mut r = ApiRequest::new(
            Method::POST,
            "POST /projects/:id/access_tokens/:token_id/rotate",
            format!("projects/{}/access_tokens/{token_id}/rotate", p.segment()),
        )
        .idempotency(Idempotency::NonIdempotent);
        if let Some(e) = expires_at {
            r = r.json(json!({ "expires_at": e }));
        }
        self.json(r).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_token_debug_hides_value() {
        let t: NewAccessToken = serde_json::from_str(
            r#"{"id":1,"name":"n","revoked":false,"active":true,"scopes":["api"],"user_id":9,
                "expires_at":"2030-01-01","access_level":40,"token":"glpat-secretvalue"}"#,
        )
        .unwrap();
        assert_eq!(t.token.expose(), "glpat-secretvalue");
        assert!(!format!("{t:?}").contains("secretvalue"));
    }
}
