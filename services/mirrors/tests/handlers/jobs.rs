//! Final steps of delete jobs, and instance verification.

use std::time::Duration;

use mm_crypto::aad;
use mm_mirrors::kinds::{job, task};
use mm_storage::{InstanceChanges, ItemMirror, ItemState, MirrorDirection, NewJobItem};
use mm_tasks::TaskError;
use serde_json::json;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pair_remove_waits_for_the_mirror_cleanups() {
    let h = Harness::start().await;
    let pair = h.pair(MirrorDirection::Push, Defaults::default()).await;
    let (first, _) = h.create_ok(&pair, SRC_APP, DST_APP).await;
    let (second, _) = h.create_ok(&pair, SRC_LIB, DST_LIB).await;
    let (_, items) = h
        .job(
            job::PAIR_DELETE,
            Some(pair.id),
            vec![
                NewJobItem::for_mirror(first, "first", task::MIRROR_DELETE),
                NewJobItem::for_mirror(second, "second", task::MIRROR_DELETE),
                NewJobItem {
                    mirror: ItemMirror::None,
                    label: "remove the pair".into(),
                    task_kind: task::PAIR_REMOVE.into(),
                    payload: json!({"pair_id": pair.id}),
                    state: ItemState::Queued,
                    error: None,
                },
            ],
        )
        .await;
    let remove = items
        .iter()
        .find(|i| i.task_kind == task::PAIR_REMOVE)
        .unwrap();
    let cleanups: Vec<_> = items
        .iter()
        .filter(|i| i.task_kind == task::MIRROR_DELETE)
        .collect();

    match h.run(remove).await {
        Err(TaskError::Deferred { message, after }) => {
            assert_eq!(message, "waiting for 2 mirror cleanups");
            assert_eq!(after, Duration::from_secs(5));
        }
        other => panic!("expected a deferral, got {other:?}"),
    }
    assert_eq!(h.item(remove.id).await.state, ItemState::Queued);
    h.run(cleanups[0]).await.unwrap();
    // One cleanup is running (a worker holds it): still waiting.
    assert!(matches!(
        h.storage.start_job_item(cleanups[1].id).await.unwrap(),
        mm_storage::ItemStart::Run { .. }
    ));
    match h.run(remove).await {
        Err(TaskError::Deferred { message, .. }) => {
            assert_eq!(message, "waiting for 1 mirror cleanups")
        }
        other => panic!("expected a deferral, got {other:?}"),
    }
    h.run(cleanups[1]).await.unwrap();
    h.run(remove).await.unwrap();
    let removed = h.item(remove.id).await;
    assert_eq!(removed.state, ItemState::Succeeded, "{:?}", removed.error);
    assert!(h.storage.get_pair(pair.id).await.unwrap().is_none());
    let job = h.storage.get_job(removed.job_id).await.unwrap().unwrap();
    assert_eq!(job.state, mm_storage::JobState::Succeeded);
    assert!(h.sim.instance(0).leftovers().is_empty());
    assert!(h.sim.instance(1).leftovers().is_empty());
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_remove_deletes_the_instance_with_its_pairs() {
    let h = Harness::start().await;
    let pair = h.pair(MirrorDirection::Push, Defaults::default()).await;
    let (mirror_id, _) = h.create_ok(&pair, SRC_APP, DST_APP).await;
    let (_, items) = h
        .job(
            job::INSTANCE_DELETE,
            None,
            vec![
                NewJobItem::for_mirror(mirror_id, "cleanup", task::MIRROR_DELETE),
                NewJobItem {
                    mirror: ItemMirror::None,
                    label: "remove the instance".into(),
                    task_kind: task::INSTANCE_REMOVE.into(),
                    payload: json!({"instance_id": h.b.id}),
                    state: ItemState::Queued,
                    error: None,
                },
            ],
        )
        .await;
    assert!(matches!(
        h.run(&items[1]).await,
        Err(TaskError::Deferred { .. })
    ));
    h.run(&items[0]).await.unwrap();
    h.run(&items[1]).await.unwrap();
    let item = h.item(items[1].id).await;
    assert_eq!(item.state, ItemState::Succeeded, "{:?}", item.error);
    assert_eq!(result(&item, "deleted_pairs"), &json!(1));
    assert!(h.storage.get_instance(h.b.id).await.unwrap().is_none());
    assert!(h.storage.get_pair(pair.id).await.unwrap().is_none());
    assert!(h.sim.instance(1).leftovers().is_empty());
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_verify_records_the_token_owner_and_rejects_a_bad_token() {
    let h = Harness::start().await;
    let (_, items) = h
        .job(
            job::INSTANCE_VERIFY,
            None,
            vec![NewJobItem {
                mirror: ItemMirror::None,
                label: "verify".into(),
                task_kind: task::INSTANCE_VERIFY.into(),
                payload: json!({"instance_id": h.a.id}),
                state: ItemState::Queued,
                error: None,
            }],
        )
        .await;
    h.run(&items[0]).await.unwrap();
    let item = h.item(items[0].id).await;
    assert_eq!(item.state, ItemState::Succeeded, "{:?}", item.error);
    let a = h.storage.get_instance(h.a.id).await.unwrap().unwrap();
    assert_eq!(a.token_username.as_deref(), Some("root"));
    assert!(a.token_user_id.is_some());
    assert_eq!(a.gitlab_version.as_deref(), Some("17.6.1-ee"));
    assert_eq!(a.gitlab_edition.as_deref(), Some("Enterprise"));
    assert!(a.verify_time.is_some());

    // A wrong token (the cached client is rebuilt because the ciphertext changed).
    let sealed = h
        .cipher
        .encrypt("glpat-not-a-valid-token", &aad::instance_token(h.a.id))
        .unwrap();
    h.storage
        .update_instance(
            h.a.id,
            &InstanceChanges {
                encrypted_token: Some(sealed),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let (_, items) = h
        .job(
            job::INSTANCE_VERIFY,
            None,
            vec![NewJobItem {
                mirror: ItemMirror::None,
                label: "verify".into(),
                task_kind: task::INSTANCE_VERIFY.into(),
                payload: json!({"instance_id": h.a.id}),
                state: ItemState::Queued,
                error: None,
            }],
        )
        .await;
    h.run(&items[0]).await.unwrap();
    let item = h.item(items[0].id).await;
    assert_eq!(item.state, ItemState::Failed);
    let error = item.error.unwrap();
    assert!(error.contains("rejected the instance token"), "{error}");
    assert!(!error.contains("glpat-not-a-valid-token"), "{error}");
    h.shutdown().await;
}
