use base64::{Engine, engine::general_purpose::STANDARD};
use jsonwebtoken::{EncodingKey, Header};
use mm_proto::v1::{self, instance_service_client::InstanceServiceClient};
use mm_storage::NewUser;
use serde_json::json;
use tonic::Code;

use crate::helpers::{Authorization, TestApp, api_tests, header};

api_tests!(
    login_returns_a_working_bearer_token,
    wrong_credentials_are_refused_with_one_message,
    calls_without_credentials_are_unauthenticated,
    forged_expired_and_unsigned_tokens_are_refused,
    disabled_users_lose_access_immediately,
    basic_credentials_are_accepted,
    repeated_login_failures_are_throttled,
);

async fn who_am_i(app: &TestApp, authorization: Authorization) -> Result<v1::User, tonic::Status> {
    app.auth_with(authorization)
        .who_am_i(v1::WhoAmIRequest {})
        .await
        .map(|response| response.into_inner().user.expect("user"))
}

async fn login(
    app: &TestApp,
    username: &str,
    password: &str,
) -> Result<v1::LoginResponse, tonic::Status> {
    app.anonymous_auth()
        .login(v1::LoginRequest {
            username: username.to_owned(),
            password: password.to_owned(),
        })
        .await
        .map(tonic::Response::into_inner)
}

