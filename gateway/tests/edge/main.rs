//! The gateway in front of the real API service (`mm_api::testing`), over real HTTP.
//!
//! SQLite by default; `crud_on_every_backend` also runs on PostgreSQL (`MM_TEST_DATABASE_URL`,
//! skipped with `MM_SKIP_POSTGRES=1`, as for the API's own tests). Mirrors, jobs and
//! export/import are in [`mirrors`].

mod groups;
mod insights;
mod mirrors;

use std::sync::Mutex;

use base64::Engine;
use mm_api::testing::{SpawnOptions, SpawnedApi, TestBackend, spawn_api_with};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

/// Tokens sent to the API; no response may ever contain one.
const SECRET_TOKENS: [&str; 3] = [
    "glpat-edge-secret-one",
    "glpat-edge-secret-two",
    "glpat-edge-secret-rotated",
];

struct Edge {
    api: SpawnedApi,
    base: String,
    client: Client,
    basic: String,
    /// Every response body and header dump, for the never-leak-a-token check.
    seen: Mutex<Vec<String>>,
}

async fn edge(backend: TestBackend, allow_private_ips: bool) -> Option<Edge> {
    let api = spawn_api_with(backend, SpawnOptions { allow_private_ips }).await?;
    let state = mm_gateway::GatewayState::new(
        &api.url,
        mm_gateway::HttpSettings {
            cors_origins: Vec::new(),
            body_limit: mm_gateway::DEFAULT_BODY_LIMIT,
            request_timeout: std::time::Duration::from_secs(30),
        },
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(mm_gateway::serve_app(
        mm_gateway::app(state),
        listener,
        std::future::pending(),
    ));
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", api.admin_username, api.admin_password))
    );
    Some(Edge {
        api,
        base,
        client: Client::new(),
        basic,
        seen: Mutex::new(Vec::new()),
    })
}

async fn sqlite() -> Edge {
    edge(TestBackend::Sqlite, true)
        .await
        .expect("SQLite is always available")
}

struct Reply {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }

    fn expect(&self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        self.json()
    }

    /// A 4xx JSON error whose field violations name `field`.
    fn expect_field_error(&self, field: &str) -> Value {
        assert!(
            self.status.is_client_error(),
            "expected 4xx naming {field}, got {}: {}",
            self.status,
            self.text
        );
        let body = self.json();
        let fields: Vec<&str> = body["field_violations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["field"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&field), "{field} not in {body}");
        assert!(!body["request_id"].as_str().unwrap().is_empty());
        body
    }
}

impl Edge {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.call_as(Some(&self.basic), method, path, body).await
    }

    async fn call_as(
        &self,
        auth: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.send(request).await
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.unwrap();
        let reply = Reply {
            status: response.status(),
            headers: response.headers().clone(),
            text: response.text().await.unwrap(),
        };
        assert!(
            !reply.status.is_server_error(),
            "server error {}: {}",
            reply.status,
            reply.text
        );
        self.seen
            .lock()
            .unwrap()
            .push(format!("{:?}\n{}", reply.headers, reply.text));
        reply
    }

    async fn create_instance(&self, name: &str, token: &str) -> Value {
        self.call(
            Method::POST,
            "/api/instances",
            Some(
                json!({"name": name, "url": format!("https://{name}.gitlab.test"), "token": token}),
            ),
        )
        .await
        .expect(201)
    }

    fn assert_no_token_leaked(&self) {
        for text in self.seen.lock().unwrap().iter() {
            for token in SECRET_TOKENS {
                assert!(!text.contains(token), "token leaked in {text}");
            }
        }
    }
}

