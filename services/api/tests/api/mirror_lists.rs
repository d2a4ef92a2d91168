//! ListMirrors and GetMirrorTree over mirrors recorded through storage; the mirror token never
//! leaves the API; every new RPC needs credentials.

use chrono::{Duration, Utc};
use mm_proto::v1;
use mm_storage::{MirrorChanges, MirrorLifecycle, MirrorProvisioning, MirrorStatusUpdate};
use tonic::Code;

use crate::{
    helpers::{Authorization, TestApp, api_tests, assert_field},
    mirrors::{insert, set_lifecycle},
};

api_tests!(
    list_mirrors_filters_sorts_and_pages,
    mirror_tree_counts_groups,
    the_mirror_token_is_never_returned,
    every_mirror_and_job_rpc_needs_credentials,
);

/// The fixture: pair `a` with 40 mirrors and pair `b` with 20.
///
/// In pair `a`, mirror `i` (0-based) has the source `team-{i % 4}/sub/app-{i:02}`, the target
/// `mirror/app-{i:02}`; every 5th is disabled; `i % 3 == 0` failed, `i % 3 == 1` finished,
/// the rest were never checked; `i < 10` have a token: `i < 3` expired, `3 <= i < 6`
/// expiring soon, the others active; `i >= 36` are still being created.
async fn fixture(app: &TestApp) -> (v1::Pair, v1::Pair) {
    let a = app.pair("a").await;
    let b = app.pair("b").await;
    let now = Utc::now();
    for i in 0..40 {
        let id = insert(
            app,
            a.id,
            &format!("team-{}/sub/app-{i:02}", i % 4),
            &format!("mirror/app-{i:02}"),
        )
        .await;
        let expire = match i {
            0..3 => Some(now - Duration::days(1)),
            3..6 => Some(now + Duration::days(10)),
            6..10 => Some(now + Duration::days(200)),
            _ => None,
        };
        let lifecycle = (i < 36).then_some(MirrorLifecycle::Ready);
        app.storage()
            .record_mirror_provisioning(
                id,
                &MirrorProvisioning {
                    lifecycle,
                    mirror_token_expire_time: expire,
                    mirror_token_name: expire.map(|_| format!("mm-mirror-{id}")),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        if i % 3 != 2 {
            let status = if i % 3 == 0 { "failed" } else { "finished" };
            app.storage()
                .record_mirror_status(
                    id,
                    &MirrorStatusUpdate {
                        last_update_status: Some(status.to_owned()),
                        checked_at: now,
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
        }
        if i % 5 == 0 {
            app.storage()
                .update_mirror(
                    id,
                    &MirrorChanges {
                        enabled: Some(false),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
        }
    }
    for i in 0..20 {
        let id = insert(
            app,
            b.id,
            &format!("other/p-{i:02}"),
            &format!("copy/p-{i:02}"),
        )
        .await;
        set_lifecycle(app, id, MirrorLifecycle::Ready).await;
    }
    (a, b)
}

fn request(pair_id: i64) -> v1::ListMirrorsRequest {
    v1::ListMirrorsRequest {
        pair_id,
        page_size: 200,
        ..Default::default()
    }
}

async fn list(app: &TestApp, request: v1::ListMirrorsRequest) -> v1::ListMirrorsResponse {
    app.mirrors()
        .list_mirrors(request)
        .await
        .unwrap()
        .into_inner()
}

async fn list_mirrors_filters_sorts_and_pages(app: TestApp) {
    let (a, b) = fixture(&app).await;

    // Everything, by pages of 25 with tokens; the total counts every match.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = list(
            &app,
            v1::ListMirrorsRequest {
                page_size: 25,
                page_token: token.clone(),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(page.total_size, 60);
        seen.extend(page.mirrors.iter().map(|m| m.id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen.len(), 60);
    let mut sorted = seen.clone();
    sorted.sort_unstable();
    assert_eq!(seen, sorted, "default order: create_time, then id");
    // Page numbers without a token.
    let third = list(
        &app,
        v1::ListMirrorsRequest {
            page_size: 25,
            page: 3,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(third.mirrors.len(), 10);
    assert_eq!(third.mirrors[0].id, seen[50]);
    assert!(third.next_page_token.is_empty());
    // 0 means 50.
    let default = list(&app, v1::ListMirrorsRequest::default()).await;
    assert_eq!(default.mirrors.len(), 50);

    let count = |response: &v1::ListMirrorsResponse| {
        assert_eq!(response.mirrors.len() as i64, response.total_size);
        response.total_size
    };
    assert_eq!(count(&list(&app, request(b.id)).await), 20);
    let pair_a = list(&app, request(a.id)).await;
    assert_eq!(count(&pair_a), 40);
    let effective = pair_a.mirrors[0].effective_settings.as_ref().unwrap();
    assert!(!effective.mirror_overwrite_diverged, "the pair's defaults");

    let status = |s: &str| v1::ListMirrorsRequest {
        status: s.to_owned(),
        ..request(a.id)
    };
    assert_eq!(count(&list(&app, status("failed")).await), 14);
    assert_eq!(count(&list(&app, status("finished")).await), 13);
    assert_eq!(count(&list(&app, status("unknown")).await), 13);
    assert_eq!(count(&list(&app, status("no-such-status")).await), 0);
    let disabled = list(
        &app,
        v1::ListMirrorsRequest {
            enabled: Some(false),
            ..request(a.id)
        },
    )
    .await;
    assert_eq!(count(&disabled), 8);
    assert!(disabled.mirrors.iter().all(|m| !m.enabled));
    let search = list(
        &app,
        v1::ListMirrorsRequest {
            search: "APP-1".into(),
            ..request(0)
        },
    )
    .await;
    assert_eq!(count(&search), 10, "case-insensitive, source or target");
    let group = |prefix: &str| v1::ListMirrorsRequest {
        group_prefix: prefix.to_owned(),
        ..request(0)
    };
    assert_eq!(count(&list(&app, group("team-1")).await), 10);
    assert_eq!(count(&list(&app, group("/team-1/sub/")).await), 10);
    assert_eq!(count(&list(&app, group("team")).await), 0, "whole segments");
    assert_eq!(
        count(&list(&app, group("mirror")).await),
        40,
        "target paths too"
    );
    let tokens = |status: v1::TokenStatus| v1::ListMirrorsRequest {
        token_status: status as i32,
        ..request(0)
    };
    let expired = list(&app, tokens(v1::TokenStatus::Expired)).await;
    assert_eq!(count(&expired), 3);
    assert!(
        expired
            .mirrors
            .iter()
            .all(|m| m.token_status == v1::TokenStatus::Expired as i32)
    );
    let soon = list(&app, tokens(v1::TokenStatus::ExpiringSoon)).await;
    assert_eq!(count(&soon), 3);
    assert!(
        soon.mirrors
            .iter()
            .all(|m| m.token_status == v1::TokenStatus::ExpiringSoon as i32)
    );
    assert_eq!(count(&list(&app, tokens(v1::TokenStatus::Active)).await), 4);
    assert_eq!(count(&list(&app, tokens(v1::TokenStatus::None)).await), 50);
    let creating = list(
        &app,
        v1::ListMirrorsRequest {
            lifecycle: v1::MirrorLifecycle::Creating as i32,
            ..request(0)
        },
    )
    .await;
    assert_eq!(count(&creating), 4);

    // Sorts.
    let by = |order: &str| v1::ListMirrorsRequest {
        order_by: order.to_owned(),
        ..request(a.id)
    };
    let paths: Vec<String> = list(&app, by("source_project_path desc"))
        .await
        .mirrors
        .into_iter()
        .map(|m| m.source_project_path)
        .collect();
    let mut expected = paths.clone();
    expected.sort();
    expected.reverse();
    assert_eq!(paths, expected);
    let targets: Vec<String> = list(&app, by("target_project_path"))
        .await
        .mirrors
        .into_iter()
        .map(|m| m.target_project_path)
        .collect();
    assert_eq!(targets.first().map(String::as_str), Some("mirror/app-00"));
    let statuses: Vec<String> = list(&app, by("last_update_status"))
        .await
        .mirrors
        .into_iter()
        .map(|m| m.last_update_status)
        .collect();
    assert_eq!(
        statuses.first().map(String::as_str),
        Some(""),
        "unchecked first"
    );
    assert_eq!(statuses.last().map(String::as_str), Some("finished"));
    list(&app, by("update_time desc")).await;

    // Bad requests name the field.
    let mut client = app.mirrors();
    let bad = [
        (
            v1::ListMirrorsRequest {
                page_size: 201,
                ..Default::default()
            },
            "page_size",
        ),
        (
            v1::ListMirrorsRequest {
                page: -2,
                ..Default::default()
            },
            "page",
        ),
        (by("name"), "order_by"),
        (
            v1::ListMirrorsRequest {
                page_token: "not-a-token".into(),
                ..Default::default()
            },
            "page_token",
        ),
        (
            v1::ListMirrorsRequest {
                token_status: 42,
                ..Default::default()
            },
            "token_status",
        ),
        (
            v1::ListMirrorsRequest {
                lifecycle: 42,
                ..Default::default()
            },
            "lifecycle",
        ),
        (
            v1::ListMirrorsRequest {
                pair_id: -1,
                ..Default::default()
            },
            "pair_id",
        ),
        (
            v1::ListMirrorsRequest {
                search: "s".repeat(501),
                ..Default::default()
            },
            "search",
        ),
    ];
    for (request, field) in bad {
        let status = client.list_mirrors(request).await.unwrap_err();
        assert_field(&status, Code::InvalidArgument, field);
    }
    // A token belongs to its filters and order.
    let first = list(
        &app,
        v1::ListMirrorsRequest {
            page_size: 10,
            ..request(a.id)
        },
    )
    .await;
    let status = client
        .list_mirrors(v1::ListMirrorsRequest {
            page_size: 10,
            page_token: first.next_page_token.clone(),
            ..request(b.id)
        })
        .await
        .unwrap_err();
    assert_field(&status, Code::InvalidArgument, "page_token");
    let second = list(
        &app,
        v1::ListMirrorsRequest {
            page_size: 10,
            page_token: first.next_page_token,
            ..request(a.id)
        },
    )
    .await;
    assert_eq!(second.mirrors[0].id, first.mirrors[0].id + 10);
}

async fn mirror_tree_counts_groups(app: TestApp) {
    let (a, _) = fixture(&app).await;
    let mut client = app.mirrors();
    let groups = client
        .get_mirror_tree(v1::GetMirrorTreeRequest {
            pair_id: a.id,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .groups;
    let find = |path: &str| {
        groups
            .iter()
            .find(|group| group.path == path)
            .unwrap_or_else(|| panic!("no group {path}: {groups:?}"))
            .clone()
    };
    assert_eq!(
        groups.len(),
        8,
        "team-0..3 and their sub groups: {groups:?}"
    );
    let team0 = find("team-0");
    assert_eq!(team0.mirror_count, 10);
    // team-0 holds i = 0, 4, 8, ..., 36; failed when i % 3 == 0: 0, 12, 24, 36.
    assert_eq!(team0.failed_count, 4);
    assert_eq!(find("team-0/sub").mirror_count, 10);
    let paths: Vec<&str> = groups.iter().map(|g| g.path.as_str()).collect();
    let mut sorted = paths.clone();
    sorted.sort_unstable();
    assert_eq!(paths, sorted);

    let failed = client
        .get_mirror_tree(v1::GetMirrorTreeRequest {
            pair_id: a.id,
            status: "failed".into(),
            group_prefix: "team-1".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .groups;
    assert!(failed.iter().all(|g| g.mirror_count == g.failed_count));
    assert!(failed.iter().all(|g| g.path.starts_with("team-1")));
    let everything = client
        .get_mirror_tree(v1::GetMirrorTreeRequest::default())
        .await
        .unwrap()
        .into_inner()
        .groups;
    assert!(everything.iter().any(|g| g.path == "other"));
    let status = client
        .get_mirror_tree(v1::GetMirrorTreeRequest {
            pair_id: -5,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_field(&status, Code::InvalidArgument, "pair_id");
}

async fn the_mirror_token_is_never_returned(app: TestApp) {
    const CIPHERTEXT: &str = "v1:key:SECRET-MIRROR-TOKEN-CIPHERTEXT";
    let pair = app.pair("p").await;
    let id = insert(&app, pair.id, "g/app", "m/app").await;
    app.storage()
        .record_mirror_provisioning(
            id,
            &MirrorProvisioning {
                lifecycle: Some(MirrorLifecycle::Ready),
                encrypted_mirror_token: Some(CIPHERTEXT.into()),
                mirror_token_name: Some("mm-mirror".into()),
                mirror_token_expire_time: Some(Utc::now() + Duration::days(300)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut client = app.mirrors();
    let get = client
        .get_mirror(v1::GetMirrorRequest { id })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        get.mirror.as_ref().unwrap().token_status,
        v1::TokenStatus::Active as i32
    );
    assert_eq!(
        get.mirror.as_ref().unwrap().token_name.as_deref(),
        Some("mm-mirror")
    );
    let listed = list(&app, request(pair.id)).await;
    let exported = client
        .export_pair_mirrors(v1::ExportPairMirrorsRequest { pair_id: pair.id })
        .await
        .unwrap()
        .into_inner();
    let job = client
        .sync_mirror(v1::SyncMirrorRequest { id })
        .await
        .unwrap()
        .into_inner();
    let items = app
        .jobs()
        .list_job_items(v1::ListJobItemsRequest {
            job_id: job.job.as_ref().unwrap().id,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    for text in [
        format!("{get:?}"),
        format!("{listed:?}"),
        format!("{exported:?}"),
        format!("{job:?}"),
        format!("{items:?}"),
    ] {
        assert!(!text.contains("SECRET-MIRROR-TOKEN"), "{text}");
    }
}

async fn every_mirror_and_job_rpc_needs_credentials(app: TestApp) {
    use mm_proto::v1::{
        job_service_client::JobServiceClient, mirror_service_client::MirrorServiceClient,
    };
    let mut mirrors =
        MirrorServiceClient::with_interceptor(app.channel.clone(), Authorization(None));
    let mut jobs = JobServiceClient::with_interceptor(app.channel.clone(), Authorization(None));
    let statuses = [
        mirrors
            .list_mirrors(v1::ListMirrorsRequest::default())
            .await
            .unwrap_err(),
        mirrors
            .get_mirror(v1::GetMirrorRequest { id: 1 })
            .await
            .unwrap_err(),
        mirrors
            .create_mirror(v1::CreateMirrorRequest::default())
            .await
            .unwrap_err(),
        mirrors
            .update_mirror(v1::UpdateMirrorRequest::default())
            .await
            .unwrap_err(),
        mirrors
            .delete_mirror(v1::DeleteMirrorRequest { id: 1 })
            .await
            .unwrap_err(),
        mirrors
            .sync_mirror(v1::SyncMirrorRequest { id: 1 })
            .await
            .unwrap_err(),
        mirrors
            .rotate_mirror_token(v1::RotateMirrorTokenRequest { id: 1 })
            .await
            .unwrap_err(),
        mirrors
            .refresh_mirror_status(v1::RefreshMirrorStatusRequest { id: 1 })
            .await
            .unwrap_err(),
        mirrors
            .verify_mirror(v1::VerifyMirrorRequest { id: 1 })
            .await
            .unwrap_err(),
        mirrors
            .sync_pair_mirrors(v1::SyncPairMirrorsRequest {
                pair_id: 1,
                dry_run: false,
            })
            .await
            .unwrap_err(),
        mirrors
            .refresh_pair_mirror_status(v1::RefreshPairMirrorStatusRequest { pair_id: 1 })
            .await
            .unwrap_err(),
        mirrors
            .get_mirror_tree(v1::GetMirrorTreeRequest::default())
            .await
            .unwrap_err(),
        mirrors
            .export_pair_mirrors(v1::ExportPairMirrorsRequest { pair_id: 1 })
            .await
            .unwrap_err(),
        mirrors
            .import_pair_mirrors(v1::ImportPairMirrorsRequest::default())
            .await
            .unwrap_err(),
        mirrors
            .search_instance_projects(v1::SearchInstanceProjectsRequest::default())
            .await
            .unwrap_err(),
        jobs.list_jobs(v1::ListJobsRequest::default())
            .await
            .unwrap_err(),
        jobs.get_job(v1::GetJobRequest { id: 1 }).await.unwrap_err(),
        jobs.list_job_items(v1::ListJobItemsRequest::default())
            .await
            .unwrap_err(),
        jobs.cancel_job(v1::CancelJobRequest { id: 1 })
            .await
            .unwrap_err(),
        jobs.retry_job(v1::RetryJobRequest { id: 1 })
            .await
            .unwrap_err(),
        jobs.watch_job(v1::WatchJobRequest { id: 1 })
            .await
            .unwrap_err(),
    ];
    for status in statuses {
        assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    }
}
