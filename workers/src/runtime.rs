//! Everything a process needs to run jobs: storage, the token cipher, the per-instance GitLab
//! rate budget and the mirror handlers, built from [`Settings`].
//!
//! With PostgreSQL the budget lives in the database, so every worker replica (and the API's
//! project search) draws from the same allowance per GitLab instance; with SQLite there is
//! one process and an in-memory budget is exact.

use std::{sync::Arc, time::Duration};

use anyhow::Context as _;
use mm_config::Settings;
use mm_crypto::Cipher;
use mm_gitlab::{BudgetConfig, LocalRateBudget, RateBudget};
use mm_mirrors::{ClientSettings, MirrorSettings, MirrorsContext, PgRateBudget};
use mm_storage::{PgStorage, Storage};

use crate::HandlerRegistry;

/// Storage, cipher, budget and handlers of one process.
#[derive(Clone)]
pub struct JobRuntime {
    pub storage: Arc<dyn Storage>,
    pub cipher: Arc<Cipher>,
    pub budget: Arc<dyn RateBudget>,
    pub handlers: HandlerRegistry,
}

impl std::fmt::Debug for JobRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobRuntime")
            .field("backend", &self.storage.backend())
            .field("handlers", &self.handlers)
            .finish_non_exhaustive()
    }
}

/// The budget every GitLab instance gets.
pub fn budget_config(settings: &Settings) -> BudgetConfig {
    BudgetConfig::per_minute(settings.gitlab_requests_per_minute)
}

/// A rate budget for `storage`: shared through PostgreSQL when `pg` is given, else in memory.
pub fn rate_budget(settings: &Settings, pg: Option<&PgStorage>) -> Arc<dyn RateBudget> {
    match pg {
        Some(pg) => Arc::new(PgRateBudget::new(
            pg.pool().clone(),
            budget_config(settings),
        )),
        None => Arc::new(LocalRateBudget::new(budget_config(settings))),
    }
}

/// Connects to the configured database (no migrations) and returns it with its PostgreSQL
/// handle when it is PostgreSQL.
pub async fn connect_storage(
    settings: &Settings,
) -> anyhow::Result<(Arc<dyn Storage>, Option<PgStorage>)> {
    let url = settings.effective_database_url();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let pg = PgStorage::connect(&url, settings.db_max_connections)
            .await
            .context("MM_DATABASE_URL: cannot connect to PostgreSQL")?;
        Ok((Arc::new(pg.clone()), Some(pg)))
    } else {
        let storage = mm_storage::connect(&url, settings.db_max_connections)
            .await
            .context("MM_DATABASE_URL: cannot open the database")?;
        Ok((storage, None))
    }
}

/// Loads the token cipher the API uses (`MM_ENCRYPTION_KEY` or the key file in the data
/// directory).
pub fn load_cipher(settings: &Settings) -> anyhow::Result<Arc<Cipher>> {
    let configured = settings.encryption_key.as_ref().map(|key| key.expose());
    let (cipher, _) = mm_crypto::keyfile::load_cipher(configured, &settings.data_dir)
        .context("MM_ENCRYPTION_KEY: cannot load the encryption key")?;
    Ok(Arc::new(cipher))
}

/// The mirror handlers over `storage`, `cipher` and `budget`, configured from `settings`.
pub fn handlers(
    settings: &Settings,
    storage: Arc<dyn Storage>,
    cipher: Arc<Cipher>,
    budget: Arc<dyn RateBudget>,
) -> HandlerRegistry {
    let client_settings = ClientSettings {
        max_concurrency: settings.gitlab_max_concurrency as usize,
        ..ClientSettings::default()
    };
    let mirror_settings = MirrorSettings {
        token_lifetime_days: settings.mirror_token_lifetime_days,
        ..MirrorSettings::default()
    };
    let ctx = MirrorsContext::new(storage, cipher, budget, client_settings, mirror_settings);
    mm_mirrors::handlers(Arc::new(ctx))
}

