//! One port for gRPC, gRPC-Web, health and reflection.

use std::future::Future;

use anyhow::Context as _;
use axum::{Router, http::StatusCode, middleware};
use mm_proto::v1::{
    auth_service_server::AuthServiceServer, dashboard_service_server::DashboardServiceServer,
    instance_service_server::InstanceServiceServer, job_service_server::JobServiceServer,
    mirror_service_server::MirrorServiceServer, pair_service_server::PairServiceServer,
    search_service_server::SearchServiceServer, topology_service_server::TopologyServiceServer,
};
use tonic::service::Routes;
use tonic_web::GrpcWebLayer;

use crate::{
    ApiContext,
    auth::{AuthServiceImpl, require_authentication},
    insights::{DashboardServiceImpl, SearchServiceImpl, TopologyServiceImpl},
    instances::InstanceServiceImpl,
    jobs::JobServiceImpl,
    mirrors::MirrorServiceImpl,
    pairs::PairServiceImpl,
};

/// The gRPC services, health, reflection (v1 and v1alpha) and gRPC-Web as an axum router,
/// with authentication applied and a 404 fallback.
///
/// The router already has its fallback: merge routers without one (such as `/metrics`) into
/// it, not the other way round, since axum refuses to merge two fallbacks.
pub fn router(ctx: ApiContext) -> Router {
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    // Per-service statuses; the overall status ("") starts as SERVING.
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move {
            health_reporter
                .set_serving::<AuthServiceServer<AuthServiceImpl>>()
                .await;
            health_reporter
                .set_serving::<InstanceServiceServer<InstanceServiceImpl>>()
                .await;
            health_reporter
                .set_serving::<PairServiceServer<PairServiceImpl>>()
                .await;
            health_reporter
                .set_serving::<MirrorServiceServer<MirrorServiceImpl>>()
                .await;
            health_reporter
                .set_serving::<JobServiceServer<JobServiceImpl>>()
                .await;
        });
    }

    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(mm_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection_v1 = reflection()
        .build_v1()
        .expect("the embedded descriptor sets are valid");
    let reflection_v1alpha = reflection()
        .build_v1alpha()
        .expect("the embedded descriptor sets are valid");

    let authenticator = ctx.authenticator().clone();
    Routes::builder()
        .routes()
        .add_service(AuthServiceServer::new(AuthServiceImpl::new(
            authenticator.clone(),
        )))
        .add_service(InstanceServiceServer::new(InstanceServiceImpl::new(
            ctx.clone(),
        )))
        .add_service(PairServiceServer::new(PairServiceImpl::new(ctx.clone())))
        .add_service(MirrorServiceServer::new(MirrorServiceImpl::new(
            ctx.clone(),
        )))
        .add_service(DashboardServiceServer::new(DashboardServiceImpl::new(
            ctx.clone(),
        )))
        .add_service(TopologyServiceServer::new(TopologyServiceImpl::new(
            ctx.clone(),
        )))
        .add_service(SearchServiceServer::new(SearchServiceImpl::new(
            ctx.clone(),
        )))
        .add_service(JobServiceServer::new(JobServiceImpl::new(ctx)))
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .prepare()
        .into_axum_router()
        .layer(middleware::from_fn_with_state(
            authenticator,
            require_authentication,
        ))
        // Outside authentication, so gRPC-Web callers get its errors in their framing too.
        .layer(GrpcWebLayer::new())
        .layer(middleware::from_fn(mm_telemetry::trace_request))
        .layer(mm_telemetry::MetricsLayer::new("api"))
        // Set after the layers so plain HTTP/1 requests to unknown paths get a 404 rather than
        // the gRPC-Web layer's 400.
        .fallback(not_found)
}

async fn not_found() -> StatusCode {
    StatusCode::NOT_FOUND
}

/// Serves [`router`] on `listener` until `shutdown` resolves, then finishes in-flight
/// requests.
pub async fn serve(
    ctx: ApiContext,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let address = listener.local_addr().ok();
    tracing::info!(address = ?address, "gRPC API listening");
    // Metrics and liveness sit beside the gRPC services, outside authentication.
    let app = router(ctx)
        .merge(mm_telemetry::metrics_router())
        .route("/healthz", axum::routing::get(|| async { "ok" }));
    // Without TCP_NODELAY, responses written in several segments (a topology, a page of
    // mirrors) wait for the peer's delayed ACK: about 40 ms each.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving the gRPC API")
}
