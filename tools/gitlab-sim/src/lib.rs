#![recursion_limit = "512"]
//! GitLab simulator: a faithful stand-in for GitLab's REST API v4 and git
//! smart HTTP, serving any number of instances on loopback ports.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use gitlab_sim::{InstanceSpec, Seed, Sim, SimConfig};
//! let sim = Sim::start(SimConfig {
//!     instances: vec![InstanceSpec::ee("gl-a"), InstanceSpec::ce("gl-b")],
//!     seed: Seed::Demo,
//!     ..Default::default()
//! })
//! .await?;
//! let a = sim.instance(0);
//! println!("{} {}", a.base_url, a.admin_token);
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

pub mod admin;
pub mod api;
pub mod auth;
pub mod config;
pub mod entities;
pub mod error;
pub mod faults;
pub mod git;
pub mod git_http;
pub mod instance;
pub mod mirror;
pub mod model;
pub mod pagination;
pub mod params;
pub mod rate_limit;
pub mod seed;
pub mod server;
pub mod stats;
pub mod util;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use serde::{Deserialize, Serialize};

pub use admin::Leftovers;
pub use config::{Edition, InstanceSpec, MirrorTiming, Seed, SimConfig};
pub use faults::{Distribution, FaultConfig, FaultRule};
pub use instance::Instance;
pub use model::Mutation;
pub use rate_limit::{RateLimitConfig, RateLimitMode, Throttle};
pub use seed::{ProjectSeed, SeedSpec, SeededToken};
pub use stats::StatsSnapshot;

/// What the state file holds for one instance.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InstanceState {
    pub name: String,
    pub edition: Edition,
    pub version: String,
    pub base_url: String,
    pub admin_token: String,
    /// Tokens of seeded non-admin users.
    pub users: Vec<SeededToken>,
}

/// The JSON state file written at start.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SimState {
    pub data_dir: PathBuf,
    pub instances: Vec<InstanceState>,
}

/// Handle to one running instance.
#[derive(Clone)]
pub struct SimInstance {
    pub name: String,
    /// `http://127.0.0.1:PORT`
    pub base_url: String,
    pub admin_token: String,
    pub edition: Edition,
    pub version: String,
    pub seeded_tokens: Vec<SeededToken>,
    inner: Arc<Instance>,
}

impl SimInstance {
    /// The underlying instance (database, limiter, ...).
    pub fn inner(&self) -> &Arc<Instance> {
        &self.inner
    }

    /// `http://127.0.0.1:PORT/api/v4`
    pub fn api_url(&self) -> String {
        format!("{}/api/v4", self.base_url)
    }

    pub fn set_rate_limit(&self, cfg: RateLimitConfig) {
        self.inner.limiter.set_config(cfg);
    }

    pub fn rate_limit(&self) -> RateLimitConfig {
        self.inner.limiter.config()
    }

    pub fn set_faults(&self, cfg: FaultConfig) {
        self.inner.faults.set(cfg);
    }

    pub fn clear_faults(&self) {
        self.inner.faults.clear();
    }

