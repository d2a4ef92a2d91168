//! REST/JSON gateway of Mirror Maestro.
//!
//! The gateway serves the REST API (`/api/...`), its OpenAPI document (`/api/openapi.json`),
//! Swagger UI (`/api/docs`) and the web UI (`/`). It holds no data: every REST call becomes a
//! call of the gRPC API service through one lazily connected channel, forwarding the
//! `Authorization` header (the API service authenticates), `X-Request-ID` and W3C trace context.
//!
//! Composition:
//! - [`router`] returns every route with the gateway middleware but **no fallback**, so other
//!   routers (e.g. Prometheus `/metrics`) can be merged into it.
//! - [`fallback_router`] holds only the JSON 404 fallback; merge it last ([`app`] does).
//! - [`serve`] builds the state, the app and serves it until `shutdown` resolves.

pub mod auth;
pub mod common;
pub mod errors;
pub mod export;
pub mod extract;
pub mod grpc;
pub mod health;
pub mod insights;
pub mod instances;
pub mod jobs;
pub mod middleware;
pub mod mirrors;
pub mod openapi;
pub mod pairs;
pub mod web;

use std::{future::Future, sync::Arc, time::Duration};

use axum::{Router, extract::DefaultBodyLimit};
use http::StatusCode;
use tower_http::{limit::RequestBodyLimitLayer, timeout::TimeoutLayer};
use utoipa_swagger_ui::SwaggerUi;

pub use errors::{ErrorBody, GatewayError};
pub use openapi::openapi;

/// Largest accepted request body (imports of exported files accept
/// [`export::IMPORT_BODY_LIMIT`]).
pub const DEFAULT_BODY_LIMIT: usize = 256 * 1024;
/// Longest a request may take end to end.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Shared state of the gateway: the API clients and the HTTP settings. Cheap to clone.
#[derive(Clone, Debug)]
pub struct GatewayState {
    api: grpc::ApiClients,
    http: Arc<HttpSettings>,
}

/// HTTP-side settings of the gateway.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    /// Origins allowed by CORS; empty disables CORS, `*` allows any.
    pub cors_origins: Vec<String>,
    /// Largest accepted request body in bytes.
    pub body_limit: usize,
    /// End-to-end request timeout (answered with 504).
    pub request_timeout: Duration,
}

impl GatewayState {
    /// State with explicit HTTP settings (the channel is lazy: nothing is dialled here).
    pub fn new(api_url: &str, http: HttpSettings) -> anyhow::Result<Self> {
        Ok(Self {
            api: grpc::ApiClients::connect_lazy(api_url)?,
            http: Arc::new(http),
        })
    }

    /// The gRPC clients of the API service.
    pub fn api(&self) -> &grpc::ApiClients {
        &self.api
    }

    pub fn http_settings(&self) -> &HttpSettings {
        &self.http
    }
}

/// Builds the gateway state from the settings: a lazy channel to `settings.api_url`.
pub fn state(settings: &mm_config::Settings) -> anyhow::Result<GatewayState> {
    GatewayState::new(
        &settings.api_url,
        HttpSettings {
            cors_origins: settings.cors_origin_list(),
            body_limit: DEFAULT_BODY_LIMIT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        },
    )
}

/// Every route of the gateway (REST API, OpenAPI document, Swagger UI, web UI) with the
/// gateway middleware applied, and no fallback.
pub fn router(state: GatewayState) -> Router {
    let document = openapi::openapi();
    let swagger: Router = SwaggerUi::new("/api/docs")
        .url("/api/openapi.json", document)
        .into();
    let (regular, bulk) = openapi::api_routers();
    let limit = state.http_settings().body_limit;
    let bulk_limit = export::IMPORT_BODY_LIMIT.max(limit);
    let regular = with_body_limit(regular.split_for_parts().0, limit);
    let bulk = with_body_limit(bulk.split_for_parts().0, bulk_limit);
    let routes = Router::new()
        .merge(regular.with_state(state.clone()))
        .merge(bulk.with_state(state.clone()))
        .merge(swagger)
        .merge(web::router());
    with_middleware(routes, &state)
}

/// Rejects request bodies over `limit` bytes with 413 (rendered as the JSON error body by the
/// edge middleware).
fn with_body_limit(router: Router<GatewayState>, limit: usize) -> Router<GatewayState> {
    router
        .layer(DefaultBodyLimit::max(limit))
        .layer(RequestBodyLimitLayer::new(limit))
}

/// A router holding only the fallback: a JSON 404 for every unknown path, with the same
/// middleware as [`router`]. Merge it after every other router.
pub fn fallback_router(state: &GatewayState) -> Router {
    with_middleware(Router::new().fallback(middleware::not_found), state)
}

/// [`router`] plus [`fallback_router`]: the complete gateway application.
pub fn app(state: GatewayState) -> Router {
    let fallback = fallback_router(&state);
    router(state).merge(fallback)
}

fn with_middleware(router: Router, state: &GatewayState) -> Router {
    let http = state.http_settings();
    let router = router
        .layer(mm_telemetry::MetricsLayer::new("gateway"))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::GATEWAY_TIMEOUT,
            http.request_timeout,
        ));
    let router = match middleware::cors(&http.cors_origins) {
        Some(cors) => router.layer(cors),
        None => router,
    };
    router.layer(axum::middleware::from_fn(middleware::edge))
}

/// Serves the gateway on `listener` until `shutdown` resolves, then drains open requests.
pub async fn serve(
    settings: &mm_config::Settings,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let state = state(settings)?;
    let fallback = fallback_router(&state);
    let app = router(state)
        .merge(mm_telemetry::metrics_router())
        .merge(fallback);
    serve_app(app, listener, shutdown).await
}

/// Serves an already composed router (for callers that merged extra routes into [`router`]).
pub async fn serve_app(
    app: Router,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "REST gateway listening");
    }
    // Without TCP_NODELAY, responses written in several segments wait for the client's
    // delayed ACK (about 40 ms each).
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}
