//! Authentication: bearer JWTs and HTTP Basic credentials, checked for every RPC except
//! `AuthService/Login`, health and reflection.
//!
//! Nothing here logs a token, password or `authorization` header.

mod jwt;
mod limits;
mod service;

use std::{sync::Arc, time::Duration};

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::Response,
};
use base64::{Engine, engine::general_purpose::STANDARD};
use mm_common::{ApiError, ErrorCode};
use mm_storage::{Storage, User};

pub(crate) use service::AuthServiceImpl;

use crate::errors::internal;
use jwt::JwtKeys;
use limits::{BasicCache, FailureLimiter};

const INVALID_TOKEN: &str = "invalid or expired token";
const INCORRECT_CREDENTIALS: &str = "incorrect username or password";
const DISABLED_ACCOUNT: &str = "user account is disabled";

/// The authenticated caller, available to handlers through the request extensions.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: User,
}

/// Verifies credentials and issues access tokens.
pub struct Authenticator {
    storage: Arc<dyn Storage>,
    jwt: JwtKeys,
    failures: FailureLimiter,
    basic_cache: BasicCache,
}

impl Authenticator {
    /// An authenticator signing tokens with `jwt_secret` that live for `token_ttl`.
    pub fn new(storage: Arc<dyn Storage>, jwt_secret: &[u8], token_ttl: Duration) -> Self {
        Self {
            storage,
            jwt: JwtKeys::new(jwt_secret, token_ttl),
            failures: FailureLimiter::default(),
            basic_cache: BasicCache::default(),
        }
    }

    /// Lifetime of issued tokens.
    pub fn token_ttl(&self) -> Duration {
        self.jwt.ttl()
    }

    /// An access token for `user`.
    pub fn issue_token(&self, user: &User) -> Result<String, ApiError> {
        self.jwt
            .issue(user.id, &user.username)
            .map_err(|error| internal("signing an access token failed", error))
    }

    /// Checks a username and password (for `Login` and Basic credentials).
    ///
    /// Unknown users cost the same argon2 time as known ones, the account state is revealed
    /// only after a correct password, and repeated failures for one username are throttled.
    pub async fn verify_password(&self, username: &str, password: &str) -> Result<User, ApiError> {
        if let Err(wait_seconds) = self.failures.check(username) {
            return Err(ApiError::new(
                ErrorCode::ResourceExhausted,
                format!("too many failed attempts for this user; retry in {wait_seconds} s"),
            ));
        }
        let user = self
            .storage
            .get_user_by_username(username)
            .await
            .map_err(|error| internal("loading a user failed", error))?;
        let password = password.to_owned();
        let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
        let matches = tokio::task::spawn_blocking(move || match stored_hash {
            Some(hash) => mm_crypto::password::verify_password(&password, &hash),
            None => mm_crypto::password::dummy_verify(&password),
        })
        .await
        .map_err(|error| internal("password verification task failed", error))?;
        match user {
            Some(user) if matches => {
                self.failures.record_success(username);
                if user.is_active {
                    Ok(user)
                } else {
                    Err(ApiError::unauthenticated(DISABLED_ACCOUNT))
                }
            }
            _ => {
                self.failures.record_failure(username);
                tracing::info!(username = %sanitize(username), "failed password check");
                Err(ApiError::unauthenticated(INCORRECT_CREDENTIALS))
            }
        }
    }

    /// The caller identified by an `authorization` header value.
    pub async fn authenticate(&self, authorization: Option<&str>) -> Result<Principal, ApiError> {
        let Some(header) = authorization.map(str::trim).filter(|h| !h.is_empty()) else {
            return Err(ApiError::unauthenticated(
                "missing credentials: send `authorization: Bearer <token>`",
            ));
        };
        let (scheme, credentials) = header.split_once(' ').unwrap_or((header, ""));
        let credentials = credentials.trim();
        if scheme.eq_ignore_ascii_case("bearer") {
            self.authenticate_bearer(credentials).await
        } else if scheme.eq_ignore_ascii_case("basic") {
            self.authenticate_basic(header, credentials).await
        } else {
            Err(ApiError::unauthenticated(
                "unsupported authorization scheme; use Bearer or Basic",
            ))
        }
    }

