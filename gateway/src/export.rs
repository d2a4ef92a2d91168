//! `/api/export/pair/{id}`: a pair's mirrors as a portable JSON file (download), and the
//! import of such a file (`POST`, also `/api/import/pair/{id}`), with a dry run.
//!
//! The file format is the previous product's:
//!
//! ```json
//! {"metadata": {"exported_at", "pair_name", "source_instance_url", "target_instance_url",
//!               "mirror_direction", "total_mirrors"},
//!  "mirrors": [{"source_project_path", "target_project_path", "mirror_overwrite_diverged",
//!               "mirror_trigger_builds", "only_mirror_protected_branches",
//!               "mirror_branch_regex", "enabled"}]}
//! ```
//!
//! Only paths and raw overrides (`null` = inherit the pair's setting): no ids, tokens or
//! status. On import, `metadata` and unknown keys of the entries (such as the previous
//! product's `issue_sync_enabled`) are ignored.

use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use chrono::{SecondsFormat, Utc};
use http::{HeaderValue, header};
use mm_proto::v1 as pb;
use serde::{Deserialize, Serialize, de::IgnoredAny};
use utoipa::{IntoParams, ToSchema};

use crate::{
    GatewayState, common,
    errors::GatewayError,
    extract::{IdPath, Json, Query},
    grpc::Forward,
    jobs::{self, Accepted, Job},
    mirrors::{actions::finite, pair_path_error},
};

/// Most entries one import may carry.
pub const MAX_IMPORT_MIRRORS: usize = 10_000;

/// Largest accepted body of an import (the exported file of a large pair); other routes keep
/// the gateway's body limit.
pub const IMPORT_BODY_LIMIT: usize = 8 * 1024 * 1024;

/// An exported file.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ExportFile {
    pub metadata: ExportMetadata,
    pub mirrors: Vec<ExportedMirror>,
}

/// Where an export comes from.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ExportMetadata {
    #[schema(format = DateTime)]
    pub exported_at: String,
    pub pair_name: String,
    pub source_instance_url: String,
    pub target_instance_url: String,
    /// `push` or `pull`.
    pub mirror_direction: String,
    pub total_mirrors: usize,
}

/// One mirror of an exported file. `null` settings inherit the pair's.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ExportedMirror {
    pub source_project_path: String,
    pub target_project_path: String,
    pub mirror_overwrite_diverged: Option<bool>,
    pub mirror_trigger_builds: Option<bool>,
    pub only_mirror_protected_branches: Option<bool>,
    pub mirror_branch_regex: Option<String>,
    pub enabled: Option<bool>,
}

impl From<pb::ExportedMirror> for ExportedMirror {
    fn from(m: pb::ExportedMirror) -> Self {
        Self {
            source_project_path: m.source_project_path,
            target_project_path: m.target_project_path,
            mirror_overwrite_diverged: m.mirror_overwrite_diverged,
            mirror_trigger_builds: m.mirror_trigger_builds,
            only_mirror_protected_branches: m.only_mirror_protected_branches,
            mirror_branch_regex: m.mirror_branch_regex,
            enabled: m.enabled,
        }
    }
}

/// Body of an import: an exported file. `metadata` is ignored.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportFile {
    /// Ignored (informational).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<IgnoredAny>,
    /// 1 to 10 000 entries.
    #[schema(min_items = 1, max_items = 10000)]
    pub mirrors: Vec<ImportedMirror>,
}

/// One entry of an import. Unknown keys (status, the previous product's
/// `issue_sync_enabled`, …) are ignored.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ImportedMirror {
    #[schema(min_length = 1, max_length = 500)]
    pub source_project_path: String,
    #[schema(min_length = 1, max_length = 500)]
    pub target_project_path: String,
    #[serde(default)]
    pub mirror_overwrite_diverged: Option<bool>,
    #[serde(default)]
    pub mirror_trigger_builds: Option<bool>,
    #[serde(default)]
    pub only_mirror_protected_branches: Option<bool>,
    #[serde(default)]
    #[schema(max_length = 255)]
    pub mirror_branch_regex: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// Query of an import.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Only plan: record nothing and call no GitLab.
    #[serde(default, deserialize_with = "common::blank_as_none")]
    pub dry_run: Option<bool>,
}

