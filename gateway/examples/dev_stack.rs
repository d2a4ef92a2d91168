//! Local development stack: the real API service (`mm_api::testing`, fresh SQLite database in a
//! temporary directory) plus the gateway, for poking at the REST API or running schemathesis
//! locally. With `--fake`, the in-memory stand-in of the gateway tests replaces the API.
//!
//! ```text
//! cargo run -p mm-gateway --example dev_stack -- 127.0.0.1:18080
//! # prints the gateway URL and an Authorization header value, then:
//! MM_SCHEMATHESIS_AUTH="Basic ..." gateway/schemathesis/run.sh http://127.0.0.1:18080
//! ```
//!
//! Arguments: the gateway address (default `127.0.0.1:18080`) and optionally `--fake`.
//! Stops on ctrl-c.

#[path = "../tests/support/fake_api.rs"]
mod fake_api;

use base64::Engine;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let fake = args.iter().any(|a| a == "--fake");
    let addr = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:18080".into());
    let (api_url, username, password, _keep) = if fake {
        let api = fake_api::spawn().await;
        (
            api.url(),
            fake_api::USERNAME.to_owned(),
            fake_api::PASSWORD.to_owned(),
            None,
        )
    } else {
        let api = mm_api::testing::spawn_api(mm_api::testing::TestBackend::Sqlite)
            .await
            .ok_or_else(|| anyhow::anyhow!("could not start the API service"))?;
        (
            api.url.clone(),
            api.admin_username.clone(),
            api.admin_password.clone(),
            Some(api),
        )
    };
    let state = mm_gateway::GatewayState::new(
        &api_url,
        mm_gateway::HttpSettings {
            cors_origins: Vec::new(),
            body_limit: mm_gateway::DEFAULT_BODY_LIMIT,
            request_timeout: mm_gateway::DEFAULT_REQUEST_TIMEOUT,
        },
    )?;
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    println!("gateway: http://{}", listener.local_addr()?);
    println!("api: {api_url}{}", if fake { " (in-memory)" } else { "" });
    println!("auth: Basic {basic}");
    mm_gateway::serve_app(mm_gateway::app(state), listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
