//! ExportPairMirrors and ImportPairMirrors: round trip, dry run, skips with reasons.

use mm_proto::v1;
use mm_storage::{ItemState, JobFilter, Window};
use tonic::Code;

use crate::helpers::{TestApp, api_tests, assert_field};

api_tests!(
    export_then_import_round_trips_with_a_dry_run_first,
    import_skips_duplicates_and_invalid_entries_with_reasons,
    cancelling_an_import_removes_the_mirrors_it_had_not_created,
);

async fn job_count(app: &TestApp) -> i64 {
    app.storage()
        .list_jobs(
            &JobFilter::default(),
            Window {
                offset: 0,
                limit: 1,
            },
        )
        .await
        .unwrap()
        .total
}

fn entry(source: &str, target: &str) -> v1::ExportedMirror {
    v1::ExportedMirror {
        source_project_path: source.to_owned(),
        target_project_path: target.to_owned(),
        ..Default::default()
    }
}

async fn export_then_import_round_trips_with_a_dry_run_first(app: TestApp) {
    let from = app.pair("from").await;
    let to = app.pair("to").await;
    let mut client = app.mirrors();
    for (i, regex) in [None, Some("^release/"), None].into_iter().enumerate() {
        client
            .create_mirror(v1::CreateMirrorRequest {
                pair_id: from.id,
                source_project_path: format!("g/app-{i}"),
                target_project_path: format!("m/app-{i}"),
                overrides: Some(v1::MirrorOverrides {
                    mirror_branch_regex: regex.map(str::to_owned),
                    only_mirror_protected_branches: (i == 2).then_some(true),
                    ..Default::default()
                }),
                enabled: Some(i != 1),
            })
            .await
            .unwrap();
    }
    let exported = client
        .export_pair_mirrors(v1::ExportPairMirrorsRequest { pair_id: from.id })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(exported.pair_name, "from");
    assert_eq!(exported.mirror_direction, "push");
    assert_eq!(exported.source_instance_url, "https://8.8.4.4/from-src");
    assert!(exported.exported_time.is_some());
    assert_eq!(exported.mirrors.len(), 3);
    assert_eq!(
        exported.mirrors[1].mirror_branch_regex.as_deref(),
        Some("^release/")
    );
    assert_eq!(exported.mirrors[1].enabled, Some(false));
    assert_eq!(
        exported.mirrors[2].only_mirror_protected_branches,
        Some(true)
    );
    assert_eq!(exported.mirrors[0].mirror_overwrite_diverged, None);

    // The dry run plans and writes nothing.
    let jobs_before = job_count(&app).await;
    let outbox_before = app.storage().outbox_len().await.unwrap();
    let dry = client
        .import_pair_mirrors(v1::ImportPairMirrorsRequest {
            pair_id: to.id,
            mirrors: exported.mirrors.clone(),
            dry_run: true,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((dry.create_count, dry.skip_count), (3, 0));
    assert_eq!(dry.gitlab_calls, 21, "7 GitLab requests per created mirror");
    assert!(
        (dry.estimated_seconds - 1.2).abs() < 1e-9,
        "4 requests per mirror on the busier instance, at 600 per minute: {}",
        dry.estimated_seconds
    );
    assert!(dry.job.is_none());
    assert!(dry.plan.iter().all(|entry| entry.action == "create"));
    assert_eq!(job_count(&app).await, jobs_before);
    assert_eq!(app.storage().count_mirrors(to.id).await.unwrap(), 0);
    assert_eq!(app.storage().outbox_len().await.unwrap(), outbox_before);

    let imported = client
        .import_pair_mirrors(v1::ImportPairMirrorsRequest {
            pair_id: to.id,
            mirrors: exported.mirrors.clone(),
            dry_run: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(imported.plan, dry.plan);
    let job = imported.job.unwrap();
    assert_eq!(job.kind, "pair.import");
    assert_eq!((job.pair_id, job.total, job.done), (Some(to.id), 3, 0));
    assert_eq!(app.storage().outbox_len().await.unwrap(), outbox_before + 3);
    let again = client
        .export_pair_mirrors(v1::ExportPairMirrorsRequest { pair_id: to.id })
        .await
        .unwrap()
        .into_inner();
    let strip = |mirrors: Vec<v1::ExportedMirror>| -> Vec<v1::ExportedMirror> {
        mirrors
            .into_iter()
            .map(|m| v1::ExportedMirror {
                last_update_status: String::new(),
                ..m
            })
            .collect()
    };
    assert_eq!(strip(again.mirrors), strip(exported.mirrors.clone()));
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
    assert!(items.iter().all(|item| item.task_kind == "mirror.create"));
    assert!(items.iter().all(|item| item.mirror_id.is_some()));

    // Importing the same file again creates nothing and starts no job.
    let jobs_before = job_count(&app).await;
    let repeated = client
        .import_pair_mirrors(v1::ImportPairMirrorsRequest {
            pair_id: to.id,
            mirrors: exported.mirrors,
            dry_run: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((repeated.create_count, repeated.skip_count), (0, 3));
    assert!(repeated.job.is_none());
    assert!(repeated.plan.iter().all(|entry| {
        entry.action == "skip"
            && entry
                .reason
                .as_deref()
                .unwrap()
                .starts_with("already in the pair")
    }));
    assert_eq!(job_count(&app).await, jobs_before);

    let status = client
        .export_pair_mirrors(v1::ExportPairMirrorsRequest { pair_id: 777 })
        .await
        .unwrap_err();
    assert_field(&status, Code::NotFound, "pair_id");
}

async fn import_skips_duplicates_and_invalid_entries_with_reasons(app: TestApp) {
    let pair = app.pair("p").await;
    let mut client = app.mirrors();
    client
        .create_mirror(v1::CreateMirrorRequest {
            pair_id: pair.id,
            source_project_path: "g/existing".into(),
            target_project_path: "m/existing".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut bad_regex = entry("g/regex", "m/regex");
    bad_regex.mirror_branch_regex = Some("(unclosed".into());
    let entries = vec![
        entry("g/new", "m/new"),
        entry("g/existing", "m/existing"),
        entry("g/new", "m/new"),
        entry("/g/bad", "m/bad"),
        entry("g/bad", "m/../etc"),
        bad_regex,
        entry("g/second", "m/second"),
    ];
    let response = client
        .import_pair_mirrors(v1::ImportPairMirrorsRequest {
            pair_id: pair.id,
            mirrors: entries,
            dry_run: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((response.create_count, response.skip_count), (2, 5));
    let reasons: Vec<Option<&str>> = response
        .plan
        .iter()
        .map(|entry| entry.reason.as_deref())
        .collect();
    assert_eq!(reasons[0], None);
    assert!(
        reasons[1]
            .unwrap()
            .starts_with("already in the pair (mirror ")
    );
    assert_eq!(reasons[2], Some("duplicate of entry 1 of the file"));
    assert!(
        reasons[3]
            .unwrap()
            .starts_with("invalid source_project_path")
    );
    assert!(
        reasons[4]
            .unwrap()
            .starts_with("invalid target_project_path")
    );
    assert!(
        reasons[5]
            .unwrap()
            .starts_with("invalid mirror_branch_regex")
    );
    assert_eq!(reasons[6], None);

    // The report lists the skipped entries as skipped items with their reasons.
    let job = response.job.unwrap();
    assert_eq!((job.total, job.skipped, job.done), (7, 5, 5));
    let skipped = app
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
    assert_eq!(skipped.len(), 5);
    assert!(skipped.iter().all(|item| item.mirror_id.is_none()));
    assert_eq!(
        skipped[1].error.as_deref(),
        Some("duplicate of entry 1 of the file")
    );
    assert_eq!(skipped[1].label, "g/new -> m/new");
    assert_eq!(app.storage().count_mirrors(pair.id).await.unwrap(), 3);

    // Limits and missing pairs.
    let status = client
        .import_pair_mirrors(v1::ImportPairMirrorsRequest {
            pair_id: pair.id,
            mirrors: vec![],
            dry_run: true,
        })
        .await
        .unwrap_err();
    assert_field(&status, Code::InvalidArgument, "mirrors");
    let status = client
        .import_pair_mirrors(v1::ImportPairMirrorsRequest {
            pair_id: pair.id,
            mirrors: vec![entry("a/b", "c/d"); 10_001],
            dry_run: true,
        })
        .await
        .unwrap_err();
    assert_field(&status, Code::InvalidArgument, "mirrors");
    let status = client
        .import_pair_mirrors(v1::ImportPairMirrorsRequest {
            pair_id: pair.id + 50,
            mirrors: vec![entry("a/b", "c/d")],
            dry_run: true,
        })
        .await
        .unwrap_err();
    assert_field(&status, Code::NotFound, "pair_id");
    let status = client
        .import_pair_mirrors(v1::ImportPairMirrorsRequest {
            pair_id: 0,
            mirrors: vec![entry("a/b", "c/d")],
            dry_run: true,
        })
        .await
        .unwrap_err();
    assert_field(&status, Code::InvalidArgument, "pair_id");
}

async fn cancelling_an_import_removes_the_mirrors_it_had_not_created(app: TestApp) {
    let pair = app.pair("cancelled").await;
    let mut client = app.mirrors();
    let imported = client
        .import_pair_mirrors(v1::ImportPairMirrorsRequest {
            pair_id: pair.id,
            mirrors: vec![entry("g/a", "m/a"), entry("g/b", "m/b")],
            dry_run: false,
        })
        .await
        .unwrap()
        .into_inner();
    let job = imported.job.unwrap();
    assert_eq!(app.storage().count_mirrors(pair.id).await.unwrap(), 2);

    let cancelled = app
        .jobs()
        .cancel_job(v1::CancelJobRequest { id: job.id })
        .await
        .unwrap()
        .into_inner()
        .job
        .unwrap();
    assert_eq!(cancelled.state, v1::JobState::Cancelled as i32);
    assert_eq!(cancelled.cancelled, 2);
    // No worker ever started them, so nothing exists on GitLab: no row stays `creating`.
    assert_eq!(app.storage().count_mirrors(pair.id).await.unwrap(), 0);
    let listed = client
        .list_mirrors(v1::ListMirrorsRequest {
            pair_id: pair.id,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.total_size, 0);
}
