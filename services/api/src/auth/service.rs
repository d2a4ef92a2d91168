//! `mirrormaestro.v1.AuthService`.

use std::sync::Arc;

use mm_common::ApiError;
use mm_proto::v1::{self, auth_service_server::AuthService};
use tonic::{Request, Response, Status};

use super::{Authenticator, principal};
use crate::{convert, validation::Violations};

pub(crate) struct AuthServiceImpl {
    authenticator: Arc<Authenticator>,
}

impl AuthServiceImpl {
    pub(crate) fn new(authenticator: Arc<Authenticator>) -> Self {
        Self { authenticator }
    }
}

#[tonic::async_trait]
impl AuthService for AuthServiceImpl {
    async fn login(
        &self,
        request: Request<v1::LoginRequest>,
    ) -> Result<Response<v1::LoginResponse>, Status> {
        let request = request.into_inner();
        let mut violations = Violations::default();
        if request.username.is_empty() {
            violations.push("username", "must not be empty");
        }
        if request.password.is_empty() {
            violations.push("password", "must not be empty");
        }
        violations.finish()?;

        let user = self
            .authenticator
            .verify_password(&request.username, &request.password)
            .await?;
        let access_token = self.authenticator.issue_token(&user)?;
        let expires_in = i64::try_from(self.authenticator.token_ttl().as_secs())
            .map_err(|_| ApiError::internal())?;
        Ok(Response::new(v1::LoginResponse {
            access_token,
            token_type: "bearer".to_owned(),
            expires_in,
            user: Some(convert::user(&user)),
        }))
    }

    async fn who_am_i(
        &self,
        request: Request<v1::WhoAmIRequest>,
    ) -> Result<Response<v1::WhoAmIResponse>, Status> {
        let principal = principal(&request)?;
        Ok(Response::new(v1::WhoAmIResponse {
            user: Some(convert::user(&principal.user)),
        }))
    }
}
