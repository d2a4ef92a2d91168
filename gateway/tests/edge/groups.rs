//! `GET /api/instances/{id}/groups` through the real API service against the GitLab simulator:
//! GitLab's group search, its pages as `X-Next-Page` and `Link`, and errors naming the field.

use gitlab_sim::{InstanceSpec, Seed, SeedSpec, Sim, SimConfig, seed::ProjectSeed};
use reqwest::Method;
use serde_json::{Value, json};

use super::sqlite;

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

fn paths(groups: &Value) -> Vec<String> {
    groups
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["full_path"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_groups_are_searched_in_gitlab() {
    let e = sqlite().await;
    let sim = simulator().await;
    let gl = sim.instance(0);
    let instance = e
        .call(
            Method::POST,
            "/api/instances",
            Some(json!({"name": "sim", "url": gl.base_url, "token": gl.admin_token})),
        )
        .await
        .expect(201);
    let id = instance["id"].as_i64().unwrap();
    let groups = |query: &str| format!("/api/instances/{id}/groups{query}");

    let reply = e.call(Method::GET, &groups("?search=platform"), None).await;
    let found = reply.expect(200);
    assert_eq!(paths(&found), ["acme/platform"]);
    let platform = &found[0];
    assert!(
        platform["name"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case("platform"),
        "{platform}"
    );
    assert!(platform["id"].as_i64().unwrap() > 0);
    assert!(
        platform["web_url"]
            .as_str()
            .unwrap()
            .ends_with("/groups/acme/platform"),
        "{platform}"
    );
    assert!(reply.headers.get("x-next-page").is_none());
    let acme = e
        .call(Method::GET, &groups("?search=acme"), None)
        .await
        .expect(200);
    let top = acme
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["full_path"] == "acme")
        .expect("the top-level group is found");
    assert_eq!(top["parent_id"], Value::Null, "{top}");
    assert_eq!(platform["parent_id"], top["id"]);

    // GitLab's pages, with `per_page` as GitLab spells it.
    let first = e.call(Method::GET, &groups("?per_page=3"), None).await;
    let first_page = first.expect(200);
    assert_eq!(first_page.as_array().unwrap().len(), 3);
    assert_eq!(first.headers["x-next-page"], "2");
    let link = first.headers["link"].to_str().unwrap();
    assert!(
        link.contains("page=2") && link.contains("rel=\"next\""),
        "{link}"
    );
    let second = e
        .call(Method::GET, &groups("?per_page=3&page=2"), None)
        .await;
    let second_page = second.expect(200);
    assert!(second.headers.get("x-next-page").is_none());
    let mut every = paths(&first_page);
    every.extend(paths(&second_page));
    every.sort_unstable();
    assert_eq!(every, ["acme", "acme/platform", "acme/tools", "other"]);

    // Bad input names the REST field; an unknown instance is a 404 naming `id`.
    let long = "x".repeat(256);
    for (query, field) in [
        ("?per_page=0".to_owned(), "page_size"),
        ("?page_size=101".to_owned(), "page_size"),
        ("?page=0".to_owned(), "page"),
        (format!("?search={long}"), "search"),
    ] {
        e.call(Method::GET, &groups(&query), None)
            .await
            .expect_field_error(field);
    }
    let missing = e
        .call(Method::GET, "/api/instances/999999/groups", None)
        .await;
    assert_eq!(missing.status.as_u16(), 404, "{}", missing.text);
    missing.expect_field_error("id");

    for text in e.seen.lock().unwrap().iter() {
        assert!(!text.contains(&gl.admin_token), "token leaked in {text}");
    }
    sim.shutdown().await;
}
