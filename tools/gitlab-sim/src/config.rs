//! Simulator configuration: instances, editions, timings, seeds. Loadable
//! from TOML or JSON (`--config`), or built in code by tests.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::faults::FaultConfig;
use crate::rate_limit::RateLimitConfig;
use crate::seed::SeedSpec;

/// GitLab edition of one instance. Pull mirrors (and the `mirror*`
/// project fields) exist only on EE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Edition {
    Ce,
    #[default]
    Ee,
}

/// What to create at start.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Seed {
    /// Only the administrator.
    #[default]
    None,
    /// The built-in realistic data set (nested groups, a few dozen projects).
    Demo,
    /// A declarative spec.
    Spec(SeedSpec),
    /// A TOML or JSON seed file.
    File(PathBuf),
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum SeedRepr {
    Name(String),
    Spec(SeedSpec),
}

impl Serialize for Seed {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = match self {
            Seed::None => SeedRepr::Name("none".into()),
            Seed::Demo => SeedRepr::Name("demo".into()),
            Seed::Spec(spec) => SeedRepr::Spec(spec.clone()),
            Seed::File(p) => SeedRepr::Name(p.display().to_string()),
        };
        r.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Seed {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match SeedRepr::deserialize(d)? {
            SeedRepr::Name(n) => Seed::from_name(&n),
            SeedRepr::Spec(s) => Seed::Spec(s),
        })
    }
}

impl Seed {
    /// `demo`, `none` or a path to a seed file.
    pub fn from_name(n: &str) -> Seed {
        match n {
            "demo" => Seed::Demo,
            "" | "none" => Seed::None,
            path => Seed::File(PathBuf::from(path)),
        }
    }
}

/// Mirror timings and failure behaviour of one instance.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct MirrorTiming {
    /// Minimum time a mirror update stays `started` (the real git work may
    /// take longer). Gives tests a window to observe the transition.
    pub update_duration_ms: u64,
    /// Delay applied to a push-mirror sync requested within this window
    /// after the previous start (GitLab: 5 min; 1 min with
    /// `only_protected_branches`). 0 disables (`remote_mirror_no_delay`).
    pub push_backoff_ms: u64,
    pub push_backoff_protected_ms: u64,
    /// Pull-mirror minimum interval (`pull_mirror_interval_seconds`, 300 s).
    pub pull_interval_ms: u64,
    /// Consecutive pull failures after which the mirror is paused
    /// (`Gitlab::Mirror::MAX_RETRY` = 14: the 15th failure hard-fails).
    pub pull_max_retry: u32,
    /// Chance (0..1) that an update gets stuck in `started`.
    pub stuck_probability: f64,
    /// A stuck update is reaped as failed after this long (GitLab: 1 h
    /// incremental / 3 h first run).
    pub stuck_timeout_ms: u64,
    /// Kill a git push/fetch that runs longer than this.
    pub git_timeout_ms: u64,
    /// Push mirrors sync after every push to the source (GitLab does).
    pub sync_on_push: bool,
    /// Start a pull right after a pull mirror is configured.
    pub pull_on_configure: bool,
}

impl Default for MirrorTiming {
    fn default() -> Self {
        Self {
            update_duration_ms: 200,
            push_backoff_ms: 300_000,
            push_backoff_protected_ms: 60_000,
            pull_interval_ms: 300_000,
            pull_max_retry: 14,
            stuck_probability: 0.0,
            stuck_timeout_ms: 3_600_000,
            git_timeout_ms: 120_000,
            sync_on_push: true,
            pull_on_configure: true,
        }
    }
}

impl MirrorTiming {
    /// Timings for fast tests: no backoff, no pull interval, short updates.
    pub fn fast() -> Self {
        Self {
            update_duration_ms: 50,
            push_backoff_ms: 0,
            push_backoff_protected_ms: 0,
            pull_interval_ms: 0,
            ..Self::default()
        }
    }
}

/// One simulated GitLab instance.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct InstanceSpec {
    pub name: String,
    pub edition: Edition,
    /// GitLab version without the edition suffix, e.g. `17.6.1`.
    pub version: String,
    pub revision: String,
    /// Fixed port; `None` uses `SimConfig::base_port + index` (0 = OS-assigned).
    pub port: Option<u16>,
    /// Fixed admin token value (random when absent).
    pub admin_token: Option<String>,
    /// Per-instance seed; falls back to `SimConfig::seed`.
    pub seed: Option<Seed>,
    pub rate_limit: RateLimitConfig,
    pub faults: FaultConfig,
    pub mirror_timing: MirrorTiming,
    /// Maximum token lifetime in days (365; 400 with
    /// `buffered_token_expiration_limit`).
    pub max_token_lifetime_days: i64,
    /// Default branch name for new repositories.
    pub default_branch: String,
    /// Largest accepted project upload in bytes (GitLab's
    /// `max_attachment_size`, 100 MiB by default); larger ones get 413.
    pub max_attachment_size: u64,
}

