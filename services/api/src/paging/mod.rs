//! Opaque page tokens.
//!
//! Every token carries a fingerprint of the list request (resource, filters and order). A
//! token replayed against a different request is refused (`InvalidArgument` naming
//! `page_token`) rather than silently returning a page of some other list.
//!
//! * [`CursorPaging`]: keyset paging (instances, pairs); the token holds the last row's sort
//!   key and id.
//! * [`OffsetPaging`]: offset paging (mirrors, jobs, job items), where the console also jumps
//!   to page N; the token holds the offset of the next page.
//!
//! Both are URL-safe base64 (no padding) of a small JSON object; clients must treat them as
//! opaque.

mod cursor;
mod offset;

pub(crate) use cursor::CursorPaging;
use mm_common::FieldViolation;
pub(crate) use offset::OffsetPaging;

/// A short digest identifying a list request.
fn digest(resource: &str, parts: &[&str]) -> String {
    let mut material = resource.to_owned();
    for part in parts {
        material.push('\u{0}');
        material.push_str(part);
    }
    let digest = mm_crypto::sha256(material.as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

fn not_ours() -> FieldViolation {
    FieldViolation::new("page_token", "is not a token returned by this list")
}

fn other_request() -> FieldViolation {
    FieldViolation::new(
        "page_token",
        "belongs to a request with other filters or order; repeat the original request",
    )
}
