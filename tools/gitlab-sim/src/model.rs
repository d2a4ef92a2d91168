//! The in-memory database of one instance: users, tokens, groups, projects,
//! mirrors, issues. Everything behind one `RwLock` in `Instance`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// User namespaces share the namespace id space with groups; their ids
/// are offset so they never collide with group ids.
pub const USER_NS_OFFSET: u64 = 1_000_000;

/// GitLab access levels.
pub mod access {
    pub const NO_ACCESS: u8 = 0;
    pub const GUEST: u8 = 10;
    pub const PLANNER: u8 = 15;
    pub const REPORTER: u8 = 20;
    pub const DEVELOPER: u8 = 30;
    pub const MAINTAINER: u8 = 40;
    pub const OWNER: u8 = 50;
    pub const VALID_TOKEN_LEVELS: [i64; 6] = [10, 15, 20, 30, 40, 50];
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: u64,
    pub username: String,
    pub name: String,
    pub email: String,
    pub is_admin: bool,
    pub bot: bool,
    pub state: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Personal,
    Project(u64),
}

#[derive(Debug)]
pub struct Token {
    pub id: u64,
    pub user_id: u64,
    pub name: String,
    pub description: Option<String>,
    pub value: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<NaiveDate>,
    pub revoked: bool,
    /// Unix millis of last use, 0 = never (updated without the write lock).
    pub last_used_ms: AtomicI64,
    pub kind: TokenKind,
    pub previous_id: Option<u64>,
}

impl Token {
    pub fn expired(&self, today: NaiveDate) -> bool {
        self.expires_at.is_some_and(|d| d <= today)
    }

    pub fn active(&self, today: NaiveDate) -> bool {
        !self.revoked && !self.expired(today)
    }

    pub fn last_used_at(&self) -> Option<DateTime<Utc>> {
        match self.last_used_ms.load(Ordering::Relaxed) {
            0 => None,
            ms => DateTime::from_timestamp_millis(ms),
        }
    }

    /// GitLab only writes `last_used_at` every 10 minutes.
    pub fn touch(&self, now_ms: i64) {
        let prev = self.last_used_ms.load(Ordering::Relaxed);
        if now_ms - prev > 600_000 {
            self.last_used_ms.store(now_ms, Ordering::Relaxed);
        }
    }
}

