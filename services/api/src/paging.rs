//! Opaque page tokens.
//!
//! A token carries the storage cursor (sort key and id of the last row) plus a fingerprint of
//! the list request (filters and order). A token replayed against a different request is
//! refused rather than silently returning a page of some other list.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, SecondsFormat, Utc};
use mm_common::FieldViolation;
use mm_storage::{Cursor, CursorKey, Sort, SortField};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct TokenBody {
    /// Format version.
    v: u8,
    /// Fingerprint of the request the token belongs to.
    f: String,
    /// Sort key of the last row: text for names, RFC 3339 for times, absent for ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    k: Option<String>,
    /// Id of the last row.
    i: i64,
}

/// Identifies a list request: the resource, its filters and its order.
pub(crate) fn fingerprint(resource: &str, filters: &[&str], sort: Sort) -> String {
    let mut material = format!("{resource}\u{0}{:?}\u{0}{}", sort.field, sort.descending);
    for filter in filters {
        material.push('\u{0}');
        material.push_str(filter);
    }
    let digest = mm_crypto::sha256(material.as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The token for the page after `cursor`.
pub(crate) fn encode(cursor: &Cursor, fingerprint: &str) -> String {
    let key = match &cursor.key {
        CursorKey::Text(text) => Some(text.clone()),
        CursorKey::Time(time) => Some(time.to_rfc3339_opts(SecondsFormat::Micros, true)),
        CursorKey::Id => None,
    };
    let body = TokenBody {
        v: 1,
        f: fingerprint.to_owned(),
        k: key,
        i: cursor.id,
    };
    let json = serde_json::to_vec(&body).expect("token body serialises");
    URL_SAFE_NO_PAD.encode(json)
}

/// The cursor in `token`; `None` for an empty token (first page).
pub(crate) fn decode(
    token: &str,
    fingerprint: &str,
    sort: Sort,
) -> Result<Option<Cursor>, FieldViolation> {
    if token.is_empty() {
        return Ok(None);
    }
    let invalid = |reason: &str| FieldViolation::new("page_token", reason);
    let body: TokenBody = URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or_else(|| invalid("is not a token returned by this list"))?;
    if body.v != 1 {
        return Err(invalid("is not a token returned by this list"));
    }
    if body.f != fingerprint {
        return Err(invalid(
            "belongs to a request with other filters or order; repeat the original request",
        ));
    }
    let key = match (sort.field, body.k) {
        (SortField::Name, Some(text)) => CursorKey::Text(text),
        (SortField::CreateTime | SortField::UpdateTime, Some(time)) => {
            let time = DateTime::parse_from_rfc3339(&time)
                .map_err(|_| invalid("is not a token returned by this list"))?
                .with_timezone(&Utc);
            CursorKey::Time(time)
        }
        (SortField::Id, None) => CursorKey::Id,
        _ => return Err(invalid("is not a token returned by this list")),
    };
    Ok(Some(Cursor { key, id: body.i }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sort(field: SortField) -> Sort {
        Sort {
            field,
            descending: false,
        }
    }

    #[test]
    fn tokens_round_trip_for_every_key_kind() {
        let time = DateTime::parse_from_rfc3339("2026-01-04T12:00:00.123456Z")
            .unwrap()
            .with_timezone(&Utc);
        for (field, key) in [
            (SortField::Name, CursorKey::Text("prod \"eu\"".into())),
            (SortField::CreateTime, CursorKey::Time(time)),
            (SortField::Id, CursorKey::Id),
        ] {
            let fp = fingerprint("instances", &["x"], sort(field));
            let cursor = Cursor { key, id: 42 };
            let token = encode(&cursor, &fp);
            assert_eq!(decode(&token, &fp, sort(field)).unwrap(), Some(cursor));
        }
        assert_eq!(decode("", "fp", sort(SortField::Name)).unwrap(), None);
    }

    #[test]
    fn foreign_or_garbage_tokens_are_refused() {
        let fp = fingerprint("instances", &["a"], sort(SortField::Name));
        let token = encode(
            &Cursor {
                key: CursorKey::Text("x".into()),
                id: 1,
            },
            &fp,
        );
        let other = fingerprint("instances", &["b"], sort(SortField::Name));
        assert!(decode(&token, &other, sort(SortField::Name)).is_err());
        for garbage in ["nope", "!!!", "eyJ2IjoyfQ"] {
            let error = decode(garbage, &fp, sort(SortField::Name)).unwrap_err();
            assert_eq!(error.field, "page_token");
        }
    }
}
