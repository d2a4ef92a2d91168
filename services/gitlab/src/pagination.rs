//! Offset pagination (`page`/`per_page`) that follows `X-Next-Page`, or the
//! `Link: <…>; rel="next"` header when `X-Next-Page` is absent (keyset
//! pagination), plus a streaming "all pages" helper with a cap.

use futures::Stream;
use futures::stream::{self, StreamExt};
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use url::Url;

use crate::client::{ApiRequest, GitLabClient, Target, decode};
use crate::errors::GitLabError;

/// GitLab's maximum `per_page`.
pub const MAX_PER_PAGE: u32 = 100;

/// Which page to fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u32,
    pub per_page: u32,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            page: 1,
            per_page: 20,
        }
    }
}

impl PageRequest {
    pub fn new(page: u32, per_page: u32) -> Self {
        Self {
            page: page.max(1),
            per_page: per_page.clamp(1, MAX_PER_PAGE),
        }
    }

    pub fn first(per_page: u32) -> Self {
        Self::new(1, per_page)
    }
}

/// Where the next page is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextPage {
    Number(u32),
    /// A full URL on the same instance (keyset pagination).
    Url(Url),
}

/// One page of results and what GitLab said about the others.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    pub next: Option<NextPage>,
    /// `X-Total` (absent above 10,000 results).
    pub total: Option<u64>,
    pub total_pages: Option<u32>,
}

impl<T> Page<T> {
    pub fn has_next(&self) -> bool {
        self.next.is_some()
    }

    /// The next page number when GitLab uses offset pagination.
    pub fn next_page(&self) -> Option<u32> {
        match self.next {
            Some(NextPage::Number(n)) => Some(n),
            _ => None,
        }
    }
}

fn header_num<N: std::str::FromStr>(h: &HeaderMap, name: &str) -> Option<N> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .and_then(|s| s.parse().ok())
}

/// The `rel="next"` target of a `Link` header.
pub fn link_next(h: &HeaderMap) -> Option<String> {
    for v in h.get_all("link") {
        let Ok(v) = v.to_str() else { continue };
        for part in v.split(',') {
            let mut pieces = part.split(';');
            let Some(target) = pieces.next() else {
                continue;
            };
            let is_next = pieces.any(|p| {
                let p = p.trim();
                p == "rel=\"next\"" || p == "rel=next"
            });
            if is_next {
                let t = target.trim();
                return Some(t.trim_start_matches('<').trim_end_matches('>').to_string());
            }
        }
    }
    None
}

/// Read the pagination headers of a response to `url` on `base`.
pub(crate) fn page_info(h: &HeaderMap, api_prefix: &str, request_url: &Url) -> PageMeta {
    let next = match header_num::<u32>(h, "x-next-page") {
        Some(n) => Some(NextPage::Number(n)),
        None => link_next(h).and_then(|l| same_instance_url(&l, api_prefix, request_url)),
    };
    PageMeta {
        page: header_num(h, "x-page"),
        per_page: header_num(h, "x-per-page"),
        next,
        total: header_num(h, "x-total"),
        total_pages: header_num(h, "x-total-pages"),
    }
}

/// Follow a `Link` only to our own instance (the token must never be sent
/// elsewhere). A link to another origin (a proxy rewriting hosts) keeps only
/// its query, applied to the request's own path.
fn same_instance_url(link: &str, api_prefix: &str, request_url: &Url) -> Option<NextPage> {
    let l = Url::parse(link).ok()?;
    if l.as_str().starts_with(api_prefix) {
        return Some(NextPage::Url(l));
    }
    let mut u = request_url.clone();
    u.set_query(l.query());
    Some(NextPage::Url(u))
}

pub(crate) struct PageMeta {
    page: Option<u32>,
    per_page: Option<u32>,
    next: Option<NextPage>,
    total: Option<u64>,
    total_pages: Option<u32>,
}

impl GitLabClient {
    /// Fetch one page of `req` (its `page`/`per_page` are set here).
    pub(crate) async fn page<T: DeserializeOwned>(
        &self,
        req: ApiRequest,
        page: PageRequest,
    ) -> Result<Page<T>, GitLabError> {
        let req = req
            .query("page", page.page)
            .query("per_page", page.per_page.clamp(1, MAX_PER_PAGE));
        self.page_of(req).await
    }

