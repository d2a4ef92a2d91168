//! Shared helpers for the integration tests: a tiny REST client and
//! polling.

#![allow(dead_code)]

use std::time::Duration;

use gitlab_sim::{InstanceSpec, MirrorTiming, Seed, Sim, SimConfig};
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// Start `n` EE instances seeded with the demo set and fast mirror timings.
pub async fn demo_sim(specs: Vec<InstanceSpec>) -> Sim {
    let specs = specs
        .into_iter()
        .map(|s| s.with_mirror_timing(MirrorTiming::fast()))
        .collect();
    Sim::start(SimConfig {
        instances: specs,
        seed: Seed::Demo,
        ..Default::default()
    })
    .await
    .expect("simulator starts")
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    pub fn header(&self, k: &str) -> Option<String> {
        self.headers
            .get(k)
            .map(|v| v.to_str().unwrap_or("").to_string())
    }
}

/// A REST client bound to one instance and token.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub token: Option<String>,
    pub http: reqwest::Client,
}

impl Api {
    pub fn new(base: &str, token: &str) -> Self {
        Self {
            base: base.to_string(),
            token: Some(token.to_string()),
            http: reqwest::Client::new(),
        }
    }

    pub fn anonymous(base: &str) -> Self {
        Self {
            base: base.to_string(),
            token: None,
            http: reqwest::Client::new(),
        }
    }

    pub fn with_token(&self, token: &str) -> Self {
        Self {
            token: Some(token.to_string()),
            ..self.clone()
        }
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        let url = if path.starts_with("http") {
            path.to_string()
        } else if path.starts_with("/-/") {
            format!("{}{}", self.base, path)
        } else {
            format!("{}/api/v4{}", self.base, path)
        };
        let mut rb = self.http.request(method, url);
        if let Some(t) = &self.token {
            rb = rb.header("PRIVATE-TOKEN", t);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.expect("request sent");
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Resp {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.call(Method::DELETE, path, None).await
    }
}

/// URL-encode a project path for `:id`.
pub fn enc(path: &str) -> String {
    path.replace('/', "%2F")
}

/// Poll `f` until it returns `Some`, or panic after `secs`.
pub async fn wait_for<F, Fut, T>(secs: u64, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Wait until a push mirror leaves `none`/`started`; returns its JSON.
pub async fn wait_mirror_done(api: &Api, project: &str, mid: u64) -> Value {
    wait_for(60, "push mirror to finish", || async {
        let r = api
            .get(&format!("/projects/{}/remote_mirrors/{mid}", enc(project)))
            .await;
        let st = r.body["update_status"].as_str().unwrap_or("").to_string();
        (st == "finished" || st == "failed").then_some(r.body)
    })
    .await
}

/// Wait until the pull mirror of a project is finished or failed.
pub async fn wait_pull_done(api: &Api, project: &str) -> Value {
    wait_for(60, "pull mirror to finish", || async {
        let r = api
            .get(&format!("/projects/{}/mirror/pull", enc(project)))
            .await;
        let st = r.body["update_status"].as_str().unwrap_or("").to_string();
        (st == "finished" || st == "failed").then_some(r.body)
    })
    .await
}

/// Run git with a clean environment; returns (success, stdout, stderr).
pub async fn git(args: &[&str], cwd: Option<&std::path::Path>) -> (bool, String, String) {
    let mut c = tokio::process::Command::new("git");
    c.args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com");
    if let Some(d) = cwd {
        c.current_dir(d);
    }
    let o = c.output().await.expect("git runs");
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}
