//! Push mirrors (`remote_mirrors`, on the source project) and EE pull
//! mirrors (`mirror/pull`, on the target project).

use futures::Stream;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::client::{ApiRequest, GitLabClient, IdOrPath};
use crate::errors::GitLabError;
use crate::pagination::{Page, PageRequest};
use crate::retry::Idempotency;
use crate::secret::{SecretToken, SecretUrl};

/// A push mirror as GitLab reports it (`url` has its credentials masked).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct RemoteMirror {
    pub id: u64,
    pub url: String,
    pub enabled: bool,
    /// `none`, `started`, `finished`, `failed` (and `to_retry`).
    pub update_status: String,
    #[serde(default)]
    pub last_update_at: Option<String>,
    #[serde(default)]
    pub last_update_started_at: Option<String>,
    #[serde(default)]
    pub last_successful_update_at: Option<String>,
    #[serde(default)]
    pub last_error: Option<String>,
    #[serde(default)]
    pub only_protected_branches: bool,
    #[serde(default)]
    pub keep_divergent_refs: Option<bool>,
    #[serde(default)]
    pub auth_method: Option<String>,
    #[serde(default)]
    pub mirror_branch_regex: Option<String>,
}

impl RemoteMirror {
    pub fn is_running(&self) -> bool {
        self.update_status == "started"
    }

    pub fn is_finished(&self) -> bool {
        self.update_status == "finished"
    }

    pub fn is_failed(&self) -> bool {
        self.update_status == "failed"
    }
}

/// `POST /projects/:id/remote_mirrors`.
#[derive(Debug, Clone)]
pub struct CreateRemoteMirror {
    /// The target, usually with `oauth2:<token>@` credentials.
    pub url: SecretUrl,
    pub enabled: bool,
    pub only_protected_branches: bool,
    pub keep_divergent_refs: Option<bool>,
    /// Premium+; exclusive with `only_protected_branches`.
    pub mirror_branch_regex: Option<String>,
    /// `password` (default) or `ssh_public_key`.
    pub auth_method: Option<String>,
}

impl CreateRemoteMirror {
    pub fn new(url: SecretUrl) -> Self {
        Self {
            url,
            enabled: true,
            only_protected_branches: false,
            keep_divergent_refs: None,
            mirror_branch_regex: None,
            auth_method: None,
        }
    }

    fn body(&self) -> Value {
        let mut m = Map::new();
        m.insert("url".into(), json!(self.url.expose()));
        m.insert("enabled".into(), json!(self.enabled));
        m.insert(
            "only_protected_branches".into(),
            json!(self.only_protected_branches),
        );
        if let Some(v) = self.keep_divergent_refs {
            m.insert("keep_divergent_refs".into(), json!(v));
        }
        if let Some(v) = &self.mirror_branch_regex {
            m.insert("mirror_branch_regex".into(), json!(v));
        }
        if let Some(v) = &self.auth_method {
            m.insert("auth_method".into(), json!(v));
        }
        Value::Object(m)
    }
}

/// `PUT /projects/:id/remote_mirrors/:mirror_id` (the URL cannot change).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateRemoteMirror {
    pub enabled: Option<bool>,
    pub only_protected_branches: Option<bool>,
    pub keep_divergent_refs: Option<bool>,
    pub mirror_branch_regex: Option<String>,
}

impl UpdateRemoteMirror {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    fn body(&self) -> Value {
        let mut m = Map::new();
        if let Some(v) = self.enabled {
            m.insert("enabled".into(), json!(v));
        }
        if let Some(v) = self.only_protected_branches {
            m.insert("only_protected_branches".into(), json!(v));
        }
        if let Some(v) = self.keep_divergent_refs {
            m.insert("keep_divergent_refs".into(), json!(v));
        }
        if let Some(v) = &self.mirror_branch_regex {
            m.insert("mirror_branch_regex".into(), json!(v));
        }
        Value::Object(m)
    }
}

