//! Offset page tokens: `{"v":1,"f":<fingerprint>,"o":<offset>}` in URL-safe base64.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use mm_common::FieldViolation;
use mm_storage::Window;
use serde::{Deserialize, Serialize};

use super::{digest, not_ours, other_request};

/// Highest accepted page number (keeps offsets far from any integer limit).
const MAX_PAGE: i32 = 1_000_000;

#[derive(Serialize, Deserialize)]
struct TokenBody {
    v: u8,
    f: String,
    o: u64,
}

/// The paging of one offset-paged list request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OffsetPaging {
    pub offset: u64,
    pub limit: u32,
    fingerprint: String,
}

impl OffsetPaging {
    /// The window of a request for `limit` rows: from `token` when it is not empty, else from
    /// the 1-based `page` (0 means 1; lists without page numbers pass 0). `filters` are every
    /// filter and the order of the request, which a token must match.
    pub(crate) fn new(
        resource: &str,
        filters: &[&str],
        limit: u32,
        token: &str,
        page: i32,
    ) -> Result<Self, FieldViolation> {
        let fingerprint = digest(resource, filters);
        let offset = if token.is_empty() {
            match page {
                0 => 0,
                1..=MAX_PAGE => u64::from(page.unsigned_abs() - 1) * u64::from(limit),
                _ => {
                    return Err(FieldViolation::new(
                        "page",
                        format!("must be between 0 and {MAX_PAGE} (0 means 1)"),
                    ));
                }
            }
        } else {
            decode(token, &fingerprint)?
        };
        Ok(OffsetPaging {
            offset,
            limit,
            fingerprint,
        })
    }

    pub(crate) fn window(&self) -> Window {
        Window {
            offset: self.offset,
            limit: self.limit,
        }
    }

    /// The token of the page after the `returned` rows of this one; empty when no row of the
    /// `total` is left.
    pub(crate) fn next_token(&self, returned: usize, total: i64) -> String {
        let next = self.offset + returned as u64;
        if returned == 0 || next >= u64::try_from(total).unwrap_or(0) {
            return String::new();
        }
        let body = TokenBody {
            v: 1,
            f: self.fingerprint.clone(),
            o: next,
        };
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&body).expect("token body serialises"))
    }
}

fn decode(token: &str, fingerprint: &str) -> Result<u64, FieldViolation> {
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
    Ok(body.o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_the_offset_of_the_next_page() {
        let first = OffsetPaging::new("mirrors", &["a", "x"], 25, "", 0).unwrap();
        assert_eq!(first.window().offset, 0);
        let token = first.next_token(25, 60);
        let second = OffsetPaging::new("mirrors", &["a", "x"], 25, &token, 7).unwrap();
        assert_eq!(second.offset, 25, "a token overrides the page number");
        let third =
            OffsetPaging::new("mirrors", &["a", "x"], 25, &second.next_token(25, 60), 0).unwrap();
        assert_eq!(third.offset, 50);
        assert_eq!(third.next_token(10, 60), "", "last page");
        assert_eq!(first.next_token(0, 60), "");
    }

    #[test]
    fn page_numbers_and_foreign_tokens() {
        assert_eq!(
            OffsetPaging::new("jobs", &[], 50, "", 3).unwrap().offset,
            100
        );
        assert_eq!(
            OffsetPaging::new("jobs", &[], 50, "", -1)
                .unwrap_err()
                .field,
            "page"
        );
        let token = OffsetPaging::new("jobs", &["a"], 50, "", 0)
            .unwrap()
            .next_token(50, 100);
        for (filters, bad) in [
            (&["b"], token.as_str()),
            (&["a"], "garbage"),
            (&["a"], "e30"),
        ] {
            let error = OffsetPaging::new("jobs", filters, 50, bad, 0).unwrap_err();
            assert_eq!(error.field, "page_token");
        }
    }
}
