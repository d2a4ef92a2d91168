//! Job item conformance tests: starting and finishing items, counters and final states,
//! idempotent and concurrent finishes, cancel and retry.

use std::{sync::Arc, time::Duration as StdDuration};

use mm_storage::{
    ItemOutcome, ItemStart, ItemState, Job, JobFilter, JobState, MirrorLifecycle,
    MirrorProvisioning, Storage, StorageError, Window,
};
use serde_json::{Value, json};

use super::{
    create_item,
    jobs::{claim_all, items, job, job_ids, outcome, plain_items, run},
    new_job, setup_pair,
};

const ALL_JOBS: Window = Window {
    offset: 0,
    limit: 1000,
};

pub async fn job_items_start_finish_and_count(storage: Arc<dyn Storage>) {
    let created = storage
        .create_job(&new_job("pair.sync", None, plain_items(3)))
        .await
        .unwrap()
        .job;
    let list = items(&storage, created.id).await;

    let ItemStart::Run { item, job: running } = storage.start_job_item(list[0].id).await.unwrap()
    else {
        panic!("the item runs");
    };
    assert_eq!(item.state, ItemState::Running);
    assert_eq!(item.attempts, 1);
    let first_start = item.start_time.expect("start time");
    assert_eq!(running.state, JobState::Running);
    assert_eq!(running.start_time, Some(first_start));
    assert_eq!(running.end_time, None);
    // The worker died; the redelivered message starts it again.
    tokio::time::sleep(StdDuration::from_millis(3)).await;
    let ItemStart::Run { item, job: running } = storage.start_job_item(list[0].id).await.unwrap()
    else {
        panic!("a running item is started again");
    };
    assert_eq!(item.attempts, 2);
    assert_eq!(item.start_time, Some(first_start));
    assert_eq!(running.start_time, Some(first_start));

    // Warnings go to running items only and are counted when the item finishes.
    storage
        .add_job_item_warning(list[0].id, "w0")
        .await
        .unwrap();
    storage
        .add_job_item_warning(list[1].id, "ignored: queued")
        .await
        .unwrap();
    storage
        .add_job_item_warning(list[2].id + 1000, "ignored: missing")
        .await
        .unwrap();
    assert_eq!(job(&storage, created.id).await.warning_count, 0);
    let done = storage
        .finish_job_item(
            list[0].id,
            &ItemOutcome {
                state: ItemState::Succeeded,
                error: None,
                warnings: vec!["w1".into()],
                result: json!({"gitlab_status": "started"}),
                duration_ms: 42,
            },
        )
        .await
        .unwrap()
        .expect("finished");
    assert_eq!(done.state, JobState::Running);
    assert_eq!(
        (done.done, done.succeeded, done.failed, done.warning_count),
        (1, 1, 0, 2)
    );
    let item = storage.get_job_item(list[0].id).await.unwrap().unwrap();
    assert_eq!(item.state, ItemState::Succeeded);
    assert_eq!(item.warnings, ["w0", "w1"]);
    assert_eq!(item.result, json!({"gitlab_status": "started"}));
    assert_eq!(item.duration_ms, Some(42));
    assert_eq!(item.error, None);
    assert!(item.end_time.is_some());
    assert!(items(&storage, created.id).await[1].warnings.is_empty());
    storage
        .add_job_item_warning(list[0].id, "too late")
        .await
        .unwrap();
    assert_eq!(
        storage
            .get_job_item(list[0].id)
            .await
            .unwrap()
            .unwrap()
            .warnings,
        ["w0", "w1"]
    );
    assert_eq!(
        storage.start_job_item(list[0].id).await.unwrap(),
        ItemStart::AlreadyFinished
    );

    // An item may be finished without a start (e.g. nothing to do).
    let failed = storage
        .finish_job_item(list[1].id, &outcome(ItemState::Failed))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((failed.done, failed.failed), (2, 1));
    assert_eq!(
        storage
            .get_job_item(list[1].id)
            .await
            .unwrap()
            .unwrap()
            .error
            .as_deref(),
        Some("it failed")
    );
    let last = run(&storage, list[2].id, &outcome(ItemState::Skipped))
        .await
        .unwrap();
    assert_eq!(last.state, JobState::PartiallyFailed);
    assert_eq!(
        (
            last.total,
            last.done,
            last.succeeded,
            last.failed,
            last.skipped,
            last.cancelled,
            last.warning_count
        ),
        (3, 3, 1, 1, 1, 0, 2)
    );
    assert!(last.end_time.is_some());
    assert_eq!(job(&storage, created.id).await, last);

    let missing = list[2].id + 1000;
    assert_eq!(
        storage.start_job_item(missing).await.unwrap(),
        ItemStart::Missing
    );
    assert_eq!(
        storage
            .finish_job_item(missing, &outcome(ItemState::Succeeded))
            .await
            .unwrap(),
        None
    );
    let error = storage
        .finish_job_item(list[0].id, &outcome(ItemState::Running))
        .await
        .unwrap_err();
    assert!(
        matches!(error, StorageError::CheckViolation { .. }),
        "{error:?}"
    );
}

