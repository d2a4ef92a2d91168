//! Start-up: database, keys and the administrator account.

use std::{fmt, path::Path, sync::Arc, time::Duration};

use anyhow::Context as _;
use mm_config::Settings;
use mm_crypto::{Cipher, keyfile::SecretSource};
use mm_gitlab::{BudgetConfig, LocalRateBudget, RateBudget, RetryPolicy};
use mm_mirrors::{ClientSettings, GitLabClients};
use mm_storage::{NewUser, Storage, StorageError};

use crate::auth::Authenticator;

/// Length of a generated administrator password.
const GENERATED_PASSWORD_LENGTH: usize = 20;

/// Longest time the API waits for GitLab (the only call it makes: the project search),
/// including the wait for a rate-budget slot.
pub(crate) const GITLAB_DEADLINE: Duration = Duration::from_secs(10);

/// Everything the API handlers share. Cheap to clone.
#[derive(Clone)]
pub struct ApiContext {
    storage: Arc<dyn Storage>,
    cipher: Arc<Cipher>,
    authenticator: Arc<Authenticator>,
    settings: Arc<Settings>,
    rate_budget: Arc<dyn RateBudget>,
    gitlab: Arc<GitLabClients>,
}

impl fmt::Debug for ApiContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiContext")
            .field("backend", &self.storage.backend())
            .field("cipher", &self.cipher)
            .finish_non_exhaustive()
    }
}

impl ApiContext {
    /// Assembles a context from its parts (for embedding and tests; [`prepare`] is the usual
    /// way).
    pub fn new(
        storage: Arc<dyn Storage>,
        cipher: Cipher,
        authenticator: Authenticator,
        settings: Settings,
    ) -> Self {
        let cipher = Arc::new(cipher);
        let rate_budget: Arc<dyn RateBudget> = Arc::new(LocalRateBudget::new(
            BudgetConfig::per_minute(settings.gitlab_requests_per_minute),
        ));
        let gitlab = gitlab_clients(&cipher, &rate_budget);
        Self {
            storage,
            cipher,
            authenticator: Arc::new(authenticator),
            settings: Arc::new(settings),
            rate_budget,
            gitlab,
        }
    }

    /// Replaces the rate budget of the API's GitLab calls (by default an in-process budget of
    /// `MM_GITLAB_REQUESTS_PER_MINUTE` per instance). Pass the budget the workers share, so that the
    /// API's project searches count against the same per-instance limit.
    #[must_use]
    pub fn with_rate_budget(mut self, budget: Arc<dyn RateBudget>) -> Self {
        self.gitlab = gitlab_clients(&self.cipher, &budget);
        self.rate_budget = budget;
        self
    }

    /// The rate budget of the API's GitLab calls.
    pub fn rate_budget(&self) -> &Arc<dyn RateBudget> {
        &self.rate_budget
    }

    /// GitLab clients by instance, on the rate budget, with short deadlines.
    pub(crate) fn gitlab(&self) -> &GitLabClients {
        &self.gitlab
    }

    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    /// The cipher for tokens at rest.
    pub fn cipher(&self) -> &Arc<Cipher> {
        &self.cipher
    }

    pub fn authenticator(&self) -> &Arc<Authenticator> {
        &self.authenticator
    }

    pub fn settings(&self) -> &Arc<Settings> {
        &self.settings
    }
}

/// Clients for interactive calls: one retry at most and [`GITLAB_DEADLINE`] overall.
fn gitlab_clients(cipher: &Arc<Cipher>, budget: &Arc<dyn RateBudget>) -> Arc<GitLabClients> {
    let settings = ClientSettings {
        request_timeout: GITLAB_DEADLINE,
        retry: RetryPolicy {
            max_attempts: 2,
            overall_deadline: GITLAB_DEADLINE,
            ..RetryPolicy::default()
        },
        ..ClientSettings::default()
    };
    Arc::new(GitLabClients::new(cipher.clone(), budget.clone(), settings))
}

/// The administrator password generated at first start. Show it once, to the operator, and
/// never log it.
#[derive(Clone)]
pub struct GeneratedAdmin {
    pub username: String,
    pub password: String,
}

