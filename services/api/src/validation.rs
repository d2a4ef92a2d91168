//! Request validation. Every failure names the offending field by its path in the request,
//! and the limits match the database schema's CHECK constraints.

use mm_common::{ApiError, FieldViolation};
use mm_proto::v1;
use mm_storage::{MirrorDirection, Sort, SortField};

pub(crate) const NAME_MAX_CHARS: usize = 100;
pub(crate) const DESCRIPTION_MAX_CHARS: usize = 500;
pub(crate) const TOKEN_MAX_CHARS: usize = 1000;
pub(crate) const REGEX_MAX_CHARS: usize = 255;
pub(crate) const SEARCH_MAX_CHARS: usize = 500;
pub(crate) const DEFAULT_PAGE_SIZE: u32 = 50;
pub(crate) const MAX_PAGE_SIZE: i32 = 200;
/// Bound on the compiled regex, so a hostile pattern cannot exhaust memory.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Collects the violations of a request so clients learn about every bad field at once.
#[derive(Default)]
pub(crate) struct Violations(Vec<FieldViolation>);

impl Violations {
    /// Records the violation of `result`, if any, and passes the value on.
    pub(crate) fn check<T>(&mut self, result: Result<T, FieldViolation>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(violation) => {
                self.0.push(violation);
                None
            }
        }
    }

    pub(crate) fn push(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation::new(field, description));
    }

    /// `Err` with every recorded violation, if there is any.
    pub(crate) fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid_fields(self.0))
        }
    }
}

fn violation(field: &str, description: impl Into<String>) -> FieldViolation {
    FieldViolation::new(field, description)
}

