//! Telemetry shared by every Mirror Maestro process: structured logs, OpenTelemetry traces
//! over OTLP (only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set), W3C trace-context propagation
//! between services, and Prometheus metrics.

mod logging;
mod metrics_http;
mod propagation;

pub use logging::{TelemetryGuard, init};
pub use metrics_http::{MetricsLayer, metrics_handle, metrics_router, record_request};
pub use propagation::{
    extract_parent_context, inject_current_context, set_remote_parent, trace_request,
};
