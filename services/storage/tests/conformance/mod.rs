//! The storage conformance suite: every test takes an `Arc<dyn Storage>` on a fresh, migrated
//! database and is instantiated once per backend by `conformance_tests!`.

#![allow(dead_code)]

use std::sync::Arc;

use mm_storage::{
    Instance, InstanceFilter, ItemMirror, ItemState, ListParams, MirrorDirection, NewInstance,
    NewJob, NewJobItem, NewMirror, NewPair, NewUser, Page, Pair, Sort, SortField, Storage,
    StorageError,
};
use serde_json::json;

/// Declares one `#[tokio::test]` per suite function for `$backend`.
macro_rules! conformance_tests {
    ($backend:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(database) = mm_storage::testing::TestDatabase::create($backend).await else {
                    return;
                };
                let storage = database.storage().await.expect("connect and migrate");
                conformance::$name(storage.clone()).await;
                storage.close().await;
            }
        )*
    };
}

/// Every suite function, for the per-backend test files.
macro_rules! all_conformance_tests {
    ($backend:expr) => {
        conformance::conformance_tests!(
            $backend;
            users_round_trip_and_unique_username,
            migrations_are_idempotent,
            instance_round_trip_seals_token_with_its_id,
            instance_names_are_unique_on_create_and_update,
            instance_updates_merge_and_clear_stale_verification,
            instance_list_filters_orders_and_pages,
            instance_url_is_locked_while_pairs_use_it,
            instance_delete_refuses_or_cascades,
            pair_round_trip_and_counts,
            pair_constraints_are_enforced,
            pair_fields_locked_once_mirrors_exist,
            pair_list_filters_orders_and_pages,
            reverse_pair_lookup,
            pair_delete_removes_its_mirrors,
            mirror_projects_are_unique_per_pair,
            concurrent_creates_of_one_name_yield_one_row,
            mirror_round_trip_and_lookups,
            mirror_paths_are_unique_per_pair,
            mirror_updates_provisioning_and_status,
            mirror_list_filters_combine_with_paging,
            mirror_list_sorts_both_directions_with_tie_break,
            mirror_token_status_boundaries,
            mirror_group_tree_counts_every_ancestor,
            mirrors_due_for_status_check_oldest_first,
            create_job_writes_items_mirrors_and_outbox,
            create_job_without_queued_items_is_finished,
            create_job_is_atomic,
            job_items_start_finish_and_count,
            job_final_states,
            finish_is_idempotent_under_redelivery,
            cancel_job_cancels_queued_items,
            cancel_job_settles_mirrors_it_was_creating,
            single_mirror_creation_job_is_about_that_mirror,
            start_in_cancelled_job_cancels_the_item,
            retry_failed_items_requeues_them,
            list_jobs_filters_and_pages,
            concurrent_finishes_count_exactly,
            outbox_claim_release_and_delete,
            concurrent_claimers_never_share_a_message,
            leases_are_exclusive_and_taken_over_after_expiry,
            release_outbox_claims_frees_every_claim,
            read_model_status_groups_count_by_pair_status_and_freshness,
            read_model_graph_lists_instances_and_pairs,
            read_model_recent_activity_newest_first_without_excluded_kind,
            read_model_refresh_rounds_and_lease,
            read_model_quick_stats_windows,
            read_model_link_mirrors_order_filters_and_pages,
            read_model_search_escapes_wildcards_and_limits,
            read_model_search_finds_the_same_by_every_path,
        );
    };
}

pub(crate) use all_conformance_tests;
pub(crate) use conformance_tests;

mod instances;
mod job_items;
mod jobs;
mod mirror_lists;
mod mirrors;
mod outbox;
mod pairs;
mod read_models;

pub use instances::*;
pub use job_items::*;
pub use jobs::*;
pub use mirror_lists::*;
pub use mirrors::*;
pub use outbox::*;
pub use pairs::*;
pub use read_models::*;

pub(crate) fn sealer(id: i64) -> Result<String, String> {
    Ok(format!("v1:test:{id}"))
}

pub(crate) fn new_instance(name: &str) -> NewInstance {
    NewInstance {
        name: name.to_owned(),
        url: format!("https://{}.example.com", name.to_lowercase()),
        description: format!("{name} description"),
    }
}

pub(crate) async fn create_instance(storage: &Arc<dyn Storage>, name: &str) -> Instance {
    storage
        .create_instance(&new_instance(name), &sealer)
        .await
        .expect("create instance")
}

pub(crate) fn new_pair(name: &str, source: i64, target: i64) -> NewPair {
    NewPair {
        name: name.to_owned(),
        source_instance_id: source,
        target_instance_id: target,
        mirror_direction: MirrorDirection::Push,
        mirror_overwrite_diverged: false,
        mirror_trigger_builds: false,
        only_mirror_protected_branches: false,
        mirror_branch_regex: None,
        description: String::new(),
    }
}

pub(crate) async fn create_pair(
    storage: &Arc<dyn Storage>,
    name: &str,
    source: i64,
    target: i64,
) -> Pair {
    storage
        .create_pair(&new_pair(name, source, target))
        .await
        .expect("create pair")
}

