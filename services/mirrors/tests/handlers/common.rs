//! Test harness: two simulated GitLab instances, SQLite storage with both instances
//! registered, and the handlers of this crate.

#![allow(dead_code)]

use std::{sync::Arc, time::Duration};

use gitlab_sim::{InstanceSpec, MirrorTiming, Seed, SeedSpec, Sim, SimConfig, seed::ProjectSeed};
use mm_crypto::{Cipher, EncryptionKey, aad};
use mm_gitlab::{
    BreakerConfig, BudgetConfig, GitLabClient, InstanceKey, LocalRateBudget, PullMirror,
    RemoteMirror, RetryPolicy, SecretToken,
};
use mm_mirrors::{ClientSettings, MirrorSettings, MirrorsContext, handlers, kinds};
use mm_storage::{
    Instance, ItemMirror, ItemState, Job, JobItem, Mirror, MirrorDirection, MirrorOverrides,
    NewInstance, NewJob, NewJobItem, NewMirror, NewPair, Pair, Storage, Window,
    testing::{TestBackend, TestDatabase},
};
use mm_tasks::{HandlerRegistry, Task, TaskError};
use serde_json::{Value, json};

pub const SRC_APP: &str = "src/app";
pub const SRC_LIB: &str = "src/lib";
pub const DST_APP: &str = "dst/app";
pub const DST_LIB: &str = "dst/lib";

pub fn seed() -> SeedSpec {
    let project = |path: &str, empty: bool| ProjectSeed {
        path: path.to_owned(),
        empty,
        commits: 3,
        branches: vec!["develop".into(), "feature/x".into()],
        tags: vec!["v1.0.0".into(), "v1.1.0".into()],
        protected_branches: vec!["develop".into()],
        ..Default::default()
    };
    SeedSpec {
        projects: vec![
            project(SRC_APP, false),
            project(SRC_LIB, false),
            project(DST_APP, true),
            project(DST_LIB, true),
        ],
        ..Default::default()
    }
}

/// Pair defaults for tests.
#[derive(Debug, Clone, Default)]
pub struct Defaults {
    pub overwrite_diverged: bool,
    pub trigger_builds: bool,
    pub only_protected: bool,
    pub branch_regex: Option<String>,
}

pub struct Harness {
    pub sim: Sim,
    pub db: TestDatabase,
    pub storage: Arc<dyn Storage>,
    pub cipher: Arc<Cipher>,
    pub ctx: Arc<MirrorsContext>,
    pub registry: HandlerRegistry,
    /// Rows of the two simulated instances (a = sim instance 0, b = sim instance 1).
    pub a: Instance,
    pub b: Instance,
}

/// Fast client retries and a breaker that never opens, so faults map to one error.
pub fn test_client_settings() -> ClientSettings {
    ClientSettings {
        retry: RetryPolicy {
            max_attempts: 2,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(20),
            multiplier: 2.0,
            overall_deadline: Duration::from_secs(30),
            default_rate_limit_pause: Duration::from_millis(100),
        },
        breaker: BreakerConfig {
            failure_threshold: 10_000,
            ..BreakerConfig::default()
        },
        request_timeout: Duration::from_secs(20),
        ..ClientSettings::default()
    }
}

impl Harness {
    /// Two EE instances.
    pub async fn start() -> Harness {
        Harness::with(InstanceSpec::ee("gl-a"), InstanceSpec::ee("gl-b")).await
    }

    pub async fn with(a: InstanceSpec, b: InstanceSpec) -> Harness {
        let sim = Sim::start(SimConfig {
            instances: vec![
                a.with_mirror_timing(MirrorTiming::fast()),
                b.with_mirror_timing(MirrorTiming::fast()),
            ],
            seed: Seed::Spec(seed()),
            ..Default::default()
        })
        .await
        .expect("simulator starts");
        let db = TestDatabase::create(TestBackend::Sqlite)
            .await
            .expect("sqlite database");
        let storage = db.storage().await.expect("storage");
        let (key, _) = EncryptionKey::generate();
        let cipher = Arc::new(Cipher::new(key));
        let mut rows = vec![];
        for i in 0..2 {
            let si = sim.instance(i);
            let token = si.admin_token.clone();
            let sealer_cipher = cipher.clone();
            let sealer = move |id: i64| {
                sealer_cipher
                    .encrypt(&token, &aad::instance_token(id))
                    .map_err(|e| e.to_string())
            };
            let row = storage
                .create_instance(
                    &NewInstance {
                        name: si.name.clone(),
                        url: si.base_url.clone(),
                        description: String::new(),
                    },
                    &sealer,
                )
                .await
                .expect("create instance");
            rows.push(row);
        }
        let budget = Arc::new(LocalRateBudget::new(BudgetConfig::per_second(500)));
        let ctx = Arc::new(MirrorsContext::new(
            storage.clone(),
            cipher.clone(),
            budget,
            test_client_settings(),
            MirrorSettings::default(),
        ));
        let registry = handlers(ctx.clone());
        let b = rows.pop().unwrap();
        let a = rows.pop().unwrap();
        Harness {
            sim,
            db,
            storage,
            cipher,
            ctx,
            registry,
            a,
            b,
        }
    }

