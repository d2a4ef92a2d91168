use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use figment::{
    Figment,
    providers::{Format, Serialized, Toml},
};
use serde::{Deserialize, Serialize};

use crate::Secret;

/// How the process is deployed; only changes defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// All services in one process (`mirror-maestro up`, `demo`): SQLite and an in-process bus
    /// by default, and private addresses allowed because local GitLab simulators run on
    /// loopback.
    Embedded,
    /// A separately deployed service (`mm-api`, `mm-gateway`, `mm-worker`).
    Service,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Json,
    Pretty,
}

/// The resolved configuration. Field names are the `MM_*` variable names in lower case.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// Directory for the SQLite database, generated keys and other local state.
    pub data_dir: PathBuf,
    /// `postgres://…` or `sqlite://…`; unset means SQLite in the data directory.
    pub database_url: Option<String>,
    /// Maximum database connections per process.
    pub db_max_connections: u32,
    /// RabbitMQ URL; unset means the in-process job bus (embedded mode only).
    pub amqp_url: Option<String>,
    /// REST gateway and web UI listen address.
    pub http_addr: SocketAddr,
    /// gRPC API listen address.
    pub grpc_addr: SocketAddr,
    /// Where the gateway finds the gRPC API.
    pub api_url: String,
    /// Worker health and metrics listen address.
    pub worker_addr: SocketAddr,
    /// Name of the administrator account created at first start.
    pub admin_username: String,
    /// Password of the administrator account; generated and printed once when unset.
    pub admin_password: Option<Secret>,
    /// HMAC secret for JWTs; generated into `<data_dir>/jwt_secret.key` when unset.
    pub jwt_secret: Option<Secret>,
    /// Lifetime of issued JWTs in hours (1-8760).
    pub jwt_ttl_hours: u32,
    /// Base64 of a 32-byte AES-256 key; generated into `<data_dir>/encryption.key` when unset.
    pub encryption_key: Option<Secret>,
    /// Accept GitLab URLs on loopback and private networks.
    pub allow_private_ips: bool,
    /// `json` or `pretty`.
    pub log_format: LogFormat,
    /// tracing filter directive, e.g. `info` or `mm_api=debug,info`.
    pub log_level: String,
    /// Comma-separated origins allowed by CORS on the REST gateway; empty disables CORS.
    pub cors_origins: String,
    /// Requests per minute Mirror Maestro sends to each GitLab instance, shared by every
    /// process (GitLab's default authenticated API limit is 2,000/min; stay below it).
    pub gitlab_requests_per_minute: u32,
    /// Requests in flight at once per GitLab instance and process.
    pub gitlab_max_concurrency: u32,
    /// Lifetime of the project access tokens created for mirrors, in days (1-365).
    pub mirror_token_lifetime_days: u32,
    /// How often every mirror's status is read from GitLab, in seconds; 0 disables it.
    pub status_refresh_interval_secs: u64,
}

/// Values given on the command line; they override every other layer.
#[derive(Debug, Clone, Default, Serialize, clap::Args)]
pub struct CliOverrides {
    /// TOML configuration file (also `MM_CONFIG`).
    #[arg(long, global = true, value_name = "FILE")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Data directory (`MM_DATA_DIR`).
    #[arg(long, global = true, value_name = "DIR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// Database URL (`MM_DATABASE_URL`).
    #[arg(long, global = true, value_name = "URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// RabbitMQ URL (`MM_AMQP_URL`).
    #[arg(long, global = true, value_name = "URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amqp_url: Option<String>,
    /// REST/UI listen address (`MM_HTTP_ADDR`).
    #[arg(long, global = true, value_name = "ADDR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_addr: Option<String>,
    /// gRPC listen address (`MM_GRPC_ADDR`).
    #[arg(long, global = true, value_name = "ADDR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grpc_addr: Option<String>,
    /// gRPC API URL used by the gateway (`MM_API_URL`).
    #[arg(long, global = true, value_name = "URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
    /// Log format, json or pretty (`MM_LOG_FORMAT`).
    #[arg(long, global = true, value_name = "FORMAT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<String>,
}

/// A configuration value that cannot be used. The message names the variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{variable}: {message}")]
    Invalid { variable: String, message: String },
    #[error("configuration file {path}: {message}")]
    File { path: PathBuf, message: String },
}

impl ConfigError {
    fn invalid(variable: &str, message: impl Into<String>) -> Self {
        ConfigError::Invalid {
            variable: variable.to_owned(),
            message: message.into(),
        }
    }
}