/// EE pull mirror (`GET /projects/:id/mirror/pull`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct PullMirror {
    #[serde(default)]
    pub id: Option<u64>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
    /// `none`, `scheduled`, `started`, `finished`, `failed`, `canceled`.
    #[serde(default)]
    pub update_status: Option<String>,
    #[serde(default)]
    pub last_error: Option<String>,
    #[serde(default)]
    pub last_update_at: Option<String>,
    #[serde(default)]
    pub last_update_started_at: Option<String>,
    #[serde(default)]
    pub last_successful_update_at: Option<String>,
    #[serde(default)]
    pub mirror_trigger_builds: Option<bool>,
    #[serde(default)]
    pub only_mirror_protected_branches: Option<bool>,
    #[serde(default)]
    pub mirror_overwrites_diverged_branches: Option<bool>,
    #[serde(default)]
    pub mirror_branch_regex: Option<String>,
}

/// Settings of a pull mirror.
#[derive(Debug, Clone)]
pub struct PullMirrorConfig {
    /// The source repository, without credentials when `auth_password` is
    /// set, or with them embedded.
    pub url: SecretUrl,
    pub auth_user: Option<String>,
    pub auth_password: Option<SecretToken>,
    pub enabled: bool,
    pub mirror_trigger_builds: Option<bool>,
    pub only_mirror_protected_branches: Option<bool>,
    pub mirror_overwrites_diverged_branches: Option<bool>,
    pub mirror_branch_regex: Option<String>,
}

impl PullMirrorConfig {
    pub fn new(url: SecretUrl) -> Self {
        Self {
            url,
            auth_user: None,
            auth_password: None,
            enabled: true,
            mirror_trigger_builds: None,
            only_mirror_protected_branches: None,
            mirror_overwrites_diverged_branches: None,
            mirror_branch_regex: None,
        }
    }

    fn options(&self, m: &mut Map<String, Value>) {
        if let Some(v) = self.mirror_trigger_builds {
            m.insert("mirror_trigger_builds".into(), json!(v));
        }
        if let Some(v) = self.only_mirror_protected_branches {
            m.insert("only_mirror_protected_branches".into(), json!(v));
        }
        if let Some(v) = self.mirror_overwrites_diverged_branches {
            m.insert("mirror_overwrites_diverged_branches".into(), json!(v));
        }
        if let Some(v) = &self.mirror_branch_regex {
            m.insert("mirror_branch_regex".into(), json!(v));
        }
    }

    /// Body of `PUT /projects/:id/mirror/pull` (17.6+).
    fn api_body(&self) -> Value {
        let mut m = Map::new();
        m.insert("enabled".into(), json!(self.enabled));
        m.insert("url".into(), json!(self.url.expose()));
        if let Some(u) = &self.auth_user {
            m.insert("auth_user".into(), json!(u));
        }
        if let Some(p) = &self.auth_password {
            m.insert("auth_password".into(), json!(p.expose()));
        }
        self.options(&mut m);
        Value::Object(m)
    }

    /// Body of the legacy `PUT /projects/:id` (credentials in the URL).
    fn legacy_body(&self) -> Result<Value, GitLabError> {
        let url = match &self.auth_password {
            Some(p) => SecretUrl::with_credentials(
                self.url.expose(),
                self.auth_user.as_deref().unwrap_or("oauth2"),
                p,
            )
            .map_err(|e| GitLabError::Invalid(format!("pull mirror URL: {e}")))?,
            None => self.url.clone(),
        };
        let mut m = Map::new();
        m.insert("mirror".into(), json!(self.enabled));
        m.insert("import_url".into(), json!(url.expose()));
        self.options(&mut m);
        Ok(Value::Object(m))
    }
}

/// A 404 from an unknown route (older GitLab), as opposed to an unknown
/// project (`404 Project Not Found`).
fn is_missing_route(e: &GitLabError) -> bool {
    match e {
        GitLabError::NotFound { message, .. } => !message.contains("Project Not Found"),
        _ => false,
    }
}