pub async fn job_final_states(storage: Arc<dyn Storage>) {
    use ItemState::{Cancelled, Failed, Skipped, Succeeded};
    let cases = [
        (vec![Succeeded, Succeeded], JobState::Succeeded),
        (vec![Failed, Failed], JobState::Failed),
        (vec![Succeeded, Failed], JobState::PartiallyFailed),
        (vec![Failed, Succeeded, Skipped], JobState::PartiallyFailed),
        (vec![Succeeded, Skipped], JobState::Succeeded),
        (vec![Skipped, Failed], JobState::Failed),
        (vec![Skipped, Skipped], JobState::Succeeded),
        (vec![Cancelled, Succeeded], JobState::Succeeded),
    ];
    for (states, expected) in cases {
        let created = storage
            .create_job(&new_job("pair.sync", None, plain_items(states.len())))
            .await
            .unwrap()
            .job;
        let list = items(&storage, created.id).await;
        let mut last = None;
        for (index, (item, state)) in list.iter().zip(&states).enumerate() {
            let finished = run(&storage, item.id, &outcome(*state)).await.unwrap();
            if index + 1 < states.len() {
                assert_eq!(finished.state, JobState::Running, "{states:?}");
                assert_eq!(finished.end_time, None);
            }
            last = Some(finished);
        }
        let last = last.unwrap();
        assert_eq!(last.state, expected, "{states:?}");
        assert!(last.end_time.is_some());
        let count = |wanted| states.iter().filter(|state| **state == wanted).count() as i64;
        assert_eq!(
            (
                last.done,
                last.succeeded,
                last.failed,
                last.skipped,
                last.cancelled
            ),
            (
                states.len() as i64,
                count(Succeeded),
                count(Failed),
                count(Skipped),
                count(Cancelled)
            )
        );
    }
}

