//! `/api/mirrors`: mirrors between a source and a target project of a pair.
//!
//! Everything that changes GitLab runs as a job: create, update, delete and the actions
//! answer with the job (`202 Accepted`, `Location: /api/jobs/{id}`).
//!
//! - [`handlers`]: list, get, create, update, delete and the group tree;
//! - [`actions`]: sync, token rotation, status refresh, verification, and the pair-wide
//!   sync and refresh (`/api/pairs/{id}/…`);
//! - [`projects`]: project search on an instance, for the create form.

pub mod actions;
pub mod handlers;
pub mod projects;

use chrono::{DateTime, Utc};
use mm_proto::v1 as pb;
use serde::{Deserialize, Serialize, de::IgnoredAny};
use utoipa::{IntoParams, ToSchema};

use crate::{
    common::{self, Patch, missing, rest_enum},
    errors::GatewayError,
    jobs::Job,
};

rest_enum! {
    /// Where a mirror is in its life on GitLab.
    pub enum Lifecycle : MirrorLifecycle {
        /// Recorded; its create job has not finished.
        Creating = "creating",
        /// Token and mirror exist in GitLab.
        Ready = "ready",
        /// Creating it failed; everything created in GitLab was removed again.
        CreateFailed = "create_failed",
        /// Its delete job is running.
        Deleting = "deleting",
    }
}

rest_enum! {
    /// Status of the mirror's project access token.
    pub enum TokenStatus : TokenStatus {
        /// The mirror has no token (not created yet).
        None = "none",
        Active = "active",
        /// Expires within 30 days.
        ExpiringSoon = "expiring_soon",
        Expired = "expired",
    }
}

/// A mirror. Raw overrides are `null` when the mirror inherits the pair's setting; the
/// `effective_*` fields are the settings in force. The token itself is never returned.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Mirror {
    pub id: i64,
    /// The pair the mirror belongs to.
    pub instance_pair_id: i64,
    /// Full path of the source project, e.g. `platform/backend/api`.
    pub source_project_path: String,
    /// Full path of the target project.
    pub target_project_path: String,
    /// GitLab id of the source project, once the create job looked it up.
    pub source_project_id: Option<i64>,
    /// GitLab id of the target project, once the create job looked it up.
    pub target_project_id: Option<i64>,
    /// Override; `null` inherits the pair's setting.
    pub mirror_overwrite_diverged: Option<bool>,
    /// Override; `null` inherits the pair's setting.
    pub mirror_trigger_builds: Option<bool>,
    /// Override; `null` inherits the pair's setting.
    pub only_mirror_protected_branches: Option<bool>,
    /// Override; `null` inherits the pair's setting.
    pub mirror_branch_regex: Option<String>,
    pub effective_mirror_overwrite_diverged: bool,
    pub effective_mirror_trigger_builds: bool,
    pub effective_only_mirror_protected_branches: bool,
    pub effective_mirror_branch_regex: Option<String>,
    pub enabled: bool,
    pub lifecycle: Lifecycle,
    /// GitLab's id of the remote (push) or pull mirror.
    pub mirror_id: Option<i64>,
    /// GitLab's update status as last seen (`none`, `scheduled`, `started`, `finished`,
    /// `failed`, …); `null` before the first check.
    pub last_update_status: Option<String>,
    /// Last update attempt reported by GitLab.
    #[serde(serialize_with = "common::serialize_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_update_at: Option<DateTime<Utc>>,
    /// Last successful update reported by GitLab.
    #[serde(serialize_with = "common::serialize_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_successful_update: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// When GitLab was last asked for the status.
    #[serde(serialize_with = "common::serialize_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub status_checked_at: Option<DateTime<Utc>>,
    pub token_status: TokenStatus,
    #[serde(serialize_with = "common::serialize_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub mirror_token_expires_at: Option<DateTime<Utc>>,
    /// Name of the project access token (also the git user of the mirror URL).
    pub token_name: Option<String>,
    #[serde(serialize_with = "common::serialize_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "common::serialize_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub updated_at: Option<DateTime<Utc>>,
}