#[tokio::test]
async fn credentials_are_required_and_both_schemes_work() {
    let e = sqlite().await;
    let reply = e.call_as(None, Method::GET, "/api/instances", None).await;
    assert_eq!(reply.expect(401)["code"], "UNAUTHENTICATED");
    assert_eq!(
        reply.headers["www-authenticate"],
        "Bearer realm=\"mirror-maestro\""
    );
    let reply = e
        .call_as(
            Some("Bearer not-a-jwt"),
            Method::GET,
            "/api/instances",
            None,
        )
        .await;
    reply.expect(401);

    // HTTP Basic.
    let me = e.call(Method::GET, "/api/auth/me", None).await.expect(200);
    assert_eq!(me["username"], e.api.admin_username);
    assert_eq!(me["is_admin"], true);

    // Bearer from login.
    let login = e
        .call_as(
            None,
            Method::POST,
            "/api/auth/login",
            Some(json!({"username": e.api.admin_username, "password": e.api.admin_password})),
        )
        .await
        .expect(200);
    assert_eq!(login["token_type"], "bearer");
    assert!(login["expires_in"].as_i64().unwrap() > 0);
    assert_eq!(login["user"]["username"], e.api.admin_username);
    let bearer = format!("Bearer {}", login["access_token"].as_str().unwrap());
    let list = e
        .call_as(Some(&bearer), Method::GET, "/api/instances", None)
        .await;
    assert_eq!(list.expect(200), json!([]));
    assert_eq!(list.headers["x-total-count"], "0");

    let reply = e
        .call_as(
            None,
            Method::POST,
            "/api/auth/login",
            Some(json!({"username": e.api.admin_username, "password": "wrong-password"})),
        )
        .await;
    assert_eq!(reply.expect(401)["code"], "UNAUTHENTICATED");

    let health = e.call(Method::GET, "/api/health", None).await.expect(200);
    assert_eq!(health["status"], "healthy", "{health}");
    e.call(Method::GET, "/api/about", None).await.expect(200);
    e.call_as(None, Method::GET, "/api/about", None)
        .await
        .expect(401);
}

#[tokio::test]
async fn instance_and_pair_crud() {
    let e = sqlite().await;
    crud(&e).await;
}

#[tokio::test]
async fn crud_on_every_backend() {
    for backend in TestBackend::ALL {
        let Some(e) = edge(backend, true).await else {
            continue;
        };
        crud(&e).await;
    }
}

async fn crud(e: &Edge) {
    let a = e.create_instance("alpha", SECRET_TOKENS[0]).await;
    assert_eq!(a["token_set"], true);
    assert!(a.get("token").is_none());
    assert_eq!(a["url"], "https://alpha.gitlab.test");
    assert!(a["created_at"].as_str().unwrap().ends_with('Z'));
    let b = e.create_instance("beta", SECRET_TOKENS[1]).await;
    let (a_id, b_id) = (a["id"].as_i64().unwrap(), b["id"].as_i64().unwrap());

    let got = e
        .call(Method::GET, &format!("/api/instances/{a_id}"), None)
        .await
        .expect(200);
    assert_eq!(got["name"], "alpha");

    // Partial updates: PATCH with null clears; PUT only changes the keys present.
    let patched = e
        .call(
            Method::PATCH,
            &format!("/api/instances/{a_id}"),
            Some(json!({"description": "primary"})),
        )
        .await
        .expect(200);
    assert_eq!(patched["description"], "primary");
    let cleared = e
        .call(
            Method::PATCH,
            &format!("/api/instances/{a_id}"),
            Some(json!({"description": null})),
        )
        .await
        .expect(200);
    assert_eq!(cleared["description"], "");
    let renamed = e
        .call(
            Method::PUT,
            &format!("/api/instances/{a_id}"),
            Some(json!({"name": "alpha-2", "token": SECRET_TOKENS[2]})),
        )
        .await
        .expect(200);
    assert_eq!(renamed["name"], "alpha-2");
    assert_eq!(renamed["url"], "https://alpha.gitlab.test");
    let unchanged = e
        .call(
            Method::PATCH,
            &format!("/api/instances/{a_id}"),
            Some(json!({})),
        )
        .await
        .expect(200);
    assert_eq!(unchanged["name"], "alpha-2");

    // Pairs.
    let pair = e
        .call(
            Method::POST,
            "/api/pairs",
            Some(
                json!({"name": "a-to-b", "source_instance_id": a_id, "target_instance_id": b_id,
                        "mirror_branch_regex": "^(main|release/.*)$", "description": "d"}),
            ),
        )
        .await
        .expect(201);
    assert_eq!(pair["mirror_direction"], "pull");
    assert_eq!(pair["mirror_branch_regex"], "^(main|release/.*)$");
    assert!(pair.get("warnings").is_none(), "{pair}");
    let pair_id = pair["id"].as_i64().unwrap();

    let reverse = e
        .call(
            Method::POST,
            "/api/pairs",
            Some(
                json!({"name": "b-to-a", "source_instance_id": b_id, "target_instance_id": a_id,
                        "mirror_direction": "Push"}),
            ),
        )
        .await
        .expect(201);
    assert_eq!(reverse["mirror_direction"], "push");
    assert_eq!(reverse["reverse_pair_id"], pair_id);
    assert!(!reverse["warnings"].as_array().unwrap().is_empty());

    let updated = e
        .call(
            Method::PATCH,
            &format!("/api/pairs/{pair_id}"),
            Some(json!({"mirror_branch_regex": null, "only_mirror_protected_branches": true})),
        )
        .await
        .expect(200);
    assert_eq!(updated["mirror_branch_regex"], Value::Null);
    assert_eq!(updated["only_mirror_protected_branches"], true);
    assert_eq!(updated["description"], "d");

    let pushes = e
        .call(Method::GET, "/api/pairs?direction=push", None)
        .await
        .expect(200);
    assert_eq!(pushes.as_array().unwrap().len(), 1);
    let from_a = e
        .call(
            Method::GET,
            &format!("/api/pairs?source_instance_id={a_id}"),
            None,
        )
        .await
        .expect(200);
    assert_eq!(from_a[0]["name"], "a-to-b");
    let counted = e
        .call(Method::GET, &format!("/api/instances/{a_id}"), None)
        .await
        .expect(200);
    assert_eq!(counted["pair_count"], 2);

    let deleted = e
        .call(
            Method::DELETE,
            &format!("/api/pairs/{}", reverse["id"]),
            None,
        )
        .await
        .expect(200);
    assert_eq!(deleted["status"], "deleted");
    e.call(Method::GET, &format!("/api/pairs/{}", reverse["id"]), None)
        .await
        .expect(404);

    // An instance in use is only deleted with force, which cascades.
    let reply = e
        .call(Method::DELETE, &format!("/api/instances/{a_id}"), None)
        .await;
    assert_eq!(reply.status.as_u16(), 400, "{}", reply.text);
    let deleted = e
        .call(
            Method::DELETE,
            &format!("/api/instances/{a_id}?force=true"),
            None,
        )
        .await
        .expect(200);
    assert_eq!(deleted["status"], "deleted");
    assert_eq!(deleted["deleted_pair_count"], 1);
    e.call(Method::GET, &format!("/api/pairs/{pair_id}"), None)
        .await
        .expect(404);

    let list = e.call(Method::GET, "/api/instances", None).await;
    assert_eq!(list.headers["x-total-count"], "1");
    e.assert_no_token_leaked();
}

