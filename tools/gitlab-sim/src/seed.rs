//! Declarative seeding: users, groups, projects with real git content
//! written by one `git fast-import` per repository.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::instance::{Instance, NewProject};
use crate::model::{Namespace, ProtectedBranch, TokenKind, access};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SeedSpec {
    pub users: Vec<UserSeed>,
    pub groups: Vec<GroupSeed>,
    pub projects: Vec<ProjectSeed>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupSeed {
    /// Full path; missing parents are created.
    pub path: String,
    pub name: Option<String>,
    pub visibility: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProjectSeed {
    /// Full path `group/sub/project`; missing groups are created.
    pub path: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub visibility: Option<String>,
    /// No repository content at all (a mirror target).
    pub empty: bool,
    /// Commits on the default branch.
    pub commits: u32,
    /// Extra branches, each forked from the default branch with a commit.
    pub branches: Vec<String>,
    /// Tags on default-branch commits (even positions annotated).
    pub tags: Vec<String>,
    /// Protected branches in addition to the default branch.
    pub protected_branches: Vec<String>,
    pub topics: Vec<String>,
    /// Issues to create (titles `Issue N`).
    pub issues: u32,
}

impl Default for ProjectSeed {
    fn default() -> Self {
        Self {
            path: String::new(),
            name: None,
            description: None,
            visibility: None,
            empty: false,
            commits: 4,
            branches: vec!["develop".into(), "feature/login".into()],
            tags: vec!["v1.0.0".into(), "v1.1.0".into()],
            protected_branches: vec![],
            topics: vec![],
            issues: 0,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UserSeed {
    pub username: String,
    pub name: Option<String>,
    pub admin: bool,
    pub memberships: Vec<MembershipSeed>,
    pub tokens: Vec<TokenSeed>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MembershipSeed {
    /// Group or project full path.
    pub path: String,
    /// 10, 20, 30, 40, 50 (or role names: guest, reporter, developer, maintainer, owner).
    pub level: LevelSeed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LevelSeed {
    Number(u8),
    Name(String),
}

impl Default for LevelSeed {
    fn default() -> Self {
        LevelSeed::Number(access::DEVELOPER)
    }
}

impl LevelSeed {
    fn value(&self) -> u8 {
        match self {
            LevelSeed::Number(n) => *n,
            LevelSeed::Name(n) => match n.to_ascii_lowercase().as_str() {
                "guest" => access::GUEST,
                "planner" => access::PLANNER,
                "reporter" => access::REPORTER,
                "maintainer" => access::MAINTAINER,
                "owner" => access::OWNER,
                _ => access::DEVELOPER,
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TokenSeed {
    pub name: String,
    pub scopes: Vec<String>,
    /// Fixed value (random when absent).
    pub value: Option<String>,
    pub expires_in_days: Option<i64>,
}

impl Default for TokenSeed {
    fn default() -> Self {
        Self {
            name: "seed-token".into(),
            scopes: vec!["api".into()],
            value: None,
            expires_in_days: Some(365),
        }
    }
}

/// A seeded user's token, reported in the state file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SeededToken {
    pub username: String,
    pub token_name: String,
    pub token: String,
    pub scopes: Vec<String>,
}

impl SeedSpec {
    pub fn load(path: &std::path::Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)?;
        Ok(
            if path.extension().and_then(|e| e.to_str()) == Some("json") {
                serde_json::from_str(&text)?
            } else {
                toml::from_str(&text)?
            },
        )
    }

    /// The built-in demo data: three-level group trees, 29 projects with
    /// git content, 6 empty mirror targets, and three non-admin users.
    pub fn demo() -> Self {
        let mut s = SeedSpec::default();
        let leaves: [(&str, &[&str]); 10] = [
            (
                "acme/platform/backend",
                &[
                    "api-gateway",
                    "billing-service",
                    "auth-service",
                    "user-service",
                ],
            ),
            (
                "acme/platform/frontend",
                &["web-app", "design-system", "admin-console"],
            ),
            (
                "acme/data/pipelines",
                &["etl-jobs", "stream-processor", "schema-registry"],
            ),
            ("acme/data/analytics", &["dashboards", "reporting"]),
            ("acme/tools", &["ci-templates", "dev-scripts"]),
            (
                "globex/apps/mobile",
                &["ios-client", "android-client", "shared-kit"],
            ),
            ("globex/apps/web", &["storefront", "checkout", "search-ui"]),
            ("globex/infra/terraform", &["network", "clusters", "dns"]),
            (
                "globex/infra/monitoring",
                &["prometheus-rules", "alerting", "grafana-boards"],
            ),
            (
                "globex/apps/api",
                &["public-api", "event-bus", "gateway-config"],
            ),
        ];
        for g in ["acme", "globex"] {
            s.groups.push(GroupSeed {
                path: g.into(),
                description: Some(format!("{} engineering", crate::instance::title_case(g))),
                ..Default::default()
            });
        }
        for (i, (group, names)) in leaves.iter().enumerate() {
            for (j, n) in names.iter().enumerate() {
                let k = i * 5 + j;
                s.projects.push(ProjectSeed {
                    path: format!("{group}/{n}"),
                    description: Some(format!("The {} project", n.replace('-', " "))),
                    visibility: Some(
                        match k % 7 {
                            0 => "public",
                            3 => "internal",
                            _ => "private",
                        }
                        .into(),
                    ),
                    commits: 3 + (k % 4) as u32,
                    branches: match k % 3 {
                        0 => vec![
                            "develop".into(),
                            "feature/login".into(),
                            "feature/metrics".into(),
                        ],
                        1 => vec!["develop".into(), "feature/refactor".into()],
                        _ => vec!["develop".into()],
                    },
                    tags: match k % 3 {
                        0 => vec!["v1.0.0".into(), "v1.1.0".into(), "v2.0.0".into()],
                        _ => vec!["v0.1.0".into(), "v0.2.0".into()],
                    },
                    topics: vec![group.split('/').nth(1).unwrap_or("misc").to_string()],
                    issues: (k % 3) as u32,
                    ..Default::default()
                });
            }
        }
        for i in 1..=6 {
            s.projects.push(ProjectSeed {
                path: format!("mirror-targets/target-{i:02}"),
                description: Some("Empty mirror target".into()),
                empty: true,
                ..Default::default()
            });
        }
        let user = |name: &str, level: u8, paths: &[&str]| UserSeed {
            username: name.into(),
            name: Some(crate::instance::title_case(name)),
            admin: false,
            memberships: paths
                .iter()
                .map(|p| MembershipSeed {
                    path: p.to_string(),
                    level: LevelSeed::Number(level),
                })
                .collect(),
            tokens: vec![TokenSeed {
                name: format!("{name}-api"),
                ..Default::default()
            }],
        };
        s.users.push(user(
            "maintainer",
            access::MAINTAINER,
            &["acme", "globex", "mirror-targets"],
        ));
        s.users
            .push(user("developer", access::DEVELOPER, &["acme"]));
        s.users
            .push(user("reporter", access::REPORTER, &["acme/data"]));
        s
    }
}

/// Escape-free fast-import `data` block.
fn data(out: &mut String, content: &str) {
    out.push_str(&format!("data {}\n{}\n", content.len(), content));
}

/// A fast-import stream for one project.
pub fn project_stream(salt: &str, name: &str, default_branch: &str, spec: &ProjectSeed) -> String {
    let mut s = String::new();
    let base: i64 = 1_704_067_200; // 2024-01-01
    let mut mark = 0u32;
    let mut main_marks = vec![];
    let who = |i: usize| match i % 3 {
        0 => ("Alice Example", "alice@example.com"),
        1 => ("Bob Example", "bob@example.com"),
        _ => ("Carol Example", "carol@example.com"),
    };
    let mut t = base;
    let mut readme = format!("# {name}\n\nSeeded by gitlab-sim ({salt}).\n");
    for i in 0..spec.commits.max(1) as usize {
        mark += 1;
        t += 3600;
        let (an, ae) = who(i);
        s.push_str(&format!(
            "commit refs/heads/{default_branch}\nmark :{mark}\n"
        ));
        s.push_str(&format!(
            "author {an} <{ae}> {t} +0000\ncommitter {an} <{ae}> {t} +0000\n"
        ));
        let msg = if i == 0 {
            "Initial commit".to_string()
        } else {
            format!("Update {name}: change {i}")
        };
        data(&mut s, &format!("{msg}\n"));
        readme.push_str(&format!("\n- change {i}\n"));
        s.push_str("M 100644 inline README.md\n");
        data(&mut s, &readme);
        s.push_str(&format!("M 100644 inline src/module_{i}.txt\n"));
        data(&mut s, &format!("module {i} of {name}\n"));
        main_marks.push(mark);
    }
    for (bi, b) in spec.branches.iter().enumerate() {
        if b == default_branch {
            continue;
        }
        let from = main_marks[bi % main_marks.len()];
        s.push_str(&format!("reset refs/heads/{b}\nfrom :{from}\n\n"));
        mark += 1;
        t += 600;
        let (an, ae) = who(bi + 1);
        s.push_str(&format!("commit refs/heads/{b}\nmark :{mark}\n"));
        s.push_str(&format!(
            "author {an} <{ae}> {t} +0000\ncommitter {an} <{ae}> {t} +0000\n"
        ));
        data(&mut s, &format!("Work on {b}\n"));
        let file = format!("branches/{}.txt", b.replace('/', "_"));
        s.push_str(&format!("M 100644 inline {file}\n"));
        data(&mut s, &format!("{b} in {name}\n"));
    }
    for (ti, tag) in spec.tags.iter().enumerate() {
        let idx = (ti * main_marks.len() / spec.tags.len().max(1)).min(main_marks.len() - 1);
        let from = main_marks[idx];
        if ti % 2 == 0 {
            s.push_str(&format!("tag {tag}\nfrom :{from}\n"));
            s.push_str(&format!(
                "tagger Release Bot <release@example.com> {} +0000\n",
                t + ti as i64
            ));
            data(&mut s, &format!("Release {tag}\n"));
        } else {
            s.push_str(&format!("reset refs/tags/{tag}\nfrom :{from}\n\n"));
        }
    }
    s
}

/// One commit with a README (for `initialize_with_readme`).
pub fn readme_stream(branch: &str, name: &str) -> String {
    let t = chrono::Utc::now().timestamp();
    let mut s = format!(
        "commit refs/heads/{branch}\nauthor Administrator <admin@example.com> {t} +0000\ncommitter Administrator <admin@example.com> {t} +0000\n"
    );
    data(&mut s, "Initial commit\n");
    s.push_str("M 100644 inline README.md\n");
    data(&mut s, &format!("# {name}\n"));
    s
}

/// Apply a seed to an instance. Returns the tokens of seeded users.
pub async fn apply(inst: &Arc<Instance>, spec: &SeedSpec) -> anyhow::Result<Vec<SeededToken>> {
    let admin = inst.admin_user_id;
    let mut tokens = vec![];
    let mut jobs: Vec<(u64, Option<ProjectSeed>)> = vec![];
    {
        let mut db = inst.db.write();
        for g in &spec.groups {
            let gid = Instance::ensure_group_path(
                &mut db,
                &g.path,
                admin,
                g.visibility.as_deref().unwrap_or("private"),
            );
            if let Some(gr) = db.groups.get_mut(&gid) {
                if let Some(n) = &g.name {
                    gr.name = n.clone();
                }
                if let Some(d) = &g.description {
                    gr.description = d.clone();
                }
                if let Some(v) = &g.visibility {
                    gr.visibility = v.clone();
                }
            }
        }
        for p in &spec.projects {
            let (ns_path, leaf) = p.path.rsplit_once('/').unwrap_or(("", p.path.as_str()));
            let ns = if ns_path.is_empty() {
                Namespace::User(admin)
            } else {
                Namespace::Group(Instance::ensure_group_path(
                    &mut db, ns_path, admin, "private",
                ))
            };
            let np = NewProject {
                name: p
                    .name
                    .clone()
                    .unwrap_or_else(|| crate::instance::title_case(leaf)),
                path: leaf.to_string(),
                namespace: Some(ns),
                description: p.description.clone(),
                visibility: p.visibility.clone(),
                topics: p.topics.clone(),
            };
            let pid = inst
                .insert_project(&mut db, &np, admin)
                .map_err(|e| anyhow::anyhow!("{}: {:?}", p.path, e.body))?;
            for (i, b) in p.protected_branches.iter().enumerate() {
                let id = db.next_id("protected_branches");
                if let Some(pr) = db.projects.get_mut(&pid) {
                    pr.protected_branches.push(ProtectedBranch {
                        id,
                        name: b.clone(),
                        push_access_level: access::MAINTAINER,
                        merge_access_level: access::MAINTAINER,
                        allow_force_push: i > 0,
                    });
                }
            }
            for n in 1..=p.issues {
                let iid = {
                    let pr = db.projects.get_mut(&pid).expect("exists");
                    let iid = pr.next_issue_iid;
                    pr.next_issue_iid += 1;
                    iid
                };
                let id = db.next_id("issues");
                let now = chrono::Utc::now();
                db.issues.insert(
                    id,
                    crate::model::Issue {
                        id,
                        iid,
                        project_id: pid,
                        title: format!("Issue {n} of {}", p.path),
                        description: Some(format!("Seeded issue {n}.")),
                        state: "opened".into(),
                        created_at: now,
                        updated_at: now,
                        closed_at: None,
                        closed_by: None,
                        labels: vec![],
                        milestone_id: None,
                        assignee_ids: vec![],
                        author_id: admin,
                        confidential: false,
                        discussion_locked: None,
                        due_date: None,
                        issue_type: "issue".into(),
                        weight: None,
                        time_estimate: 0,
                        total_time_spent: 0,
                    },
                );
            }
            jobs.push((pid, (!p.empty).then(|| p.clone())));
        }
        for u in &spec.users {
            let host = inst
                .host
                .split(':')
                .next()
                .unwrap_or("127.0.0.1")
                .to_string();
            let email = format!("{}@{}.example.com", u.username, host.replace('.', "-"));
            let uid = Instance::create_user(
                &mut db,
                &u.username,
                u.name.as_deref().unwrap_or(&u.username),
                u.admin,
                false,
                &email,
            );
            for m in &u.memberships {
                if let Some(g) = db.find_group(&m.path).map(|g| g.id) {
                    db.add_group_member(g, uid, m.level.value());
                } else if let Some(p) = db.find_project(&m.path).map(|p| p.id) {
                    db.add_project_member(p, uid, m.level.value());
                } else {
                    anyhow::bail!(
                        "membership of {}: no group or project {}",
                        u.username,
                        m.path
                    );
                }
            }
            for t in &u.tokens {
                let exp = t
                    .expires_in_days
                    .map(|d| inst.today() + chrono::Duration::days(d));
                let (tid, value) = Instance::create_token(
                    &mut db,
                    uid,
                    &t.name,
                    None,
                    t.scopes.clone(),
                    exp,
                    TokenKind::Personal,
                    t.value.clone(),
                    None,
                );
                db.seeded_tokens.insert(tid);
                tokens.push(SeededToken {
                    username: u.username.clone(),
                    token_name: t.name.clone(),
                    token: value,
                    scopes: t.scopes.clone(),
                });
            }
        }
    }
    // Repositories, a few at a time (two processes each).
    let names: BTreeMap<u64, String> = inst
        .db
        .read()
        .projects
        .iter()
        .map(|(k, v)| (*k, v.name.clone()))
        .collect();
    let sem = Arc::new(tokio::sync::Semaphore::new(4));
    let mut set = tokio::task::JoinSet::new();
    for (pid, content) in jobs {
        let inst = inst.clone();
        let sem = sem.clone();
        let name = names.get(&pid).cloned().unwrap_or_default();
        set.spawn(async move {
            let _permit = sem.acquire().await;
            inst.init_repo(pid).await?;
            if let Some(spec) = content {
                let repo = inst
                    .repo_path_by_id(pid)
                    .ok_or_else(|| anyhow::anyhow!("project {pid} vanished"))?;
                let stream = project_stream(&inst.name, &name, &inst.default_branch, &spec);
                inst.git.fast_import(&repo, stream.as_bytes()).await?;
                inst.refresh_repo(pid).await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(r) = set.join_next().await {
        r??;
    }
    Ok(tokens)
}
