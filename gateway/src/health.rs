//! `/api/health/quick`, `/api/health` and `/api/about`.

use std::time::Instant;

use axum::extract::State;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};
use utoipa::ToSchema;

use crate::{GatewayState, auth, errors::GatewayError, extract::Json, grpc::Forward};

/// Liveness of the gateway itself.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QuickHealth {
    /// Always `ok`.
    #[schema(example = "ok")]
    pub status: String,
}

/// Health of the gateway and of the services behind it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `healthy` when every component is healthy, otherwise `degraded` or `unhealthy`.
    #[schema(example = "healthy")]
    pub status: String,
    /// When the check ran (UTC).
    #[schema(format = DateTime)]
    pub timestamp: String,
    /// Version of the gateway.
    pub version: String,
    pub components: Vec<Component>,
}

/// One checked component.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Component {
    /// `gateway` or `api`.
    pub name: String,
    /// `healthy`, `degraded` or `unhealthy`.
    pub status: String,
    pub message: String,
    /// How long the check took, in milliseconds.
    pub latency_ms: f64,
}

/// About Mirror Maestro.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct About {
    #[schema(example = "Mirror Maestro")]
    pub name: String,
    pub version: String,
    pub description: String,
    pub repository: String,
    pub license: String,
    /// Where the interactive API documentation is served.
    #[schema(example = "/api/docs")]
    pub documentation: String,
}

/// Quick liveness check.
///
/// Needs no authentication and does not call the API service.
#[utoipa::path(
    get, path = "/api/health/quick", tag = "health", operation_id = "health_quick",
    responses((status = 200, description = "The gateway is up", body = QuickHealth))
)]
pub async fn quick() -> Json<QuickHealth> {
    Json(QuickHealth {
        status: "ok".into(),
    })
}

/// Health of the gateway and the API service.
///
/// Authenticates through the API service, then asks its gRPC health service.
#[utoipa::path(
    get, path = "/api/health", tag = "health", operation_id = "health",
    responses((status = 200, description = "Health report", body = Health)),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn health(
    State(state): State<GatewayState>,
    forward: Forward,
) -> Result<Json<Health>, GatewayError> {
    let started = Instant::now();
    auth::who_am_i(&state, &forward).await?;
    let auth_ms = elapsed_ms(started);

    let started = Instant::now();
    let checked = state
        .api()
        .health()
        .check(forward.request(HealthCheckRequest {
            service: String::new(),
        }))
        .await;
    let latency_ms = elapsed_ms(started);
    let api = match checked {
        Ok(response) => match response.into_inner().status() {
            ServingStatus::Serving => component("api", "healthy", "serving", latency_ms),
            other => component(
                "api",
                "unhealthy",
                &format!("gRPC health status {}", other.as_str_name()),
                latency_ms,
            ),
        },
        Err(status) if status.code() == tonic::Code::Unimplemented => component(
            "api",
            "degraded",
            &format!(
                "reachable (authentication took {auth_ms:.1} ms) but has no gRPC health service"
            ),
            latency_ms,
        ),
        Err(status) => {
            tracing::warn!(grpc.code = ?status.code(), grpc.message = status.message(), "API health check failed");
            component("api", "unhealthy", "health check failed", latency_ms)
        }
    };
    let gateway = component("gateway", "healthy", "serving", 0.0);
    let status = worst([&gateway.status, &api.status]);
    Ok(Json(Health {
        status,
        timestamp: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        version: env!("CARGO_PKG_VERSION").into(),
        components: vec![gateway, api],
    }))
}

/// About Mirror Maestro.
#[utoipa::path(
    get, path = "/api/about", tag = "health", operation_id = "about",
    responses((status = 200, description = "Product information", body = About)),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn about(
    State(state): State<GatewayState>,
    forward: Forward,
) -> Result<Json<About>, GatewayError> {
    auth::who_am_i(&state, &forward).await?;
    Ok(Json(About {
        name: "Mirror Maestro".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        description: "Orchestrates GitLab repository mirrors across pairs of GitLab instances"
            .into(),
        repository: env!("CARGO_PKG_REPOSITORY").into(),
        license: "MIT".into(),
        documentation: "/api/docs".into(),
    }))
}

fn component(name: &str, status: &str, message: &str, latency_ms: f64) -> Component {
    Component {
        name: name.into(),
        status: status.into(),
        message: message.into(),
        latency_ms,
    }
}

fn elapsed_ms(started: Instant) -> f64 {
    (started.elapsed().as_secs_f64() * 1000.0 * 10.0).round() / 10.0
}

fn worst<'a>(statuses: impl IntoIterator<Item = &'a String>) -> String {
    let rank = |s: &str| match s {
        "healthy" => 0,
        "degraded" => 1,
        _ => 2,
    };
    statuses
        .into_iter()
        .max_by_key(|s| rank(s))
        .cloned()
        .unwrap_or_else(|| "healthy".into())
}
