//! The gRPC side: one lazily connected channel to the API service, and the metadata every call
//! forwards (`authorization`, `x-request-id`, `traceparent`/`tracestate`).

use std::time::Duration;

use axum::extract::FromRequestParts;
use http::{HeaderValue, header, request::Parts};
use mm_proto::v1::{
    auth_service_client::AuthServiceClient, dashboard_service_client::DashboardServiceClient,
    instance_service_client::InstanceServiceClient, job_service_client::JobServiceClient,
    mirror_service_client::MirrorServiceClient, pair_service_client::PairServiceClient,
    search_service_client::SearchServiceClient, topology_service_client::TopologyServiceClient,
};
use tonic::{
    metadata::{AsciiMetadataValue, MetadataMap},
    transport::{Channel, Endpoint},
};
use tonic_health::pb::health_client::HealthClient;

use crate::{errors::GatewayError, middleware::RequestId};

/// How long to wait for a TCP/HTTP2 connection to the API service.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Deadline of one gRPC call.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Clients of the API service sharing one channel. Cheap to clone.
#[derive(Clone, Debug)]
pub struct ApiClients {
    channel: Channel,
}

impl ApiClients {
    /// A lazily connecting channel to `api_url`: nothing is dialled until the first call, so
    /// the gateway starts (and answers `/api/health/quick`) while the API service is down.
    pub fn connect_lazy(api_url: &str) -> anyhow::Result<Self> {
        let endpoint = Endpoint::from_shared(api_url.to_owned())
            .map_err(|e| anyhow::anyhow!("MM_API_URL: {e}"))?
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(CALL_TIMEOUT)
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(30))
            .keep_alive_timeout(Duration::from_secs(10))
            .keep_alive_while_idle(true);
        Ok(Self {
            channel: endpoint.connect_lazy(),
        })
    }

    pub fn auth(&self) -> AuthServiceClient<Channel> {
        AuthServiceClient::new(self.channel.clone())
    }

    pub fn instances(&self) -> InstanceServiceClient<Channel> {
        InstanceServiceClient::new(self.channel.clone())
    }

    pub fn pairs(&self) -> PairServiceClient<Channel> {
        PairServiceClient::new(self.channel.clone())
    }

    pub fn mirrors(&self) -> MirrorServiceClient<Channel> {
        MirrorServiceClient::new(self.channel.clone())
    }

    pub fn jobs(&self) -> JobServiceClient<Channel> {
        JobServiceClient::new(self.channel.clone())
    }

    pub fn dashboard(&self) -> DashboardServiceClient<Channel> {
        DashboardServiceClient::new(self.channel.clone())
    }

    pub fn topology(&self) -> TopologyServiceClient<Channel> {
        TopologyServiceClient::new(self.channel.clone())
    }

    pub fn search(&self) -> SearchServiceClient<Channel> {
        SearchServiceClient::new(self.channel.clone())
    }

    pub fn health(&self) -> HealthClient<Channel> {
        HealthClient::new(self.channel.clone())
    }
}

/// What a REST request passes on to the API service. Extracted from every handler that calls
/// the API; the `Authorization` header is forwarded verbatim (the API service authenticates).
#[derive(Debug, Clone, Default)]
pub struct Forward {
    authorization: Option<AsciiMetadataValue>,
    request_id: Option<AsciiMetadataValue>,
    traceparent: Option<AsciiMetadataValue>,
    tracestate: Option<AsciiMetadataValue>,
}

impl Forward {
    /// Whether the client sent credentials at all.
    pub fn has_credentials(&self) -> bool {
        self.authorization.is_some()
    }

    /// Uses `token` as bearer credentials when the request carried no `Authorization` header
    /// (for clients that cannot send headers, such as the browser's `EventSource`).
    pub fn or_bearer(mut self, token: Option<&str>) -> Result<Self, GatewayError> {
        if self.authorization.is_some() {
            return Ok(self);
        }
        if let Some(token) = token.map(str::trim).filter(|t| !t.is_empty()) {
            let mut value = AsciiMetadataValue::try_from(format!("Bearer {token}"))
                .map_err(|_| GatewayError::unauthenticated("malformed access_token"))?;
            // Kept out of debug output and of HTTP/2 header compression tables.
            value.set_sensitive(true);
            self.authorization = Some(value);
        }
        Ok(self)
    }

