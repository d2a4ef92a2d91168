//! `/api/jobs…`, including the Server-Sent Events stream and its `access_token` query.

use std::sync::{Mutex, Once};

use mm_proto::v1 as pb;
use reqwest::Method;
use serde_json::Value;

use crate::{
    fake_api::{self, HOLD_OPEN_KIND, SLOW_KIND, STREAM_ERROR_KIND, Scope, start_job},
    stack::{Stack, stack},
};

fn job(s: &Stack, kind: &str, scope: Scope, total: i64) -> i64 {
    s.with_api(|inner| start_job(inner, kind, scope, total).id)
}

#[tokio::test]
async fn list_get_items_cancel_and_retry() {
    let s = stack().await;
    let sync = job(&s, "mirror.sync", Scope::mirror(4, 9), 3);
    let other = job(&s, "pair.import", Scope::pair(4), 250);
    job(&s, "mirror.sync", Scope::mirror(5, 10), 1);

    let reply = s
        .call(
            Method::GET,
            "/api/jobs?kind=mirror.sync&state=Queued&pair_id=4&mirror_id=9&page_size=1",
            None,
        )
        .await;
    let jobs = reply.expect(200);
    assert_eq!(jobs.as_array().unwrap().len(), 1);
    assert_eq!(jobs[0]["id"], sync);
    assert_eq!(reply.header("x-total-count"), Some("1"));
    assert_eq!(
        s.recorded().list_jobs.unwrap(),
        pb::ListJobsRequest {
            page_size: 1,
            page_token: String::new(),
            kind: "mirror.sync".into(),
            state: pb::JobState::Queued as i32,
            pair_id: 4,
            mirror_id: 9,
        }
    );
    // Newest first; page numbers follow the cursors.
    let reply = s
        .call(Method::GET, "/api/jobs?per_page=1&page=2", None)
        .await;
    assert_eq!(reply.expect(200)[0]["id"], other);
    assert_eq!(reply.header("x-total-count"), Some("3"));
    assert!(reply.header("x-next-page-token").is_some());

    let got = s
        .call(Method::GET, &format!("/api/jobs/{sync}"), None)
        .await
        .expect(200);
    for key in [
        "id",
        "kind",
        "state",
        "pair_id",
        "mirror_id",
        "instance_id",
        "requested_by",
        "params",
        "total",
        "done",
        "succeeded",
        "failed",
        "skipped",
        "cancelled",
        "warning_count",
        "progress_percent",
        "created_at",
        "started_at",
        "finished_at",
        "updated_at",
    ] {
        assert!(got.get(key).is_some(), "{key} missing in {got}");
    }
    assert_eq!(got["params"]["kind"], "mirror.sync");
    assert_eq!(got["requested_by"], fake_api::USERNAME);
    assert_eq!(got["instance_id"], Value::Null);

    // Items: state filter and paging up to 500.
    let reply = s
        .call(
            Method::GET,
            &format!("/api/jobs/{other}/items?state=queued&page_size=200"),
            None,
        )
        .await;
    assert_eq!(reply.expect(200).as_array().unwrap().len(), 200);
    assert_eq!(reply.header("x-total-count"), Some("250"));
    let request = s.recorded().list_job_items.unwrap();
    assert_eq!(request.job_id, other);
    assert_eq!(request.state, pb::JobItemState::Queued as i32);
    assert_eq!(request.page_size, 200);
    let reply = s
        .call(Method::GET, &format!("/api/jobs/{sync}/items"), None)
        .await;
    let items = reply.expect(200);
    assert_eq!(s.recorded().list_job_items.unwrap().page_size, 100);
    let item = &items[0];
    for key in [
        "id",
        "job_id",
        "mirror_id",
        "label",
        "task_kind",
        "state",
        "attempts",
        "error",
        "warnings",
        "result",
        "duration_ms",
        "started_at",
        "finished_at",
    ] {
        assert!(item.get(key).is_some(), "{key} missing in {item}");
    }
    assert_eq!(item["state"], "queued");
    assert_eq!(item["result"], serde_json::json!({}));

    // Cancel, then cancelling again is a failed precondition; retry answers 202.
    let reply = s
        .call(Method::POST, &format!("/api/jobs/{sync}/cancel"), None)
        .await;
    let cancelled = reply.expect(200);
    assert_eq!(cancelled["state"], "cancelled");
    assert_eq!(cancelled["progress_percent"], 100.0);
    let reply = s
        .call(Method::POST, &format!("/api/jobs/{sync}/cancel"), None)
        .await;
    reply.expect_error(400, "FAILED_PRECONDITION", None);
    let reply = s
        .call(Method::POST, &format!("/api/jobs/{sync}/retry"), None)
        .await;
    assert_eq!(reply.expect(202)["state"], "queued");
    assert_eq!(
        reply.header("location"),
        Some(format!("/api/jobs/{sync}").as_str())
    );
    let reply = s
        .call(Method::POST, &format!("/api/jobs/{other}/retry"), None)
        .await;
    reply.expect_error(400, "FAILED_PRECONDITION", None);

    for (path, field) in [
        ("/api/jobs?state=done", "state"),
        ("/api/jobs?pair_id=0", "pair_id"),
        ("/api/jobs?mirror_id=x", "mirror_id"),
        ("/api/jobs?page_size=201", "page_size"),
        ("/api/jobs?page=101", "page"),
        ("/api/jobs/1/items?page_size=501", "page_size"),
        ("/api/jobs/1/items?state=partially_failed", "state"),
        ("/api/jobs/0", "id"),
    ] {
        let reply = s.call(Method::GET, path, None).await;
        reply.expect_error(422, "INVALID_ARGUMENT", Some(field));
    }
    s.call(Method::GET, "/api/jobs/999", None)
        .await
        .expect_error(404, "NOT_FOUND", None);
}

