//! JSON renderings of GitLab's Grape entities (field names and shapes as
//! the real API returns them).

use serde_json::{Map, Value, json};

use crate::git::{CommitInfo, RefInfo};
use crate::instance::Instance;
use crate::model::*;
use crate::util::{date_opt, mask_url, ts, ts_opt};

pub fn namespace_basic(inst: &Instance, db: &Db, ns: Namespace) -> Value {
    match ns {
        Namespace::Group(g) => {
            let g = &db.groups[&g];
            json!({
                "id": g.id, "name": g.name, "path": g.path, "kind": "group",
                "full_path": g.full_path, "parent_id": g.parent_id,
                "avatar_url": null, "web_url": inst.web_url(&format!("groups/{}", g.full_path)),
            })
        }
        Namespace::User(u) => {
            let u = &db.users[&u];
            json!({
                "id": crate::model::USER_NS_OFFSET + u.id, "name": u.name, "path": u.username, "kind": "user",
                "full_path": u.username, "parent_id": null,
                "avatar_url": null, "web_url": inst.web_url(&u.username),
            })
        }
    }
}

pub fn user_basic(inst: &Instance, u: &User) -> Value {
    json!({
        "id": u.id, "username": u.username, "name": u.name, "state": u.state,
        "locked": false, "avatar_url": null, "web_url": inst.web_url(&u.username),
    })
}

pub fn user_basic_by_id(inst: &Instance, db: &Db, uid: u64) -> Value {
    db.users
        .get(&uid)
        .map(|u| user_basic(inst, u))
        .unwrap_or(Value::Null)
}

/// `GET /user` and `GET /users/:id` (with admin-only fields for admins).
pub fn user_full(inst: &Instance, u: &User, viewer_is_admin: bool, is_self: bool) -> Value {
    let mut v = user_basic(inst, u);
    let m = v.as_object_mut().expect("object");
    m.insert("created_at".into(), json!(ts(&u.created_at)));
    for k in [
        "bio",
        "location",
        "skype",
        "linkedin",
        "twitter",
        "discord",
        "website_url",
        "organization",
        "job_title",
        "pronouns",
        "work_information",
        "local_time",
    ] {
        m.insert(k.into(), json!(""));
    }
    m.insert("public_email".into(), Value::Null);
    m.insert("bot".into(), json!(u.bot));
    m.insert("followers".into(), json!(0));
    m.insert("following".into(), json!(0));
    m.insert("is_followed".into(), json!(false));
    if is_self || viewer_is_admin {
        m.insert("email".into(), json!(u.email));
        m.insert("last_sign_in_at".into(), Value::Null);
        m.insert("confirmed_at".into(), json!(ts(&u.created_at)));
        m.insert("theme_id".into(), json!(3));
        m.insert("color_scheme_id".into(), json!(1));
        m.insert("projects_limit".into(), json!(100000));
        m.insert("identities".into(), json!([]));
        m.insert("can_create_group".into(), json!(!u.bot));
        m.insert("can_create_project".into(), json!(!u.bot));
        m.insert("two_factor_enabled".into(), json!(false));
        m.insert("external".into(), json!(false));
        m.insert("private_profile".into(), json!(false));
        m.insert("commit_email".into(), json!(u.email));
    }
    if viewer_is_admin {
        m.insert("is_admin".into(), json!(u.is_admin));
        m.insert("note".into(), Value::Null);
    }
    v
}

/// `BasicProjectDetails` (the `simple=true` shape).
pub fn project_simple(inst: &Instance, db: &Db, p: &Project) -> Value {
    json!({
        "id": p.id,
        "description": p.description,
        "name": p.name,
        "name_with_namespace": p.name_with_namespace,
        "path": p.path,
        "path_with_namespace": p.full_path,
        "created_at": ts(&p.created_at),
        "default_branch": p.default_branch,
        "tag_list": p.topics,
        "topics": p.topics,
        "ssh_url_to_repo": format!("git@{}:{}.git", inst.host.split(':').next().unwrap_or("127.0.0.1"), p.full_path),
        "http_url_to_repo": format!("{}/{}.git", inst.base_url, p.full_path),
        "web_url": inst.web_url(&p.full_path),
        "readme_url": p.default_branch.as_ref().map(|b| format!("{}/-/blob/{}/README.md", inst.web_url(&p.full_path), b)),
        "forks_count": 0,
        "avatar_url": null,
        "star_count": 0,
        "last_activity_at": ts(&p.last_activity_at),
        "namespace": namespace_basic(inst, db, p.namespace),
    })
}

