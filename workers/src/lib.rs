//! Mirror Maestro worker: consumes tasks from RabbitMQ and runs their handlers.
//!
//! - [`topology`]: the exchange, task queue, retry queues and dead-letter queue.
//! - [`consumer`]: prefetch-bounded consumption, ack after the handler, graceful shutdown.
//! - [`retry`]: retry policy and the broker-independent [`Dispatcher`].
//! - [`task`]: message format, [`TaskHandler`] and [`HandlerRegistry`].
//! - [`health`]: `/healthz`, `/readyz`, `/metrics`.
//!
//! [`run`] is the standalone entry point; [`Worker`] lets another process embed a worker.

pub mod config;
pub mod connect;
pub mod consumer;
pub mod health;
pub mod inprocess;
pub mod metrics;
pub mod publish;
pub mod relay;
pub mod retry;
pub mod runtime;
pub mod scheduler;
pub mod shutdown;
pub mod task;
pub mod topology;

use std::future::Future;

use anyhow::Context;
use metrics_exporter_prometheus::PrometheusHandle;
use mm_config::Settings;
use tokio::net::TcpListener;

pub use config::WorkerConfig;
pub use consumer::{ConsumeEnd, ConsumeReport, ConsumerOptions};
pub use health::Readiness;
pub use publish::Publisher;
pub use retry::{Dispatcher, Outcome, RetryPolicy};
pub use shutdown::Shutdown;
pub use task::{HandlerRegistry, Task, TaskError, TaskHandler, TaskMessage};
pub use topology::Topology;

/// Runs the standalone worker until `shutdown` completes: health server on `worker_addr`,
/// connection to `MM_AMQP_URL` (retried with backoff, also after the broker was lost),
/// topology, consumer.
pub async fn run(
    settings: &Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let amqp_url = settings.amqp_url.clone().context(
        "MM_AMQP_URL: must be set for mm-worker, e.g. amqp://user:password@rabbitmq:5672/%2f",
    )?;
    let config = WorkerConfig::load()?;
    let listener = TcpListener::bind(settings.worker_addr)
        .await
        .with_context(|| format!("MM_WORKER_ADDR: cannot listen on {}", settings.worker_addr))?;
    let runtime = runtime::JobRuntime::from_settings(settings).await?;
    let shutdown = Shutdown::from_future(shutdown);
    // Every replica competes for the scheduler lease; one of them runs the schedule.
    let scheduler = tokio::spawn(scheduler::run(
        runtime.storage.clone(),
        runtime::JobRuntime::scheduler_options(settings),
        shutdown.clone(),
    ));
    let result = Worker::new(amqp_url, config)
        .with_handlers(runtime.handlers.clone())
        .with_metrics(metrics::install_recorder())
        .run(Some(listener), shutdown)
        .await
        .map(|_| ());
    // The lease expires on its own when the worker stops.
    scheduler.abort();
    let _ = scheduler.await;
    runtime.storage.close().await;
    result
}

/// A worker to run inside any process.
#[derive(Debug)]
pub struct Worker {
    amqp_url: String,
    config: WorkerConfig,
    topology: Topology,
    handlers: HandlerRegistry,
    metrics: Option<PrometheusHandle>,
    readiness: Readiness,
}

impl Worker {
    /// A worker for `amqp_url` with the topology the configuration implies and no handlers.
    pub fn new(amqp_url: impl Into<String>, config: WorkerConfig) -> Self {
        Worker {
            amqp_url: amqp_url.into(),
            topology: Topology::from_config(&config),
            config,
            handlers: HandlerRegistry::new(),
            metrics: None,
            readiness: Readiness::default(),
        }
    }

    pub fn with_handlers(mut self, handlers: HandlerRegistry) -> Self {
        self.handlers = handlers;
        self
    }

    pub fn with_topology(mut self, topology: Topology) -> Self {
        self.topology = topology;
        self
    }

