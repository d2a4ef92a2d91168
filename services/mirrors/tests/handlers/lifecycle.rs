//! Rotation, delete, verify, refresh and sync of push mirrors.

use mm_gitlab::UpdateRemoteMirror;
use mm_mirrors::kinds::task;
use mm_storage::{ItemState, MirrorDirection, MirrorOverrides};
use serde_json::json;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_creates_before_it_revokes_and_keeps_every_setting() {
    let h = Harness::start().await;
    let pair = h.pair(MirrorDirection::Push, Defaults::default()).await;
    let (mirror_id, item) = h
        .create_job_with(
            &pair,
            SRC_APP,
            DST_APP,
            MirrorOverrides {
                mirror_branch_regex: Some("^(main|develop|feature/.*)$".into()),
                ..MirrorOverrides::default()
            },
        )
        .await;
    h.run(&item).await.unwrap();
    let before = h.mirror(mirror_id).await;
    let old_mirror = h.push_mirrors(0, SRC_APP).await.pop().unwrap();
    h.wait_push(0, SRC_APP, old_mirror.id, None).await;
    let old_value = h.mirror_token(&before);
    let target_project = h.project_id(1, DST_APP);

    let rotated = h.run_ok(task::MIRROR_ROTATE_TOKEN, mirror_id).await;
    let after = h.mirror(mirror_id).await;
    assert_ne!(after.gitlab_token_id, before.gitlab_token_id);
    assert_ne!(
        after.gitlab_mirror_id, before.gitlab_mirror_id,
        "a new remote mirror"
    );
    assert_eq!(
        result(&rotated, "old_gitlab_mirror_id"),
        &json!(before.gitlab_mirror_id)
    );
    assert!(after.mirror_token_expire_time.is_some());
    assert!(rotated.warnings.is_empty(), "{:?}", rotated.warnings);

    // Old token revoked, new one works; one token and one mirror remain.
    let old = h
        .admin(1)
        .get_project_access_token(target_project, before.gitlab_token_id.unwrap() as u64)
        .await
        .unwrap();
    assert!(old.revoked || !old.active);
    assert!(!h.git_works(1, DST_APP, &old_value).await);
    assert!(h.git_works(1, DST_APP, &h.mirror_token(&after)).await);
    assert_eq!(h.sim.instance(1).leftovers().project_access_tokens.len(), 1);
    let mirrors = h.push_mirrors(0, SRC_APP).await;
    assert_eq!(mirrors.len(), 1);
    let new_mirror = &mirrors[0];
    assert_eq!(Some(new_mirror.id as i64), after.gitlab_mirror_id);
    assert_eq!(new_mirror.url, old_mirror.url);
    assert_eq!(new_mirror.enabled, old_mirror.enabled);
    assert_eq!(
        new_mirror.only_protected_branches,
        old_mirror.only_protected_branches
    );
    assert_eq!(
        new_mirror.keep_divergent_refs,
        old_mirror.keep_divergent_refs
    );
    assert_eq!(
        new_mirror.mirror_branch_regex,
        old_mirror.mirror_branch_regex
    );
    assert_eq!(
        new_mirror.mirror_branch_regex.as_deref(),
        Some("^(main|develop|feature/.*)$")
    );

    // The mirror still syncs.
    h.sim
        .instance(0)
        .set_mirror_timing(gitlab_sim::MirrorTiming {
            sync_on_push: false,
            ..gitlab_sim::MirrorTiming::fast()
        });
    let head = h.add_commit(0, SRC_APP, "develop").await;
    h.run_ok(task::MIRROR_SYNC, mirror_id).await;
    let done = h.wait_push(0, SRC_APP, new_mirror.id, None).await;
    assert_eq!(done.update_status, "finished", "{:?}", done.last_error);
    let dst = h.sim.instance(1).refs(DST_APP).await.unwrap();
    assert_eq!(dst.get("refs/heads/develop"), Some(&head));
    assert_eq!(h.sim.instance(0).refs(SRC_APP).await.unwrap(), dst);

    // A second rotation counts on.
    h.run_ok(task::MIRROR_ROTATE_TOKEN, mirror_id).await;
    assert_eq!(
        h.mirror(mirror_id).await.mirror_token_name.as_deref(),
        Some(format!("mirror-maestro-mirror-{mirror_id}-r2").as_str())
    );
    let verify = h.run_ok(task::MIRROR_VERIFY, mirror_id).await;
    assert_eq!(result(&verify, "verdict"), "healthy", "{}", verify.result);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_switch_keeps_the_old_token() {
    let h = Harness::start().await;
    let pair = h.pair(MirrorDirection::Push, Defaults::default()).await;
    let (mirror_id, _) = h.create_ok(&pair, SRC_APP, DST_APP).await;
    let before = h.mirror(mirror_id).await;
    h.sim
        .instance(0)
        .set_faults(gitlab_sim::FaultConfig::everywhere(
            gitlab_sim::FaultRule::errors(1.0, &[422])
                .on("POST", "/api/v4/projects/*/remote_mirrors"),
        ));
    let item = h.mirror_job(task::MIRROR_ROTATE_TOKEN, mirror_id).await;
    h.run(&item).await.unwrap();
    assert_eq!(h.item(item.id).await.state, ItemState::Failed);
    let after = h.mirror(mirror_id).await;
    assert_eq!(after.gitlab_token_id, before.gitlab_token_id);
    assert_eq!(after.encrypted_mirror_token, before.encrypted_mirror_token);
    assert!(h.git_works(1, DST_APP, &h.mirror_token(&after)).await);
    // The new token was revoked again: only the old one is active.
    let active = h.sim.instance(1).leftovers().project_access_tokens;
    assert_eq!(active.len(), 1);
    assert_eq!(active[0]["id"], json!(before.gitlab_token_id.unwrap()));
    assert_eq!(h.push_mirrors(0, SRC_APP).await.len(), 1);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_removes_mirror_and_token_even_when_gitlab_lost_them() {
    let h = Harness::start().await;
    let pair = h.pair(MirrorDirection::Push, Defaults::default()).await;
    let (first, _) = h.create_ok(&pair, SRC_APP, DST_APP).await;
    let (second, _) = h.create_ok(&pair, SRC_LIB, DST_LIB).await;

    let deleted = h.run_ok(task::MIRROR_DELETE, first).await;
    assert!(deleted.warnings.is_empty(), "{:?}", deleted.warnings);
    assert!(h.storage.get_mirror(first).await.unwrap().is_none());
    assert!(h.push_mirrors(0, SRC_APP).await.is_empty());
    let left = h.sim.instance(1).leftovers().project_access_tokens;
    assert_eq!(left.len(), 1, "only the second mirror's token: {left:?}");

    // Someone removed the second mirror and its token in GitLab already.
    let m = h.mirror(second).await;
    let source = h.project_id(0, SRC_LIB);
    h.admin(0)
        .delete_remote_mirror(source, m.gitlab_mirror_id.unwrap() as u64)
        .await
        .unwrap();
    h.admin(1)
        .revoke_project_access_token(h.project_id(1, DST_LIB), m.gitlab_token_id.unwrap() as u64)
        .await
        .unwrap();
    let deleted = h.run_ok(task::MIRROR_DELETE, second).await;
    assert!(h.storage.get_mirror(second).await.unwrap().is_none());
    assert_eq!(
        result(&deleted, "mirror_note"),
        "the push mirror was already gone"
    );
    assert!(h.sim.instance(0).leftovers().is_empty());
    assert!(h.sim.instance(1).leftovers().is_empty());

    // Deleting again (a redelivery after the row went): nothing to do.
    h.run_task(mm_tasks::Task::new(
        task::MIRROR_DELETE,
        json!({"mirror_id": second}),
    ))
    .await
    .unwrap();
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_reports_healthy_drift_and_not_created() {
    let h = Harness::start().await;
    let pair = h.pair(MirrorDirection::Push, Defaults::default()).await;
    let (mirror_id, _) = h.create_ok(&pair, SRC_APP, DST_APP).await;
    let verify = h.run_ok(task::MIRROR_VERIFY, mirror_id).await;
    assert_eq!(result(&verify, "verdict"), "healthy", "{}", verify.result);
    assert_eq!(result(&verify, "differences"), &json!([]));

    // Someone changes a setting in GitLab directly.
    let m = h.mirror(mirror_id).await;
    let source = h.project_id(0, SRC_APP);
    h.admin(0)
        .update_remote_mirror(
            source,
            m.gitlab_mirror_id.unwrap() as u64,
            &UpdateRemoteMirror {
                only_protected_branches: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let verify = h.run_ok(task::MIRROR_VERIFY, mirror_id).await;
    assert_eq!(result(&verify, "verdict"), "drift");
    assert_eq!(
        result(&verify, "differences"),
        &json!([{"field": "only_protected_branches", "expected": false, "actual": true}])
    );
    // mirror.update puts it back.
    h.run_ok(task::MIRROR_UPDATE, mirror_id).await;
    let verify = h.run_ok(task::MIRROR_VERIFY, mirror_id).await;
    assert_eq!(result(&verify, "verdict"), "healthy", "{}", verify.result);

    // The token was revoked in GitLab: drift on the token.
    h.admin(1)
        .revoke_project_access_token(h.project_id(1, DST_APP), m.gitlab_token_id.unwrap() as u64)
        .await
        .unwrap();
    let verify = h.run_ok(task::MIRROR_VERIFY, mirror_id).await;
    assert_eq!(result(&verify, "verdict"), "drift");
    let fields: Vec<&str> = result(&verify, "differences")
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["token"]);

    // The mirror is gone from GitLab: not_created.
    h.admin(0)
        .delete_remote_mirror(source, m.gitlab_mirror_id.unwrap() as u64)
        .await
        .unwrap();
    let verify = h.run_ok(task::MIRROR_VERIFY, mirror_id).await;
    assert_eq!(result(&verify, "verdict"), "not_created");
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_finds_orphans_of_a_half_created_mirror() {
    let h = Harness::start().await;
    let pair = h.pair(MirrorDirection::Push, Defaults::default()).await;
    let (mirror_id, item) = h.create_job(&pair, SRC_APP, DST_APP).await;
    // The create dies before the mirror (a 502 on creation), leaving the token.
    h.sim
        .instance(0)
        .set_faults(gitlab_sim::FaultConfig::everywhere(
            gitlab_sim::FaultRule::errors(1.0, &[502])
                .on("POST", "/api/v4/projects/*/remote_mirrors"),
        ));
    assert!(h.run(&item).await.is_err());
    h.sim.instance(0).clear_faults();
    let verify = h.run_ok(task::MIRROR_VERIFY, mirror_id).await;
    assert_eq!(result(&verify, "verdict"), "orphan", "{}", verify.result);
    assert_eq!(result(&verify, "differences")[0]["field"], "extra_token");
    // Deleting the half-created mirror removes the orphan token.
    h.run_ok(task::MIRROR_DELETE, mirror_id).await;
    assert!(h.sim.instance(1).leftovers().is_empty());
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_records_the_status_without_touching_update_time() {
    let h = Harness::start().await;
    let pair = h.pair(MirrorDirection::Push, Defaults::default()).await;
    let (mirror_id, _) = h.create_ok(&pair, SRC_APP, DST_APP).await;
    let m = h.mirror(mirror_id).await;
    let done = h
        .wait_push(0, SRC_APP, m.gitlab_mirror_id.unwrap() as u64, None)
        .await;
    assert_eq!(done.update_status, "finished");
    let before = h.mirror(mirror_id).await;

    let refresh = h.run_ok(task::MIRROR_REFRESH_STATUS, mirror_id).await;
    assert_eq!(result(&refresh, "update_status"), "finished");
    let after = h.mirror(mirror_id).await;
    assert_eq!(after.last_update_status.as_deref(), Some("finished"));
    assert!(after.last_successful_update_time.is_some());
    assert!(after.last_update_time.is_some());
    assert!(after.last_error.is_none());
    assert!(after.status_check_time.is_some());
    assert_eq!(
        after.update_time, before.update_time,
        "update_time untouched"
    );
    let expected =
        chrono::DateTime::parse_from_rfc3339(done.last_successful_update_at.as_deref().unwrap())
            .unwrap()
            .with_timezone(&chrono::Utc);
    let diff = (after.last_successful_update_time.unwrap() - expected)
        .num_milliseconds()
        .abs();
    assert!(diff < 1000, "{diff} ms");
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_re_enables_a_mirror_gitlab_disabled_and_skips_disabled_rows() {
    let h = Harness::start().await;
    let pair = h.pair(MirrorDirection::Push, Defaults::default()).await;
    let (mirror_id, _) = h.create_ok(&pair, SRC_APP, DST_APP).await;
    let m = h.mirror(mirror_id).await;
    let source = h.project_id(0, SRC_APP);
    let gid = m.gitlab_mirror_id.unwrap() as u64;
    let first = h.wait_push(0, SRC_APP, gid, None).await;
    h.admin(0)
        .update_remote_mirror(
            source,
            gid,
            &UpdateRemoteMirror {
                enabled: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();

    // A status refresh reports it but keeps the operator's intent.
    let refresh = h.run_ok(task::MIRROR_REFRESH_STATUS, mirror_id).await;
    assert_eq!(result(&refresh, "gitlab_enabled"), &json!(false));
    assert!(h.mirror(mirror_id).await.enabled);

    let sync = h.run_ok(task::MIRROR_SYNC, mirror_id).await;
    assert_eq!(result(&sync, "re_enabled"), &json!(true));
    assert_eq!(result(&sync, "triggered"), &json!(true));
    assert!(
        sync.warnings.iter().any(|w| w.contains("re-enabled")),
        "{:?}",
        sync.warnings
    );
    assert!(
        h.admin(0)
            .get_remote_mirror(source, gid)
            .await
            .unwrap()
            .enabled
    );
    let done = h
        .wait_push(0, SRC_APP, gid, first.last_update_at.as_deref())
        .await;
    assert_eq!(done.update_status, "finished");

    // Disabled by the operator: skipped.
    h.storage
        .update_mirror(
            mirror_id,
            &mm_storage::MirrorChanges {
                enabled: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let item = h.mirror_job(task::MIRROR_SYNC, mirror_id).await;
    h.run(&item).await.unwrap();
    assert_eq!(h.item(item.id).await.state, ItemState::Skipped);
    h.shutdown().await;
}