    /// A pair from instance a to instance b.
    pub async fn pair(&self, direction: MirrorDirection, defaults: Defaults) -> Pair {
        self.storage
            .create_pair(&NewPair {
                name: format!("a-to-b-{}", direction.as_str()),
                source_instance_id: self.a.id,
                target_instance_id: self.b.id,
                mirror_direction: direction,
                mirror_overwrite_diverged: defaults.overwrite_diverged,
                mirror_trigger_builds: defaults.trigger_builds,
                only_mirror_protected_branches: defaults.only_protected,
                mirror_branch_regex: defaults.branch_regex,
                description: String::new(),
            })
            .await
            .expect("create pair")
    }

    /// Records a job and returns it with its items.
    pub async fn job(
        &self,
        kind: &str,
        pair_id: Option<i64>,
        items: Vec<NewJobItem>,
    ) -> (Job, Vec<JobItem>) {
        let created = self
            .storage
            .create_job(&NewJob {
                kind: kind.to_owned(),
                pair_id,
                mirror_id: None,
                instance_id: None,
                requested_by: "test".into(),
                params: json!({}),
                items,
                traceparent: None,
                mark_deleting: vec![],
            })
            .await
            .expect("create job");
        let items = self
            .storage
            .list_job_items(
                created.job.id,
                None,
                Window {
                    offset: 0,
                    limit: 1000,
                },
            )
            .await
            .expect("items")
            .items;
        (created.job, items)
    }

    /// A `mirror.create` job for a new mirror; returns the mirror id and the item.
    pub async fn create_job(&self, pair: &Pair, source: &str, target: &str) -> (i64, JobItem) {
        self.create_job_with(pair, source, target, MirrorOverrides::default())
            .await
    }

    pub async fn create_job_with(
        &self,
        pair: &Pair,
        source: &str,
        target: &str,
        overrides: MirrorOverrides,
    ) -> (i64, JobItem) {
        let mut mirror = NewMirror::new(pair.id, source, target);
        mirror.overrides = overrides;
        let item = NewJobItem {
            mirror: ItemMirror::New(mirror),
            label: format!("{source} → {target}"),
            task_kind: kinds::task::MIRROR_CREATE.to_owned(),
            payload: json!({}),
            state: ItemState::Queued,
            error: None,
        };
        let (_, items) = self
            .job(kinds::job::MIRROR_CREATE, Some(pair.id), vec![item])
            .await;
        let item = items.into_iter().next().unwrap();
        (item.mirror_id.expect("item has its mirror"), item)
    }

    /// A one-item job running `task_kind` on an existing mirror.
    pub async fn mirror_job(&self, task_kind: &str, mirror_id: i64) -> JobItem {
        let (_, items) = self
            .job(
                task_kind,
                None,
                vec![NewJobItem::for_mirror(mirror_id, "test", task_kind)],
            )
            .await;
        items.into_iter().next().unwrap()
    }

    pub fn task(&self, item: &JobItem) -> Task {
        Task::new(item.task_kind.clone(), item.payload.clone()).with_job(item.job_id, Some(item.id))
    }

    /// Runs the handler of the item's task kind.
    pub async fn run(&self, item: &JobItem) -> Result<(), TaskError> {
        self.run_task(self.task(item)).await
    }

    pub async fn run_task(&self, task: Task) -> Result<(), TaskError> {
        let handler = self
            .registry
            .get(&task.kind)
            .unwrap_or_else(|| panic!("no handler for {}", task.kind));
        handler.handle(task).await
    }

    pub async fn item(&self, id: i64) -> JobItem {
        self.storage
            .get_job_item(id)
            .await
            .expect("read item")
            .expect("item exists")
    }

    pub async fn mirror(&self, id: i64) -> Mirror {
        self.storage
            .get_mirror(id)
            .await
            .expect("read mirror")
            .expect("mirror exists")
    }

    /// Runs a one-item job and asserts that it succeeded; returns the item.
    pub async fn run_ok(&self, task_kind: &str, mirror_id: i64) -> JobItem {
        let item = self.mirror_job(task_kind, mirror_id).await;
        self.run(&item).await.expect("handler acknowledges");
        let item = self.item(item.id).await;
        assert_eq!(
            item.state,
            ItemState::Succeeded,
            "{task_kind}: {:?} {:?} {}",
            item.error,
            item.warnings,
            item.result
        );
        item
    }

    /// Creates a mirror through its job and asserts success.
    pub async fn create_ok(&self, pair: &Pair, source: &str, target: &str) -> (i64, JobItem) {
        let (mirror_id, item) = self.create_job(pair, source, target).await;
        self.run(&item).await.expect("create acknowledges");
        let item = self.item(item.id).await;
        assert_eq!(
            item.state,
            ItemState::Succeeded,
            "create: {:?} {:?} {}",
            item.error,
            item.warnings,
            item.result
        );
        (mirror_id, item)
    }

