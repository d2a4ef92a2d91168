//! Push mirrors: create, sync, idempotent redelivery.

use chrono::{Days, Utc};
use mm_mirrors::kinds::{job, task};
use mm_storage::{
    ItemMirror, ItemState, MirrorDirection, MirrorLifecycle, MirrorOverrides, NewJobItem,
};
use serde_json::json;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_mirror_is_created_with_its_token_and_mirrors_the_refs() {
    let h = Harness::start().await;
    let pair = h
        .pair(
            MirrorDirection::Push,
            Defaults {
                overwrite_diverged: true,
                ..Defaults::default()
            },
        )
        .await;
    let (mirror_id, item) = h.create_ok(&pair, SRC_APP, DST_APP).await;
    let mirror = h.mirror(mirror_id).await;
    assert_eq!(mirror.lifecycle, MirrorLifecycle::Ready);
    let target_project = h.project_id(1, DST_APP) as i64;
    assert_eq!(
        mirror.source_project_id,
        Some(h.project_id(0, SRC_APP) as i64)
    );
    assert_eq!(mirror.target_project_id, Some(target_project));
    assert_eq!(mirror.token_project_id, Some(target_project));
    assert_eq!(
        mirror.mirror_token_name.as_deref(),
        Some(format!("mirror-maestro-mirror-{mirror_id}").as_str())
    );
    assert!(mirror.last_error.is_none());
    let expected_expiry = (Utc::now().date_naive() + Days::new(365))
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(
        mirror
            .mirror_token_expire_time
            .unwrap()
            .format("%Y-%m-%d")
            .to_string(),
        expected_expiry
    );
    assert_eq!(result(&item, "token_reused"), &json!(false));

    // The token: on the target project, write_repository, Maintainer, a year.
    let tokens = h
        .admin(1)
        .list_project_access_tokens(target_project as u64, None, Default::default())
        .await
        .unwrap()
        .items;
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    let token = &tokens[0];
    assert_eq!(Some(token.id as i64), mirror.gitlab_token_id);
    assert_eq!(token.scopes, vec!["write_repository".to_owned()]);
    assert_eq!(token.access_level, Some(40));
    assert_eq!(token.expires_at.as_deref(), Some(expected_expiry.as_str()));
    assert!(token.active);
    assert!(h.git_works(1, DST_APP, &h.mirror_token(&mirror)).await);
    // No token on the source side.
    assert!(
        h.sim
            .instance(0)
            .leftovers()
            .project_access_tokens
            .is_empty()
    );

    // The mirror: on the source, to the target, with the effective settings.
    let mirrors = h.push_mirrors(0, SRC_APP).await;
    assert_eq!(mirrors.len(), 1);
    let gl = &mirrors[0];
    assert_eq!(Some(gl.id as i64), mirror.gitlab_mirror_id);
    let host_b = h
        .sim
        .instance(1)
        .base_url
        .trim_start_matches("http://")
        .to_owned();
    assert_eq!(gl.url, format!("http://*****:*****@{host_b}/{DST_APP}.git"));
    assert!(gl.enabled);
    assert!(!gl.only_protected_branches);
    assert_eq!(
        gl.keep_divergent_refs,
        Some(false),
        "overwrite_diverged = true"
    );

    // The first sync was triggered at creation: the target has the source's refs.
    let done = h.wait_push(0, SRC_APP, gl.id, None).await;
    assert_eq!(done.update_status, "finished", "{:?}", done.last_error);
    let src = h.sim.instance(0).refs(SRC_APP).await.unwrap();
    assert!(src.len() >= 5, "{src:?}");
    assert_eq!(src, h.sim.instance(1).refs(DST_APP).await.unwrap());

    // A new commit, an explicit sync, the same refs again.
    h.sim
        .instance(0)
        .set_mirror_timing(gitlab_sim::MirrorTiming {
            sync_on_push: false,
            ..gitlab_sim::MirrorTiming::fast()
        });
    let head = h.add_commit(0, SRC_APP, "main").await;
    let sync = h.run_ok(task::MIRROR_SYNC, mirror_id).await;
    assert_eq!(result(&sync, "triggered"), &json!(true));
    assert!(result(&sync, "gitlab_after").is_object());
    let done = h
        .wait_push(0, SRC_APP, gl.id, done.last_update_at.as_deref())
        .await;
    assert_eq!(done.update_status, "finished", "{:?}", done.last_error);
    let dst = h.sim.instance(1).refs(DST_APP).await.unwrap();
    assert_eq!(dst.get("refs/heads/main"), Some(&head));
    assert_eq!(h.sim.instance(0).refs(SRC_APP).await.unwrap(), dst);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overrides_win_over_pair_defaults() {
    let h = Harness::start().await;
    let pair = h
        .pair(
            MirrorDirection::Push,
            Defaults {
                overwrite_diverged: true,
                branch_regex: Some("^main$".into()),
                ..Defaults::default()
            },
        )
        .await;
    let (mirror_id, item) = h
        .create_job_with(
            &pair,
            SRC_APP,
            DST_APP,
            MirrorOverrides {
                mirror_overwrite_diverged: Some(false),
                mirror_branch_regex: Some("^(main|develop)$".into()),
                ..MirrorOverrides::default()
            },
        )
        .await;
    h.run(&item).await.unwrap();
    assert_eq!(h.item(item.id).await.state, ItemState::Succeeded);
    let mirror = h.mirror(mirror_id).await;
    let gl = h.push_mirrors(0, SRC_APP).await.pop().unwrap();
    assert_eq!(Some(gl.id as i64), mirror.gitlab_mirror_id);
    assert_eq!(gl.keep_divergent_refs, Some(true));
    assert_eq!(gl.mirror_branch_regex.as_deref(), Some("^(main|develop)$"));
    assert!(!gl.only_protected_branches);

    // Changing the override and running mirror.update pushes it to GitLab.
    h.storage
        .update_mirror(
            mirror_id,
            &mm_storage::MirrorChanges {
                only_mirror_protected_branches: Some(Some(true)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let update = h.run_ok(task::MIRROR_UPDATE, mirror_id).await;
    // Protected-only and a regex exclude each other: the regex is dropped, with a warning.
    assert!(
        update
            .warnings
            .iter()
            .any(|w| w.contains("exclude each other")),
        "{:?}",
        update.warnings
    );
    let gl = h.push_mirrors(0, SRC_APP).await.pop().unwrap();
    assert!(gl.only_protected_branches);
    assert_eq!(gl.mirror_branch_regex, None);
    assert_eq!(gl.keep_divergent_refs, Some(true));
    let verify = h.run_ok(task::MIRROR_VERIFY, mirror_id).await;
    assert_eq!(result(&verify, "verdict"), "healthy", "{}", verify.result);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redelivered_create_makes_no_second_token_or_mirror() {
    let h = Harness::start().await;
    let pair = h.pair(MirrorDirection::Push, Defaults::default()).await;
    let (mirror_id, item) = h.create_job(&pair, SRC_APP, DST_APP).await;
    let target_project = h.project_id(1, DST_APP);

    // Attempt 1 dies after the token (GitLab answers 502 to the mirror creation: the
    // client does not repeat a create that may have been processed).
    h.sim
        .instance(0)
        .set_faults(gitlab_sim::FaultConfig::everywhere(
            gitlab_sim::FaultRule::errors(1.0, &[502])
                .on("POST", "/api/v4/projects/*/remote_mirrors"),
        ));
    let err = h.run(&item).await.expect_err("retryable");
    assert!(
        matches!(err, mm_tasks::TaskError::Retryable { .. }),
        "{err:?}"
    );
    assert_eq!(h.item(item.id).await.state, ItemState::Running);
    let after_first = h.mirror(mirror_id).await;
    let first_token = after_first.gitlab_token_id.expect("token recorded at once");
    assert_eq!(after_first.lifecycle, MirrorLifecycle::Creating);
    assert_eq!(h.sim.instance(1).leftovers().project_access_tokens.len(), 1);
    assert!(h.push_mirrors(0, SRC_APP).await.is_empty());
    h.sim.instance(0).clear_faults();

    // The redelivery (item still running from the failed attempt) reuses the token.
    let mut task = h.task(&item);
    task.redelivered = true;
    task.attempt = 2;
    h.run_task(task).await.unwrap();
    let item_after = h.item(item.id).await;
    assert_eq!(
        item_after.state,
        ItemState::Succeeded,
        "{:?}",
        item_after.error
    );
    assert_eq!(result(&item_after, "token_reused"), &json!(true));
    let mirror = h.mirror(mirror_id).await;
    assert_eq!(mirror.gitlab_token_id, Some(first_token));
    assert_eq!(mirror.lifecycle, MirrorLifecycle::Ready);
    let mirrors = h.push_mirrors(0, SRC_APP).await;
    assert_eq!(mirrors.len(), 1);

    // The same message again: the item is finished, nothing happens.
    h.run(&item).await.unwrap();
    // A crashed worker: the item of a new create job is `running` when the message comes
    // back; the handler runs again and adopts what exists.
    let (_, items) = h
        .job(
            job::MIRROR_CREATE,
            Some(pair.id),
            vec![NewJobItem {
                mirror: ItemMirror::Existing(mirror_id),
                label: "again".into(),
                task_kind: task::MIRROR_CREATE.into(),
                payload: json!({}),
                state: ItemState::Queued,
                error: None,
            }],
        )
        .await;
    let again = &items[0];
    assert!(matches!(
        h.storage.start_job_item(again.id).await.unwrap(),
        mm_storage::ItemStart::Run { .. }
    ));
    assert_eq!(h.item(again.id).await.state, ItemState::Running);
    h.run(again).await.unwrap();
    let again = h.item(again.id).await;
    assert_eq!(again.state, ItemState::Succeeded, "{:?}", again.error);
    assert_eq!(result(&again, "mirror_reused"), &json!(true));

    let tokens = h
        .admin(1)
        .list_project_access_tokens(
            target_project,
            Some(mm_gitlab::TokenState::Active),
            Default::default(),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    assert_eq!(tokens[0].id as i64, first_token);
    let now = h.push_mirrors(0, SRC_APP).await;
    assert_eq!(now.len(), 1);
    assert_eq!(now[0].id, mirrors[0].id);
    assert_eq!(
        h.sim
            .instance(1)
            .mutations()
            .iter()
            .filter(|m| m.kind == "project_access_token_created")
            .count(),
        1
    );
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn existing_foreign_push_mirror_fails_the_preflight() {
    let h = Harness::start().await;
    let pair = h.pair(MirrorDirection::Push, Defaults::default()).await;
    // Someone set up a mirror to the same target by hand.
    let url = format!("{}/{DST_APP}.git", h.sim.instance(1).base_url);
    let foreign = h
        .admin(0)
        .create_remote_mirror(
            h.project_id(0, SRC_APP),
            &mm_gitlab::CreateRemoteMirror::new(mm_gitlab::SecretUrl::new(url)),
        )
        .await
        .unwrap();
    let (mirror_id, item) = h.create_job(&pair, SRC_APP, DST_APP).await;
    h.run(&item).await.unwrap();
    let item = h.item(item.id).await;
    assert_eq!(item.state, ItemState::Failed);
    let error = item.error.unwrap();
    assert!(error.contains("already has a push mirror"), "{error}");
    assert!(error.contains(&foreign.id.to_string()), "{error}");
    assert_eq!(
        h.mirror(mirror_id).await.lifecycle,
        MirrorLifecycle::CreateFailed
    );
    // Nothing was created, the foreign mirror is untouched.
    assert!(h.sim.instance(1).leftovers().is_empty());
    assert_eq!(h.push_mirrors(0, SRC_APP).await.len(), 1);
    h.shutdown().await;
}
