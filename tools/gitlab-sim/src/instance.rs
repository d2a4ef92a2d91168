//! One simulated GitLab instance: its database, repositories, limiter,
//! faults and counters, plus the operations that create and change things.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64};

use chrono::{NaiveDate, Utc};
use parking_lot::RwLock;

use crate::config::{Edition, InstanceSpec, MirrorTiming};
use crate::faults::Faults;
use crate::git::Git;
use crate::model::*;
use crate::rate_limit::RateLimiter;
use crate::stats::Stats;

/// A running instance (shared by its handlers and background jobs).
pub struct Instance {
    pub index: usize,
    pub name: String,
    pub edition: Edition,
    pub version: String,
    pub revision: String,
    pub default_branch: String,
    pub max_token_lifetime_days: i64,
    /// `http://127.0.0.1:PORT`
    pub base_url: String,
    /// `127.0.0.1:PORT`
    pub host: String,
    pub admin_token: String,
    pub admin_user_id: u64,
    pub db: RwLock<Db>,
    pub repo_root: PathBuf,
    pub git: Git,
    pub stats: Stats,
    pub limiter: RateLimiter,
    pub faults: Faults,
    pub timing: RwLock<MirrorTiming>,
    /// Largest accepted project upload in bytes.
    pub max_attachment_size: AtomicU64,
}

/// Parameters for a new project.
#[derive(Debug, Clone, Default)]
pub struct NewProject {
    pub name: String,
    pub path: String,
    pub namespace: Option<Namespace>,
    pub description: Option<String>,
    pub visibility: Option<String>,
    pub topics: Vec<String>,
}

impl Instance {
    pub fn new(
        index: usize,
        spec: &InstanceSpec,
        base_url: String,
        host: String,
        repo_root: PathBuf,
        git: Git,
    ) -> Self {
        let mut db = Db::default();
        let admin_id = db.next_id("users");
        db.users.insert(
            admin_id,
            User {
                id: admin_id,
                username: "root".into(),
                name: "Administrator".into(),
                email: "admin@example.com".into(),
                is_admin: true,
                bot: false,
                state: "active".into(),
                created_at: Utc::now(),
            },
        );
        let admin_token = spec
            .admin_token
            .clone()
            .unwrap_or_else(crate::util::new_token_value);
        let tid = db.next_id("tokens");
        db.insert_token(Token {
            id: tid,
            user_id: admin_id,
            name: "gitlab-sim admin".into(),
            description: Some("Administrator token created by the simulator".into()),
            value: admin_token.clone(),
            scopes: vec![
                "api".into(),
                "read_user".into(),
                "read_repository".into(),
                "write_repository".into(),
                "sudo".into(),
                "admin_mode".into(),
            ],
            created_at: Utc::now(),
            expires_at: None,
            revoked: false,
            last_used_ms: AtomicI64::new(0),
            kind: TokenKind::Personal,
            previous_id: None,
        });
        Self {
            index,
            name: spec.name.clone(),
            edition: spec.edition,
            version: spec.version.clone(),
            revision: spec.revision.clone(),
            default_branch: spec.default_branch.clone(),
            max_token_lifetime_days: spec.max_token_lifetime_days,
            base_url,
            host,
            admin_token,
            admin_user_id: admin_id,
            db: RwLock::new(db),
            repo_root,
            git,
            stats: Stats::default(),
            limiter: RateLimiter::new(spec.rate_limit.clone()),
            faults: Faults::new(spec.faults.clone()),
            timing: RwLock::new(spec.mirror_timing.clone()),
            max_attachment_size: AtomicU64::new(spec.max_attachment_size),
        }
    }

    pub fn is_ee(&self) -> bool {
        self.edition == Edition::Ee
    }

    pub fn today(&self) -> NaiveDate {
        Utc::now().date_naive()
    }

    /// Bare repository of a project.
    pub fn repo_path(&self, p: &Project) -> PathBuf {
        self.repo_root.join(&p.disk_path)
    }

    pub fn repo_path_by_id(&self, pid: u64) -> Option<PathBuf> {
        self.db.read().projects.get(&pid).map(|p| self.repo_path(p))
    }

    /// Where project uploads live: `<instance dir>/uploads/<project id>/<secret>/<file>`.
    pub fn uploads_root(&self) -> PathBuf {
        self.repo_root
            .parent()
            .unwrap_or(&self.repo_root)
            .join("uploads")
    }

    pub fn web_url(&self, full_path: &str) -> String {
        format!("{}/{}", self.base_url, full_path)
    }

    // ----- users and tokens -------------------------------------------------

    pub fn create_user(
        db: &mut Db,
        username: &str,
        name: &str,
        is_admin: bool,
        bot: bool,
        email: &str,
    ) -> u64 {
        let id = db.next_id("users");
        db.users.insert(
            id,
            User {
                id,
                username: username.into(),
                name: name.into(),
                email: email.into(),
                is_admin,
                bot,
                state: "active".into(),
                created_at: Utc::now(),
            },
        );
        id
    }