impl TryFrom<pb::Mirror> for Mirror {
    type Error = GatewayError;

    fn try_from(m: pb::Mirror) -> Result<Self, GatewayError> {
        let lifecycle =
            Lifecycle::from_proto(m.lifecycle).ok_or_else(missing("mirror.lifecycle"))?;
        let overrides = m.overrides.unwrap_or_default();
        let effective = m.effective_settings.unwrap_or_default();
        Ok(Self {
            last_update_at: common::timestamp(m.last_update_time.as_ref()),
            last_successful_update: common::timestamp(m.last_successful_update_time.as_ref()),
            status_checked_at: common::timestamp(m.status_check_time.as_ref()),
            mirror_token_expires_at: common::timestamp(m.token_expire_time.as_ref()),
            created_at: common::timestamp(m.create_time.as_ref()),
            updated_at: common::timestamp(m.update_time.as_ref()),
            id: m.id,
            instance_pair_id: m.pair_id,
            source_project_path: m.source_project_path,
            target_project_path: m.target_project_path,
            source_project_id: m.source_project_id,
            target_project_id: m.target_project_id,
            mirror_overwrite_diverged: overrides.mirror_overwrite_diverged,
            mirror_trigger_builds: overrides.mirror_trigger_builds,
            only_mirror_protected_branches: overrides.only_mirror_protected_branches,
            mirror_branch_regex: overrides.mirror_branch_regex,
            effective_mirror_overwrite_diverged: effective.mirror_overwrite_diverged,
            effective_mirror_trigger_builds: effective.mirror_trigger_builds,
            effective_only_mirror_protected_branches: effective.only_mirror_protected_branches,
            effective_mirror_branch_regex: effective.mirror_branch_regex,
            enabled: m.enabled,
            lifecycle,
            mirror_id: m.gitlab_mirror_id,
            last_update_status: Some(m.last_update_status).filter(|s| !s.is_empty()),
            last_error: m.last_error,
            token_status: TokenStatus::from_proto(m.token_status).unwrap_or(TokenStatus::None),
            token_name: m.token_name,
        })
    }
}

/// Converts the mirror of a response that always carries one.
pub fn required_mirror(mirror: Option<pb::Mirror>) -> Result<Mirror, GatewayError> {
    mirror.ok_or_else(missing("mirror"))?.try_into()
}

/// Result of `POST /api/mirrors`: the recorded mirror and the job that sets it up in GitLab.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MirrorCreated {
    pub mirror: Mirror,
    pub job: Job,
}

/// Result of `PUT`/`PATCH /api/mirrors/{id}`: the mirror and the job that applies the change
/// in GitLab (`null` when nothing changed in GitLab).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MirrorUpdated {
    pub mirror: Mirror,
    pub job: Option<Job>,
}

/// Body of `POST /api/mirrors`. Unset settings inherit the pair's.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMirror {
    #[schema(minimum = 1)]
    pub instance_pair_id: i64,
    /// Full path of the source project on the pair's source instance: at least two
    /// `/`-separated segments of letters, digits, `_`, `-` and `.`.
    #[schema(
        max_length = 500,
        pattern = r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)+$",
        example = "platform/backend/api"
    )]
    pub source_project_path: String,
    /// Full path of the target project on the pair's target instance.
    #[schema(
        max_length = 500,
        pattern = r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)+$",
        example = "mirror/backend/api"
    )]
    pub target_project_path: String,
    #[serde(default)]
    pub mirror_overwrite_diverged: Option<bool>,
    #[serde(default)]
    pub mirror_trigger_builds: Option<bool>,
    #[serde(default)]
    pub only_mirror_protected_branches: Option<bool>,
    /// RE2 regex of the branches to mirror.
    #[serde(default)]
    #[schema(max_length = 255)]
    pub mirror_branch_regex: Option<String>,
    /// Default `true`.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// Body of `PUT`/`PATCH /api/mirrors/{id}`: only the keys present change. `null` clears an
