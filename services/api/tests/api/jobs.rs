//! JobService: lists, cancel, retry and watch. Item outcomes are simulated through storage,
//! as a worker would record them.

use std::time::Duration;

use mm_proto::v1;
use mm_storage::{ItemOutcome, ItemStart, ItemState, JobItem, NewJob, NewJobItem, Window};
use serde_json::json;
use tokio_stream::StreamExt;
use tonic::Code;

use crate::{
    helpers::{TestApp, api_tests, assert_field},
    mirrors::insert,
};

api_tests!(
    jobs_are_listed_filtered_and_paged,
    job_items_are_listed_with_results,
    cancel_and_retry_follow_the_job_state,
    watch_streams_progress_until_the_job_finishes,
);

/// A queued job of `kind` with one `mirror.sync` item per mirror id.
async fn new_job(app: &TestApp, kind: &str, pair_id: Option<i64>, mirrors: &[i64]) -> i64 {
    let job = NewJob {
        kind: kind.to_owned(),
        pair_id,
        mirror_id: (mirrors.len() == 1).then(|| mirrors[0]),
        instance_id: None,
        requested_by: "tester".into(),
        params: json!({"reason": "test", "count": mirrors.len()}),
        items: mirrors
            .iter()
            .map(|id| NewJobItem::for_mirror(*id, format!("mirror {id}"), "mirror.sync"))
            .collect(),
        traceparent: None,
        mark_deleting: vec![],
    };
    app.storage().create_job(&job).await.unwrap().job.id
}

async fn items(app: &TestApp, job_id: i64) -> Vec<JobItem> {
    app.storage()
        .list_job_items(
            job_id,
            None,
            Window {
                offset: 0,
                limit: 100,
            },
        )
        .await
        .unwrap()
        .items
}

async fn start(app: &TestApp, item_id: i64) {
    let started = app.storage().start_job_item(item_id).await.unwrap();
    assert!(matches!(started, ItemStart::Run { .. }), "{started:?}");
}

async fn finish(app: &TestApp, item_id: i64, state: ItemState) {
    let outcome = ItemOutcome {
        state,
        error: (state == ItemState::Failed).then(|| "GitLab said no".to_owned()),
        warnings: vec![],
        result: json!({"gitlab_status": "started"}),
        duration_ms: 12,
    };
    app.storage()
        .finish_job_item(item_id, &outcome)
        .await
        .unwrap()
        .expect("the item was running");
}

