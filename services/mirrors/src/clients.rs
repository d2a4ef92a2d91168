//! One [`GitLabClient`] per instance, built from the instance's URL and decrypted token and
//! rebuilt when either changes. Every client shares the rate budget it is given; each has its
//! own circuit breaker and concurrency cap.

use std::{collections::HashMap, sync::Arc, time::Duration};

use mm_crypto::{Cipher, aad};
use mm_gitlab::{BreakerConfig, GitLabClient, InstanceKey, RateBudget, RetryPolicy, SecretToken};
use mm_storage::Instance;
use parking_lot::Mutex;

/// How the clients talk to GitLab.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// Requests in flight to one instance at once (per process).
    pub max_concurrency: usize,
    /// Per-instance overrides of `max_concurrency`, by instance id.
    pub max_concurrency_by_instance: HashMap<i64, usize>,
    pub breaker: BreakerConfig,
    /// Timeout of one HTTP attempt.
    pub request_timeout: Duration,
    /// Retries inside one call (the task bus retries whole tasks on top of this).
    pub retry: RetryPolicy,
}

impl Default for ClientSettings {
    fn default() -> Self {
        ClientSettings {
            max_concurrency: 8,
            max_concurrency_by_instance: HashMap::new(),
            breaker: BreakerConfig::default(),
            request_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
        }
    }
}

impl ClientSettings {
    /// The concurrency cap of one instance.
    pub fn max_concurrency_for(&self, instance_id: i64) -> usize {
        self.max_concurrency_by_instance
            .get(&instance_id)
            .copied()
            .unwrap_or(self.max_concurrency)
            .max(1)
    }
}

/// Why no client could be made for an instance. Never retryable: the stored configuration
/// has to change first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error(
        "the API token of instance {instance_id} cannot be decrypted ({reason}); was the \
         encryption key changed?"
    )]
    Decrypt { instance_id: i64, reason: String },
    #[error("instance {instance_id} has an unusable URL or token: {reason}")]
    Build { instance_id: i64, reason: String },
}

struct Cached {
    url: String,
    encrypted_token: String,
    client: GitLabClient,
}

/// Cache of GitLab clients by instance id.
pub struct GitLabClients {
    cipher: Arc<Cipher>,
    budget: Arc<dyn RateBudget>,
    settings: ClientSettings,
    cache: Mutex<HashMap<i64, Cached>>,
}

impl std::fmt::Debug for GitLabClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut ids: Vec<i64> = self.cache.lock().keys().copied().collect();
        ids.sort_unstable();
        f.debug_struct("GitLabClients")
            .field("settings", &self.settings)
            .field("cached_instances", &ids)
            .finish()
    }
}

impl GitLabClients {
    /// Clients that share `budget` (keyed by the instance id as a string, see
    /// [`instance_key`]).
    pub fn new(cipher: Arc<Cipher>, budget: Arc<dyn RateBudget>, settings: ClientSettings) -> Self {
        GitLabClients {
            cipher,
            budget,
            settings,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub fn settings(&self) -> &ClientSettings {
        &self.settings
    }

    /// The client of `instance`, built on first use and rebuilt when the instance's URL or
    /// token changed since.
    pub fn client(&self, instance: &Instance) -> Result<GitLabClient, ClientError> {
        if let Some(cached) = self.cache.lock().get(&instance.id)
            && cached.url == instance.url
            && cached.encrypted_token == instance.encrypted_token
        {
            return Ok(cached.client.clone());
        }
        let client = self.build(instance)?;
        self.cache.lock().insert(
            instance.id,
            Cached {
                url: instance.url.clone(),
                encrypted_token: instance.encrypted_token.clone(),
                client: client.clone(),
            },
        );
        Ok(client)
    }

    /// Forgets the client of an instance (deleted instances).
    pub fn forget(&self, instance_id: i64) {
        self.cache.lock().remove(&instance_id);
    }

    fn build(&self, instance: &Instance) -> Result<GitLabClient, ClientError> {
        let token = self
            .cipher
            .decrypt(&instance.encrypted_token, &aad::instance_token(instance.id))
            .map_err(|error| ClientError::Decrypt {
                instance_id: instance.id,
                reason: error.to_string(),
            })?;
        GitLabClient::builder(instance.url.clone(), SecretToken::new(token))
            .instance(instance_key(instance.id))
            .budget(self.budget.clone())
            .max_concurrency(self.settings.max_concurrency_for(instance.id))
            .breaker(self.settings.breaker)
            .request_timeout(self.settings.request_timeout)
            .retry(self.settings.retry)
            .build()
            .map_err(|error| ClientError::Build {
                instance_id: instance.id,
                reason: error.to_string(),
            })
    }
}

/// The rate-budget key of an instance: its id as a string (what [`crate::PgRateBudget`]
/// expects).
pub fn instance_key(instance_id: i64) -> InstanceKey {
    InstanceKey::new(instance_id.to_string())
}
