//! The scheduler records a status refresh round only as the lease holder, only when mirrors
//! are due, and never while the previous round is still running.

use std::{sync::Arc, time::Duration};

use mm_storage::{
    ItemOutcome, ItemStart, ItemState, JobFilter, MirrorDirection, MirrorLifecycle,
    MirrorProvisioning, NewInstance, NewMirror, NewPair, Storage, Window,
    testing::{TestBackend, TestDatabase},
};
use mm_worker::scheduler::{self, SchedulerOptions};

async fn storage_with_ready_mirrors(database: &TestDatabase, count: usize) -> Arc<dyn Storage> {
    let storage = database.storage().await.unwrap();
    let sealer = |id: i64| Ok(format!("v1:test:{id}"));
    let mut ids = Vec::new();
    for name in ["a", "b"] {
        let instance = storage
            .create_instance(
                &NewInstance {
                    name: name.into(),
                    url: format!("https://{name}.example.com"),
                    description: String::new(),
                },
                &sealer,
            )
            .await
            .unwrap();
        ids.push(instance.id);
    }
    let pair = storage
        .create_pair(&NewPair {
            name: "p".into(),
            source_instance_id: ids[0],
            target_instance_id: ids[1],
            mirror_direction: MirrorDirection::Push,
            mirror_overwrite_diverged: false,
            mirror_trigger_builds: false,
            only_mirror_protected_branches: false,
            mirror_branch_regex: None,
            description: String::new(),
        })
        .await
        .unwrap();
    for i in 0..count {
        let mirror = storage
            .insert_mirror(&NewMirror::new(
                pair.id,
                format!("g/s{i}"),
                format!("g/t{i}"),
            ))
            .await
            .unwrap();
        storage
            .record_mirror_provisioning(
                mirror.id,
                &MirrorProvisioning {
                    lifecycle: Some(MirrorLifecycle::Ready),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
    storage
}

fn options() -> SchedulerOptions {
    SchedulerOptions::new(Duration::from_secs(300))
}

#[tokio::test]
async fn rounds_are_recorded_only_when_due_and_never_overlap() {
    let database = TestDatabase::create(TestBackend::Sqlite).await.unwrap();
    let storage = storage_with_ready_mirrors(&database, 0).await;
    // Nothing to check: no empty job.
    assert_eq!(scheduler::tick(&*storage, &options()).await.unwrap(), None);

    let database = TestDatabase::create(TestBackend::Sqlite).await.unwrap();
    let storage = storage_with_ready_mirrors(&database, 3).await;
    let first = scheduler::tick(&*storage, &options())
        .await
        .unwrap()
        .expect("never-checked mirrors are due at once");
    let job = storage.get_job(first).await.unwrap().unwrap();
    assert_eq!(job.kind, scheduler::JOB_KIND);
    assert_eq!(job.total, 3);
    assert_eq!(job.requested_by, "scheduler");
    assert_eq!(storage.outbox_len().await.unwrap(), 3);

    // The previous round is still running: no second one.
    assert_eq!(scheduler::tick(&*storage, &options()).await.unwrap(), None);

    // Finish it: still not due before the interval has passed.
    let items = storage
        .list_job_items(
            first,
            None,
            Window {
                offset: 0,
                limit: 10,
            },
        )
        .await
        .unwrap();
    for item in items.items {
        assert!(matches!(
            storage.start_job_item(item.id).await.unwrap(),
            ItemStart::Run { .. }
        ));
        storage
            .finish_job_item(
                item.id,
                &ItemOutcome {
                    state: ItemState::Succeeded,
                    error: None,
                    warnings: vec![],
                    result: serde_json::json!({}),
                    duration_ms: 1,
                },
            )
            .await
            .unwrap();
    }
    assert_eq!(scheduler::tick(&*storage, &options()).await.unwrap(), None);

    // A zero-length interval makes the next round due (the mirrors were never checked).
    let mut eager = options();
    eager.status_interval = Duration::from_millis(1);
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert!(scheduler::tick(&*storage, &eager).await.unwrap().is_some());
    let rounds = storage
        .list_jobs(
            &JobFilter {
                kind: Some(scheduler::JOB_KIND.into()),
                ..Default::default()
            },
            Window {
                offset: 0,
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(rounds.total, 2);
}

#[tokio::test]
async fn only_one_replica_holds_the_scheduler_lease() {
    let database = TestDatabase::create(TestBackend::Sqlite).await.unwrap();
    let storage = storage_with_ready_mirrors(&database, 0).await;
    let ttl = Duration::from_secs(30);
    assert!(
        storage
            .try_acquire_lease(scheduler::LEASE, "replica-1", ttl)
            .await
            .unwrap()
    );
    assert!(
        !storage
            .try_acquire_lease(scheduler::LEASE, "replica-2", ttl)
            .await
            .unwrap()
    );
    assert!(
        storage
            .try_acquire_lease(scheduler::LEASE, "replica-1", ttl)
            .await
            .unwrap()
    );
    storage
        .release_lease(scheduler::LEASE, "replica-1")
        .await
        .unwrap();
    assert!(
        storage
            .try_acquire_lease(scheduler::LEASE, "replica-2", ttl)
            .await
            .unwrap()
    );
}