async fn jobs_are_listed_filtered_and_paged(app: TestApp) {
    let pair = app.pair("p").await;
    let other = app.pair("q").await;
    let m1 = insert(&app, pair.id, "g/a", "m/a").await;
    let m2 = insert(&app, pair.id, "g/b", "m/b").await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(new_job(&app, "mirror.sync", Some(pair.id), &[m1]).await);
    }
    for _ in 0..3 {
        ids.push(new_job(&app, "pair.sync", Some(other.id), &[m1, m2]).await);
    }
    let finished = new_job(&app, "pair.sync", Some(pair.id), &[]).await;
    let mut client = app.jobs();

    // Newest first, by pages, with totals (the instances' verify jobs count too).
    let all = client
        .list_jobs(v1::ListJobsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.total_size, 13, "4 instance.verify + 9");
    assert_eq!(all.jobs[0].id, finished);
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_jobs(v1::ListJobsRequest {
                page_size: 4,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        seen.extend(page.jobs.iter().map(|job| job.id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen, all.jobs.iter().map(|job| job.id).collect::<Vec<_>>());

    let list = |request: v1::ListJobsRequest| {
        let mut client = app.jobs();
        async move { client.list_jobs(request).await.unwrap().into_inner() }
    };
    let by_kind = list(v1::ListJobsRequest {
        kind: "pair.sync".into(),
        ..Default::default()
    })
    .await;
    assert_eq!(by_kind.total_size, 4);
    let by_pair = list(v1::ListJobsRequest {
        pair_id: pair.id,
        ..Default::default()
    })
    .await;
    assert_eq!(by_pair.total_size, 6);
    let by_mirror = list(v1::ListJobsRequest {
        mirror_id: m1,
        ..Default::default()
    })
    .await;
    assert_eq!(by_mirror.total_size, 5);
    let succeeded = list(v1::ListJobsRequest {
        state: v1::JobState::Succeeded as i32,
        ..Default::default()
    })
    .await;
    assert_eq!(
        succeeded.total_size, 1,
        "a job without items is finished at once"
    );
    assert_eq!(succeeded.jobs[0].id, finished);

    let job = client
        .get_job(v1::GetJobRequest { id: ids[5] })
        .await
        .unwrap()
        .into_inner()
        .job
        .unwrap();
    assert_eq!(job.kind, "pair.sync");
    assert_eq!(job.requested_by, "tester");
    assert_eq!(job.total, 2);
    assert_eq!(
        serde_json::to_value(job.params.unwrap()).unwrap(),
        json!({"reason": "test", "count": 2.0})
    );
    let status = client
        .get_job(v1::GetJobRequest { id: 99_999 })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);

    let first = client
        .list_jobs(v1::ListJobsRequest {
            page_size: 2,
            kind: "pair.sync".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    for (request, field) in [
        (
            v1::ListJobsRequest {
                page_size: 201,
                ..Default::default()
            },
            "page_size",
        ),
        (
            v1::ListJobsRequest {
                state: 99,
                ..Default::default()
            },
            "state",
        ),
        (
            v1::ListJobsRequest {
                mirror_id: -3,
                ..Default::default()
            },
            "mirror_id",
        ),
        (
            v1::ListJobsRequest {
                kind: "k".repeat(101),
                ..Default::default()
            },
            "kind",
        ),
        (
            v1::ListJobsRequest {
                page_token: first.next_page_token.clone(),
                kind: "mirror.sync".into(),
                ..Default::default()
            },
            "page_token",
        ),
    ] {
        let status = client.list_jobs(request).await.unwrap_err();
        assert_field(&status, Code::InvalidArgument, field);
    }
}

async fn job_items_are_listed_with_results(app: TestApp) {
    let pair = app.pair("p").await;
    let mut mirrors = Vec::new();
    for i in 0..7 {
        mirrors.push(insert(&app, pair.id, &format!("g/{i}"), &format!("m/{i}")).await);
    }
    let job_id = new_job(&app, "pair.sync", Some(pair.id), &mirrors).await;
    let all = items(&app, job_id).await;
    start(&app, all[0].id).await;
    finish(&app, all[0].id, ItemState::Succeeded).await;
    start(&app, all[1].id).await;
    finish(&app, all[1].id, ItemState::Failed).await;

    let mut client = app.jobs();
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_job_items(v1::ListJobItemsRequest {
                job_id,
                page_size: 3,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(page.total_size, 7);
        seen.extend(page.items);
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen.len(), 7);
    assert_eq!(seen[0].state, v1::JobItemState::Succeeded as i32);
    assert_eq!(seen[0].attempts, 1);
    assert_eq!(seen[0].duration_ms, Some(12));
    assert_eq!(
        serde_json::to_value(seen[0].result.clone().unwrap()).unwrap(),
        json!({"gitlab_status": "started"})
    );
    assert_eq!(seen[0].mirror_id, Some(mirrors[0]));
    assert_eq!(seen[0].task_kind, "mirror.sync");
    assert_eq!(seen[1].error.as_deref(), Some("GitLab said no"));
    assert_eq!(seen[2].state, v1::JobItemState::Queued as i32);

    let failed = client
        .list_job_items(v1::ListJobItemsRequest {
            job_id,
            state: v1::JobItemState::Failed as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(failed.total_size, 1);
    assert_eq!(failed.items[0].id, all[1].id);

    let status = client
        .list_job_items(v1::ListJobItemsRequest {
            job_id: 424_242,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    for (request, field) in [
        (v1::ListJobItemsRequest::default(), "job_id"),
        (
            v1::ListJobItemsRequest {
                job_id,
                page_size: 501,
                ..Default::default()
            },
            "page_size",
        ),
        (
            v1::ListJobItemsRequest {
                job_id,
                state: 17,
                ..Default::default()
            },
            "state",
        ),
    ] {
        let status = client.list_job_items(request).await.unwrap_err();
        assert_field(&status, Code::InvalidArgument, field);
    }
    // Up to 500 items per page.
    client
        .list_job_items(v1::ListJobItemsRequest {
            job_id,
            page_size: 500,
            ..Default::default()
        })
        .await
        .unwrap();
}

async fn cancel_and_retry_follow_the_job_state(app: TestApp) {
    let pair = app.pair("p").await;
    let mirrors = [
        insert(&app, pair.id, "g/a", "m/a").await,
        insert(&app, pair.id, "g/b", "m/b").await,
        insert(&app, pair.id, "g/c", "m/c").await,
    ];
    let job_id = new_job(&app, "pair.sync", Some(pair.id), &mirrors).await;
    let all = items(&app, job_id).await;
    start(&app, all[0].id).await;
    finish(&app, all[0].id, ItemState::Failed).await;
    start(&app, all[1].id).await;

    let mut client = app.jobs();
    let status = client
        .retry_job(v1::RetryJobRequest { id: job_id })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "still running");

    let outbox_before = app.storage().outbox_len().await.unwrap();
    let cancelled = client
        .cancel_job(v1::CancelJobRequest { id: job_id })
        .await
        .unwrap()
        .into_inner()
        .job
        .unwrap();
    assert_eq!(cancelled.cancelled, 1, "the queued item");
    assert_eq!(
        app.storage().outbox_len().await.unwrap(),
        outbox_before - 1,
        "its message is gone"
    );
    assert_eq!(cancelled.state, v1::JobState::Cancelled as i32);
    let status = client
        .retry_job(v1::RetryJobRequest { id: job_id })
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        Code::FailedPrecondition,
        "an item still runs"
    );
    // The running item still finishes; the job is then over.
    finish(&app, all[1].id, ItemState::Succeeded).await;
    let job = client
        .get_job(v1::GetJobRequest { id: job_id })
        .await
        .unwrap()
        .into_inner()
        .job
        .unwrap();
    assert_eq!(job.state, v1::JobState::Cancelled as i32);
    assert_eq!((job.done, job.failed, job.succeeded), (3, 1, 1));
    // Cancelling again is harmless.
    client
        .cancel_job(v1::CancelJobRequest { id: job_id })
        .await
        .unwrap();

    // The failed item runs again.
    let outbox_before = app.storage().outbox_len().await.unwrap();
    let retried = client
        .retry_job(v1::RetryJobRequest { id: job_id })
        .await
        .unwrap()
        .into_inner()
        .job
        .unwrap();
    assert_eq!(retried.state, v1::JobState::Queued as i32);
    assert_eq!(retried.failed, 0);
    assert_eq!(app.storage().outbox_len().await.unwrap(), outbox_before + 1);
    let item = app
        .storage()
        .get_job_item(all[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(item.state, ItemState::Queued);
    start(&app, all[0].id).await;
    finish(&app, all[0].id, ItemState::Succeeded).await;

    // A job that finished without failures: nothing to retry, nothing to cancel.
    let done = new_job(&app, "mirror.sync", Some(pair.id), &[mirrors[2]]).await;
    let item = items(&app, done).await[0].id;
    start(&app, item).await;
    finish(&app, item, ItemState::Succeeded).await;
    let status = client
        .retry_job(v1::RetryJobRequest { id: done })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(
        status.message().contains("no failed items"),
        "{}",
        status.message()
    );
    let status = client
        .cancel_job(v1::CancelJobRequest { id: done })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);

    for status in [
        client
            .cancel_job(v1::CancelJobRequest { id: 5555 })
            .await
            .unwrap_err(),
        client
            .retry_job(v1::RetryJobRequest { id: 5555 })
            .await
            .unwrap_err(),
    ] {
        assert_eq!(status.code(), Code::NotFound);
    }
    let status = client
        .retry_job(v1::RetryJobRequest { id: 0 })
        .await
        .unwrap_err();
    assert_field(&status, Code::InvalidArgument, "id");
}

async fn next(stream: &mut tonic::Streaming<v1::WatchJobResponse>) -> Option<v1::Job> {
    tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("an update within 10 s")
        .map(|message| message.unwrap().job.unwrap())
}

async fn watch_streams_progress_until_the_job_finishes(app: TestApp) {
    let pair = app.pair("p").await;
    let mirrors = [
        insert(&app, pair.id, "g/a", "m/a").await,
        insert(&app, pair.id, "g/b", "m/b").await,
    ];
    let job_id = new_job(&app, "pair.sync", Some(pair.id), &mirrors).await;
    let all = items(&app, job_id).await;
    let mut client = app.jobs();
    let mut stream = client
        .watch_job(v1::WatchJobRequest { id: job_id })
        .await
        .unwrap()
        .into_inner();
    let first = next(&mut stream).await.unwrap();
    assert_eq!(first.state, v1::JobState::Queued as i32);
    start(&app, all[0].id).await;
    let running = next(&mut stream).await.unwrap();
    assert_eq!(running.state, v1::JobState::Running as i32);
    finish(&app, all[0].id, ItemState::Succeeded).await;
    let one_done = next(&mut stream).await.unwrap();
    assert_eq!((one_done.done, one_done.succeeded), (1, 1));
    start(&app, all[1].id).await;
    finish(&app, all[1].id, ItemState::Failed).await;
    let last = next(&mut stream).await.unwrap();
    assert_eq!(last.state, v1::JobState::PartiallyFailed as i32);
    assert_eq!(last.done, 2);
    assert!(
        next(&mut stream).await.is_none(),
        "the stream ends with the job"
    );

    // A finished job: one message, then the end.
    let mut stream = client
        .watch_job(v1::WatchJobRequest { id: job_id })
        .await
        .unwrap()
        .into_inner();
    let only = next(&mut stream).await.unwrap();
    assert_eq!(only.state, v1::JobState::PartiallyFailed as i32);
    assert!(next(&mut stream).await.is_none());

    let status = client
        .watch_job(v1::WatchJobRequest { id: 8888 })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
}
