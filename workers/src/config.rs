//! Worker-only settings, read from `MM_WORKER_*` variables with the same layering rules as
//! `mm_config::Settings` (built-in defaults, then the environment; empty values count as unset).

use std::time::Duration;

use figment::{Figment, providers::Serialized};
use serde::{Deserialize, Serialize};

/// Every variable this module reads, for documentation and manifest checks.
pub const VARIABLES: &[&str] = &[
    "MM_WORKER_PREFETCH",
    "MM_WORKER_MAX_ATTEMPTS",
    "MM_WORKER_RETRY_DELAYS",
    "MM_WORKER_SHUTDOWN_GRACE_SECS",
    "MM_WORKER_QUEUE_PREFIX",
];

/// Consumer tuning for one worker process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerConfig {
    /// Unacknowledged deliveries per process, i.e. tasks handled concurrently (1-65535).
    pub prefetch: u16,
    /// Handler runs per task before it is parked in the dead-letter queue (at least 1).
    pub max_attempts: u32,
    /// TTLs of the retry queues, shortest first.
    pub retry_delays: Vec<Duration>,
    /// How long in-flight tasks may run after a shutdown signal before they are requeued.
    pub shutdown_grace: Duration,
    /// Prefix for every exchange and queue name (isolates tests and side-by-side installs).
    pub queue_prefix: Option<String>,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            prefetch: 16,
            max_attempts: 5,
            retry_delays: vec![
                Duration::from_secs(5),
                Duration::from_secs(30),
                Duration::from_secs(300),
            ],
            shutdown_grace: Duration::from_secs(30),
            queue_prefix: None,
        }
    }
}

/// A worker variable with an unusable value; the message names the variable.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct WorkerConfigError {
    pub variable: String,
    pub message: String,
}

impl WorkerConfigError {
    fn new(variable: &str, message: impl Into<String>) -> Self {
        WorkerConfigError {
            variable: variable.to_owned(),
            message: message.into(),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Raw {
    prefetch: i64,
    max_attempts: i64,
    retry_delays: String,
    shutdown_grace_secs: i64,
    #[serde(default)]
    queue_prefix: Option<String>,
}

impl WorkerConfig {
    /// Reads the `MM_WORKER_*` variables of this process.
    pub fn load() -> Result<WorkerConfig, WorkerConfigError> {
        Self::load_from(std::env::vars())
    }

    /// Reads the `MM_WORKER_*` variables from an explicit environment.
    pub fn load_from(
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<WorkerConfig, WorkerConfigError> {
        let defaults = WorkerConfig::default();
        let raw_defaults = Raw {
            prefetch: i64::from(defaults.prefetch),
            max_attempts: i64::from(defaults.max_attempts),
            retry_delays: format_delays(&defaults.retry_delays),
            shutdown_grace_secs: defaults.shutdown_grace.as_secs() as i64,
            queue_prefix: None,
        };
        let mut figment = Figment::from(Serialized::defaults(raw_defaults));
        for (key, value) in env {
            let Some(name) = key.strip_prefix("MM_WORKER_") else {
                continue;
            };
            if value.is_empty() {
                continue;
            }
            let name = name.to_ascii_lowercase();
            let value = if name == "retry_delays" || name == "queue_prefix" {
                figment::value::Value::from(value)
            } else {
                value
                    .parse()
                    .unwrap_or_else(|_| figment::value::Value::from(value))
            };
            figment = figment.merge((name.as_str(), value));
        }
        let raw: Raw = figment.extract().map_err(|error| {
            let key = error.path.join(".");
            WorkerConfigError::new(
                &format!("MM_WORKER_{}", key.to_ascii_uppercase()),
                match error.kind {
                    figment::error::Kind::InvalidType(actual, expected) => {
                        format!("invalid value {actual}, expected {expected}")
                    }
                    other => other.to_string(),
                },
            )
        })?;

        let prefetch = u16::try_from(raw.prefetch)
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| WorkerConfigError::new("MM_WORKER_PREFETCH", "must be 1-65535"))?;
        let max_attempts = u32::try_from(raw.max_attempts)
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                WorkerConfigError::new("MM_WORKER_MAX_ATTEMPTS", "must be at least 1")
            })?;
        let retry_delays = parse_delays(&raw.retry_delays)
            .map_err(|message| WorkerConfigError::new("MM_WORKER_RETRY_DELAYS", message))?;
        let shutdown_grace = u64::try_from(raw.shutdown_grace_secs)
            .map(Duration::from_secs)
            .map_err(|_| {
                WorkerConfigError::new("MM_WORKER_SHUTDOWN_GRACE_SECS", "must not be negative")
            })?;
        let queue_prefix = raw.queue_prefix.filter(|p| !p.trim().is_empty());
        if let Some(prefix) = &queue_prefix
            && (prefix.len() > 100 || prefix.chars().any(|c| c.is_whitespace()))
        {
            return Err(WorkerConfigError::new(
                "MM_WORKER_QUEUE_PREFIX",
                "must be at most 100 characters without spaces",
            ));
        }
        Ok(WorkerConfig {
            prefetch,
            max_attempts,
            retry_delays,
            shutdown_grace,
            queue_prefix,
        })
    }
}

/// Parses `5s,30s,5m` (units `ms`, `s`, `m`, `h`; a bare number means seconds).
pub fn parse_delays(text: &str) -> Result<Vec<Duration>, String> {
    let mut delays = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        delays.push(parse_duration(part)?);
    }
    if delays.is_empty() {
        return Err("must list at least one delay, e.g. 5s,30s,5m".into());
    }
    if delays.windows(2).any(|w| w[0] >= w[1]) {
        return Err("delays must be strictly increasing".into());
    }
    Ok(delays)
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 500ms, 5s or 5m"))?;
    let duration = match unit {
        "ms" => Duration::from_millis(number),
        "" | "s" => Duration::from_secs(number),
        "m" => Duration::from_secs(number * 60),
        "h" => Duration::from_secs(number * 3600),
        _ => return Err(format!("{text:?} has an unknown unit (ms, s, m or h)")),
    };
    if duration.is_zero() {
        return Err(format!("{text:?} must be greater than zero"));
    }
    Ok(duration)
}

