//! Push and pull mirrors end to end, over real HTTP with real git.

mod common;

use common::*;
use gitlab_sim::{InstanceSpec, MirrorTiming};
use reqwest::StatusCode;
use serde_json::json;

const SOURCE: &str = "acme/platform/backend/api-gateway";
const TARGET: &str = "mirror-targets/target-01";
/// A private project (anonymous fetches are refused).
const PRIVATE_SOURCE: &str = "acme/platform/backend/billing-service";

/// The acceptance scenario: through the REST API alone, a project token on
/// an empty project of instance 2, a push mirror on instance 1 pointing at
/// it, a sync, and identical branches and tags afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_mirror_really_mirrors_between_instances() {
    let sim = demo_sim(vec![InstanceSpec::ee("gl-a"), InstanceSpec::ee("gl-b")]).await;
    let a = Api::new(&sim.instance(0).base_url, &sim.instance(0).admin_token);
    let b = Api::new(&sim.instance(1).base_url, &sim.instance(1).admin_token);

    let target = b.get(&format!("/projects/{}", enc(TARGET))).await;
    assert_eq!(target.status, StatusCode::OK);
    assert_eq!(target.body["empty_repo"], json!(true));

    let tok = b
        .post(
            &format!("/projects/{}/access_tokens", enc(TARGET)),
            json!({"name": "mirror-push", "scopes": ["write_repository"], "access_level": 40}),
        )
        .await;
    assert_eq!(tok.status, StatusCode::CREATED, "{}", tok.text);
    let token = tok.body["token"]
        .as_str()
        .expect("token value on create")
        .to_string();
    assert!(token.starts_with("glpat-"));

    let host_b = sim
        .instance(1)
        .base_url
        .trim_start_matches("http://")
        .to_string();
    let url = format!("http://oauth2:{token}@{host_b}/{TARGET}.git");
    let m = a
        .post(
            &format!("/projects/{}/remote_mirrors", enc(SOURCE)),
            json!({"url": url, "enabled": true, "keep_divergent_refs": false}),
        )
        .await;
    assert_eq!(m.status, StatusCode::CREATED, "{}", m.text);
    assert_eq!(m.body["update_status"], "none");
    assert_eq!(
        m.body["url"],
        format!("http://*****:*****@{host_b}/{TARGET}.git")
    );
    assert!(m.body["last_update_at"].is_null());
    let mid = m.body["id"].as_u64().unwrap();

    let s = a
        .post(
            &format!("/projects/{}/remote_mirrors/{mid}/sync", enc(SOURCE)),
            json!({}),
        )
        .await;
    assert_eq!(s.status, StatusCode::NO_CONTENT);
    // The update is visible as `started` for at least the configured duration.
    let during = a
        .get(&format!("/projects/{}/remote_mirrors/{mid}", enc(SOURCE)))
        .await;
    assert_eq!(during.body["update_status"], "started", "{}", during.text);
    assert!(during.body["last_update_started_at"].is_string());
    // A sync while running is a silent 204.
    let again = a
        .post(
            &format!("/projects/{}/remote_mirrors/{mid}/sync", enc(SOURCE)),
            json!({}),
        )
        .await;
    assert_eq!(again.status, StatusCode::NO_CONTENT);

    let done = wait_mirror_done(&a, SOURCE, mid).await;
    assert_eq!(done["update_status"], "finished", "{done}");
    assert!(done["last_error"].is_null());
    assert!(done["last_successful_update_at"].is_string());
    assert_eq!(done["last_update_at"], done["last_successful_update_at"]);

    let src = sim.instance(0).refs(SOURCE).await.unwrap();
    let dst = sim.instance(1).refs(TARGET).await.unwrap();
    assert!(src.keys().any(|k| k.starts_with("refs/tags/")));
    assert!(src.len() >= 5, "{src:?}");
    assert_eq!(src, dst, "target refs must equal source refs");

    // Through the API as well: branch and tag SHAs match.
    for kind in ["branches", "tags"] {
        let sa = a
            .get(&format!(
                "/projects/{}/repository/{kind}?per_page=100",
                enc(SOURCE)
            ))
            .await;
        let sb = b
            .get(&format!(
                "/projects/{}/repository/{kind}?per_page=100",
                enc(TARGET)
            ))
            .await;
        let pick = |v: &serde_json::Value| {
            let mut x: Vec<(String, String)> = v
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    (
                        e["name"].as_str().unwrap().to_string(),
                        e["commit"]["id"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            x.sort();
            x
        };
        assert_eq!(pick(&sa.body), pick(&sb.body), "{kind}");
    }
    let t = b.get(&format!("/projects/{}", enc(TARGET))).await;
    assert_eq!(t.body["empty_repo"], json!(false));
    assert_eq!(t.body["default_branch"], "main");

    // The bot user of the token shows up as the pusher; mutation log and leftovers.
    let muts = sim.instance(1).mutations();
    assert!(
        muts.iter()
            .any(|m| m.kind == "project_access_token_created")
    );
    assert!(
        sim.instance(0)
            .mutations()
            .iter()
            .any(|m| m.kind == "remote_mirror_created")
    );
    assert_eq!(sim.instance(0).leftovers().remote_mirrors.len(), 1);

    // Clean up through the API and prove nothing is left behind.
    let d = a
        .delete(&format!("/projects/{}/remote_mirrors/{mid}", enc(SOURCE)))
        .await;
    assert_eq!(d.status, StatusCode::NO_CONTENT);
    let d = a
        .delete(&format!("/projects/{}/remote_mirrors/{mid}", enc(SOURCE)))
        .await;
    assert_eq!(d.status, StatusCode::NOT_FOUND);
    assert_eq!(d.body, json!({"message": "404 Not found"}));
    let tid = tok.body["id"].as_u64().unwrap();
    let r = b
        .delete(&format!("/projects/{}/access_tokens/{tid}", enc(TARGET)))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(sim.instance(0).leftovers().is_empty());
    assert!(
        sim.instance(1).leftovers().is_empty(),
        "{:?}",
        sim.instance(1).leftovers()
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_mirror_failures_look_like_gitlab() {
    let sim = demo_sim(vec![InstanceSpec::ee("gl-a"), InstanceSpec::ee("gl-b")]).await;
    let a = Api::new(&sim.instance(0).base_url, &sim.instance(0).admin_token);
    let host_b = sim
        .instance(1)
        .base_url
        .trim_start_matches("http://")
        .to_string();
    let mirrors = format!("/projects/{}/remote_mirrors", enc(SOURCE));

    // Bad token: authentication failure.
    let m = a
        .post(&mirrors, json!({"url": format!("http://oauth2:glpat-wrong@{host_b}/{TARGET}.git"), "enabled": true}))
        .await;
    let bad = m.body["id"].as_u64().unwrap();
    assert_eq!(
        a.post(&format!("{mirrors}/{bad}/sync"), json!({}))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let done = wait_mirror_done(&a, SOURCE, bad).await;
    assert_eq!(done["update_status"], "failed");
    let err = done["last_error"].as_str().unwrap();
    assert!(err.contains("Authentication failed"), "{err}");
    assert!(
        !err.contains("glpat-wrong"),
        "credentials must not leak: {err}"
    );
    assert!(done["last_successful_update_at"].is_null());

    // Unreachable remote.
    let m = a
        .post(
            &mirrors,
            json!({"url": "http://127.0.0.1:1/x/y.git", "enabled": true}),
        )
        .await;
    let unreachable = m.body["id"].as_u64().unwrap();
    a.post(&format!("{mirrors}/{unreachable}/sync"), json!({}))
        .await;
    let done = wait_mirror_done(&a, SOURCE, unreachable).await;
    assert_eq!(done["update_status"], "failed");
    assert!(
        done["last_error"]
            .as_str()
            .unwrap()
            .contains("unable to access"),
        "{done}"
    );

    // Disabled mirror: 400 with GitLab's message.
    let m = a
        .post(&mirrors, json!({"url": "https://example.com/a.git"}))
        .await;
    assert_eq!(m.body["enabled"], json!(false));
    let disabled = m.body["id"].as_u64().unwrap();
    let r = a
        .post(&format!("{mirrors}/{disabled}/sync"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        json!({"message": "Cannot proceed with the push mirroring. Please verify your mirror configuration."})
    );

    // Validation errors.
    let r = a
        .post(&mirrors, json!({"url": "ftp://example.com/a.git"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        json!({"message": {"url": ["is blocked: Only allowed schemes are http, https, ssh, git"]}})
    );
    let r = a
        .post(
            &mirrors,
            json!({"url": "https://e.com/a.git", "auth_method": "nope"}),
        )
        .await;
    assert_eq!(
        r.body,
        json!({"error": "auth_method does not have a valid value"})
    );
    let r = a
        .put(
            &format!("{mirrors}/{disabled}"),
            json!({"auth_method": "nope"}),
        )
        .await;
    assert_eq!(
        r.body,
        json!({"message": {"auth_method": ["is not included in the list"]}})
    );
    let r = a
        .put(
            &format!("{mirrors}/{disabled}"),
            json!({"only_protected_branches": null}),
        )
        .await;
    assert_eq!(
        r.body,
        json!({"message": {"only_protected_branches": ["can't be blank"]}})
    );
    let r = a
        .get(&format!("/projects/{}/remote_mirrors", enc("nope/nope")))
        .await;
    assert_eq!(r.body, json!({"message": "404 Project Not Found"}));

    // Enable through PUT and check the masked URL of the listing.
    let r = a
        .put(
            &format!("{mirrors}/{disabled}"),
            json!({"enabled": true, "only_protected_branches": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["enabled"], json!(true));
    assert_eq!(r.body["url"], "https://example.com/a.git");

    // A Developer gets 401 on remote mirrors (GitLab's unauthorized!).
    let dev = a.with_token(&sim.instance(0).token_for("developer").unwrap());
    let r = dev.get(&mirrors).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body, json!({"message": "401 Unauthorized"}));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_divergent_refs_fails_with_the_diverged_refs() {
    let sim = demo_sim(vec![InstanceSpec::ee("gl-a"), InstanceSpec::ee("gl-b")]).await;
    let a = Api::new(&sim.instance(0).base_url, &sim.instance(0).admin_token);
    let b_admin = sim.instance(1).admin_token.clone();
    let host_b = sim
        .instance(1)
        .base_url
        .trim_start_matches("http://")
        .to_string();
    // The same path exists on both instances with different histories.
    let url = format!("http://root:{b_admin}@{host_b}/{SOURCE}.git");
    let mirrors = format!("/projects/{}/remote_mirrors", enc(SOURCE));
    let m = a
        .post(
            &mirrors,
            json!({"url": url, "enabled": true, "keep_divergent_refs": true}),
        )
        .await;
    let mid = m.body["id"].as_u64().unwrap();
    a.post(&format!("{mirrors}/{mid}/sync"), json!({})).await;
    let done = wait_mirror_done(&a, SOURCE, mid).await;
    assert_eq!(done["update_status"], "failed");
    let err = done["last_error"].as_str().unwrap();
    assert!(
        err.starts_with("Some refs have diverged and have not been updated on the remote:"),
        "{err}"
    );
    assert!(err.contains("refs/heads/main"), "{err}");
    // Without keep_divergent_refs the push is forced and succeeds.
    let r = a
        .put(
            &format!("{mirrors}/{mid}"),
            json!({"keep_divergent_refs": false}),
        )
        .await;
    assert_eq!(r.body["keep_divergent_refs"], json!(false));
    a.post(&format!("{mirrors}/{mid}/sync"), json!({})).await;
    let done = wait_for(30, "forced mirror run", || async {
        let r = a.get(&format!("{mirrors}/{mid}")).await;
        (r.body["update_status"] == "finished").then_some(r.body)
    })
    .await;
    assert!(done["last_error"].is_null());
    assert_eq!(
        sim.instance(0).refs(SOURCE).await.unwrap(),
        sim.instance(1).refs(SOURCE).await.unwrap()
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_sync_backoff_and_stuck_mirrors() {
    let sim = demo_sim(vec![InstanceSpec::ee("gl-a"), InstanceSpec::ee("gl-b")]).await;
    let a = Api::new(&sim.instance(0).base_url, &sim.instance(0).admin_token);
    let host_b = sim
        .instance(1)
        .base_url
        .trim_start_matches("http://")
        .to_string();
    let b_admin = sim.instance(1).admin_token.clone();
    let mirrors = format!("/projects/{}/remote_mirrors", enc(SOURCE));
    let url = format!("http://root:{b_admin}@{host_b}/mirror-targets/target-02.git");
    let m = a.post(&mirrors, json!({"url": url, "enabled": true})).await;
    let mid = m.body["id"].as_u64().unwrap();
    a.post(&format!("{mirrors}/{mid}/sync"), json!({})).await;
    let first = wait_mirror_done(&a, SOURCE, mid).await;
    assert_eq!(first["update_status"], "finished");

    // With a 2 s backoff, an immediate second sync is accepted (204) but delayed.
    sim.instance(0).set_mirror_timing(MirrorTiming {
        push_backoff_ms: 2_000,
        ..MirrorTiming::fast()
    });
    let r = a.post(&format!("{mirrors}/{mid}/sync"), json!({})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let mid_state = a.get(&format!("{mirrors}/{mid}")).await;
    assert_eq!(
        mid_state.body["last_update_started_at"], first["last_update_started_at"],
        "run must be delayed"
    );
    let later = wait_for(20, "delayed run", || async {
        let r = a.get(&format!("{mirrors}/{mid}")).await;
        (r.body["last_update_started_at"] != first["last_update_started_at"]
            && r.body["update_status"] == "finished")
            .then_some(r.body)
    })
    .await;
    assert!(later["last_error"].is_null());

    // Stuck mirrors stay `started`; syncs are silent no-ops meanwhile.
    sim.instance(0).set_mirror_timing(MirrorTiming {
        stuck_probability: 1.0,
        stuck_timeout_ms: 1_500,
        ..MirrorTiming::fast()
    });
    a.post(&format!("{mirrors}/{mid}/sync"), json!({})).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let stuck = a.get(&format!("{mirrors}/{mid}")).await;
    assert_eq!(stuck.body["update_status"], "started");
    assert_eq!(
        a.post(&format!("{mirrors}/{mid}/sync"), json!({}))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let reaped = wait_mirror_done(&a, SOURCE, mid).await;
    assert_eq!(reaped["update_status"], "failed");
    assert_eq!(
        reaped["last_error"],
        "Remote mirror update took too long to complete."
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_mirror_fetches_and_pauses_after_fourteen_failures() {
    let sim = demo_sim(vec![InstanceSpec::ee("gl-a"), InstanceSpec::ee("gl-b")]).await;
    let a = Api::new(&sim.instance(0).base_url, &sim.instance(0).admin_token);
    let b = Api::new(&sim.instance(1).base_url, &sim.instance(1).admin_token);
    let host_a = sim
        .instance(0)
        .base_url
        .trim_start_matches("http://")
        .to_string();

    // Not mirrored yet.
    let r = b
        .get(&format!("/projects/{}/mirror/pull", enc(TARGET)))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body, json!({"message": "The project is not mirrored"}));
    let r = b
        .post(&format!("/projects/{}/mirror/pull", enc(TARGET)), json!({}))
        .await;
    assert_eq!(r.body, json!({"message": "The project is not mirrored"}));

    // A read token on the source; configure with the 17.6+ endpoint.
    let tok = a
        .post(
            &format!("/projects/{}/access_tokens", enc(PRIVATE_SOURCE)),
            json!({"name": "pull", "scopes": ["read_repository"], "access_level": 20}),
        )
        .await;
    let token = tok.body["token"].as_str().unwrap().to_string();
    let r = b
        .put(
            &format!("/projects/{}/mirror/pull", enc(TARGET)),
            json!({"enabled": true, "url": format!("http://{host_a}/{PRIVATE_SOURCE}.git"), "auth_user": "oauth2",
                   "auth_password": token, "mirror_overwrites_diverged_branches": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["enabled"], json!(true));
    assert_eq!(
        r.body["url"],
        format!("http://*****:*****@{host_a}/{PRIVATE_SOURCE}.git")
    );
    let done = wait_pull_done(&b, TARGET).await;
    assert_eq!(done["update_status"], "finished", "{done}");
    let src = sim.instance(0).refs(PRIVATE_SOURCE).await.unwrap();
    let dst = sim.instance(1).refs(TARGET).await.unwrap();
    let heads = |m: &std::collections::BTreeMap<String, String>| {
        m.iter()
            .filter(|(k, _)| !k.starts_with("refs/upstream/"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(heads(&src), heads(&dst));
    let p = b.get(&format!("/projects/{}", enc(TARGET))).await;
    assert_eq!(p.body["mirror"], json!(true));
    assert_eq!(p.body["mirror_overwrites_diverged_branches"], json!(true));
    assert_eq!(
        p.body["import_url"],
        format!("http://{host_a}/{PRIVATE_SOURCE}.git")
    );
    assert_eq!(p.body["empty_repo"], json!(false));

    // Manual trigger: 200 with an empty body.
    let r = b
        .post(&format!("/projects/{}/mirror/pull", enc(TARGET)), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.is_empty());
    wait_pull_done(&b, TARGET).await;

    // Revoke the token: the next pulls fail; after 15 failures the mirror pauses.
    let tid = tok.body["id"].as_u64().unwrap();
    a.delete(&format!(
        "/projects/{}/access_tokens/{tid}",
        enc(PRIVATE_SOURCE)
    ))
    .await;
    for n in 1..=15 {
        let r = b
            .post(&format!("/projects/{}/mirror/pull", enc(TARGET)), json!({}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "trigger {n}: {}", r.text);
        let st = wait_for(30, "failed pull", || async {
            let r = b
                .get(&format!("/projects/{}/mirror/pull", enc(TARGET)))
                .await;
            (r.body["update_status"] == "failed").then_some(r.body)
        })
        .await;
        assert!(
            st["last_error"]
                .as_str()
                .unwrap()
                .contains("Authentication failed"),
            "{st}"
        );
        // Wait for the run to be fully recorded before the next trigger.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let r = b
        .post(&format!("/projects/{}/mirror/pull", enc(TARGET)), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        r.body,
        json!({"message": "Mirroring for the project is on pause"})
    );

    // Legacy way: PUT /projects/:id mirror=false disables it.
    let r = b
        .put(
            &format!("/projects/{}", enc(TARGET)),
            json!({"mirror": false}),
        )
        .await;
    assert_eq!(r.body["mirror"], json!(false));
    assert!(sim.instance(1).leftovers().pull_mirrors.is_empty());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_pull_mirror_via_project_edit_and_ce_has_none() {
    let sim = demo_sim(vec![InstanceSpec::ee("gl-a"), InstanceSpec::ce("gl-ce")]).await;
    let a = Api::new(&sim.instance(0).base_url, &sim.instance(0).admin_token);
    let ce = Api::new(&sim.instance(1).base_url, &sim.instance(1).admin_token);
    let host_a = sim
        .instance(0)
        .base_url
        .trim_start_matches("http://")
        .to_string();
    let admin_a = sim.instance(0).admin_token.clone();
    let url = format!("http://root:{admin_a}@{host_a}/{SOURCE}.git");

    // CE: no pull-mirror API, and the mirror fields are ignored.
    let r = ce
        .get(&format!("/projects/{}/mirror/pull", enc(TARGET)))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body, json!({"error": "404 Not Found"}));
    let r = ce
        .put(
            &format!("/projects/{}", enc(TARGET)),
            json!({"import_url": url, "mirror": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.get("mirror").is_none(), "CE has no mirror field");
    let v = ce.get("/version").await;
    assert_eq!(v.body["version"], "17.6.1");
    assert_eq!(v.body["enterprise"], json!(false));

    // EE legacy configuration on another project of the same instance.
    let target = "mirror-targets/target-03";
    let r = a
        .put(
            &format!("/projects/{}", enc(target)),
            json!({"import_url": url, "mirror": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["mirror"], json!(true));
    assert_eq!(
        r.body["import_url"],
        format!("http://{host_a}/{SOURCE}.git"),
        "credentials are not shown"
    );
    let done = wait_pull_done(&a, target).await;
    assert_eq!(done["update_status"], "finished", "{done}");
    assert_eq!(
        done["url"],
        format!("http://*****:*****@{host_a}/{SOURCE}.git")
    );
    assert_eq!(sim.instance(0).leftovers().pull_mirrors.len(), 1);
    let r = a
        .put(
            &format!("/projects/{}", enc(target)),
            json!({"import_url": "ftp://x/y.git"}),
        )
        .await;
    assert_eq!(
        r.body,
        json!({"message": {"import_url": ["is blocked: Only allowed schemes are http, https, ssh, git"]}})
    );
    sim.shutdown().await;
}
