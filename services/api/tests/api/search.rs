//! SearchInstanceProjects against the GitLab simulator: the only RPC that calls GitLab.

use gitlab_sim::{InstanceSpec, Seed, SeedSpec, Sim, SimConfig, seed::ProjectSeed};
use mm_api::testing::{SpawnOptions, TestBackend};
use mm_proto::v1;
use tonic::Code;

use crate::helpers::{TestApp, assert_field, spawn};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_instance_projects_on_sqlite() {
    search_instance_projects(TestBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_instance_projects_on_postgres() {
    search_instance_projects(TestBackend::Postgres).await;
}

async fn simulator() -> Sim {
    let project = |path: &str, commits: u32| ProjectSeed {
        path: path.to_owned(),
        empty: commits == 0,
        commits,
        ..Default::default()
    };
    Sim::start(SimConfig {
        instances: vec![InstanceSpec::ee("gl")],
        seed: Seed::Spec(SeedSpec {
            projects: vec![
                project("acme/platform/api", 1),
                project("acme/platform/web", 0),
                project("acme/tools/cli", 0),
                project("other/api-docs", 0),
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

async fn search_instance_projects(backend: TestBackend) {
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
        .search_instance_projects(v1::SearchInstanceProjectsRequest {
            instance_id: good,
            search: "api".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut paths: Vec<&str> = found
        .projects
        .iter()
        .map(|p| p.path_with_namespace.as_str())
        .collect();
    paths.sort_unstable();
    assert_eq!(paths, ["acme/platform/api", "other/api-docs"]);
    assert!(!found.has_next_page);
    let api = found
        .projects
        .iter()
        .find(|p| p.path_with_namespace == "acme/platform/api")
        .unwrap();
    assert_eq!(api.id, gl.project_id("acme/platform/api").unwrap() as i64);
    assert!(api.name.eq_ignore_ascii_case("api"), "{}", api.name);
    assert!(
        api.web_url.ends_with("/acme/platform/api"),
        "{}",
        api.web_url
    );
    assert!(!api.default_branch.is_empty(), "a project with commits");

    // A typed path prefix matches through the namespace.
    let by_path = client
        .search_instance_projects(v1::SearchInstanceProjectsRequest {
            instance_id: good,
            search: "acme/plat".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        by_path
            .projects
            .iter()
            .any(|p| p.path_with_namespace == "acme/platform/api"),
        "{:?}",
        by_path.projects
    );
    assert!(
        by_path
            .projects
            .iter()
            .all(|p| p.path_with_namespace.starts_with("acme/plat")),
        "{:?}",
        by_path.projects
    );

    // Pages of GitLab's paging.
    let first = client
        .search_instance_projects(v1::SearchInstanceProjectsRequest {
            instance_id: good,
            page_size: 3,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.projects.len(), 3);
    assert!(first.has_next_page);
    let second = client
        .search_instance_projects(v1::SearchInstanceProjectsRequest {
            instance_id: good,
            page_size: 3,
            page: 2,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.projects.len(), 1);
    assert!(!second.has_next_page);

    // A token GitLab rejects is the operator's to fix: FailedPrecondition.
    let rejected = instance(&app, "bad-token", &gl.base_url, "glpat-not-a-valid-token").await;
    let status = client
        .search_instance_projects(v1::SearchInstanceProjectsRequest {
            instance_id: rejected,
            search: "api".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(
        status.message().contains("token was rejected"),
        "{}",
        status.message()
    );

    // Nothing listens there: Unavailable, not Internal.
    let nowhere = instance(&app, "nowhere", "http://127.0.0.1:9", "glpat-x").await;
    let status = client
        .search_instance_projects(v1::SearchInstanceProjectsRequest {
            instance_id: nowhere,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");

    let status = client
        .search_instance_projects(v1::SearchInstanceProjectsRequest {
            instance_id: 999,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_field(&status, Code::NotFound, "instance_id");
    for (request, field) in [
        (v1::SearchInstanceProjectsRequest::default(), "instance_id"),
        (
            v1::SearchInstanceProjectsRequest {
                instance_id: good,
                page_size: 101,
                ..Default::default()
            },
            "page_size",
        ),
        (
            v1::SearchInstanceProjectsRequest {
                instance_id: good,
                page: -1,
                ..Default::default()
            },
            "page",
        ),
        (
            v1::SearchInstanceProjectsRequest {
                instance_id: good,
                search: "x".repeat(501),
                ..Default::default()
            },
            "search",
        ),
    ] {
        let status = client.search_instance_projects(request).await.unwrap_err();
        assert_field(&status, Code::InvalidArgument, field);
    }
    sim.shutdown().await;
}
