//! End-to-end tests of the shipped binaries as a user runs them: the embedded default on
//! SQLite, and `mm-api` + `mm-gateway` + `mm-worker` as separate processes on PostgreSQL and
//! RabbitMQ, configured only through `MM_*` variables.

mod support;

use std::{
    process::Command,
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use support::{Running, binary_path, free_port};

fn after<'a>(line: &'a str, marker: &str) -> &'a str {
    line.split_once(marker)
        .map(|(_, rest)| rest.trim())
        .unwrap_or_else(|| panic!("{marker:?} not in {line:?}"))
}

async fn wait_http_ok(url: &str) {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(response) = client.get(url).send().await
            && response.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{url} did not answer 200 within 60 s");
}

/// The checks of the README's first steps, against any running gateway.
async fn first_steps(base: &str, username: &str, password: &str) -> i64 {
    let client = reqwest::Client::new();
    let anonymous = client
        .get(format!("{base}/api/instances"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);

    let listed = client
        .get(format!("{base}/api/instances"))
        .basic_auth(username, Some(password))
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    let body: Value = listed.json().await.unwrap();
    let items = body
        .as_array()
        .or_else(|| body["items"].as_array())
        .cloned();
    assert_eq!(
        items.map(|v| v.len()),
        Some(0),
        "expected an empty list, got {body}"
    );

    let secret_token = "glpat-ProcessTestSecretToken123";
    let created = client
        .post(format!("{base}/api/instances"))
        .basic_auth(username, Some(password))
        .json(&json!({
            "name": "east",
            "url": "http://127.0.0.1:9/",
            "token": secret_token,
            "description": "process test"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let text = created.text().await.unwrap();
    assert!(!text.contains(secret_token), "token leaked: {text}");
    let instance: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(instance["token_set"], true);
    instance["id"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn embedded_default_prints_credentials_and_serves_the_api() {
    let data_dir = tempfile::tempdir().unwrap();
    let http_port = free_port();
    let grpc_port = free_port();
    let mut product = Running::spawn(
        "mirror-maestro",
        &["up"],
        &[
            ("MM_DATA_DIR", data_dir.path().display().to_string()),
            ("MM_HTTP_ADDR", format!("127.0.0.1:{http_port}")),
            ("MM_GRPC_ADDR", format!("127.0.0.1:{grpc_port}")),
        ],
    );
    let url_line = product.wait_for_line("Web console & REST API", Duration::from_secs(60));
    let base = after(&url_line, "REST API")
        .trim_end_matches('/')
        .to_owned();
    assert_eq!(base, format!("http://127.0.0.1:{http_port}"));
    let user_line = product.wait_for_line("Admin user", Duration::from_secs(5));
    let username = after(&user_line, "Admin user").to_owned();
    let password_line = product.wait_for_line("Admin password", Duration::from_secs(5));
    let password = after(&password_line, "Admin password")
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    assert!(
        password.len() >= 16,
        "generated password too short: {password}"
    );

    wait_http_ok(&format!("{base}/api/health/quick")).await;
    first_steps(&base, &username, &password).await;

    // The generated password is shown once, never logged, and not stored in plaintext.
    let log = product.drain();
    assert_eq!(
        log.matches(&password).count(),
        1,
        "password printed more than once"
    );
    for entry in std::fs::read_dir(data_dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            let haystack = String::from_utf8_lossy(&bytes);
            assert!(
                !haystack.contains(&password),
                "password in {}",
                path.display()
            );
            assert!(
                !haystack.contains("glpat-ProcessTestSecretToken123"),
                "plaintext token in {}",
                path.display()
            );
        }
    }
    drop(product);

    // A restart keeps the data and does not print a new password.
    let mut again = Running::spawn(
        "mirror-maestro",
        &["up"],
        &[
            ("MM_DATA_DIR", data_dir.path().display().to_string()),
            ("MM_HTTP_ADDR", format!("127.0.0.1:{http_port}")),
            ("MM_GRPC_ADDR", format!("127.0.0.1:{grpc_port}")),
        ],
    );
    let line = again.wait_for_line("Admin password", Duration::from_secs(60));
    assert!(line.contains("printed at first start"), "{line}");
    wait_http_ok(&format!("{base}/api/health/quick")).await;
    let listed: Value = reqwest::Client::new()
        .get(format!("{base}/api/instances"))
        .basic_auth(&username, Some(&password))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = listed
        .as_array()
        .or_else(|| listed["items"].as_array())
        .cloned()
        .unwrap();
    assert_eq!(items.len(), 1);
}

#[tokio::test]
async fn a_bad_setting_stops_the_process_and_names_the_variable() {
    let output = Command::new(binary_path("mirror-maestro"))
        .arg("up")
        .env_clear()
        .env("MM_HTTP_ADDR", "not-an-address")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("MM_HTTP_ADDR"), "{stderr}");
}

fn postgres_admin_url() -> String {
    std::env::var("MM_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn amqp_url() -> String {
    std::env::var("MM_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

#[tokio::test(flavor = "multi_thread")]
async fn services_run_as_separate_processes_on_postgres_and_rabbitmq() {
    // A fresh database for this test.
    let database = format!("mm_process_{}", std::process::id());
    let admin_url = postgres_admin_url();
    let psql = |sql: String| {
        let status = Command::new("psql")
            .args([
                admin_url.as_str(),
                "-v",
                "ON_ERROR_STOP=1",
                "-qc",
                sql.as_str(),
            ])
            .status()
            .expect("psql is needed for this test");
        assert!(status.success(), "psql failed: {sql}");
    };
    psql(format!("DROP DATABASE IF EXISTS {database}"));
    psql(format!("CREATE DATABASE {database}"));
    let base_url = admin_url.rsplit_once('/').unwrap().0.to_owned();
    let database_url = format!("{base_url}/{database}");

    let data_dir = tempfile::tempdir().unwrap();
    let (http_port, grpc_port, worker_port) = (free_port(), free_port(), free_port());
    let password = "process-test-password".to_owned();
    let common = vec![
        ("MM_DATABASE_URL", database_url.clone()),
        ("MM_AMQP_URL", amqp_url()),
        ("MM_DATA_DIR", data_dir.path().display().to_string()),
        (
            "MM_JWT_SECRET",
            "a-process-test-secret-of-at-least-32-chars".to_owned(),
        ),
        (
            "MM_ENCRYPTION_KEY",
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".to_owned(),
        ),
        ("MM_ADMIN_PASSWORD", password.clone()),
        ("MM_ALLOW_PRIVATE_IPS", "true".to_owned()),
        ("MM_HTTP_ADDR", format!("127.0.0.1:{http_port}")),
        ("MM_GRPC_ADDR", format!("127.0.0.1:{grpc_port}")),
        ("MM_API_URL", format!("http://127.0.0.1:{grpc_port}")),
        ("MM_WORKER_ADDR", format!("127.0.0.1:{worker_port}")),
        ("MM_LOG_FORMAT", "json".to_owned()),
    ];

    let migrate = Command::new(binary_path("mirror-maestro"))
        .arg("migrate")
        .env_clear()
        .envs(common.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    assert!(
        migrate.status.success(),
        "migrate failed: {}",
        String::from_utf8_lossy(&migrate.stderr)
    );

    let _api = Running::spawn("mm-api", &[], &common);
    let _gateway = Running::spawn("mm-gateway", &[], &common);
    let _worker = Running::spawn("mm-worker", &[], &common);

    let base = format!("http://127.0.0.1:{http_port}");
    wait_http_ok(&format!("http://127.0.0.1:{grpc_port}/healthz")).await;
    wait_http_ok(&format!("{base}/api/health/quick")).await;
    wait_http_ok(&format!("http://127.0.0.1:{worker_port}/readyz")).await;
    let instance_id = first_steps(&base, "admin", &password).await;

    // The row is in PostgreSQL, with the token encrypted.
    let output = Command::new("psql")
        .args([
            database_url.as_str(),
            "-Atc",
            &format!("SELECT count(*) FROM instances WHERE id = {instance_id}"),
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "1");
    let dump = Command::new("psql")
        .args([database_url.as_str(), "-Atc", "SELECT * FROM instances"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&dump.stdout).contains("ProcessTestSecretToken"));

    // Metrics are served by every service.
    for url in [
        format!("{base}/metrics"),
        format!("http://127.0.0.1:{grpc_port}/metrics"),
        format!("http://127.0.0.1:{worker_port}/metrics"),
    ] {
        let response = reqwest::get(&url).await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
    }

    drop((_api, _gateway, _worker));
    psql(format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"));
}
