//! GitLab's offset pagination (X-* headers and `Link`) and the keyset
//! pagination of the projects list.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::error::ApiError;
use crate::params::Params;
use crate::util::qenc;

/// Above this count totals are not reported.
pub const MAX_COUNTED: usize = 10_000;

/// `page`/`per_page` from the request (per_page 20 by default, 100 at most).
pub fn page_params(p: &Params) -> Result<(usize, usize), ApiError> {
    let page = p.int("page")?.unwrap_or(1).max(1) as usize;
    let per_page = match p.int("per_page")?.unwrap_or(20) {
        n if n < 1 => 20,
        n => (n as usize).min(100),
    };
    Ok((page, per_page))
}

/// Link URL: the original query with `page`/`per_page` replaced.
fn link(base: &str, p: &Params, extra: &[(&str, String)]) -> String {
    let mut parts: Vec<String> = p
        .query_pairs
        .iter()
        .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k) && k != "page" && k != "per_page")
        .filter(|(k, _)| k != "private_token" && k != "access_token")
        .map(|(k, v)| format!("{}={}", qenc(k), qenc(v)))
        .collect();
    for (k, v) in extra {
        parts.push(format!("{}={}", qenc(k), qenc(v)));
    }
    format!("{}{}?{}", base, p.path, parts.join("&"))
}

fn put(h: &mut HeaderMap, k: &'static str, v: &str) {
    if let Ok(v) = HeaderValue::from_str(v) {
        h.insert(HeaderName::from_static(k), v);
    }
}

/// Paginate `items` (already filtered and ordered) and answer with the
/// page and GitLab's headers.
pub fn paginate(base_url: &str, p: &Params, items: Vec<Value>) -> Result<Response, ApiError> {
    let (page, per_page) = page_params(p)?;
    let total = items.len();
    let total_pages = total.div_ceil(per_page).max(1);
    let start = (page - 1).saturating_mul(per_page);
    let slice: Vec<Value> = items.into_iter().skip(start).take(per_page).collect();
    let mut h = HeaderMap::new();
    let counted = total <= MAX_COUNTED;
    let has_next = if counted {
        page < total_pages
    } else {
        start + per_page < total
    };
    put(&mut h, "x-page", &page.to_string());
    put(&mut h, "x-per-page", &per_page.to_string());
    put(
        &mut h,
        "x-next-page",
        &if has_next {
            (page + 1).to_string()
        } else {
            String::new()
        },
    );
    put(
        &mut h,
        "x-prev-page",
        &if page > 1 {
            (page - 1).to_string()
        } else {
            String::new()
        },
    );
    if counted {
        put(&mut h, "x-total", &total.to_string());
        put(&mut h, "x-total-pages", &total_pages.to_string());
    }
    let pp = per_page.to_string();
    let mut links = vec![];
    if page > 1 {
        let u = link(
            base_url,
            p,
            &[("page", (page - 1).to_string()), ("per_page", pp.clone())],
        );
        links.push(format!("<{u}>; rel=\"prev\""));
    }
    if has_next {
        let u = link(
            base_url,
            p,
            &[("page", (page + 1).to_string()), ("per_page", pp.clone())],
        );
        links.push(format!("<{u}>; rel=\"next\""));
    }
    let u = link(
        base_url,
        p,
        &[("page", "1".into()), ("per_page", pp.clone())],
    );
    links.push(format!("<{u}>; rel=\"first\""));
    if counted {
        let u = link(
            base_url,
            p,
            &[("page", total_pages.to_string()), ("per_page", pp)],
        );
        links.push(format!("<{u}>; rel=\"last\""));
    }
    put(&mut h, "link", &links.join(", "));
    Ok((h, axum::Json(Value::Array(slice))).into_response())
}

/// Keyset pagination by id (projects): `id_after`/`id_before` cursor in
/// the `Link rel="next"` URL, no totals.
pub fn keyset_by_id(
    base_url: &str,
    p: &Params,
    items: Vec<(u64, Value)>,
    desc: bool,
) -> Result<Response, ApiError> {
    let (_, per_page) = page_params(p)?;
    let after = p.int("id_after")?;
    let before = p.int("id_before")?;
    let filtered: Vec<(u64, Value)> = items
        .into_iter()
        .filter(|(id, _)| {
            after.is_none_or(|a| *id as i64 > a) && before.is_none_or(|b| (*id as i64) < b)
        })
        .collect();
    let more = filtered.len() > per_page;
    let page: Vec<(u64, Value)> = filtered.into_iter().take(per_page).collect();
    let mut h = HeaderMap::new();
    put(&mut h, "x-per-page", &per_page.to_string());
    if more {
        let last = page.last().map(|(id, _)| *id).unwrap_or(0);
        let cursor = if desc {
            ("id_before", last.to_string())
        } else {
            ("id_after", last.to_string())
        };
        let keep: Vec<(String, String)> = p
            .query_pairs
            .iter()
            .filter(|(k, _)| k != "id_after" && k != "id_before")
            .cloned()
            .collect();
        let q = Params {
            query_pairs: keep,
            ..p.clone()
        };
        let u = link(base_url, &q, &[("per_page", per_page.to_string()), cursor]);
        put(&mut h, "x-next-page", &u);
        put(&mut h, "link", &format!("<{u}>; rel=\"next\""));
    }
    let body: Vec<Value> = page.into_iter().map(|(_, v)| v).collect();
    Ok((h, axum::Json(Value::Array(body))).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(q: &[(&str, &str)]) -> Params {
        let mut p = Params {
            path: "/api/v4/projects".into(),
            ..Default::default()
        };
        for (k, v) in q {
            p.query_pairs.push((k.to_string(), v.to_string()));
            p.map.insert(k.to_string(), Value::String(v.to_string()));
        }
        p
    }

    #[test]
    fn totals_are_omitted_above_ten_thousand() {
        let items: Vec<Value> = (0..10_001).map(|i| Value::from(i as u64)).collect();
        let r = paginate("http://h", &params(&[("per_page", "100")]), items).unwrap();
        let h = r.headers();
        assert!(h.get("x-total").is_none());
        assert!(h.get("x-total-pages").is_none());
        assert_eq!(h["x-next-page"], "2");
        let link = h["link"].to_str().unwrap();
        assert!(
            link.contains("rel=\"next\"")
                && link.contains("rel=\"first\"")
                && !link.contains("rel=\"last\"")
        );
    }

    #[test]
    fn exactly_ten_thousand_are_counted() {
        let items: Vec<Value> = (0..10_000).map(|i| Value::from(i as u64)).collect();
        let r = paginate(
            "http://h",
            &params(&[("page", "100"), ("per_page", "100"), ("search", "a b")]),
            items,
        )
        .unwrap();
        let h = r.headers();
        assert_eq!(h["x-total"], "10000");
        assert_eq!(h["x-total-pages"], "100");
        assert_eq!(h["x-next-page"], "");
        assert_eq!(h["x-prev-page"], "99");
        let link = h["link"].to_str().unwrap();
        assert!(
            link.contains(
                "<http://h/api/v4/projects?search=a%20b&page=99&per_page=100>; rel=\"prev\""
            ),
            "{link}"
        );
        assert!(!link.contains("rel=\"next\""));
    }
}
