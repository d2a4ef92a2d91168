//! Job conformance tests: creation in one transaction (items, new mirrors, outbox messages)
//! and job lists. Items running and finishing are in `job_items`, the outbox and leases in
//! `outbox`.

use std::{sync::Arc, time::Duration as StdDuration};

use chrono::{SubsecRound, Utc};
use mm_storage::{
    ItemOutcome, ItemStart, ItemState, Job, JobFilter, JobItem, JobState, MirrorLifecycle,
    NewJobItem, NewMirror, OutboxMessage, Storage, StorageError, Window,
};
use serde_json::{Value, json};

use super::{create_item, create_pair, new_job, plain_item, setup_pair};

const ALL: Window = Window {
    offset: 0,
    limit: 1000,
};
pub(crate) const LEASE: StdDuration = StdDuration::from_secs(60);

pub(crate) fn outcome(state: ItemState) -> ItemOutcome {
    ItemOutcome {
        state,
        error: (state == ItemState::Failed).then(|| "it failed".to_owned()),
        warnings: Vec::new(),
        result: json!({"state": state.as_str()}),
        duration_ms: 12,
    }
}

pub(crate) fn plain_items(count: usize) -> Vec<NewJobItem> {
    (0..count)
        .map(|i| plain_item(&format!("item-{i}")))
        .collect()
}

pub(crate) async fn items(storage: &Arc<dyn Storage>, job_id: i64) -> Vec<JobItem> {
    storage
        .list_job_items(job_id, None, ALL)
        .await
        .unwrap()
        .items
}

pub(crate) async fn job(storage: &Arc<dyn Storage>, id: i64) -> Job {
    storage.get_job(id).await.unwrap().expect("job exists")
}

/// Starts and finishes an item the way a worker does; returns what `finish_job_item` did.
pub(crate) async fn run(
    storage: &Arc<dyn Storage>,
    item_id: i64,
    outcome: &ItemOutcome,
) -> Option<Job> {
    match storage.start_job_item(item_id).await.unwrap() {
        ItemStart::Run { .. } => storage.finish_job_item(item_id, outcome).await.unwrap(),
        ItemStart::AlreadyFinished => None,
        other => panic!("unexpected start of item {item_id}: {other:?}"),
    }
}

pub(crate) async fn claim_all(storage: &Arc<dyn Storage>) -> Vec<OutboxMessage> {
    storage.claim_outbox(1000, LEASE).await.unwrap()
}

pub(crate) fn job_ids(jobs: &[Job]) -> Vec<i64> {
    jobs.iter().map(|job| job.id).collect()
}

