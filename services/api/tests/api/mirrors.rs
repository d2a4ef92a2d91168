//! MirrorService: creating, changing and acting on single mirrors, and pair-wide batches.
//! The instances point at addresses nothing listens on: the API records jobs and never calls
//! GitLab itself.

use mm_proto::v1;
use mm_storage::{ItemState, MirrorLifecycle, MirrorProvisioning, NewMirror, Window};
use tonic::Code;

use crate::helpers::{TestApp, api_tests, assert_field, mask};

api_tests!(
    create_mirror_records_it_and_queues_its_job,
    create_mirror_names_every_bad_field,
    update_mirror_follows_the_mask_and_the_lifecycle,
    single_mirror_jobs_follow_the_lifecycle_rules,
    pair_batches_skip_what_they_cannot_touch,
);

pub(crate) async fn insert(app: &TestApp, pair_id: i64, source: &str, target: &str) -> i64 {
    app.storage()
        .insert_mirror(&NewMirror::new(pair_id, source, target))
        .await
        .unwrap()
        .id
}

pub(crate) async fn set_lifecycle(app: &TestApp, id: i64, lifecycle: MirrorLifecycle) {
    assert!(
        app.storage()
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

fn create_request(pair_id: i64, source: &str, target: &str) -> v1::CreateMirrorRequest {
    v1::CreateMirrorRequest {
        pair_id,
        source_project_path: source.to_owned(),
        target_project_path: target.to_owned(),
        overrides: None,
        enabled: None,
    }
}

async fn create_mirror_records_it_and_queues_its_job(app: TestApp) {
    let pair = app.pair("p").await;
    let outbox_before = app.storage().outbox_len().await.unwrap();
    let mut client = app.mirrors();
    let response = client
        .create_mirror(v1::CreateMirrorRequest {
            overrides: Some(v1::MirrorOverrides {
                mirror_overwrite_diverged: Some(true),
                mirror_branch_regex: Some("^main$".into()),
                ..Default::default()
            }),
            ..create_request(pair.id, " platform/backend/api ", "mirror/api")
        })
        .await
        .unwrap()
        .into_inner();
    let mirror = response.mirror.unwrap();
    let job = response.job.unwrap();
    assert_eq!(mirror.pair_id, pair.id);
    assert_eq!(mirror.source_project_path, "platform/backend/api");
    assert_eq!(mirror.lifecycle, v1::MirrorLifecycle::Creating as i32);
    assert!(mirror.enabled, "enabled defaults to true");
    assert_eq!(mirror.token_status, v1::TokenStatus::None as i32);
    assert_eq!(mirror.last_update_status, "");
    let effective = mirror.effective_settings.clone().unwrap();
    assert!(effective.mirror_overwrite_diverged);
    assert!(!effective.only_mirror_protected_branches);
    assert_eq!(effective.mirror_branch_regex.as_deref(), Some("^main$"));

    assert_eq!(job.kind, "mirror.create");
    assert_eq!(job.state, v1::JobState::Queued as i32);
    assert_eq!(job.pair_id, Some(pair.id));
    assert_eq!(
        job.mirror_id,
        Some(mirror.id),
        "the mirror's jobs include its creation"
    );
    assert_eq!(job.total, 1);
    assert_eq!(job.requested_by, "admin");
    let items = app
        .storage()
        .list_job_items(
            job.id,
            None,
            Window {
                offset: 0,
                limit: 10,
            },
        )
        .await
        .unwrap()
        .items;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].task_kind, "mirror.create");
    assert_eq!(items[0].mirror_id, Some(mirror.id));
    assert_eq!(items[0].label, "platform/backend/api -> mirror/api");
    assert_eq!(items[0].payload["mirror_id"], mirror.id);
    assert_eq!(
        app.storage().outbox_len().await.unwrap(),
        outbox_before + 1,
        "one outbox message for the queued item"
    );

    let fetched = client
        .get_mirror(v1::GetMirrorRequest { id: mirror.id })
        .await
        .unwrap()
        .into_inner()
        .mirror
        .unwrap();
    assert_eq!(fetched, mirror);

    // Same paths in the same pair: AlreadyExists naming the source path.
    let status = client
        .create_mirror(create_request(
            pair.id,
            "platform/backend/api",
            "mirror/api",
        ))
        .await
        .unwrap_err();
    assert_field(&status, Code::AlreadyExists, "source_project_path");
    // Another target is another mirror. The caller's trace context travels with the work.
    const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let mut request = tonic::Request::new(create_request(
        pair.id,
        "platform/backend/api",
        "mirror/api-2",
    ));
    request
        .metadata_mut()
        .insert("traceparent", TRACEPARENT.parse().unwrap());
    let traced = client
        .create_mirror(request)
        .await
        .unwrap()
        .into_inner()
        .job
        .unwrap();
    let messages = app
        .storage()
        .claim_outbox(100, std::time::Duration::from_secs(60))
        .await
        .unwrap();
    let message = messages
        .iter()
        .find(|message| message.job_id == Some(traced.id))
        .expect("the job's outbox message");
    assert_eq!(message.traceparent.as_deref(), Some(TRACEPARENT));
    assert_eq!(message.task_kind, "mirror.create");

    let status = client
        .create_mirror(create_request(pair.id + 100, "a/b", "c/d"))
        .await
        .unwrap_err();
    assert_field(&status, Code::NotFound, "pair_id");
    let status = client
        .get_mirror(v1::GetMirrorRequest { id: 9999 })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let status = client
        .get_mirror(v1::GetMirrorRequest { id: 0 })
        .await
        .unwrap_err();
    assert_field(&status, Code::InvalidArgument, "id");
}

