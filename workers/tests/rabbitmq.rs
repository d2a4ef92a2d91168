//! Worker tests against a real RabbitMQ (`MM_TEST_AMQP_URL`, default
//! `amqp://guest:guest@127.0.0.1:5672/%2f`). Each test uses its own queue prefix and deletes
//! its queues afterwards. An unreachable broker fails the tests unless `MM_SKIP_RABBITMQ=1`.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::{Duration, Instant},
};

use async_trait::async_trait;
use futures::StreamExt;
use lapin::{
    BasicProperties, Connection, ConnectionProperties,
    message::BasicGetMessage,
    options::{
        BasicAckOptions, BasicConsumeOptions, BasicGetOptions, BasicQosOptions, QueueDeclareOptions,
    },
    types::{AMQPValue, FieldTable, LongString},
};
use mm_worker::{
    ConsumeReport, HandlerRegistry, Publisher, Shutdown, Task, TaskError, TaskHandler, Topology,
    Worker, WorkerConfig,
    shutdown::ShutdownTrigger,
    task::{ATTEMPT_HEADER, ERROR_HEADER, ERROR_KIND_HEADER, header_int, header_str},
};
use tokio::{net::TcpListener, sync::mpsc, task::JoinHandle};

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn amqp_url() -> String {
    std::env::var("MM_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
}

/// A broker connection, `None` only when `MM_SKIP_RABBITMQ=1`; otherwise panics loudly.
async fn broker() -> Option<Connection> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let url = amqp_url();
    let result = tokio::time::timeout(
        Duration::from_secs(10),
        Connection::connect(&url, ConnectionProperties::default()),
    )
    .await;
    let error = match result {
        Ok(Ok(connection)) => return Some(connection),
        Ok(Err(error)) => error.to_string(),
        Err(_) => "timed out".to_owned(),
    };
    if std::env::var("MM_SKIP_RABBITMQ").as_deref() == Ok("1") {
        eprintln!("MM_SKIP_RABBITMQ=1: skipping, RabbitMQ unreachable at {url}: {error}");
        return None;
    }
    panic!(
        "RabbitMQ is unreachable at {url} ({error}). Start it (or set MM_TEST_AMQP_URL), \
         or set MM_SKIP_RABBITMQ=1 to skip these tests."
    );
}

struct Fixture {
    connection: Connection,
    topology: Topology,
    publisher: Publisher,
}

impl Fixture {
    async fn new(retry_delays: &[u64]) -> Option<Fixture> {
        let connection = broker().await?;
        let topology = Topology::with_prefix(format!("test-{}", uuid::Uuid::new_v4()))
            .with_retry_delays(
                retry_delays
                    .iter()
                    .copied()
                    .map(Duration::from_millis)
                    .collect(),
            );
        let channel = connection.create_channel().await.unwrap();
        topology.declare(&channel).await.unwrap();
        let publisher =
            Publisher::new(connection.create_channel().await.unwrap(), topology.clone())
                .await
                .unwrap();
        Some(Fixture {
            connection,
            topology,
            publisher,
        })
    }

    fn config(&self, max_attempts: u32, grace: Duration) -> WorkerConfig {
        WorkerConfig {
            prefetch: 4,
            max_attempts,
            retry_delays: self
                .topology
                .retry_queues()
                .into_iter()
                .map(|q| q.delay)
                .collect(),
            shutdown_grace: grace,
            queue_prefix: None,
        }
    }

    fn start(&self, config: WorkerConfig, handlers: HandlerRegistry) -> RunningWorker {
        start_worker(
            Worker::new(amqp_url(), config)
                .with_topology(self.topology.clone())
                .with_handlers(handlers),
            None,
        )
    }

    async fn publish(&self, task: &Task) {
        self.publisher.publish_task(task).await.unwrap();
    }

