//! Served routes that GitLab's spec does not describe.

/// Routes absent from both specs (see `shared/gitlab-openapi/README.md`,
/// "Known defects": /user, issues, notes, labels, milestones, time
/// tracking and the EE pull-mirror API are missing; facts §7: only
/// `POST .../uploads` is in the 2024 spec, the other upload routes came in
/// 17.2 and 17.4).
pub(crate) const NOT_IN_SPEC: &[(&str, &str, &str)] = &[
    (
        "GET",
        "/api/v4/projects/{id}/uploads",
        "facts §7: project uploads are POST only in 2024",
    ),
    (
        "GET",
        "/api/v4/projects/{id}/uploads/{upload_id}",
        "facts §7: project uploads are POST only in 2024",
    ),
    (
        "DELETE",
        "/api/v4/projects/{id}/uploads/{upload_id}",
        "facts §7: project uploads are POST only in 2024",
    ),
    (
        "GET",
        "/api/v4/projects/{id}/uploads/{secret}/{filename}",
        "facts §7: project uploads are POST only in 2024 (by secret: 17.4+)",
    ),
    (
        "DELETE",
        "/api/v4/projects/{id}/uploads/{secret}/{filename}",
        "facts §7: project uploads are POST only in 2024 (by secret: 17.4+)",
    ),
    ("GET", "/api/v4/user", "README: GET /api/v4/user is missing"),
    (
        "GET",
        "/api/v4/projects/{id}/mirror/pull",
        "README: EE pull-mirror API missing",
    ),
    (
        "PUT",
        "/api/v4/projects/{id}/mirror/pull",
        "README: EE pull-mirror API missing",
    ),
    (
        "POST",
        "/api/v4/projects/{id}/mirror/pull",
        "README: EE pull-mirror API missing",
    ),
    (
        "GET",
        "/api/v4/projects/{id}/issues",
        "README: issues missing",
    ),
    (
        "POST",
        "/api/v4/projects/{id}/issues",
        "README: issues missing",
    ),
    (
        "GET",
        "/api/v4/projects/{id}/issues/{issue_iid}",
        "README: issues missing",
    ),
    (
        "PUT",
        "/api/v4/projects/{id}/issues/{issue_iid}",
        "README: issues missing",
    ),
    (
        "DELETE",
        "/api/v4/projects/{id}/issues/{issue_iid}",
        "README: issues missing",
    ),
    (
        "GET",
        "/api/v4/projects/{id}/issues/{issue_iid}/notes",
        "README: notes missing",
    ),
    (
        "POST",
        "/api/v4/projects/{id}/issues/{issue_iid}/notes",
        "README: notes missing",
    ),
    (
        "GET",
        "/api/v4/projects/{id}/issues/{issue_iid}/notes/{note_id}",
        "README: notes missing",
    ),
    (
        "PUT",
        "/api/v4/projects/{id}/issues/{issue_iid}/notes/{note_id}",
        "README: notes missing",
    ),
    (
        "DELETE",
        "/api/v4/projects/{id}/issues/{issue_iid}/notes/{note_id}",
        "README: notes missing",
    ),
    (
        "GET",
        "/api/v4/projects/{id}/issues/{issue_iid}/time_stats",
        "README: time tracking missing",
    ),
    (
        "POST",
        "/api/v4/projects/{id}/issues/{issue_iid}/time_estimate",
        "README: time tracking missing",
    ),
    (
        "POST",
        "/api/v4/projects/{id}/issues/{issue_iid}/reset_time_estimate",
        "README: time tracking missing",
    ),
    (
        "POST",
        "/api/v4/projects/{id}/issues/{issue_iid}/add_spent_time",
        "README: time tracking missing",
    ),
    (
        "POST",
        "/api/v4/projects/{id}/issues/{issue_iid}/reset_spent_time",
        "README: time tracking missing",
    ),
    (
        "GET",
        "/api/v4/projects/{id}/labels",
        "README: labels missing",
    ),
    (
        "POST",
        "/api/v4/projects/{id}/labels",
        "README: labels missing",
    ),
    (
        "GET",
        "/api/v4/projects/{id}/labels/{label_id}",
        "README: labels missing",
    ),
    (
        "PUT",
        "/api/v4/projects/{id}/labels/{label_id}",
        "README: labels missing",
    ),
    (
        "DELETE",
        "/api/v4/projects/{id}/labels/{label_id}",
        "README: labels missing",
    ),
    (
        "GET",
        "/api/v4/projects/{id}/milestones",
        "README: milestones missing",
    ),
    (
        "POST",
        "/api/v4/projects/{id}/milestones",
        "README: milestones missing",
    ),
    (
        "GET",
        "/api/v4/projects/{id}/milestones/{milestone_id}",
        "README: milestones missing",
    ),
    (
        "PUT",
        "/api/v4/projects/{id}/milestones/{milestone_id}",
        "README: milestones missing",
    ),
    (
        "DELETE",
        "/api/v4/projects/{id}/milestones/{milestone_id}",
        "README: milestones missing",
    ),
];