/// The full `Project` entity. `viewer` is the caller's user id;
/// `with_permissions` adds `permissions` (single-project GET).
pub fn project_full(
    inst: &Instance,
    db: &Db,
    p: &Project,
    viewer: Option<u64>,
    with_permissions: bool,
) -> Value {
    let mut v = project_simple(inst, db, p);
    let m = v.as_object_mut().expect("object");
    let level = viewer
        .map(|u| db.effective_project_access(u, p))
        .unwrap_or(0);
    let api = format!("{}/api/v4/projects/{}", inst.base_url, p.id);
    m.insert(
        "container_registry_image_prefix".into(),
        json!(format!("registry.example.com/{}", p.full_path)),
    );
    m.insert(
        "_links".into(),
        json!({
            "self": api, "issues": format!("{api}/issues"), "merge_requests": format!("{api}/merge_requests"),
            "repo_branches": format!("{api}/repository/branches"), "labels": format!("{api}/labels"),
            "events": format!("{api}/events"), "members": format!("{api}/members"),
            "cluster_agents": format!("{api}/cluster_agents"),
        }),
    );
    let feats = [
        ("packages_enabled", json!(true)),
        ("empty_repo", json!(p.empty_repo)),
        ("archived", json!(p.archived)),
        ("visibility", json!(p.visibility)),
        ("resolve_outdated_diff_discussions", json!(false)),
        ("repository_object_format", json!("sha1")),
        ("issues_enabled", json!(true)),
        ("merge_requests_enabled", json!(true)),
        ("wiki_enabled", json!(true)),
        ("jobs_enabled", json!(true)),
        ("snippets_enabled", json!(true)),
        ("container_registry_enabled", json!(true)),
        ("service_desk_enabled", json!(false)),
        ("service_desk_address", Value::Null),
        (
            "can_create_merge_request_in",
            json!(level >= access::DEVELOPER),
        ),
        ("issues_access_level", json!("enabled")),
        ("repository_access_level", json!("enabled")),
        ("merge_requests_access_level", json!("enabled")),
        ("forking_access_level", json!("enabled")),
        ("wiki_access_level", json!("enabled")),
        ("builds_access_level", json!("enabled")),
        ("snippets_access_level", json!("enabled")),
        ("pages_access_level", json!("private")),
        ("analytics_access_level", json!("enabled")),
        ("container_registry_access_level", json!("enabled")),
        ("security_and_compliance_access_level", json!("private")),
        ("releases_access_level", json!("enabled")),
        ("environments_access_level", json!("enabled")),
        ("feature_flags_access_level", json!("enabled")),
        ("infrastructure_access_level", json!("enabled")),
        ("monitor_access_level", json!("enabled")),
        ("model_experiments_access_level", json!("enabled")),
        ("model_registry_access_level", json!("enabled")),
        ("emails_disabled", json!(false)),
        ("emails_enabled", json!(true)),
        ("shared_runners_enabled", json!(true)),
        ("lfs_enabled", json!(true)),
        ("creator_id", json!(p.creator_id)),
        ("import_type", json!(p.import_type)),
        ("import_status", json!(import_status(p))),
        (
            "open_issues_count",
            json!(
                db.issues
                    .values()
                    .filter(|i| i.project_id == p.id && i.state == "opened")
                    .count()
            ),
        ),
        (
            "description_html",
            json!(
                p.description
                    .as_deref()
                    .map(|d| format!(
                        "<p data-sourcepos=\"1:1-1:{}\" dir=\"auto\">{}</p>",
                        d.len(),
                        d
                    ))
                    .unwrap_or_default()
            ),
        ),
        ("updated_at", json!(ts(&p.updated_at))),
        ("ci_default_git_depth", json!(20)),
        ("ci_forward_deployment_enabled", json!(true)),
        ("ci_forward_deployment_rollback_allowed", json!(true)),
        ("ci_job_token_scope_enabled", json!(false)),
        ("ci_separated_caches", json!(true)),
        (
            "ci_allow_fork_pipelines_to_run_in_parent_project",
            json!(true),
        ),
        ("build_git_strategy", json!("fetch")),
        ("keep_latest_artifact", json!(true)),
        ("restrict_user_defined_variables", json!(false)),
        (
            "ci_pipeline_variables_minimum_override_role",
            json!("developer"),
        ),
        ("runner_token_expiration_interval", Value::Null),
        ("group_runners_enabled", json!(true)),
        ("auto_cancel_pending_pipelines", json!("enabled")),
        ("build_timeout", json!(3600)),
        ("auto_devops_enabled", json!(false)),
        ("auto_devops_deploy_strategy", json!("continuous")),
        ("ci_config_path", Value::Null),
        ("public_jobs", json!(true)),
        ("shared_with_groups", json!([])),
        ("only_allow_merge_if_pipeline_succeeds", json!(false)),
        ("allow_merge_on_skipped_pipeline", Value::Null),
        ("request_access_enabled", json!(true)),
        (
            "only_allow_merge_if_all_discussions_are_resolved",
            json!(false),
        ),
        ("remove_source_branch_after_merge", json!(true)),
        ("printing_merge_request_link_enabled", json!(true)),
        ("merge_method", json!("merge")),
        ("squash_option", json!("default_off")),
        ("enforce_auth_checks_on_uploads", json!(true)),
        ("suggestion_commit_message", Value::Null),
        ("merge_commit_template", Value::Null),
        ("squash_commit_template", Value::Null),
        ("issue_branch_template", Value::Null),
        ("warn_about_potentially_unwanted_characters", json!(true)),
        ("autoclose_referenced_issues", json!(true)),
        ("max_artifacts_size", Value::Null),
        ("mr_default_target_self", json!(false)),
        ("marked_for_deletion_at", Value::Null),
        ("marked_for_deletion_on", Value::Null),
        ("compliance_frameworks", json!([])),
        ("external_authorization_classification_label", json!("")),
        ("allow_pipeline_trigger_approve_deployment", json!(false)),
    ];
    for (k, val) in feats {
        m.insert(k.into(), val);
    }
    if level >= access::MAINTAINER {
        // `import_url` is shown to admin_project only, without credentials.
        m.insert(
            "import_url".into(),
            json!(
                p.import_url
                    .as_deref()
                    .and_then(crate::util::split_credentials)
                    .map(|s| s.sanitized)
            ),
        );
        m.insert(
            "import_error".into(),
            json!(p.import_state.as_ref().and_then(|s| s.last_error.clone())),
        );
    }
    if let Some(owner) = match p.namespace {
        Namespace::User(u) => db.users.get(&u),
        _ => None,
    } {
        m.insert("owner".into(), user_basic(inst, owner));
    }
    if inst.is_ee() {
        m.insert("approvals_before_merge".into(), json!(0));
        m.insert("mirror".into(), json!(p.mirror));
        if p.mirror {
            m.insert("mirror_user_id".into(), json!(p.mirror_user_id));
            m.insert(
                "mirror_trigger_builds".into(),
                json!(p.mirror_trigger_builds),
            );
            m.insert(
                "only_mirror_protected_branches".into(),
                json!(p.only_mirror_protected_branches),
            );
            m.insert(
                "mirror_overwrites_diverged_branches".into(),
                json!(p.mirror_overwrites_diverged_branches),
            );
        }
        m.insert("requirements_enabled".into(), json!(false));
        m.insert("requirements_access_level".into(), json!("enabled"));
        m.insert("security_and_compliance_enabled".into(), json!(true));
        m.insert("issues_template".into(), Value::Null);
        m.insert("merge_requests_template".into(), Value::Null);
        m.insert("merge_pipelines_enabled".into(), json!(false));
        m.insert("merge_trains_enabled".into(), json!(false));
        m.insert("merge_trains_skip_train_allowed".into(), json!(false));
        m.insert(
            "only_allow_merge_if_all_status_checks_passed".into(),
            json!(false),
        );
        m.insert("prevent_merge_without_jira_issue".into(), json!(false));
    }
    if with_permissions {
        let direct = viewer.and_then(|u| {
            db.project_members
                .get(&p.id)
                .and_then(|mm| mm.get(&u))
                .copied()
        });
        let group = match (viewer, p.namespace) {
            (Some(u), Namespace::Group(g)) => Some(db.group_access(u, g)).filter(|l| *l > 0),
            _ => None,
        };
        let acc = |l: Option<u8>| match l {
            Some(l) => json!({"access_level": l, "notification_level": 3}),
            None => Value::Null,
        };
        m.insert(
            "permissions".into(),
            json!({"project_access": acc(direct), "group_access": acc(group)}),
        );
    }
    v
}

