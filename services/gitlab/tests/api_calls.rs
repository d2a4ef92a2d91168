//! Every typed call against the GitLab simulator (real HTTP, real git).

mod common;

use std::time::{Duration, Instant};

use gitlab_sim::{InstanceSpec, MirrorTiming, Seed};
use mm_gitlab::{
    CreateAccessToken, CreateRemoteMirror, GitLabClient, GitLabError, PageRequest,
    PullMirrorConfig, SecretUrl, TokenState, UpdateRemoteMirror, access_level, collect_all,
    mask_url_credentials,
};

const SOURCE: &str = "acme/tools/ci-templates";

async fn wait_push_finished(
    gl: &GitLabClient,
    project: u64,
    mirror: u64,
) -> mm_gitlab::RemoteMirror {
    let t0 = Instant::now();
    loop {
        let m = gl.get_remote_mirror(project, mirror).await.unwrap();
        if m.is_finished() && m.last_successful_update_at.is_some() {
            return m;
        }
        assert!(!m.is_failed(), "push mirror failed: {:?}", m.last_error);
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "mirror stuck: {m:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_pull_finished(gl: &GitLabClient, project: u64) -> mm_gitlab::PullMirror {
    let t0 = Instant::now();
    loop {
        let m = gl
            .get_pull_mirror(project)
            .await
            .unwrap()
            .expect("mirrored");
        match m.update_status.as_deref() {
            Some("finished") if m.last_successful_update_at.is_some() => return m,
            Some("failed") => panic!("pull mirror failed: {:?}", m.last_error),
            _ => {}
        }
        assert!(t0.elapsed() < Duration::from_secs(30), "pull stuck: {m:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn push_mirror_with_project_token_end_to_end() {
    let sim = common::sim(2, Seed::Demo).await;
    let (a, b) = (sim.instance(0), sim.instance(1));
    let (ga, gb) = (common::client(a), common::client(b));

    let target = gb.project("mirror-targets/target-01").await.unwrap();
    assert_eq!(target.empty_repo, Some(true));
    let mut req = CreateAccessToken::new("mm-push-target-01", &["write_repository"]);
    req.access_level = Some(access_level::MAINTAINER);
    let token = gb
        .create_project_access_token(target.id, &req)
        .await
        .unwrap();
    assert!(token.info.active && !token.info.revoked);
    assert!(!format!("{token:?}").contains(token.token.expose()));

    let url = SecretUrl::with_credentials(
        target.http_url_to_repo.as_deref().unwrap(),
        "oauth2",
        &token.token,
    )
    .unwrap();
    let source = ga.project(SOURCE).await.unwrap();
    let mirror = ga
        .create_remote_mirror(source.id, &CreateRemoteMirror::new(url.clone()))
        .await
        .unwrap();
    assert_eq!(mirror.update_status, "none");
    assert_eq!(mirror.url, mask_url_credentials(url.expose()));
    assert!(!mirror.url.contains(token.token.expose()));

    ga.sync_remote_mirror(source.id, mirror.id).await.unwrap();
    // A second sync while the first may still run is a silent 204.
    ga.sync_remote_mirror(source.id, mirror.id).await.unwrap();
    wait_push_finished(&ga, source.id, mirror.id).await;
    assert_eq!(
        a.refs(SOURCE).await.unwrap(),
        b.refs("mirror-targets/target-01").await.unwrap()
    );

    let listed = ga
        .list_remote_mirrors(source.id, PageRequest::default())
        .await
        .unwrap();
    assert!(listed.items.iter().any(|m| m.id == mirror.id));
    let updated = ga
        .update_remote_mirror(
            source.id,
            mirror.id,
            &UpdateRemoteMirror {
                enabled: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(!updated.enabled);
    let err = ga
        .sync_remote_mirror(source.id, mirror.id)
        .await
        .unwrap_err();
    assert!(
        matches!(err, GitLabError::Validation { status: 400, .. }),
        "{err}"
    );

    ga.delete_remote_mirror(source.id, mirror.id).await.unwrap();
    assert!(
        ga.get_remote_mirror(source.id, mirror.id)
            .await
            .unwrap_err()
            .is_not_found()
    );

    // Tokens: list, get, rotate (old one revoked), revoke.
    let active = gb
        .list_project_access_tokens(target.id, Some(TokenState::Active), PageRequest::default())
        .await
        .unwrap();
    assert!(active.items.iter().any(|t| t.id == token.info.id));
    let got = gb
        .get_project_access_token(target.id, token.info.id)
        .await
        .unwrap();
    assert_eq!(got.name, "mm-push-target-01");
    let rotated = gb
        .rotate_project_access_token(target.id, token.info.id, None)
        .await
        .unwrap();
    assert_ne!(rotated.token.expose(), token.token.expose());
    let old = gb
        .get_project_access_token(target.id, token.info.id)
        .await
        .unwrap();
    assert!(old.revoked || !old.active);
    gb.revoke_project_access_token(target.id, rotated.info.id)
        .await
        .unwrap();
    assert!(a.leftovers().is_empty(), "{:?}", a.leftovers());
    assert!(b.leftovers().is_empty(), "{:?}", b.leftovers());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pull_mirrors_dedicated_api_and_legacy_fallback() {
    let sim = common::sim_with(
        vec![
            InstanceSpec::ee("src").with_mirror_timing(MirrorTiming::fast()),
            InstanceSpec::ee("new").with_mirror_timing(MirrorTiming::fast()),
            InstanceSpec::ee("old")
                .with_version("16.11.3")
                .with_mirror_timing(MirrorTiming::fast()),
        ],
        Seed::Demo,
    )
    .await;
    let src = sim.instance(0);
    let gs = common::client(src);
    let source = gs.project(SOURCE).await.unwrap();
    let token = gs
        .create_project_access_token(
            source.id,
            &CreateAccessToken::new("mm-pull", &["read_repository"]),
        )
        .await
        .unwrap();

    for i in [1, 2] {
        let inst = sim.instance(i);
        let gl = common::client(inst);
        let target = gl.project("mirror-targets/target-02").await.unwrap();
        assert!(gl.get_pull_mirror(target.id).await.unwrap().is_none());
        let mut cfg =
            PullMirrorConfig::new(SecretUrl::new(source.http_url_to_repo.clone().unwrap()));
        cfg.auth_user = Some("oauth2".into());
        cfg.auth_password = Some(token.token.clone());
        cfg.mirror_overwrites_diverged_branches = Some(true);
        let m = gl.configure_pull_mirror(target.id, &cfg).await.unwrap();
        assert_eq!(m.enabled, Some(true), "{}", inst.name);
        assert!(!m.url.unwrap_or_default().contains(token.token.expose()));
        assert!(gl.start_pull_mirror(target.id).await.unwrap());
        wait_pull_finished(&gl, target.id).await;
        assert_eq!(
            src.refs(SOURCE).await.unwrap(),
            inst.refs("mirror-targets/target-02").await.unwrap(),
            "{}",
            inst.name
        );
        gl.disable_pull_mirror(target.id).await.unwrap();
        assert!(gl.get_pull_mirror(target.id).await.unwrap().is_none());
        assert!(!gl.start_pull_mirror(target.id).await.unwrap());
        assert!(inst.leftovers().is_empty(), "{:?}", inst.leftovers());
    }
    // The old instance went through the legacy `PUT /projects/:id`.
    let old = sim.instance(2).stats();
    assert!(
        old.requests_by_endpoint
            .contains_key("PUT /api/v4/projects/{id}")
    );
    gs.revoke_project_access_token(source.id, token.info.id)
        .await
        .unwrap();
    assert!(src.leftovers().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn discovery_calls_and_errors() {
    let sim = common::sim(1, Seed::Demo).await;
    let a = sim.instance(0);
    let gl = common::client(a);

    let v = gl.version().await.unwrap();
    assert!(v.version.starts_with(&a.version));
    let md = gl.metadata().await.unwrap();
    assert!(md.is_enterprise());
    let me = gl.current_user().await.unwrap();
    assert_eq!(me.is_admin, Some(true));

    let by_path = gl.project(SOURCE).await.unwrap();
    assert_eq!(by_path.path_with_namespace, SOURCE);
    let by_id = gl.project(by_path.id).await.unwrap();
    assert_eq!(by_id, by_path);

    let found = gl
        .projects(Some("ci-templates"), PageRequest::default())
        .await
        .unwrap();
    assert!(found.items.iter().any(|p| p.id == by_path.id));
    let groups = gl
        .groups(Some("platform"), PageRequest::default())
        .await
        .unwrap();
    assert!(groups.items.iter().any(|g| g.full_path == "acme/platform"));
    let g = gl.group("acme/platform").await.unwrap();
    assert_eq!(g.full_path, "acme/platform");

    let branches = collect_all(gl.all_branches(SOURCE, 100)).await.unwrap();
    let refs = a.refs(SOURCE).await.unwrap();
    let heads = refs.keys().filter(|r| r.starts_with("refs/heads/")).count();
    assert_eq!(branches.len(), heads);
    let b = gl.branch(SOURCE, "feature/login").await;
    match b {
        Ok(b) => assert_eq!(refs.get("refs/heads/feature/login"), Some(&b.commit.id)),
        Err(e) => assert!(e.is_not_found() && !refs.contains_key("refs/heads/feature/login")),
    }
    let tags = gl.tags(SOURCE, PageRequest::default()).await.unwrap();
    assert!(!tags.items.is_empty());
    let t = gl.tag(SOURCE, &tags.items[0].name).await.unwrap();
    assert_eq!(t.name, tags.items[0].name);

    let err = gl.project("no/such/project").await.unwrap_err();
    assert!(
        matches!(&err, GitLabError::NotFound { message, .. } if message == "404 Project Not Found")
    );
    assert!(!err.is_retryable() && !err.counts_against_breaker());

    let bad = CreateRemoteMirror::new(SecretUrl::new("ftp://u:secret@example.com/x.git"));
    let err = gl.create_remote_mirror(by_path.id, &bad).await.unwrap_err();
    match &err {
        GitLabError::Validation { message, .. } => assert!(message.contains("url"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert!(!err.to_string().contains("secret"));

    let dev = a.token_for("developer").unwrap();
    let as_dev = GitLabClient::builder(a.base_url.clone(), dev.into())
        .build()
        .unwrap();
    let err = as_dev
        .list_remote_mirrors(by_path.id, PageRequest::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            GitLabError::Unauthorized { .. }
                | GitLabError::NotFound { .. }
                | GitLabError::Forbidden { .. }
        ),
        "{err}"
    );
    let bad_token = GitLabClient::builder(a.base_url.clone(), "glpat-wrong".into())
        .build()
        .unwrap();
    assert!(matches!(
        bad_token.current_user().await.unwrap_err(),
        GitLabError::Unauthorized { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pagination_walks_every_page() {
    let sim = common::sim(1, Seed::Demo).await;
    let a = sim.instance(0);
    let gl = common::client(a);

    // Page by page, following X-Next-Page.
    let mut page = PageRequest::new(1, 7);
    let mut ids = vec![];
    let mut total = None;
    loop {
        let p = gl.projects(None, page).await.unwrap();
        total = total.or(p.total);
        ids.extend(p.items.iter().map(|p| p.id));
        match p.next_page() {
            Some(n) => page = PageRequest::new(n, 7),
            None => break,
        }
    }
    let total = total.expect("X-Total") as usize;
    assert!(total > 14, "demo seed has many projects");
    assert_eq!(ids.len(), total);

    // Streaming helper, offset pagination.
    let filter = mm_gitlab::ProjectFilter {
        per_page: Some(7),
        ..Default::default()
    };
    let all = collect_all(gl.all_projects(&filter, 10_000)).await.unwrap();
    assert_eq!(all.len(), total);
    let mut streamed: Vec<u64> = all.iter().map(|p| p.id).collect();
    streamed.sort_unstable();
    streamed.dedup();
    assert_eq!(streamed.len(), total);

    // Keyset pagination, following `Link: rel="next"`.
    let keyset = mm_gitlab::ProjectFilter {
        per_page: Some(6),
        keyset: true,
        ..Default::default()
    };
    let by_link = collect_all(gl.all_projects(&keyset, 10_000)).await.unwrap();
    assert_eq!(by_link.len(), total);
    assert!(by_link.windows(2).all(|w| w[0].id < w[1].id));

    // The cap stops the stream and the page fetching.
    a.reset_stats();
    let capped = collect_all(gl.all_projects(&filter, 10)).await.unwrap();
    assert_eq!(capped.len(), 10);
    let calls = a.stats().requests_by_endpoint["GET /api/v4/projects"];
    assert_eq!(calls, 2);

    // Group projects including subgroups.
    let acme = collect_all(gl.all_group_projects("acme", true, &filter, 1000))
        .await
        .unwrap();
    assert!(
        acme.iter()
            .all(|p| p.path_with_namespace.starts_with("acme/"))
    );
    assert_eq!(
        acme.len(),
        all.iter()
            .filter(|p| p.path_with_namespace.starts_with("acme/"))
            .count()
    );
}
