//! Project access tokens of mirrors: find by name, create, revoke.

use chrono::{DateTime, Days, NaiveDate, Utc};
use futures::TryStreamExt;
use mm_crypto::aad;
use mm_gitlab::{
    CreateAccessToken, GitLabClient, GitLabError, NewAccessToken, ProjectAccessToken, TokenState,
};

use crate::context::MirrorsContext;
use crate::item::{OpError, OpResult};
use crate::scope::Scope;

/// At most this many tokens are read from one project when looking for ours.
const TOKEN_LIST_CAP: usize = 5_000;

/// Active tokens of `project_id` whose name satisfies `wanted`.
pub(crate) async fn active_tokens(
    client: &GitLabClient,
    project_id: i64,
    wanted: impl Fn(&str) -> bool,
) -> Result<Vec<ProjectAccessToken>, GitLabError> {
    let all: Vec<ProjectAccessToken> = client
        .all_project_access_tokens(
            gitlab_id(project_id),
            Some(TokenState::Active),
            TOKEN_LIST_CAP,
        )
        .try_collect()
        .await?;
    Ok(all
        .into_iter()
        .filter(|t| t.active && !t.revoked && wanted(&t.name))
        .collect())
}

/// Expiry date of a token created now.
pub(crate) fn expiry_date(ctx: &MirrorsContext) -> NaiveDate {
    let today = Utc::now().date_naive();
    today
        .checked_add_days(Days::new(u64::from(ctx.settings.token_lifetime_days)))
        .unwrap_or(today)
}

/// When a token with `expires_at` stops working: midnight UTC of that date.
pub(crate) fn expiry_time(expires_at: Option<&str>, fallback: NaiveDate) -> DateTime<Utc> {
    let date = expires_at
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .unwrap_or(fallback);
    date.and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
}

/// Creates the mirror's token `name` on the remote project.
pub(crate) async fn create_token(
    ctx: &MirrorsContext,
    scope: &Scope,
    client: &GitLabClient,
    project_id: i64,
    name: &str,
) -> OpResult<NewAccessToken> {
    let expires = expiry_date(ctx);
    let request = CreateAccessToken {
        name: name.to_owned(),
        scopes: scope
            .token_scopes()
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
        access_level: Some(scope.token_access_level()),
        expires_at: Some(expires.format("%Y-%m-%d").to_string()),
        description: Some(format!(
            "Mirror Maestro mirror {}: {}",
            scope.id(),
            scope.label()
        )),
    };
    client
        .create_project_access_token(gitlab_id(project_id), &request)
        .await
        .map_err(|e| {
            OpError::gitlab(
                format!(
                    "creating the project access token on {} ({})",
                    scope.remote_path(),
                    scope.remote_instance().name
                ),
                e,
            )
        })
}

/// Encrypts a new token for the mirror row.
pub(crate) fn seal(
    ctx: &MirrorsContext,
    mirror_id: i64,
    token: &NewAccessToken,
) -> OpResult<String> {
    ctx.cipher
        .encrypt(token.token.expose(), &aad::mirror_token(mirror_id))
        .map_err(|e| OpError::failed(format!("cannot encrypt the mirror token: {e}")))
}

/// How a revocation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Revoked {
    Now,
    /// Already revoked, expired or deleted.
    AlreadyGone,
}

/// Revokes a token; a token that is already gone counts as revoked.
pub(crate) async fn revoke(
    client: &GitLabClient,
    project_id: i64,
    token_id: i64,
) -> Result<Revoked, GitLabError> {
    let Ok(id) = u64::try_from(token_id) else {
        return Ok(Revoked::AlreadyGone);
    };
    match client
        .revoke_project_access_token(gitlab_id(project_id), id)
        .await
    {
        Ok(()) => Ok(Revoked::Now),
        Err(e) if e.is_not_found() => Ok(Revoked::AlreadyGone),
        // GitLab answers 400 when revoking fails, e.g. for a token revoked before.
        Err(e @ GitLabError::Validation { .. }) => {
            match client
                .get_project_access_token(gitlab_id(project_id), id)
                .await
            {
                Ok(t) if t.revoked || !t.active => Ok(Revoked::AlreadyGone),
                Err(get) if get.is_not_found() => Ok(Revoked::AlreadyGone),
                _ => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

/// Revokes every active token of this mirror's name family on `project_id` except `keep`.
/// Returns the revoked ids; failures become warnings.
pub(crate) async fn revoke_family(
    ctx: &MirrorsContext,
    client: &GitLabClient,
    mirror_id: i64,
    project_id: i64,
    keep: Option<i64>,
    warnings: &mut Vec<String>,
) -> Result<Vec<i64>, GitLabError> {
    let leftovers = active_tokens(client, project_id, |name| {
        ctx.settings.is_token_family(mirror_id, name)
    })
    .await?;
    let mut revoked = vec![];
    for token in leftovers {
        let id = token.id as i64;
        if Some(id) == keep {
            continue;
        }
        match revoke(client, project_id, id).await {
            Ok(_) => revoked.push(id),
            Err(e) if e.is_retryable() => return Err(e),
            Err(e) => warnings.push(format!(
                "could not revoke leftover token {} ({}): {e}",
                token.id, token.name
            )),
        }
    }
    Ok(revoked)
}

/// A GitLab id from a stored one (stored ids come from GitLab and are never negative).
pub(crate) fn gitlab_id(id: i64) -> u64 {
    u64::try_from(id).unwrap_or_default()
}