fn signed(secret: &str, claims: serde_json::Value) -> String {
    jsonwebtoken::encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

async fn create_user(app: &TestApp, username: &str, password: &str) -> i64 {
    let password = password.to_owned();
    let hash = tokio::task::spawn_blocking(move || mm_crypto::password::hash_password(&password))
        .await
        .unwrap()
        .unwrap();
    app.api
        .ctx
        .storage()
        .create_user(&NewUser {
            username: username.to_owned(),
            email: None,
            password_hash: hash,
            is_admin: false,
            is_active: true,
        })
        .await
        .unwrap()
        .id
}

async fn login_returns_a_working_bearer_token(app: TestApp) {
    let response = login(&app, &app.api.admin_username, &app.api.admin_password)
        .await
        .unwrap();
    assert_eq!(response.token_type, "bearer");
    assert_eq!(response.expires_in, 24 * 3600);
    let user = response.user.unwrap();
    assert_eq!(user.username, "admin");
    assert!(user.is_admin && user.is_active);

    let me = who_am_i(&app, header(&format!("Bearer {}", response.access_token)))
        .await
        .unwrap();
    assert_eq!(me.id, user.id);
    assert_eq!(me.username, "admin");
    // The scheme is case-insensitive.
    who_am_i(&app, header(&format!("bearer {}", response.access_token)))
        .await
        .unwrap();
}

async fn wrong_credentials_are_refused_with_one_message(app: TestApp) {
    let wrong_password = login(&app, "admin", "not-the-password").await.unwrap_err();
    let unknown_user = login(&app, "nobody", "whatever-password")
        .await
        .unwrap_err();
    for status in [&wrong_password, &unknown_user] {
        assert_eq!(status.code(), Code::Unauthenticated);
        assert_eq!(status.message(), "incorrect username or password");
    }
    let empty = login(&app, "", "").await.unwrap_err();
    crate::helpers::assert_field(&empty, Code::InvalidArgument, "username");
    crate::helpers::assert_field(&empty, Code::InvalidArgument, "password");
}

async fn calls_without_credentials_are_unauthenticated(app: TestApp) {
    let status = who_am_i(&app, Authorization(None)).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    let mut instances = InstanceServiceClient::new(app.channel.clone());
    let status = instances
        .list_instances(v1::ListInstancesRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    let status = who_am_i(&app, header("Token abc")).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
}

async fn forged_expired_and_unsigned_tokens_are_refused(app: TestApp) {
    let admin_id = who_am_i(&app, app.bearer()).await.unwrap().id;
    let now = chrono::Utc::now().timestamp();
    let secret = app.api.jwt_secret.clone();
    let cases = [
        (
            "wrong signature",
            signed(
                "another-secret-of-sufficient-length!!",
                json!({"sub": admin_id.to_string(), "username": "admin", "iat": now, "exp": now + 3600}),
            ),
        ),
        (
            "no exp",
            signed(
                &secret,
                json!({"sub": admin_id.to_string(), "username": "admin", "iat": now}),
            ),
        ),
        (
            "expired",
            signed(
                &secret,
                json!({"sub": admin_id.to_string(), "username": "admin", "iat": now - 7200, "exp": now - 3600}),
            ),
        ),
        (
            "unknown user",
            signed(
                &secret,
                json!({"sub": "999999", "username": "ghost", "iat": now, "exp": now + 3600}),
            ),
        ),
        (
            "no sub",
            signed(
                &secret,
                json!({"username": "admin", "iat": now, "exp": now + 3600}),
            ),
        ),
        ("garbage", "not.a.jwt".to_owned()),
    ];
    for (case, token) in cases {
        let status = who_am_i(&app, header(&format!("Bearer {token}")))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "{case}");
        assert_eq!(status.message(), "invalid or expired token", "{case}");
    }
    // The same claims signed correctly work, so the cases above failed for their flaw only.
    let valid = signed(
        &secret,
        json!({"sub": admin_id.to_string(), "username": "admin", "iat": now, "exp": now + 3600}),
    );
    who_am_i(&app, header(&format!("Bearer {valid}")))
        .await
        .unwrap();
}

async fn disabled_users_lose_access_immediately(app: TestApp) {
    let user_id = create_user(&app, "carol", "carol-password-1").await;
    let token = login(&app, "carol", "carol-password-1")
        .await
        .unwrap()
        .access_token;
    let basic = format!("Basic {}", STANDARD.encode("carol:carol-password-1"));
    who_am_i(&app, header(&format!("Bearer {token}")))
        .await
        .unwrap();
    who_am_i(&app, header(&basic)).await.unwrap();

    assert!(
        app.api
            .ctx
            .storage()
            .set_user_active(user_id, false)
            .await
            .unwrap()
    );
    let status = who_am_i(&app, header(&format!("Bearer {token}")))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(status.message(), "invalid or expired token");
    // Cached Basic credentials do not outlive the account either.
    let status = who_am_i(&app, header(&basic)).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    // The account state is only revealed with the right password.
    let status = login(&app, "carol", "carol-password-1").await.unwrap_err();
    assert_eq!(status.message(), "user account is disabled");
    let status = login(&app, "carol", "wrong-password").await.unwrap_err();
    assert_eq!(status.message(), "incorrect username or password");
}

async fn basic_credentials_are_accepted(app: TestApp) {
    let credentials = STANDARD.encode(format!("admin:{}", app.api.admin_password));
    let authorization = header(&format!("Basic {credentials}"));
    // Twice: the second call is served from the verification cache.
    for _ in 0..2 {
        let me = who_am_i(&app, authorization.clone()).await.unwrap();
        assert_eq!(me.username, "admin");
    }
    let mut instances = InstanceServiceClient::with_interceptor(app.channel.clone(), authorization);
    instances
        .list_instances(v1::ListInstancesRequest::default())
        .await
        .unwrap();

    let wrong = header(&format!("Basic {}", STANDARD.encode("admin:wrong")));
    let status = who_am_i(&app, wrong).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(status.message(), "incorrect username or password");
    let status = who_am_i(&app, header("Basic %%%")).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
}

async fn repeated_login_failures_are_throttled(app: TestApp) {
    create_user(&app, "dave", "dave-password-1").await;
    for _ in 0..10 {
        let status = login(&app, "dave", "wrong").await.unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated);
    }
    // Even the right password waits until the window has passed.
    let status = login(&app, "dave", "dave-password-1").await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted);
    // Other users are unaffected.
    login(&app, &app.api.admin_username, &app.api.admin_password)
        .await
        .unwrap();
}
