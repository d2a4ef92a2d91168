//! Health, reflection, gRPC-Web and plain HTTP on the shared port.

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

use crate::helpers::{TestApp, api_tests};

api_tests!(
    health_reports_serving,
    reflection_v1_lists_the_services,
    reflection_v1alpha_lists_the_services,
    unknown_http_paths_are_404,
    grpc_web_calls_work_and_are_authenticated,
);

async fn health_reports_serving(app: TestApp) {
    let mut client = HealthClient::new(app.channel.clone());
    for service in [
        "",
        "mirrormaestro.v1.InstanceService",
        "mirrormaestro.v1.PairService",
        "mirrormaestro.v1.MirrorService",
        "mirrormaestro.v1.JobService",
    ] {
        // Per-service statuses are registered right after start-up.
        let mut status = None;
        for _ in 0..50 {
            match client
                .check(HealthCheckRequest {
                    service: service.into(),
                })
                .await
            {
                Ok(response) => {
                    status = Some(response.into_inner().status);
                    break;
                }
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            }
        }
        assert_eq!(status, Some(ServingStatus::Serving as i32), "{service:?}");
    }
}

async fn reflection_v1_lists_the_services(app: TestApp) {
    use tonic_reflection::pb::v1::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };
    let mut client = ServerReflectionClient::new(app.channel.clone());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = client
        .server_reflection_info(tokio_stream::once(request))
        .await
        .unwrap()
        .into_inner();
    let response = responses.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected reflection response");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for expected in [
        "mirrormaestro.v1.InstanceService",
        "mirrormaestro.v1.PairService",
        "mirrormaestro.v1.MirrorService",
        "mirrormaestro.v1.JobService",
        "mirrormaestro.v1.AuthService",
        "grpc.health.v1.Health",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
}

async fn reflection_v1alpha_lists_the_services(app: TestApp) {
    use tonic_reflection::pb::v1alpha::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };
    let mut client = ServerReflectionClient::new(app.channel.clone());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = client
        .server_reflection_info(tokio_stream::once(request))
        .await
        .unwrap()
        .into_inner();
    let response = responses.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected reflection response");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names
            .iter()
            .any(|n| n == "mirrormaestro.v1.InstanceService"),
        "{names:?}"
    );
}

/// Sends a raw HTTP/1.1 request and returns the whole response.
async fn http1(app: &TestApp, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(app.api.addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    String::from_utf8_lossy(&response).into_owned()
}

async fn unknown_http_paths_are_404(app: TestApp) {
    let response = http1(
        &app,
        b"GET /no/such/path HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 404"), "{response}");
}

fn grpc_web_request(path: &str, authorization: Option<&str>) -> Vec<u8> {
    // One uncompressed, empty protobuf message.
    let body = [0u8, 0, 0, 0, 0];
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/grpc-web+proto\r\n\
         X-Grpc-Web: 1\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(value) = authorization {
        request.push_str(&format!("Authorization: {value}\r\n"));
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(&body);
    bytes
}

async fn grpc_web_calls_work_and_are_authenticated(app: TestApp) {
    let response = http1(
        &app,
        &grpc_web_request("/grpc.health.v1.Health/Check", None),
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("grpc-status:0"), "{response}");

    let response = http1(
        &app,
        &grpc_web_request("/mirrormaestro.v1.AuthService/WhoAmI", None),
    )
    .await;
    assert!(
        response.contains("grpc-status: 16") || response.contains("grpc-status:16"),
        "{response}"
    );

    let bearer = format!("Bearer {}", app.token);
    let response = http1(
        &app,
        &grpc_web_request("/mirrormaestro.v1.AuthService/WhoAmI", Some(&bearer)),
    )
    .await;
    assert!(response.contains("grpc-status:0"), "{response}");
    assert!(response.contains("admin"), "{response}");
}