pub async fn create_job_writes_items_mirrors_and_outbox(storage: Arc<dyn Storage>) {
    let pair = setup_pair(&storage).await;
    let existing = storage
        .insert_mirror(&NewMirror::new(pair.id, "g/existing", "m/existing"))
        .await
        .unwrap();
    let doomed = storage
        .insert_mirror(&NewMirror::new(pair.id, "g/doomed", "m/doomed"))
        .await
        .unwrap();
    let mut request = new_job(
        "pair.import",
        Some(pair.id),
        vec![
            create_item(pair.id, "g/new-1", "m/new-1"),
            NewJobItem::for_mirror(existing.id, "g/existing → m/existing", "mirror.sync"),
            plain_item("plain"),
            NewJobItem {
                state: ItemState::Skipped,
                error: Some("duplicate".into()),
                ..plain_item("duplicate")
            },
            create_item(pair.id, "g/new-2", "m/new-2"),
        ],
    );
    request.params = json!({
        "source_group": "g",
        "nested": {"list": [1, 2.5, "x", null, true], "empty": {}},
    });
    request.instance_id = Some(pair.source_instance_id);
    request.mark_deleting = vec![doomed.id];
    let before = Utc::now().trunc_subsecs(6);
    let created = storage.create_job(&request).await.unwrap();

    let created_job = &created.job;
    assert!(created_job.id > 0);
    assert_eq!(created_job.kind, "pair.import");
    assert_eq!(created_job.state, JobState::Queued);
    assert_eq!(created_job.pair_id, Some(pair.id));
    assert_eq!(created_job.mirror_id, None);
    assert_eq!(created_job.instance_id, Some(pair.source_instance_id));
    assert_eq!(created_job.requested_by, "admin");
    assert_eq!(created_job.params, request.params);
    assert_eq!(
        (
            created_job.total,
            created_job.done,
            created_job.skipped,
            created_job.succeeded,
            created_job.failed,
            created_job.cancelled,
            created_job.warning_count
        ),
        (5, 1, 1, 0, 0, 0, 0)
    );
    assert!(created_job.create_time >= before);
    assert_eq!(created_job.update_time, created_job.create_time);
    assert_eq!(created_job.start_time, None);
    assert_eq!(created_job.end_time, None);
    assert_eq!(job(&storage, created_job.id).await, *created_job);

    // New mirrors in item order, lifecycle creating; the marked mirror is being deleted.
    let [new_1, new_2] = created.new_mirror_ids[..] else {
        panic!("two new mirrors: {:?}", created.new_mirror_ids);
    };
    let mirror = storage.get_mirror(new_1).await.unwrap().unwrap();
    assert_eq!(
        (mirror.source_project_path.as_str(), mirror.lifecycle),
        ("g/new-1", MirrorLifecycle::Creating)
    );
    assert_eq!(mirror.create_time, created_job.create_time);
    let mirror = storage
        .find_mirror_by_paths(pair.id, "g/new-2", "m/new-2")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(mirror.id, new_2);
    let doomed = storage.get_mirror(doomed.id).await.unwrap().unwrap();
    assert_eq!(doomed.lifecycle, MirrorLifecycle::Deleting);
    assert_eq!(
        storage
            .get_mirror(existing.id)
            .await
            .unwrap()
            .unwrap()
            .lifecycle,
        MirrorLifecycle::Creating
    );

    // Items in order; payloads carry the mirror id.
    let listed = storage
        .list_job_items(created_job.id, None, ALL)
        .await
        .unwrap();
    assert_eq!(listed.total, 5);
    let items = listed.items;
    let expected = [
        (
            Some(new_1),
            json!({"source": "g/new-1", "mirror_id": new_1}),
            ItemState::Queued,
        ),
        (
            Some(existing.id),
            json!({"mirror_id": existing.id}),
            ItemState::Queued,
        ),
        (None, json!({"label": "plain"}), ItemState::Queued),
        (None, json!({"label": "duplicate"}), ItemState::Skipped),
        (
            Some(new_2),
            json!({"source": "g/new-2", "mirror_id": new_2}),
            ItemState::Queued,
        ),
    ];
    for (item, (mirror_id, payload, state)) in items.iter().zip(expected) {
        assert_eq!(item.job_id, created_job.id);
        assert_eq!(item.mirror_id, mirror_id, "{item:?}");
        assert_eq!(item.payload, payload, "{item:?}");
        assert_eq!(item.state, state, "{item:?}");
        assert_eq!(item.attempts, 0);
        assert!(item.warnings.is_empty());
        assert_eq!(item.result, Value::Null);
        assert_eq!(item.start_time, None);
        assert_eq!(item.duration_ms, None);
        assert_eq!(
            storage.get_job_item(item.id).await.unwrap().as_ref(),
            Some(item)
        );
    }
    assert!(items.windows(2).all(|pair| pair[0].id < pair[1].id));
    assert_eq!(items[0].label, "g/new-1 → m/new-1");
    assert_eq!(items[0].task_kind, "mirror.create");
    assert_eq!(items[1].task_kind, "mirror.sync");
    assert_eq!(items[0].error, None);
    assert_eq!(items[3].error.as_deref(), Some("duplicate"));
    assert_eq!(items[0].end_time, None);
    assert_eq!(items[3].end_time, Some(created_job.create_time));

    // One outbox message per queued item, oldest first.
    assert_eq!(storage.outbox_len().await.unwrap(), 4);
    let messages = claim_all(&storage).await;
    let queued: Vec<&JobItem> = items
        .iter()
        .filter(|item| item.state == ItemState::Queued)
        .collect();
    assert_eq!(messages.len(), 4);
    for (message, item) in messages.iter().zip(queued) {
        assert_eq!(message.job_id, Some(created_job.id));
        assert_eq!(message.item_id, Some(item.id));
        assert_eq!(message.task_kind, item.task_kind);
        assert_eq!(message.payload, item.payload);
        assert_eq!(message.traceparent, request.traceparent);
        assert_eq!(message.claims, 0);
    }
    assert!(messages.windows(2).all(|pair| pair[0].id < pair[1].id));
    assert_eq!(
        storage.get_job_item(items[4].id + 1000).await.unwrap(),
        None
    );
    assert_eq!(storage.get_job(created_job.id + 1000).await.unwrap(), None);
}

