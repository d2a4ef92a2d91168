//! The request scenario: a recording client and a run touching every route.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::*;

pub(crate) struct Call {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) status: u16,
    pub(crate) body: Value,
    pub(crate) text: String,
}

/// A client that records every exchange.
struct Rec {
    api: Api,
    calls: Vec<Call>,
}

impl Rec {
    async fn call(&mut self, method: Method, path: &str, body: Option<Value>) -> Value {
        let r = self.api.call(method.clone(), path, body).await;
        let full = format!("/api/v4{}", path.split('?').next().unwrap());
        self.calls.push(Call {
            method: method.to_string(),
            path: full,
            status: r.status.as_u16(),
            body: r.body.clone(),
            text: r.text,
        });
        r.body
    }
    async fn get(&mut self, p: &str) -> Value {
        self.call(Method::GET, p, None).await
    }
    async fn post(&mut self, p: &str, b: Value) -> Value {
        self.call(Method::POST, p, Some(b)).await
    }
    async fn put(&mut self, p: &str, b: Value) -> Value {
        self.call(Method::PUT, p, Some(b)).await
    }
    async fn delete(&mut self, p: &str) -> Value {
        self.call(Method::DELETE, p, None).await
    }
    /// `POST` a multipart form with one file field.
    async fn upload(&mut self, p: &str, field: &str, filename: &str, data: &[u8]) -> Value {
        let boundary = "conformance-boundary-3c9e";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(data);
        body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
        let mut rb = self
            .api
            .http
            .post(format!("{}/api/v4{p}", self.api.base))
            .header(
                "Content-Type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body);
        if let Some(t) = &self.api.token {
            rb = rb.header("PRIVATE-TOKEN", t);
        }
        let r = rb.send().await.expect("request sent");
        let status = r.status().as_u16();
        let text = r.text().await.unwrap_or_default();
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        self.calls.push(Call {
            method: "POST".into(),
            path: format!("/api/v4{p}"),
            status,
            body: body.clone(),
            text,
        });
        body
    }
}

/// A scenario touching every route (successes and typical failures).
pub(crate) async fn scenario(sim: &gitlab_sim::Sim) -> Vec<Call> {
    let a = sim.instance(0);
    let mut r = Rec {
        api: Api::new(&a.base_url, &a.admin_token),
        calls: vec![],
    };
    let src = enc("acme/platform/backend/api-gateway");
    let tgt = enc("mirror-targets/target-01");
    r.get("/version").await;
    r.get("/metadata").await;
    r.get("/user").await;
    let users = r.get("/users?per_page=100").await;
    let dev_id = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "developer")
        .unwrap()["id"]
        .as_u64()
        .unwrap();
    r.get(&format!("/users/{dev_id}")).await;
    let pat = r
        .post(
            &format!("/users/{dev_id}/personal_access_tokens"),
            json!({"name": "p", "scopes": ["api"]}),
        )
        .await;
    let pat_id = pat["id"].as_u64().unwrap();
    r.get("/personal_access_tokens").await;
    r.get(&format!("/personal_access_tokens/{pat_id}")).await;
    let rotated = r
        .post(
            &format!("/personal_access_tokens/{pat_id}/rotate"),
            json!({}),
        )
        .await;
    let new_pat = rotated["token"].as_str().unwrap().to_string();
    r.get("/personal_access_tokens/self").await;
    r.delete(&format!("/personal_access_tokens/{}", rotated["id"]))
        .await;
    // Self endpoints with a throwaway token.
    let tmp = r
        .post(
            &format!("/users/{dev_id}/personal_access_tokens"),
            json!({"name": "s", "scopes": ["api"]}),
        )
        .await;
    let admin_api = r.api.clone();
    r.api = admin_api.with_token(tmp["token"].as_str().unwrap());
    let selfrot = r
        .post("/personal_access_tokens/self/rotate", json!({}))
        .await;
    r.api = admin_api.with_token(selfrot["token"].as_str().unwrap());
    r.delete("/personal_access_tokens/self").await;
    r.api = admin_api.with_token(&new_pat);
    r.get("/projects").await; // revoked token: 401
    r.api = admin_api.clone();

