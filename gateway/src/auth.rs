//! `/api/auth`: log-in and the current user. Credentials are checked by the API service; the
//! gateway forwards the `Authorization` header unchanged.

use axum::extract::State;
use chrono::{DateTime, Utc};
use mm_proto::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    GatewayState, common, common::missing, errors::GatewayError, extract::Json, grpc::Forward,
};

/// A Mirror Maestro user.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub is_admin: bool,
    pub is_active: bool,
    #[serde(serialize_with = "common::serialize_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub created_at: Option<DateTime<Utc>>,
}

impl From<pb::User> for User {
    fn from(u: pb::User) -> Self {
        Self {
            created_at: common::timestamp(u.create_time.as_ref()),
            id: u.id,
            username: u.username,
            email: u.email,
            is_admin: u.is_admin,
            is_active: u.is_active,
        }
    }
}

/// Body of `POST /api/auth/login`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(min_length = 1, max_length = 100, example = "admin")]
    pub username: String,
    #[schema(format = Password, min_length = 1, max_length = 1024)]
    pub password: String,
}

/// A bearer token for the `Authorization: Bearer …` header.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginResponse {
    pub access_token: String,
    /// Always `bearer`.
    #[schema(example = "bearer")]
    pub token_type: String,
    /// Lifetime of the token in seconds.
    pub expires_in: i64,
    pub user: User,
}

/// Log in.
///
/// Exchanges a username and password for a JWT. Needs no authentication.
#[utoipa::path(
    post, path = "/api/auth/login", tag = "auth", operation_id = "login",
    request_body = LoginRequest,
    responses((status = 200, description = "Logged in", body = LoginResponse))
)]
pub async fn login(
    State(state): State<GatewayState>,
    forward: Forward,
    Json(body): Json<LoginRequest>,
) -> Result<Json<LoginResponse>, GatewayError> {
    let request = forward.request(pb::LoginRequest {
        username: body.username,
        password: body.password,
    });
    let response = state.api().auth().login(request).await?.into_inner();
    let user = response.user.ok_or_else(missing("user"))?;
    Ok(Json(LoginResponse {
        access_token: response.access_token,
        token_type: if response.token_type.is_empty() {
            "bearer".into()
        } else {
            response.token_type.to_ascii_lowercase()
        },
        expires_in: response.expires_in,
        user: user.into(),
    }))
}

/// The current user.
#[utoipa::path(
    get, path = "/api/auth/me", tag = "auth", operation_id = "me",
    responses((status = 200, description = "The authenticated user", body = User)),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn me(
    State(state): State<GatewayState>,
    forward: Forward,
) -> Result<Json<User>, GatewayError> {
    who_am_i(&state, &forward).await.map(Json)
}

/// Authenticates the request against the API service and returns the user.
pub async fn who_am_i(state: &GatewayState, forward: &Forward) -> Result<User, GatewayError> {
    if !forward.has_credentials() {
        // Save the round trip: the API service would answer the same.
        return Err(GatewayError::unauthenticated("authentication required"));
    }
    let response = state
        .api()
        .auth()
        .who_am_i(forward.request(pb::WhoAmIRequest {}))
        .await?
        .into_inner();
    Ok(response.user.ok_or_else(missing("user"))?.into())
}