impl JobRuntime {
    /// Connects the database and builds the handlers for a worker process.
    pub async fn from_settings(settings: &Settings) -> anyhow::Result<JobRuntime> {
        let (storage, pg) = connect_storage(settings).await?;
        let cipher = load_cipher(settings)?;
        let budget = rate_budget(settings, pg.as_ref());
        Ok(Self::assemble(settings, storage, cipher, budget))
    }

    /// Builds the handlers over parts the caller already has (the all-in-one process).
    pub fn assemble(
        settings: &Settings,
        storage: Arc<dyn Storage>,
        cipher: Arc<Cipher>,
        budget: Arc<dyn RateBudget>,
    ) -> JobRuntime {
        let handlers = handlers(settings, storage.clone(), cipher.clone(), budget.clone());
        JobRuntime {
            storage,
            cipher,
            budget,
            handlers,
        }
    }

    /// The scheduler settings from `settings`.
    pub fn scheduler_options(settings: &Settings) -> crate::scheduler::SchedulerOptions {
        crate::scheduler::SchedulerOptions::new(Duration::from_secs(
            settings.status_refresh_interval_secs,
        ))
    }
}

/// Where queued jobs go in a process that records them.
#[derive(Debug, Clone)]
pub enum Dispatch {
    /// Relay the outbox to RabbitMQ; `consume` also runs a consumer in this process.
    RabbitMq { amqp_url: String, consume: bool },
    /// Run tasks from the outbox in this process.
    InProcess,
}

impl Dispatch {
    /// RabbitMQ when `MM_AMQP_URL` is set, else the in-process bus.
    pub fn from_settings(settings: &Settings, consume: bool) -> Dispatch {
        match &settings.amqp_url {
            Some(url) => Dispatch::RabbitMq {
                amqp_url: url.clone(),
                consume,
            },
            None => Dispatch::InProcess,
        }
    }
}

/// Starts moving recorded jobs to their handlers (and the scheduler when `schedule`) until
/// `shutdown`. Returns when everything stopped.
pub async fn run_dispatch(
    settings: &Settings,
    runtime: JobRuntime,
    dispatch: Dispatch,
    schedule: bool,
    shutdown: crate::Shutdown,
) -> anyhow::Result<()> {
    let config = crate::WorkerConfig::load()?;
    let mut tasks = tokio::task::JoinSet::new();
    if schedule {
        tasks.spawn(crate::scheduler::run(
            runtime.storage.clone(),
            JobRuntime::scheduler_options(settings),
            shutdown.clone(),
        ));
    }
    match dispatch {
        Dispatch::RabbitMq { amqp_url, consume } => {
            let topology = crate::Topology::from_config(&config);
            tasks.spawn(crate::relay::run(
                runtime.storage.clone(),
                amqp_url.clone(),
                topology,
                crate::relay::RelayOptions::default(),
                shutdown.clone(),
            ));
            if consume {
                let worker = crate::Worker::new(amqp_url, config.clone())
                    .with_handlers(runtime.handlers.clone());
                let shutdown = shutdown.clone();
                tasks.spawn(async move {
                    if let Err(error) = worker.run(None, shutdown).await {
                        tracing::error!(error = %format!("{error:#}"), "in-process worker stopped");
                    }
                });
            }
        }
        Dispatch::InProcess => {
            // This process is the only consumer of the outbox: claims left by a previous run
            // that died are free again at once.
            if let Err(error) = runtime.storage.release_outbox_claims().await {
                tracing::warn!(%error, "cannot release stale outbox claims");
            }
            let dispatcher = crate::Dispatcher::new(
                runtime.handlers.clone(),
                crate::RetryPolicy::from_config(&config),
            );
            let options = crate::inprocess::InProcessOptions {
                concurrency: (settings.gitlab_max_concurrency as usize * 2).max(4),
                shutdown_grace: config.shutdown_grace,
                ..Default::default()
            };
            tasks.spawn(crate::inprocess::run(
                runtime.storage.clone(),
                dispatcher,
                options,
                shutdown.clone(),
            ));
        }
    }
    while tasks.join_next().await.is_some() {}
    Ok(())
}
