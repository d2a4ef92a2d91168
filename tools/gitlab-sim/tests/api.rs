//! REST API behaviour: authentication, scopes, projects, groups, pagination.

mod common;

use common::*;
use gitlab_sim::InstanceSpec;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_and_scopes() {
    let sim = demo_sim(vec![InstanceSpec::ee("gl").with_version("17.4.2")]).await;
    let i = sim.instance(0);
    let admin = Api::new(&i.base_url, &i.admin_token);
    let anon = Api::anonymous(&i.base_url);

    let r = anon.get("/version").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body, json!({"message": "401 Unauthorized"}));
    let r = admin.get("/metadata").await;
    assert_eq!(r.body["version"], "17.4.2-ee");
    assert_eq!(r.body["enterprise"], json!(true));
    assert!(r.body["kas"].is_object());

    // Bearer and query-string tokens work too.
    let r = reqwest::Client::new()
        .get(format!("{}/api/v4/user", i.base_url))
        .bearer_auth(&i.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let u: serde_json::Value = r.json().await.unwrap();
    assert_eq!(u["username"], "root");
    assert_eq!(u["is_admin"], json!(true));
    let r = anon
        .get(&format!("/user?private_token={}", i.admin_token))
        .await;
    assert_eq!(r.status, StatusCode::OK);

    // An unknown token is a 401 even on public resources.
    let r = admin.with_token("glpat-nope").get("/projects").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // Scopes: a read_repository token cannot use the API, read_api cannot write.
    let uid = admin.get("/users?username=developer").await.body[0]["id"]
        .as_u64()
        .unwrap();
    let t = admin
        .post(
            &format!("/users/{uid}/personal_access_tokens"),
            json!({"name": "ro", "scopes": ["read_repository"]}),
        )
        .await;
    assert_eq!(t.status, StatusCode::CREATED, "{}", t.text);
    let ro = admin.with_token(t.body["token"].as_str().unwrap());
    let r = ro.get("/projects").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["error"], "insufficient_scope");
    assert_eq!(r.body["scope"], "api read_api");
    assert!(r.headers.contains_key("www-authenticate"));
    // Any valid token may inspect itself.
    let r = ro.get("/personal_access_tokens/self").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["scopes"], json!(["read_repository"]));
    assert!(r.body.get("token").is_none());
    let t = admin
        .post(
            &format!("/users/{uid}/personal_access_tokens"),
            json!({"name": "ra", "scopes": ["read_api"]}),
        )
        .await;
    let ra = admin.with_token(t.body["token"].as_str().unwrap());
    assert_eq!(ra.get("/projects").await.status, StatusCode::OK);
    let r = ra.post("/projects", json!({"name": "x"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["scope"], "api");
    // Self-revoke, then the token is dead.
    assert_eq!(
        ra.delete("/personal_access_tokens/self").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(ra.get("/projects").await.status, StatusCode::UNAUTHORIZED);

    // Unknown routes and methods.
    let r = admin.get("/nonexistent").await;
    assert_eq!(r.body, json!({"error": "404 Not Found"}));
    let r = admin.call(reqwest::Method::PATCH, "/version", None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projects_get_list_search_and_pagination() {
    let sim = demo_sim(vec![InstanceSpec::ee("gl")]).await;
    let i = sim.instance(0);
    let admin = Api::new(&i.base_url, &i.admin_token);

    let by_path = admin
        .get(&format!(
            "/projects/{}",
            enc("acme/platform/backend/api-gateway")
        ))
        .await;
    assert_eq!(by_path.status, StatusCode::OK);
    let id = by_path.body["id"].as_u64().unwrap();
    assert_eq!(
        by_path.body["path_with_namespace"],
        "acme/platform/backend/api-gateway"
    );
    assert_eq!(
        by_path.body["name_with_namespace"],
        "Acme / Platform / Backend / Api Gateway"
    );
    assert_eq!(
        by_path.body["namespace"]["full_path"],
        "acme/platform/backend"
    );
    assert_eq!(
        by_path.body["http_url_to_repo"],
        format!("{}/acme/platform/backend/api-gateway.git", i.base_url)
    );
    assert_eq!(
        by_path.body["permissions"]["group_access"]["access_level"],
        json!(50)
    );
    assert_eq!(by_path.body["default_branch"], "main");
    assert!(by_path.body["created_at"].as_str().unwrap().ends_with('Z'));
    let by_id = admin.get(&format!("/projects/{id}")).await;
    assert_eq!(by_id.body["id"], by_path.body["id"]);
    let r = admin.get("/projects/acme%2Fnope").await;
    assert_eq!(r.body, json!({"message": "404 Project Not Found"}));
    // A private project is invisible (404, not 403) to a non-member.
    let rep = admin.with_token(&i.token_for("reporter").unwrap());
    let r = rep
        .get("/projects/acme%2Fplatform%2Fbackend%2Fbilling-service")
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Offset pagination: headers and Link navigation.
    let first = admin.get("/projects?per_page=7&order_by=id&sort=asc").await;
    let total: usize = first.header("x-total").unwrap().parse().unwrap();
    assert!(total >= 29);
    assert_eq!(
        first.header("x-total-pages").unwrap(),
        total.div_ceil(7).to_string()
    );
    assert_eq!(first.header("x-page").unwrap(), "1");
    assert_eq!(first.header("x-per-page").unwrap(), "7");
    assert_eq!(first.header("x-prev-page").unwrap(), "");
    assert_eq!(first.header("x-next-page").unwrap(), "2");
    let mut seen = vec![];
    let mut next = Some(format!(
        "{}/api/v4/projects?per_page=7&order_by=id&sort=asc",
        i.base_url
    ));
    while let Some(url) = next {
        let r = admin.get(&url).await;
        seen.extend(
            r.body
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id"].as_u64().unwrap()),
        );
        let link = r.header("link").unwrap();
        assert!(link.contains("rel=\"first\"") && link.contains("rel=\"last\""));
        next = link
            .split(", ")
            .find(|l| l.ends_with("rel=\"next\""))
            .map(|l| {
                l.trim_start_matches('<')
                    .split('>')
                    .next()
                    .unwrap()
                    .to_string()
            });
    }
    assert_eq!(seen.len(), total);
    assert!(seen.windows(2).all(|w| w[0] < w[1]));
    let r = admin.get("/projects?per_page=500").await;
    assert_eq!(r.header("x-per-page").unwrap(), "100");

    // Keyset pagination.
    let mut ids = vec![];
    let mut next = Some(format!(
        "{}/api/v4/projects?pagination=keyset&order_by=id&sort=asc&per_page=10",
        i.base_url
    ));
    while let Some(url) = next {
        let r = admin.get(&url).await;
        assert!(r.header("x-total").is_none());
        ids.extend(
            r.body
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id"].as_u64().unwrap()),
        );
        next = r.header("link").map(|l| {
            l.trim_start_matches('<')
                .split('>')
                .next()
                .unwrap()
                .to_string()
        });
        if let Some(n) = &next {
            assert!(n.contains("id_after="), "{n}");
        }
    }
    assert_eq!(ids, seen);
    let r = admin.get("/projects?pagination=keyset&order_by=name").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);

    // Search, simple, membership, ordering.
    let r = admin
        .get("/projects?search=SERVICE&simple=true&order_by=name&sort=asc")
        .await;
    let names: Vec<&str> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec!["auth-service", "billing-service", "user-service"]
    );
    assert!(r.body[0].get("visibility").is_none(), "simple form");
    let dev = admin.with_token(&i.token_for("developer").unwrap());
    let r = dev.get("/projects?membership=true&per_page=100").await;
    assert!(r.body.as_array().unwrap().iter().all(|p| {
        p["path_with_namespace"]
            .as_str()
            .unwrap()
            .starts_with("acme/")
    }));
    let r = admin.get("/projects?order_by=similarity&search=web").await;
    assert_eq!(r.body[0]["path"], "web-app");
    // Anonymous callers see public projects only, in the simple form.
    let r = Api::anonymous(&i.base_url)
        .get("/projects?per_page=100")
        .await;
    assert!(
        r.body
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p.get("visibility").is_none())
    );
    assert!(!r.body.as_array().unwrap().is_empty());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_and_project_lifecycle() {
    let sim = demo_sim(vec![InstanceSpec::ee("gl")]).await;
    let i = sim.instance(0);
    let admin = Api::new(&i.base_url, &i.admin_token);

    let g = admin.get("/groups/acme%2Fplatform").await;
    assert_eq!(g.status, StatusCode::OK);
    assert_eq!(g.body["full_path"], "acme/platform");
    assert_eq!(g.body["full_name"], "Acme / Platform");
    let gid = g.body["id"].as_u64().unwrap();
    let r = admin.get(&format!("/groups/{gid}/projects")).await;
    assert_eq!(r.body.as_array().unwrap().len(), 0, "no direct projects");
    let r = admin
        .get(&format!(
            "/groups/{gid}/projects?include_subgroups=true&per_page=100"
        ))
        .await;
    assert_eq!(r.body.as_array().unwrap().len(), 7);
    let r = admin.get(&format!("/groups/{gid}/subgroups")).await;
    let subs: Vec<&str> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["path"].as_str().unwrap())
        .collect();
    assert_eq!(subs, vec!["backend", "frontend"]);
    let r = admin.get("/groups/acme/descendant_groups").await;
    assert!(r.body.as_array().unwrap().len() >= 6);
    let r = admin.get("/groups?search=platform").await;
    assert_eq!(r.body.as_array().unwrap().len(), 1);
    let r = admin.get("/groups/nope").await;
    assert_eq!(r.body, json!({"message": "404 Group Not Found"}));
    let r = admin.get("/namespaces?search=mirror").await;
    let ns_id = r.body[0]["id"].as_u64().unwrap();

    // Create, edit, delete.
    let r = admin
        .post(
            "/projects",
            json!({"name": "New Thing", "namespace_id": ns_id, "initialize_with_readme": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["path_with_namespace"], "mirror-targets/new-thing");
    assert_eq!(r.body["default_branch"], "main");
    assert_eq!(r.body["empty_repo"], json!(false));
    let pid = r.body["id"].as_u64().unwrap();
    let r = admin
        .post(
            "/projects",
            json!({"name": "New Thing", "namespace_id": ns_id}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = admin.post("/projects", json!({})).await;
    assert_eq!(
        r.body,
        json!({"error": "name, path are missing, at least one parameter must be provided"})
    );
    let r = admin
        .put(
            &format!("/projects/{pid}"),
            json!({"description": "changed", "visibility": "internal"}),
        )
        .await;
    assert_eq!(r.body["description"], "changed");
    assert_eq!(r.body["visibility"], "internal");
    let dev = admin.with_token(&i.token_for("developer").unwrap());
    let r = dev
        .put(
            "/projects/acme%2Ftools%2Fci-templates",
            json!({"description": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = admin.delete(&format!("/projects/{pid}")).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    assert_eq!(r.body, json!({"message": "202 Accepted"}));
    assert_eq!(
        admin.get(&format!("/projects/{pid}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(
        i.mutations()
            .iter()
            .any(|m| m.kind == "project_deleted" && m.object_id == pid)
    );
    sim.shutdown().await;
}