fn import_status(p: &Project) -> String {
    match &p.import_state {
        Some(s) if p.mirror || p.import_url.is_some() => s.status.clone(),
        _ => "none".into(),
    }
}

pub fn group(inst: &Instance, g: &Group) -> Value {
    json!({
        "id": g.id,
        "web_url": inst.web_url(&format!("groups/{}", g.full_path)),
        "name": g.name,
        "path": g.path,
        "description": g.description,
        "visibility": g.visibility,
        "share_with_group_lock": false,
        "require_two_factor_authentication": false,
        "two_factor_grace_period": 48,
        "project_creation_level": "developer",
        "auto_devops_enabled": null,
        "subgroup_creation_level": "maintainer",
        "emails_disabled": false,
        "emails_enabled": true,
        "mentions_disabled": null,
        "lfs_enabled": true,
        "math_rendering_limits_enabled": true,
        "lock_math_rendering_limits_enabled": false,
        "default_branch": null,
        "default_branch_protection": 2,
        "default_branch_protection_defaults": {
            "allowed_to_push": [{"access_level": 40}],
            "allow_force_push": false,
            "allowed_to_merge": [{"access_level": 40}]
        },
        "avatar_url": null,
        "request_access_enabled": true,
        "full_name": g.full_name,
        "full_path": g.full_path,
        "created_at": ts(&g.created_at),
        "parent_id": g.parent_id,
        "organization_id": 1,
        "shared_runners_setting": "enabled",
        "ldap_cn": null,
        "ldap_access": null,
        "marked_for_deletion_on": null,
        "wiki_access_level": "enabled",
        "duo_features_enabled": false,
        "lock_duo_features_enabled": false,
    })
}