    async fn page_of<T: DeserializeOwned>(&self, req: ApiRequest) -> Result<Page<T>, GitLabError> {
        let url = match &req.target {
            Target::Url(u) => u.clone(),
            Target::Path(p) => Url::parse(&format!("{}{}", self.api_prefix(), p))
                .map_err(|e| GitLabError::Invalid(e.to_string()))?,
        };
        let resp = self.send(&req).await?;
        let items: Vec<T> = decode(req.endpoint, &resp.body)?;
        let meta = page_info(&resp.headers, self.api_prefix(), &url);
        Ok(Page {
            items,
            page: meta.page,
            per_page: meta.per_page,
            next: meta.next,
            total: meta.total,
            total_pages: meta.total_pages,
        })
    }

    /// Every item of every page, as a stream, stopping after `cap` items.
    /// Pages are fetched lazily, one at a time, each through the budget.
    pub(crate) fn all<T: DeserializeOwned + Send + 'static>(
        &self,
        req: ApiRequest,
        per_page: u32,
        cap: usize,
    ) -> impl Stream<Item = Result<T, GitLabError>> + Send + 'static {
        enum Cursor {
            Start(ApiRequest),
            Next(ApiRequest),
            Done,
        }
        let client = self.clone();
        let per_page = per_page.clamp(1, MAX_PER_PAGE);
        let first = req.query("page", 1).query("per_page", per_page);
        let pages = stream::unfold(
            (client, Cursor::Start(first)),
            move |(client, cursor)| async move {
                let req = match cursor {
                    Cursor::Start(r) | Cursor::Next(r) => r,
                    Cursor::Done => return None,
                };
                match client.page_of::<T>(req.clone()).await {
                    Err(e) => Some((stream::iter(vec![Err(e)]), (client, Cursor::Done))),
                    Ok(page) => {
                        let next = match (&page.next, page.items.is_empty()) {
                            (_, true) | (None, _) => Cursor::Done,
                            (Some(NextPage::Number(n)), _) => {
                                let mut r = req.clone();
                                r.query.retain(|(k, _)| k != "page");
                                Cursor::Next(r.query("page", *n))
                            }
                            (Some(NextPage::Url(u)), _) => {
                                let mut r = req.clone();
                                r.target = Target::Url(u.clone());
                                r.query.clear();
                                Cursor::Next(r)
                            }
                        };
                        let items: Vec<Result<T, GitLabError>> =
                            page.items.into_iter().map(Ok).collect();
                        Some((stream::iter(items), (client, next)))
                    }
                }
            },
        );
        pages.flatten().take(cap)
    }
}

/// Collect a stream of results, stopping at the first error.
pub async fn collect_all<T, S>(s: S) -> Result<Vec<T>, GitLabError>
where
    S: Stream<Item = Result<T, GitLabError>>,
{
    futures::pin_mut!(s);
    let mut out = vec![];
    while let Some(item) = s.next().await {
        out.push(item?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn next_from_headers() {
        let base = "http://h/api/v4/";
        let req = Url::parse("http://h/api/v4/projects?per_page=2").unwrap();
        let mut h = HeaderMap::new();
        h.insert("x-next-page", HeaderValue::from_static(""));
        h.insert(
            "link",
            HeaderValue::from_static(
                "<http://h/api/v4/projects?id_after=42&per_page=2>; rel=\"next\", <http://h/api/v4/projects?page=1>; rel=\"first\"",
            ),
        );
        let m = page_info(&h, base, &req);
        assert_eq!(
            m.next,
            Some(NextPage::Url(
                Url::parse("http://h/api/v4/projects?id_after=42&per_page=2").unwrap()
            ))
        );
        h.insert("x-next-page", HeaderValue::from_static("3"));
        assert_eq!(page_info(&h, base, &req).next, Some(NextPage::Number(3)));

        let mut other = HeaderMap::new();
        other.insert(
            "link",
            HeaderValue::from_static("<https://evil.example/api/v4/projects?page=2>; rel=\"next\""),
        );
        match page_info(&other, base, &req).next {
            Some(NextPage::Url(u)) => assert_eq!(u.as_str(), "http://h/api/v4/projects?page=2"),
            n => panic!("{n:?}"),
        }
        assert!(page_info(&HeaderMap::new(), base, &req).next.is_none());
    }
}