async fn create_mirror_names_every_bad_field(app: TestApp) {
    let pair = app.pair("p").await;
    let mut client = app.mirrors();
    let cases = [
        ("", "a/b", "source_project_path"),
        ("project-without-group", "a/b", "source_project_path"),
        ("/group/project", "a/b", "source_project_path"),
        ("group/project/", "a/b", "source_project_path"),
        ("group/../etc", "a/b", "source_project_path"),
        ("group/pro ject", "a/b", "source_project_path"),
        ("a/b", "", "target_project_path"),
        ("a/b", "a//b", "target_project_path"),
        ("a/b", "a/b?c", "target_project_path"),
    ];
    for (source, target, field) in cases {
        let status = client
            .create_mirror(create_request(pair.id, source, target))
            .await
            .unwrap_err();
        assert_field(&status, Code::InvalidArgument, field);
    }
    let long = format!("g/{}", "x".repeat(499));
    let status = client
        .create_mirror(create_request(pair.id, &long, "a/b"))
        .await
        .unwrap_err();
    assert_field(&status, Code::InvalidArgument, "source_project_path");

    for regex in ["(unclosed", &"a".repeat(256)] {
        let status = client
            .create_mirror(v1::CreateMirrorRequest {
                overrides: Some(v1::MirrorOverrides {
                    mirror_branch_regex: Some(regex.to_owned()),
                    ..Default::default()
                }),
                ..create_request(pair.id, "a/b", "c/d")
            })
            .await
            .unwrap_err();
        assert_field(
            &status,
            Code::InvalidArgument,
            "overrides.mirror_branch_regex",
        );
    }
    // Every bad field at once, before the pair is looked up.
    let status = client
        .create_mirror(create_request(0, "", "x"))
        .await
        .unwrap_err();
    for field in ["pair_id", "source_project_path", "target_project_path"] {
        assert_field(&status, Code::InvalidArgument, field);
    }
    let mirrors = app.storage().count_mirrors(pair.id).await.unwrap();
    assert_eq!(mirrors, 0, "nothing was recorded");
}