pub async fn finish_is_idempotent_under_redelivery(storage: Arc<dyn Storage>) {
    let created = storage
        .create_job(&new_job("pair.sync", None, plain_items(2)))
        .await
        .unwrap()
        .job;
    let list = items(&storage, created.id).await;
    let after_first = run(&storage, list[0].id, &outcome(ItemState::Succeeded))
        .await
        .unwrap();
    let item = storage.get_job_item(list[0].id).await.unwrap().unwrap();
    // A second delivery with another outcome changes nothing.
    assert_eq!(
        storage
            .finish_job_item(list[0].id, &outcome(ItemState::Failed))
            .await
            .unwrap(),
        None
    );
    assert_eq!(job(&storage, created.id).await, after_first);
    assert_eq!(
        storage.get_job_item(list[0].id).await.unwrap().unwrap(),
        item
    );

    // Concurrent duplicate finishes of one item: exactly one counts.
    assert!(matches!(
        storage.start_job_item(list[1].id).await.unwrap(),
        ItemStart::Run { .. }
    ));
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let storage = storage.clone();
            let item_id = list[1].id;
            tokio::spawn(async move {
                storage
                    .finish_job_item(item_id, &outcome(ItemState::Succeeded))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut counted = 0;
    for task in tasks {
        if task.await.unwrap().is_some() {
            counted += 1;
        }
    }
    assert_eq!(counted, 1);
    let finished = job(&storage, created.id).await;
    assert_eq!((finished.done, finished.succeeded), (2, 2));
    assert_eq!(finished.state, JobState::Succeeded);
}

pub async fn cancel_job_cancels_queued_items(storage: Arc<dyn Storage>) {
    let created = storage
        .create_job(&new_job("pair.sync", None, plain_items(3)))
        .await
        .unwrap()
        .job;
    let list = items(&storage, created.id).await;
    assert_eq!(storage.outbox_len().await.unwrap(), 3);
    assert!(matches!(
        storage.start_job_item(list[0].id).await.unwrap(),
        ItemStart::Run { .. }
    ));

    let cancelled = storage.cancel_job(created.id).await.unwrap().unwrap();
    assert_eq!(cancelled.state, JobState::Cancelled);
    assert_eq!((cancelled.done, cancelled.cancelled), (2, 2));
    // An item is still running: the job has not ended yet.
    assert_eq!(cancelled.end_time, None);
    let now_items = items(&storage, created.id).await;
    assert_eq!(now_items[0].state, ItemState::Running);
    for item in &now_items[1..] {
        assert_eq!(item.state, ItemState::Cancelled);
        assert!(item.end_time.is_some());
    }
    // Messages of cancelled items are gone; the running item's stays.
    let messages = claim_all(&storage).await;
    assert_eq!(
        messages
            .iter()
            .map(|message| message.item_id)
            .collect::<Vec<_>>(),
        [Some(list[0].id)]
    );
    assert_eq!(
        storage.start_job_item(list[1].id).await.unwrap(),
        ItemStart::AlreadyFinished
    );
    // Cancelling again changes nothing.
    assert_eq!(
        storage.cancel_job(created.id).await.unwrap(),
        Some(cancelled.clone())
    );

    // The running item finishes: the job stays cancelled and ends.
    let ended = storage
        .finish_job_item(list[0].id, &outcome(ItemState::Succeeded))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ended.state, JobState::Cancelled);
    assert_eq!((ended.done, ended.succeeded, ended.cancelled), (3, 1, 2));
    assert!(ended.end_time.is_some());

    // A queued job without running items ends at once.
    let queued = storage
        .create_job(&new_job("pair.sync", None, plain_items(2)))
        .await
        .unwrap()
        .job;
    let cancelled = storage.cancel_job(queued.id).await.unwrap().unwrap();
    assert_eq!(cancelled.state, JobState::Cancelled);
    assert_eq!((cancelled.done, cancelled.cancelled), (2, 2));
    assert!(cancelled.end_time.is_some());
    assert_eq!(cancelled.start_time, None);

    // A finished job is returned unchanged.
    let finished = storage
        .create_job(&new_job("pair.sync", None, vec![]))
        .await
        .unwrap()
        .job;
    assert_eq!(
        storage.cancel_job(finished.id).await.unwrap(),
        Some(finished.clone())
    );
    assert_eq!(storage.cancel_job(finished.id + 1000).await.unwrap(), None);
}

pub async fn start_in_cancelled_job_cancels_the_item(storage: Arc<dyn Storage>) {
    let created = storage
        .create_job(&new_job("pair.sync", None, plain_items(2)))
        .await
        .unwrap()
        .job;
    let list = items(&storage, created.id).await;
    assert!(matches!(
        storage.start_job_item(list[0].id).await.unwrap(),
        ItemStart::Run { .. }
    ));
    storage
        .add_job_item_warning(list[0].id, "half done")
        .await
        .unwrap();
    storage.cancel_job(created.id).await.unwrap();
    // The worker died and the message comes back: the item is cancelled instead of run.
    assert_eq!(
        storage.start_job_item(list[0].id).await.unwrap(),
        ItemStart::Cancelled
    );
    let item = storage.get_job_item(list[0].id).await.unwrap().unwrap();
    assert_eq!(item.state, ItemState::Cancelled);
    assert!(item.end_time.is_some());
    let ended = job(&storage, created.id).await;
    assert_eq!(ended.state, JobState::Cancelled);
    assert_eq!(
        (ended.done, ended.cancelled, ended.warning_count),
        (2, 2, 1)
    );
    assert!(ended.end_time.is_some());
    assert_eq!(
        storage.start_job_item(list[0].id).await.unwrap(),
        ItemStart::AlreadyFinished
    );
}

pub async fn retry_failed_items_requeues_them(storage: Arc<dyn Storage>) {
    let created = storage
        .create_job(&new_job("pair.sync", None, plain_items(3)))
        .await
        .unwrap()
        .job;
    let list = items(&storage, created.id).await;
    let with_warnings = |state, warnings: &[&str]| ItemOutcome {
        warnings: warnings.iter().map(|w| (*w).to_owned()).collect(),
        ..outcome(state)
    };
    run(
        &storage,
        list[0].id,
        &with_warnings(ItemState::Succeeded, &["ok"]),
    )
    .await;
    run(
        &storage,
        list[1].id,
        &with_warnings(ItemState::Failed, &["a", "b"]),
    )
    .await;
    let failed = run(&storage, list[2].id, &with_warnings(ItemState::Failed, &[]))
        .await
        .unwrap();
    assert_eq!(failed.state, JobState::PartiallyFailed);
    assert_eq!(failed.warning_count, 3);
    let delivered: Vec<i64> = claim_all(&storage).await.iter().map(|m| m.id).collect();
    storage.delete_outbox(&delivered).await.unwrap();
    assert_eq!(storage.outbox_len().await.unwrap(), 0);

    let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let retried = storage
        .retry_failed_items(created.id, Some(traceparent))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(retried.state, JobState::Queued);
    assert_eq!(
        (
            retried.total,
            retried.done,
            retried.succeeded,
            retried.failed,
            retried.warning_count
        ),
        (3, 1, 1, 0, 1)
    );
    assert_eq!(retried.end_time, None);
    assert_eq!(retried.start_time, failed.start_time);
    let now_items = items(&storage, created.id).await;
    assert_eq!(now_items[0].state, ItemState::Succeeded);
    for item in &now_items[1..] {
        assert_eq!(item.state, ItemState::Queued);
        assert_eq!(item.error, None);
        assert!(item.warnings.is_empty());
        assert_eq!(item.result, Value::Null);
        assert_eq!(item.end_time, None);
        assert_eq!(item.duration_ms, None);
        assert_eq!(item.attempts, 1);
    }
    let messages = claim_all(&storage).await;
    assert_eq!(
        messages.iter().map(|m| m.item_id).collect::<Vec<_>>(),
        [Some(list[1].id), Some(list[2].id)]
    );
    for message in &messages {
        assert_eq!(message.traceparent.as_deref(), Some(traceparent));
        assert_eq!(message.claims, 0);
        assert_eq!(message.job_id, Some(created.id));
    }
    assert_eq!(messages[0].payload, list[1].payload);
    // Nothing failed any more: nothing to retry.
    assert_eq!(
        storage
            .retry_failed_items(created.id, None)
            .await
            .unwrap()
            .unwrap(),
        retried
    );
    assert_eq!(storage.outbox_len().await.unwrap(), 2);

    run(&storage, list[1].id, &outcome(ItemState::Succeeded)).await;
    let succeeded = run(&storage, list[2].id, &outcome(ItemState::Succeeded))
        .await
        .unwrap();
    assert_eq!(succeeded.state, JobState::Succeeded);
    assert_eq!((succeeded.done, succeeded.succeeded), (3, 3));
    assert!(succeeded.end_time.is_some());
    assert_eq!(
        storage
            .get_job_item(list[1].id)
            .await
            .unwrap()
            .unwrap()
            .attempts,
        2
    );
    assert_eq!(
        storage
            .retry_failed_items(created.id + 1000, None)
            .await
            .unwrap(),
        None
    );
}

pub async fn concurrent_finishes_count_exactly(storage: Arc<dyn Storage>) {
    const ITEMS: usize = 50;
    let created = storage
        .create_job(&new_job("pair.sync", None, plain_items(ITEMS)))
        .await
        .unwrap()
        .job;
    let list = items(&storage, created.id).await;
    let state_of = |index: usize| match index {
        i if i % 5 == 0 => ItemState::Failed,
        i if i % 7 == 0 => ItemState::Skipped,
        _ => ItemState::Succeeded,
    };
    // Every item is delivered twice, and all deliveries run at once.
    let tasks: Vec<_> = list
        .iter()
        .enumerate()
        .flat_map(|(index, item)| [(index, item.id), (index, item.id)])
        .map(|(index, item_id)| {
            let storage = storage.clone();
            let outcome = outcome(state_of(index));
            tokio::spawn(async move { run(&storage, item_id, &outcome).await })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    let counted: Vec<Job> = results.into_iter().flatten().collect();
    assert_eq!(counted.len(), ITEMS);
    // Exactly one finish saw the last item done.
    assert_eq!(
        counted
            .iter()
            .filter(|job| job.done == job.total && job.state.is_finished())
            .count(),
        1
    );
    let count = |wanted| (0..ITEMS).filter(|i| state_of(*i) == wanted).count() as i64;
    let finished = job(&storage, created.id).await;
    assert_eq!(
        (
            finished.total,
            finished.done,
            finished.succeeded,
            finished.failed,
            finished.skipped
        ),
        (
            ITEMS as i64,
            ITEMS as i64,
            count(ItemState::Succeeded),
            count(ItemState::Failed),
            count(ItemState::Skipped)
        )
    );
    assert_eq!(finished.state, JobState::PartiallyFailed);
    assert!(finished.end_time.is_some());
    for item in items(&storage, created.id).await {
        assert!(item.state.is_finished());
    }
}

pub async fn cancel_job_settles_mirrors_it_was_creating(storage: Arc<dyn Storage>) {
    let pair = setup_pair(&storage).await;
    let created = storage
        .create_job(&new_job(
            "pair.import",
            Some(pair.id),
            vec![
                create_item(pair.id, "g/untouched", "m/untouched"),
                create_item(pair.id, "g/half-made", "m/half-made"),
                create_item(pair.id, "g/running", "m/running"),
            ],
        ))
        .await
        .unwrap();
    let [untouched, half_made, running] = created.new_mirror_ids[..] else {
        panic!("three mirrors expected: {:?}", created.new_mirror_ids);
    };
    let list = items(&storage, created.job.id).await;
    // An earlier attempt recorded a GitLab token before failing its rollback.
    assert!(
        storage
            .record_mirror_provisioning(
                half_made,
                &MirrorProvisioning {
                    gitlab_token_id: Some(77),
                    ..MirrorProvisioning::default()
                },
            )
            .await
            .unwrap()
    );
    assert!(matches!(
        storage.start_job_item(list[2].id).await.unwrap(),
        ItemStart::Run { .. }
    ));

    storage.cancel_job(created.job.id).await.unwrap().unwrap();

    // Nothing exists on GitLab for the untouched one: its row is gone.
    assert_eq!(storage.get_mirror(untouched).await.unwrap(), None);
    // The half-made one stays visible for a cleanup that removes its token.
    let half = storage.get_mirror(half_made).await.unwrap().unwrap();
    assert_eq!(half.lifecycle, MirrorLifecycle::CreateFailed);
    assert_eq!(half.last_error.as_deref(), Some("creation cancelled"));
    assert_eq!(half.gitlab_token_id, Some(77));
    // The running item's mirror is its handler's to finish.
    let still = storage.get_mirror(running).await.unwrap().unwrap();
    assert_eq!(still.lifecycle, MirrorLifecycle::Creating);
}

pub async fn single_mirror_creation_job_is_about_that_mirror(storage: Arc<dyn Storage>) {
    let pair = setup_pair(&storage).await;
    let one = storage
        .create_job(&new_job(
            "mirror.create",
            Some(pair.id),
            vec![create_item(pair.id, "g/one", "m/one")],
        ))
        .await
        .unwrap();
    assert_eq!(one.job.mirror_id, Some(one.new_mirror_ids[0]));
    let filter = JobFilter {
        mirror_id: Some(one.new_mirror_ids[0]),
        ..JobFilter::default()
    };
    let listed = storage.list_jobs(&filter, ALL_JOBS).await.unwrap();
    assert_eq!(job_ids(&listed.items), [one.job.id]);

    let two = storage
        .create_job(&new_job(
            "pair.import",
            Some(pair.id),
            vec![
                create_item(pair.id, "g/two-a", "m/two-a"),
                create_item(pair.id, "g/two-b", "m/two-b"),
            ],
        ))
        .await
        .unwrap();
    assert_eq!(two.job.mirror_id, None);
}