/// override, so the mirror inherits the pair's setting again. Project paths and the pair
/// cannot change (422).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMirror {
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub mirror_overwrite_diverged: Patch<bool>,
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub mirror_trigger_builds: Patch<bool>,
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub only_mirror_protected_branches: Patch<bool>,
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 255)]
    pub mirror_branch_regex: Patch<String>,
    #[serde(default)]
    #[schema(value_type = bool)]
    pub enabled: Patch<bool>,
    /// Not changeable; present only to name it in the error.
    #[serde(default)]
    #[schema(ignore)]
    pub source_project_path: Patch<IgnoredAny>,
    #[serde(default)]
    #[schema(ignore)]
    pub target_project_path: Patch<IgnoredAny>,
    #[serde(default)]
    #[schema(ignore)]
    pub instance_pair_id: Patch<IgnoredAny>,
}

/// Sort keys of `GET /api/mirrors`.
const SORT_KEYS: &[(&str, &str)] = &[
    ("created_at", "create_time"),
    ("create_time", "create_time"),
    ("updated_at", "update_time"),
    ("update_time", "update_time"),
    ("source_project_path", "source_project_path"),
    ("target_project_path", "target_project_path"),
    ("last_update_status", "last_update_status"),
];

/// Query of `GET /api/mirrors`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListMirrorsQuery {
    /// Only mirrors of this pair (`pair_id` is accepted too).
    #[serde(default, alias = "pair_id", deserialize_with = "common::blank_as_none")]
    #[param(minimum = 1)]
    pub instance_pair_id: Option<i64>,
    /// Only mirrors with this GitLab update status (`unknown`: never checked).
    #[param(max_length = 50)]
    pub status: Option<String>,
    /// Only enabled (`true`) or disabled (`false`) mirrors.
    #[serde(default, deserialize_with = "common::blank_as_none")]
    pub enabled: Option<bool>,
    /// Case-insensitive substring of the source or target path.
    #[param(max_length = 500)]
    pub search: Option<String>,
    /// Only mirrors whose token has this status.
    #[serde(default, deserialize_with = "common::blank_as_none")]
    #[param(value_type = Option<TokenStatus>, inline)]
    pub token_status: Option<TokenStatus>,
    /// Only mirrors with the source or target path under this group (`group_prefix` is
    /// accepted too).
    #[serde(alias = "group_prefix")]
    #[param(max_length = 500)]
    pub group_path: Option<String>,
    /// Only mirrors in this lifecycle state.
    #[serde(default, deserialize_with = "common::blank_as_none")]
    #[param(value_type = Option<Lifecycle>, inline)]
    pub lifecycle: Option<Lifecycle>,
    /// 1-based page number.
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    /// Page size, 1-200 (default 50). `per_page` is accepted too.
    #[serde(alias = "per_page")]
    #[param(minimum = 1, maximum = 200)]
    pub page_size: Option<u32>,
    /// Token from the `X-Next-Page-Token` header of the previous page (instead of `page`).
    pub page_token: Option<String>,
    /// Sort key: `created_at` (default), `updated_at`, `source_project_path`,
    /// `target_project_path`, `last_update_status` (or the API names `create_time`,
    /// `update_time`).
    pub order_by: Option<String>,
    /// `asc` or `desc` (default).
    #[serde(default, deserialize_with = "common::blank_as_none")]
    #[param(value_type = Option<SortDirection>, inline)]
    pub order_dir: Option<SortDirection>,
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortDirection {
    Asc,
    Desc,
}