    /// Create a token; returns (id, value).
    #[allow(clippy::too_many_arguments)]
    pub fn create_token(
        db: &mut Db,
        user_id: u64,
        name: &str,
        description: Option<String>,
        scopes: Vec<String>,
        expires_at: Option<NaiveDate>,
        kind: TokenKind,
        value: Option<String>,
        previous_id: Option<u64>,
    ) -> (u64, String) {
        let id = db.next_id("tokens");
        let value = value.unwrap_or_else(crate::util::new_token_value);
        db.insert_token(Token {
            id,
            user_id,
            name: name.into(),
            description,
            value: value.clone(),
            scopes,
            created_at: Utc::now(),
            expires_at,
            revoked: false,
            last_used_ms: AtomicI64::new(0),
            kind,
            previous_id,
        });
        (id, value)
    }

    // ----- groups -----------------------------------------------------------

    /// Create a group (and nothing else); `path` is the last segment.
    pub fn create_group(
        db: &mut Db,
        name: &str,
        path: &str,
        parent: Option<u64>,
        visibility: &str,
        description: &str,
    ) -> u64 {
        let id = db.next_id("namespaces");
        let (full_path, full_name) = match parent.and_then(|p| db.groups.get(&p)) {
            Some(pg) => (
                format!("{}/{}", pg.full_path, path),
                format!("{} / {}", pg.full_name, name),
            ),
            None => (path.to_string(), name.to_string()),
        };
        db.group_paths.insert(full_path.to_ascii_lowercase(), id);
        db.groups.insert(
            id,
            Group {
                id,
                name: name.into(),
                path: path.into(),
                full_path,
                full_name,
                parent_id: parent,
                description: description.into(),
                visibility: visibility.into(),
                created_at: Utc::now(),
            },
        );
        id
    }

    /// Create every missing group along `a/b/c`; returns the last one.
    pub fn ensure_group_path(db: &mut Db, full_path: &str, owner: u64, visibility: &str) -> u64 {
        let mut parent: Option<u64> = None;
        let mut acc = String::new();
        for seg in full_path.split('/').filter(|s| !s.is_empty()) {
            if !acc.is_empty() {
                acc.push('/');
            }
            acc.push_str(seg);
            parent = Some(match db.group_paths.get(&acc.to_ascii_lowercase()) {
                Some(id) => *id,
                None => {
                    let name = title_case(seg);
                    let id = Self::create_group(db, &name, seg, parent, visibility, "");
                    if parent.is_none() {
                        db.add_group_member(id, owner, access::OWNER);
                    }
                    id
                }
            });
        }
        parent.unwrap_or(0)
    }

    // ----- projects ---------------------------------------------------------

