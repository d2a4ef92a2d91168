//! Reliability of jobs through the shipped binaries (`mm-api` and `mm-worker` on PostgreSQL and
//! RabbitMQ) and the GitLab simulator:
//!
//! - RabbitMQ is stopped and started again in the middle of an import: the relay and the
//!   worker reconnect, the job completes with every item succeeded, nothing is created twice
//!   in GitLab and the pair still works afterwards. A private RabbitMQ node is used, since the
//!   shared one serves other tests; the test fails if that node cannot start.
//! - GitLab is down for 30 seconds in the middle of an import: the instance's circuit breaker
//!   opens, the items wait for it instead of using up their attempts, and the job completes
//!   after the recovery.

mod support;

#[path = "support/rabbit.rs"]
mod rabbit;
#[path = "support/stack.rs"]
mod stack;

use std::time::{Duration, Instant};

use gitlab_sim::FaultConfig;
use mm_proto::v1 as pb;
use rabbit::PrivateRabbit;
use stack::{
    Product, assert_all_succeeded, assert_nothing_created_twice, import, job_items, metric,
    register_pair, start_sim, wait_job, wait_progress,
};

const RESTART_MIRRORS: usize = 100;

#[tokio::test(flavor = "multi_thread")]
async fn rabbitmq_restart_during_a_job_loses_and_duplicates_nothing() {
    let mut rabbit = PrivateRabbit::start();
    let sim = start_sim(RESTART_MIRRORS).await;
    let mut product = Product::new(
        "restart",
        rabbit.url(),
        vec![
            // Slow enough that the import is still running when the broker stops.
            ("MM_GITLAB_REQUESTS_PER_MINUTE", "900".to_owned()),
            ("MM_WORKER_PREFETCH", "8".to_owned()),
            ("MM_WORKER_SHUTDOWN_GRACE_SECS", "20".to_owned()),
        ],
    );
    let mut clients = product.start().await;
    let (_, pair_id) = register_pair(&mut clients, &sim).await;

    let job_id = import(&mut clients, pair_id, RESTART_MIRRORS).await;
    let before = wait_progress(&mut clients, job_id, 10, Duration::from_secs(60)).await;
    rabbit.stop();
    let stopped_at = stack::get_job(&mut clients, job_id).await;
    assert!(
        stopped_at.done < RESTART_MIRRORS as i64,
        "the broker stopped while the job was running: {before:?} / {stopped_at:?}"
    );
    let worker = product.worker.as_mut().unwrap();
    worker.wait_for_line("lost the RabbitMQ broker", Duration::from_secs(40));
    tokio::time::sleep(Duration::from_secs(3)).await;
    rabbit.start_again();

    let job = wait_job(&mut clients, job_id, Duration::from_secs(150), |_| {}).await;
    assert_all_succeeded(&mut clients, &job, RESTART_MIRRORS).await;
    assert!(
        job.failed == 0 && job.done == RESTART_MIRRORS as i64,
        "no item lost or failed: {job:?}"
    );
    assert_nothing_created_twice(&sim, RESTART_MIRRORS);
    let worker = product.worker.as_mut().unwrap();
    worker.wait_for_line("consuming tasks", Duration::from_secs(5));
    let api = product.api.as_mut().unwrap();
    api.wait_for_line("outbox relay lost the broker", Duration::from_secs(10));

    // The product keeps working on the restarted broker: a batch sync of every mirror.
    let sync = clients
        .mirrors
        .sync_pair_mirrors(pb::SyncPairMirrorsRequest {
            pair_id,
            dry_run: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(sync.mirror_count, RESTART_MIRRORS as i64);
    let sync = wait_job(
        &mut clients,
        sync.job.unwrap().id,
        Duration::from_secs(60),
        |_| {},
    )
    .await;
    assert_all_succeeded(&mut clients, &sync, RESTART_MIRRORS).await;
    assert_nothing_created_twice(&sim, RESTART_MIRRORS);

    drop(product);
    rabbit.stop();
    sim.shutdown().await;
}

const OUTAGE_MIRRORS: usize = 40;
/// Few attempts, so that items which used an attempt per try would fail during the outage.
const MAX_ATTEMPTS: u32 = 3;
const OUTAGE: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread")]
async fn gitlab_outage_opens_the_breaker_and_the_job_waits_for_it() {
    let amqp_url = std::env::var("MM_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
    let sim = start_sim(OUTAGE_MIRRORS).await;
    let mut product = Product::new(
        "outage",
        amqp_url,
        vec![
            ("MM_GITLAB_REQUESTS_PER_MINUTE", "600".to_owned()),
            ("MM_WORKER_PREFETCH", "8".to_owned()),
            ("MM_WORKER_MAX_ATTEMPTS", MAX_ATTEMPTS.to_string()),
        ],
    );
    let mut clients = product.start().await;
    let (instance_ids, pair_id) = register_pair(&mut clients, &sim).await;
    let target = instance_ids[1].to_string();

    let job_id = import(&mut clients, pair_id, OUTAGE_MIRRORS).await;
    wait_progress(&mut clients, job_id, 3, Duration::from_secs(60)).await;
    sim.instance(1)
        .set_faults(FaultConfig::outage(OUTAGE.as_millis() as u64));
    let outage_started = Instant::now();

    // The calls that reach the dead instance open its breaker; the items then wait.
    let worker = product.worker.as_mut().unwrap();
    worker.wait_for_line("GitLab circuit breaker opened", Duration::from_secs(20));
    worker.wait_for_line(
        "the item waits without using an attempt",
        Duration::from_secs(20),
    );
    let metrics = product.worker_metrics().await;
    let opened = metric(
        &metrics,
        "gitlab_breaker_transitions_total",
        &[&format!("instance=\"{target}\""), "to=\"open\""],
    );
    assert!(
        opened.is_some_and(|count| count >= 1.0),
        "the breaker of instance {target} opened: {opened:?}"
    );
    let during = stack::get_job(&mut clients, job_id).await;
    assert!(
        during.done < OUTAGE_MIRRORS as i64,
        "the outage hit the running job: {during:?}"
    );

    // No item fails while the instance is down or afterwards.
    let job = wait_job(&mut clients, job_id, Duration::from_secs(150), |job| {
        assert_eq!(job.failed, 0, "an item failed during the outage: {job:?}");
    })
    .await;
    assert!(
        outage_started.elapsed() >= OUTAGE,
        "the job waited for the outage to end"
    );
    assert_all_succeeded(&mut clients, &job, OUTAGE_MIRRORS).await;
    assert_nothing_created_twice(&sim, OUTAGE_MIRRORS);

    // Items were started again after waiting; the breaker is closed again.
    let items = job_items(&mut clients, job_id).await;
    let restarted = items.iter().filter(|item| item.attempts > 1).count();
    assert!(
        restarted > 0,
        "some items waited for the breaker: {items:#?}"
    );
    let metrics = product.worker_metrics().await;
    assert_eq!(
        metric(
            &metrics,
            "gitlab_breaker_state",
            &[&format!("instance=\"{target}\"")]
        ),
        Some(0.0),
        "the breaker closed again"
    );

    drop(product);
    sim.shutdown().await;
}