    async fn ready_count(&self, queue: &str) -> u32 {
        let channel = self.connection.create_channel().await.unwrap();
        let count = channel
            .queue_declare(
                queue.into(),
                QueueDeclareOptions {
                    passive: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .unwrap()
            .message_count();
        let _ = channel.close(200, "done".into()).await;
        count
    }

    async fn wait_for_count(&self, queue: &str, expected: u32, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let count = self.ready_count(queue).await;
            if count == expected {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{queue} holds {count} messages, expected {expected}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Takes every message from the dead-letter queue (acknowledged), waiting for `expected`.
    async fn drain_dead(&self, expected: usize) -> Vec<BasicGetMessage> {
        let channel = self.connection.create_channel().await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut messages = Vec::new();
        while messages.len() < expected {
            match channel
                .basic_get(
                    self.topology.dead_queue().as_str().into(),
                    BasicGetOptions::default(),
                )
                .await
                .unwrap()
            {
                Some(message) => {
                    message
                        .delivery
                        .ack(BasicAckOptions::default())
                        .await
                        .unwrap();
                    messages.push(message);
                }
                None => {
                    assert!(
                        Instant::now() < deadline,
                        "only {} of {expected} messages reached the dead-letter queue",
                        messages.len()
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        messages
    }

    async fn cleanup(self) {
        let channel = self.connection.create_channel().await.unwrap();
        self.topology.delete(&channel).await.unwrap();
        let _ = self.connection.close(200, "test done".into()).await;
    }
}

struct RunningWorker {
    trigger: ShutdownTrigger,
    handle: JoinHandle<anyhow::Result<ConsumeReport>>,
}

impl RunningWorker {
    async fn stop(self) -> ConsumeReport {
        self.trigger.trigger();
        tokio::time::timeout(Duration::from_secs(30), self.handle)
            .await
            .expect("worker did not stop")
            .unwrap()
            .unwrap()
    }
}

fn start_worker(worker: Worker, listener: Option<TcpListener>) -> RunningWorker {
    let (trigger, shutdown) = Shutdown::new();
    RunningWorker {
        trigger,
        handle: tokio::spawn(worker.run(listener, shutdown)),
    }
}

/// Records every task it sees and answers according to `behaviour`.
struct Recorder {
    seen: mpsc::UnboundedSender<(Instant, Task)>,
    runs: Arc<AtomicU32>,
    behaviour: Behaviour,
}

#[derive(Clone, Copy)]
enum Behaviour {
    Succeed,
    FailOnceThenSucceed,
    AlwaysRetryable,
    Permanent,
    Sleep(Duration),
}

#[async_trait]
impl TaskHandler for Recorder {
    async fn handle(&self, task: Task) -> Result<(), TaskError> {
        let run = self.runs.fetch_add(1, Ordering::SeqCst) + 1;
        let _ = self.seen.send((Instant::now(), task));
        match self.behaviour {
            Behaviour::Succeed => Ok(()),
            Behaviour::FailOnceThenSucceed if run == 1 => {
                Err(TaskError::retryable("GitLab answered 503"))
            }
            Behaviour::FailOnceThenSucceed => Ok(()),
            Behaviour::AlwaysRetryable => Err(TaskError::retryable("still busy")),
            Behaviour::Permanent => Err(TaskError::permanent("repository gone")),
            Behaviour::Sleep(duration) => {
                tokio::time::sleep(duration).await;
                Ok(())
            }
        }
    }
}

fn recorder(behaviour: Behaviour) -> (Recorder, mpsc::UnboundedReceiver<(Instant, Task)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (
        Recorder {
            seen: tx,
            runs: Arc::default(),
            behaviour,
        },
        rx,
    )
}

async fn next_seen(rx: &mut mpsc::UnboundedReceiver<(Instant, Task)>) -> (Instant, Task) {
    tokio::time::timeout(Duration::from_secs(15), rx.recv())
        .await
        .expect("no task reached the handler")
        .expect("handler dropped")
}

fn sample_task(kind: &str, job_id: i64) -> Task {
    Task::new(kind, serde_json::json!({"mirror_id": 42}))
        .with_job(job_id, Some(7))
        .with_traceparent(TRACEPARENT)
}

fn headers(message: &BasicGetMessage) -> FieldTable {
    message
        .delivery
        .properties
        .headers()
        .clone()
        .unwrap_or_default()
}

async fn http_get(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

#[tokio::test]
async fn topology_declares_quorum_queues_idempotently() {
    let Some(fixture) = Fixture::new(&[300, 1000]).await else {
        return;
    };
    // Declaring again (as every worker replica does at start) is a no-op.
    let channel = fixture.connection.create_channel().await.unwrap();
    fixture.topology.declare(&channel).await.unwrap();
    let counts = fixture.topology.inspect(&channel).await.unwrap();
    assert_eq!(counts.len(), 4, "{counts:?}");
    assert!(counts.iter().all(|(_, count)| *count == 0));

    // A quorum queue refuses a declaration as a classic queue, which proves its type.
    for name in fixture.topology.queue_names() {
        let channel = fixture.connection.create_channel().await.unwrap();
        let mut classic = FieldTable::default();
        classic.insert(
            "x-queue-type".into(),
            AMQPValue::LongString(LongString::from("classic")),
        );
        let error = channel
            .queue_declare(
                name.as_str().into(),
                QueueDeclareOptions::durable(),
                classic,
            )
            .await
            .expect_err("redeclaring a quorum queue as classic must fail");
        let text = error.to_string();
        assert!(
            text.contains("PRECONDITION_FAILED") || text.contains("inequivalent"),
            "{name}: {text}"
        );
    }
    fixture.cleanup().await;
}

#[tokio::test]
async fn published_task_is_handled_acked_and_counted() {
    let Some(fixture) = Fixture::new(&[1000]).await else {
        return;
    };
    let (handler, mut seen) = recorder(Behaviour::Succeed);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let worker = Worker::new(amqp_url(), fixture.config(3, Duration::from_secs(5)))
        .with_topology(fixture.topology.clone())
        .with_handlers(HandlerRegistry::new().register("test.ok", handler))
        .with_metrics(mm_worker::metrics::install_recorder());
    let running = start_worker(worker, Some(listener));

    let deadline = Instant::now() + Duration::from_secs(15);
    while http_get(&format!("{base}/readyz")).await.0 != 200 {
        assert!(Instant::now() < deadline, "worker never became ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(http_get(&format!("{base}/healthz")).await.0, 200);

    fixture.publish(&sample_task("test.ok", 1)).await;
    let (_, task) = next_seen(&mut seen).await;
    assert_eq!(task.kind, "test.ok");
    assert_eq!(task.job_id, Some(1));
    assert_eq!(task.item_id, Some(7));
    assert_eq!(task.payload, serde_json::json!({"mirror_id": 42}));
    assert_eq!(task.attempt, 1);
    assert_eq!(task.traceparent.as_deref(), Some(TRACEPARENT));
    assert!(!task.redelivered);

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = http_get(&format!("{base}/metrics")).await;
        assert_eq!(status, 200);
        if body.lines().any(|l| {
            l.starts_with("mm_worker_tasks_total{")
                && l.contains("kind=\"test.ok\"")
                && l.contains("outcome=\"done\"")
        }) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "metrics never counted the task:\n{body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let report = running.stop().await;
    assert_eq!(report.handled, 1);
    assert_eq!(report.requeued, 0);
    // Acknowledged: nothing comes back after the consumer is gone.
    fixture
        .wait_for_count(&fixture.topology.task_queue(), 0, Duration::from_secs(5))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fixture.ready_count(&fixture.topology.task_queue()).await, 0);
    fixture.cleanup().await;
}

#[tokio::test]
async fn retryable_failure_comes_back_after_the_ttl_with_the_next_attempt() {
    let Some(fixture) = Fixture::new(&[1000, 3000]).await else {
        return;
    };
    let (handler, mut seen) = recorder(Behaviour::FailOnceThenSucceed);
    let running = fixture.start(
        fixture.config(3, Duration::from_secs(5)),
        HandlerRegistry::new().register("test.flaky", handler),
    );
    fixture.publish(&sample_task("test.flaky", 2)).await;
    let (first_at, first) = next_seen(&mut seen).await;
    let (second_at, second) = next_seen(&mut seen).await;
    assert_eq!(first.attempt, 1);
    assert_eq!(second.attempt, 2);
    assert_eq!(second.job_id, Some(2));
    assert_eq!(second.traceparent.as_deref(), Some(TRACEPARENT));
    let waited = second_at - first_at;
    // Jittered backoff for attempt 1 is between half and all of the 1 s base delay.
    assert!(
        waited >= Duration::from_millis(450) && waited < Duration::from_secs(5),
        "retried after {waited:?}"
    );
    running.stop().await;
    for queue in fixture.topology.queue_names() {
        assert_eq!(fixture.ready_count(&queue).await, 0, "{queue}");
    }
    fixture.cleanup().await;
}

#[tokio::test]
async fn permanent_exhausted_unknown_and_malformed_tasks_are_parked() {
    let Some(fixture) = Fixture::new(&[200]).await else {
        return;
    };
    let (failing, _failing_seen) = recorder(Behaviour::Permanent);
    let (busy, mut busy_seen) = recorder(Behaviour::AlwaysRetryable);
    let running = fixture.start(
        fixture.config(2, Duration::from_secs(5)),
        HandlerRegistry::new()
            .register("test.fail", failing)
            .register("test.busy", busy),
    );
    fixture.publish(&sample_task("test.fail", 3)).await;
    fixture.publish(&sample_task("test.nobody", 4)).await;
    fixture.publish(&sample_task("test.busy", 5)).await;
    let channel = fixture.connection.create_channel().await.unwrap();
    channel
        .basic_publish(
            fixture.topology.exchange().as_str().into(),
            fixture.topology.task_queue().as_str().into(),
            Default::default(),
            b"this is not json",
            BasicProperties::default().with_delivery_mode(2),
        )
        .await
        .unwrap()
        .await
        .unwrap();

    let parked = fixture.drain_dead(4).await;
    running.stop().await;
    let mut by_kind = std::collections::BTreeMap::new();
    for message in &parked {
        let headers = headers(message);
        let kind = header_str(&headers, ERROR_KIND_HEADER).expect("error kind header");
        let error = header_str(&headers, ERROR_HEADER).expect("error header");
        by_kind.insert(kind, (error, header_int(&headers, ATTEMPT_HEADER), message));
    }
    let kinds: Vec<_> = by_kind.keys().map(String::as_str).collect();
    assert_eq!(
        kinds,
        ["exhausted", "malformed", "permanent", "unknown_kind"]
    );
    assert_eq!(by_kind["permanent"].0, "repository gone");
    assert!(by_kind["unknown_kind"].0.contains("test.nobody"));
    assert!(by_kind["exhausted"].0.contains("still busy"));
    assert_eq!(by_kind["exhausted"].1, Some(2));
    assert_eq!(by_kind["malformed"].2.delivery.data, b"this is not json");
    // The busy handler ran exactly max_attempts times.
    assert_eq!(next_seen(&mut busy_seen).await.1.attempt, 1);
    assert_eq!(next_seen(&mut busy_seen).await.1.attempt, 2);
    assert!(busy_seen.try_recv().is_err());
    // Parked bodies are the original task bodies, so they can be replayed.
    let body: serde_json::Value =
        serde_json::from_slice(&by_kind["permanent"].2.delivery.data).unwrap();
    assert_eq!(body["kind"], "test.fail");
    fixture.cleanup().await;
}

#[tokio::test]
async fn parked_tasks_can_be_replayed() {
    let Some(fixture) = Fixture::new(&[200]).await else {
        return;
    };
    let (failing, _seen) = recorder(Behaviour::Permanent);
    let running = fixture.start(
        fixture.config(2, Duration::from_secs(5)),
        HandlerRegistry::new().register("test.fail", failing),
    );
    fixture.publish(&sample_task("test.fail", 6)).await;
    fixture
        .wait_for_count(&fixture.topology.dead_queue(), 1, Duration::from_secs(10))
        .await;
    running.stop().await;

    assert_eq!(fixture.publisher.replay_dead_letters(10).await.unwrap(), 1);
    fixture
        .wait_for_count(&fixture.topology.task_queue(), 1, Duration::from_secs(5))
        .await;
    assert_eq!(fixture.ready_count(&fixture.topology.dead_queue()).await, 0);
    let (ok, mut seen) = recorder(Behaviour::Succeed);
    let running = fixture.start(
        fixture.config(2, Duration::from_secs(5)),
        HandlerRegistry::new().register("test.fail", ok),
    );
    let (_, task) = next_seen(&mut seen).await;
    assert_eq!(task.job_id, Some(6));
    assert_eq!(task.attempt, 1);
    running.stop().await;
    fixture.cleanup().await;
}

#[tokio::test]
async fn a_crash_before_the_ack_redelivers_the_task() {
    let Some(fixture) = Fixture::new(&[1000]).await else {
        return;
    };
    fixture.publish(&sample_task("test.ok", 8)).await;

    // A "worker" that takes the task and dies without acknowledging it.
    let doomed = broker().await.unwrap();
    let channel = doomed.create_channel().await.unwrap();
    channel
        .basic_qos(1, BasicQosOptions::default())
        .await
        .unwrap();
    let mut consumer = channel
        .basic_consume(
            fixture.topology.task_queue().as_str().into(),
            "doomed".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let delivery = tokio::time::timeout(Duration::from_secs(10), consumer.next())
        .await
        .expect("no delivery")
        .unwrap()
        .unwrap();
    assert!(!delivery.redelivered);
    assert_eq!(fixture.ready_count(&fixture.topology.task_queue()).await, 0);
    drop(delivery);
    doomed.close(320, "simulated crash".into()).await.unwrap();
    drop(doomed);

    let (handler, mut seen) = recorder(Behaviour::Succeed);
    let running = fixture.start(
        fixture.config(3, Duration::from_secs(5)),
        HandlerRegistry::new().register("test.ok", handler),
    );
    let (_, task) = next_seen(&mut seen).await;
    assert_eq!(task.job_id, Some(8));
    assert!(
        task.redelivered,
        "the broker marks the second delivery as redelivered"
    );
    let report = running.stop().await;
    assert_eq!(report.handled, 1);
    fixture.cleanup().await;
}

#[tokio::test]
async fn graceful_shutdown_finishes_in_flight_work() {
    let Some(fixture) = Fixture::new(&[1000]).await else {
        return;
    };
    let (handler, mut seen) = recorder(Behaviour::Sleep(Duration::from_millis(1500)));
    let runs = handler.runs.clone();
    let running = fixture.start(
        fixture.config(3, Duration::from_secs(10)),
        HandlerRegistry::new().register("test.slow", handler),
    );
    fixture.publish(&sample_task("test.slow", 9)).await;
    let (started, _) = next_seen(&mut seen).await;
    let report = running.stop().await;
    assert!(
        started.elapsed() >= Duration::from_millis(1400),
        "stopped before the handler finished"
    );
    assert_eq!(report.handled, 1);
    assert_eq!(report.requeued, 0);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fixture.ready_count(&fixture.topology.task_queue()).await, 0);
    fixture.cleanup().await;
}

#[tokio::test]
async fn shutdown_requeues_work_that_outlives_the_grace_period() {
    let Some(fixture) = Fixture::new(&[1000]).await else {
        return;
    };
    let (handler, mut seen) = recorder(Behaviour::Sleep(Duration::from_secs(60)));
    let running = fixture.start(
        fixture.config(3, Duration::from_millis(500)),
        HandlerRegistry::new().register("test.stuck", handler),
    );
    fixture.publish(&sample_task("test.stuck", 10)).await;
    next_seen(&mut seen).await;
    let stopping = Instant::now();
    let report = running.stop().await;
    assert!(stopping.elapsed() < Duration::from_secs(5));
    assert_eq!(report.handled, 0);
    assert_eq!(report.requeued, 1);
    fixture
        .wait_for_count(&fixture.topology.task_queue(), 1, Duration::from_secs(5))
        .await;
    fixture.cleanup().await;
}

#[tokio::test]
async fn unreachable_broker_keeps_the_worker_live_but_not_ready() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let worker = Worker::new(
        "amqp://guest:guest@127.0.0.1:1/%2f",
        WorkerConfig::default(),
    );
    let running = start_worker(worker, Some(listener));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(http_get(&format!("{base}/healthz")).await.0, 200);
    assert_eq!(http_get(&format!("{base}/readyz")).await.0, 503);
    let report = running.stop().await;
    assert_eq!(report, ConsumeReport::default());
}