fn is_not_mirrored(e: &GitLabError) -> bool {
    matches!(e, GitLabError::Validation { message, .. } if message.contains("not mirrored"))
}

fn mirrors_path(p: &IdOrPath) -> String {
    format!("projects/{}/remote_mirrors", p.segment())
}

impl GitLabClient {
    /// `GET /projects/:id/remote_mirrors` (one page).
    pub async fn list_remote_mirrors(
        &self,
        project: impl Into<IdOrPath>,
        page: PageRequest,
    ) -> Result<Page<RemoteMirror>, GitLabError> {
        let p = project.into();
        let req = ApiRequest::get("GET /projects/:id/remote_mirrors", mirrors_path(&p));
        self.page(req, page).await
    }

    /// Every push mirror of a project, at most `cap`.
    pub fn all_remote_mirrors(
        &self,
        project: impl Into<IdOrPath>,
        cap: usize,
    ) -> impl Stream<Item = Result<RemoteMirror, GitLabError>> + Send + 'static {
        let p = project.into();
        self.all(
            ApiRequest::get("GET /projects/:id/remote_mirrors", mirrors_path(&p)),
            100,
            cap,
        )
    }

    /// `GET /projects/:id/remote_mirrors/:mirror_id`.
    pub async fn get_remote_mirror(
        &self,
        project: impl Into<IdOrPath>,
        mirror_id: u64,
    ) -> Result<RemoteMirror, GitLabError> {
        let p = project.into();
        self.json(ApiRequest::get(
            "GET /projects/:id/remote_mirrors/:mirror_id",
            format!("{}/{mirror_id}", mirrors_path(&p)),
        ))
        .await
    }

    /// `POST /projects/:id/remote_mirrors` (201). Not retried after a
    /// failure that may have reached GitLab: look before creating again
    /// (see [`crate::retry`]).
    pub async fn create_remote_mirror(
        &self,
        project: impl Into<IdOrPath>,
        mirror: &CreateRemoteMirror,
    ) -> Result<RemoteMirror, GitLabError> {
        let p = project.into();
        let req = ApiRequest::new(
            Method::POST,
            "POST /projects/:id/remote_mirrors",
            mirrors_path(&p),
        )
        .json(mirror.body())
        .idempotency(Idempotency::NonIdempotent);
        self.json(req).await
    }

    /// `PUT /projects/:id/remote_mirrors/:mirror_id`.
    pub async fn update_remote_mirror(
        &self,
        project: impl Into<IdOrPath>,
        mirror_id: u64,
        update: &UpdateRemoteMirror,
    ) -> Result<RemoteMirror, GitLabError> {
        let p = project.into();
        let req = ApiRequest::new(
            Method::PUT,
            "PUT /projects/:id/remote_mirrors/:mirror_id",
            format!("{}/{mirror_id}", mirrors_path(&p)),
        )
        .json(update.body());
        self.json(req).await
    }

    /// `DELETE /projects/:id/remote_mirrors/:mirror_id` (204).
    pub async fn delete_remote_mirror(
        &self,
        project: impl Into<IdOrPath>,
        mirror_id: u64,
    ) -> Result<(), GitLabError> {
        let p = project.into();
        let req = ApiRequest::new(
            Method::DELETE,
            "DELETE /projects/:id/remote_mirrors/:mirror_id",
            format!("{}/{mirror_id}", mirrors_path(&p)),
        );
        self.empty(req).await.map(|_| ())
    }

    /// `POST /projects/:id/remote_mirrors/:mirror_id/sync` (204). GitLab
    /// also answers 204 when an update is already running (nothing is
    /// queued) — that is success. A disabled mirror gives a 400.
    pub async fn sync_remote_mirror(
        &self,
        project: impl Into<IdOrPath>,
        mirror_id: u64,
    ) -> Result<(), GitLabError> {
        let p = project.into();
        let req = ApiRequest::new(
            Method::POST,
            "POST /projects/:id/remote_mirrors/:mirror_id/sync",
            format!("{}/{mirror_id}/sync", mirrors_path(&p)),
        )
        .idempotency(Idempotency::Idempotent);
        self.empty(req).await.map(|_| ())
    }

    /// `GET /projects/:id/mirror/pull` (EE). `None` when the project is not
    /// pull-mirrored (GitLab's 400 `The project is not mirrored`).
    pub async fn get_pull_mirror(
        &self,
        project: impl Into<IdOrPath>,
    ) -> Result<Option<PullMirror>, GitLabError> {
        let p = project.into();
        let req = ApiRequest::get(
            "GET /projects/:id/mirror/pull",
            format!("projects/{}/mirror/pull", p.segment()),
        );
        match self.json(req).await {
            Ok(m) => Ok(Some(m)),
            Err(e) if is_not_mirrored(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Configure (create or change) a pull mirror (EE):
    /// `PUT /projects/:id/mirror/pull` on GitLab 17.6+, else the legacy
    /// `PUT /projects/:id` with `import_url` + `mirror`.
    pub async fn configure_pull_mirror(
        &self,
        project: impl Into<IdOrPath>,
        cfg: &PullMirrorConfig,
    ) -> Result<PullMirror, GitLabError> {
        let p = project.into();
        let req = ApiRequest::new(
            Method::PUT,
            "PUT /projects/:id/mirror/pull",
            format!("projects/{}/mirror/pull", p.segment()),
        )
        .json(cfg.api_body());
        match self.json::<PullMirror>(req).await {
            Err(e) if is_missing_route(&e) => {
                let project = self.put_project(&p, cfg.legacy_body()?).await?;
                match self.get_pull_mirror(p).await {
                    Ok(Some(m)) => Ok(m),
                    Ok(None) | Err(GitLabError::NotFound { .. }) => Ok(PullMirror {
                        id: None,
                        url: project.import_url,
                        enabled: project.mirror,
                        update_status: project.import_status,
                        last_error: None,
                        last_update_at: None,
                        last_update_started_at: None,
                        last_successful_update_at: None,
                        mirror_trigger_builds: project.mirror_trigger_builds,
                        only_mirror_protected_branches: project.only_mirror_protected_branches,
                        mirror_overwrites_diverged_branches: project
                            .mirror_overwrites_diverged_branches,
                        mirror_branch_regex: None,
                    }),
                    Err(e) => Err(e),
                }
            }
            other => other,
        }
    }

    /// Turn pull mirroring off (`enabled: false`, or legacy `mirror: false`).
    pub async fn disable_pull_mirror(
        &self,
        project: impl Into<IdOrPath>,
    ) -> Result<(), GitLabError> {
        let p = project.into();
        let req = ApiRequest::new(
            Method::PUT,
            "PUT /projects/:id/mirror/pull",
            format!("projects/{}/mirror/pull", p.segment()),
        )
        .json(json!({ "enabled": false }));
        match self.empty(req).await {
            Ok(_) => Ok(()),
            Err(e) if is_missing_route(&e) => {
                self.put_project(&p, json!({ "mirror": false })).await?;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// `POST /projects/:id/mirror/pull`: start a pull now (GitLab answers
    /// 200, documented as 202; both are success). Returns `false` when the
    /// project is not pull-mirrored.
    pub async fn start_pull_mirror(
        &self,
        project: impl Into<IdOrPath>,
    ) -> Result<bool, GitLabError> {
        let p = project.into();
        let req = ApiRequest::new(
            Method::POST,
            "POST /projects/:id/mirror/pull",
            format!("projects/{}/mirror/pull", p.segment()),
        )
        .idempotency(Idempotency::Idempotent);
        match self.empty(req).await {
            Ok(_) => Ok(true),
            Err(e) if is_not_mirrored(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn put_project(
        &self,
        p: &IdOrPath,
        body: Value,
    ) -> Result<crate::projects::Project, GitLabError> {
        let req = ApiRequest::new(
            Method::PUT,
            "PUT /projects/:id",
            format!("projects/{}", p.segment()),
        )
        .json(body);
        self.json(req).await
    }
}