pub async fn create_job_without_queued_items_is_finished(storage: Arc<dyn Storage>) {
    let finished = |state| NewJobItem {
        state,
        ..plain_item("done")
    };
    let cases = [
        (vec![], JobState::Succeeded),
        (
            vec![finished(ItemState::Skipped), finished(ItemState::Skipped)],
            JobState::Succeeded,
        ),
        (
            vec![finished(ItemState::Failed), finished(ItemState::Skipped)],
            JobState::Failed,
        ),
        (
            vec![finished(ItemState::Failed), finished(ItemState::Succeeded)],
            JobState::PartiallyFailed,
        ),
    ];
    for (items, state) in cases {
        let count = items.len() as i64;
        let created = storage
            .create_job(&new_job("pair.import", None, items))
            .await
            .unwrap()
            .job;
        assert_eq!(created.state, state, "{created:?}");
        assert_eq!((created.total, created.done), (count, count));
        assert_eq!(created.end_time, Some(created.create_time));
    }
    assert_eq!(storage.outbox_len().await.unwrap(), 0);
}

pub async fn create_job_is_atomic(storage: Arc<dyn Storage>) {
    let pair = setup_pair(&storage).await;
    let taken = storage
        .insert_mirror(&NewMirror::new(pair.id, "g/taken", "m/taken"))
        .await
        .unwrap();
    let doomed = storage
        .insert_mirror(&NewMirror::new(pair.id, "g/doomed", "m/doomed"))
        .await
        .unwrap();
    let mut duplicate_of_existing = new_job(
        "pair.import",
        Some(pair.id),
        vec![
            create_item(pair.id, "g/fresh", "m/fresh"),
            plain_item("plain"),
            create_item(pair.id, "g/taken", "m/taken"),
        ],
    );
    duplicate_of_existing.mark_deleting = vec![doomed.id];
    let duplicate_in_job = new_job(
        "pair.import",
        Some(pair.id),
        vec![
            create_item(pair.id, "g/twice", "m/twice"),
            create_item(pair.id, "g/twice", "m/twice"),
        ],
    );
    for request in [&duplicate_of_existing, &duplicate_in_job] {
        let error = storage.create_job(request).await.unwrap_err();
        assert!(
            matches!(
                error,
                StorageError::AlreadyExists {
                    entity: "mirror",
                    field: "source_project_path"
                }
            ),
            "{error:?}"
        );
    }
    let dangling = new_job(
        "pair.import",
        Some(pair.id),
        vec![
            plain_item("plain"),
            create_item(pair.id + 1000, "g/x", "m/x"),
        ],
    );
    let error = storage.create_job(&dangling).await.unwrap_err();
    assert!(matches!(error, StorageError::MissingReference), "{error:?}");

    // Nothing was written: no job, no item, no message, no mirror, no lifecycle change.
    let jobs = storage.list_jobs(&JobFilter::default(), ALL).await.unwrap();
    assert_eq!((jobs.items.len(), jobs.total), (0, 0));
    assert_eq!(storage.outbox_len().await.unwrap(), 0);
    let mirrors = storage.pair_mirrors(pair.id).await.unwrap();
    assert_eq!(
        mirrors.iter().map(|m| m.id).collect::<Vec<_>>(),
        [taken.id, doomed.id]
    );
    assert_eq!(mirrors[1].lifecycle, MirrorLifecycle::Creating);
    assert_eq!(mirrors[1].update_time, doomed.update_time);

    // The same request without the duplicate goes through.
    duplicate_of_existing.items.pop();
    let created = storage.create_job(&duplicate_of_existing).await.unwrap();
    assert_eq!(created.job.total, 2);
    assert_eq!(created.new_mirror_ids.len(), 1);
    assert_eq!(storage.outbox_len().await.unwrap(), 2);
    let item_ids: Vec<i64> = items(&storage, created.job.id)
        .await
        .iter()
        .map(|item| item.id)
        .collect();
    assert_eq!(item_ids.len(), 2);
}

