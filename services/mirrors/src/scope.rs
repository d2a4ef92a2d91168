//! A mirror with everything around it: pair, instances, effective settings, and which side
//! owns the GitLab mirror and which side holds the token.

use mm_crypto::aad;
use mm_gitlab::{GitLabClient, SecretToken, SecretUrl};
use mm_storage::{Instance, Mirror, MirrorDirection, Pair};
use serde_json::{Value, json};

use crate::context::MirrorsContext;
use crate::item::{OpError, OpResult};

/// User name put into mirror URLs (GitLab ignores it for token authentication).
pub(crate) const URL_USER: &str = "oauth2";

/// The settings a mirror has in GitLab: the pair's defaults overridden by the mirror's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Effective {
    pub enabled: bool,
    pub overwrite_diverged: bool,
    /// Pull mirrors only.
    pub trigger_builds: bool,
    pub only_protected: bool,
    /// `None` when unset (GitLab treats `""` the same). Never set together with
    /// `only_protected` (GitLab refuses the combination; protected-only wins).
    pub branch_regex: Option<String>,
}

impl Effective {
    pub fn of(pair: &Pair, mirror: &Mirror) -> Self {
        let o = &mirror.overrides;
        let only_protected = o
            .only_mirror_protected_branches
            .unwrap_or(pair.only_mirror_protected_branches);
        let regex = o
            .mirror_branch_regex
            .clone()
            .or_else(|| pair.mirror_branch_regex.clone())
            .filter(|r| !r.is_empty());
        Effective {
            enabled: mirror.enabled,
            overwrite_diverged: o
                .mirror_overwrite_diverged
                .unwrap_or(pair.mirror_overwrite_diverged),
            trigger_builds: o
                .mirror_trigger_builds
                .unwrap_or(pair.mirror_trigger_builds),
            only_protected,
            branch_regex: if only_protected { None } else { regex },
        }
    }

    /// Whether the operator asked for both protected-only and a regex (the regex is dropped).
    pub fn regex_dropped(pair: &Pair, mirror: &Mirror) -> bool {
        let o = &mirror.overrides;
        let only_protected = o
            .only_mirror_protected_branches
            .unwrap_or(pair.only_mirror_protected_branches);
        let regex = o
            .mirror_branch_regex
            .as_deref()
            .or(pair.mirror_branch_regex.as_deref())
            .filter(|r| !r.is_empty());
        only_protected && regex.is_some()
    }

    pub fn to_json(&self, direction: MirrorDirection) -> Value {
        let mut v = json!({
            "enabled": self.enabled,
            "only_protected_branches": self.only_protected,
            "overwrite_diverged": self.overwrite_diverged,
            "mirror_branch_regex": self.branch_regex,
        });
        if direction == MirrorDirection::Pull {
            v["trigger_builds"] = json!(self.trigger_builds);
        }
        v
    }
}

/// A mirror row with its pair and both instances.
#[derive(Debug, Clone)]
pub(crate) struct Scope {
    pub mirror: Mirror,
    pub pair: Pair,
    pub source: Instance,
    pub target: Instance,
}

impl Scope {
    /// Loads the mirror and what it belongs to. `Ok(None)` when the mirror row is gone; a
    /// missing pair or instance is an error (the cascade would have removed the mirror).
    pub async fn load(ctx: &MirrorsContext, mirror_id: i64) -> OpResult<Option<Scope>> {
        let Some(mirror) = ctx.storage.get_mirror(mirror_id).await? else {
            return Ok(None);
        };
        let pair = ctx.storage.get_pair(mirror.pair_id).await?.ok_or_else(|| {
            OpError::failed(format!(
                "pair {} of mirror {mirror_id} no longer exists",
                mirror.pair_id
            ))
        })?;
        let source = load_instance(ctx, pair.source_instance_id).await?;
        let target = load_instance(ctx, pair.target_instance_id).await?;
        Ok(Some(Scope {
            mirror,
            pair,
            source,
            target,
        }))
    }

    pub fn id(&self) -> i64 {
        self.mirror.id
    }

    pub fn direction(&self) -> MirrorDirection {
        self.pair.mirror_direction
    }

    pub fn is_push(&self) -> bool {
        self.direction() == MirrorDirection::Push
    }

    pub fn effective(&self) -> Effective {
        Effective::of(&self.pair, &self.mirror)
    }

    /// The instance whose project holds the GitLab mirror (push: source, pull: target).
    pub fn owner_instance(&self) -> &Instance {
        if self.is_push() {
            &self.source
        } else {
            &self.target
        }
    }

    /// The project that holds the GitLab mirror, once known.
    pub fn owner_project_id(&self) -> Option<i64> {
        if self.is_push() {
            self.mirror.source_project_id
        } else {
            self.mirror.target_project_id
        }
    }

    /// The instance whose project the mirror reads or writes with its token (push: target,
    /// pull: source).
    pub fn remote_instance(&self) -> &Instance {
        if self.is_push() {
            &self.target
        } else {
            &self.source
        }
    }

    /// Path of the remote project (push: target, pull: source).
    pub fn remote_path(&self) -> &str {
        if self.is_push() {
            &self.mirror.target_project_path
        } else {
            &self.mirror.source_project_path
        }
    }

    /// The project the token belongs to: the recorded one, else the remote project's id.
    pub fn token_project_id(&self) -> Option<i64> {
        self.mirror.token_project_id.or(if self.is_push() {
            self.mirror.target_project_id
        } else {
            self.mirror.source_project_id
        })
    }

