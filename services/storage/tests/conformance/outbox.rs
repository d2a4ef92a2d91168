//! Outbox and lease conformance tests: claims with leases, release and delete, concurrent
//! claimers, lease takeover.

use std::{collections::HashSet, sync::Arc, time::Duration as StdDuration};

use chrono::{Duration, Utc};
use mm_storage::Storage;

use super::{
    jobs::{LEASE, items, plain_items},
    new_job,
};

pub async fn outbox_claim_release_and_delete(storage: Arc<dyn Storage>) {
    let created = storage
        .create_job(&new_job("pair.sync", None, plain_items(5)))
        .await
        .unwrap()
        .job;
    let list = items(&storage, created.id).await;
    assert_eq!(storage.claim_outbox(0, LEASE).await.unwrap(), vec![]);
    let first = storage.claim_outbox(2, LEASE).await.unwrap();
    assert_eq!(
        first.iter().map(|m| m.item_id).collect::<Vec<_>>(),
        [Some(list[0].id), Some(list[1].id)]
    );
    let rest = storage.claim_outbox(10, LEASE).await.unwrap();
    assert_eq!(rest.len(), 3);
    assert!(first[1].id < rest[0].id);
    // Everything is claimed.
    assert!(storage.claim_outbox(10, LEASE).await.unwrap().is_empty());

    // Released now: claimable again, with the claim counted.
    let now = Utc::now();
    storage.release_outbox(first[0].id, now).await.unwrap();
    let again = storage.claim_outbox(10, LEASE).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].id, again[0].claims), (first[0].id, 1));
    assert_eq!(again[0].payload, first[0].payload);
    // Released for later: not yet.
    storage
        .release_outbox(first[1].id, now + Duration::hours(1))
        .await
        .unwrap();
    assert!(storage.claim_outbox(10, LEASE).await.unwrap().is_empty());

    storage
        .delete_outbox(&[first[0].id, rest[0].id, rest[2].id + 1000])
        .await
        .unwrap();
    storage.delete_outbox(&[]).await.unwrap();
    assert_eq!(storage.outbox_len().await.unwrap(), 3);
    storage.release_outbox(first[0].id, now).await.unwrap();

    // An expired claim is claimable again.
    let short = storage
        .create_job(&new_job("pair.sync", None, plain_items(2)))
        .await
        .unwrap()
        .job;
    let claimed = storage
        .claim_outbox(10, StdDuration::from_millis(100))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    assert!(claimed.iter().all(|m| m.job_id == Some(short.id)));
    assert!(storage.claim_outbox(10, LEASE).await.unwrap().is_empty());
    tokio::time::sleep(StdDuration::from_millis(250)).await;
    let reclaimed = storage.claim_outbox(10, LEASE).await.unwrap();
    assert_eq!(
        reclaimed
            .iter()
            .map(|m| (m.id, m.claims))
            .collect::<Vec<_>>(),
        claimed.iter().map(|m| (m.id, 1)).collect::<Vec<_>>()
    );
    storage
        .delete_outbox(&reclaimed.iter().map(|m| m.id).collect::<Vec<_>>())
        .await
        .unwrap();
    assert_eq!(storage.outbox_len().await.unwrap(), 3);
}

pub async fn concurrent_claimers_never_share_a_message(storage: Arc<dyn Storage>) {
    const MESSAGES: usize = 120;
    storage
        .create_job(&new_job("pair.sync", None, plain_items(MESSAGES)))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let storage = storage.clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                loop {
                    let batch = storage.claim_outbox(7, LEASE).await.unwrap();
                    if batch.is_empty() {
                        return ids;
                    }
                    assert!(batch.len() <= 7);
                    ids.extend(batch.iter().map(|message| message.id));
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    let distinct: HashSet<i64> = all.iter().copied().collect();
    assert_eq!(all.len(), MESSAGES, "a message was claimed twice");
    assert_eq!(distinct.len(), MESSAGES);
}

pub async fn leases_are_exclusive_and_taken_over_after_expiry(storage: Arc<dyn Storage>) {
    assert!(
        storage
            .try_acquire_lease("scheduler", "a", LEASE)
            .await
            .unwrap()
    );
    assert!(
        !storage
            .try_acquire_lease("scheduler", "b", LEASE)
            .await
            .unwrap()
    );
    // Renewing one's own lease works.
    assert!(
        storage
            .try_acquire_lease("scheduler", "a", LEASE)
            .await
            .unwrap()
    );
    // Only the holder releases.
    storage.release_lease("scheduler", "b").await.unwrap();
    assert!(
        !storage
            .try_acquire_lease("scheduler", "b", LEASE)
            .await
            .unwrap()
    );
    storage.release_lease("scheduler", "a").await.unwrap();
    assert!(
        storage
            .try_acquire_lease("scheduler", "b", LEASE)
            .await
            .unwrap()
    );
    assert!(
        !storage
            .try_acquire_lease("scheduler", "a", LEASE)
            .await
            .unwrap()
    );
    // Names are independent.
    assert!(
        storage
            .try_acquire_lease("relay", "a", LEASE)
            .await
            .unwrap()
    );

    // An expired lease is taken over.
    let short = StdDuration::from_millis(100);
    assert!(
        storage
            .try_acquire_lease("short", "a", short)
            .await
            .unwrap()
    );
    assert!(
        !storage
            .try_acquire_lease("short", "b", LEASE)
            .await
            .unwrap()
    );
    tokio::time::sleep(StdDuration::from_millis(250)).await;
    assert!(
        storage
            .try_acquire_lease("short", "b", LEASE)
            .await
            .unwrap()
    );
    assert!(
        !storage
            .try_acquire_lease("short", "a", short)
            .await
            .unwrap()
    );

    // Racing holders: exactly one wins.
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let storage = storage.clone();
            tokio::spawn(async move {
                storage
                    .try_acquire_lease("race", &format!("holder-{i}"), LEASE)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        if task.await.unwrap() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
}

pub async fn release_outbox_claims_frees_every_claim(storage: Arc<dyn Storage>) {
    storage
        .create_job(&new_job("pair.sync", None, plain_items(3)))
        .await
        .unwrap();
    let claimed = storage.claim_outbox(2, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 2);
    // A message released for later stays unavailable until then.
    storage
        .release_outbox(claimed[1].id, Utc::now() + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(storage.release_outbox_claims().await.unwrap(), 1);
    assert_eq!(storage.release_outbox_claims().await.unwrap(), 0);
    let again = storage.claim_outbox(10, LEASE).await.unwrap();
    assert_eq!(again.len(), 2);
    assert_eq!((again[0].id, again[0].claims), (claimed[0].id, 1));
    assert!(again[1].id > claimed[1].id);
    assert_eq!(again[1].claims, 0);
    assert_eq!(storage.outbox_len().await.unwrap(), 3);
}
