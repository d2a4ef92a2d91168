//! SearchInstanceGroups against the GitLab simulator: GitLab's group search and paging, the
//! errors of the project search, and the instance's circuit breaker.

use gitlab_sim::{FaultConfig, InstanceSpec, Seed, SeedSpec, Sim, SimConfig, seed::ProjectSeed};
use mm_api::testing::{SpawnOptions, TestBackend};
use mm_proto::v1;
use tonic::Code;

use crate::helpers::{TestApp, assert_field, spawn};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_instance_groups_on_sqlite() {
    search_instance_groups(TestBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_instance_groups_on_postgres() {
    search_instance_groups(TestBackend::Postgres).await;
}

/// Groups `acme`, `acme/platform`, `acme/tools` and `other`, created by their projects.
async fn simulator() -> Sim {
    let project = |path: &str| ProjectSeed {
        path: path.to_owned(),
        empty: true,
        ..Default::default()
    };
    Sim::start(SimConfig {
        instances: vec![InstanceSpec::ee("gl")],
        seed: Seed::Spec(SeedSpec {
            projects: vec![
                project("acme/platform/api"),
                project("acme/tools/cli"),
                project("other/docs"),
            ],
            ..Default::default()
        }),
        ..Default::default()
    })
    .await
    .expect("simulator starts")
}

async fn instance(app: &TestApp, name: &str, url: &str, token: &str) -> i64 {
    app.instances()
        .create_instance(v1::CreateInstanceRequest {
            name: name.to_owned(),
            url: url.to_owned(),
            description: String::new(),
            token: token.to_owned(),
        })
        .await
        .expect("create instance")
        .into_inner()
        .instance
        .unwrap()
        .id
}

fn request(
    instance_id: i64,
    search: &str,
    page_size: i32,
    page: i32,
) -> v1::SearchInstanceGroupsRequest {
    v1::SearchInstanceGroupsRequest {
        instance_id,
        search: search.to_owned(),
        page_size,
        page,
    }
}

async fn search_instance_groups(backend: TestBackend) {
    let options = SpawnOptions {
        allow_private_ips: true,
    };
    let Some(app) = spawn(backend, options).await else {
        return;
    };
    let sim = simulator().await;
    let gl = sim.instance(0);
    let good = instance(&app, "sim", &gl.base_url, &gl.admin_token).await;
    let mut client = app.mirrors();

    let found = client
        .search_instance_groups(request(good, "platform", 0, 0))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found.groups.len(), 1, "{found:?}");
    assert!(!found.has_next_page);
    let platform = &found.groups[0];
    assert_eq!(platform.full_path, "acme/platform");
    assert!(
        platform.name.eq_ignore_ascii_case("platform"),
        "{}",
        platform.name
    );
    assert!(
        platform.full_name.contains('/'),
        "parents are named: {}",
        platform.full_name
    );
    assert!(
        platform.web_url.ends_with("/groups/acme/platform"),
        "{}",
        platform.web_url
    );
    let acme = client
        .search_instance_groups(request(good, "acme", 0, 0))
        .await
        .unwrap()
        .into_inner();
    let top = acme
        .groups
        .iter()
        .find(|g| g.full_path == "acme")
        .expect("the top-level group is found");
    assert_eq!(top.parent_id, 0, "a top-level group has no parent");
    assert_eq!(platform.parent_id, top.id, "the parent is acme");
    assert!(platform.id > 0 && platform.id != top.id);

    // GitLab's pages: four groups, three per page.
    let first = client
        .search_instance_groups(request(good, "", 3, 1))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.groups.len(), 3);
    assert!(first.has_next_page);
    let second = client
        .search_instance_groups(request(good, "", 3, 2))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.groups.len(), 1);
    assert!(!second.has_next_page);
    let mut every: Vec<String> = first
        .groups
        .iter()
        .chain(&second.groups)
        .map(|g| g.full_path.clone())
        .collect();
    every.sort_unstable();
    assert_eq!(every, ["acme", "acme/platform", "acme/tools", "other"]);

    // A token GitLab rejects is the operator's to fix.
    let rejected = instance(&app, "bad-token", &gl.base_url, "glpat-not-a-valid-token").await;
    let status = client
        .search_instance_groups(request(rejected, "acme", 0, 0))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(
        !status.message().contains("glpat-"),
        "no token in errors: {}",
        status.message()
    );

    // Input errors name their field.
    let status = client
        .search_instance_groups(request(999, "", 0, 0))
        .await
        .unwrap_err();
    assert_field(&status, Code::NotFound, "instance_id");
    for (bad, field) in [
        (request(0, "", 0, 0), "instance_id"),
        (request(good, "", 101, 0), "page_size"),
        (request(good, "", 0, -1), "page"),
        (request(good, &"x".repeat(501), 0, 0), "search"),
    ] {
        let status = client.search_instance_groups(bad).await.unwrap_err();
        assert_field(&status, Code::InvalidArgument, field);
    }

    // GitLab down: UNAVAILABLE, and after a few failures the breaker answers without asking.
    gl.set_faults(FaultConfig::outage(60_000));
    let mut messages = Vec::new();
    for _ in 0..6 {
        let status = client
            .search_instance_groups(request(good, "acme", 0, 0))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unavailable, "{status:?}");
        messages.push(status.message().to_owned());
    }
    assert!(
        messages.last().unwrap().contains("circuit open"),
        "the breaker opened: {messages:#?}"
    );
    sim.shutdown().await;
}
