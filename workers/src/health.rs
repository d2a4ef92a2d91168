//! `/healthz` (liveness), `/readyz` (readiness: the broker connection is up) and `/metrics`.

use std::{
    future::Future,
    sync::{Arc, Mutex},
};

use axum::{Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};
use lapin::ConnectionStatus;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;

/// Whether the worker can take tasks. Cheap to clone; shared with the consumer.
#[derive(Clone, Default)]
pub struct Readiness {
    connection: Arc<Mutex<Option<ConnectionStatus>>>,
}

impl std::fmt::Debug for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readiness")
            .field("ready", &self.is_ready())
            .finish()
    }
}

impl Readiness {
    /// Tracks this connection from now on.
    pub fn set_connection(&self, status: ConnectionStatus) {
        *self.lock() = Some(status);
    }

    /// Not ready any more (shutting down).
    pub fn clear(&self) {
        *self.lock() = None;
    }

    pub fn is_ready(&self) -> bool {
        let up = self
            .lock()
            .as_ref()
            .is_some_and(|status| status.connected());
        crate::metrics::connected(up);
        up
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<ConnectionStatus>> {
        self.connection.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Clone)]
struct AppState {
    readiness: Readiness,
    metrics: Option<PrometheusHandle>,
}

/// The health and metrics routes.
pub fn router(readiness: Readiness, metrics: Option<PrometheusHandle>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(render_metrics))
        .with_state(AppState { readiness, metrics })
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if state.readiness.is_ready() {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not connected to RabbitMQ")
    }
}

async fn render_metrics(State(state): State<AppState>) -> impl IntoResponse {
    // Refresh the connection gauge before rendering.
    state.readiness.is_ready();
    match &state.metrics {
        Some(handle) => (
            StatusCode::OK,
            [("content-type", "text/plain; version=0.0.4")],
            handle.render(),
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            "metrics are served by the embedding process",
        )
            .into_response(),
    }
}

/// Serves the routes on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    readiness: Readiness,
    metrics: Option<PrometheusHandle>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(readiness, metrics))
        .with_graceful_shutdown(shutdown)
        .await
}
