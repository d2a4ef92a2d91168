//! Failures: rollback of a half-created mirror, retryable errors and the last attempt.

use gitlab_sim::{FaultConfig, FaultRule};
use mm_mirrors::kinds::task;
use mm_storage::{ItemState, MirrorDirection, MirrorLifecycle};
use mm_tasks::TaskError;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_mirror_creation_leaves_nothing_behind() {
    let h = Harness::start().await;
    let pair = h.pair(MirrorDirection::Push, Defaults::default()).await;
    let (mirror_id, item) = h.create_job(&pair, SRC_APP, DST_APP).await;
    // GitLab refuses the mirror (a 422 cannot get better by retrying) after the token exists.
    h.sim.instance(0).set_faults(FaultConfig::everywhere(
        FaultRule::errors(1.0, &[422]).on("POST", "/api/v4/projects/*/remote_mirrors"),
    ));
    h.run(&item)
        .await
        .expect("a failure is recorded, not retried");
    let item = h.item(item.id).await;
    assert_eq!(item.state, ItemState::Failed);
    let error = item.error.clone().unwrap();
    assert!(error.contains("creating the push mirror"), "{error}");
    assert!(error.contains("422"), "{error}");
    assert!(!error.contains("glpat-"), "no token in messages: {error}");
    let mirror = h.mirror(mirror_id).await;
    assert_eq!(mirror.lifecycle, MirrorLifecycle::CreateFailed);
    assert_eq!(mirror.last_error.as_deref(), Some(error.as_str()));
    // The token was created, then revoked again.
    let kinds: Vec<String> = h
        .sim
        .instance(1)
        .mutations()
        .iter()
        .map(|m| m.kind.clone())
        .collect();
    assert!(
        kinds.contains(&"project_access_token_created".to_owned()),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&"project_access_token_revoked".to_owned()),
        "{kinds:?}"
    );
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
    assert!(
        item.result["rolled_back"]
            .as_array()
            .is_some_and(|r| !r.is_empty())
    );

    // Retrying the create once GitLab accepts it works from scratch.
    h.sim.instance(0).clear_faults();
    let again = h.mirror_job(task::MIRROR_CREATE, mirror_id).await;
    h.run(&again).await.unwrap();
    let again = h.item(again.id).await;
    assert_eq!(again.state, ItemState::Succeeded, "{:?}", again.error);
    assert_eq!(h.mirror(mirror_id).await.lifecycle, MirrorLifecycle::Ready);
    assert_eq!(h.sim.instance(1).leftovers().project_access_tokens.len(), 1);
    assert_eq!(h.push_mirrors(0, SRC_APP).await.len(), 1);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_error_is_retried_and_the_last_attempt_fails_the_item() {
    let h = Harness::start().await;
    let pair = h.pair(MirrorDirection::Push, Defaults::default()).await;
    let (mirror_id, _) = h.create_ok(&pair, SRC_APP, DST_APP).await;
    h.sim.instance(0).set_faults(FaultConfig::everywhere(
        FaultRule::errors(1.0, &[503]).on("POST", "/api/v4/projects/*/remote_mirrors/*/sync"),
    ));
    let item = h.mirror_job(task::MIRROR_SYNC, mirror_id).await;
    let err = h.run(&item).await.expect_err("a 503 is retried");
    match err {
        TaskError::Retryable { message, .. } => assert!(message.contains("503"), "{message}"),
        other => panic!("expected a retry, got {other:?}"),
    }
    let running = h.item(item.id).await;
    assert_eq!(running.state, ItemState::Running);
    assert!(running.error.is_none());

    // The bus says this is the last attempt: the item fails for good.
    let mut last = h.task(&item);
    last.attempt = 5;
    last.last_attempt = true;
    h.run_task(last).await.expect("recorded as failed");
    let failed = h.item(item.id).await;
    assert_eq!(failed.state, ItemState::Failed);
    let error = failed.error.unwrap();
    assert!(
        error.contains("503") && error.contains("last attempt"),
        "{error}"
    );
    assert_eq!(failed.attempts, 2);

    // A 422 is not retried at all.
    h.sim.instance(0).set_faults(FaultConfig::everywhere(
        FaultRule::errors(1.0, &[422]).on("POST", "/api/v4/projects/*/remote_mirrors/*/sync"),
    ));
    let item = h.mirror_job(task::MIRROR_SYNC, mirror_id).await;
    h.run(&item).await.expect("recorded as failed");
    assert_eq!(h.item(item.id).await.state, ItemState::Failed);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retryable_failure_during_create_keeps_what_exists_for_the_retry() {
    let h = Harness::start().await;
    let pair = h.pair(MirrorDirection::Push, Defaults::default()).await;
    let (mirror_id, item) = h.create_job(&pair, SRC_APP, DST_APP).await;
    h.sim.instance(0).set_faults(FaultConfig::everywhere(
        FaultRule::errors(1.0, &[500]).on("POST", "/api/v4/projects/*/remote_mirrors"),
    ));
    assert!(matches!(
        h.run(&item).await,
        Err(TaskError::Retryable { .. })
    ));
    // The last attempt gives up and rolls back.
    let mut last = h.task(&item);
    last.last_attempt = true;
    h.run_task(last).await.unwrap();
    let item = h.item(item.id).await;
    assert_eq!(item.state, ItemState::Failed);
    assert_eq!(
        h.mirror(mirror_id).await.lifecycle,
        MirrorLifecycle::CreateFailed
    );
    assert!(h.sim.instance(0).leftovers().is_empty());
    assert!(
        h.sim.instance(1).leftovers().is_empty(),
        "{:?}",
        h.sim.instance(1).leftovers()
    );
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_trigger_is_a_success_with_a_warning() {
    let h = Harness::start().await;
    let pair = h.pair(MirrorDirection::Push, Defaults::default()).await;
    let (mirror_id, _) = h.create_ok(&pair, SRC_APP, DST_APP).await;
    h.sim.instance(0).set_faults(FaultConfig::everywhere(
        FaultRule::errors(1.0, &[429]).on("POST", "/api/v4/projects/*/remote_mirrors/*/sync"),
    ));
    let sync = h.run_ok(task::MIRROR_SYNC, mirror_id).await;
    assert_eq!(result(&sync, "triggered"), &serde_json::json!(false));
    assert_eq!(result(&sync, "note"), "rate_limited");
    assert!(
        sync.warnings.iter().any(|w| w.contains("rate-limited")),
        "{:?}",
        sync.warnings
    );
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_cleanup_becomes_a_warning_and_the_row_still_goes() {
    let h = Harness::start().await;
    let pair = h.pair(MirrorDirection::Push, Defaults::default()).await;
    let (mirror_id, _) = h.create_ok(&pair, SRC_APP, DST_APP).await;
    h.sim.instance(0).set_faults(FaultConfig::everywhere(
        FaultRule::errors(1.0, &[403]).on("DELETE", "/api/v4/projects/*/remote_mirrors/*"),
    ));
    let deleted = h.run_ok(task::MIRROR_DELETE, mirror_id).await;
    assert!(
        deleted
            .warnings
            .iter()
            .any(|w| w.contains("removing push mirror") && w.contains("403")),
        "{:?}",
        deleted.warnings
    );
    assert!(h.storage.get_mirror(mirror_id).await.unwrap().is_none());
    // The token was still revoked; the mirror GitLab refused to delete remains.
    assert!(h.sim.instance(1).leftovers().is_empty());
    assert_eq!(h.push_mirrors(0, SRC_APP).await.len(), 1);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_during_an_outage_retries_and_keeps_the_row_after_the_last_attempt() {
    let h = Harness::start().await;
    let pair = h.pair(MirrorDirection::Push, Defaults::default()).await;
    let (mirror_id, _) = h.create_ok(&pair, SRC_APP, DST_APP).await;
    h.sim.instance(0).set_faults(FaultConfig::everywhere(
        FaultRule::errors(1.0, &[502]).on("DELETE", "/api/v4/projects/*/remote_mirrors/*"),
    ));
    let item = h.mirror_job(task::MIRROR_DELETE, mirror_id).await;
    assert!(matches!(
        h.run(&item).await,
        Err(TaskError::Retryable { .. })
    ));
    let mut last = h.task(&item);
    last.last_attempt = true;
    h.run_task(last).await.unwrap();
    assert_eq!(h.item(item.id).await.state, ItemState::Failed);
    assert!(h.storage.get_mirror(mirror_id).await.unwrap().is_some());
    // Once GitLab answers again, a retry finishes the job.
    h.sim.instance(0).clear_faults();
    h.run_ok(task::MIRROR_DELETE, mirror_id).await;
    assert!(h.storage.get_mirror(mirror_id).await.unwrap().is_none());
    assert!(h.sim.instance(0).leftovers().is_empty());
    assert!(h.sim.instance(1).leftovers().is_empty());
    h.shutdown().await;
}
