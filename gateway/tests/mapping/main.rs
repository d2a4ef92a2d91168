//! REST ↔ gRPC mapping against an in-memory API that follows the proto contract: update
//! masks, pagination, forwarded metadata, error mapping. Runs the gateway over real HTTP.
//!
//! Instances, pairs, auth and health here; mirrors, jobs (with the event stream) and
//! export/import in their own modules.

mod export;
#[path = "../support/fake_api.rs"]
mod fake_api;
mod jobs;
mod mirrors;
mod stack;

use reqwest::Method;
use serde_json::{Value, json};
use stack::stack;

#[tokio::test]
async fn login_bearer_and_basic() {
    let s = stack().await;
    let reply = s
        .call_as(
            None,
            Method::POST,
            "/api/auth/login",
            Some(json!({"username": fake_api::USERNAME, "password": fake_api::PASSWORD})),
        )
        .await;
    let login = reply.expect(200);
    assert_eq!(login["token_type"], "bearer");
    assert_eq!(login["expires_in"], 86_400);
    assert_eq!(login["user"]["username"], "admin");
    assert_eq!(login["user"]["created_at"], "2023-11-14T22:13:20.123456Z");
    let bearer = format!("Bearer {}", login["access_token"].as_str().unwrap());
    let me = s
        .call_as(Some(&bearer), Method::GET, "/api/auth/me", None)
        .await;
    assert_eq!(me.expect(200)["is_admin"], true);
    let me = s.call(Method::GET, "/api/auth/me", None).await;
    assert_eq!(me.expect(200)["username"], "admin");

    let reply = s
        .call_as(
            None,
            Method::POST,
            "/api/auth/login",
            Some(json!({"username": "admin", "password": "nope"})),
        )
        .await;
    reply.expect_error(401, "UNAUTHENTICATED", None);
    assert_eq!(
        reply.header("www-authenticate"),
        Some("Bearer realm=\"mirror-maestro\"")
    );
    let reply = s
        .call_as(Some("Bearer wrong"), Method::GET, "/api/instances", None)
        .await;
    reply.expect_error(401, "UNAUTHENTICATED", None);
    let reply = s.call_as(None, Method::GET, "/api/instances", None).await;
    reply.expect_error(401, "UNAUTHENTICATED", None);
    assert_eq!(
        reply.header("www-authenticate"),
        Some("Bearer realm=\"mirror-maestro\"")
    );
}

#[tokio::test]
async fn instance_crud_with_partial_updates() {
    let s = stack().await;
    let reply = s
        .call(
            Method::POST,
            "/api/instances",
            Some(json!({"name": "alpha", "url": "https://alpha.example.com", "token": "glpat-secret-token", "description": "first"})),
        )
        .await;
    assert!(!reply.text.contains("glpat-secret-token"));
    let created = reply.expect(201);
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["token_set"], true);
    assert_eq!(created["description"], "first");
    assert!(created.get("token").is_none());
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));

    let got = s
        .call(Method::GET, &format!("/api/instances/{id}"), None)
        .await;
    assert_eq!(got.expect(200)["name"], "alpha");

    // PATCH with null clears the description, and only that field is in the mask.
    let reply = s
        .call(
            Method::PATCH,
            &format!("/api/instances/{id}"),
            Some(json!({"description": null})),
        )
        .await;
    assert_eq!(reply.expect(200)["description"], "");
    assert_eq!(s.last_mask(), ["description"]);

    // PUT is partial too.
    let reply = s
        .call(
            Method::PUT,
            &format!("/api/instances/{id}"),
            Some(json!({"name": "alpha-2", "token": "glpat-new-token"})),
        )
        .await;
    assert!(!reply.text.contains("glpat-new-token"));
    let updated = reply.expect(200);
    assert_eq!(updated["name"], "alpha-2");
    assert_eq!(updated["url"], "https://alpha.example.com");
    assert_eq!(s.last_mask(), ["name", "token"]);
    assert_eq!(
        s.api.api.inner.lock().unwrap().tokens[&id],
        "glpat-new-token"
    );

    // An empty update changes nothing and does not call UpdateInstance.
    let before = s.mask_count();
    let reply = s
        .call(
            Method::PATCH,
            &format!("/api/instances/{id}"),
            Some(json!({})),
        )
        .await;
    assert_eq!(reply.expect(200)["name"], "alpha-2");
    assert_eq!(s.mask_count(), before);

    // Errors of the nested message name the REST field.
    s.instance("beta").await;
    let reply = s
        .call(
            Method::PATCH,
            &format!("/api/instances/{id}"),
            Some(json!({"name": ""})),
        )
        .await;
    reply.expect_error(400, "INVALID_ARGUMENT", Some("name"));

    let list = s.call(Method::GET, "/api/instances", None).await;
    assert_eq!(list.header("x-total-count"), Some("2"));
    assert!(!list.text.contains("glpat"));
    assert_eq!(list.expect(200).as_array().unwrap().len(), 2);

    let reply = s
        .call(Method::DELETE, &format!("/api/instances/{id}"), None)
        .await;
    let deleted = reply.expect(200);
    assert_eq!(deleted["status"], "deleted");
    assert_eq!(deleted["deleted_pair_count"], 0);
    let reply = s
        .call(Method::GET, &format!("/api/instances/{id}"), None)
        .await;
    reply.expect_error(404, "NOT_FOUND", None);
}