    /// The handle `/metrics` renders (`None`: the embedding process serves metrics).
    pub fn with_metrics(mut self, metrics: Option<PrometheusHandle>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Readiness of this worker, e.g. for the embedding process's own health endpoint.
    pub fn readiness(&self) -> Readiness {
        self.readiness.clone()
    }

    /// Runs until `shutdown` fires. With a listener, serves the health routes on it.
    /// Returns what the consumer did (empty when shutdown came before the connection).
    pub async fn run(
        self,
        listener: Option<TcpListener>,
        shutdown: Shutdown,
    ) -> anyhow::Result<ConsumeReport> {
        let health = listener.map(|listener| {
            let addr = listener.local_addr().ok();
            tracing::info!(?addr, "worker health and metrics listening");
            tokio::spawn(health::serve(
                listener,
                self.readiness.clone(),
                self.metrics.clone(),
                shutdown.clone().wait_owned(),
            ))
        });

        let result = self.consume(shutdown).await;
        self.readiness.clear();
        if let Some(health) = health {
            match health.await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::warn!(%error, "health server failed"),
                Err(error) => tracing::warn!(%error, "health server task failed"),
            }
        }
        result
    }

    /// Connects, declares the topology and consumes; connects again with backoff whenever the
    /// broker is lost (a restart, a network failure), until `shutdown`.
    async fn consume(&self, shutdown: Shutdown) -> anyhow::Result<ConsumeReport> {
        let mut report = ConsumeReport::default();
        let mut reconnect_delay = connect::FIRST_DELAY;
        loop {
            let Some(connection) = connect::connect_with_backoff(&self.amqp_url, &shutdown).await
            else {
                return Ok(report);
            };
            let declare = async {
                let channel = connection.create_channel().await?;
                self.topology.declare(&channel).await?;
                channel.close(200, "topology declared".into()).await
            };
            let end = match declare.await {
                Ok(()) => {
                    self.readiness.set_connection(connection.status().clone());
                    let dispatcher = Dispatcher::new(
                        self.handlers.clone(),
                        RetryPolicy::from_config(&self.config),
                    );
                    let options = ConsumerOptions {
                        prefetch: self.config.prefetch,
                        shutdown_grace: self.config.shutdown_grace,
                    };
                    let (run, end) = consumer::consume(
                        &connection,
                        &self.topology,
                        dispatcher,
                        options,
                        shutdown.clone(),
                    )
                    .await;
                    report.absorb(&run);
                    if run.handled > 0 {
                        // This connection did useful work: the next loss starts the backoff anew.
                        reconnect_delay = connect::FIRST_DELAY;
                    }
                    end
                }
                Err(error) if is_precondition_failure(&error) => {
                    // Queues exist with other arguments: reconnecting cannot fix that.
                    return Err(
                        anyhow::Error::new(error).context("declaring the RabbitMQ topology")
                    );
                }
                Err(error) => ConsumeEnd::Lost(
                    anyhow::Error::new(error).context("declaring the RabbitMQ topology"),
                ),
            };
            self.readiness.clear();
            if let Err(error) = connection.close(200, "worker stopped".into()).await {
                tracing::debug!(%error, "closing the RabbitMQ connection");
            }
            match end {
                ConsumeEnd::Shutdown => {
                    tracing::info!(
                        handled = report.handled,
                        requeued = report.requeued,
                        "worker stopped"
                    );
                    return Ok(report);
                }
                ConsumeEnd::Lost(error) => {
                    if shutdown.is_triggered() {
                        return Ok(report);
                    }
                    let wait = connect::jittered(reconnect_delay);
                    tracing::warn!(
                        error = %format!("{error:#}"),
                        retry_in_ms = wait.as_millis() as u64,
                        "lost the RabbitMQ broker; reconnecting"
                    );
                    let mut stop = shutdown.clone();
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = stop.wait() => return Ok(report),
                    }
                    reconnect_delay = connect::next_delay(reconnect_delay);
                }
            }
        }
    }
}

/// Whether the broker refused a declaration because the object exists with other arguments
/// (`PRECONDITION_FAILED`), which no retry can fix.
fn is_precondition_failure(error: &lapin::Error) -> bool {
    use lapin::protocol::{AMQPErrorKind, AMQPSoftError};
    matches!(
        error.kind(),
        lapin::ErrorKind::ProtocolError(amqp)
            if matches!(amqp.kind(), AMQPErrorKind::Soft(AMQPSoftError::PRECONDITIONFAILED))
    )
}
