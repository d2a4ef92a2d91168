//! The simulated GitLab instances of a benchmark (the `gitlab-sim` library in this process):
//! start, seed, rate limits, latency, and request statistics.

use std::time::Instant;

use gitlab_sim::{
    FaultConfig, FaultRule, InstanceSpec, MirrorTiming, ProjectSeed, RateLimitConfig, Seed,
    SeedSpec, Sim, SimConfig, SimInstance,
};

/// Path of the `i`-th benchmark project, the same on the source and the target instance.
pub fn project_path(i: usize) -> String {
    format!("bench/team-{:02}/service-{i:05}", i % 20)
}

pub fn project_paths(count: usize) -> Vec<String> {
    (0..count).map(project_path).collect()
}

/// Starts `count` Enterprise Edition instances with fast mirror timings (no push back-off,
/// short updates), no rate limit and no seed.
pub async fn start(count: usize) -> anyhow::Result<Sim> {
    Sim::start(SimConfig {
        instances: (0..count)
            .map(|i| {
                InstanceSpec::ee(&format!("gitlab-{i}")).with_mirror_timing(MirrorTiming::fast())
            })
            .collect(),
        seed: Seed::None,
        ..Default::default()
    })
    .await
}

/// `count` source projects with one commit on `source` and as many empty projects on
/// `target`; prints how long it took.
pub async fn seed_projects(
    source: &SimInstance,
    target: &SimInstance,
    count: usize,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let project = |i: usize, empty: bool| ProjectSeed {
        path: project_path(i),
        empty,
        commits: if empty { 0 } else { 1 },
        branches: vec![],
        tags: vec![],
        ..Default::default()
    };
    let sources = SeedSpec {
        projects: (0..count).map(|i| project(i, false)).collect(),
        ..Default::default()
    };
    let targets = SeedSpec {
        projects: (0..count).map(|i| project(i, true)).collect(),
        ..Default::default()
    };
    let (a, b) = tokio::join!(source.seed(&sources), target.seed(&targets));
    a?;
    b?;
    println!(
        "  seeded {count} projects on {} and {count} empty ones on {} in {:.1} s",
        source.name,
        target.name,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// GitLab's authenticated API limit of `per_minute` per user, answered with `RateLimit-*`
/// headers on every response and `Retry-After` on a 429.
pub fn limit_per_minute(instance: &SimInstance, per_minute: u32) {
    instance.set_rate_limit(RateLimitConfig::per_user(u64::from(per_minute), 60));
}

/// Adds `latency_ms` to every REST API request (git traffic between instances is not slowed).
pub fn api_latency(instance: &SimInstance, latency_ms: u64) {
    if latency_ms == 0 {
        instance.clear_faults();
        return;
    }
    instance.set_faults(FaultConfig::everywhere(FaultRule {
        path: Some("/api/v4/**".into()),
        ..FaultRule::latency(latency_ms, 0)
    }));
}

/// What one instance saw since its counters were last reset.
#[derive(Debug, Clone)]
pub struct Traffic {
    pub name: String,
    pub api_requests: u64,
    /// From the first request after the reset to now.
    pub elapsed_secs: f64,
    pub max_per_1s: u64,
    pub max_per_60s: u64,
    pub throttled_429: u64,
    /// `"POST /api/v4/projects/{id}/remote_mirrors/{mirror_id}/sync"` → count, busiest first.
    pub by_endpoint: Vec<(String, u64)>,
}

pub fn traffic(instance: &SimInstance) -> Traffic {
    let stats = instance.stats();
    let mut by_endpoint: Vec<(String, u64)> = stats
        .requests_by_endpoint
        .into_iter()
        .filter(|(route, _)| route.contains("/api/v4/"))
        .collect();
    by_endpoint.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
    Traffic {
        name: instance.name.clone(),
        api_requests: stats.api_requests,
        elapsed_secs: stats.elapsed_secs,
        max_per_1s: stats.overall.max_per_1s,
        max_per_60s: stats.overall.max_per_60s,
        throttled_429: stats.throttled_429,
        by_endpoint,
    }
}

impl Traffic {
    /// `route×count, …` for the report.
    pub fn endpoints(&self) -> String {
        self.by_endpoint
            .iter()
            .map(|(route, count)| format!("{route} ×{count}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