#[derive(Serialize)]
struct Defaults {
    data_dir: PathBuf,
    db_max_connections: u32,
    http_addr: String,
    grpc_addr: String,
    api_url: String,
    worker_addr: String,
    admin_username: String,
    jwt_ttl_hours: u32,
    allow_private_ips: bool,
    log_format: LogFormat,
    log_level: String,
    cors_origins: String,
    gitlab_requests_per_minute: u32,
    gitlab_max_concurrency: u32,
    mirror_token_lifetime_days: u32,
    status_refresh_interval_secs: u64,
}

impl Defaults {
    fn for_mode(mode: Mode) -> Self {
        Defaults {
            data_dir: PathBuf::from("./data"),
            db_max_connections: 10,
            http_addr: "127.0.0.1:8080".into(),
            grpc_addr: "127.0.0.1:50051".into(),
            api_url: "http://127.0.0.1:50051".into(),
            worker_addr: "127.0.0.1:9091".into(),
            admin_username: "admin".into(),
            jwt_ttl_hours: 24,
            allow_private_ips: mode == Mode::Embedded,
            log_format: LogFormat::Pretty,
            log_level: "info".into(),
            cors_origins: String::new(),
            gitlab_requests_per_minute: 600,
            gitlab_max_concurrency: 8,
            mirror_token_lifetime_days: 365,
            status_refresh_interval_secs: 300,
        }
    }
}