#[tokio::test]
async fn instance_input_errors_are_4xx_naming_the_field() {
    let s = stack().await;
    s.instance("alpha").await;
    let cases = [
        (
            json!({"name": "alpha", "url": "https://x.example.com", "token": "t"}),
            409,
            "ALREADY_EXISTS",
            "name",
        ),
        (
            json!({"name": "x", "url": "ftp://x", "token": "t"}),
            400,
            "INVALID_ARGUMENT",
            "url",
        ),
        (
            json!({"name": "", "url": "https://x.example.com", "token": "t"}),
            400,
            "INVALID_ARGUMENT",
            "name",
        ),
        (
            json!({"name": "x", "url": "https://x.example.com", "token": "t", "extra": 1}),
            422,
            "INVALID_ARGUMENT",
            "extra",
        ),
        (
            json!({"name": ["x"], "url": "https://x.example.com", "token": "t"}),
            422,
            "INVALID_ARGUMENT",
            "name",
        ),
        (
            json!({"name": "x", "url": "https://x.example.com"}),
            422,
            "INVALID_ARGUMENT",
            "token",
        ),
    ];
    for (body, status, code, field) in cases {
        let reply = s.call(Method::POST, "/api/instances", Some(body)).await;
        reply.expect_error(status, code, Some(field));
    }
}

#[tokio::test]
async fn pairs_crud_warnings_and_masks() {
    let s = stack().await;
    let a = s.instance("a").await;
    let b = s.instance("b").await;
    let reply = s
        .call(
            Method::POST,
            "/api/pairs",
            Some(json!({"name": "a-to-b", "source_instance_id": a, "target_instance_id": b, "mirror_branch_regex": "^main$"})),
        )
        .await;
    let pair = reply.expect(201);
    assert_eq!(pair["mirror_direction"], "pull");
    assert!(pair.get("warnings").is_none());
    assert!(pair.get("reverse_pair_id").is_none());
    let id = pair["id"].as_i64().unwrap();

    let reply = s
        .call(
            Method::POST,
            "/api/pairs",
            Some(json!({"name": "b-to-a", "source_instance_id": b, "target_instance_id": a, "mirror_direction": "PUSH"})),
        )
        .await;
    let reverse = reply.expect(201);
    assert_eq!(reverse["mirror_direction"], "push");
    assert_eq!(reverse["reverse_pair_id"], id);
    assert_eq!(reverse["warnings"].as_array().unwrap().len(), 1);

    // Field names of the nested gRPC message are mapped back to the REST body.
    let reply = s
        .call(
            Method::POST,
            "/api/pairs",
            Some(json!({"name": "self", "source_instance_id": a, "target_instance_id": a})),
        )
        .await;
    reply.expect_error(400, "INVALID_ARGUMENT", Some("target_instance_id"));
    let reply = s
        .call(
            Method::POST,
            "/api/pairs",
            Some(json!({"name": "ghost", "source_instance_id": a, "target_instance_id": 999})),
        )
        .await;
    reply.expect_error(404, "NOT_FOUND", Some("target_instance_id"));
    let reply = s
        .call(
            Method::POST,
            "/api/pairs",
            Some(json!({"name": "a-to-b", "source_instance_id": a, "target_instance_id": b})),
        )
        .await;
    reply.expect_error(409, "ALREADY_EXISTS", Some("name"));

    let reply = s
        .call(
            Method::PATCH,
            &format!("/api/pairs/{id}"),
            Some(json!({"mirror_branch_regex": null, "mirror_trigger_builds": true})),
        )
        .await;
    let updated = reply.expect(200);
    assert_eq!(updated["mirror_branch_regex"], Value::Null);
    assert_eq!(updated["mirror_trigger_builds"], true);
    assert_eq!(
        s.last_mask(),
        ["mirror_trigger_builds", "mirror_branch_regex"]
    );

    let list = s.call(Method::GET, "/api/pairs?direction=Push", None).await;
    let pushes = list.expect(200);
    assert_eq!(pushes.as_array().unwrap().len(), 1);
    assert_eq!(pushes[0]["name"], "b-to-a");
    let list = s
        .call(
            Method::GET,
            &format!("/api/pairs?source_instance_id={a}"),
            None,
        )
        .await;
    assert_eq!(list.expect(200)[0]["name"], "a-to-b");

    // Instances in use cannot be deleted without force.
    let reply = s
        .call(Method::DELETE, &format!("/api/instances/{a}"), None)
        .await;
    reply.expect_error(400, "FAILED_PRECONDITION", None);
    let reply = s
        .call(
            Method::DELETE,
            &format!("/api/instances/{a}?force=true"),
            None,
        )
        .await;
    assert_eq!(reply.expect(200)["deleted_pair_count"], 2);
    let reply = s.call(Method::GET, &format!("/api/pairs/{id}"), None).await;
    reply.expect_error(404, "NOT_FOUND", None);
}

