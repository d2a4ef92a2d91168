//! The gateway over real HTTP in front of the fake API, and request helpers.

use base64::Engine;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::fake_api;

pub struct Stack {
    pub base: String,
    pub api: fake_api::Spawned,
    pub client: Client,
    pub auth: String,
}

pub async fn stack() -> Stack {
    let api = fake_api::spawn().await;
    let state = mm_gateway::GatewayState::new(
        &api.url(),
        mm_gateway::HttpSettings {
            cors_origins: Vec::new(),
            body_limit: mm_gateway::DEFAULT_BODY_LIMIT,
            request_timeout: std::time::Duration::from_secs(10),
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
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            fake_api::USERNAME,
            fake_api::PASSWORD
        ))
    );
    Stack {
        base,
        api,
        client: Client::new(),
        auth,
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    pub fn expect(&self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        self.json()
    }

    pub fn expect_error(&self, status: u16, code: &str, field: Option<&str>) -> Value {
        let body = self.expect(status);
        assert_eq!(body["code"], code, "{body}");
        if let Some(field) = field {
            assert_eq!(body["field_violations"][0]["field"], field, "{body}");
            if code == "INVALID_ARGUMENT" {
                assert!(body["message"].as_str().unwrap().contains(field), "{body}");
            }
        }
        body
    }
}

impl Stack {
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.call_as(Some(&self.auth), method, path, body).await
    }

    pub async fn call_as(
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
        let response = request.send().await.unwrap();
        Reply {
            status: response.status(),
            headers: response.headers().clone(),
            text: response.text().await.unwrap(),
        }
    }

    pub async fn instance(&self, name: &str) -> i64 {
        let reply = self
            .call(
                Method::POST,
                "/api/instances",
                Some(json!({"name": name, "url": format!("https://{name}.example.com"), "token": "glpat-secret-token"})),
            )
            .await;
        reply.expect(201)["id"].as_i64().unwrap()
    }

    pub fn last_mask(&self) -> Vec<String> {
        self.api
            .api
            .inner
            .lock()
            .unwrap()
            .masks
            .last()
            .cloned()
            .unwrap_or_default()
    }

    pub fn mask_count(&self) -> usize {
        self.api.api.inner.lock().unwrap().masks.len()
    }

    /// Two instances and a pull pair between them; returns the pair id.
    pub async fn pair(&self, name: &str) -> i64 {
        let a = self.instance(&format!("{name}-src")).await;
        let b = self.instance(&format!("{name}-dst")).await;
        let reply = self
            .call(
                Method::POST,
                "/api/pairs",
                Some(
                    json!({"name": name, "source_instance_id": a, "target_instance_id": b,
                            "mirror_branch_regex": "^release/.*$"}),
                ),
            )
            .await;
        reply.expect(201)["id"].as_i64().unwrap()
    }

    /// Records a mirror directly in the fake API.
    pub fn seed_mirror(
        &self,
        pair_id: i64,
        source: &str,
        target: &str,
        edit: impl FnOnce(&mut mm_proto::v1::Mirror),
    ) -> i64 {
        let mut inner = self.api.api.inner.lock().unwrap();
        let mut mirror = fake_api::FakeApi::insert_mirror(
            &mut inner,
            pair_id,
            source,
            target,
            Default::default(),
            true,
        );
        edit(&mut mirror);
        inner.mirrors.insert(mirror.id, mirror.clone());
        mirror.id
    }

    /// Runs `f` on the fake API's state.
    pub fn with_api<T>(&self, f: impl FnOnce(&mut fake_api::Inner) -> T) -> T {
        f(&mut self.api.api.inner.lock().unwrap())
    }

    pub fn recorded(&self) -> fake_api::Recorded {
        self.with_api(|inner| inner.recorded.clone())
    }

    /// Reads a whole Server-Sent Events response.
    pub async fn events(&self, path: &str, auth: Option<&str>) -> EventStream {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        let mut response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let mut text = String::new();
        let read = async {
            while let Some(chunk) = response.chunk().await.unwrap() {
                text.push_str(std::str::from_utf8(&chunk).unwrap());
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(30), read)
            .await
            .expect("the event stream ends");
        EventStream {
            status,
            headers,
            events: parse_events(&text),
            text,
        }
    }
}

/// A finished Server-Sent Events response.
pub struct EventStream {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    /// `(event, data)` of every event, in order.
    pub events: Vec<(String, String)>,
}

impl EventStream {
    pub fn names(&self) -> Vec<&str> {
        self.events.iter().map(|(name, _)| name.as_str()).collect()
    }

    pub fn data(&self, index: usize) -> Value {
        serde_json::from_str(&self.events[index].1).unwrap()
    }
}

fn parse_events(text: &str) -> Vec<(String, String)> {
    text.split("\n\n")
        .filter_map(|block| {
            let mut name = String::from("message");
            let mut data = Vec::new();
            for line in block.lines() {
                if let Some(value) = line.strip_prefix("event:") {
                    name = value.trim().to_owned();
                } else if let Some(value) = line.strip_prefix("data:") {
                    data.push(value.strip_prefix(' ').unwrap_or(value).to_owned());
                }
            }
            (!data.is_empty()).then(|| (name, data.join("\n")))
        })
        .collect()
}
