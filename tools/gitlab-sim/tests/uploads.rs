//! Project uploads over real HTTP: create, read back through every path,
//! list, delete, permissions, missing file and the size limit.

mod common;

use common::*;
use gitlab_sim::{InstanceSpec, Seed, SeedSpec, Sim, SimConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};

const BOUNDARY: &str = "----sim-test-boundary-7d1f";

fn multipart(field: &str, filename: Option<&str>, data: &[u8]) -> Vec<u8> {
    let mut b =
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n")
            .into_bytes();
    let disp = match filename {
        Some(f) => format!("form-data; name=\"{field}\"; filename=\"{f}\""),
        None => format!("form-data; name=\"{field}\""),
    };
    b.extend(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: {disp}\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes(),
    );
    b.extend_from_slice(data);
    b.extend(format!("\r\n--{BOUNDARY}--\r\n").into_bytes());
    b
}

struct Out {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    bytes: Vec<u8>,
}

impl Out {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }
}

async fn send(rb: reqwest::RequestBuilder) -> Out {
    let r = rb.send().await.expect("request sent");
    let status = r.status();
    let headers = r.headers().clone();
    let bytes = r.bytes().await.unwrap_or_default().to_vec();
    Out {
        status,
        headers,
        bytes,
    }
}

async fn upload(base: &str, token: Option<&str>, project: &str, body: Vec<u8>) -> Out {
    let http = reqwest::Client::new();
    let mut rb = http
        .post(format!("{base}/api/v4/projects/{}/uploads", enc(project)))
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body);
    if let Some(t) = token {
        rb = rb.header("PRIVATE-TOKEN", t);
    }
    send(rb).await
}

async fn get(url: &str, token: Option<&str>) -> Out {
    let mut rb = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(url);
    if let Some(t) = token {
        rb = rb.header("PRIVATE-TOKEN", t);
    }
    send(rb).await
}

async fn start() -> Sim {
    let seed: SeedSpec = serde_json::from_value(json!({
        "groups": [{"path": "acme", "visibility": "private"}],
        "projects": [
            {"path": "acme/app", "visibility": "private", "commits": 1, "branches": [], "tags": []},
            {"path": "acme/site", "visibility": "public", "commits": 1, "branches": [], "tags": []}
        ],
        "users": [
            {"username": "maint", "memberships": [{"path": "acme", "level": "maintainer"}],
             "tokens": [{"name": "t", "scopes": ["api"], "value": "glpat-upload-maint-000001"}]},
            {"username": "dev", "memberships": [{"path": "acme", "level": "developer"}],
             "tokens": [{"name": "t", "scopes": ["api"], "value": "glpat-upload-dev-00000001"}]},
            {"username": "ro", "memberships": [{"path": "acme", "level": "maintainer"}],
             "tokens": [{"name": "t", "scopes": ["read_api"], "value": "glpat-upload-readonly-01"}]},
            {"username": "outsider",
             "tokens": [{"name": "t", "scopes": ["api"], "value": "glpat-upload-outsider-001"}]}
        ]
    }))
    .unwrap();
    Sim::start(SimConfig {
        instances: vec![InstanceSpec::ee("up").with_max_attachment_size(64 * 1024)],
        seed: Seed::Spec(seed),
        ..Default::default()
    })
    .await
    .expect("simulator starts")
}

