//! Prometheus metrics of the worker.
//!
//! - `mm_worker_tasks_total{kind, outcome}`: handled tasks; outcome is `done`, `retry`,
//!   `permanent`, `exhausted`, `unknown_kind` or `malformed` (unknown kinds are counted under
//!   kind `unknown` to keep label values bounded).
//! - `mm_worker_task_duration_seconds{kind}`: handler run time.
//! - `mm_worker_tasks_in_flight`: handlers running now.
//! - `mm_worker_requeued_total`: deliveries returned to the queue at shutdown.
//! - `mm_worker_amqp_connected`: 1 while the broker connection is up.

use std::{sync::OnceLock, time::Duration};

use metrics_exporter_prometheus::PrometheusHandle;

use crate::retry::Outcome;

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process-wide Prometheus recorder shared with the other services of the process, with
/// the worker's metrics described.
pub fn install_recorder() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let handle = mm_telemetry::metrics_handle();
            describe();
            Some(handle)
        })
        .clone()
}

fn describe() {
    metrics::describe_counter!(
        "mm_worker_tasks_total",
        "Tasks handled, by kind and outcome"
    );
    metrics::describe_histogram!(
        "mm_worker_task_duration_seconds",
        metrics::Unit::Seconds,
        "Handler run time"
    );
    metrics::describe_gauge!("mm_worker_tasks_in_flight", "Handlers running now");
    metrics::describe_counter!(
        "mm_worker_requeued_total",
        "Deliveries returned to the queue at shutdown"
    );
    metrics::describe_gauge!(
        "mm_worker_amqp_connected",
        "1 while the RabbitMQ connection is up"
    );
}

pub(crate) fn task_finished(kind: &str, outcome: &Outcome, elapsed: Duration) {
    metrics::counter!(
        "mm_worker_tasks_total",
        "kind" => kind.to_owned(),
        "outcome" => outcome.label()
    )
    .increment(1);
    if !elapsed.is_zero() {
        metrics::histogram!("mm_worker_task_duration_seconds", "kind" => kind.to_owned())
            .record(elapsed.as_secs_f64());
    }
}

pub(crate) fn malformed() {
    metrics::counter!(
        "mm_worker_tasks_total",
        "kind" => "unknown",
        "outcome" => "malformed"
    )
    .increment(1);
}

pub(crate) fn requeued(count: usize) {
    metrics::counter!("mm_worker_requeued_total").increment(count as u64);
}

pub(crate) fn connected(up: bool) {
    metrics::gauge!("mm_worker_amqp_connected").set(if up { 1.0 } else { 0.0 });
}

/// Counts a running handler while alive.
pub(crate) struct InFlight;

impl InFlight {
    pub(crate) fn enter() -> Self {
        metrics::gauge!("mm_worker_tasks_in_flight").increment(1.0);
        InFlight
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        metrics::gauge!("mm_worker_tasks_in_flight").decrement(1.0);
    }
}
