//! Project access tokens (bot users, rotation, expiry rules) and git smart
//! HTTP (clone, push, authentication answers).

mod common;

use common::*;
use gitlab_sim::InstanceSpec;
use reqwest::StatusCode;
use serde_json::json;

const PROJ: &str = "acme/platform/frontend/web-app";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_access_token_lifecycle() {
    let sim = demo_sim(vec![InstanceSpec::ee("gl")]).await;
    let i = sim.instance(0);
    let admin = Api::new(&i.base_url, &i.admin_token);
    let tokens = format!("/projects/{}/access_tokens", enc(PROJ));
    let pid = i.project_id(PROJ).unwrap();

    let r = admin
        .post(
            &tokens,
            json!({"name": "ci", "scopes": ["api", "write_repository"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let today = chrono::Utc::now().date_naive();
    assert_eq!(r.body["access_level"], json!(40), "Maintainer by default");
    assert_eq!(
        r.body["expires_at"],
        (today + chrono::Duration::days(365))
            .format("%Y-%m-%d")
            .to_string()
    );
    assert_eq!(r.body["active"], json!(true));
    assert_eq!(r.body["revoked"], json!(false));
    assert_eq!(r.body["scopes"], json!(["api", "write_repository"]));
    let tid = r.body["id"].as_u64().unwrap();
    let value = r.body["token"].as_str().unwrap().to_string();
    let bot = admin.with_token(&value);

    // The bot user authenticates for the API.
    let me = bot.get("/user").await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["bot"], json!(true));
    let uname = me.body["username"].as_str().unwrap();
    assert!(uname.starts_with(&format!("project_{pid}_bot_")), "{uname}");
    assert_eq!(me.body["name"], "ci");
    assert_eq!(me.body["id"], r.body["user_id"]);
    assert_eq!(
        bot.get(&format!("/projects/{}", enc(PROJ))).await.status,
        StatusCode::OK
    );
    // ... and only sees its own project.
    let r2 = bot
        .get("/projects/acme%2Fplatform%2Fbackend%2Fbilling-service")
        .await;
    assert_eq!(r2.status, StatusCode::NOT_FOUND);

    // get/list never show the value.
    let g = admin.get(&format!("{tokens}/{tid}")).await;
    assert!(g.body.get("token").is_none());
    assert_eq!(g.body["name"], "ci");
    let l = admin.get(&tokens).await;
    assert_eq!(l.body.as_array().unwrap().len(), 1);
    assert!(l.body[0].get("token").is_none());
    let r = admin.get(&format!("{tokens}/999999")).await;
    assert_eq!(
        r.body,
        json!({"message": "404 project Access Token Not Found"})
    );

    // Rules: scopes, access level, expiry, permissions.
    let r = admin
        .post(&tokens, json!({"name": "x", "scopes": ["read_user"]}))
        .await;
    assert_eq!(
        r.body,
        json!({"error": "scopes does not have a valid value"})
    );
    let r = admin.post(&tokens, json!({"scopes": ["api"]})).await;
    assert_eq!(r.body, json!({"error": "name is missing"}));
    let r = admin
        .post(
            &tokens,
            json!({"name": "x", "scopes": ["api"], "access_level": 35}),
        )
        .await;
    assert_eq!(
        r.body,
        json!({"error": "access_level does not have a valid value"})
    );
    let far = (today + chrono::Duration::days(400))
        .format("%Y-%m-%d")
        .to_string();
    let r = admin
        .post(
            &tokens,
            json!({"name": "x", "scopes": ["api"], "expires_at": far}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let max = (today + chrono::Duration::days(365))
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(
        r.body,
        json!({"message": format!("400 Bad request - Expires at must be before {max}")})
    );
    let dev = admin.with_token(&i.token_for("developer").unwrap());
    let r = dev
        .post(&tokens, json!({"name": "x", "scopes": ["api"]}))
        .await;
    assert_eq!(
        r.body,
        json!({"message": "400 Bad request - User does not have permission to create project access token"})
    );
    assert_eq!(dev.get(&tokens).await.status, StatusCode::UNAUTHORIZED);
    let maint = admin.with_token(&i.token_for("maintainer").unwrap());
    let r = maint
        .post(
            &tokens,
            json!({"name": "x", "scopes": ["api"], "access_level": 50}),
        )
        .await;
    assert_eq!(
        r.body,
        json!({"message": "400 Bad request - Access level of the token contains permissions not held by the creating user"})
    );
    // A project token cannot create project tokens.
    let r = bot
        .post(&tokens, json!({"name": "x", "scopes": ["api"]}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // Rotate: new value, old one dead, one week by default.
    let r = admin
        .post(&format!("{tokens}/{tid}/rotate"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let new_value = r.body["token"].as_str().unwrap().to_string();
    let new_id = r.body["id"].as_u64().unwrap();
    assert_ne!(new_value, value);
    assert_eq!(
        r.body["expires_at"],
        (today + chrono::Duration::days(7))
            .format("%Y-%m-%d")
            .to_string()
    );
    assert_eq!(bot.get("/user").await.status, StatusCode::UNAUTHORIZED);
    let bot2 = admin.with_token(&new_value);
    assert_eq!(bot2.get("/user").await.body["username"], uname);
    // Rotating the revoked predecessor is refused and revokes the family.
    let r = admin
        .post(&format!("{tokens}/{tid}/rotate"), json!({}))
        .await;
    assert_eq!(
        r.body,
        json!({"message": "400 Bad request - Token already revoked"})
    );
    assert_eq!(bot2.get("/user").await.status, StatusCode::UNAUTHORIZED);
    let r = admin.get(&format!("{tokens}?state=active")).await;
    assert_eq!(r.body.as_array().unwrap().len(), 0);

    // Self-rotation with a fresh token, then revoke.
    let r = admin
        .post(&tokens, json!({"name": "selfie", "scopes": ["api"]}))
        .await;
    let selfie = admin.with_token(r.body["token"].as_str().unwrap());
    let r = selfie
        .post(&format!("{tokens}/self/rotate"), json!({"expires_at": max}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["expires_at"], max);
    let sid = r.body["id"].as_u64().unwrap();
    assert_eq!(
        admin.delete(&format!("{tokens}/{sid}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        admin.delete(&format!("{tokens}/{new_id}")).await.status,
        StatusCode::BAD_REQUEST
    );
    let r = dev.post(&format!("{tokens}/{sid}/rotate"), json!({})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = admin
        .post(&format!("{tokens}/424242/rotate"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let kinds: Vec<String> = i.mutations().iter().map(|m| m.kind.clone()).collect();
    assert!(kinds.contains(&"project_access_token_created".to_string()));
    assert!(kinds.contains(&"project_access_token_rotated".to_string()));
    assert!(kinds.contains(&"project_access_token_revoked".to_string()));
    assert!(
        i.leftovers().project_access_tokens.is_empty(),
        "{:?}",
        i.leftovers()
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn git_clone_push_and_auth_answers() {
    let sim = demo_sim(vec![InstanceSpec::ee("gl")]).await;
    let i = sim.instance(0);
    let admin = Api::new(&i.base_url, &i.admin_token);
    let dir = tempfile::tempdir().unwrap();
    let private = "acme/platform/backend/billing-service";

    // No credentials on a private repository: 401 with GitLab's realm.
    let r = reqwest::get(format!(
        "{}/{private}.git/info/refs?service=git-upload-pack",
        i.base_url
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers()["www-authenticate"], "Basic realm=\"GitLab\"");
    // Blank username is refused even with a good token.
    let r = reqwest::Client::new()
        .get(format!(
            "{}/{private}.git/info/refs?service=git-upload-pack",
            i.base_url
        ))
        .basic_auth("", Some(&i.admin_token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // Clone with oauth2:<token>.
    let work = dir.path().join("w");
    let url = i.git_url(private, &i.admin_token);
    let (ok, _, err) = git(&["clone", "-q", &url, work.to_str().unwrap()], None).await;
    assert!(ok, "{err}");
    let (_, head, _) = git(&["rev-parse", "HEAD"], Some(&work)).await;
    let refs = i.refs(private).await.unwrap();
    assert_eq!(head.trim(), refs["refs/heads/main"]);

    // Push a new branch; it shows up in the API.
    std::fs::write(work.join("new.txt"), "hello\n").unwrap();
    assert!(
        git(&["checkout", "-q", "-b", "feature/new"], Some(&work))
            .await
            .0
    );
    assert!(git(&["add", "."], Some(&work)).await.0);
    assert!(git(&["commit", "-q", "-m", "new"], Some(&work)).await.0);
    let (ok, _, err) = git(&["push", "-q", "origin", "feature/new"], Some(&work)).await;
    assert!(ok, "{err}");
    let (_, sha, _) = git(&["rev-parse", "HEAD"], Some(&work)).await;
    let b = admin
        .get(&format!(
            "/projects/{}/repository/branches/feature%2Fnew",
            enc(private)
        ))
        .await;
    assert_eq!(b.status, StatusCode::OK, "{}", b.text);
    assert_eq!(b.body["commit"]["id"], sha.trim());
    assert_eq!(b.body["commit"]["title"], "new");

    // A read-only project token clones but cannot push (403).
    let tokens = format!("/projects/{}/access_tokens", enc(private));
    let r = admin
        .post(
            &tokens,
            json!({"name": "ro", "scopes": ["read_repository"], "access_level": 30}),
        )
        .await;
    let ro = r.body["token"].as_str().unwrap().to_string();
    let ro_work = dir.path().join("ro");
    let (ok, _, err) = git(
        &[
            "clone",
            "-q",
            &i.git_url(private, &ro),
            ro_work.to_str().unwrap(),
        ],
        None,
    )
    .await;
    assert!(ok, "{err}");
    let (ok, _, err) = git(
        &["push", "-q", "origin", "HEAD:refs/heads/ro-branch"],
        Some(&ro_work),
    )
    .await;
    assert!(!ok);
    assert!(err.contains("403") || err.contains("not allowed"), "{err}");
    // A reporter cannot push either.
    let rep = i.token_for("reporter").unwrap();
    let data_proj = "acme/data/pipelines/etl-jobs";
    let rw = dir.path().join("rep");
    let (ok, _, err) = git(
        &[
            "clone",
            "-q",
            &i.git_url(data_proj, &rep),
            rw.to_str().unwrap(),
        ],
        None,
    )
    .await;
    assert!(ok, "{err}");
    let (ok, _, _) = git(&["push", "-q", "origin", "HEAD:refs/heads/nope"], Some(&rw)).await;
    assert!(!ok);
    // A token with no git scope is an authentication failure.
    let uid = admin.get("/users?username=developer").await.body[0]["id"]
        .as_u64()
        .unwrap();
    let t = admin
        .post(
            &format!("/users/{uid}/personal_access_tokens"),
            json!({"name": "u", "scopes": ["read_user"]}),
        )
        .await;
    let nogit = t.body["token"].as_str().unwrap().to_string();
    let (ok, _, err) = git(&["ls-remote", &i.git_url(private, &nogit)], None).await;
    assert!(!ok);
    assert!(err.contains("Authentication failed"), "{err}");

    // Pushing into an empty project sets its default branch.
    let target = "mirror-targets/target-04";
    let (ok, _, err) = git(
        &[
            "push",
            "-q",
            &i.git_url(target, &i.admin_token),
            "HEAD:refs/heads/main",
        ],
        Some(&work),
    )
    .await;
    assert!(ok, "{err}");
    let p = admin.get(&format!("/projects/{}", enc(target))).await;
    assert_eq!(p.body["empty_repo"], json!(false));
    assert_eq!(p.body["default_branch"], "main");
    sim.shutdown().await;
}