pub async fn list_jobs_filters_and_pages(storage: Arc<dyn Storage>) {
    let pair = setup_pair(&storage).await;
    let other = create_pair(
        &storage,
        "a-to-b-2",
        pair.source_instance_id,
        pair.target_instance_id,
    )
    .await;
    let mirror = storage
        .insert_mirror(&NewMirror::new(pair.id, "g/p", "m/p"))
        .await
        .unwrap();
    let sync_a = storage
        .create_job(&new_job("pair.sync", Some(pair.id), plain_items(2)))
        .await
        .unwrap()
        .job;
    let mut create_request = new_job("mirror.create", Some(pair.id), plain_items(1));
    create_request.mirror_id = Some(mirror.id);
    let create = storage.create_job(&create_request).await.unwrap().job;
    let sync_b = storage
        .create_job(&new_job("pair.sync", Some(other.id), vec![]))
        .await
        .unwrap()
        .job;
    let delete = storage
        .create_job(&new_job("pair.delete", None, plain_items(1)))
        .await
        .unwrap()
        .job;
    storage.cancel_job(delete.id).await.unwrap();

    let cases = [
        (
            JobFilter::default(),
            vec![delete.id, sync_b.id, create.id, sync_a.id],
        ),
        (
            JobFilter {
                kind: Some("pair.sync".into()),
                ..Default::default()
            },
            vec![sync_b.id, sync_a.id],
        ),
        (
            JobFilter {
                state: Some(JobState::Succeeded),
                ..Default::default()
            },
            vec![sync_b.id],
        ),
        (
            JobFilter {
                state: Some(JobState::Cancelled),
                ..Default::default()
            },
            vec![delete.id],
        ),
        (
            JobFilter {
                state: Some(JobState::Queued),
                ..Default::default()
            },
            vec![create.id, sync_a.id],
        ),
        (
            JobFilter {
                pair_id: Some(pair.id),
                ..Default::default()
            },
            vec![create.id, sync_a.id],
        ),
        (
            JobFilter {
                mirror_id: Some(mirror.id),
                ..Default::default()
            },
            vec![create.id],
        ),
        (
            JobFilter {
                kind: Some("pair.sync".into()),
                pair_id: Some(pair.id),
                ..Default::default()
            },
            vec![sync_a.id],
        ),
        (
            JobFilter {
                kind: Some("nothing".into()),
                ..Default::default()
            },
            vec![],
        ),
    ];
    for (filter, expected) in cases {
        let page = storage.list_jobs(&filter, ALL).await.unwrap();
        assert_eq!(job_ids(&page.items), expected, "{filter:?}");
        assert_eq!(page.total, expected.len() as i64, "{filter:?}");
    }
    let page = storage
        .list_jobs(
            &JobFilter::default(),
            Window {
                offset: 1,
                limit: 2,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (job_ids(&page.items), page.total),
        (vec![sync_b.id, create.id], 4)
    );
    let page = storage
        .list_jobs(
            &JobFilter::default(),
            Window {
                offset: 10,
                limit: 2,
            },
        )
        .await
        .unwrap();
    assert_eq!((page.items.len(), page.total), (0, 4));

    // Items of a job, optionally in one state.
    let sync_items = items(&storage, sync_a.id).await;
    run(&storage, sync_items[0].id, &outcome(ItemState::Succeeded)).await;
    let item_ids = |page: mm_storage::OffsetPage<JobItem>| {
        (
            page.items.iter().map(|item| item.id).collect::<Vec<_>>(),
            page.total,
        )
    };
    assert_eq!(
        item_ids(
            storage
                .list_job_items(sync_a.id, Some(ItemState::Succeeded), ALL)
                .await
                .unwrap()
        ),
        (vec![sync_items[0].id], 1)
    );
    assert_eq!(
        item_ids(
            storage
                .list_job_items(sync_a.id, Some(ItemState::Queued), ALL)
                .await
                .unwrap()
        ),
        (vec![sync_items[1].id], 1)
    );
    assert_eq!(
        item_ids(
            storage
                .list_job_items(
                    sync_a.id,
                    None,
                    Window {
                        offset: 1,
                        limit: 1
                    }
                )
                .await
                .unwrap()
        ),
        (vec![sync_items[1].id], 2)
    );
    assert_eq!(
        item_ids(
            storage
                .list_job_items(sync_a.id + 1000, None, ALL)
                .await
                .unwrap()
        ),
        (vec![], 0)
    );
}