#[tokio::test]
async fn events_stream_progress_then_done() {
    let s = stack().await;
    let id = job(&s, "pair.sync", Scope::pair(1), 3);
    let stream = s
        .events(&format!("/api/jobs/{id}/events"), Some(&s.auth))
        .await;
    assert_eq!(stream.status, 200, "{}", stream.text);
    assert!(
        stream.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    assert_eq!(stream.headers["x-accel-buffering"], "no");
    assert_eq!(stream.headers["cache-control"], "no-cache");
    // The current state, one update per item, the final state, then done.
    assert_eq!(
        stream.names(),
        [
            "progress", "progress", "progress", "progress", "progress", "done"
        ],
        "{}",
        stream.text
    );
    let first = stream.data(0);
    assert_eq!(first["state"], "queued");
    assert_eq!(first["id"], id);
    let middle = stream.data(2);
    assert_eq!(middle["state"], "running");
    assert_eq!(middle["done"], 2);
    assert_eq!(middle["progress_percent"], 66.6);
    let done = stream.data(5);
    assert_eq!(done["state"], "succeeded");
    assert_eq!(done["progress_percent"], 100.0);
    assert!(done["finished_at"].is_string());
    // The API recorded the outcome; GET agrees.
    let got = s
        .call(Method::GET, &format!("/api/jobs/{id}"), None)
        .await
        .expect(200);
    assert_eq!(got["state"], "succeeded");
}

#[tokio::test]
async fn events_end_when_the_job_finished_even_if_the_api_keeps_the_stream() {
    let s = stack().await;
    let id = job(&s, HOLD_OPEN_KIND, Scope::default(), 1);
    let started = std::time::Instant::now();
    let stream = s
        .events(&format!("/api/jobs/{id}/events"), Some(&s.auth))
        .await;
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(stream.names().last(), Some(&"done"));
    assert_eq!(stream.data(stream.events.len() - 1)["state"], "succeeded");
}

#[tokio::test]
async fn quiet_streams_get_keep_alive_comments() {
    let s = stack().await;
    let id = job(&s, SLOW_KIND, Scope::default(), 1);
    let stream = s
        .events(&format!("/api/jobs/{id}/events"), Some(&s.auth))
        .await;
    assert!(stream.text.contains(": keep-alive\n"), "{}", stream.text);
    assert_eq!(stream.names().first(), Some(&"progress"));
    assert_eq!(stream.names().last(), Some(&"done"));
}

#[tokio::test]
async fn events_report_a_failing_stream_as_an_error_event() {
    let s = stack().await;
    let id = job(&s, STREAM_ERROR_KIND, Scope::default(), 2);
    let stream = s
        .events(&format!("/api/jobs/{id}/events"), Some(&s.auth))
        .await;
    assert_eq!(stream.names(), ["progress", "error"], "{}", stream.text);
    let error = stream.data(1);
    assert_eq!(error["code"], "UNAVAILABLE");
    assert!(!error["request_id"].as_str().unwrap().is_empty());

    // Before the stream starts, errors are ordinary JSON responses.
    let reply = s.call(Method::GET, "/api/jobs/999/events", None).await;
    reply.expect_error(404, "NOT_FOUND", None);
    let reply = s
        .call_as(None, Method::GET, "/api/jobs/1/events", None)
        .await;
    reply.expect_error(401, "UNAUTHENTICATED", None);
    let reply = s
        .call_as(
            None,
            Method::GET,
            "/api/jobs/1/events?access_token=wrong",
            None,
        )
        .await;
    reply.expect_error(401, "UNAUTHENTICATED", None);
}

static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Sends every log record of the process (gateway at every level) to [`LOGS`].
fn capture_logs() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "info,mm_gateway=trace,mm_telemetry=trace",
            ))
            .with_writer(|| LogWriter)
            .with_ansi(false)
            .try_init();
    });
}

#[tokio::test]
async fn access_token_query_works_only_for_events_and_is_never_logged() {
    capture_logs();
    let s = stack().await;
    let id = job(&s, "mirror.verify", Scope::default(), 1);
    // As the browser's EventSource does: no Authorization header, the JWT in the query.
    let stream = s
        .events(
            &format!("/api/jobs/{id}/events?access_token={}", fake_api::JWT),
            None,
        )
        .await;
    assert_eq!(stream.status, 200, "{}", stream.text);
    assert_eq!(stream.names().last(), Some(&"done"));
    let metadata = s.with_api(|inner| inner.last_metadata.clone()).unwrap();
    assert_eq!(
        metadata.get("authorization").unwrap(),
        format!("Bearer {}", fake_api::JWT).as_str()
    );

    // No other route takes it.
    for path in [
        format!("/api/jobs/{id}?access_token={}", fake_api::JWT),
        format!("/api/jobs?access_token={}", fake_api::JWT),
        format!("/api/mirrors?access_token={}", fake_api::JWT),
    ] {
        let reply = s.call_as(None, Method::GET, &path, None).await;
        reply.expect_error(401, "UNAUTHENTICATED", None);
    }

    let logs = String::from_utf8(LOGS.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains(&format!("/api/jobs/{id}/events")),
        "the access log was captured: {logs}"
    );
    assert!(!logs.contains(fake_api::JWT), "token in the logs: {logs}");
    assert!(!logs.contains("access_token="), "query in the logs: {logs}");
}