    // Projects.
    r.get("/projects?per_page=5").await;
    r.get("/projects?simple=true&search=service").await;
    r.get("/projects?pagination=keyset&order_by=id&per_page=3")
        .await;
    r.get(&format!("/projects/{src}")).await;
    r.get("/projects/acme%2Fnope").await;
    let ns = r.get("/namespaces?search=mirror").await;
    r.get(&format!("/namespaces/{}", ns[0]["id"])).await;
    let created = r.post("/projects", json!({"name": "conformance", "namespace_id": ns[0]["id"], "initialize_with_readme": true})).await;
    let pid = created["id"].as_u64().unwrap();
    r.put(
        &format!("/projects/{pid}"),
        json!({"description": "d", "topics": ["x"]}),
    )
    .await;
    let host = a.base_url.trim_start_matches("http://").to_string();
    let import = format!(
        "http://root:{}@{host}/acme/platform/backend/api-gateway.git",
        a.admin_token
    );
    r.put(
        &format!("/projects/{pid}"),
        json!({"import_url": import, "mirror": true, "only_mirror_protected_branches": false}),
    )
    .await;
    wait_pull_done(&r.api, "mirror-targets/conformance").await;
    r.get(&format!("/projects/{pid}")).await;
    let personal = r.post("/projects", json!({"path": "personal-one"})).await;
    r.get(&format!("/projects/{}", personal["id"])).await;
    r.get("/groups/acme%2Fplatform").await;
    r.get(&format!("/projects/{pid}/mirror/pull")).await;
    r.put(
        &format!("/projects/{pid}/mirror/pull"),
        json!({"mirror_trigger_builds": true}),
    )
    .await;
    r.post(&format!("/projects/{pid}/mirror/pull"), json!({}))
        .await;
    r.post("/projects", json!({})).await; // 400
    // Groups.
    r.get("/groups").await;
    r.get("/groups?statistics=true&search=acme").await;
    let g = r
        .post("/groups", json!({"name": "Conf", "path": "conf"}))
        .await;
    r.get(&format!("/groups/{}", g["id"])).await;
    r.get("/groups/acme").await;
    r.get("/groups/acme/projects?include_subgroups=true").await;
    r.get("/groups/acme/projects?simple=true").await;
    r.get("/groups/acme/subgroups").await;
    r.get("/groups/acme/descendant_groups").await;
    // Repository.
    r.get(&format!("/projects/{src}/repository/branches")).await;
    r.get(&format!("/projects/{src}/repository/branches/main"))
        .await;
    r.get(&format!("/projects/{src}/repository/branches/nope"))
        .await;
    r.get(&format!("/projects/{src}/repository/tags")).await;
    r.get(&format!("/projects/{src}/repository/tags/v1.0.0"))
        .await;
    r.get(&format!("/projects/{src}/repository/tags/v1.1.0"))
        .await;
    r.get(&format!("/projects/{src}/protected_branches")).await;
    r.post(
        &format!("/projects/{src}/protected_branches"),
        json!({"name": "develop", "push_access_level": 30}),
    )
    .await;
    r.post(
        &format!("/projects/{src}/protected_branches"),
        json!({"name": "develop"}),
    )
    .await; // 409
    r.get(&format!("/projects/{src}/protected_branches/develop"))
        .await;
    r.delete(&format!("/projects/{src}/protected_branches/develop"))
        .await;
    // Project access tokens and a push mirror using one.
    let tok = r
        .post(
            &format!("/projects/{tgt}/access_tokens"),
            json!({"name": "m", "scopes": ["write_repository"]}),
        )
        .await;
    let tid = tok["id"].as_u64().unwrap();
    r.get(&format!("/projects/{tgt}/access_tokens")).await;
    r.get(&format!("/projects/{tgt}/access_tokens/{tid}")).await;
    let rot = r
        .post(
            &format!("/projects/{tgt}/access_tokens/{tid}/rotate"),
            json!({}),
        )
        .await;
    let value = rot["token"].as_str().unwrap().to_string();
    r.post(
        &format!("/projects/{tgt}/access_tokens"),
        json!({"name": "m", "scopes": ["bogus"]}),
    )
    .await; // 400
    let url = format!("http://oauth2:{value}@{host}/mirror-targets/target-01.git");
    let m = r
        .post(
            &format!("/projects/{src}/remote_mirrors"),
            json!({"url": url, "enabled": true}),
        )
        .await;
    let mid = m["id"].as_u64().unwrap();
    r.get(&format!("/projects/{src}/remote_mirrors")).await;
    r.put(
        &format!("/projects/{src}/remote_mirrors/{mid}"),
        json!({"only_protected_branches": false}),
    )
    .await;
    r.post(
        &format!("/projects/{src}/remote_mirrors/{mid}/sync"),
        json!({}),
    )
    .await;
    wait_mirror_done(&r.api, "acme/platform/backend/api-gateway", mid).await;
    r.get(&format!("/projects/{src}/remote_mirrors/{mid}"))
        .await;
    let bad = r
        .post(
            &format!("/projects/{src}/remote_mirrors"),
            json!({"url": "http://u:p@127.0.0.1:1/x.git", "enabled": true}),
        )
        .await;
    let bad_id = bad["id"].as_u64().unwrap();
    r.post(
        &format!("/projects/{src}/remote_mirrors/{bad_id}/sync"),
        json!({}),
    )
    .await;
    wait_mirror_done(&r.api, "acme/platform/backend/api-gateway", bad_id).await;
    r.get(&format!("/projects/{src}/remote_mirrors/{bad_id}"))
        .await;
    r.get(&format!("/projects/{src}/remote_mirrors")).await;
    r.post(
        &format!("/projects/{src}/remote_mirrors"),
        json!({"url": "ftp://x/y"}),
    )
    .await; // 400
    r.delete(&format!("/projects/{src}/remote_mirrors/{mid}"))
        .await;
    r.delete(&format!("/projects/{src}/remote_mirrors/{bad_id}"))
        .await;
    r.delete(&format!("/projects/{tgt}/access_tokens/{}", rot["id"]))
        .await;
    // Issue tracker (not in the spec; checked for GitLab's error shapes only).
    let p = enc("acme/tools/ci-templates");
    r.post(
        &format!("/projects/{p}/labels"),
        json!({"name": "bug", "color": "#ff0000"}),
    )
    .await;
    r.get(&format!("/projects/{p}/labels")).await;
    r.get(&format!("/projects/{p}/labels/bug")).await;
    r.put(
        &format!("/projects/{p}/labels/bug"),
        json!({"color": "#00ff00"}),
    )
    .await;
    let ms = r
        .post(&format!("/projects/{p}/milestones"), json!({"title": "m1"}))
        .await;
    r.get(&format!("/projects/{p}/milestones")).await;
    r.get(&format!("/projects/{p}/milestones/{}", ms["id"]))
        .await;
    r.put(
        &format!("/projects/{p}/milestones/{}", ms["id"]),
        json!({"state_event": "close"}),
    )
    .await;
    let issue = r
        .post(
            &format!("/projects/{p}/issues"),
            json!({"title": "t", "labels": "bug"}),
        )
        .await;
    let iid = issue["iid"].as_u64().unwrap();
    r.get(&format!("/projects/{p}/issues")).await;
    r.get(&format!("/projects/{p}/issues/{iid}")).await;
    r.put(
        &format!("/projects/{p}/issues/{iid}"),
        json!({"state_event": "close"}),
    )
    .await;
    let note = r
        .post(
            &format!("/projects/{p}/issues/{iid}/notes"),
            json!({"body": "b"}),
        )
        .await;
    r.get(&format!("/projects/{p}/issues/{iid}/notes")).await;
    r.get(&format!("/projects/{p}/issues/{iid}/notes/{}", note["id"]))
        .await;
    r.put(
        &format!("/projects/{p}/issues/{iid}/notes/{}", note["id"]),
        json!({"body": "c"}),
    )
    .await;
    r.post(
        &format!("/projects/{p}/issues/{iid}/time_estimate"),
        json!({"duration": "1h"}),
    )
    .await;
    r.post(
        &format!("/projects/{p}/issues/{iid}/add_spent_time"),
        json!({"duration": "30m"}),
    )
    .await;
    r.post(
        &format!("/projects/{p}/issues/{iid}/reset_spent_time"),
        json!({}),
    )
    .await;
    r.post(
        &format!("/projects/{p}/issues/{iid}/reset_time_estimate"),
        json!({}),
    )
    .await;
    r.get(&format!("/projects/{p}/issues/{iid}/time_stats"))
        .await;
    r.delete(&format!("/projects/{p}/issues/{iid}/notes/{}", note["id"]))
        .await;
    r.delete(&format!("/projects/{p}/issues/{iid}")).await;
    r.delete(&format!("/projects/{p}/milestones/{}", ms["id"]))
        .await;
    r.delete(&format!("/projects/{p}/labels/bug")).await;
    // Uploads (only POST is in the spec; the rest are checked for error shapes).
    let up = r
        .upload(&format!("/projects/{p}/uploads"), "file", "dk.png", b"png")
        .await;
    r.upload(&format!("/projects/{p}/uploads"), "other", "x.txt", b"x")
        .await; // 400
    r.get(&format!("/projects/{p}/uploads")).await;
    r.get(&format!("/projects/{p}/uploads/{}", up["id"])).await;
    let secret_path = up["url"].as_str().unwrap().trim_start_matches("/uploads");
    r.get(&format!("/projects/{p}/uploads{secret_path}")).await;
    r.delete(&format!("/projects/{p}/uploads{secret_path}"))
        .await;
    r.delete(&format!("/projects/{p}/uploads/{}", up["id"]))
        .await; // 404
    r.delete(&format!("/projects/{pid}")).await;
    r.calls
}