/// Resource (project) access token. `token` only on create and rotate.
pub fn access_token(db: &Db, t: &Token, today: chrono::NaiveDate, with_value: bool) -> Value {
    let mut v = personal_token(t, today, false);
    let m = v.as_object_mut().expect("object");
    m.insert(
        "access_level".into(),
        json!(db.token_access_level(t).unwrap_or(0)),
    );
    if let TokenKind::Project(pid) = t.kind {
        m.insert("resource_type".into(), json!("project"));
        m.insert("resource_id".into(), json!(pid));
    }
    if with_value {
        m.insert("token".into(), json!(t.value));
    }
    v
}

/// `PersonalAccessToken` entity.
pub fn personal_token(t: &Token, today: chrono::NaiveDate, with_value: bool) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(t.id));
    m.insert("name".into(), json!(t.name));
    m.insert("revoked".into(), json!(t.revoked));
    m.insert("created_at".into(), json!(ts(&t.created_at)));
    m.insert("description".into(), json!(t.description));
    m.insert("scopes".into(), json!(t.scopes));
    m.insert("user_id".into(), json!(t.user_id));
    m.insert("last_used_at".into(), ts_opt(&t.last_used_at()));
    m.insert("active".into(), json!(t.active(today)));
    m.insert("expires_at".into(), date_opt(&t.expires_at));
    m.insert("expired".into(), json!(t.expired(today)));
    m.insert("last_used_ips".into(), json!([]));
    if with_value {
        m.insert("token".into(), json!(t.value));
    }
    Value::Object(m)
}