async fn update_mirror_follows_the_mask_and_the_lifecycle(app: TestApp) {
    let pair = app.pair("p").await;
    let mut client = app.mirrors();
    let created = client
        .create_mirror(create_request(pair.id, "g/app", "m/app"))
        .await
        .unwrap()
        .into_inner()
        .mirror
        .unwrap();
    let update = |mirror: v1::Mirror, paths: &[&str]| v1::UpdateMirrorRequest {
        mirror: Some(mirror),
        update_mask: mask(paths),
    };
    let overrides = |overwrite: Option<bool>| v1::Mirror {
        id: created.id,
        overrides: Some(v1::MirrorOverrides {
            mirror_overwrite_diverged: overwrite,
            ..Default::default()
        }),
        ..Default::default()
    };

    for field in [
        "source_project_path",
        "mirror.target_project_path",
        "pair_id",
    ] {
        let status = client
            .update_mirror(update(overrides(Some(true)), &[field]))
            .await
            .unwrap_err();
        let named = format!("mirror.{}", field.trim_start_matches("mirror."));
        assert_field(&status, Code::InvalidArgument, &named);
        assert!(
            status.message().contains("cannot change"),
            "{}",
            status.message()
        );
    }
    let status = client
        .update_mirror(update(overrides(Some(true)), &["lifecycle"]))
        .await
        .unwrap_err();
    assert_field(&status, Code::InvalidArgument, "update_mask");
    let status = client
        .update_mirror(update(
            v1::Mirror {
                id: created.id,
                overrides: Some(v1::MirrorOverrides {
                    mirror_branch_regex: Some("(".into()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            &["overrides.mirror_branch_regex"],
        ))
        .await
        .unwrap_err();
    assert_field(
        &status,
        Code::InvalidArgument,
        "mirror.overrides.mirror_branch_regex",
    );

    // Still being created: no changes yet.
    let status = client
        .update_mirror(update(
            overrides(Some(true)),
            &["overrides.mirror_overwrite_diverged"],
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);

    set_lifecycle(&app, created.id, MirrorLifecycle::Ready).await;
    let response = client
        .update_mirror(update(
            overrides(Some(true)),
            &["mirror.overrides.mirror_overwrite_diverged"],
        ))
        .await
        .unwrap()
        .into_inner();
    let mirror = response.mirror.unwrap();
    assert_eq!(
        mirror.overrides.unwrap().mirror_overwrite_diverged,
        Some(true)
    );
    assert!(mirror.effective_settings.unwrap().mirror_overwrite_diverged);
    let job = response.job.expect("a GitLab-relevant change starts a job");
    assert_eq!(job.kind, "mirror.update");
    assert_eq!(job.mirror_id, Some(created.id));
    assert_eq!(job.total, 1);

    // The same value again changes nothing in GitLab: no job.
    let response = client
        .update_mirror(update(overrides(Some(true)), &["overrides"]))
        .await
        .unwrap()
        .into_inner();
    assert!(response.job.is_none());
    // An unset override named in the mask inherits the pair's value again.
    let response = client
        .update_mirror(update(
            overrides(None),
            &["overrides.mirror_overwrite_diverged"],
        ))
        .await
        .unwrap()
        .into_inner();
    let mirror = response.mirror.unwrap();
    assert_eq!(mirror.overrides.unwrap().mirror_overwrite_diverged, None);
    assert!(!mirror.effective_settings.unwrap().mirror_overwrite_diverged);
    assert!(response.job.is_some());

    // Disabling is a GitLab change too.
    let response = client
        .update_mirror(update(
            v1::Mirror {
                id: created.id,
                enabled: false,
                ..Default::default()
            },
            &["enabled"],
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(!response.mirror.unwrap().enabled);
    assert_eq!(response.job.unwrap().kind, "mirror.update");

    // A failed creation can be edited (before retrying it), without a job.
    set_lifecycle(&app, created.id, MirrorLifecycle::CreateFailed).await;
    let response = client
        .update_mirror(update(
            v1::Mirror {
                id: created.id,
                enabled: true,
                ..Default::default()
            },
            &[],
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(response.mirror.unwrap().enabled);
    assert!(response.job.is_none());

    // An empty mask with nothing set names the mask.
    let status = client
        .update_mirror(update(
            v1::Mirror {
                id: created.id,
                ..Default::default()
            },
            &[],
        ))
        .await
        .unwrap_err();
    assert_field(&status, Code::InvalidArgument, "update_mask");
    let status = client
        .update_mirror(update(
            v1::Mirror {
                id: 4242,
                enabled: true,
                ..Default::default()
            },
            &["enabled"],
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
}

async fn single_mirror_jobs_follow_the_lifecycle_rules(app: TestApp) {
    let pair = app.pair("p").await;
    let id = insert(&app, pair.id, "g/app", "m/app").await;
    let mut client = app.mirrors();

    // Creating: nothing but delete.
    assert_eq!(
        client
            .sync_mirror(v1::SyncMirrorRequest { id })
            .await
            .unwrap_err()
            .code(),
        Code::FailedPrecondition
    );
    assert_eq!(
        client
            .rotate_mirror_token(v1::RotateMirrorTokenRequest { id })
            .await
            .unwrap_err()
            .code(),
        Code::FailedPrecondition
    );
    assert_eq!(
        client
            .refresh_mirror_status(v1::RefreshMirrorStatusRequest { id })
            .await
            .unwrap_err()
            .code(),
        Code::FailedPrecondition
    );
    assert_eq!(
        client
            .verify_mirror(v1::VerifyMirrorRequest { id })
            .await
            .unwrap_err()
            .code(),
        Code::FailedPrecondition
    );

    set_lifecycle(&app, id, MirrorLifecycle::Ready).await;
    let job = client
        .sync_mirror(v1::SyncMirrorRequest { id })
        .await
        .unwrap()
        .into_inner()
        .job
        .unwrap();
    assert_eq!(
        (job.kind.as_str(), job.mirror_id, job.total),
        ("mirror.sync", Some(id), 1)
    );
    let job = client
        .refresh_mirror_status(v1::RefreshMirrorStatusRequest { id })
        .await
        .unwrap()
        .into_inner()
        .job
        .unwrap();
    assert_eq!(job.kind, "mirror.refresh_status");
    let job = client
        .verify_mirror(v1::VerifyMirrorRequest { id })
        .await
        .unwrap()
        .into_inner()
        .job
        .unwrap();
    assert_eq!(job.kind, "mirror.verify");
    let rotation = client
        .rotate_mirror_token(v1::RotateMirrorTokenRequest { id })
        .await
        .unwrap()
        .into_inner()
        .job
        .unwrap();
    assert_eq!(rotation.kind, "mirror.rotate_token");
    // One rotation at a time.
    let status = client
        .rotate_mirror_token(v1::RotateMirrorTokenRequest { id })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(status.message().contains(&rotation.id.to_string()));

    // A disabled mirror is not synced.
    app.storage()
        .update_mirror(
            id,
            &mm_storage::MirrorChanges {
                enabled: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let status = client
        .sync_mirror(v1::SyncMirrorRequest { id })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(
        status.message().contains("disabled"),
        "{}",
        status.message()
    );

    // A failed creation can be verified (leftovers), not synced.
    set_lifecycle(&app, id, MirrorLifecycle::CreateFailed).await;
    client
        .verify_mirror(v1::VerifyMirrorRequest { id })
        .await
        .unwrap();
    assert_eq!(
        client
            .refresh_mirror_status(v1::RefreshMirrorStatusRequest { id })
            .await
            .unwrap_err()
            .code(),
        Code::FailedPrecondition
    );

    // Delete works in any state but deleting, and marks the mirror in the same transaction.
    let job = client
        .delete_mirror(v1::DeleteMirrorRequest { id })
        .await
        .unwrap()
        .into_inner()
        .job
        .unwrap();
    assert_eq!(
        (job.kind.as_str(), job.mirror_id),
        ("mirror.delete", Some(id))
    );
    let mirror = app.storage().get_mirror(id).await.unwrap().unwrap();
    assert_eq!(mirror.lifecycle, MirrorLifecycle::Deleting);
    let status = client
        .delete_mirror(v1::DeleteMirrorRequest { id })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    let status = client
        .update_mirror(v1::UpdateMirrorRequest {
            mirror: Some(v1::Mirror {
                id,
                enabled: true,
                ..Default::default()
            }),
            update_mask: mask(&["enabled"]),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);

    for status in [
        client
            .delete_mirror(v1::DeleteMirrorRequest { id: 999 })
            .await
            .unwrap_err(),
        client
            .sync_mirror(v1::SyncMirrorRequest { id: 999 })
            .await
            .unwrap_err(),
    ] {
        assert_eq!(status.code(), Code::NotFound);
    }
    let status = client
        .verify_mirror(v1::VerifyMirrorRequest { id: -1 })
        .await
        .unwrap_err();
    assert_field(&status, Code::InvalidArgument, "id");
}

async fn pair_batches_skip_what_they_cannot_touch(app: TestApp) {
    let pair = app.pair("p").await;
    let ready = insert(&app, pair.id, "g/a", "m/a").await;
    let ready_too = insert(&app, pair.id, "g/b", "m/b").await;
    let disabled = insert(&app, pair.id, "g/c", "m/c").await;
    let creating = insert(&app, pair.id, "g/d", "m/d").await;
    for id in [ready, ready_too, disabled] {
        set_lifecycle(&app, id, MirrorLifecycle::Ready).await;
    }
    app.storage()
        .update_mirror(
            disabled,
            &mm_storage::MirrorChanges {
                enabled: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let outbox_before = app.storage().outbox_len().await.unwrap();
    let mut client = app.mirrors();
    // The dry run plans the same batch and records nothing.
    let plan = client
        .sync_pair_mirrors(v1::SyncPairMirrorsRequest {
            pair_id: pair.id,
            dry_run: true,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(plan.job, None);
    assert_eq!(
        (plan.mirror_count, plan.skipped_count, plan.gitlab_calls),
        (2, 2, 6)
    );
    assert!((plan.estimated_seconds - 0.6).abs() < 1e-9);
    assert_eq!(app.storage().outbox_len().await.unwrap(), outbox_before);
    let response = client
        .sync_pair_mirrors(v1::SyncPairMirrorsRequest {
            pair_id: pair.id,
            dry_run: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.mirror_count, 2);
    // 2 mirrors x 3 requests at 600 requests per minute.
    assert!((response.estimated_seconds - 0.6).abs() < 1e-9);
    let job = response.job.unwrap();
    assert_eq!(job.kind, "pair.sync");
    assert_eq!((job.total, job.skipped, job.done), (4, 2, 2));
    assert_eq!(job.state, v1::JobState::Queued as i32);
    assert_eq!(app.storage().outbox_len().await.unwrap(), outbox_before + 2);
    let items = app
        .storage()
        .list_job_items(
            job.id,
            Some(ItemState::Skipped),
            Window {
                offset: 0,
                limit: 10,
            },
        )
        .await
        .unwrap()
        .items;
    let skipped: Vec<(Option<i64>, Option<&str>)> = items
        .iter()
        .map(|item| (item.mirror_id, item.error.as_deref()))
        .collect();
    assert_eq!(
        skipped,
        vec![
            (Some(disabled), Some("disabled")),
            (Some(creating), Some("not created in GitLab yet")),
        ]
    );

    let job = client
        .refresh_pair_mirror_status(v1::RefreshPairMirrorStatusRequest { pair_id: pair.id })
        .await
        .unwrap()
        .into_inner()
        .job
        .unwrap();
    assert_eq!(job.kind, "pair.refresh_status");
    assert_eq!(
        (job.total, job.skipped),
        (4, 1),
        "disabled mirrors are refreshed"
    );

    let empty = app.pair("empty").await;
    let status = client
        .sync_pair_mirrors(v1::SyncPairMirrorsRequest {
            pair_id: empty.id,
            dry_run: false,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    let status = client
        .refresh_pair_mirror_status(v1::RefreshPairMirrorStatusRequest { pair_id: 12345 })
        .await
        .unwrap_err();
    assert_field(&status, Code::NotFound, "pair_id");
}
