//! Prometheus metrics: one process-wide recorder, a `/metrics` route, and a layer that counts
//! requests and measures their latency by route, method and status.

use std::{
    future::Future,
    pin::Pin,
    sync::OnceLock,
    task::{Context, Poll},
    time::Instant,
};

use axum::{Router, extract::MatchedPath, routing::get};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process-wide Prometheus recorder, installed on first use.
pub fn metrics_handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("duration_seconds".to_owned()),
                    LATENCY_BUCKETS,
                )
                .expect("static bucket list is not empty")
                .build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (tests); the handle still renders
            // what this recorder would have recorded, so metrics keep working where it counts.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// A router serving `GET /metrics` in the Prometheus text format.
pub fn metrics_router() -> Router {
    let handle = metrics_handle();
    Router::new().route(
        "/metrics",
        get(move || {
            let handle = handle.clone();
            async move {
                (
                    [(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                    handle.render(),
                )
            }
        }),
    )
}

/// Records one finished request.
pub fn record_request(
    service: &'static str,
    route: &str,
    method: &str,
    status: &str,
    seconds: f64,
) {
    let labels = [
        ("service", service.to_owned()),
        ("route", route.to_owned()),
        ("method", method.to_owned()),
        ("status", status.to_owned()),
    ];
    metrics::counter!("mm_requests_total", &labels).increment(1);
    metrics::histogram!("mm_request_duration_seconds", &labels).record(seconds);
}

/// Tower layer recording `mm_requests_total` and `mm_request_duration_seconds`.
///
/// The route label is the matched route template (bounded cardinality); gRPC calls are
/// labelled with their method path and their `grpc-status` when it is in the headers.
#[derive(Clone, Copy)]
pub struct MetricsLayer {
    service: &'static str,
}

impl MetricsLayer {
    pub fn new(service: &'static str) -> Self {
        metrics_handle();
        Self { service }
    }
}

impl<S> tower::Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MetricsService {
            inner,
            service: self.service,
        }
    }
}

#[derive(Clone)]
pub struct MetricsService<S> {
    inner: S,
    service: &'static str,
}

impl<S, B, ResBody> tower::Service<http::Request<B>> for MetricsService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<ResBody>> + Send,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let started = Instant::now();
        let method = request.method().as_str().to_owned();
        let is_grpc = request
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/grpc"));
        // gRPC routes are matched by service (`/pkg.Service/{*rest}`); the method path is the
        // useful label, and unknown methods are rejected before they reach a handler.
        let route = match request.extensions().get::<MatchedPath>() {
            _ if is_grpc => request.uri().path().to_owned(),
            Some(path) => path.as_str().to_owned(),
            None => "unmatched".to_owned(),
        };
        let service = self.service;
        let future = self.inner.call(request);
        Box::pin(async move {
            let result = future.await;
            if let Ok(response) = &result {
                let status = if is_grpc {
                    let code = response
                        .headers()
                        .get("grpc-status")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("0");
                    format!("grpc:{code}")
                } else {
                    response.status().as_u16().to_string()
                };
                record_request(
                    service,
                    &route,
                    &method,
                    &status,
                    started.elapsed().as_secs_f64(),
                );
            }
            result
        })
    }
}
