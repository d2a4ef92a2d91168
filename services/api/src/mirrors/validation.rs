//! Validation of mirror requests. Violations name the field by its path in the request.

use mm_common::FieldViolation;
use mm_proto::v1;
use mm_storage::{
    MirrorLifecycle, MirrorListParams, MirrorOverrides, MirrorSortField, TokenStatus,
};

use crate::validation::{Violations, branch_regex};

/// Longest project path (GitLab's full paths are far shorter in practice).
pub(crate) const PATH_MAX_CHARS: usize = 500;
/// Longest `status` filter.
pub(crate) const STATUS_MAX_CHARS: usize = 100;

/// A GitLab project's full path: `group/sub/project`, trimmed of surrounding white space.
///
/// At least two segments of ASCII letters, digits, `_`, `-` and `.`; a segment starts with a
/// letter, digit or `_`; no leading, trailing or double `/`; no `..`; at most 500 characters.
pub(crate) fn project_path(field: &str, value: &str) -> Result<String, FieldViolation> {
    let path = value.trim();
    let invalid = |reason: &str| FieldViolation::new(field, reason);
    if path.is_empty() {
        return Err(invalid("must not be empty"));
    }
    if path.chars().count() > PATH_MAX_CHARS {
        return Err(invalid(&format!(
            "must be at most {PATH_MAX_CHARS} characters"
        )));
    }
    if path.starts_with('/') || path.ends_with('/') {
        return Err(invalid(
            "must not start or end with \"/\" (a full path such as group/project)",
        ));
    }
    if path.contains("..") {
        return Err(invalid("must not contain \"..\""));
    }
    if !path.contains('/') {
        return Err(invalid(
            "must be a full project path with its group, such as group/project",
        ));
    }
    for segment in path.split('/') {
        if segment.is_empty() {
            return Err(invalid("must not contain empty segments (\"//\")"));
        }
        if !segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        {
            return Err(invalid(
                "may contain only letters, digits, \"_\", \"-\", \".\" and \"/\" between segments",
            ));
        }
        if segment.starts_with(['-', '.']) {
            return Err(invalid(
                "segments must start with a letter, a digit or \"_\"",
            ));
        }
    }
    Ok(path.to_owned())
}

/// The overrides of a request; `prefix` is their path (`overrides`, `mirror.overrides`).
/// An empty branch regex means "inherit".
pub(crate) fn overrides(
    violations: &mut Violations,
    prefix: &str,
    value: Option<&v1::MirrorOverrides>,
) -> Option<MirrorOverrides> {
    let Some(value) = value else {
        return Some(MirrorOverrides::default());
    };
    let regex = violations.check(branch_regex(
        &format!("{prefix}.mirror_branch_regex"),
        value.mirror_branch_regex.as_deref(),
    ))?;
    Some(MirrorOverrides {
        mirror_overwrite_diverged: value.mirror_overwrite_diverged,
        mirror_trigger_builds: value.mirror_trigger_builds,
        only_mirror_protected_branches: value.only_mirror_protected_branches,
        mirror_branch_regex: regex,
    })
}

/// `order_by` of `ListMirrors`: `create_time` (default), `update_time`,
/// `source_project_path`, `target_project_path` or `last_update_status`, optionally followed
/// by `asc` or `desc`. Returns the order with offset 0 and limit 1 (set them later).
pub(crate) fn order_by(value: &str) -> Result<MirrorListParams, FieldViolation> {
    let invalid = || {
        FieldViolation::new(
            "order_by",
            "must be one of create_time, update_time, source_project_path, \
             target_project_path, last_update_status, optionally followed by \" desc\"",
        )
    };
    let words: Vec<&str> = value.split_whitespace().collect();
    let (field, descending) = match words.as_slice() {
        [] => ("create_time", false),
        [field] => (*field, false),
        [field, direction] if direction.eq_ignore_ascii_case("desc") => (*field, true),
        [field, direction] if direction.eq_ignore_ascii_case("asc") => (*field, false),
        _ => return Err(invalid()),
    };
    let sort = match field {
        "create_time" => MirrorSortField::CreateTime,
        "update_time" => MirrorSortField::UpdateTime,
        "source_project_path" => MirrorSortField::SourcePath,
        "target_project_path" => MirrorSortField::TargetPath,
        "last_update_status" => MirrorSortField::Status,
        _ => return Err(invalid()),
    };
    Ok(MirrorListParams {
        sort,
        descending,
        offset: 0,
        limit: 1,
    })
}