impl std::str::FromStr for SortDirection {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        match value.trim().to_ascii_lowercase().as_str() {
            "asc" => Ok(Self::Asc),
            "desc" => Ok(Self::Desc),
            _ => Err(format!("must be \"asc\" or \"desc\", got {value:?}")),
        }
    }
}

/// The API's `order_by` for the REST `order_by`/`order_dir` (default `create_time desc`).
pub fn mirror_order_by(
    order_by: Option<&str>,
    order_dir: Option<SortDirection>,
) -> Result<String, GatewayError> {
    let raw = order_by.map(str::trim).unwrap_or_default();
    // `-key` and `key desc`/`key asc` are accepted as for the other lists.
    let (key, inline_dir) = if let Some(key) = raw.strip_prefix('-') {
        (key, Some(SortDirection::Desc))
    } else {
        match raw.rsplit_once(' ') {
            Some((key, dir)) => match dir.parse::<SortDirection>() {
                Ok(dir) => (key.trim(), Some(dir)),
                Err(_) => (raw, None),
            },
            None => (raw, None),
        }
    };
    let field = if key.is_empty() {
        "create_time"
    } else {
        SORT_KEYS
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(key))
            .map(|(_, field)| *field)
            .ok_or_else(|| {
                GatewayError::unprocessable(
                    "order_by",
                    "must be one of created_at, updated_at, source_project_path, \
                     target_project_path, last_update_status",
                )
            })?
    };
    Ok(
        match inline_dir.or(order_dir).unwrap_or(SortDirection::Desc) {
            SortDirection::Desc => format!("{field} desc"),
            SortDirection::Asc => field.to_owned(),
        },
    )
}

/// Query of `GET /api/mirrors/tree`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MirrorTreeQuery {
    /// Only mirrors of this pair (`pair_id` is accepted too).
    #[serde(default, alias = "pair_id", deserialize_with = "common::blank_as_none")]
    #[param(minimum = 1)]
    pub instance_pair_id: Option<i64>,
    /// Case-insensitive substring of the source or target path.
    #[param(max_length = 500)]
    pub search: Option<String>,
    /// Only mirrors with this GitLab update status.
    #[param(max_length = 50)]
    pub status: Option<String>,
    /// Only groups under this group path (`group_prefix` is accepted too).
    #[serde(alias = "group_prefix")]
    #[param(max_length = 500)]
    pub group_path: Option<String>,
}

/// One group of the tree view.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MirrorGroup {
    /// Group path, e.g. `platform/backend`.
    pub group_path: String,
    /// Mirrors under the group (directly or in subgroups).
    pub mirror_count: i64,
    /// Of those, how many last failed.
    pub failed_count: i64,
    /// Depth of the group: the number of `/` in its path (0 for a top-level group).
    pub level: usize,
}

impl From<pb::MirrorGroup> for MirrorGroup {
    fn from(g: pb::MirrorGroup) -> Self {
        Self {
            level: g.path.matches('/').count(),
            group_path: g.path,
            mirror_count: g.mirror_count,
            failed_count: g.failed_count,
        }
    }
}

/// A filter string of at most `max` characters, trimmed; empty when absent.
pub(crate) fn text_filter(
    field: &str,
    value: Option<String>,
    max: usize,
) -> Result<String, GatewayError> {
    let value = value.unwrap_or_default().trim().to_owned();
    if value.chars().count() > max {
        return Err(GatewayError::unprocessable(
            field,
            format!("at most {max} characters"),
        ));
    }
    Ok(value)
}

/// A group path filter: trimmed, without leading or trailing `/`.
pub(crate) fn group_filter(value: Option<String>) -> Result<String, GatewayError> {
    let value = text_filter("group_path", value, 500)?;
    Ok(value.trim_matches('/').to_owned())
}