fn format_delays(delays: &[Duration]) -> String {
    delays
        .iter()
        .map(|d| format!("{}ms", d.as_millis()))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(env: &[(&str, &str)]) -> Result<WorkerConfig, WorkerConfigError> {
        WorkerConfig::load_from(env.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn defaults() {
        let config = load(&[("MM_HTTP_ADDR", "ignored")]).unwrap();
        assert_eq!(config, WorkerConfig::default());
        assert_eq!(config.prefetch, 16);
    }

    #[test]
    fn environment_overrides() {
        let config = load(&[
            ("MM_WORKER_PREFETCH", "4"),
            ("MM_WORKER_MAX_ATTEMPTS", "2"),
            ("MM_WORKER_RETRY_DELAYS", "250ms, 2s,1m"),
            ("MM_WORKER_SHUTDOWN_GRACE_SECS", "3"),
            ("MM_WORKER_QUEUE_PREFIX", "staging"),
        ])
        .unwrap();
        assert_eq!(config.prefetch, 4);
        assert_eq!(config.max_attempts, 2);
        assert_eq!(
            config.retry_delays,
            vec![
                Duration::from_millis(250),
                Duration::from_secs(2),
                Duration::from_secs(60)
            ]
        );
        assert_eq!(config.shutdown_grace, Duration::from_secs(3));
        assert_eq!(config.queue_prefix.as_deref(), Some("staging"));
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (key, value) in [
            ("MM_WORKER_PREFETCH", "0"),
            ("MM_WORKER_PREFETCH", "70000"),
            ("MM_WORKER_PREFETCH", "many"),
            ("MM_WORKER_MAX_ATTEMPTS", "0"),
            ("MM_WORKER_RETRY_DELAYS", "5s,1s"),
            ("MM_WORKER_RETRY_DELAYS", "5x"),
            ("MM_WORKER_SHUTDOWN_GRACE_SECS", "-1"),
            ("MM_WORKER_QUEUE_PREFIX", "a b"),
        ] {
            let error = load(&[(key, value)]).unwrap_err().to_string();
            assert!(error.starts_with(key), "{key}={value} gave {error}");
        }
    }
}