#[tokio::test]
async fn pagination_by_page_number_and_token() {
    let s = stack().await;
    for name in ["i1", "i2", "i3", "i4", "i5"] {
        s.instance(name).await;
    }
    let reply = s
        .call(
            Method::GET,
            "/api/instances?per_page=2&page=2&search=i",
            None,
        )
        .await;
    assert_eq!(reply.header("x-total-count"), Some("5"));
    assert_eq!(
        reply.header("link"),
        Some("</api/instances?per_page=2&search=i&page=3>; rel=\"next\"")
    );
    let page: Vec<String> = reply
        .expect(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(page, ["i3", "i4"]);

    let reply = s
        .call(Method::GET, "/api/instances?per_page=2&page=3", None)
        .await;
    assert_eq!(reply.expect(200).as_array().unwrap().len(), 1);
    assert!(reply.header("link").is_none());
    assert!(reply.header("x-next-page-token").is_none());
    let reply = s
        .call(Method::GET, "/api/instances?per_page=2&page=9", None)
        .await;
    assert_eq!(reply.expect(200), json!([]));
    assert_eq!(reply.header("x-total-count"), Some("5"));

    let reply = s.call(Method::GET, "/api/instances?per_page=3", None).await;
    let token = reply.header("x-next-page-token").unwrap().to_owned();
    let reply = s
        .call(
            Method::GET,
            &format!("/api/instances?per_page=3&page_token={token}"),
            None,
        )
        .await;
    assert_eq!(reply.expect(200).as_array().unwrap().len(), 2);

    let reply = s
        .call(Method::GET, "/api/instances?order_by=-name", None)
        .await;
    assert_eq!(reply.expect(200)[0]["name"], "i5");
    let reply = s
        .call(Method::GET, "/api/instances?order_by=colour", None)
        .await;
    reply.expect_error(400, "INVALID_ARGUMENT", Some("order_by"));
}

#[tokio::test]
async fn request_id_and_trace_context_reach_the_api() {
    let s = stack().await;
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let response = s
        .client
        .get(format!("{}/api/instances", s.base))
        .header("authorization", &s.auth)
        .header("x-request-id", "trace-me-1")
        .header("traceparent", traceparent)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-request-id"], "trace-me-1");
    let metadata = s
        .api
        .api
        .inner
        .lock()
        .unwrap()
        .last_metadata
        .clone()
        .unwrap();
    assert_eq!(metadata.get("x-request-id").unwrap(), "trace-me-1");
    assert_eq!(metadata.get("traceparent").unwrap(), traceparent);
    assert_eq!(metadata.get("authorization").unwrap(), s.auth.as_str());
}

#[tokio::test]
async fn health_and_about() {
    let s = stack().await;
    let health = s.call(Method::GET, "/api/health", None).await.expect(200);
    assert_eq!(health["status"], "healthy", "{health}");
    let names: Vec<&str> = health["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["gateway", "api"]);
    let about = s.call(Method::GET, "/api/about", None).await.expect(200);
    assert_eq!(about["name"], "Mirror Maestro");
    assert_eq!(about["license"], "MIT");
    s.call_as(None, Method::GET, "/api/about", None)
        .await
        .expect_error(401, "UNAUTHENTICATED", None);
}