    /// Scopes of the mirror token: push writes the target, pull reads the source.
    pub fn token_scopes(&self) -> &'static [&'static str] {
        if self.is_push() {
            &["write_repository"]
        } else {
            &["read_repository"]
        }
    }

    /// Role of the token's bot user: a push must be allowed to update protected branches
    /// (Maintainer); a pull only reads (Reporter).
    pub fn token_access_level(&self) -> u32 {
        if self.is_push() {
            mm_gitlab::access_level::MAINTAINER
        } else {
            mm_gitlab::access_level::REPORTER
        }
    }

    /// The remote repository's HTTP(S) URL without credentials.
    pub fn remote_repo_url(&self) -> OpResult<String> {
        repo_url(&self.remote_instance().url, self.remote_path())
    }

    /// The remote repository's URL with the token as credentials.
    pub fn remote_repo_url_with(&self, token: &SecretToken) -> OpResult<SecretUrl> {
        let plain = self.remote_repo_url()?;
        SecretUrl::with_credentials(&plain, URL_USER, token)
            .map_err(|e| OpError::failed(format!("cannot build the mirror URL: {e}")))
    }

    pub fn owner_client(&self, ctx: &MirrorsContext) -> OpResult<GitLabClient> {
        Ok(ctx.clients.client(self.owner_instance())?)
    }

    pub fn remote_client(&self, ctx: &MirrorsContext) -> OpResult<GitLabClient> {
        Ok(ctx.clients.client(self.remote_instance())?)
    }

    /// The mirror's token in clear, when one is recorded.
    pub fn mirror_token(&self, ctx: &MirrorsContext) -> OpResult<Option<SecretToken>> {
        let Some(sealed) = &self.mirror.encrypted_mirror_token else {
            return Ok(None);
        };
        let clear = ctx
            .cipher
            .decrypt(sealed, &aad::mirror_token(self.mirror.id))
            .map_err(|e| {
                OpError::failed(format!(
                    "the token of mirror {} cannot be decrypted ({e}); rotate the token",
                    self.mirror.id
                ))
            })?;
        Ok(Some(SecretToken::new(clear)))
    }

    /// `group/app → mirror/app (push)` for messages.
    pub fn label(&self) -> String {
        format!(
            "{} → {} ({})",
            self.mirror.source_project_path,
            self.mirror.target_project_path,
            self.direction().as_str()
        )
    }
}

async fn load_instance(ctx: &MirrorsContext, id: i64) -> OpResult<Instance> {
    ctx.storage
        .get_instance(id)
        .await?
        .ok_or_else(|| OpError::failed(format!("instance {id} no longer exists")))
}

/// `https://host[/prefix]/<path>.git` from an instance URL (with or without `/api/v4`).
pub(crate) fn repo_url(instance_url: &str, project_path: &str) -> OpResult<String> {
    let mut url = url::Url::parse(instance_url.trim())
        .map_err(|e| OpError::failed(format!("instance URL {instance_url:?}: {e}")))?;
    let base = url.path().trim_end_matches('/');
    let base = base.strip_suffix("/api/v4").unwrap_or(base).to_owned();
    let path = project_path.trim_matches('/');
    url.set_path(&format!("{base}/{path}.git"));
    url.set_query(None);
    url.set_fragment(None);
    let _ = url.set_username("");
    let _ = url.set_password(None);
    Ok(url.to_string())
}

/// A URL reduced to what identifies a repository: scheme, host, port and path, without
/// credentials (GitLab masks them anyway), lower-case host, no trailing slash.
pub(crate) fn url_identity(url: &str) -> Option<String> {
    let mut parsed = url::Url::parse(url.trim()).ok()?;
    let _ = parsed.set_username("");
    let _ = parsed.set_password(None);
    parsed.set_query(None);
    parsed.set_fragment(None);
    let path = parsed.path().trim_end_matches('/').to_owned();
    let path = if path.ends_with(".git") {
        path
    } else {
        format!("{path}.git")
    };
    Some(format!(
        "{}://{}{}{}",
        parsed.scheme(),
        parsed.host_str()?.to_ascii_lowercase(),
        parsed
            .port_or_known_default()
            .map(|p| format!(":{p}"))
            .unwrap_or_default(),
        path
    ))
}

/// Whether two repository URLs (masked or not) name the same repository.
pub(crate) fn same_repo(a: &str, b: &str) -> bool {
    match (url_identity(a), url_identity(b)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// An RFC 3339 timestamp from GitLab.
pub(crate) fn parse_time(value: Option<&str>) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(value?)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_urls() {
        assert_eq!(
            repo_url("http://127.0.0.1:8080", "g/p").unwrap(),
            "http://127.0.0.1:8080/g/p.git"
        );
        assert_eq!(
            repo_url("https://gl.example.com/gitlab/api/v4/", "/g/sub/p/").unwrap(),
            "https://gl.example.com/gitlab/g/sub/p.git"
        );
    }

    #[test]
    fn identities() {
        assert!(same_repo(
            "http://*****:*****@127.0.0.1:8080/g/p.git",
            "http://127.0.0.1:8080/g/p.git"
        ));
        assert!(same_repo(
            "https://oauth2:glpat-x@GL.example.com/g/p.git",
            "https://gl.example.com:443/g/p"
        ));
        assert!(!same_repo(
            "http://127.0.0.1:8080/g/p.git",
            "http://127.0.0.1:8081/g/p.git"
        ));
        assert!(!same_repo("not a url", "not a url"));
    }
}