/// Inserts `group/project-<project>` → `mirror/project-<project>` with GitLab ids `project`
/// and `project + 10^12`; returns the mirror id.
pub(crate) async fn add_mirror(storage: &Arc<dyn Storage>, pair_id: i64, project: i64) -> i64 {
    let mut mirror = NewMirror::new(
        pair_id,
        format!("group/project-{project}"),
        format!("mirror/project-{project}"),
    );
    mirror.source_project_id = Some(project);
    mirror.target_project_id = Some(project + 1_000_000_000_000);
    storage
        .insert_mirror(&mirror)
        .await
        .expect("insert mirror")
        .id
}

/// Two instances and a pair between them.
pub(crate) async fn setup_pair(storage: &Arc<dyn Storage>) -> Pair {
    let a = create_instance(storage, "A").await;
    let b = create_instance(storage, "B").await;
    create_pair(storage, "a-to-b", a.id, b.id).await
}

/// A queued item creating the mirror `source` → `target` of `pair_id`.
pub(crate) fn create_item(pair_id: i64, source: &str, target: &str) -> NewJobItem {
    NewJobItem {
        mirror: ItemMirror::New(NewMirror::new(pair_id, source, target)),
        label: format!("{source} → {target}"),
        task_kind: "mirror.create".to_owned(),
        payload: json!({"source": source}),
        state: ItemState::Queued,
        error: None,
    }
}

/// A queued item without a mirror.
pub(crate) fn plain_item(label: &str) -> NewJobItem {
    NewJobItem {
        mirror: ItemMirror::None,
        label: label.to_owned(),
        task_kind: "test.task".to_owned(),
        payload: json!({"label": label}),
        state: ItemState::Queued,
        error: None,
    }
}

/// A job of `kind` on `pair_id` with `items`.
pub(crate) fn new_job(kind: &str, pair_id: Option<i64>, items: Vec<NewJobItem>) -> NewJob {
    NewJob {
        kind: kind.to_owned(),
        pair_id,
        mirror_id: None,
        instance_id: None,
        requested_by: "admin".to_owned(),
        params: json!({"kind": kind}),
        items,
        traceparent: Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned()),
        mark_deleting: Vec::new(),
    }
}

pub(crate) fn params(field: SortField, descending: bool, limit: u32) -> ListParams {
    ListParams {
        sort: Sort { field, descending },
        after: None,
        limit,
    }
}

/// Follows `next` cursors until the last page; returns the pages.
pub(crate) async fn all_instance_pages(
    storage: &Arc<dyn Storage>,
    filter: &InstanceFilter,
    mut list: ListParams,
) -> Vec<Page<Instance>> {
    let mut pages = Vec::new();
    loop {
        let page = storage.list_instances(filter, &list).await.expect("list");
        let next = page.next.clone();
        pages.push(page);
        match next {
            Some(cursor) => list.after = Some(cursor),
            None => return pages,
        }
    }
}

pub(crate) fn names<T>(items: &[T], name: impl Fn(&T) -> &str) -> Vec<String> {
    items.iter().map(|item| name(item).to_owned()).collect()
}

pub async fn users_round_trip_and_unique_username(storage: Arc<dyn Storage>) {
    assert_eq!(storage.count_users().await.unwrap(), 0);
    let user = storage
        .create_user(&NewUser {
            username: "admin".into(),
            email: Some("admin@example.com".into()),
            password_hash: "$argon2id$fake".into(),
            is_admin: true,
            is_active: true,
        })
        .await
        .unwrap();
    assert!(user.id > 0);
    assert!(user.is_admin && user.is_active);
    assert_eq!(storage.count_users().await.unwrap(), 1);
    assert_eq!(storage.get_user(user.id).await.unwrap(), Some(user.clone()));
    assert_eq!(
        storage.get_user_by_username("admin").await.unwrap(),
        Some(user.clone())
    );
    // Usernames are case-sensitive and exact.
    assert_eq!(storage.get_user_by_username("ADMIN").await.unwrap(), None);
    assert_eq!(storage.get_user(user.id + 100).await.unwrap(), None);

    let duplicate = storage
        .create_user(&NewUser {
            username: "admin".into(),
            email: None,
            password_hash: "x".into(),
            is_admin: false,
            is_active: true,
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            duplicate,
            StorageError::AlreadyExists {
                entity: "user",
                field: "username"
            }
        ),
        "{duplicate:?}"
    );

    assert!(storage.set_user_active(user.id, false).await.unwrap());
    assert!(!storage.get_user(user.id).await.unwrap().unwrap().is_active);
    assert!(!storage.set_user_active(user.id + 100, false).await.unwrap());
}

pub async fn migrations_are_idempotent(storage: Arc<dyn Storage>) {
    storage
        .migrate()
        .await
        .expect("second migration run is a no-op");
    storage.ping().await.unwrap();
}

pub async fn concurrent_creates_of_one_name_yield_one_row(storage: Arc<dyn Storage>) {
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let storage = storage.clone();
            tokio::spawn(async move {
                storage
                    .create_instance(&new_instance("Race"), &sealer)
                    .await
            })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => created += 1,
            Err(StorageError::AlreadyExists { field: "name", .. }) => {}
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!(created, 1);
    let page = storage
        .list_instances(&InstanceFilter::default(), &ListParams::default())
        .await
        .unwrap();
    assert_eq!(page.total, 1);
}
