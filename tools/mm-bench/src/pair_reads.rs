//! Requests per second and latency percentiles of the API (gRPC) and the gateway (REST) for
//! reads of pairs, at a fixed concurrency, on SQLite and PostgreSQL. The services run in this
//! process on loopback, the way the embedded product runs them.

use crate::load::{self, Measurement, Operation};
use crate::product;

#[derive(clap::Args)]
pub struct Args {
    /// Concurrent in-flight requests per scenario.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Measured seconds per scenario (after a 1 s warm-up).
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Pairs in the database.
    #[arg(long, default_value_t = 200)]
    pairs: usize,
    /// Backends to measure: sqlite, postgres or both.
    #[arg(long, default_value = "both")]
    backend: String,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let backends: Vec<mm_storage::testing::TestBackend> = match args.backend.as_str() {
        "sqlite" => vec![mm_storage::testing::TestBackend::Sqlite],
        "postgres" => vec![mm_storage::testing::TestBackend::Postgres],
        "both" => mm_storage::testing::TestBackend::ALL.to_vec(),
        other => anyhow::bail!("--backend: expected sqlite, postgres or both, got {other:?}"),
    };

    println!(
        "mm-bench: concurrency {}, {} s per scenario, {} pairs, {} cores",
        args.concurrency,
        args.seconds,
        args.pairs,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "{:<9} {:<5} {:<10} {:>9} {:>10} {:>9} {:>9} {:>7}",
        "backend", "edge", "operation", "requests", "req/s", "p50 ms", "p99 ms", "errors"
    );
    for backend in backends {
        let product = product::Product::start(backend, args.pairs).await?;
        for operation in Operation::ALL {
            let measurement: Measurement =
                load::run(&product, operation, args.concurrency, args.seconds).await?;
            println!(
                "{:<9} {:<5} {:<10} {:>9} {:>10.0} {:>9.2} {:>9.2} {:>7}",
                format!("{backend:?}").to_lowercase(),
                operation.edge(),
                operation.name(),
                measurement.requests,
                measurement.requests_per_second(),
                measurement.percentile_ms(50.0),
                measurement.percentile_ms(99.0),
                measurement.errors
            );
        }
        product.stop().await;
    }
    Ok(())
}