/// What an import does with one entry.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImportPlanEntry {
    pub source_project_path: String,
    pub target_project_path: String,
    /// `create` or `skip`.
    #[schema(example = "create")]
    pub action: String,
    /// Why it is skipped (duplicate in the pair, duplicate in the file, invalid path).
    pub reason: Option<String>,
}

/// Result of an import (or its dry run).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImportResult {
    pub plan: Vec<ImportPlanEntry>,
    pub create_count: i64,
    pub skip_count: i64,
    /// GitLab requests the creates need.
    pub gitlab_calls: i64,
    /// Estimated duration at the instances' current rate budget, in seconds.
    pub estimated_seconds: f64,
    /// The import job; `null` on a dry run or when nothing is to be created.
    pub job: Option<Job>,
}

/// Export a pair's mirrors.
///
/// Downloads `mirrors_<pair name>.json` (the name reduced to `[A-Za-z0-9_.-]`).
#[utoipa::path(
    get, path = "/api/export/pair/{id}", tag = "export", operation_id = "export_pair_mirrors",
    params(("id" = i64, Path, description = "Pair id", minimum = 1)),
    responses((status = 200, description = "The export file", body = ExportFile, headers(
        ("Content-Disposition" = String, description = "`attachment; filename=\"mirrors_<pair>.json\"`"),
    ))),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn export_pair(
    State(state): State<GatewayState>,
    forward: Forward,
    IdPath(id): IdPath,
) -> Result<Response, GatewayError> {
    let response = state
        .api()
        .mirrors()
        .export_pair_mirrors(forward.request(pb::ExportPairMirrorsRequest { pair_id: id }))
        .await
        .map_err(pair_path_error)?
        .into_inner();
    let exported_at = common::timestamp(response.exported_time.as_ref()).unwrap_or_else(Utc::now);
    let filename = export_filename(&response.pair_name);
    let file = ExportFile {
        metadata: ExportMetadata {
            exported_at: exported_at.to_rfc3339_opts(SecondsFormat::Micros, true),
            pair_name: response.pair_name,
            source_instance_url: response.source_instance_url,
            target_instance_url: response.target_instance_url,
            mirror_direction: response.mirror_direction.to_ascii_lowercase(),
            total_mirrors: response.mirrors.len(),
        },
        mirrors: response
            .mirrors
            .into_iter()
            .map(ExportedMirror::from)
            .collect(),
    };
    let body = serde_json::to_vec_pretty(&file).map_err(|error| {
        tracing::error!(%error, "cannot serialize an export");
        GatewayError::from(mm_common::ApiError::internal())
    })?;
    let mut response = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// `mirrors_<name>.json`: every character of the pair name outside `[A-Za-z0-9_.-]` becomes
/// `_`, leading and trailing `.`/`_` are dropped, and an empty result becomes `mirrors`.
pub fn export_filename(pair_name: &str) -> String {
    let sanitised: String = pair_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let trimmed = sanitised.trim_matches(|c| c == '.' || c == '_');
    let name = if trimmed.is_empty() {
        "mirrors"
    } else {
        trimmed
    };
    format!("mirrors_{name}.json")
}

/// Import mirrors into a pair.
///
/// Takes an exported file. With `dry_run=true`, answers 200 with the plan (what would be
/// created, what skipped and why) and touches nothing. Otherwise records the mirrors and
/// answers 202 with the plan and the import job (`Location: /api/jobs/{id}`), or 200 when
/// there is nothing to create.
#[utoipa::path(
    post, path = "/api/export/pair/{id}", tag = "export", operation_id = "import_pair_mirrors",
    params(("id" = i64, Path, description = "Pair id", minimum = 1), ImportQuery),
    request_body = ImportFile,
    responses(
        (status = 200, description = "Dry run, or nothing to create: the plan", body = ImportResult),
        (status = 202, description = "Import job started", body = ImportResult,
            headers(("Location" = String, description = "`/api/jobs/{id}` of the job"))),
    ),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn import_pair(
    State(state): State<GatewayState>,
    forward: Forward,
    IdPath(id): IdPath,
    Query(query): Query<ImportQuery>,
    Json(body): Json<ImportFile>,
) -> Result<Response, GatewayError> {
    if body.mirrors.len() > MAX_IMPORT_MIRRORS {
        return Err(GatewayError::unprocessable(
            "mirrors",
            format!("at most {MAX_IMPORT_MIRRORS} entries per import"),
        ));
    }
    let dry_run = query.dry_run.unwrap_or(false);
    let request = pb::ImportPairMirrorsRequest {
        pair_id: id,
        mirrors: body
            .mirrors
            .into_iter()
            .map(|m| pb::ExportedMirror {
                source_project_path: m.source_project_path,
                target_project_path: m.target_project_path,
                mirror_overwrite_diverged: m.mirror_overwrite_diverged,
                mirror_trigger_builds: m.mirror_trigger_builds,
                only_mirror_protected_branches: m.only_mirror_protected_branches,
                mirror_branch_regex: m.mirror_branch_regex,
                enabled: m.enabled,
                last_update_status: String::new(),
            })
            .collect(),
        dry_run,
    };
    let response = state
        .api()
        .mirrors()
        .import_pair_mirrors(forward.request(request))
        .await
        .map_err(pair_path_error)?
        .into_inner();
    let job = jobs::optional_job(response.job)?;
    let result = ImportResult {
        plan: response
            .plan
            .into_iter()
            .map(|e| ImportPlanEntry {
                source_project_path: e.source_project_path,
                target_project_path: e.target_project_path,
                action: e.action,
                reason: e.reason,
            })
            .collect(),
        create_count: response.create_count,
        skip_count: response.skip_count,
        gitlab_calls: response.gitlab_calls,
        estimated_seconds: finite(response.estimated_seconds),
        job,
    };
    let job_id = result.job.as_ref().map(|j| j.id).filter(|_| !dry_run);
    Ok(Accepted::or_ok(job_id, result))
}

/// Import mirrors into a pair.
///
/// Same as `POST /api/export/pair/{id}`.
#[utoipa::path(
    post, path = "/api/import/pair/{id}", tag = "export", operation_id = "import_pair_mirrors_alias",
    params(("id" = i64, Path, description = "Pair id", minimum = 1), ImportQuery),
    request_body = ImportFile,
    responses(
        (status = 200, description = "Dry run, or nothing to create: the plan", body = ImportResult),
        (status = 202, description = "Import job started", body = ImportResult,
            headers(("Location" = String, description = "`/api/jobs/{id}` of the job"))),
    ),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn import_pair_alias(
    state: State<GatewayState>,
    forward: Forward,
    id: IdPath,
    query: Query<ImportQuery>,
    body: Json<ImportFile>,
) -> Result<Response, GatewayError> {
    import_pair(state, forward, id, query, body).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_are_sanitised() {
        assert_eq!(export_filename("prod-to-dr"), "mirrors_prod-to-dr.json");
        assert_eq!(
            export_filename("Prod → DR (main)"),
            "mirrors_Prod___DR__main.json"
        );
        assert_eq!(export_filename("../etc/passwd"), "mirrors_etc_passwd.json");
        assert_eq!(export_filename("a\"b\r\nc;d"), "mirrors_a_b__c_d.json");
        assert_eq!(export_filename("._._"), "mirrors_mirrors.json");
        assert_eq!(export_filename(""), "mirrors_mirrors.json");
        assert_eq!(export_filename("v1.2_"), "mirrors_v1.2.json");
    }

    #[test]
    fn import_entries_ignore_unknown_keys_but_not_bad_types() {
        let file: ImportFile = crate::extract::parse_json(
            br#"{"metadata": {"pair_name": "x", "anything": [1]},
                 "mirrors": [{"source_project_path": "a/b", "target_project_path": "c/d",
                              "issue_sync_enabled": true, "last_update_status": "success"}]}"#,
        )
        .unwrap();
        assert_eq!(file.mirrors.len(), 1);
        assert_eq!(file.mirrors[0].enabled, None);
        let error = crate::extract::parse_json::<ImportFile>(
            br#"{"mirrors": [{"source_project_path": "a/b", "target_project_path": "c/d", "enabled": "yes"}]}"#,
        )
        .unwrap_err();
        assert_eq!(error.field_violations[0].field, "mirrors[0].enabled");
        let error = crate::extract::parse_json::<ImportFile>(br#"{"mirrors": [], "extra": 1}"#)
            .unwrap_err();
        assert_eq!(error.field_violations[0].field, "extra");
        let error = crate::extract::parse_json::<ImportFile>(br#"{"metadata": {}}"#).unwrap_err();
        assert_eq!(error.field_violations[0].field, "mirrors");
    }
}