    /// Insert the project record; the repository is created by `init_repo`.
    pub fn insert_project(
        &self,
        db: &mut Db,
        np: &NewProject,
        creator: u64,
    ) -> Result<u64, crate::error::ApiError> {
        let ns = np.namespace.unwrap_or(Namespace::User(creator));
        let (ns_path, ns_name) = db.namespace_full_path(ns);
        let full_path = format!("{}/{}", ns_path, np.path);
        if db
            .project_paths
            .contains_key(&full_path.to_ascii_lowercase())
        {
            return Err(crate::error::ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                serde_json::json!({"message": {"project_namespace.name": ["has already been taken"], "name": ["has already been taken"], "path": ["has already been taken"]}}),
            ));
        }
        let id = db.next_id("projects");
        let now = Utc::now();
        let visibility = np.visibility.clone().unwrap_or_else(|| "private".into());
        db.project_paths.insert(full_path.to_ascii_lowercase(), id);
        db.projects.insert(
            id,
            Project {
                id,
                name: np.name.clone(),
                path: np.path.clone(),
                namespace: ns,
                name_with_namespace: format!("{} / {}", ns_name, np.name),
                full_path,
                description: np.description.clone(),
                visibility,
                created_at: now,
                updated_at: now,
                last_activity_at: now,
                creator_id: creator,
                default_branch: None,
                empty_repo: true,
                archived: false,
                topics: np.topics.clone(),
                protected_branches: vec![],
                import_url: None,
                import_type: None,
                mirror: false,
                mirror_user_id: None,
                mirror_trigger_builds: false,
                only_mirror_protected_branches: None,
                mirror_overwrites_diverged_branches: false,
                mirror_branch_regex: None,
                import_state: None,
                next_issue_iid: 1,
                disk_path: format!("@hashed/{id:06}.git"),
            },
        );
        // The creator becomes an owner unless the namespace already grants that.
        let p = &db.projects[&id];
        // Personal projects have their owner as a direct member too.
        if db.project_access(creator, p) < access::OWNER || matches!(ns, Namespace::User(_)) {
            db.add_project_member(id, creator, access::OWNER);
        }
        Ok(id)
    }

    /// Create the bare repository of a project.
    pub async fn init_repo(&self, pid: u64) -> anyhow::Result<()> {
        let path = self
            .repo_path_by_id(pid)
            .ok_or_else(|| anyhow::anyhow!("no project {pid}"))?;
        self.git.init_bare(&path, &self.default_branch).await
    }

    /// Re-read a project's refs after they changed on disk: `empty_repo`,
    /// `default_branch` (first branch becomes the default, like GitLab), and
    /// the protection of a new default branch.
    pub async fn refresh_repo(&self, pid: u64) -> anyhow::Result<()> {
        let Some(path) = self.repo_path_by_id(pid) else {
            return Ok(());
        };
        let branches = self.git.ref_shas(&path, "refs/heads/").await?;
        let names: Vec<String> = branches
            .iter()
            .filter_map(|(r, _)| r.strip_prefix("refs/heads/").map(str::to_string))
            .collect();
        let head = self.git.head_branch(&path).await;
        let (new_default, set_head) = {
            let db = self.db.read();
            let Some(p) = db.projects.get(&pid) else {
                return Ok(());
            };
            match &p.default_branch {
                Some(d) if names.contains(d) => (Some(d.clone()), false),
                _ if names.is_empty() => (None, false),
                _ => {
                    let pick = head
                        .filter(|h| names.contains(h))
                        .or_else(|| names.iter().find(|n| *n == &self.default_branch).cloned())
                        .or_else(|| {
                            names
                                .iter()
                                .find(|n| *n == "main" || *n == "master")
                                .cloned()
                        })
                        .unwrap_or_else(|| names[0].clone());
                    (Some(pick), true)
                }
            }
        };
        if set_head && let Some(b) = &new_default {
            self.git.set_head(&path, b).await?;
        }
        let mut db = self.db.write();
        let pb_id = if set_head {
            db.next_id("protected_branches")
        } else {
            0
        };
        if let Some(p) = db.projects.get_mut(&pid) {
            let was_empty = p.empty_repo;
            p.empty_repo = names.is_empty();
            if set_head {
                p.default_branch = new_default.clone();
                // GitLab protects the default branch when it is first set.
                if let Some(b) = &new_default
                    && was_empty
                    && !p.protected_branches.iter().any(|x| &x.name == b)
                {
                    p.protected_branches.push(ProtectedBranch {
                        id: pb_id,
                        name: b.clone(),
                        push_access_level: access::MAINTAINER,
                        merge_access_level: access::MAINTAINER,
                        allow_force_push: false,
                    });
                }
            }
            if names.is_empty() {
                p.default_branch = None;
            }
            p.last_activity_at = Utc::now();
        }
        Ok(())
    }

    /// Remove a project and everything hanging off it.
    pub fn remove_project(&self, db: &mut Db, pid: u64) -> Option<PathBuf> {
        let p = db.projects.remove(&pid)?;
        db.project_paths.remove(&p.full_path.to_ascii_lowercase());
        let mirrors: Vec<u64> = db
            .remote_mirrors
            .values()
            .filter(|m| m.project_id == pid)
            .map(|m| m.id)
            .collect();
        for m in mirrors {
            db.remote_mirrors.remove(&m);
            db.mutations.push(Mutation {
                at: crate::util::ts(&Utc::now()),
                kind: "remote_mirror_deleted".into(),
                project_id: Some(pid),
                project_path: Some(p.full_path.clone()),
                object_id: m,
                detail: "deleted with its project".into(),
            });
        }
        let tokens: Vec<u64> = db
            .tokens
            .values()
            .filter(|t| t.kind == TokenKind::Project(pid) && !t.revoked)
            .map(|t| t.id)
            .collect();
        for t in tokens {
            if let Some(t) = db.tokens.get_mut(&t) {
                t.revoked = true;
            }
        }
        db.project_members.remove(&pid);
        db.issues.retain(|_, i| i.project_id != pid);
        db.notes.retain(|_, n| n.project_id != pid);
        db.labels.retain(|_, l| l.project_id != pid);
        db.milestones.retain(|_, m| m.project_id != pid);
        if db.uploads.values().any(|u| u.project_id == pid) {
            db.uploads.retain(|_, u| u.project_id != pid);
            let _ = std::fs::remove_dir_all(self.uploads_root().join(pid.to_string()));
        }
        Some(self.repo_root.join(&p.disk_path))
    }
}

/// `backend-api` → `Backend Api`.
pub fn title_case(s: &str) -> String {
    s.split(['-', '_'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub type SharedInstance = Arc<Instance>;
