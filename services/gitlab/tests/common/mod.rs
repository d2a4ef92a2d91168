//! Helpers shared by the integration tests: a simulator and clients for it.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use gitlab_sim::{InstanceSpec, MirrorTiming, Seed, Sim, SimConfig, SimInstance};
use mm_gitlab::{
    BreakerConfig, GitLabClient, GitLabClientBuilder, InstanceKey, RateBudget, RetryPolicy,
    SecretToken, UnlimitedBudget,
};

/// `n` EE instances with fast mirror timings.
pub async fn sim(n: usize, seed: Seed) -> Sim {
    let instances = (0..n)
        .map(|i| InstanceSpec::ee(&format!("gl-{i}")).with_mirror_timing(MirrorTiming::fast()))
        .collect();
    Sim::start(SimConfig {
        instances,
        seed,
        ..Default::default()
    })
    .await
    .expect("simulator starts")
}

pub async fn sim_with(specs: Vec<InstanceSpec>, seed: Seed) -> Sim {
    Sim::start(SimConfig {
        instances: specs,
        seed,
        ..Default::default()
    })
    .await
    .expect("simulator starts")
}

/// A builder with test-friendly retry timings and no rate budget.
pub fn builder(inst: &SimInstance) -> GitLabClientBuilder {
    builder_with(inst, Arc::new(UnlimitedBudget))
}

pub fn builder_with(inst: &SimInstance, budget: Arc<dyn RateBudget>) -> GitLabClientBuilder {
    GitLabClient::builder(
        inst.base_url.clone(),
        SecretToken::new(inst.admin_token.clone()),
    )
    .instance(InstanceKey::new(&inst.name))
    .budget(budget)
    .request_timeout(Duration::from_secs(10))
    .retry(RetryPolicy {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        multiplier: 2.0,
        overall_deadline: Duration::from_secs(30),
        default_rate_limit_pause: Duration::from_millis(500),
    })
    .breaker(BreakerConfig {
        failure_threshold: 5,
        cooldown: Duration::from_millis(500),
        success_threshold: 2,
        half_open_max_in_flight: 1,
    })
}

pub fn client(inst: &SimInstance) -> GitLabClient {
    builder(inst).build().expect("client")
}