    /// An admin client of sim instance `i`, for looking into GitLab.
    pub fn admin(&self, i: usize) -> GitLabClient {
        let si = self.sim.instance(i);
        GitLabClient::builder(
            si.base_url.clone(),
            SecretToken::new(si.admin_token.clone()),
        )
        .instance(InstanceKey::new(format!("admin-{i}")))
        .build()
        .expect("admin client")
    }

    pub fn project_id(&self, i: usize, path: &str) -> u64 {
        self.sim
            .instance(i)
            .project_id(path)
            .expect("project exists")
    }

    /// Push mirrors of a project of instance `i`.
    pub async fn push_mirrors(&self, i: usize, path: &str) -> Vec<RemoteMirror> {
        self.admin(i)
            .list_remote_mirrors(self.project_id(i, path), Default::default())
            .await
            .expect("list remote mirrors")
            .items
    }

    /// Waits until a push mirror finished an update that ended after `before` (its
    /// `last_update_at` differs).
    pub async fn wait_push(
        &self,
        i: usize,
        path: &str,
        mirror_id: u64,
        before: Option<&str>,
    ) -> RemoteMirror {
        let client = self.admin(i);
        let project = self.project_id(i, path);
        for _ in 0..300 {
            let m = client
                .get_remote_mirror(project, mirror_id)
                .await
                .expect("read push mirror");
            if matches!(m.update_status.as_str(), "finished" | "failed")
                && m.last_update_at.as_deref() != before
            {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("push mirror {mirror_id} did not finish an update");
    }

    /// Waits until a pull mirror finished an update that ended after `before`.
    pub async fn wait_pull(&self, i: usize, path: &str, before: Option<&str>) -> PullMirror {
        let client = self.admin(i);
        let project = self.project_id(i, path);
        for _ in 0..300 {
            if let Some(m) = client
                .get_pull_mirror(project)
                .await
                .expect("read pull mirror")
                && matches!(m.update_status.as_deref(), Some("finished" | "failed"))
                && m.last_update_at.as_deref() != before
            {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("pull mirror of {path} did not finish an update");
    }

    /// The mirror's token in clear (from the row).
    pub fn mirror_token(&self, mirror: &Mirror) -> String {
        self.cipher
            .decrypt(
                mirror
                    .encrypted_mirror_token
                    .as_deref()
                    .expect("token recorded"),
                &aad::mirror_token(mirror.id),
            )
            .expect("decrypt mirror token")
    }

    /// Whether `git ls-remote` with `token` on project `path` of instance `i` works.
    pub async fn git_works(&self, i: usize, path: &str, token: &str) -> bool {
        let url = self.sim.instance(i).git_url(path, token);
        tokio::process::Command::new("git")
            .args(["ls-remote", &url])
            .env("GIT_TERMINAL_PROMPT", "0")
            .output()
            .await
            .expect("run git")
            .status
            .success()
    }

    /// Pushes a new commit to `branch` of project `path` on instance `i` (real git).
    pub async fn add_commit(&self, i: usize, path: &str, branch: &str) -> String {
        let si = self.sim.instance(i);
        let url = si.git_url(path, &si.admin_token);
        let dir = tempfile::tempdir().expect("temp dir");
        let work = dir.path().join("w");
        let git = |args: Vec<String>| {
            let work = work.clone();
            async move {
                let out = tokio::process::Command::new("git")
                    .args(&args)
                    .current_dir(if args[0] == "clone" {
                        work.parent().unwrap().to_path_buf()
                    } else {
                        work
                    })
                    .env("GIT_TERMINAL_PROMPT", "0")
                    .output()
                    .await
                    .expect("run git");
                assert!(
                    out.status.success(),
                    "git {args:?}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                String::from_utf8_lossy(&out.stdout).trim().to_owned()
            }
        };
        git(vec![
            "clone".into(),
            "--branch".into(),
            branch.into(),
            url.clone(),
            "w".into(),
        ])
        .await;
        git(vec![
            "-c".into(),
            "user.name=Test".into(),
            "-c".into(),
            "user.email=test@example.com".into(),
            "commit".into(),
            "--allow-empty".into(),
            "-m".into(),
            "a new commit".into(),
        ])
        .await;
        git(vec![
            "push".into(),
            "origin".into(),
            format!("HEAD:refs/heads/{branch}"),
        ])
        .await;
        git(vec!["rev-parse".into(), "HEAD".into()]).await
    }

    pub async fn shutdown(self) {
        self.sim.shutdown().await;
    }
}

/// The result field `key` of an item.
pub fn result<'a>(item: &'a JobItem, key: &str) -> &'a Value {
    item.result.get(key).unwrap_or(&Value::Null)
}