impl Default for InstanceSpec {
    fn default() -> Self {
        Self {
            name: "gitlab".into(),
            edition: Edition::Ee,
            version: "17.6.1".into(),
            revision: "2f5e3ad1c3f".into(),
            port: None,
            admin_token: None,
            seed: None,
            rate_limit: RateLimitConfig::default(),
            faults: FaultConfig::default(),
            mirror_timing: MirrorTiming::default(),
            max_token_lifetime_days: 365,
            default_branch: "main".into(),
            max_attachment_size: 100 * 1024 * 1024,
        }
    }
}

impl InstanceSpec {
    /// An Enterprise Edition instance.
    pub fn ee(name: &str) -> Self {
        Self {
            name: name.into(),
            edition: Edition::Ee,
            ..Self::default()
        }
    }

    /// A Community Edition instance (no pull mirrors).
    pub fn ce(name: &str) -> Self {
        Self {
            name: name.into(),
            edition: Edition::Ce,
            ..Self::default()
        }
    }

    pub fn with_version(mut self, v: &str) -> Self {
        self.version = v.into();
        self
    }

    pub fn with_seed(mut self, seed: Seed) -> Self {
        self.seed = Some(seed);
        self
    }

    pub fn with_rate_limit(mut self, rl: RateLimitConfig) -> Self {
        self.rate_limit = rl;
        self
    }

    pub fn with_mirror_timing(mut self, t: MirrorTiming) -> Self {
        self.mirror_timing = t;
        self
    }

    pub fn with_faults(mut self, f: FaultConfig) -> Self {
        self.faults = f;
        self
    }

    /// Maximum project upload size in bytes.
    pub fn with_max_attachment_size(mut self, bytes: u64) -> Self {
        self.max_attachment_size = bytes;
        self
    }

    pub fn with_admin_token(mut self, t: &str) -> Self {
        self.admin_token = Some(t.into());
        self
    }
}

/// Whole-simulator configuration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct SimConfig {
    pub instances: Vec<InstanceSpec>,
    /// Seed applied to instances without their own.
    pub seed: Seed,
    /// Where bare repositories live (a temporary directory when absent,
    /// removed at shutdown).
    pub data_dir: Option<PathBuf>,
    /// Listen address (loopback).
    pub host: String,
    /// First port; instance `i` listens on `base_port + i`. 0 = OS-assigned.
    pub base_port: u16,
    /// JSON state file written once all instances listen.
    pub state_file: Option<PathBuf>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            instances: vec![InstanceSpec::ee("gitlab-1")],
            seed: Seed::None,
            data_dir: None,
            host: "127.0.0.1".into(),
            base_port: 0,
            state_file: None,
        }
    }
}

impl SimConfig {
    /// Load a TOML (`.toml`) or JSON file.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)?;
        Self::parse(&text, path.extension().and_then(|e| e.to_str()))
    }

    /// Parse TOML or JSON text (`ext` = `json` selects JSON).
    pub fn parse(text: &str, ext: Option<&str>) -> anyhow::Result<Self> {
        Ok(if ext == Some("json") {
            serde_json::from_str(text)?
        } else {
            toml::from_str(text)?
        })
    }

    /// `n` EE instances named `gitlab-1..n`.
    pub fn with_instances(n: usize) -> Self {
        Self {
            instances: (1..=n)
                .map(|i| InstanceSpec::ee(&format!("gitlab-{i}")))
                .collect(),
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_toml_config() {
        let c = SimConfig::parse(
            r#"
seed = "demo"
base_port = 0
[[instances]]
name = "a"
edition = "ce"
version = "16.11.2"
[instances.rate_limit]
enabled = true
[instances.rate_limit.authenticated]
limit = 60
period_secs = 60
[[instances]]
name = "b"
seed = "none"
[instances.mirror_timing]
push_backoff_ms = 0
"#,
            Some("toml"),
        )
        .unwrap();
        assert_eq!(c.seed, Seed::Demo);
        assert_eq!(c.instances[0].edition, Edition::Ce);
        assert_eq!(c.instances[0].rate_limit.authenticated.limit, 60);
        assert_eq!(c.instances[1].seed, Some(Seed::None));
        assert_eq!(c.instances[1].mirror_timing.push_backoff_ms, 0);
        assert_eq!(c.instances[1].edition, Edition::Ee);
    }
}
