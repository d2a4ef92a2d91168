//! `gitlab-sim`: serve simulated GitLab instances until interrupted.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use gitlab_sim::{
    Edition, FaultConfig, InstanceSpec, MirrorTiming, RateLimitConfig, RateLimitMode, Seed, Sim,
    SimConfig,
};

/// Simulated GitLab instances (REST API v4 + git smart HTTP) on loopback.
#[derive(Parser, Debug)]
#[command(name = "gitlab-sim", version)]
struct Cli {
    /// TOML or JSON configuration file (CLI flags below override it).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Number of instances (ignored when the config lists instances).
    #[arg(long)]
    instances: Option<usize>,
    /// First port; instance i listens on base-port + i. 0 = OS-assigned.
    #[arg(long)]
    base_port: Option<u16>,
    /// Listen address.
    #[arg(long)]
    host: Option<String>,
    /// `demo`, `none`, or a seed file (TOML/JSON).
    #[arg(long)]
    seed: Option<String>,
    /// JSON state file with each instance's URL and admin token.
    #[arg(long)]
    state_file: Option<PathBuf>,
    /// Where bare repositories live (default: a temporary directory).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Editions per instance, comma separated (`ee,ce`); the last repeats.
    #[arg(long, value_delimiter = ',')]
    editions: Vec<String>,
    /// GitLab version reported by every instance (e.g. 17.6.1).
    #[arg(long = "gitlab-version")]
    gitlab_version: Option<String>,
    /// Fixed admin token for every instance.
    #[arg(long)]
    admin_token: Option<String>,
    /// Authenticated API rate limit, `LIMIT/PERIOD_SECS` (e.g. 60/60).
    #[arg(long)]
    rate_limit: Option<String>,
    /// `headers` (GitLab's RateLimit-* headers) or `plain` (bare 429).
    #[arg(long)]
    rate_limit_mode: Option<String>,
    /// Mirror timings for tests: no backoff, no pull interval, short updates.
    #[arg(long)]
    fast_mirrors: bool,
    /// Fault configuration (JSON, same shape as PUT /-/sim/faults).
    #[arg(long)]
    faults: Option<PathBuf>,
}

fn build_config(cli: &Cli) -> anyhow::Result<SimConfig> {
    let mut cfg = match &cli.config {
        Some(p) => SimConfig::load(p).with_context(|| format!("loading {}", p.display()))?,
        None => SimConfig::with_instances(cli.instances.unwrap_or(1)),
    };
    if cli.config.is_some()
        && let Some(n) = cli.instances
    {
        while cfg.instances.len() < n {
            let i = cfg.instances.len() + 1;
            cfg.instances.push(InstanceSpec::ee(&format!("gitlab-{i}")));
        }
        cfg.instances.truncate(n);
    }
    if let Some(p) = cli.base_port {
        cfg.base_port = p;
    }
    if let Some(h) = &cli.host {
        cfg.host = h.clone();
    }
    if let Some(s) = &cli.seed {
        cfg.seed = Seed::from_name(s);
    }
    if let Some(s) = &cli.state_file {
        cfg.state_file = Some(s.clone());
    }
    if let Some(d) = &cli.data_dir {
        cfg.data_dir = Some(d.clone());
    }
    let faults: Option<FaultConfig> = match &cli.faults {
        Some(p) => Some(serde_json::from_str(&std::fs::read_to_string(p)?)?),
        None => None,
    };
    let rate = match &cli.rate_limit {
        Some(r) => {
            let (l, p) = r
                .split_once('/')
                .context("--rate-limit LIMIT/PERIOD_SECS")?;
            let mut rl = RateLimitConfig::per_user(l.trim().parse()?, p.trim().parse()?);
            rl.unauthenticated = rl.authenticated;
            Some(rl)
        }
        None => None,
    };
    for (i, inst) in cfg.instances.iter_mut().enumerate() {
        if let Some(e) = cli.editions.get(i).or(cli.editions.last()) {
            inst.edition = if e.eq_ignore_ascii_case("ce") {
                Edition::Ce
            } else {
                Edition::Ee
            };
        }
        if let Some(v) = &cli.gitlab_version {
            inst.version = v.clone();
        }
        if let Some(t) = &cli.admin_token {
            inst.admin_token = Some(t.clone());
        }
        if let Some(rl) = &rate {
            inst.rate_limit = rl.clone();
        }
        if let Some(m) = &cli.rate_limit_mode {
            inst.rate_limit.mode = if m == "plain" {
                RateLimitMode::Plain
            } else {
                RateLimitMode::Headers
            };
        }
        if cli.fast_mirrors {
            inst.mirror_timing = MirrorTiming::fast();
        }
        if let Some(f) = &faults {
            inst.faults = f.clone();
        }
    }
    Ok(cfg)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GITLAB_SIM_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let cfg = build_config(&cli)?;
    let started = std::time::Instant::now();
    let sim = Sim::start(cfg).await?;
    println!(
        "gitlab-sim: {} instance(s) ready in {:.2?}",
        sim.instances.len(),
        started.elapsed()
    );
    for i in &sim.instances {
        let ed = match i.edition {
            Edition::Ee => "ee",
            Edition::Ce => "ce",
        };
        println!(
            "  {:<12} {:<28} {}-{}  admin token: {}",
            i.name, i.base_url, i.version, ed, i.admin_token
        );
        for u in &i.seeded_tokens {
            println!(
                "  {:<12} {:<28} user {:<12} token: {}",
                "", "", u.username, u.token
            );
        }
    }
    if let Some(p) = &cli.state_file {
        println!("state file: {}", p.display());
    }
    println!("data dir: {}", sim.data_dir.display());
    wait_for_signal().await;
    sim.shutdown().await;
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).expect("signal handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
