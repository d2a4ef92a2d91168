//! Read models: status groups, the instance/pair graph, recent activity, refresh rounds,
//! quick stats, link mirrors and the global search.

use std::{sync::Arc, time::Duration as StdDuration};

use chrono::{DateTime, Duration, SubsecRound, Utc};
use mm_storage::{
    HealthLevel, LinkMirrorQuery, MirrorDirection, MirrorLifecycle, MirrorProvisioning,
    MirrorStatusUpdate, NewMirror, QuickStatsQuery, StalenessRules, Storage,
};

use super::{add_mirror, create_instance, create_pair, new_job, plain_item, setup_pair};

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

async fn set_lifecycle(storage: &Arc<dyn Storage>, id: i64, lifecycle: MirrorLifecycle) {
    assert!(
        storage
            .record_mirror_provisioning(
                id,
                &MirrorProvisioning {
                    lifecycle: Some(lifecycle),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
    );
}

/// A ready mirror with a status read at `checked`, last success `success` and last attempt
/// `attempt`.
async fn ready_with_status(
    storage: &Arc<dyn Storage>,
    pair_id: i64,
    project: i64,
    status: &str,
    success: Option<DateTime<Utc>>,
    attempt: Option<DateTime<Utc>>,
    checked: DateTime<Utc>,
) -> i64 {
    let id = add_mirror(storage, pair_id, project).await;
    set_lifecycle(storage, id, MirrorLifecycle::Ready).await;
    assert!(
        storage
            .record_mirror_status(
                id,
                &MirrorStatusUpdate {
                    last_update_status: Some(status.to_owned()),
                    last_successful_update_time: success,
                    last_update_time: attempt,
                    last_error: None,
                    enabled: None,
                    checked_at: checked,
                },
            )
            .await
            .unwrap()
    );
    id
}

pub async fn read_model_status_groups_count_by_pair_status_and_freshness(
    storage: Arc<dyn Storage>,
) {
    let pair = setup_pair(&storage).await;
    let other = create_pair(
        &storage,
        "b-to-a",
        pair.target_instance_id,
        pair.source_instance_id,
    )
    .await;
    let t = now();
    let old = t - Duration::hours(3);
    let newest = t - Duration::minutes(1);
    ready_with_status(
        &storage,
        pair.id,
        1,
        "finished",
        Some(t - Duration::minutes(5)),
        None,
        t,
    )
    .await;
    ready_with_status(&storage, pair.id, 2, "finished", Some(newest), None, old).await;
    let failing = ready_with_status(&storage, pair.id, 3, "failed", None, Some(t), t).await;
    let disabled = ready_with_status(&storage, other.id, 4, "finished", Some(old), None, old).await;
    storage
        .update_mirror(
            disabled,
            &mm_storage::MirrorChanges {
                enabled: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    add_mirror(&storage, other.id, 5).await; // creating, never checked
    let ready_unchecked = add_mirror(&storage, other.id, 6).await;
    set_lifecycle(&storage, ready_unchecked, MirrorLifecycle::Ready).await;

    let sorted = |mut groups: Vec<mm_storage::MirrorStatusGroup>| {
        groups.sort_by_key(|g| {
            (
                g.pair_id,
                g.lifecycle.as_str(),
                g.last_update_status.clone(),
                g.enabled,
            )
        });
        groups
    };
    let groups = sorted(storage.mirror_status_groups(None).await.unwrap());
    // (pair, lifecycle, status, enabled, count, never succeeded)
    type Row<'a> = (i64, &'a str, Option<&'a str>, bool, i64, i64);
    let summary: Vec<Row> = groups
        .iter()
        .map(|g| {
            (
                g.pair_id,
                g.lifecycle.as_str(),
                g.last_update_status.as_deref(),
                g.enabled,
                g.mirror_count,
                g.never_succeeded_count,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (pair.id, "ready", Some("failed"), true, 1, 1),
            (pair.id, "ready", Some("finished"), true, 2, 0),
            (other.id, "creating", None, true, 1, 1),
            (other.id, "ready", None, true, 1, 1),
            (other.id, "ready", Some("finished"), false, 1, 0),
        ]
    );
    let only = storage.mirror_status_groups(Some(other.id)).await.unwrap();
    assert_eq!(only.iter().map(|g| g.mirror_count).sum::<i64>(), 3);

    // The counts follow status changes, deletes and a pair's cascade.
    ready_with_status_update(&storage, failing, "finished", Some(t)).await;
    let groups = sorted(storage.mirror_status_groups(Some(pair.id)).await.unwrap());
    assert_eq!(groups.len(), 1);
    assert_eq!(
        (groups[0].mirror_count, groups[0].never_succeeded_count),
        (3, 0)
    );
    assert!(storage.delete_mirror(failing).await.unwrap());
    assert_eq!(
        storage.mirror_status_groups(Some(pair.id)).await.unwrap()[0].mirror_count,
        2
    );
    storage.delete_pair(other.id).await.unwrap();
    assert!(
        storage
            .mirror_status_groups(Some(other.id))
            .await
            .unwrap()
            .is_empty()
    );

    let successes = storage.pair_last_successes().await.unwrap();
    assert_eq!(successes.len(), 1);
    assert_eq!(
        (successes[0].pair_id, successes[0].last_success),
        (pair.id, Some(newest))
    );

    // Freshness of the ready mirrors: one read 3 hours ago, one now.
    let fresh = storage
        .mirror_freshness(t - Duration::hours(1))
        .await
        .unwrap();
    assert_eq!((fresh.stale_count, fresh.never_checked_count), (1, 0));
    assert_eq!(
        (fresh.oldest_check, fresh.newest_check),
        (Some(old), Some(t))
    );
    let unchecked = add_mirror(&storage, pair.id, 7).await;
    set_lifecycle(&storage, unchecked, MirrorLifecycle::Ready).await;
    let fresh = storage
        .mirror_freshness(t - Duration::hours(1))
        .await
        .unwrap();
    assert_eq!((fresh.stale_count, fresh.never_checked_count), (2, 1));
}

/// Records a new status of an existing mirror, read now.
async fn ready_with_status_update(
    storage: &Arc<dyn Storage>,
    id: i64,
    status: &str,
    success: Option<DateTime<Utc>>,
) {
    assert!(
        storage
            .record_mirror_status(
                id,
                &MirrorStatusUpdate {
                    last_update_status: Some(status.to_owned()),
                    last_successful_update_time: success,
                    last_update_time: None,
                    last_error: None,
                    enabled: None,
                    checked_at: now(),
                },
            )
            .await
            .unwrap()
    );
}

pub async fn read_model_graph_lists_instances_and_pairs(storage: Arc<dyn Storage>) {
    assert!(
        storage
            .read_model_graph()
            .await
            .unwrap()
            .instances
            .is_empty()
    );
    let pair = setup_pair(&storage).await;
    let c = create_instance(&storage, "C").await;
    let graph = storage.read_model_graph().await.unwrap();
    let names: Vec<&str> = graph.instances.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["A", "B", "C"]);
    assert_eq!(graph.instances[2].id, c.id);
    assert_eq!(graph.instances[0].url, "https://a.example.com");
    assert_eq!(graph.pairs.len(), 1);
    assert_eq!(graph.pairs[0].id, pair.id);
    assert_eq!(graph.pairs[0].mirror_direction, MirrorDirection::Push);
    assert_eq!(
        (
            graph.pairs[0].source_instance_id,
            graph.pairs[0].target_instance_id
        ),
        (pair.source_instance_id, pair.target_instance_id)
    );
}

pub async fn read_model_recent_activity_newest_first_without_excluded_kind(
    storage: Arc<dyn Storage>,
) {
    let pair = setup_pair(&storage).await;
    let mirror = add_mirror(&storage, pair.id, 1).await;
    let mut sync = new_job("mirror.sync", Some(pair.id), vec![plain_item("one")]);
    sync.mirror_id = Some(mirror);
    let first = storage.create_job(&sync).await.unwrap().job.id;
    let scheduled = new_job("scheduled.refresh_status", None, vec![plain_item("two")]);
    storage.create_job(&scheduled).await.unwrap();
    let pair_job = storage
        .create_job(&new_job(
            "pair.sync",
            Some(pair.id),
            vec![plain_item("three")],
        ))
        .await
        .unwrap()
        .job
        .id;
    let orphan = storage
        .create_job(&new_job("instance.verify", None, vec![]))
        .await
        .unwrap()
        .job
        .id;

    let since = now() - Duration::hours(24);
    let activity = storage
        .recent_activity(since, "scheduled.refresh_status", 10)
        .await
        .unwrap();
    let ids: Vec<i64> = activity.iter().map(|a| a.job_id).collect();
    assert_eq!(ids, [orphan, pair_job, first]);
    assert_eq!(activity[2].subject.as_deref(), Some("group/project-1"));
    assert_eq!(activity[2].mirror_id, Some(mirror));
    assert_eq!(activity[1].subject.as_deref(), Some("a-to-b"));
    assert_eq!(activity[0].subject, None);
    assert!(
        activity[0].state.is_finished(),
        "a job without items is finished"
    );
    let limited = storage
        .recent_activity(since, "scheduled.refresh_status", 1)
        .await
        .unwrap();
    assert_eq!(limited.len(), 1);
    let later = storage
        .recent_activity(now() + Duration::seconds(5), "none", 10)
        .await
        .unwrap();
    assert!(later.is_empty());
}

pub async fn read_model_refresh_rounds_and_lease(storage: Arc<dyn Storage>) {
    const KIND: &str = "scheduled.refresh_status";
    let rounds = storage
        .status_refresh_rounds(KIND, "scheduler")
        .await
        .unwrap();
    assert_eq!(rounds, Default::default());

    // A finished round (no items), then a running one.
    let done = storage
        .create_job(&new_job(KIND, None, vec![]))
        .await
        .unwrap()
        .job
        .id;
    let rounds = storage
        .status_refresh_rounds(KIND, "scheduler")
        .await
        .unwrap();
    assert_eq!(rounds.latest.as_ref().map(|r| r.job_id), Some(done));
    assert_eq!(
        rounds.latest_finished.as_ref().map(|r| r.job_id),
        Some(done)
    );
    let running = storage
        .create_job(&new_job(KIND, None, vec![plain_item("m")]))
        .await
        .unwrap()
        .job
        .id;
    storage
        .create_job(&new_job("mirror.sync", None, vec![plain_item("x")]))
        .await
        .unwrap();
    assert!(
        storage
            .try_acquire_lease("scheduler", "replica-1", StdDuration::from_secs(60))
            .await
            .unwrap()
    );
    let rounds = storage
        .status_refresh_rounds(KIND, "scheduler")
        .await
        .unwrap();
    let latest = rounds.latest.unwrap();
    assert_eq!((latest.job_id, latest.total), (running, 1));
    assert!(!latest.state.is_finished());
    assert_eq!(rounds.latest_finished.map(|r| r.job_id), Some(done));
    assert!(rounds.lease_expires_at.unwrap() > now());
}

pub async fn read_model_quick_stats_windows(storage: Arc<dyn Storage>) {
    let pair = setup_pair(&storage).await;
    let t = now();
    let syncing = ready_with_status(&storage, pair.id, 1, "started", None, None, t).await;
    let scheduled = ready_with_status(&storage, pair.id, 2, "scheduled", None, None, t).await;
    // Read long ago: says nothing about now.
    ready_with_status(
        &storage,
        pair.id,
        3,
        "started",
        None,
        None,
        t - Duration::hours(2),
    )
    .await;
    ready_with_status(
        &storage,
        pair.id,
        4,
        "failed",
        None,
        Some(t - Duration::minutes(10)),
        t,
    )
    .await;
    ready_with_status(
        &storage,
        pair.id,
        5,
        "failed",
        None,
        Some(t - Duration::hours(3)),
        t,
    )
    .await;
    ready_with_status(&storage, pair.id, 6, "finished", Some(t), Some(t), t).await;
    // Not ready: not counted.
    let deleting = ready_with_status(&storage, pair.id, 7, "started", None, None, t).await;
    set_lifecycle(&storage, deleting, MirrorLifecycle::Deleting).await;

    let query = QuickStatsQuery {
        syncing_checked_since: t - Duration::minutes(15),
        failed_since: t - Duration::hours(1),
        id_limit: 100,
    };
    let stats = storage.mirror_quick_stats(&query).await.unwrap();
    assert_eq!(stats.syncing_count, 2);
    assert_eq!(stats.syncing_mirror_ids, [syncing, scheduled]);
    assert_eq!(stats.recent_failures, 1);
    let limited = storage
        .mirror_quick_stats(&QuickStatsQuery {
            id_limit: 1,
            ..query
        })
        .await
        .unwrap();
    assert_eq!(
        (limited.syncing_count, limited.syncing_mirror_ids.len()),
        (2, 1)
    );
}

pub async fn read_model_link_mirrors_order_filters_and_pages(storage: Arc<dyn Storage>) {
    let pair = setup_pair(&storage).await;
    let second = create_pair(
        &storage,
        "a-to-b-2",
        pair.source_instance_id,
        pair.target_instance_id,
    )
    .await;
    let reverse = create_pair(
        &storage,
        "b-to-a",
        pair.target_instance_id,
        pair.source_instance_id,
    )
    .await;
    let t = now();
    let fresh_ok = ready_with_status(
        &storage,
        pair.id,
        1,
        "finished",
        Some(t - Duration::minutes(1)),
        None,
        t,
    )
    .await;
    let stale_warn = ready_with_status(
        &storage,
        pair.id,
        2,
        "finished",
        Some(t - Duration::hours(30)),
        None,
        t,
    )
    .await;
    let older_warn = ready_with_status(
        &storage,
        second.id,
        3,
        "finished",
        Some(t - Duration::hours(40)),
        None,
        t,
    )
    .await;
    let never = ready_with_status(&storage, pair.id, 4, "none", None, None, t).await;
    let failed = ready_with_status(
        &storage,
        second.id,
        5,
        "failed",
        Some(t - Duration::minutes(2)),
        None,
        t,
    )
    .await;
    let very_old = ready_with_status(
        &storage,
        pair.id,
        6,
        "finished",
        Some(t - Duration::days(9)),
        None,
        t,
    )
    .await;
    ready_with_status(&storage, reverse.id, 7, "failed", None, None, t).await;
    add_mirror(&storage, pair.id, 8).await; // creating: not part of the link
    storage
        .update_mirror(
            stale_warn,
            &mm_storage::MirrorChanges {
                enabled: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();

    let query = LinkMirrorQuery {
        source_instance_id: pair.source_instance_id,
        target_instance_id: pair.target_instance_id,
        direction: MirrorDirection::Push,
        pair_id: None,
        include_disabled: true,
        rules: StalenessRules::default(),
        now: t,
        limit: 100,
        offset: 0,
    };
    let page = storage.link_mirrors(&query).await.unwrap();
    assert_eq!(page.total, 6);
    let ids: Vec<i64> = page.mirrors.iter().map(|m| m.id).collect();
    // Errors (oldest success first: 9 days, then 2 minutes), warnings (40 h, 30 h, then the
    // never-succeeded one last), ok.
    assert_eq!(
        ids,
        [very_old, failed, older_warn, stale_warn, never, fresh_ok]
    );
    let first = &page.mirrors[0];
    assert_eq!(
        (first.health, first.staleness),
        (HealthLevel::Error, HealthLevel::Error)
    );
    assert_eq!(first.staleness_age_seconds, Some(9 * 86_400));
    assert_eq!(first.pair_name, "a-to-b");
    let never_row = &page.mirrors[4];
    assert_eq!(
        (never_row.staleness, never_row.staleness_age_seconds),
        (HealthLevel::Warning, None)
    );
    assert_eq!(page.mirrors[5].health, HealthLevel::Ok);
    assert_eq!(page.mirrors[1].staleness, HealthLevel::Ok);

    // The never-succeeded level, switched-off thresholds, filters and paging.
    let strict = LinkMirrorQuery {
        rules: StalenessRules {
            warning_seconds: 0,
            error_seconds: 0,
            never_succeeded: HealthLevel::Error,
        },
        ..query.clone()
    };
    let page = storage.link_mirrors(&strict).await.unwrap();
    let ids: Vec<i64> = page.mirrors.iter().map(|m| m.id).collect();
    assert_eq!(
        ids,
        [failed, never, very_old, older_warn, stale_warn, fresh_ok]
    );
    let enabled_only = storage
        .link_mirrors(&LinkMirrorQuery {
            include_disabled: false,
            pair_id: Some(pair.id),
            ..query.clone()
        })
        .await
        .unwrap();
    assert_eq!(enabled_only.total, 3);
    assert!(
        enabled_only
            .mirrors
            .iter()
            .all(|m| m.enabled && m.pair_id == pair.id)
    );
    let second_page = storage
        .link_mirrors(&LinkMirrorQuery {
            limit: 2,
            offset: 2,
            ..query.clone()
        })
        .await
        .unwrap();
    let ids: Vec<i64> = second_page.mirrors.iter().map(|m| m.id).collect();
    assert_eq!((second_page.total, ids), (6, vec![older_warn, stale_warn]));
    let pull = storage
        .link_mirrors(&LinkMirrorQuery {
            direction: MirrorDirection::Pull,
            ..query
        })
        .await
        .unwrap();
    assert_eq!(pull.total, 0);
}

pub async fn read_model_search_escapes_wildcards_and_limits(storage: Arc<dyn Storage>) {
    let pair = setup_pair(&storage).await;
    create_instance(&storage, "Platform_Main").await;
    for (source, target) in [
        ("Platform/API", "mirror/api"),
        ("platform/web", "mirror/web"),
        ("tools/100%_done", "mirror/platform-tools"),
        ("other/x", "other/y"),
    ] {
        storage
            .insert_mirror(&NewMirror::new(pair.id, source, target))
            .await
            .unwrap();
    }
    let hits = storage.search_everything("PLATFORM", 10).await.unwrap();
    let titles: Vec<&str> = hits
        .mirrors
        .iter()
        .map(|m| m.source_project_path.as_str())
        .collect();
    assert_eq!(titles, ["Platform/API", "platform/web", "tools/100%_done"]);
    assert_eq!(hits.instances.len(), 1);
    assert_eq!(hits.instances[0].name, "Platform_Main");
    assert!(!hits.more_mirrors);
    assert_eq!(hits.mirrors[0].lifecycle, MirrorLifecycle::Creating);

    // LIKE wildcards in the text are literal.
    let percent = storage.search_everything("0%_", 10).await.unwrap();
    assert_eq!(percent.mirrors.len(), 1);
    assert!(
        storage
            .search_everything("m__n", 10)
            .await
            .unwrap()
            .instances
            .is_empty()
    );
    let pairs = storage.search_everything("A-TO", 10).await.unwrap();
    assert_eq!(pairs.pairs.len(), 1);
    assert_eq!(pairs.pairs[0].mirror_direction, MirrorDirection::Push);

    let limited = storage.search_everything("mirror/", 2).await.unwrap();
    assert_eq!(limited.mirrors.len(), 2);
    assert!(limited.more_mirrors);
    assert!(
        storage
            .search_everything("nothing-like-this", 10)
            .await
            .unwrap()
            .mirrors
            .is_empty()
    );
}

/// Texts shorter than a trigram, texts with few matches and texts with thousands of matches
/// take different paths on SQLite (scan, trigram index, ordered index walk); all answer alike,
/// and the index follows deletions.
pub async fn read_model_search_finds_the_same_by_every_path(storage: Arc<dyn Storage>) {
    let pair = setup_pair(&storage).await;
    let mut ids = Vec::new();
    for i in 0..2_010 {
        let mirror = storage
            .insert_mirror(&NewMirror::new(
                pair.id,
                format!("bulk/Project-{i:04}"),
                format!("copy/project-{i:04}"),
            ))
            .await
            .unwrap();
        ids.push(mirror.id);
    }
    let paths = |hits: &mm_storage::SearchHits| -> Vec<String> {
        hits.mirrors
            .iter()
            .map(|m| m.source_project_path.clone())
            .collect()
    };

    // Thousands of matches: the first in path order, and more to come.
    let many = storage.search_everything("PROJECT-", 3).await.unwrap();
    assert_eq!(
        paths(&many),
        [
            "bulk/Project-0000",
            "bulk/Project-0001",
            "bulk/Project-0002"
        ]
    );
    assert!(many.more_mirrors);

    // A few matches, in either path, ignoring case.
    let few = storage.search_everything("project-200", 10).await.unwrap();
    assert_eq!(
        paths(&few),
        (2000..2010)
            .map(|i| format!("bulk/Project-{i:04}"))
            .collect::<Vec<_>>()
    );
    assert!(!few.more_mirrors);
    let target_only = storage
        .search_everything("copy/project-0042", 10)
        .await
        .unwrap();
    assert_eq!(paths(&target_only), ["bulk/Project-0042"]);

    // Shorter than a trigram.
    let short = storage.search_everything("k/", 2).await.unwrap();
    assert_eq!(paths(&short), ["bulk/Project-0000", "bulk/Project-0001"]);
    assert!(short.more_mirrors);

    // Quotes and FTS operators are plain text.
    assert!(
        storage
            .search_everything("\"0042\" OR *", 10)
            .await
            .unwrap()
            .mirrors
            .is_empty()
    );

    // A deleted mirror is no longer found.
    assert!(storage.delete_mirror(ids[42]).await.unwrap());
    assert!(
        storage
            .search_everything("Project-0042", 10)
            .await
            .unwrap()
            .mirrors
            .is_empty()
    );
}