#[tokio::test]
async fn bad_inputs_are_4xx_naming_the_field() {
    let e = sqlite().await;
    let a = e.create_instance("alpha", SECRET_TOKENS[0]).await["id"]
        .as_i64()
        .unwrap();
    let b = e.create_instance("beta", SECRET_TOKENS[1]).await["id"]
        .as_i64()
        .unwrap();
    e.call(
        Method::POST,
        "/api/pairs",
        Some(json!({"name": "taken", "source_instance_id": a, "target_instance_id": b})),
    )
    .await
    .expect(201);

    let instance_cases = [
        (
            json!({"name": "alpha", "url": "https://x.gitlab.test", "token": "t"}),
            "name",
        ),
        (
            json!({"name": "", "url": "https://x.gitlab.test", "token": "t"}),
            "name",
        ),
        (
            json!({"name": "x".repeat(101), "url": "https://x.gitlab.test", "token": "t"}),
            "name",
        ),
        (
            json!({"name": "x", "url": "not a url", "token": "t"}),
            "url",
        ),
        (
            json!({"name": "x", "url": "ftp://x.gitlab.test", "token": "t"}),
            "url",
        ),
        (
            json!({"name": "x", "url": "https://x.gitlab.test", "token": " "}),
            "token",
        ),
        (
            json!({"name": "x", "url": "https://x.gitlab.test", "token": "t", "description": "d".repeat(501)}),
            "description",
        ),
        (
            json!({"name": "x", "url": "https://x.gitlab.test", "token": "t", "tls": true}),
            "tls",
        ),
        (
            json!({"name": 7, "url": "https://x.gitlab.test", "token": "t"}),
            "name",
        ),
        (json!({"name": "x", "token": "t"}), "url"),
    ];
    for (body, field) in instance_cases {
        e.call(Method::POST, "/api/instances", Some(body))
            .await
            .expect_field_error(field);
    }
    let duplicate = e
        .call(
            Method::POST,
            "/api/instances",
            Some(json!({"name": "alpha", "url": "https://x.gitlab.test", "token": "t"})),
        )
        .await;
    assert_eq!(duplicate.expect(409)["code"], "ALREADY_EXISTS");
    e.call(
        Method::PATCH,
        &format!("/api/instances/{a}"),
        Some(json!({"name": "beta"})),
    )
    .await
    .expect_field_error("name");
    e.call(
        Method::PATCH,
        &format!("/api/instances/{a}"),
        Some(json!({"url": null})),
    )
    .await
    .expect_field_error("url");

    let pair = |extra: Value| {
        let mut body = json!({"name": "p", "source_instance_id": a, "target_instance_id": b});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let pair_cases = [
        (pair(json!({"target_instance_id": a})), "target_instance_id"),
        (
            pair(json!({"target_instance_id": 987_654})),
            "target_instance_id",
        ),
        (
            pair(json!({"source_instance_id": 987_654})),
            "source_instance_id",
        ),
        (pair(json!({"name": "taken"})), "name"),
        (pair(json!({"name": "n".repeat(101)})), "name"),
        (
            pair(json!({"mirror_branch_regex": "(unclosed"})),
            "mirror_branch_regex",
        ),
        (
            pair(json!({"mirror_branch_regex": "a".repeat(256)})),
            "mirror_branch_regex",
        ),
        (
            pair(json!({"mirror_direction": "sideways"})),
            "mirror_direction",
        ),
        (
            pair(json!({"mirror_trigger_builds": "yes"})),
            "mirror_trigger_builds",
        ),
        (
            pair(json!({"source_instance_id": "1"})),
            "source_instance_id",
        ),
        (pair(json!({"colour": "red"})), "colour"),
    ];
    for (body, field) in pair_cases {
        e.call(Method::POST, "/api/pairs", Some(body))
            .await
            .expect_field_error(field);
    }
    let first = e.call(Method::GET, "/api/pairs", None).await.expect(200)[0]["id"]
        .as_i64()
        .unwrap();
    e.call(
        Method::PATCH,
        &format!("/api/pairs/{first}"),
        Some(json!({"target_instance_id": a})),
    )
    .await
    .expect_field_error("target_instance_id");
    e.call(
        Method::PUT,
        &format!("/api/pairs/{first}"),
        Some(json!({"mirror_branch_regex": "[z-a]"})),
    )
    .await
    .expect_field_error("mirror_branch_regex");

    // Not found, bad ids and bad query parameters.
    assert_eq!(
        e.call(Method::GET, "/api/instances/424242", None)
            .await
            .expect(404)["code"],
        "NOT_FOUND"
    );
    e.call(Method::GET, "/api/pairs/abc", None)
        .await
        .expect_field_error("id");
    e.call(Method::GET, "/api/instances?per_page=1000", None)
        .await
        .expect_field_error("per_page");
    e.call(Method::GET, "/api/instances?order_by=colour", None)
        .await
        .expect_field_error("order_by");
    e.call(Method::GET, "/api/instances?page_token=garbage", None)
        .await
        .expect_field_error("page_token");
    e.assert_no_token_leaked();
}

#[tokio::test]
async fn private_addresses_are_refused_by_default() {
    let e = edge(TestBackend::Sqlite, false).await.unwrap();
    for url in [
        "http://127.0.0.1",
        "http://localhost:8080",
        "http://10.1.2.3",
        "http://169.254.169.254",
        "http://[::1]",
    ] {
        e.call(
            Method::POST,
            "/api/instances",
            Some(json!({"name": "internal", "url": url, "token": "t"})),
        )
        .await
        .expect_field_error("url");
    }
}

#[tokio::test]
async fn pages_follow_the_api_cursor() {
    let e = sqlite().await;
    for name in ["i1", "i2", "i3", "i4", "i5"] {
        e.create_instance(name, SECRET_TOKENS[0]).await;
    }
    let names = |v: Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let reply = e
        .call(Method::GET, "/api/instances?per_page=2&page=2", None)
        .await;
    assert_eq!(reply.headers["x-total-count"], "5");
    assert_eq!(
        reply.headers["link"],
        "</api/instances?per_page=2&page=3>; rel=\"next\""
    );
    assert_eq!(names(reply.expect(200)), ["i3", "i4"]);
    let reply = e
        .call(Method::GET, "/api/instances?per_page=2&page=3", None)
        .await;
    assert_eq!(names(reply.expect(200)), ["i5"]);
    assert!(reply.headers.get("link").is_none());

    let reply = e
        .call(
            Method::GET,
            "/api/instances?per_page=4&order_by=-name",
            None,
        )
        .await;
    let token = reply.headers["x-next-page-token"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(names(reply.expect(200)), ["i5", "i4", "i3", "i2"]);
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("per_page", "4")
        .append_pair("order_by", "-name")
        .append_pair("page_token", &token)
        .finish();
    let reply = e
        .call(Method::GET, &format!("/api/instances?{query}"), None)
        .await;
    assert_eq!(names(reply.expect(200)), ["i1"]);
    e.assert_no_token_leaked();
}