impl fmt::Debug for GeneratedAdmin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneratedAdmin")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// Opens the database (running the migrations when `migrate` is true), loads or generates the
/// keys, and makes sure the administrator account exists.
pub async fn prepare(
    settings: &Settings,
    migrate: bool,
) -> anyhow::Result<(ApiContext, Option<GeneratedAdmin>)> {
    let storage = open_storage(settings).await?;
    if migrate {
        storage
            .migrate()
            .await
            .context("running database migrations")?;
    }

    let (cipher, source) = mm_crypto::keyfile::load_cipher(
        settings.encryption_key.as_ref().map(|s| s.expose()),
        &settings.data_dir,
    )
    .context("loading the encryption key (MM_ENCRYPTION_KEY)")?;
    log_secret_source("encryption key", &source);
    tracing::info!(key_id = cipher.primary_key_id(), "encryption ready");

    let (jwt_secret, source) = mm_crypto::keyfile::load_jwt_secret(
        settings.jwt_secret.as_ref().map(|s| s.expose()),
        &settings.data_dir,
    )
    .context("loading the JWT secret (MM_JWT_SECRET)")?;
    log_secret_source("JWT secret", &source);

    let generated = ensure_admin(storage.as_ref(), settings)
        .await
        .context("creating the administrator account (has `mirror-maestro migrate` run?)")?;

    let ttl = Duration::from_secs(u64::from(settings.jwt_ttl_hours) * 3600);
    let authenticator = Authenticator::new(storage.clone(), &jwt_secret, ttl);
    let context = ApiContext::new(storage, cipher, authenticator, settings.clone());
    Ok((context, generated))
}

/// Runs the database migrations only.
pub async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let storage = open_storage(settings).await?;
    storage
        .migrate()
        .await
        .context("running database migrations")?;
    storage.close().await;
    Ok(())
}

async fn open_storage(settings: &Settings) -> anyhow::Result<Arc<dyn Storage>> {
    if settings.database_url.is_none() {
        // The default SQLite file lives in the data directory.
        create_private_dir(&settings.data_dir)?;
    }
    mm_storage::connect(
        &settings.effective_database_url(),
        settings.db_max_connections,
    )
    .await
    .context("connecting to the database (MM_DATABASE_URL)")
}

fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).with_context(|| {
        format!(
            "creating the data directory {} (MM_DATA_DIR)",
            dir.display()
        )
    })
}

fn log_secret_source(what: &str, source: &SecretSource) {
    match source {
        SecretSource::Configured => tracing::info!("{what}: from configuration"),
        SecretSource::File(path) => tracing::info!(path = %path.display(), "{what}: from file"),
        SecretSource::Generated(path) => tracing::warn!(
            path = %path.display(),
            "{what}: generated a new one; back this file up together with the database"
        ),
    }
}

/// Creates the administrator named in the settings unless a user with that name exists.
async fn ensure_admin(
    storage: &dyn Storage,
    settings: &Settings,
) -> anyhow::Result<Option<GeneratedAdmin>> {
    let username = settings.admin_username.trim().to_owned();
    if storage.get_user_by_username(&username).await?.is_some() {
        return Ok(None);
    }
    let (password, generated) = match &settings.admin_password {
        Some(password) => (password.expose().to_owned(), false),
        None => (mm_crypto::random_password(GENERATED_PASSWORD_LENGTH), true),
    };
    let to_hash = password.clone();
    let password_hash =
        tokio::task::spawn_blocking(move || mm_crypto::password::hash_password(&to_hash)).await??;
    let created = storage
        .create_user(&NewUser {
            username: username.clone(),
            email: None,
            password_hash,
            is_admin: true,
            is_active: true,
        })
        .await;
    match created {
        Ok(user) => {
            tracing::info!(username = %user.username, "created the administrator account");
            Ok(generated.then_some(GeneratedAdmin { username, password }))
        }
        // Another replica created it at the same moment; theirs stands.
        Err(StorageError::AlreadyExists { .. }) => Ok(None),
        Err(error) => Err(error.into()),
    }
}
