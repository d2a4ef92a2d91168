//! Validation of the read models' parameters. Unlike the earlier product, nothing is clamped
//! or silently replaced: a bad threshold, level, direction or limit is INVALID_ARGUMENT naming
//! the field.

use mm_common::FieldViolation;
use mm_proto::v1;
use mm_storage::{HealthLevel, StalenessRules};

use crate::validation::Violations;

/// Largest staleness threshold: ten years.
pub(crate) const MAX_THRESHOLD_SECONDS: i64 = 10 * 365 * 86_400;
/// Link mirrors per page: 0 means 200, at most 500.
pub(crate) const LINK_DEFAULT_PAGE_SIZE: u32 = 200;
pub(crate) const LINK_MAX_PAGE_SIZE: i32 = 500;
/// Deepest offset of a link mirror page.
pub(crate) const MAX_OFFSET: i64 = 1_000_000;
/// Search: results per kind (0 means 10, at most 50) and query length.
pub(crate) const SEARCH_DEFAULT_LIMIT: u32 = 10;
pub(crate) const SEARCH_MAX_LIMIT: i32 = 50;
pub(crate) const SEARCH_MAX_CHARS: usize = 200;

fn threshold(field: &str, value: Option<i64>, default: i64) -> Result<i64, FieldViolation> {
    match value {
        None => Ok(default),
        Some(v) if (0..=MAX_THRESHOLD_SECONDS).contains(&v) => Ok(v),
        Some(_) => Err(FieldViolation::new(
            field,
            format!("must be between 0 (off) and {MAX_THRESHOLD_SECONDS} seconds"),
        )),
    }
}

/// The staleness rules of a request: thresholds (absent: defaults, 0: off; the error age
/// must not be below the warning age when both are on) and the never-succeeded level.
pub(crate) fn staleness_rules(
    violations: &mut Violations,
    warning: Option<i64>,
    error: Option<i64>,
    never_succeeded: i32,
) -> Option<StalenessRules> {
    let defaults = StalenessRules::default();
    let warning = violations.check(threshold(
        "stale_warning_seconds",
        warning,
        defaults.warning_seconds,
    ));
    let error = violations.check(threshold(
        "stale_error_seconds",
        error,
        defaults.error_seconds,
    ));
    let never = violations.check(never_succeeded_level(never_succeeded));
    let (warning, error, never) = (warning?, error?, never?);
    if warning > 0 && error > 0 && error < warning {
        violations.push(
            "stale_error_seconds",
            "must not be below stale_warning_seconds (0 turns a level off)",
        );
        return None;
    }
    Some(StalenessRules {
        warning_seconds: warning,
        error_seconds: error,
        never_succeeded: never,
    })
}

/// `never_succeeded_level`: WARNING (also when unspecified) or ERROR.
fn never_succeeded_level(value: i32) -> Result<HealthLevel, FieldViolation> {
    match v1::HealthLevel::try_from(value) {
        Ok(v1::HealthLevel::Unspecified | v1::HealthLevel::Warning) => Ok(HealthLevel::Warning),
        Ok(v1::HealthLevel::Error) => Ok(HealthLevel::Error),
        _ => Err(FieldViolation::new(
            "never_succeeded_level",
            "must be HEALTH_LEVEL_WARNING or HEALTH_LEVEL_ERROR",
        )),
    }
}

/// `offset` of a link mirror page.
pub(crate) fn offset(value: i64) -> Result<u64, FieldViolation> {
    if (0..=MAX_OFFSET).contains(&value) {
        Ok(value.unsigned_abs())
    } else {
        Err(FieldViolation::new(
            "offset",
            format!("must be between 0 and {MAX_OFFSET}"),
        ))
    }
}

/// The search text: trimmed, 1-200 characters, no control characters.
pub(crate) fn search_query(value: &str) -> Result<String, FieldViolation> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(FieldViolation::new("query", "must not be empty"));
    }
    if trimmed.chars().count() > SEARCH_MAX_CHARS {
        return Err(FieldViolation::new(
            "query",
            format!("must be at most {SEARCH_MAX_CHARS} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(FieldViolation::new(
            "query",
            "must not contain control characters",
        ));
    }
    Ok(trimmed.to_owned())
}

/// Results per kind of a search: 0 means 10, otherwise 1-50.
pub(crate) fn search_limit(value: i32) -> Result<u32, FieldViolation> {
    match value {
        0 => Ok(SEARCH_DEFAULT_LIMIT),
        v if (1..=SEARCH_MAX_LIMIT).contains(&v) => Ok(v.unsigned_abs()),
        _ => Err(FieldViolation::new(
            "limit",
            format!("must be between 1 and {SEARCH_MAX_LIMIT} (0 means {SEARCH_DEFAULT_LIMIT})"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(
        warning: Option<i64>,
        error: Option<i64>,
        never: i32,
    ) -> Result<StalenessRules, Vec<String>> {
        let mut violations = Violations::default();
        let rules = staleness_rules(&mut violations, warning, error, never);
        match violations.finish() {
            Ok(()) => Ok(rules.expect("rules without violations")),
            Err(error) => Err(error
                .field_violations
                .iter()
                .map(|v| v.field.clone())
                .collect()),
        }
    }

    #[test]
    fn thresholds_default_switch_off_and_must_be_ordered() {
        assert_eq!(rules(None, None, 0).unwrap(), StalenessRules::default());
        let off = rules(Some(0), Some(0), v1::HealthLevel::Error as i32).unwrap();
        assert_eq!((off.warning_seconds, off.error_seconds), (0, 0));
        assert_eq!(off.never_succeeded, HealthLevel::Error);
        // An error age with the warning switched off is fine; below the warning age is not.
        assert!(rules(Some(0), Some(10), 0).is_ok());
        assert_eq!(
            rules(Some(100), Some(10), 0).unwrap_err(),
            ["stale_error_seconds"]
        );
        assert_eq!(
            rules(Some(-1), None, 0).unwrap_err(),
            ["stale_warning_seconds"]
        );
        assert_eq!(
            rules(None, None, v1::HealthLevel::Ok as i32).unwrap_err(),
            ["never_succeeded_level"]
        );
    }

    #[test]
    fn search_parameters() {
        assert_eq!(search_query("  api ").unwrap(), "api");
        assert_eq!(search_query("  ").unwrap_err().field, "query");
        assert_eq!(search_query(&"x".repeat(201)).unwrap_err().field, "query");
        assert_eq!(search_limit(0).unwrap(), 10);
        assert_eq!(search_limit(50).unwrap(), 50);
        assert_eq!(search_limit(51).unwrap_err().field, "limit");
        assert_eq!(offset(-1).unwrap_err().field, "offset");
    }
}