    /// Change the maximum project upload size (bytes) at run time.
    pub fn set_max_attachment_size(&self, bytes: u64) {
        self.inner
            .max_attachment_size
            .store(bytes, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn set_mirror_timing(&self, t: MirrorTiming) {
        *self.inner.timing.write() = t;
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.inner.stats.snapshot()
    }

    pub fn reset_stats(&self) {
        self.inner.stats.reset();
    }

    pub fn mutations(&self) -> Vec<Mutation> {
        admin::mutations(&self.inner, 0)
    }

    pub fn leftovers(&self) -> Leftovers {
        admin::leftovers(&self.inner)
    }

    /// Project id by full path.
    pub fn project_id(&self, path: &str) -> Option<u64> {
        self.inner.db.read().find_project(path).map(|p| p.id)
    }

    /// Bare repository of a project.
    pub fn repo_path(&self, path: &str) -> Option<PathBuf> {
        let db = self.inner.db.read();
        db.find_project(path).map(|p| self.inner.repo_path(p))
    }

    /// Every branch and tag of a project (`refs/heads/..`, `refs/tags/..`)
    /// with the object it points at, read from disk.
    pub async fn refs(&self, path: &str) -> anyhow::Result<BTreeMap<String, String>> {
        let repo = self
            .repo_path(path)
            .with_context(|| format!("no project {path}"))?;
        let mut out = BTreeMap::new();
        for prefix in ["refs/heads/", "refs/tags/"] {
            out.extend(self.inner.git.ref_shas(&repo, prefix).await?);
        }
        Ok(out)
    }

    /// Clone URL with credentials: `http://oauth2:<token>@127.0.0.1:PORT/<path>.git`.
    pub fn git_url(&self, path: &str, token: &str) -> String {
        let host = self.base_url.trim_start_matches("http://");
        format!("http://oauth2:{token}@{host}/{path}.git")
    }

    /// Token of a seeded user.
    pub fn token_for(&self, username: &str) -> Option<String> {
        self.seeded_tokens
            .iter()
            .find(|t| t.username == username)
            .map(|t| t.token.clone())
    }

    /// Apply a further seed at run time.
    pub async fn seed(&self, spec: &SeedSpec) -> anyhow::Result<Vec<SeededToken>> {
        seed::apply(&self.inner, spec).await
    }
}

/// A running simulator.
pub struct Sim {
    pub instances: Vec<SimInstance>,
    pub data_dir: PathBuf,
    shutdown: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    _tmp: Option<tempfile::TempDir>,
}

impl Sim {
    /// Bind, seed and serve every configured instance.
    pub async fn start(cfg: SimConfig) -> anyhow::Result<Sim> {
        let (tmp, data_dir) = match &cfg.data_dir {
            Some(d) => {
                std::fs::create_dir_all(d)?;
                (None, d.canonicalize()?)
            }
            None => {
                let t = tempfile::Builder::new().prefix("gitlab-sim-").tempdir()?;
                let p = t.path().to_path_buf();
                (Some(t), p)
            }
        };
        let git_home = data_dir.join(".git-home");
        std::fs::create_dir_all(&git_home)?;
        let git = git::Git::new(git_home);
        git.check(None, &["--version"])
            .await
            .context("git is required")?;
        let (tx, rx) = tokio::sync::watch::channel(false);
        let mut instances = vec![];
        let mut tasks = vec![];
        let specs = if cfg.instances.is_empty() {
            vec![InstanceSpec::ee("gitlab-1")]
        } else {
            cfg.instances.clone()
        };
        for (i, spec) in specs.iter().enumerate() {
            let port = spec.port.unwrap_or(if cfg.base_port == 0 {
                0
            } else {
                cfg.base_port + i as u16
            });
            let listener = tokio::net::TcpListener::bind((cfg.host.as_str(), port))
                .await
                .with_context(|| format!("binding {}:{port}", cfg.host))?;
            let addr = listener.local_addr()?;
            let host = format!("{}:{}", cfg.host, addr.port());
            let base_url = format!("http://{host}");
            let repo_root = data_dir
                .join(format!("{i}-{}", spec.name))
                .join("repositories");
            std::fs::create_dir_all(&repo_root)?;
            let inst = Arc::new(Instance::new(
                i,
                spec,
                base_url.clone(),
                host,
                repo_root,
                git.clone(),
            ));
            let seed = spec.seed.clone().unwrap_or_else(|| cfg.seed.clone());
            let seed_spec = match seed {
                Seed::None => None,
                Seed::Demo => Some(SeedSpec::demo()),
                Seed::Spec(s) => Some(s),
                Seed::File(p) => {
                    Some(SeedSpec::load(&p).with_context(|| format!("seed file {}", p.display()))?)
                }
            };
            let seeded = match seed_spec {
                Some(s) => seed::apply(&inst, &s)
                    .await
                    .with_context(|| format!("seeding {}", spec.name))?,
                None => vec![],
            };
            tasks.push(tokio::spawn(server::serve(
                inst.clone(),
                listener,
                rx.clone(),
            )));
            instances.push(SimInstance {
                name: spec.name.clone(),
                base_url,
                admin_token: inst.admin_token.clone(),
                edition: spec.edition,
                version: spec.version.clone(),
                seeded_tokens: seeded,
                inner: inst,
            });
        }
        let sim = Sim {
            instances,
            data_dir,
            shutdown: tx,
            tasks,
            _tmp: tmp,
        };
        if let Some(p) = &cfg.state_file {
            sim.write_state(p)?;
        }
        Ok(sim)
    }

    pub fn instance(&self, i: usize) -> &SimInstance {
        &self.instances[i]
    }

    /// Instance by name.
    pub fn by_name(&self, name: &str) -> Option<&SimInstance> {
        self.instances.iter().find(|i| i.name == name)
    }

    pub fn state(&self) -> SimState {
        SimState {
            data_dir: self.data_dir.clone(),
            instances: self
                .instances
                .iter()
                .map(|i| InstanceState {
                    name: i.name.clone(),
                    edition: i.edition,
                    version: i.version.clone(),
                    base_url: i.base_url.clone(),
                    admin_token: i.admin_token.clone(),
                    users: i.seeded_tokens.clone(),
                })
                .collect(),
        }
    }

    /// Write the state file atomically (temp file + rename).
    pub fn write_state(&self, path: &Path) -> anyhow::Result<()> {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(&self.state())?)?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    }

    /// Stop serving and wait for the listeners to close.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}
