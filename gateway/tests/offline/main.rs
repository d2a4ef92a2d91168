//! Gateway behaviour that needs no API service: routing, JSON errors, input rejections,
//! middleware and the OpenAPI document. The API URL points at a closed port, so any call that
//! reaches the API fails with 503.

use std::collections::BTreeSet;

use axum::{Router, body::Body};
use http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use mm_gateway::{GatewayState, HttpSettings};
use serde_json::{Value, json};
use tower::ServiceExt;

const BASIC: &str = "Basic YWRtaW46c2VjcmV0LXBhc3N3b3Jk";

fn app_with(cors: &[&str], body_limit: usize) -> Router {
    // Port 1 on loopback: connection refused, immediately.
    let state = GatewayState::new(
        "http://127.0.0.1:1",
        HttpSettings {
            cors_origins: cors.iter().map(|s| s.to_string()).collect(),
            body_limit,
            request_timeout: std::time::Duration::from_secs(10),
        },
    )
    .unwrap();
    mm_gateway::app(state)
}

fn app() -> Router {
    app_with(&[], mm_gateway::DEFAULT_BODY_LIMIT)
}

struct Reply {
    status: StatusCode,
    headers: http::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("missing header {name}"))
            .to_str()
            .unwrap()
    }

    /// Asserts the common error body shape and returns it.
    fn error(&self, status: u16, code: &str) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        assert!(
            self.header("content-type").starts_with("application/json"),
            "content-type {}",
            self.header("content-type")
        );
        let body = self.json();
        assert_eq!(body["code"], code, "{body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert_eq!(body["detail"], body["message"]);
        assert!(body["field_violations"].is_array());
        assert_eq!(body["request_id"], self.header("x-request-id"));
        body
    }
}

async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn json_request(method: Method, uri: &str, body: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, BASIC)
        .body(Body::from(body.to_owned()))
        .unwrap()
}

fn field(body: &Value) -> &str {
    body["field_violations"][0]["field"].as_str().unwrap()
}

#[tokio::test]
async fn quick_health_needs_nothing() {
    let reply = send(&app(), get("/api/health/quick")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), json!({"status": "ok"}));
}

#[tokio::test]
async fn unknown_routes_are_json_404() {
    let app = app();
    for uri in [
        "/api/nope",
        "/api/instances/1/nope",
        "/nope",
        "/api/instances/",
    ] {
        let reply = send(&app, get(uri)).await;
        reply.error(404, "NOT_FOUND");
        assert_eq!(reply.header("x-frame-options"), "DENY");
    }
}

