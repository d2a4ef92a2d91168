//! Issues, notes, labels, milestones and time tracking.

mod common;

use common::*;
use gitlab_sim::InstanceSpec;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_tracker_subset() {
    let sim = demo_sim(vec![InstanceSpec::ee("gl")]).await;
    let i = sim.instance(0);
    let admin = Api::new(&i.base_url, &i.admin_token);
    let p = format!("/projects/{}", enc("acme/tools/ci-templates"));

    // Labels.
    let r = admin
        .post(
            &format!("{p}/labels"),
            json!({"name": "bug", "color": "#d9534f", "description": "Broken"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["text_color"], "#FFFFFF");
    let r = admin
        .post(
            &format!("{p}/labels"),
            json!({"name": "bug", "color": "#000000"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body, json!({"message": "Label already exists"}));
    let r = admin
        .post(&format!("{p}/labels"), json!({"name": "x"}))
        .await;
    assert_eq!(r.body, json!({"error": "color is missing"}));
    let r = admin
        .put(&format!("{p}/labels/bug"), json!({"new_name": "defect"}))
        .await;
    assert_eq!(r.body["name"], "defect");

    // Milestones.
    let r = admin
        .post(
            &format!("{p}/milestones"),
            json!({"title": "v1", "due_date": "2030-01-31"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["state"], "active");
    assert_eq!(r.body["due_date"], "2030-01-31");
    let ms = r.body["id"].as_u64().unwrap();
    let r = admin
        .put(
            &format!("{p}/milestones/{ms}"),
            json!({"state_event": "close"}),
        )
        .await;
    assert_eq!(r.body["state"], "closed");

    // Issues: iid sequence continues after the seeded ones.
    let before = admin
        .get(&format!("{p}/issues?state=all"))
        .await
        .body
        .as_array()
        .unwrap()
        .len();
    let r = admin
        .post(
            &format!("{p}/issues"),
            json!({"title": "Crash", "description": "It crashes", "labels": "defect,new-label", "milestone_id": ms}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["iid"], json!(before + 1));
    assert_eq!(r.body["labels"], json!(["defect", "new-label"]));
    assert_eq!(r.body["milestone"]["title"], "v1");
    assert_eq!(r.body["state"], "opened");
    assert_eq!(r.body["author"]["username"], "root");
    let iid = r.body["iid"].as_u64().unwrap();
    let r = admin
        .post(&format!("{p}/issues"), json!({"description": "no title"}))
        .await;
    assert_eq!(r.body, json!({"error": "title is missing"}));
    // Unknown labels were created.
    let labels = admin.get(&format!("{p}/labels")).await;
    assert!(
        labels
            .body
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["name"] == "new-label")
    );

    let r = admin
        .put(
            &format!("{p}/issues/{iid}"),
            json!({"state_event": "close", "remove_labels": "new-label", "milestone_id": 0}),
        )
        .await;
    assert_eq!(r.body["state"], "closed");
    assert!(r.body["closed_at"].is_string());
    assert_eq!(r.body["closed_by"]["username"], "root");
    assert_eq!(r.body["labels"], json!(["defect"]));
    assert!(r.body["milestone"].is_null());
    let r = admin.get(&format!("{p}/issues?state=closed")).await;
    assert_eq!(r.body.as_array().unwrap().len(), 1);
    let r = admin
        .get(&format!("{p}/issues?labels=defect&state=all"))
        .await;
    assert_eq!(r.body[0]["iid"], json!(iid));
    let r = admin
        .put(
            &format!("{p}/issues/{iid}"),
            json!({"state_event": "reopen"}),
        )
        .await;
    assert_eq!(r.body["state"], "opened");
    assert_eq!(
        admin.get(&format!("{p}/issues/999")).await.body,
        json!({"message": "404 Issue Not Found"})
    );

    // Notes, newest first by default.
    for b in ["first", "second"] {
        let r = admin
            .post(&format!("{p}/issues/{iid}/notes"), json!({"body": b}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        assert_eq!(r.body["noteable_type"], "Issue");
    }
    let r = admin.get(&format!("{p}/issues/{iid}/notes")).await;
    let bodies: Vec<&str> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, vec!["second", "first"]);
    let nid = r.body[0]["id"].as_u64().unwrap();
    let r = admin
        .put(
            &format!("{p}/issues/{iid}/notes/{nid}"),
            json!({"body": "edited"}),
        )
        .await;
    assert_eq!(r.body["body"], "edited");
    assert_eq!(
        admin.get(&format!("{p}/issues/{iid}")).await.body["user_notes_count"],
        json!(2)
    );
    assert_eq!(
        admin
            .delete(&format!("{p}/issues/{iid}/notes/{nid}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );

    // Time tracking.
    let r = admin
        .post(
            &format!("{p}/issues/{iid}/time_estimate"),
            json!({"duration": "3h30m"}),
        )
        .await;
    assert_eq!(
        r.body,
        json!({"time_estimate": 12600, "total_time_spent": 0, "human_time_estimate": "3h 30m", "human_total_time_spent": null})
    );
    let r = admin
        .post(
            &format!("{p}/issues/{iid}/add_spent_time"),
            json!({"duration": "1h"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["human_total_time_spent"], "1h");
    let r = admin
        .post(&format!("{p}/issues/{iid}/reset_spent_time"), json!({}))
        .await;
    assert_eq!(r.body["total_time_spent"], json!(0));
    let r = admin.get(&format!("{p}/issues/{iid}/time_stats")).await;
    assert_eq!(r.body["time_estimate"], json!(12600));

    // Reporters can comment on a project they can see; anonymous cannot write.
    let anon = Api::anonymous(&i.base_url);
    assert_eq!(
        anon.post(&format!("{p}/issues"), json!({"title": "x"}))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    sim.shutdown().await;
}