const MAINT: &str = "glpat-upload-maint-000001";
const DEV: &str = "glpat-upload-dev-00000001";
const OUTSIDER: &str = "glpat-upload-outsider-001";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_read_list_delete() {
    let sim = start().await;
    let a = sim.instance(0);
    let base = a.base_url.clone();
    let pid = a.project_id("acme/app").unwrap();
    let png: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();

    // Image upload by a developer.
    let r = upload(
        &base,
        Some(DEV),
        "acme/app",
        multipart("file", Some("dk.png"), &png),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json());
    let up = r.json();
    let url = up["url"].as_str().unwrap().to_string();
    let secret = url.split('/').nth(2).unwrap().to_string();
    assert_eq!(secret.len(), 32);
    assert!(secret.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(url, format!("/uploads/{secret}/dk.png"));
    assert_eq!(up["alt"], "dk");
    assert_eq!(
        up["full_path"],
        format!("/-/project/{pid}/uploads/{secret}/dk.png")
    );
    assert_eq!(up["markdown"], format!("![dk]({url})"));
    let id = up["id"].as_u64().unwrap();

    // A non-image: plain link, full name as alt; unsafe characters replaced.
    let r = upload(
        &base,
        Some(MAINT),
        "acme/app",
        multipart("file", Some("my notes.txt"), b"plain text"),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let txt = r.json();
    assert_eq!(txt["alt"], "my_notes.txt");
    let turl = txt["url"].as_str().unwrap().to_string();
    assert!(turl.ends_with("/my_notes.txt"));
    assert_eq!(txt["markdown"], format!("[my_notes.txt]({turl})"));
    let tid = txt["id"].as_u64().unwrap();

    // Read back: by id, by secret, and both web paths.
    let api = format!("{base}/api/v4/projects/{pid}/uploads");
    for u in [
        format!("{api}/{id}"),
        format!("{api}/{secret}/dk.png"),
        format!("{base}/acme/app{url}"),
        format!("{base}{}", up["full_path"].as_str().unwrap()),
    ] {
        let r = get(&u, Some(MAINT)).await;
        assert_eq!(r.status, StatusCode::OK, "{u}");
        assert_eq!(r.bytes, png, "{u}");
        assert_eq!(r.headers["content-type"], "image/png", "{u}");
    }
    let r = get(&format!("{base}/acme/app{turl}?private_token={DEV}"), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.bytes, b"plain text");
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );

    // Private project: anonymous web access is sent to sign in, outsiders get 404.
    let r = get(&format!("{base}/acme/app{url}"), None).await;
    assert_eq!(r.status, StatusCode::FOUND);
    assert!(
        r.headers["location"]
            .to_str()
            .unwrap()
            .ends_with("/users/sign_in")
    );
    assert_eq!(
        get(&format!("{base}/acme/app{url}"), Some(OUTSIDER))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&format!("{api}/{secret}/dk.png"), Some(OUTSIDER))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(
            &format!("{base}/acme/app/uploads/{secret}/other.png"),
            Some(MAINT)
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    // Developers read by secret but not by id; the list is Maintainer-only.
    assert_eq!(
        get(&format!("{api}/{secret}/dk.png"), Some(DEV))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        get(&format!("{api}/{id}"), Some(DEV)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(get(&api, Some(DEV)).await.status, StatusCode::FORBIDDEN);
    let r = get(&api, Some(MAINT)).await;
    assert_eq!(r.status, StatusCode::OK);
    let list = r.json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["id"], tid, "newest first");
    assert_eq!(list[1]["filename"], "dk.png");
    assert_eq!(list[1]["size"], 5000);
    assert_eq!(list[1]["uploaded_by"]["username"], "dev");
    assert!(list[1]["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        get(&format!("{api}/999"), Some(MAINT)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&format!("{api}/abc"), Some(MAINT)).await.status,
        StatusCode::BAD_REQUEST
    );

    // Delete: developers cannot; by id and by secret for maintainers.
    let http = reqwest::Client::new();
    let del = |u: String, t: &'static str| {
        let http = http.clone();
        async move { send(http.delete(u).header("PRIVATE-TOKEN", t)).await.status }
    };
    assert_eq!(del(format!("{api}/{id}"), DEV).await, StatusCode::FORBIDDEN);
    assert_eq!(
        del(format!("{api}/{id}"), MAINT).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        del(format!("{api}/{id}"), MAINT).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&format!("{base}/acme/app{url}"), Some(MAINT))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let tsecret = turl.split('/').nth(2).unwrap();
    assert_eq!(
        del(format!("{api}/{tsecret}/my_notes.txt"), MAINT).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(get(&api, Some(MAINT)).await.json(), json!([]));
    let upload_dir = sim
        .data_dir
        .join("0-up")
        .join("uploads")
        .join(pid.to_string());
    let left: Vec<_> = std::fs::read_dir(&upload_dir).unwrap().collect();
    assert!(left.is_empty(), "files removed from disk: {left:?}");

    // Mutation log.
    let kinds: Vec<String> = a.mutations().into_iter().map(|m| m.kind).collect();
    assert_eq!(kinds.iter().filter(|k| *k == "upload_created").count(), 2);
    assert_eq!(kinds.iter().filter(|k| *k == "upload_deleted").count(), 2);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_errors_and_public_access() {
    let sim = start().await;
    let a = sim.instance(0);
    let base = a.base_url.clone();
    let body = || multipart("file", Some("a.pdf"), b"%PDF-1.4");

    let r = upload(&base, None, "acme/site", body()).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json(), json!({"message": "401 Unauthorized"}));
    let r = upload(&base, Some("glpat-nope"), "acme/site", body()).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // A read-only token may not write.
    let r = upload(&base, Some("glpat-upload-readonly-01"), "acme/site", body()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.json()["error"], "insufficient_scope");
    // Like GitLab, any signed-in user who sees the project may upload.
    let r = upload(&base, Some(OUTSIDER), "acme/site", body()).await;
    assert_eq!(r.status, StatusCode::CREATED);
    // ...but only maintainers manage uploads.
    let pid = a.project_id("acme/site").unwrap();
    let api = format!("{base}/api/v4/projects/{pid}/uploads");
    assert_eq!(
        get(&api, Some(OUTSIDER)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(&api, Some("glpat-upload-readonly-01")).await.status,
        StatusCode::OK
    );
    let r = upload(&base, Some(OUTSIDER), "acme/app", body()).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json(), json!({"message": "404 Project Not Found"}));
    let r = upload(&base, Some(MAINT), "acme/nope", body()).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Missing or non-file `file`.
    let r = upload(
        &base,
        Some(MAINT),
        "acme/site",
        multipart("other", Some("x.txt"), b"x"),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json(), json!({"error": "file is missing"}));
    let r = upload(
        &base,
        Some(MAINT),
        "acme/site",
        multipart("file", None, b"x"),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json(), json!({"error": "file is invalid"}));
    let r = send(
        reqwest::Client::new()
            .post(format!(
                "{base}/api/v4/projects/{}/uploads",
                enc("acme/site")
            ))
            .header("PRIVATE-TOKEN", MAINT)
            .json(&json!({"file": "x"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json(), json!({"error": "file is missing"}));

    // Size limit (64 KiB here): exactly the limit passes, one byte more is 413.
    let exact = vec![b'a'; 64 * 1024];
    let r = upload(
        &base,
        Some(MAINT),
        "acme/site",
        multipart("file", Some("ok.bin"), &exact),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let big = vec![b'a'; 64 * 1024 + 1];
    let r = upload(
        &base,
        Some(MAINT),
        "acme/site",
        multipart("file", Some("big.bin"), &big),
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.json(), json!({"message": "413 Request Entity Too Large"}));
    // Far beyond the limit: refused from Content-Length alone.
    let huge = vec![b'a'; 1024 * 1024];
    let r = upload(
        &base,
        Some(MAINT),
        "acme/site",
        multipart("file", Some("huge.bin"), &huge),
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    // The limit can be raised at run time.
    a.set_max_attachment_size(2 * 1024 * 1024);
    let r = upload(
        &base,
        Some(MAINT),
        "acme/site",
        multipart("file", Some("huge.bin"), &huge),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let huge_url = r.json()["url"].as_str().unwrap().to_string();

    // Public project: anonymous reads by secret (API and web), not by id.
    let r = get(&format!("{base}/acme/site{huge_url}"), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.bytes.len(), huge.len());
    assert_eq!(r.headers["content-type"], "application/octet-stream");
    let secret = huge_url.split('/').nth(2).unwrap();
    assert_eq!(
        get(&format!("{api}/{secret}/huge.bin"), None).await.status,
        StatusCode::OK
    );
    assert_eq!(get(&api, None).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        get(&format!("{api}/1"), None).await.status,
        StatusCode::FORBIDDEN
    );
    let r = send(reqwest::Client::new().delete(format!("{api}/{secret}/huge.bin"))).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Nothing but the three accepted files is left on disk.
    let dir = sim
        .data_dir
        .join("0-up")
        .join("uploads")
        .join(pid.to_string());
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 3);
    sim.shutdown().await;
}
