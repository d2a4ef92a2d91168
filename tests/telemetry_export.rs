//! Traces leave the product over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, and a REST
//! call's trace continues from the caller through the gateway into the API.

mod support;

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
    trace_service_server::{TraceService, TraceServiceServer},
};
use support::{Running, free_port};

/// A span as the collector received it.
#[derive(Debug, Clone)]
struct ReceivedSpan {
    service: String,
    name: String,
    trace_id: String,
}

#[derive(Clone, Default)]
struct Collector {
    spans: Arc<Mutex<Vec<ReceivedSpan>>>,
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut spans = self.spans.lock().unwrap();
        for resource_spans in request.into_inner().resource_spans {
            let service = resource_spans
                .resource
                .iter()
                .flat_map(|r| r.attributes.iter())
                .find(|kv| kv.key == "service.name")
                .and_then(|kv| kv.value.as_ref())
                .map(|v| format!("{:?}", v.value))
                .unwrap_or_default();
            for scope in resource_spans.scope_spans {
                for span in scope.spans {
                    spans.push(ReceivedSpan {
                        service: service.clone(),
                        name: span.name,
                        trace_id: hex(&span.trace_id),
                    });
                }
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rest_call_is_traced_through_gateway_and_api_over_otlp() {
    let collector = Collector::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let collector_addr = listener.local_addr().unwrap();
    let server = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(collector.clone()))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );

    let data_dir = tempfile::tempdir().unwrap();
    let http_port = free_port();
    let mut product = Running::spawn(
        "mirror-maestro",
        &["up"],
        &[
            ("MM_DATA_DIR", data_dir.path().display().to_string()),
            ("MM_HTTP_ADDR", format!("127.0.0.1:{http_port}")),
            ("MM_GRPC_ADDR", format!("127.0.0.1:{}", free_port())),
            ("MM_ADMIN_PASSWORD", "telemetry-password".to_owned()),
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("http://{collector_addr}"),
            ),
        ],
    );
    product.wait_for_line("Web console & REST API", Duration::from_secs(60));

    // The caller's trace id; the gateway and the API must continue it.
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let response = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{http_port}/api/instances"))
        .basic_auth("admin", Some("telemetry-password"))
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // A graceful stop flushes the batch exporter.
    let pid = product.child.id().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let names: HashSet<String> = collector
            .spans
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.trace_id == trace_id)
            .map(|s| s.name.clone())
            .collect();
        // One span from the gateway's edge and one from the API's request handling.
        if names.contains("http_request") && names.contains("request") {
            break;
        }
        if Instant::now() > deadline {
            let all = collector.spans.lock().unwrap().clone();
            panic!(
                "spans of trace {trace_id} from both services not received; got {all:#?}\n{}",
                product.drain()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let spans = collector.spans.lock().unwrap().clone();
    assert!(
        spans.iter().all(|s| s.service.contains("mirror-maestro")),
        "unexpected service names: {spans:#?}"
    );
    server.abort();
}
