//! Keyset page tokens (instances, pairs): the storage cursor (sort key and id of the last row)
//! plus the fingerprint of the list request.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, SecondsFormat, Utc};
use mm_common::FieldViolation;
use mm_storage::{Cursor, CursorKey, ListParams, Sort, SortField};
use serde::{Deserialize, Serialize};

use super::{digest, not_ours, other_request};

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

/// The paging of one keyset-paged list request: its order, the cursor of its page token and
/// the fingerprint the next token carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CursorPaging {
    pub sort: Sort,
    pub after: Option<Cursor>,
    fingerprint: String,
}

impl CursorPaging {
    /// The request's paging: `token` is decoded against the fingerprint of `resource`,
    /// `filters` and `sort`.
    pub(crate) fn new(
        resource: &str,
        filters: &[&str],
        sort: Sort,
        token: &str,
    ) -> Result<Self, FieldViolation> {
        let fingerprint = fingerprint(resource, filters, sort);
        let after = decode(token, &fingerprint, sort)?;
        Ok(CursorPaging {
            sort,
            after,
            fingerprint,
        })
    }

    /// The storage window of at most `limit` rows.
    pub(crate) fn params(&self, limit: u32) -> ListParams {
        ListParams {
            sort: self.sort,
            after: self.after.clone(),
            limit,
        }
    }

    /// The token of the next page; empty on the last page.
    pub(crate) fn next_token(&self, next: Option<Cursor>) -> String {
        next.map(|cursor| encode(&cursor, &self.fingerprint))
            .unwrap_or_default()
    }
}

/// Identifies a list request: the resource, its filters and its order.
fn fingerprint(resource: &str, filters: &[&str], sort: Sort) -> String {
    let order = format!("{:?}\u{0}{}", sort.field, sort.descending);
    let mut parts = vec![order.as_str()];
    parts.extend_from_slice(filters);
    digest(resource, &parts)
}

/// The token for the page after `cursor`.
fn encode(cursor: &Cursor, fingerprint: &str) -> String {
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
fn decode(token: &str, fingerprint: &str, sort: Sort) -> Result<Option<Cursor>, FieldViolation> {
    if token.is_empty() {
        return Ok(None);
    }
    let body: TokenBody = URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or_else(not_ours)?;
    if body.v != 1 {
        return Err(not_ours());
    }
    if body.f != fingerprint {
        return Err(other_request());
    }
    let key = match (sort.field, body.k) {
        (SortField::Name, Some(text)) => CursorKey::Text(text),
        (SortField::CreateTime | SortField::UpdateTime, Some(time)) => {
            let time = DateTime::parse_from_rfc3339(&time)
                .map_err(|_| not_ours())?
                .with_timezone(&Utc);
            CursorKey::Time(time)
        }
        (SortField::Id, None) => CursorKey::Id,
        _ => return Err(not_ours()),
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