/// A token status filter: unspecified means any.
pub(crate) fn token_status(value: i32) -> Result<Option<TokenStatus>, FieldViolation> {
    Ok(Some(match v1::TokenStatus::try_from(value) {
        Ok(v1::TokenStatus::Unspecified) => return Ok(None),
        Ok(v1::TokenStatus::None) => TokenStatus::None,
        Ok(v1::TokenStatus::Active) => TokenStatus::Active,
        Ok(v1::TokenStatus::ExpiringSoon) => TokenStatus::ExpiringSoon,
        Ok(v1::TokenStatus::Expired) => TokenStatus::Expired,
        Err(_) => return Err(FieldViolation::new("token_status", "is not a token status")),
    }))
}

/// A lifecycle filter: unspecified means any.
pub(crate) fn lifecycle(value: i32) -> Result<Option<MirrorLifecycle>, FieldViolation> {
    Ok(Some(match v1::MirrorLifecycle::try_from(value) {
        Ok(v1::MirrorLifecycle::Unspecified) => return Ok(None),
        Ok(v1::MirrorLifecycle::Creating) => MirrorLifecycle::Creating,
        Ok(v1::MirrorLifecycle::Ready) => MirrorLifecycle::Ready,
        Ok(v1::MirrorLifecycle::CreateFailed) => MirrorLifecycle::CreateFailed,
        Ok(v1::MirrorLifecycle::Deleting) => MirrorLifecycle::Deleting,
        Err(_) => {
            return Err(FieldViolation::new(
                "lifecycle",
                "is not a mirror lifecycle",
            ));
        }
    }))
}

/// `group_prefix`: a group path, trimmed of white space and slashes; empty means any.
pub(crate) fn group_prefix(value: &str) -> Result<Option<String>, FieldViolation> {
    let prefix = value.trim().trim_matches('/');
    if prefix.is_empty() {
        return Ok(None);
    }
    if prefix.chars().count() > PATH_MAX_CHARS {
        return Err(FieldViolation::new(
            "group_prefix",
            format!("must be at most {PATH_MAX_CHARS} characters"),
        ));
    }
    if prefix.chars().any(char::is_control) {
        return Err(FieldViolation::new(
            "group_prefix",
            "must not contain control characters",
        ));
    }
    Ok(Some(prefix.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_paths() {
        assert_eq!(
            project_path("p", " platform/backend/api ").unwrap(),
            "platform/backend/api"
        );
        assert!(project_path("p", "a/b").is_ok());
        assert!(project_path("p", "My_Group/sub-group/project.name").is_ok());
        for bad in [
            "",
            "   ",
            "project",
            "/group/project",
            "group/project/",
            "group//project",
            "group/../project",
            "group/pro..ject",
            "group/pro ject",
            "group/-project",
            "group/.hidden",
            "grüppe/project",
            "group/project?x=1",
        ] {
            assert_eq!(project_path("p", bad).unwrap_err().field, "p", "{bad:?}");
        }
        assert!(project_path("p", &format!("g/{}", "x".repeat(498))).is_ok());
        assert!(project_path("p", &format!("g/{}", "x".repeat(499))).is_err());
    }

    #[test]
    fn orders() {
        assert_eq!(order_by("").unwrap().sort, MirrorSortField::CreateTime);
        let params = order_by("last_update_status desc").unwrap();
        assert_eq!(params.sort, MirrorSortField::Status);
        assert!(params.descending);
        assert_eq!(
            order_by("source_project_path ASC").unwrap().sort,
            MirrorSortField::SourcePath
        );
        for bad in ["name", "create_time sideways", "id"] {
            assert_eq!(order_by(bad).unwrap_err().field, "order_by");
        }
    }

    #[test]
    fn filters() {
        assert_eq!(group_prefix(" /a/b/ ").unwrap().as_deref(), Some("a/b"));
        assert_eq!(group_prefix("//").unwrap(), None);
        assert_eq!(token_status(3).unwrap(), Some(TokenStatus::ExpiringSoon));
        assert_eq!(token_status(9).unwrap_err().field, "token_status");
        assert_eq!(lifecycle(0).unwrap(), None);
        assert_eq!(lifecycle(7).unwrap_err().field, "lifecycle");
    }
}