/// `RemoteMirror` entity (EE adds `mirror_branch_regex`).
pub fn remote_mirror(inst: &Instance, db: &Db, m: &RemoteMirror) -> Value {
    let has_repo = db.projects.contains_key(&m.project_id);
    let mut v = json!({
        "id": m.id,
        "enabled": m.enabled && has_repo,
        "url": mask_url(&m.url),
        "update_status": m.update_status,
        "last_update_at": ts_opt(&m.last_update_at),
        "last_update_started_at": ts_opt(&m.last_update_started_at),
        "last_successful_update_at": ts_opt(&m.last_successful_update_at),
        "last_error": m.last_error,
        "only_protected_branches": m.only_protected_branches,
        "keep_divergent_refs": m.keep_divergent_refs,
        "auth_method": m.auth_method,
        "host_keys": [],
    });
    if inst.is_ee() {
        v["mirror_branch_regex"] = json!(m.mirror_branch_regex);
    }
    v
}

/// EE `PullMirror` entity.
pub fn pull_mirror(p: &Project) -> Value {
    let s = p.import_state.clone().unwrap_or_default();
    json!({
        "id": s.id,
        "update_status": if s.status.is_empty() { "none".to_string() } else { s.status.clone() },
        "url": p.import_url.as_deref().map(mask_url),
        "last_error": s.last_error,
        "last_update_at": ts_opt(&s.last_update_at),
        "last_update_started_at": ts_opt(&s.last_update_started_at),
        "last_successful_update_at": ts_opt(&s.last_successful_update_at),
        "enabled": p.mirror,
        "mirror_trigger_builds": p.mirror_trigger_builds,
        "only_mirror_protected_branches": p.only_mirror_protected_branches,
        "mirror_overwrites_diverged_branches": p.mirror_overwrites_diverged_branches,
        "mirror_branch_regex": p.mirror_branch_regex,
    })
}

/// Git's `iso-strict` dates are already ISO 8601 with an offset.
pub fn commit(inst: &Instance, p: &Project, c: &CommitInfo) -> Value {
    json!({
        "id": c.id,
        "short_id": c.id.get(..8).unwrap_or(&c.id),
        "created_at": c.committed_date,
        "parent_ids": c.parent_ids,
        "title": c.title,
        "message": c.message,
        "author_name": c.author_name,
        "author_email": c.author_email,
        "authored_date": c.authored_date,
        "committer_name": c.committer_name,
        "committer_email": c.committer_email,
        "committed_date": c.committed_date,
        "trailers": {},
        "extended_trailers": {},
        "web_url": format!("{}/-/commit/{}", inst.web_url(&p.full_path), c.id),
    })
}

pub fn branch(inst: &Instance, p: &Project, r: &RefInfo, can_push: bool) -> Value {
    let prot = p.protected_branches.iter().find(|b| b.name == r.name);
    json!({
        "name": r.name,
        "commit": commit(inst, p, &r.commit),
        "merged": false,
        "protected": prot.is_some(),
        "developers_can_push": prot.is_some_and(|b| b.push_access_level <= access::DEVELOPER),
        "developers_can_merge": prot.is_some_and(|b| b.merge_access_level <= access::DEVELOPER),
        "can_push": can_push,
        "default": p.default_branch.as_deref() == Some(r.name.as_str()),
        "web_url": format!("{}/-/tree/{}", inst.web_url(&p.full_path), r.name),
    })
}

pub fn tag(inst: &Instance, p: &Project, r: &RefInfo) -> Value {
    json!({
        "name": r.name,
        "message": r.tag_message.clone().unwrap_or_default(),
        "target": r.target,
        "commit": commit(inst, p, &r.commit),
        "release": null,
        "protected": false,
        "created_at": r.tag_date,
    })
}

pub fn protected_branch(pb: &ProtectedBranch) -> Value {
    let lvl = |l: u8| {
        json!([{
            "id": pb.id, "access_level": l,
            "access_level_description": match l { 0 => "No one", 30 => "Developers + Maintainers", 40 => "Maintainers", _ => "Admins" },
            "deploy_key_id": null, "user_id": null, "group_id": null,
        }])
    };
    json!({
        "id": pb.id,
        "name": pb.name,
        "push_access_levels": lvl(pb.push_access_level),
        "merge_access_levels": lvl(pb.merge_access_level),
        "unprotect_access_levels": [],
        "allow_force_push": pb.allow_force_push,
        "code_owner_approval_required": false,
        "inherited": false,
    })
}