/// A display name: trimmed, 1-100 characters, no control characters.
pub(crate) fn name(field: &str, value: &str) -> Result<String, FieldViolation> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(violation(field, "must not be empty"));
    }
    if trimmed.chars().count() > NAME_MAX_CHARS {
        return Err(violation(
            field,
            format!("must be at most {NAME_MAX_CHARS} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(violation(field, "must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}

/// Free text: trimmed, at most 500 characters.
pub(crate) fn description(field: &str, value: &str) -> Result<String, FieldViolation> {
    let trimmed = value.trim();
    if trimmed.chars().count() > DESCRIPTION_MAX_CHARS {
        return Err(violation(
            field,
            format!("must be at most {DESCRIPTION_MAX_CHARS} characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// A GitLab access token: trimmed, non-blank, at most 1000 characters, one word (a token with
/// whitespace or control characters could inject headers into GitLab requests).
pub(crate) fn token(field: &str, value: &str) -> Result<String, FieldViolation> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(violation(field, "must not be empty"));
    }
    if trimmed.chars().count() > TOKEN_MAX_CHARS {
        return Err(violation(
            field,
            format!("must be at most {TOKEN_MAX_CHARS} characters"),
        ));
    }
    if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(violation(
            field,
            "must not contain whitespace or control characters",
        ));
    }
    Ok(trimmed.to_owned())
}

/// A branch filter: empty means none; otherwise at most 255 characters and a valid RE2-style
/// regex (the `regex` crate runs in linear time, so no pattern can backtrack catastrophically).
pub(crate) fn branch_regex(
    field: &str,
    value: Option<&str>,
) -> Result<Option<String>, FieldViolation> {
    let Some(pattern) = value.filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    if pattern.chars().count() > REGEX_MAX_CHARS {
        return Err(violation(
            field,
            format!("must be at most {REGEX_MAX_CHARS} characters"),
        ));
    }
    regex::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|error| {
            let reason = match error {
                regex::Error::CompiledTooBig(_) => "is too complex".to_owned(),
                regex::Error::Syntax(message) => format!(
                    "is not a valid regular expression: {}",
                    message.lines().last().unwrap_or_default().trim()
                ),
                _ => "is not a valid regular expression".to_owned(),
            };
            violation(field, reason)
        })?;
    Ok(Some(pattern.to_owned()))
}

/// A resource id: positive.
pub(crate) fn id(field: &str, value: i64) -> Result<i64, FieldViolation> {
    if value > 0 {
        Ok(value)
    } else {
        Err(violation(field, "must be a positive id"))
    }
}

/// Same as [`id`], as a complete error.
pub(crate) fn require_id(field: &str, value: i64) -> Result<i64, ApiError> {
    id(field, value).map_err(|v| ApiError::invalid_fields(vec![v]))
}

/// A mirror direction: PUSH or PULL.
pub(crate) fn direction(field: &str, value: i32) -> Result<MirrorDirection, FieldViolation> {
    match v1::MirrorDirection::try_from(value) {
        Ok(v1::MirrorDirection::Push) => Ok(MirrorDirection::Push),
        Ok(v1::MirrorDirection::Pull) => Ok(MirrorDirection::Pull),
        _ => Err(violation(
            field,
            "must be MIRROR_DIRECTION_PUSH or MIRROR_DIRECTION_PULL",
        )),
    }
}

/// An optional direction filter: unspecified means any.
pub(crate) fn direction_filter(
    field: &str,
    value: i32,
) -> Result<Option<MirrorDirection>, FieldViolation> {
    if value == v1::MirrorDirection::Unspecified as i32 {
        return Ok(None);
    }
    direction(field, value).map(Some)
}

/// An optional id filter: 0 means any.
pub(crate) fn id_filter(field: &str, value: i64) -> Result<Option<i64>, FieldViolation> {
    match value {
        0 => Ok(None),
        _ => id(field, value).map(Some),
    }
}

/// `page_size`: 0 means the default (50), otherwise 1-200.
pub(crate) fn page_size(value: i32) -> Result<u32, FieldViolation> {
    page_size_within(value, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
}

/// `page_size` of a list with other bounds: 0 means `default`, otherwise 1-`max`.
pub(crate) fn page_size_within(value: i32, default: u32, max: i32) -> Result<u32, FieldViolation> {
    match value {
        0 => Ok(default),
        v if (1..=max).contains(&v) => Ok(v.unsigned_abs()),
        _ => Err(violation(
            "page_size",
            format!("must be between 0 and {max} (0 means {default})"),
        )),
    }
}

/// A free-text filter: trimmed, at most `max` characters; empty means no filter.
pub(crate) fn text_filter(
    field: &str,
    value: &str,
    max: usize,
) -> Result<Option<String>, FieldViolation> {
    let trimmed = value.trim();
    if trimmed.chars().count() > max {
        return Err(violation(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(violation(field, "must not contain control characters"));
    }
    Ok((!trimmed.is_empty()).then(|| trimmed.to_owned()))
}

/// `search`: trimmed, at most 500 characters; empty means no filter.
pub(crate) fn search(value: &str) -> Result<Option<String>, FieldViolation> {
    let trimmed = value.trim();
    if trimmed.chars().count() > SEARCH_MAX_CHARS {
        return Err(violation(
            "search",
            format!("must be at most {SEARCH_MAX_CHARS} characters"),
        ));
    }
    Ok((!trimmed.is_empty()).then(|| trimmed.to_owned()))
}

/// `order_by`: `name`, `create_time`, `update_time` or `id`, optionally followed by `asc` or
/// `desc`. Empty means `name`.
pub(crate) fn order_by(value: &str) -> Result<Sort, FieldViolation> {
    let invalid = || {
        violation(
            "order_by",
            "must be one of name, create_time, update_time, id, optionally followed by \" desc\"",
        )
    };
    let words: Vec<&str> = value.split_whitespace().collect();
    let (field, descending) = match words.as_slice() {
        [] => return Ok(Sort::default()),
        [field] => (*field, false),
        [field, direction] if direction.eq_ignore_ascii_case("desc") => (*field, true),
        [field, direction] if direction.eq_ignore_ascii_case("asc") => (*field, false),
        _ => return Err(invalid()),
    };
    let field = match field {
        "name" => SortField::Name,
        "create_time" => SortField::CreateTime,
        "update_time" => SortField::UpdateTime,
        "id" => SortField::Id,
        _ => return Err(invalid()),
    };
    Ok(Sort { field, descending })
}

/// The field-mask paths of an update, checked against the updatable fields. Paths may carry
/// the resource prefix (`pair.name`) or not (`name`). `None` when the mask is empty.
pub(crate) fn update_mask(
    mask: Option<&pbjson_types::FieldMask>,
    resource: &str,
    updatable: &[&str],
) -> Result<Option<Vec<String>>, ApiError> {
    let Some(mask) = mask.filter(|m| !m.paths.is_empty()) else {
        return Ok(None);
    };
    let prefix = format!("{resource}.");
    let mut paths = Vec::with_capacity(mask.paths.len());
    for raw in &mask.paths {
        let path = raw.trim();
        let path = path.strip_prefix(&prefix).unwrap_or(path);
        if !updatable.contains(&path) {
            return Err(ApiError::invalid_field(
                "update_mask",
                format!(
                    "unknown or read-only field {raw:?}; updatable fields are: {}",
                    updatable.join(", ")
                ),
            ));
        }
        if !paths.iter().any(|p| p == path) {
            paths.push(path.to_owned());
        }
    }
    Ok(Some(paths))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(name("name", "  prod  ").unwrap(), "prod");
        assert_eq!(name("name", "   ").unwrap_err().field, "name");
        assert!(name("name", &"x".repeat(100)).is_ok());
        assert!(name("name", &"é".repeat(100)).is_ok());
        assert!(name("name", &"x".repeat(101)).is_err());
        assert!(name("name", "a\u{0}b").is_err());
    }

    #[test]
    fn tokens_are_single_words() {
        assert_eq!(token("token", " glpat-abc \n").unwrap(), "glpat-abc");
        assert!(token("token", "").is_err());
        assert!(token("token", "a b").is_err());
        assert!(token("token", "a\r\nX-Injected: 1").is_err());
        assert!(token("token", &"t".repeat(1001)).is_err());
    }

    #[test]
    fn regexes_are_bounded_and_compiled() {
        assert_eq!(branch_regex("r", None).unwrap(), None);
        assert_eq!(branch_regex("r", Some("")).unwrap(), None);
        assert_eq!(
            branch_regex("r", Some("^(main|release/.*)$"))
                .unwrap()
                .as_deref(),
            Some("^(main|release/.*)$")
        );
        // Nested quantifiers are fine: the engine does not backtrack.
        assert!(branch_regex("r", Some("(a+)+$")).is_ok());
        assert!(branch_regex("r", Some("(unclosed")).is_err());
        assert!(branch_regex("r", Some(&"a".repeat(256))).is_err());
        // Look-around is not RE2 and is refused.
        assert!(branch_regex("r", Some("(?=main)")).is_err());
    }

    #[test]
    fn order_by_accepts_documented_forms_only() {
        assert_eq!(order_by("").unwrap(), Sort::default());
        assert_eq!(
            order_by("create_time desc").unwrap(),
            Sort {
                field: SortField::CreateTime,
                descending: true
            }
        );
        assert_eq!(order_by(" id  ASC ").unwrap().field, SortField::Id);
        for bad in ["url", "name sideways", "name desc extra", "Name"] {
            assert_eq!(order_by(bad).unwrap_err().field, "order_by", "{bad}");
        }
    }

    #[test]
    fn page_sizes() {
        assert_eq!(page_size(0).unwrap(), 50);
        assert_eq!(page_size(200).unwrap(), 200);
        assert!(page_size(201).is_err());
        assert!(page_size(-1).is_err());
    }

    #[test]
    fn update_masks() {
        let mask = |paths: &[&str]| pbjson_types::FieldMask {
            paths: paths.iter().map(|p| p.to_string()).collect(),
        };
        let updatable = ["name", "url"];
        assert_eq!(update_mask(None, "instance", &updatable).unwrap(), None);
        assert_eq!(
            update_mask(
                Some(&mask(&["instance.name", "url", "name"])),
                "instance",
                &updatable
            )
            .unwrap(),
            Some(vec!["name".to_owned(), "url".to_owned()])
        );
        let error = update_mask(Some(&mask(&["id"])), "instance", &updatable).unwrap_err();
        assert_eq!(error.field_violations[0].field, "update_mask");
    }
}