impl Settings {
    /// Every environment variable the configuration reads.
    pub const VARIABLES: &'static [&'static str] = &[
        "MM_CONFIG",
        "MM_DATA_DIR",
        "MM_DATABASE_URL",
        "MM_DB_MAX_CONNECTIONS",
        "MM_AMQP_URL",
        "MM_HTTP_ADDR",
        "MM_GRPC_ADDR",
        "MM_API_URL",
        "MM_WORKER_ADDR",
        "MM_ADMIN_USERNAME",
        "MM_ADMIN_PASSWORD",
        "MM_JWT_SECRET",
        "MM_JWT_TTL_HOURS",
        "MM_ENCRYPTION_KEY",
        "MM_ALLOW_PRIVATE_IPS",
        "MM_LOG_FORMAT",
        "MM_LOG_LEVEL",
        "MM_CORS_ORIGINS",
        "MM_GITLAB_REQUESTS_PER_MINUTE",
        "MM_GITLAB_MAX_CONCURRENCY",
        "MM_MIRROR_TOKEN_LIFETIME_DAYS",
        "MM_STATUS_REFRESH_INTERVAL_SECS",
    ];

    /// Loads the configuration from the process environment and the given flags.
    pub fn load(mode: Mode, cli: &CliOverrides) -> Result<Settings, ConfigError> {
        Self::load_from(mode, cli, std::env::vars())
    }

    /// Loads the configuration from an explicit environment (for tests and embedding).
    pub fn load_from(
        mode: Mode,
        cli: &CliOverrides,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigError> {
        let env: Vec<(String, String)> = env
            .into_iter()
            .filter(|(key, _)| key.starts_with("MM_"))
            .collect();
        let config_file = cli.config.clone().or_else(|| {
            env.iter()
                .find(|(key, _)| key == "MM_CONFIG")
                .map(|(_, value)| PathBuf::from(value))
        });

        let mut figment = Figment::from(Serialized::defaults(Defaults::for_mode(mode)));
        if let Some(path) = &config_file {
            if !path.is_file() {
                return Err(ConfigError::File {
                    path: path.clone(),
                    message: "not found".into(),
                });
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        let env_pairs: Vec<(String, String)> = env
            .iter()
            .filter(|(key, _)| key != "MM_CONFIG")
            .map(|(key, value)| {
                (
                    key.trim_start_matches("MM_").to_ascii_lowercase(),
                    value.clone(),
                )
            })
            .collect();
        // Empty variables count as unset, so `MM_AMQP_URL=` selects the in-process bus.
        for (key, value) in env_pairs {
            if value.is_empty() {
                continue;
            }
            figment = figment.merge(Serialized::global(&key, env_value(&key, &value)));
        }
        figment = figment.merge(Serialized::globals(cli));

        let settings: Settings = figment.extract().map_err(|error| {
            let key = error.path.join(".");
            let variable = if key.is_empty() {
                "configuration".to_owned()
            } else {
                format!("MM_{}", key.to_ascii_uppercase())
            };
            let message = match error.kind {
                figment::error::Kind::InvalidType(actual, expected) => {
                    format!("invalid value {actual}, expected {expected}")
                }
                other => other.to_string(),
            };
            ConfigError::Invalid { variable, message }
        })?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=8760).contains(&self.jwt_ttl_hours) {
            return Err(ConfigError::invalid(
                "MM_JWT_TTL_HOURS",
                "must be between 1 and 8760",
            ));
        }
        if !(1..=100_000).contains(&self.gitlab_requests_per_minute) {
            return Err(ConfigError::invalid(
                "MM_GITLAB_REQUESTS_PER_MINUTE",
                "must be between 1 and 100000",
            ));
        }
        if !(1..=256).contains(&self.gitlab_max_concurrency) {
            return Err(ConfigError::invalid(
                "MM_GITLAB_MAX_CONCURRENCY",
                "must be between 1 and 256",
            ));
        }
        if !(1..=365).contains(&self.mirror_token_lifetime_days) {
            return Err(ConfigError::invalid(
                "MM_MIRROR_TOKEN_LIFETIME_DAYS",
                "must be between 1 and 365 (GitLab's maximum token lifetime)",
            ));
        }
        if self.db_max_connections == 0 {
            return Err(ConfigError::invalid(
                "MM_DB_MAX_CONNECTIONS",
                "must be at least 1",
            ));
        }
        if let Some(url) = &self.database_url
            && !(url.starts_with("postgres://")
                || url.starts_with("postgresql://")
                || url.starts_with("sqlite:"))
        {
            return Err(ConfigError::invalid(
                "MM_DATABASE_URL",
                "must start with postgres://, postgresql:// or sqlite:",
            ));
        }
        if let Some(url) = &self.amqp_url
            && !(url.starts_with("amqp://") || url.starts_with("amqps://"))
        {
            return Err(ConfigError::invalid(
                "MM_AMQP_URL",
                "must start with amqp:// or amqps://",
            ));
        }
        match url::Url::parse(&self.api_url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {}
            _ => {
                return Err(ConfigError::invalid(
                    "MM_API_URL",
                    "must be an http:// or https:// URL with a host",
                ));
            }
        }
        if self.admin_username.trim().is_empty() || self.admin_username.len() > 100 {
            return Err(ConfigError::invalid(
                "MM_ADMIN_USERNAME",
                "must be 1-100 characters",
            ));
        }
        if let Some(password) = &self.admin_password
            && password.expose().chars().count() < 8
        {
            return Err(ConfigError::invalid(
                "MM_ADMIN_PASSWORD",
                "must be at least 8 characters",
            ));
        }
        if let Some(secret) = &self.jwt_secret
            && secret.expose().len() < 32
        {
            return Err(ConfigError::invalid(
                "MM_JWT_SECRET",
                "must be at least 32 characters",
            ));
        }
        if tracing_filter_is_blank(&self.log_level) {
            return Err(ConfigError::invalid("MM_LOG_LEVEL", "must not be empty"));
        }
        for origin in self.cors_origin_list() {
            if origin != "*" && url::Url::parse(&origin).is_err() {
                return Err(ConfigError::invalid(
                    "MM_CORS_ORIGINS",
                    format!("{origin:?} is not an origin URL"),
                ));
            }
        }
        Ok(())
    }

    /// The database URL in effect: the configured one, or SQLite in the data directory.
    pub fn effective_database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => sqlite_url(&self.data_dir.join("mirror-maestro.db")),
        }
    }

    /// The CORS origins as a list.
    pub fn cors_origin_list(&self) -> Vec<String> {
        self.cors_origins
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

fn tracing_filter_is_blank(filter: &str) -> bool {
    filter.trim().is_empty()
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// Settings that are not strings; their environment values are parsed so `true` and `8`
/// reach boolean and integer fields as such, while `12345678` stays a string elsewhere.
const TYPED_SETTINGS: &[&str] = &[
    "db_max_connections",
    "jwt_ttl_hours",
    "allow_private_ips",
    "gitlab_requests_per_minute",
    "gitlab_max_concurrency",
    "mirror_token_lifetime_days",
    "status_refresh_interval_secs",
];

fn env_value(key: &str, value: &str) -> figment::value::Value {
    if TYPED_SETTINGS.contains(&key) {
        value
            .parse()
            .unwrap_or_else(|_| figment::value::Value::from(value.to_owned()))
    } else {
        figment::value::Value::from(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Settings::load_from(
            Mode::Service,
            &CliOverrides::default(),
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )
    }

    #[test]
    fn defaults_apply_without_any_input() {
        let settings = load(&[]).unwrap();
        assert_eq!(settings.http_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(settings.grpc_addr.to_string(), "127.0.0.1:50051");
        assert_eq!(settings.data_dir, PathBuf::from("./data"));
        assert!(!settings.allow_private_ips);
        assert!(settings.effective_database_url().starts_with("sqlite://"));
        let embedded = Settings::load_from(Mode::Embedded, &CliOverrides::default(), []).unwrap();
        assert!(embedded.allow_private_ips);
    }

    #[test]
    fn environment_overrides_defaults_and_flags_override_environment() {
        let cli = CliOverrides {
            http_addr: Some("127.0.0.1:9999".into()),
            ..Default::default()
        };
        let env = [
            ("MM_HTTP_ADDR", "127.0.0.1:7000"),
            ("MM_GRPC_ADDR", "127.0.0.1:7001"),
            ("MM_ALLOW_PRIVATE_IPS", "true"),
            ("MM_LOG_FORMAT", "json"),
        ];
        let settings = Settings::load_from(
            Mode::Service,
            &cli,
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )
        .unwrap();
        assert_eq!(settings.http_addr.to_string(), "127.0.0.1:9999");
        assert_eq!(settings.grpc_addr.to_string(), "127.0.0.1:7001");
        assert!(settings.allow_private_ips);
        assert_eq!(settings.log_format, LogFormat::Json);
    }

    #[test]
    fn toml_file_sits_between_defaults_and_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mm.toml");
        std::fs::write(&path, "http_addr = \"127.0.0.1:6000\"\njwt_ttl_hours = 5\n").unwrap();
        let path_str = path.display().to_string();
        let settings = load(&[("MM_CONFIG", &path_str), ("MM_JWT_TTL_HOURS", "7")]).unwrap();
        assert_eq!(settings.http_addr.to_string(), "127.0.0.1:6000");
        assert_eq!(settings.jwt_ttl_hours, 7);
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (key, value) in [
            ("MM_HTTP_ADDR", "not-an-address"),
            ("MM_ALLOW_PRIVATE_IPS", "maybe"),
            ("MM_LOG_FORMAT", "xml"),
            ("MM_JWT_TTL_HOURS", "0"),
            ("MM_DATABASE_URL", "mysql://x"),
            ("MM_AMQP_URL", "http://rabbit"),
            ("MM_API_URL", "nope"),
            ("MM_ADMIN_PASSWORD", "short"),
            ("MM_JWT_SECRET", "short"),
            ("MM_CORS_ORIGINS", "not a url"),
        ] {
            let error = load(&[(key, value)]).unwrap_err().to_string();
            assert!(error.starts_with(key), "{key}={value} gave {error}");
        }
    }

    #[test]
    fn every_listed_variable_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("mm.toml");
        std::fs::write(&file, "").unwrap();
        let file = file.display().to_string();
        for variable in Settings::VARIABLES {
            // A value of the wrong shape must be refused, which proves the variable is read.
            let value = match *variable {
                "MM_CONFIG" => continue,
                "MM_DATA_DIR" | "MM_ADMIN_USERNAME" | "MM_LOG_LEVEL" | "MM_ENCRYPTION_KEY" => {
                    // Free-form: check it arrives instead.
                    let settings = load(&[(variable, "xyz-value"), ("MM_CONFIG", &file)]).unwrap();
                    let seen = format!("{settings:?}");
                    assert!(
                        seen.contains("xyz-value") || *variable == "MM_ENCRYPTION_KEY",
                        "{variable}"
                    );
                    continue;
                }
                _ => "%%%",
            };
            let error = load(&[(variable, value)]);
            assert!(error.is_err(), "{variable}={value} was accepted");
        }
    }

    #[test]
    fn missing_config_file_is_an_error() {
        let error = load(&[("MM_CONFIG", "/nonexistent/mm.toml")]).unwrap_err();
        assert!(error.to_string().contains("/nonexistent/mm.toml"));
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let settings = load(&[("MM_ADMIN_PASSWORD", "super-secret-password")]).unwrap();
        let numeric = load(&[("MM_ADMIN_PASSWORD", "12345678")]).unwrap();
        assert_eq!(numeric.admin_password.unwrap().expose(), "12345678");
        assert!(!format!("{settings:?}").contains("super-secret-password"));
    }
}