/// The REST name of a field named by a mirror RPC (`mirror.overrides.mirror_branch_regex`
/// → `mirror_branch_regex`, `pair_id` → `instance_pair_id`).
pub(crate) fn rest_field(field: &str) -> Option<String> {
    let rest = field.strip_prefix("mirror.").unwrap_or(field);
    let rest = rest.strip_prefix("overrides.").unwrap_or(rest);
    let renamed = match rest {
        "pair_id" => "instance_pair_id",
        "group_prefix" => "group_path",
        "gitlab_mirror_id" => "mirror_id",
        other => other,
    };
    Some(renamed.to_owned())
}

/// An error of a mirror RPC, with fields named as in the REST request.
pub(crate) fn mirror_error(status: tonic::Status) -> GatewayError {
    GatewayError::from(status).rename_fields(rest_field)
}

/// An error of an RPC about a pair named in the path (`/api/pairs/{id}/…`): the API's
/// `pair_id` is the path's `id`.
pub(crate) fn pair_path_error(status: tonic::Status) -> GatewayError {
    GatewayError::from(status).rename_fields(|field| (field == "pair_id").then(|| "id".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_keys_and_directions_are_mapped() {
        assert_eq!(mirror_order_by(None, None).unwrap(), "create_time desc");
        assert_eq!(
            mirror_order_by(Some("updated_at"), Some(SortDirection::Asc)).unwrap(),
            "update_time"
        );
        assert_eq!(
            mirror_order_by(Some("source_project_path"), None).unwrap(),
            "source_project_path desc"
        );
        assert_eq!(
            mirror_order_by(Some("-last_update_status"), Some(SortDirection::Asc)).unwrap(),
            "last_update_status desc"
        );
        assert_eq!(
            mirror_order_by(Some("create_time asc"), None).unwrap(),
            "create_time"
        );
        let error = mirror_order_by(Some("colour"), None).unwrap_err();
        assert_eq!(error.field_violations[0].field, "order_by");
    }

    #[test]
    fn mirrors_convert_without_secrets_and_with_inheritance() {
        let mirror = Mirror::try_from(pb::Mirror {
            id: 3,
            pair_id: 2,
            source_project_path: "a/b".into(),
            target_project_path: "c/d".into(),
            overrides: Some(pb::MirrorOverrides {
                mirror_trigger_builds: Some(true),
                ..Default::default()
            }),
            effective_settings: Some(pb::EffectiveMirrorSettings {
                mirror_trigger_builds: true,
                only_mirror_protected_branches: true,
                ..Default::default()
            }),
            lifecycle: pb::MirrorLifecycle::Ready as i32,
            token_status: pb::TokenStatus::ExpiringSoon as i32,
            gitlab_mirror_id: Some(44),
            ..Default::default()
        })
        .unwrap();
        let json = serde_json::to_value(&mirror).unwrap();
        assert_eq!(json["instance_pair_id"], 2);
        assert_eq!(json["mirror_trigger_builds"], true);
        assert_eq!(
            json["only_mirror_protected_branches"],
            serde_json::Value::Null
        );
        assert_eq!(json["effective_only_mirror_protected_branches"], true);
        assert_eq!(json["lifecycle"], "ready");
        assert_eq!(json["token_status"], "expiring_soon");
        assert_eq!(json["mirror_id"], 44);
        assert_eq!(json["last_update_status"], serde_json::Value::Null);
        assert!(json.get("token").is_none());
    }

    #[test]
    fn tree_levels_count_slashes() {
        let group = MirrorGroup::from(pb::MirrorGroup {
            path: "platform/backend".into(),
            mirror_count: 3,
            failed_count: 1,
        });
        assert_eq!(group.level, 1);
    }

    #[test]
    fn rpc_fields_get_rest_names() {
        assert_eq!(
            rest_field("mirror.overrides.mirror_branch_regex").as_deref(),
            Some("mirror_branch_regex")
        );
        assert_eq!(rest_field("pair_id").as_deref(), Some("instance_pair_id"));
        assert_eq!(rest_field("mirror.enabled").as_deref(), Some("enabled"));
    }
}