#[derive(Debug, Clone)]
pub struct Group {
    pub id: u64,
    pub name: String,
    pub path: String,
    pub full_path: String,
    pub full_name: String,
    pub parent_id: Option<u64>,
    pub description: String,
    pub visibility: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Namespace {
    Group(u64),
    User(u64),
}

#[derive(Debug, Clone, Serialize)]
pub struct ProtectedBranch {
    pub id: u64,
    pub name: String,
    pub push_access_level: u8,
    pub merge_access_level: u8,
    pub allow_force_push: bool,
}

/// Pull-mirror state (`ProjectImportState`).
#[derive(Debug, Clone, Default)]
pub struct ImportState {
    pub id: u64,
    pub status: String,
    pub last_error: Option<String>,
    pub last_update_at: Option<DateTime<Utc>>,
    pub last_update_started_at: Option<DateTime<Utc>>,
    pub last_successful_update_at: Option<DateTime<Utc>>,
    pub retry_count: u32,
    pub hard_failed: bool,
    pub next_execution: Option<DateTime<Utc>>,
    /// Bumped on every run so stale scheduled runs can tell.
    pub run_seq: u64,
}

#[derive(Debug, Clone)]
pub struct Project {
    pub id: u64,
    pub name: String,
    pub path: String,
    pub namespace: Namespace,
    pub full_path: String,
    pub name_with_namespace: String,
    pub description: Option<String>,
    pub visibility: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
    pub creator_id: u64,
    pub default_branch: Option<String>,
    pub empty_repo: bool,
    pub archived: bool,
    pub topics: Vec<String>,
    pub protected_branches: Vec<ProtectedBranch>,
    /// Pull-mirror source, with credentials (never rendered as is).
    pub import_url: Option<String>,
    pub import_type: Option<String>,
    pub mirror: bool,
    pub mirror_user_id: Option<u64>,
    pub mirror_trigger_builds: bool,
    pub only_mirror_protected_branches: Option<bool>,
    pub mirror_overwrites_diverged_branches: bool,
    pub mirror_branch_regex: Option<String>,
    pub import_state: Option<ImportState>,
    pub next_issue_iid: u64,
    /// Directory name of the bare repository under the repository root.
    pub disk_path: String,
}

#[derive(Debug, Clone)]
pub struct RemoteMirror {
    pub id: u64,
    pub project_id: u64,
    /// URL with credentials (masked when rendered).
    pub url: String,
    pub enabled: bool,
    pub only_protected_branches: bool,
    pub keep_divergent_refs: bool,
    pub auth_method: String,
    pub mirror_branch_regex: Option<String>,
    pub update_status: String,
    pub last_error: Option<String>,
    pub last_update_at: Option<DateTime<Utc>>,
    pub last_update_started_at: Option<DateTime<Utc>>,
    pub last_successful_update_at: Option<DateTime<Utc>>,
    /// A delayed run is queued (backoff); further syncs do not queue more.
    pub scheduled: bool,
    pub run_seq: u64,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Label {
    pub id: u64,
    pub project_id: u64,
    pub name: String,
    pub color: String,
    pub description: Option<String>,
    pub priority: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct Milestone {
    pub id: u64,
    pub iid: u64,
    pub project_id: u64,
    pub title: String,
    pub description: Option<String>,
    pub state: String,
    pub due_date: Option<NaiveDate>,
    pub start_date: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Issue {
    pub id: u64,
    pub iid: u64,
    pub project_id: u64,
    pub title: String,
    pub description: Option<String>,
    pub state: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_by: Option<u64>,
    pub labels: Vec<String>,
    pub milestone_id: Option<u64>,
    pub assignee_ids: Vec<u64>,
    pub author_id: u64,
    pub confidential: bool,
    pub discussion_locked: Option<bool>,
    pub due_date: Option<NaiveDate>,
    pub issue_type: String,
    pub weight: Option<i64>,
    pub time_estimate: i64,
    pub total_time_spent: i64,
}

#[derive(Debug, Clone)]
pub struct Note {
    pub id: u64,
    pub issue_id: u64,
    pub project_id: u64,
    pub body: String,
    pub author_id: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub system: bool,
    pub internal: bool,
}

/// A project (markdown) upload; the bytes live on disk.
#[derive(Debug, Clone)]
pub struct Upload {
    pub id: u64,
    pub project_id: u64,
    /// 32 hex characters.
    pub secret: String,
    pub filename: String,
    pub size: u64,
    pub created_at: DateTime<Utc>,
    pub uploaded_by: Option<u64>,
}

/// One entry of the mutation log (`/-/sim/mutations`).
#[derive(Debug, Clone, Serialize)]
pub struct Mutation {
    pub at: String,
    pub kind: String,
    pub project_id: Option<u64>,
    pub project_path: Option<String>,
    pub object_id: u64,
    pub detail: String,
}

/// All state of one instance.
#[derive(Debug, Default)]
pub struct Db {
    next_id: HashMap<&'static str, u64>,
    pub users: BTreeMap<u64, User>,
    pub tokens: BTreeMap<u64, Token>,
    pub token_index: HashMap<String, u64>,
    pub groups: BTreeMap<u64, Group>,
    pub group_paths: HashMap<String, u64>,
    pub projects: BTreeMap<u64, Project>,
    pub project_paths: HashMap<String, u64>,
    pub group_members: HashMap<u64, BTreeMap<u64, u8>>,
    pub project_members: HashMap<u64, BTreeMap<u64, u8>>,
    pub remote_mirrors: BTreeMap<u64, RemoteMirror>,
    pub labels: BTreeMap<u64, Label>,
    pub milestones: BTreeMap<u64, Milestone>,
    pub issues: BTreeMap<u64, Issue>,
    pub notes: BTreeMap<u64, Note>,
    pub uploads: BTreeMap<u64, Upload>,
    pub mutations: Vec<Mutation>,
    /// Tokens created by the seed (baseline, not leftovers).
    pub seeded_tokens: HashSet<u64>,
}

impl Db {
    /// Next id in the sequence `kind` (GitLab ids are per table).
    pub fn next_id(&mut self, kind: &'static str) -> u64 {
        let e = self.next_id.entry(kind).or_insert(0);
        *e += 1;
        *e
    }

    pub fn log(
        &mut self,
        kind: &str,
        project_id: Option<u64>,
        object_id: u64,
        detail: impl Into<String>,
    ) {
        let project_path =
            project_id.and_then(|p| self.projects.get(&p).map(|p| p.full_path.clone()));
        self.mutations.push(Mutation {
            at: crate::util::ts(&Utc::now()),
            kind: kind.to_string(),
            project_id,
            project_path,
            object_id,
            detail: detail.into(),
        });
    }

    /// Find a project by numeric id or (URL-decoded) full path.
    pub fn find_project(&self, id: &str) -> Option<&Project> {
        if let Ok(n) = id.parse::<u64>() {
            return self.projects.get(&n);
        }
        self.project_paths
            .get(&id.to_ascii_lowercase())
            .and_then(|i| self.projects.get(i))
    }

    pub fn find_group(&self, id: &str) -> Option<&Group> {
        if let Ok(n) = id.parse::<u64>() {
            return self.groups.get(&n);
        }
        self.group_paths
            .get(&id.to_ascii_lowercase())
            .and_then(|i| self.groups.get(i))
    }

    /// Group ancestry, the group itself first.
    pub fn group_chain(&self, gid: u64) -> Vec<u64> {
        let mut out = vec![];
        let mut cur = Some(gid);
        while let Some(g) = cur {
            out.push(g);
            cur = self.groups.get(&g).and_then(|g| g.parent_id);
        }
        out
    }

    /// Whether `gid` is `ancestor` or below it.
    pub fn group_within(&self, gid: u64, ancestor: u64) -> bool {
        self.group_chain(gid).contains(&ancestor)
    }

    /// Highest membership level of `uid` in a group (inherited).
    pub fn group_access(&self, uid: u64, gid: u64) -> u8 {
        self.group_chain(gid)
            .iter()
            .filter_map(|g| self.group_members.get(g).and_then(|m| m.get(&uid)))
            .copied()
            .max()
            .unwrap_or(access::NO_ACCESS)
    }

    /// Highest membership level of `uid` in a project (direct, inherited,
    /// or as owner of the personal namespace).
    pub fn project_access(&self, uid: u64, p: &Project) -> u8 {
        let direct = self
            .project_members
            .get(&p.id)
            .and_then(|m| m.get(&uid))
            .copied()
            .unwrap_or(0);
        let inherited = match p.namespace {
            Namespace::Group(g) => self.group_access(uid, g),
            Namespace::User(u) if u == uid => access::OWNER,
            Namespace::User(_) => 0,
        };
        direct.max(inherited)
    }

    /// Effective level: administrators act as owners everywhere.
    pub fn effective_project_access(&self, uid: u64, p: &Project) -> u8 {
        match self.users.get(&uid) {
            Some(u) if u.is_admin => access::OWNER,
            Some(_) => self.project_access(uid, p),
            None => 0,
        }
    }

    pub fn effective_group_access(&self, uid: u64, gid: u64) -> u8 {
        match self.users.get(&uid) {
            Some(u) if u.is_admin => access::OWNER,
            Some(_) => self.group_access(uid, gid),
            None => 0,
        }
    }

    /// Can `uid` (None = anonymous) see the project at all?
    pub fn can_read_project(&self, uid: Option<u64>, p: &Project) -> bool {
        match (p.visibility.as_str(), uid) {
            ("public", _) => true,
            ("internal", Some(u)) => {
                self.users.get(&u).is_some_and(|u| !u.bot)
                    || self.effective_project_access(u, p) > 0
            }
            (_, Some(u)) => self.effective_project_access(u, p) >= access::GUEST,
            _ => false,
        }
    }

    pub fn can_read_group(&self, uid: Option<u64>, g: &Group) -> bool {
        match (g.visibility.as_str(), uid) {
            ("public", _) => true,
            ("internal", Some(_)) => true,
            (_, Some(u)) => {
                self.effective_group_access(u, g.id) > 0
                    || self.projects.values().any(|p| {
                        matches!(p.namespace, Namespace::Group(pg) if self.group_within(pg, g.id))
                            && self.effective_project_access(u, p) > 0
                    })
            }
            _ => false,
        }
    }

    /// Projects whose namespace is `gid` (or below when `recursive`).
    pub fn group_projects(&self, gid: u64, recursive: bool) -> Vec<&Project> {
        self.projects
            .values()
            .filter(|p| match p.namespace {
                Namespace::Group(pg) if pg == gid => true,
                Namespace::Group(pg) if recursive => self.group_within(pg, gid),
                _ => false,
            })
            .collect()
    }

    /// Add or raise a membership.
    pub fn add_project_member(&mut self, pid: u64, uid: u64, level: u8) {
        self.project_members
            .entry(pid)
            .or_default()
            .insert(uid, level);
    }

    pub fn add_group_member(&mut self, gid: u64, uid: u64, level: u8) {
        self.group_members
            .entry(gid)
            .or_default()
            .insert(uid, level);
    }

    /// Register a token value (ids are per the `tokens` table).
    pub fn insert_token(&mut self, t: Token) -> u64 {
        let id = t.id;
        self.token_index.insert(t.value.clone(), id);
        self.tokens.insert(id, t);
        id
    }

    /// Direct project member level of a bot (a project token's access level).
    pub fn token_access_level(&self, t: &Token) -> Option<u8> {
        match t.kind {
            TokenKind::Project(pid) => self
                .project_members
                .get(&pid)
                .and_then(|m| m.get(&t.user_id))
                .copied(),
            TokenKind::Personal => None,
        }
    }

    /// Rename helper: recompute every project's and subgroup's paths.
    pub fn namespace_full_path(&self, ns: Namespace) -> (String, String) {
        match ns {
            Namespace::Group(g) => {
                let g = &self.groups[&g];
                (g.full_path.clone(), g.full_name.clone())
            }
            Namespace::User(u) => {
                let u = &self.users[&u];
                (u.username.clone(), u.name.clone())
            }
        }
    }
}