#[tokio::test]
async fn wrong_methods_are_json_405_with_allow() {
    let app = app();
    let reply = send(
        &app,
        Request::delete("/api/instances")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    reply.error(405, "METHOD_NOT_ALLOWED");
    let allow = reply.header("allow");
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    let reply = send(
        &app,
        Request::post("/api/health/quick")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    reply.error(405, "METHOD_NOT_ALLOWED");
}

#[tokio::test]
async fn security_headers_are_on_every_response() {
    let app = app();
    for uri in [
        "/",
        "/api/health/quick",
        "/api/nope",
        "/api/openapi.json",
        "/api/docs/",
    ] {
        let reply = send(&app, get(uri)).await;
        assert_eq!(reply.header("x-frame-options"), "DENY", "{uri}");
        assert_eq!(reply.header("x-content-type-options"), "nosniff");
        assert_eq!(
            reply.header("referrer-policy"),
            "strict-origin-when-cross-origin"
        );
        let csp = reply.header("content-security-policy");
        assert!(csp.starts_with("default-src 'self'"), "{csp}");
        assert!(!csp.contains("http"), "no CDN in the CSP: {csp}");
        assert!(reply.header("permissions-policy").contains("camera=()"));
    }
}

#[tokio::test]
async fn request_ids_are_accepted_generated_and_returned() {
    let app = app();
    let reply = send(
        &app,
        Request::get("/api/nope")
            .header("x-request-id", "client-id-42")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(reply.header("x-request-id"), "client-id-42");
    assert_eq!(reply.json()["request_id"], "client-id-42");

    let reply = send(
        &app,
        Request::get("/api/health/quick")
            .header("x-request-id", "bad id <script>")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let generated = reply.header("x-request-id");
    assert_ne!(generated, "bad id <script>");
    assert!(uuid::Uuid::parse_str(generated).is_ok(), "{generated}");

    let first = send(&app, get("/api/health/quick")).await;
    let second = send(&app, get("/api/health/quick")).await;
    assert_ne!(first.header("x-request-id"), second.header("x-request-id"));
}

#[tokio::test]
async fn json_bodies_are_checked_before_calling_the_api() {
    let app = app();
    // Malformed JSON.
    let reply = send(
        &app,
        json_request(Method::POST, "/api/instances", "{\"name\": "),
    )
    .await;
    reply.error(400, "INVALID_ARGUMENT");
    // Unknown field.
    let body = r#"{"name":"a","url":"https://gitlab.example.com","token":"t","colour":"red"}"#;
    let reply = send(&app, json_request(Method::POST, "/api/instances", body)).await;
    let error = reply.error(422, "INVALID_ARGUMENT");
    assert_eq!(field(&error), "colour");
    // Wrong type.
    let body = r#"{"name":5,"url":"https://gitlab.example.com","token":"t"}"#;
    let reply = send(&app, json_request(Method::POST, "/api/instances", body)).await;
    assert_eq!(field(&reply.error(422, "INVALID_ARGUMENT")), "name");
    // Missing required field.
    let body = r#"{"name":"a","url":"https://gitlab.example.com"}"#;
    let reply = send(&app, json_request(Method::POST, "/api/instances", body)).await;
    let error = reply.error(422, "INVALID_ARGUMENT");
    assert_eq!(field(&error), "token");
    assert_eq!(error["message"], "token: is required");
    // Not an object.
    let reply = send(&app, json_request(Method::POST, "/api/pairs", "[1,2]")).await;
    assert_eq!(field(&reply.error(422, "INVALID_ARGUMENT")), "body");
    // Bad enum value.
    let body = r#"{"name":"p","source_instance_id":1,"target_instance_id":2,"mirror_direction":"sideways"}"#;
    let reply = send(&app, json_request(Method::POST, "/api/pairs", body)).await;
    assert_eq!(
        field(&reply.error(422, "INVALID_ARGUMENT")),
        "mirror_direction"
    );
    // null where a value is required in a partial update.
    let reply = send(
        &app,
        json_request(Method::PATCH, "/api/pairs/1", r#"{"name":null}"#),
    )
    .await;
    assert_eq!(field(&reply.error(422, "INVALID_ARGUMENT")), "name");
    // Empty body.
    let reply = send(&app, json_request(Method::PUT, "/api/instances/3", "")).await;
    reply.error(400, "INVALID_ARGUMENT");
    // Wrong content type.
    let request = Request::post("/api/auth/login")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("{}"))
        .unwrap();
    send(&app, request)
        .await
        .error(415, "UNSUPPORTED_MEDIA_TYPE");
}

#[tokio::test]
async fn oversized_bodies_are_json_413() {
    let app = app_with(&[], 1024);
    let big = format!(
        r#"{{"name":"a","url":"https://x.example","token":"t","description":"{}"}}"#,
        "x".repeat(4096)
    );
    let reply = send(&app, json_request(Method::POST, "/api/instances", &big)).await;
    reply.error(413, "PAYLOAD_TOO_LARGE");
}

#[tokio::test]
async fn bad_path_and_query_parameters_are_named() {
    let app = app();
    for uri in [
        "/api/instances/abc",
        "/api/pairs/0",
        "/api/pairs/-4",
        "/api/instances/99999999999999999999",
    ] {
        let reply = send(
            &app,
            Request::get(uri)
                .header(header::AUTHORIZATION, BASIC)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(field(&reply.error(422, "INVALID_ARGUMENT")), "id", "{uri}");
    }
    for (uri, name) in [
        ("/api/instances?page=abc", "page"),
        ("/api/instances?per_page=0", "per_page"),
        ("/api/instances?per_page=201", "per_page"),
        ("/api/instances?page=101", "page"),
        ("/api/pairs?direction=sideways", "direction"),
        ("/api/pairs?source_instance_id=x", "source_instance_id"),
        ("/api/pairs?page=2&page_token=abc", "page_token"),
        ("/api/instances/1?force=maybe", "force"),
    ] {
        let method = if uri.contains("force") {
            Method::DELETE
        } else {
            Method::GET
        };
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, BASIC)
            .body(Body::empty())
            .unwrap();
        let reply = send(&app, request).await;
        assert_eq!(field(&reply.error(422, "INVALID_ARGUMENT")), name, "{uri}");
    }
}

#[tokio::test]
async fn unreachable_api_is_json_503() {
    let app = app();
    for request in [
        Request::get("/api/instances")
            .header(header::AUTHORIZATION, BASIC)
            .body(Body::empty())
            .unwrap(),
        json_request(
            Method::POST,
            "/api/auth/login",
            r#"{"username":"a","password":"b"}"#,
        ),
        Request::get("/api/health")
            .header(header::AUTHORIZATION, BASIC)
            .body(Body::empty())
            .unwrap(),
    ] {
        let reply = send(&app, request).await;
        let error = reply.error(503, "UNAVAILABLE");
        assert!(
            !error["message"].as_str().unwrap().contains("tcp"),
            "{error}"
        );
    }
}

#[tokio::test]
async fn missing_credentials_get_a_bearer_challenge() {
    let app = app();
    for uri in ["/api/auth/me", "/api/about", "/api/health"] {
        let reply = send(&app, get(uri)).await;
        reply.error(401, "UNAUTHENTICATED");
        assert_eq!(
            reply.header("www-authenticate"),
            "Bearer realm=\"mirror-maestro\""
        );
    }
}

#[tokio::test]
async fn cors_follows_the_configured_origins() {
    let app = app_with(&["https://ui.example.com"], 4096);
    let preflight = Request::builder()
        .method(Method::OPTIONS)
        .uri("/api/instances")
        .header("origin", "https://ui.example.com")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .body(Body::empty())
        .unwrap();
    let reply = send(&app, preflight).await;
    assert!(reply.status.is_success(), "{}", reply.status);
    assert_eq!(
        reply.header("access-control-allow-origin"),
        "https://ui.example.com"
    );
    let other = Request::get("/api/health/quick")
        .header("origin", "https://evil.example.com")
        .body(Body::empty())
        .unwrap();
    let reply = send(&app, other).await;
    assert!(reply.headers.get("access-control-allow-origin").is_none());

    // Without configured origins there are no CORS headers at all.
    let reply = send(
        &app_with(&[], 4096),
        Request::get("/api/health/quick")
            .header("origin", "https://ui.example.com")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(reply.headers.get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn swagger_ui_is_served_without_a_cdn() {
    let app = app();
    let reply = send(&app, get("/api/docs/")).await;
    assert_eq!(reply.status, StatusCode::OK);
    let html = String::from_utf8_lossy(&reply.body);
    assert!(html.contains("swagger"), "{html}");
    for cdn in ["unpkg.com", "cdn.jsdelivr", "cdnjs"] {
        assert!(!html.contains(cdn), "{cdn} in Swagger UI page");
    }
    let reply = send(&app, get("/api/docs/swagger-initializer.js")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&reply.body).contains("/api/openapi.json"));
    let reply = send(&app, get("/")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.header("content-type").starts_with("text/html"));
}

/// Every REST route, as (method, path). Keep in sync with the router: the test below fails
/// when a route is added without documentation or documented without a route.
const ROUTES: &[(&str, &str)] = &[
    ("post", "/api/auth/login"),
    ("get", "/api/auth/me"),
    ("get", "/api/instances"),
    ("post", "/api/instances"),
    ("get", "/api/instances/{id}"),
    ("put", "/api/instances/{id}"),
    ("patch", "/api/instances/{id}"),
    ("delete", "/api/instances/{id}"),
    ("get", "/api/pairs"),
    ("post", "/api/pairs"),
    ("get", "/api/pairs/{id}"),
    ("put", "/api/pairs/{id}"),
    ("patch", "/api/pairs/{id}"),
    ("delete", "/api/pairs/{id}"),
    ("get", "/api/instances/{id}/projects"),
    ("get", "/api/instances/{id}/groups"),
    ("post", "/api/pairs/{id}/sync-mirrors"),
    ("post", "/api/pairs/{id}/refresh-status"),
    ("get", "/api/mirrors"),
    ("post", "/api/mirrors"),
    ("get", "/api/mirrors/tree"),
    ("get", "/api/mirrors/{id}"),
    ("put", "/api/mirrors/{id}"),
    ("patch", "/api/mirrors/{id}"),
    ("delete", "/api/mirrors/{id}"),
    ("post", "/api/mirrors/{id}/update"),
    ("post", "/api/mirrors/{id}/sync"),
    ("post", "/api/mirrors/{id}/rotate-token"),
    ("post", "/api/mirrors/{id}/refresh-status"),
    ("post", "/api/mirrors/{id}/verify"),
    ("get", "/api/mirrors/{id}/verify"),
    ("get", "/api/export/pair/{id}"),
    ("post", "/api/export/pair/{id}"),
    ("post", "/api/import/pair/{id}"),
    ("get", "/api/jobs"),
    ("get", "/api/jobs/{id}"),
    ("get", "/api/jobs/{id}/items"),
    ("post", "/api/jobs/{id}/cancel"),
    ("post", "/api/jobs/{id}/retry"),
    ("get", "/api/jobs/{id}/events"),
    ("get", "/api/health/quick"),
    ("get", "/api/health"),
    ("get", "/api/about"),
    ("get", "/api/dashboard/metrics"),
    ("get", "/api/dashboard/quick-stats"),
    ("get", "/api/topology"),
    ("get", "/api/topology/link-mirrors"),
    ("get", "/api/search"),
];

#[tokio::test]
async fn openapi_document_is_3_1_and_complete() {
    let reply = send(&app(), get("/api/openapi.json")).await;
    assert_eq!(reply.status, StatusCode::OK);
    let served = reply.json();
    let generated = serde_json::to_value(mm_gateway::openapi()).unwrap();
    assert_eq!(served, generated, "served document differs from openapi()");
    let doc = served;
    assert_eq!(doc["openapi"], "3.1.0");

    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            documented.insert((method.clone(), path.clone()));
            let responses = operation["responses"].as_object().unwrap();
            for status in ["400", "404", "422", "500", "503", "504", "default"] {
                assert!(
                    responses.contains_key(status),
                    "{method} {path} lacks {status}"
                );
            }
            let secured = operation.get("security").is_some();
            let public = ["/api/auth/login", "/api/health/quick"].contains(&path.as_str());
            assert_eq!(secured, !public, "{method} {path} security");
            if secured {
                assert_eq!(
                    responses["401"]["$ref"],
                    "#/components/responses/Unauthorized"
                );
                let schemes: Vec<&str> = operation["security"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .flat_map(|r| r.as_object().unwrap().keys().map(String::as_str))
                    .collect();
                assert_eq!(schemes, ["bearer", "basic"], "{method} {path}");
            }
            if operation.get("requestBody").is_some() {
                assert!(responses.contains_key("413") && responses.contains_key("415"));
            }
        }
    }
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(documented, expected);

    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["basic"]["scheme"], "basic");
    let error_ref = &doc["components"]["responses"]["NotFound"]["content"]["application/json"]["schema"]
        ["$ref"];
    assert_eq!(error_ref, "#/components/schemas/ErrorBody");
    let error_schema = &doc["components"]["schemas"]["ErrorBody"];
    for field in [
        "code",
        "message",
        "detail",
        "field_violations",
        "request_id",
    ] {
        assert!(error_schema["properties"].get(field).is_some(), "{field}");
    }
    // The token is write-only and never part of a response schema.
    let instance = &doc["components"]["schemas"]["Instance"]["properties"];
    assert!(instance.get("token").is_none());
    assert_eq!(
        doc["components"]["schemas"]["CreateInstance"]["properties"]["token"]["writeOnly"],
        true
    );
    // Bodies reject unknown fields.
    assert_eq!(
        doc["components"]["schemas"]["CreatePair"]["additionalProperties"],
        false
    );
}

#[tokio::test]
async fn job_operations_are_documented_with_their_location_and_the_event_stream() {
    let doc = mm_gateway::openapi();
    let doc = serde_json::to_value(doc).unwrap();
    let paths = &doc["paths"];
    // Operations that start a job answer 202 with a Location header and a schema.
    for (path, method) in [
        ("/api/mirrors", "post"),
        ("/api/mirrors/{id}", "delete"),
        ("/api/mirrors/{id}/update", "post"),
        ("/api/mirrors/{id}/sync", "post"),
        ("/api/mirrors/{id}/rotate-token", "post"),
        ("/api/mirrors/{id}/refresh-status", "post"),
        ("/api/mirrors/{id}/verify", "post"),
        ("/api/mirrors/{id}/verify", "get"),
        ("/api/pairs/{id}/sync-mirrors", "post"),
        ("/api/pairs/{id}/refresh-status", "post"),
        ("/api/pairs/{id}", "delete"),
        ("/api/instances/{id}", "delete"),
        ("/api/export/pair/{id}", "post"),
        ("/api/import/pair/{id}", "post"),
        ("/api/jobs/{id}/retry", "post"),
    ] {
        let accepted = &paths[path][method]["responses"]["202"];
        assert!(
            accepted["headers"].get("Location").is_some(),
            "{method} {path}: {accepted}"
        );
        assert!(
            accepted["content"]["application/json"]["schema"].is_object(),
            "{method} {path}: {accepted}"
        );
    }
    let events = &paths["/api/jobs/{id}/events"]["get"];
    assert!(
        events["responses"]["200"]["content"]
            .get("text/event-stream")
            .is_some(),
        "{events}"
    );
    let params: Vec<&str> = events["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(params.contains(&"access_token"), "{params:?}");
    let schemas = &doc["components"]["schemas"];
    for name in [
        "Mirror",
        "MirrorCreated",
        "MirrorUpdated",
        "CreateMirror",
        "UpdateMirror",
        "MirrorGroup",
        "Job",
        "JobItem",
        "JobState",
        "JobItemState",
        "Lifecycle",
        "TokenStatus",
        "PairSyncStarted",
        "ExportFile",
        "ImportFile",
        "ImportResult",
        "GitLabProject",
        "GitLabGroup",
        "InstanceWritten",
        "PairDeleting",
        "InstanceDeleting",
        "JobEvent",
    ] {
        assert!(schemas.get(name).is_some(), "schema {name} missing");
    }
    // Two Rust types with one schema name overwrite each other silently: the health check's
    // object and the read models' severity must both be there, each with its own shape.
    assert_eq!(schemas["Health"]["type"], "object", "{}", schemas["Health"]);
    assert_eq!(
        schemas["HealthSeverity"]["enum"],
        json!(["unknown", "ok", "warning", "error"])
    );
    // No token in any mirror schema; unchangeable fields are not offered for update.
    let mirror = schemas["Mirror"]["properties"].as_object().unwrap();
    assert!(mirror.keys().all(|k| !k.contains("token")
        || k.starts_with("token_")
        || k == "mirror_token_expires_at"));
    let update = schemas["UpdateMirror"]["properties"].as_object().unwrap();
    assert!(!update.contains_key("source_project_path"));
    assert_eq!(schemas["UpdateMirror"]["additionalProperties"], false);
    assert_eq!(schemas["CreateMirror"]["additionalProperties"], false);
    assert_eq!(
        schemas["JobState"]["enum"],
        json!([
            "queued",
            "running",
            "succeeded",
            "failed",
            "partially_failed",
            "cancelled"
        ])
    );
}

#[tokio::test]
async fn new_routes_name_bad_parameters_before_calling_the_api() {
    let app = app();
    for (method, uri, name) in [
        (Method::GET, "/api/mirrors?page_size=1000", "page_size"),
        (Method::GET, "/api/mirrors?token_status=x", "token_status"),
        (Method::GET, "/api/mirrors?order_by=id;drop", "order_by"),
        (
            Method::GET,
            "/api/mirrors/tree?instance_pair_id=0",
            "instance_pair_id",
        ),
        (Method::GET, "/api/mirrors/abc", "id"),
        (Method::POST, "/api/mirrors/0/sync", "id"),
        (Method::GET, "/api/jobs?state=nope", "state"),
        (Method::GET, "/api/jobs/1/items?page_size=9999", "page_size"),
        (Method::GET, "/api/jobs/-1/events", "id"),
        (
            Method::GET,
            "/api/instances/1/projects?page_size=0",
            "page_size",
        ),
        (
            Method::GET,
            "/api/instances/1/groups?per_page=101",
            "page_size",
        ),
        (Method::GET, "/api/export/pair/x", "id"),
        (
            Method::POST,
            "/api/pairs/99999999999999999999/sync-mirrors",
            "id",
        ),
    ] {
        let request = Request::builder()
            .method(method.clone())
            .uri(uri)
            .header(header::AUTHORIZATION, BASIC)
            .body(Body::empty())
            .unwrap();
        let reply = send(&app, request).await;
        assert_eq!(
            field(&reply.error(422, "INVALID_ARGUMENT")),
            name,
            "{method} {uri}"
        );
    }
    let body = r#"{"instance_pair_id":1,"source_project_path":"a/b","target_project_path":"c/d","source_project_id":3}"#;
    let reply = send(&app, json_request(Method::POST, "/api/mirrors", body)).await;
    assert_eq!(
        field(&reply.error(422, "INVALID_ARGUMENT")),
        "source_project_id"
    );
    let reply = send(
        &app,
        json_request(
            Method::PATCH,
            "/api/mirrors/1",
            r#"{"target_project_path":"x/y"}"#,
        ),
    )
    .await;
    assert_eq!(
        field(&reply.error(422, "INVALID_ARGUMENT")),
        "target_project_path"
    );
}

#[tokio::test]
async fn imports_accept_bodies_beyond_the_regular_limit() {
    let app = app_with(&[], 1024);
    let entries: Vec<String> = (0..100)
        .map(|n| format!(r#"{{"source_project_path":"a/{n}","target_project_path":"b/{n}"}}"#))
        .collect();
    let body = format!(r#"{{"mirrors":[{}]}}"#, entries.join(","));
    assert!(body.len() > 1024);
    for uri in ["/api/export/pair/1?dry_run=true", "/api/import/pair/1"] {
        // Past the body limit, so the API (unreachable here) is called.
        let reply = send(&app, json_request(Method::POST, uri, &body)).await;
        reply.error(503, "UNAVAILABLE");
    }
    // Other routes keep the regular limit.
    let big = format!(
        r#"{{"instance_pair_id":1,"source_project_path":"a/b","target_project_path":"{}"}}"#,
        "x".repeat(2048)
    );
    let reply = send(&app, json_request(Method::POST, "/api/mirrors", &big)).await;
    reply.error(413, "PAYLOAD_TOO_LARGE");
}

#[tokio::test]
async fn every_documented_route_is_routed() {
    let app = app();
    for (method, path) in ROUTES {
        let uri = path.replace("{id}", "1");
        let request = Request::builder()
            .method(method.to_uppercase().as_str())
            .uri(&uri)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(if ["post", "put", "patch"].contains(method) {
                "{}"
            } else {
                ""
            }))
            .unwrap();
        let reply = send(&app, request).await;
        assert!(
            reply.status != StatusCode::NOT_FOUND && reply.status != StatusCode::METHOD_NOT_ALLOWED,
            "{method} {uri} -> {}",
            reply.status
        );
    }
}
