//! Pull mirrors: create on EE, rotation, the Enterprise preflight.

use gitlab_sim::InstanceSpec;
use mm_mirrors::kinds::task;
use mm_storage::{ItemState, MirrorDirection, MirrorLifecycle};
use serde_json::json;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_mirror_is_created_pulls_and_survives_rotation() {
    let h = Harness::start().await;
    let pair = h
        .pair(
            MirrorDirection::Pull,
            Defaults {
                overwrite_diverged: true,
                trigger_builds: true,
                ..Defaults::default()
            },
        )
        .await;
    let (mirror_id, _) = h.create_ok(&pair, SRC_LIB, DST_LIB).await;
    let mirror = h.mirror(mirror_id).await;
    assert_eq!(mirror.lifecycle, MirrorLifecycle::Ready);
    let source_project = h.project_id(0, SRC_LIB);
    let target_project = h.project_id(1, DST_LIB);
    assert_eq!(mirror.token_project_id, Some(source_project as i64));
    assert_eq!(mirror.gitlab_mirror_id, None);

    // The token reads the source: read_repository, Reporter.
    let tokens = h
        .admin(0)
        .list_project_access_tokens(source_project, None, Default::default())
        .await
        .unwrap()
        .items;
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].scopes, vec!["read_repository".to_owned()]);
    assert_eq!(tokens[0].access_level, Some(20));
    assert!(
        h.sim
            .instance(1)
            .leftovers()
            .project_access_tokens
            .is_empty()
    );
    let old_token_value = h.mirror_token(&mirror);
    assert!(h.git_works(0, SRC_LIB, &old_token_value).await);

    // The pull mirror on the target with the effective settings.
    let pm = h
        .admin(1)
        .get_pull_mirror(target_project)
        .await
        .unwrap()
        .expect("pull mirror configured");
    assert_eq!(pm.enabled, Some(true));
    let host_a = h
        .sim
        .instance(0)
        .base_url
        .trim_start_matches("http://")
        .to_owned();
    assert_eq!(
        pm.url.as_deref(),
        Some(format!("http://*****:*****@{host_a}/{SRC_LIB}.git").as_str())
    );
    assert_eq!(pm.mirror_overwrites_diverged_branches, Some(true));
    assert_eq!(pm.mirror_trigger_builds, Some(true));
    assert_eq!(pm.only_mirror_protected_branches, Some(false));
    let done = h.wait_pull(1, DST_LIB, None).await;
    assert_eq!(
        done.update_status.as_deref(),
        Some("finished"),
        "{:?}",
        done.last_error
    );
    assert_eq!(
        h.sim.instance(0).refs(SRC_LIB).await.unwrap(),
        h.sim.instance(1).refs(DST_LIB).await.unwrap()
    );

    // Rotation: new token in use, old one revoked, settings kept.
    let rotated = h.run_ok(task::MIRROR_ROTATE_TOKEN, mirror_id).await;
    let after = h.mirror(mirror_id).await;
    let new_id = after.gitlab_token_id.unwrap();
    assert_ne!(Some(new_id), mirror.gitlab_token_id);
    assert_eq!(result(&rotated, "new_token_id"), &json!(new_id));
    assert_eq!(
        after.mirror_token_name.as_deref(),
        Some(format!("mirror-maestro-mirror-{mirror_id}-r1").as_str())
    );
    let old = h
        .admin(0)
        .get_project_access_token(source_project, mirror.gitlab_token_id.unwrap() as u64)
        .await
        .unwrap();
    assert!(old.revoked || !old.active, "{old:?}");
    assert!(!h.git_works(0, SRC_LIB, &old_token_value).await);
    assert!(h.git_works(0, SRC_LIB, &h.mirror_token(&after)).await);
    let active = h.sim.instance(0).leftovers().project_access_tokens;
    assert_eq!(active.len(), 1, "{active:?}");
    let pm2 = h
        .admin(1)
        .get_pull_mirror(target_project)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pm2.url, pm.url);
    assert_eq!(pm2.enabled, Some(true));
    assert_eq!(pm2.mirror_overwrites_diverged_branches, Some(true));
    assert_eq!(pm2.mirror_trigger_builds, Some(true));

    // It still pulls, with the new token.
    let head = h.add_commit(0, SRC_LIB, "main").await;
    let before = h.wait_pull(1, DST_LIB, None).await.last_update_at;
    h.run_ok(task::MIRROR_SYNC, mirror_id).await;
    let done = h.wait_pull(1, DST_LIB, before.as_deref()).await;
    assert_eq!(
        done.update_status.as_deref(),
        Some("finished"),
        "{:?}",
        done.last_error
    );
    let dst = h.sim.instance(1).refs(DST_LIB).await.unwrap();
    assert_eq!(dst.get("refs/heads/main"), Some(&head));
    assert_eq!(h.sim.instance(0).refs(SRC_LIB).await.unwrap(), dst);

    let verify = h.run_ok(task::MIRROR_VERIFY, mirror_id).await;
    assert_eq!(result(&verify, "verdict"), "healthy", "{}", verify.result);

    // Delete: the pull mirror is switched off and the token revoked.
    h.run_ok(task::MIRROR_DELETE, mirror_id).await;
    assert!(h.storage.get_mirror(mirror_id).await.unwrap().is_none());
    assert!(
        h.sim.instance(0).leftovers().is_empty(),
        "{:?}",
        h.sim.instance(0).leftovers()
    );
    assert!(
        h.sim.instance(1).leftovers().is_empty(),
        "{:?}",
        h.sim.instance(1).leftovers()
    );
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_mirror_needs_an_enterprise_target() {
    let h = Harness::with(InstanceSpec::ee("gl-a"), InstanceSpec::ce("gl-b")).await;
    let pair = h.pair(MirrorDirection::Pull, Defaults::default()).await;
    let (mirror_id, item) = h.create_job(&pair, SRC_LIB, DST_LIB).await;
    h.run(&item).await.unwrap();
    let item = h.item(item.id).await;
    assert_eq!(item.state, ItemState::Failed);
    let error = item.error.unwrap();
    assert!(error.contains("Enterprise Edition"), "{error}");
    let mirror = h.mirror(mirror_id).await;
    assert_eq!(mirror.lifecycle, MirrorLifecycle::CreateFailed);
    assert_eq!(mirror.last_error.as_deref(), Some(error.as_str()));
    assert!(h.sim.instance(0).leftovers().is_empty());
    assert!(h.sim.instance(1).leftovers().is_empty());
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_pull_mirror_on_the_same_project_is_refused() {
    let h = Harness::start().await;
    let pair = h.pair(MirrorDirection::Pull, Defaults::default()).await;
    h.create_ok(&pair, SRC_LIB, DST_LIB).await;
    // Another source into the same target project.
    let (second, item) = h.create_job(&pair, SRC_APP, DST_LIB).await;
    h.run(&item).await.unwrap();
    let item = h.item(item.id).await;
    assert_eq!(item.state, ItemState::Failed);
    let error = item.error.unwrap();
    assert!(error.contains("only one pull mirror"), "{error}");
    assert_eq!(
        h.mirror(second).await.lifecycle,
        MirrorLifecycle::CreateFailed
    );
    // The first mirror's token is the only one; nothing was created for the second.
    assert_eq!(h.sim.instance(0).leftovers().project_access_tokens.len(), 1);
    h.shutdown().await;
}