    async fn authenticate_bearer(&self, token: &str) -> Result<Principal, ApiError> {
        let claims = self
            .jwt
            .verify(token)
            .ok_or_else(|| ApiError::unauthenticated(INVALID_TOKEN))?;
        let user_id: i64 = claims
            .sub
            .parse()
            .map_err(|_| ApiError::unauthenticated(INVALID_TOKEN))?;
        let user = self
            .active_user(user_id, INVALID_TOKEN, INVALID_TOKEN)
            .await?;
        if user.username != claims.username {
            return Err(ApiError::unauthenticated(INVALID_TOKEN));
        }
        Ok(Principal { user })
    }

    async fn authenticate_basic(&self, header: &str, encoded: &str) -> Result<Principal, ApiError> {
        let digest = mm_crypto::sha256(header.as_bytes());
        if let Some(user_id) = self.basic_cache.get(&digest) {
            let user = self
                .active_user(user_id, INCORRECT_CREDENTIALS, DISABLED_ACCOUNT)
                .await?;
            return Ok(Principal { user });
        }
        let decoded = STANDARD
            .decode(encoded)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| ApiError::unauthenticated("malformed Basic credentials"))?;
        let (username, password) = decoded
            .split_once(':')
            .ok_or_else(|| ApiError::unauthenticated("malformed Basic credentials"))?;
        let user = self.verify_password(username, password).await?;
        self.basic_cache.insert(digest, user.id);
        Ok(Principal { user })
    }

    /// The user, if it still exists and is active; tokens of deleted or disabled users stop
    /// working at once.
    async fn active_user(
        &self,
        user_id: i64,
        when_missing: &str,
        when_disabled: &str,
    ) -> Result<User, ApiError> {
        let user = self
            .storage
            .get_user(user_id)
            .await
            .map_err(|error| internal("loading a user failed", error))?;
        match user {
            Some(user) if user.is_active => Ok(user),
            Some(_) => Err(ApiError::unauthenticated(when_disabled)),
            None => Err(ApiError::unauthenticated(when_missing)),
        }
    }
}

/// Whether a request path needs credentials: every `mirrormaestro.*` RPC except `Login`.
/// Health, reflection and unknown paths (answered 404) do not.
fn requires_authentication(path: &str) -> bool {
    path.starts_with("/mirrormaestro.") && path != "/mirrormaestro.v1.AuthService/Login"
}

/// Middleware: authenticates protected RPCs and stores the [`Principal`] in the request
/// extensions (tonic hands them to the handler); failures become gRPC `UNAUTHENTICATED`.
pub(crate) async fn require_authentication(
    State(authenticator): State<Arc<Authenticator>>,
    mut request: Request,
    next: Next,
) -> Response {
    if !requires_authentication(request.uri().path()) {
        return next.run(request).await;
    }
    let header = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    match authenticator.authenticate(header).await {
        Ok(principal) => {
            request.extensions_mut().insert(principal);
            next.run(request).await
        }
        Err(error) => error.to_status().into_http(),
    }
}

/// The principal stored by the middleware.
pub(crate) fn principal<T>(request: &tonic::Request<T>) -> Result<&Principal, ApiError> {
    request
        .extensions()
        .get::<Principal>()
        .ok_or_else(|| ApiError::unauthenticated("missing credentials"))
}

/// A username fit for logs: control characters escaped, at most 50 characters.
fn sanitize(username: &str) -> String {
    username
        .chars()
        .take(50)
        .flat_map(char::escape_default)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_api_rpcs_except_login_need_credentials() {
        assert!(requires_authentication(
            "/mirrormaestro.v1.InstanceService/ListInstances"
        ));
        assert!(requires_authentication(
            "/mirrormaestro.v1.AuthService/WhoAmI"
        ));
        assert!(!requires_authentication(
            "/mirrormaestro.v1.AuthService/Login"
        ));
        assert!(!requires_authentication("/grpc.health.v1.Health/Check"));
        assert!(!requires_authentication(
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
        ));
    }

    #[test]
    fn usernames_are_sanitized_for_logs() {
        assert_eq!(sanitize("bob\n"), "bob\\n");
        assert_eq!(sanitize(&"x".repeat(80)).len(), 50);
    }
}
