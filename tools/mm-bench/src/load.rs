//! Closed-loop load at a fixed concurrency, with exact latency percentiles.

use std::time::{Duration, Instant};

use mm_proto::v1::{GetPairRequest, ListPairsRequest, pair_service_client::PairServiceClient};
use rand::Rng as _;

use crate::product::Product;

#[derive(Debug, Clone, Copy)]
pub enum Operation {
    GrpcGet,
    GrpcList,
    RestGet,
    RestList,
}

impl Operation {
    pub const ALL: [Operation; 4] = [
        Operation::GrpcGet,
        Operation::GrpcList,
        Operation::RestGet,
        Operation::RestList,
    ];

    pub fn edge(self) -> &'static str {
        match self {
            Operation::GrpcGet | Operation::GrpcList => "gRPC",
            Operation::RestGet | Operation::RestList => "REST",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Operation::GrpcGet | Operation::RestGet => "get pair",
            Operation::GrpcList | Operation::RestList => "list 50",
        }
    }
}

pub struct Measurement {
    pub requests: usize,
    pub errors: usize,
    elapsed: Duration,
    latencies_us: Vec<u64>,
}

impl Measurement {
    pub fn requests_per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    pub fn percentile_ms(&self, percentile: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let rank = ((percentile / 100.0) * (self.latencies_us.len() - 1) as f64).round() as usize;
        self.latencies_us[rank] as f64 / 1000.0
    }
}

pub async fn run(
    product: &Product,
    operation: Operation,
    concurrency: usize,
    seconds: u64,
) -> anyhow::Result<Measurement> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    // Warm-up, not measured.
    drive(
        product,
        &http,
        operation,
        concurrency,
        Duration::from_secs(1),
    )
    .await;
    let started = Instant::now();
    let results = drive(
        product,
        &http,
        operation,
        concurrency,
        Duration::from_secs(seconds),
    )
    .await;
    let elapsed = started.elapsed();
    let mut latencies_us = Vec::new();
    let mut errors = 0;
    for (latencies, failed) in results {
        latencies_us.extend(latencies);
        errors += failed;
    }
    latencies_us.sort_unstable();
    Ok(Measurement {
        requests: latencies_us.len(),
        errors,
        elapsed,
        latencies_us,
    })
}

async fn drive(
    product: &Product,
    http: &reqwest::Client,
    operation: Operation,
    concurrency: usize,
    duration: Duration,
) -> Vec<(Vec<u64>, usize)> {
    let deadline = Instant::now() + duration;
    let mut workers = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let grpc = PairServiceClient::new(product.grpc.clone());
        let http = http.clone();
        let base = product.http_base.clone();
        let bearer = product.bearer.clone();
        let ids = product.pair_ids.clone();
        let requests = RequestFactory {
            bearer: bearer.clone(),
        };
        workers.push(tokio::spawn(async move {
            let mut grpc = grpc;
            let mut latencies = Vec::new();
            let mut failed = 0;
            while Instant::now() < deadline {
                let id = ids[rand::rng().random_range(0..ids.len())];
                let started = Instant::now();
                let ok = match operation {
                    Operation::GrpcGet => grpc
                        .get_pair(requests.make(GetPairRequest { id }))
                        .await
                        .is_ok(),
                    Operation::GrpcList => grpc
                        .list_pairs(requests.make(ListPairsRequest {
                            page_size: 50,
                            ..Default::default()
                        }))
                        .await
                        .is_ok(),
                    Operation::RestGet => {
                        rest_ok(
                            http.get(format!("{base}/api/pairs/{id}"))
                                .header("authorization", &bearer),
                        )
                        .await
                    }
                    Operation::RestList => {
                        rest_ok(
                            http.get(format!("{base}/api/pairs?per_page=50"))
                                .header("authorization", &bearer),
                        )
                        .await
                    }
                };
                if ok {
                    latencies.push(started.elapsed().as_micros() as u64);
                } else {
                    failed += 1;
                }
            }
            (latencies, failed)
        }));
    }
    let mut results = Vec::with_capacity(concurrency);
    for worker in workers {
        if let Ok(result) = worker.await {
            results.push(result);
        }
    }
    results
}

struct RequestFactory {
    bearer: String,
}

impl RequestFactory {
    fn make<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        if let Ok(value) = self.bearer.parse() {
            request.metadata_mut().insert("authorization", value);
        }
        request
    }
}

async fn rest_ok(request: reqwest::RequestBuilder) -> bool {
    match request.send().await {
        Ok(response) => {
            let ok = response.status().is_success();
            let _ = response.bytes().await;
            ok
        }
        Err(_) => false,
    }
}