    /// Wraps a gRPC message with the forwarded metadata.
    pub fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        self.apply(request.metadata_mut());
        // When traces are exported, the API's spans become children of the gateway's span
        // (which itself continues the client's trace); otherwise the client's context passes.
        let mut traced = http::HeaderMap::new();
        mm_telemetry::inject_current_context(&mut traced);
        for key in ["traceparent", "tracestate"] {
            if let Some(value) = traced.get(key).and_then(ascii) {
                request.metadata_mut().insert(key, value);
            }
        }
        request
    }

    fn apply(&self, metadata: &mut MetadataMap) {
        let entries = [
            ("authorization", &self.authorization),
            ("x-request-id", &self.request_id),
            ("traceparent", &self.traceparent),
            ("tracestate", &self.tracestate),
        ];
        for (key, value) in entries {
            if let Some(value) = value {
                metadata.insert(key, value.clone());
            }
        }
    }

    /// Builds the forwarded metadata from request headers.
    pub fn from_headers(
        headers: &http::HeaderMap,
        request_id: Option<&str>,
    ) -> Result<Self, GatewayError> {
        let authorization = match headers.get(header::AUTHORIZATION) {
            None => None,
            Some(value) => {
                let mut value = ascii(value).ok_or_else(|| {
                    GatewayError::unauthenticated("malformed Authorization header")
                })?;
                value.set_sensitive(true);
                Some(value)
            }
        };
        let request_id = request_id.and_then(|id| AsciiMetadataValue::try_from(id).ok());
        let traceparent = headers
            .get("traceparent")
            .filter(|v| valid_traceparent(v))
            .and_then(ascii);
        let tracestate = traceparent
            .as_ref()
            .and(headers.get("tracestate"))
            .filter(|v| v.len() <= 512)
            .and_then(ascii);
        Ok(Self {
            authorization,
            request_id,
            traceparent,
            tracestate,
        })
    }
}

fn ascii(value: &HeaderValue) -> Option<AsciiMetadataValue> {
    let text = value.to_str().ok()?;
    AsciiMetadataValue::try_from(text).ok()
}

/// `version-traceid-parentid-flags`, W3C Trace Context level 1 (`00-<32 hex>-<16 hex>-<2 hex>`).
fn valid_traceparent(value: &HeaderValue) -> bool {
    let Ok(text) = value.to_str() else {
        return false;
    };
    let parts: Vec<&str> = text.split('-').collect();
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    parts.len() >= 4
        && hex(parts[0], 2)
        && parts[0] != "ff"
        && hex(parts[1], 32)
        && parts[1].bytes().any(|b| b != b'0')
        && hex(parts[2], 16)
        && parts[2].bytes().any(|b| b != b'0')
        && hex(parts[3], 2)
}

impl<S> FromRequestParts<S> for Forward
where
    S: Send + Sync,
{
    type Rejection = GatewayError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let request_id = parts.extensions.get::<RequestId>().map(|r| r.0.clone());
        Forward::from_headers(&parts.headers, request_id.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwards_credentials_request_id_and_trace_context() {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic YWRtaW46eA=="),
        );
        headers.insert(
            "traceparent",
            HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        );
        headers.insert("tracestate", HeaderValue::from_static("vendor=1"));
        let forward = Forward::from_headers(&headers, Some("req-1")).unwrap();
        let request = forward.request(());
        let md = request.metadata();
        assert_eq!(md.get("authorization").unwrap(), "Basic YWRtaW46eA==");
        assert_eq!(md.get("x-request-id").unwrap(), "req-1");
        assert!(md.get("traceparent").is_some());
        assert_eq!(md.get("tracestate").unwrap(), "vendor=1");
    }

    #[test]
    fn invalid_trace_context_is_dropped_and_bad_credentials_rejected() {
        let mut headers = http::HeaderMap::new();
        headers.insert("traceparent", HeaderValue::from_static("garbage"));
        headers.insert("tracestate", HeaderValue::from_static("vendor=1"));
        let forward = Forward::from_headers(&headers, None).unwrap();
        let request = forward.request(());
        assert!(request.metadata().get("traceparent").is_none());
        assert!(request.metadata().get("tracestate").is_none());
        assert!(!forward.has_credentials());

        let mut headers = http::HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap(),
        );
        let error = Forward::from_headers(&headers, None).unwrap_err();
        assert_eq!(error.status, http::StatusCode::UNAUTHORIZED);
    }
}
