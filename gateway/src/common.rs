//! Pieces shared by the resource modules: presence-tracked update fields, timestamps, list
//! pagination, query-parameter helpers and the REST forms of protobuf enums.

use std::{fmt::Display, future::Future, str::FromStr};

use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use http::{HeaderName, HeaderValue, Uri, header};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{errors::GatewayError, extract::Json};

/// A field of a partial update: absent (leave unchanged), `null` (clear) or a new value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    #[default]
    Missing,
    Null,
    Value(T),
}

impl<T> Patch<T> {
    pub fn is_present(&self) -> bool {
        !matches!(self, Patch::Missing)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Option::<T>::deserialize(deserializer).map(|value| match value {
            Some(value) => Patch::Value(value),
            None => Patch::Null,
        })
    }
}

/// Collects the update mask of a partial update and rejects `null` where a field cannot be
/// cleared.
#[derive(Debug, Default)]
pub struct MaskBuilder {
    pub paths: Vec<String>,
}

impl MaskBuilder {
    /// A field that must have a value when present.
    pub fn required<T>(&mut self, name: &str, patch: Patch<T>) -> Result<Option<T>, GatewayError> {
        match patch {
            Patch::Missing => Ok(None),
            Patch::Null => Err(GatewayError::unprocessable(name, "must not be null")),
            Patch::Value(value) => {
                self.paths.push(name.to_owned());
                Ok(Some(value))
            }
        }
    }

    /// A field that `null` clears; returns `Some(None)` for a clear.
    pub fn optional<T>(&mut self, name: &str, patch: Patch<T>) -> Option<Option<T>> {
        match patch {
            Patch::Missing => None,
            Patch::Null => {
                self.paths.push(name.to_owned());
                Some(None)
            }
            Patch::Value(value) => {
                self.paths.push(name.to_owned());
                Some(Some(value))
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    pub fn into_field_mask(self) -> pbjson_types::FieldMask {
        pbjson_types::FieldMask { paths: self.paths }
    }
}

/// Converts a protobuf timestamp.
pub fn timestamp(ts: Option<&pbjson_types::Timestamp>) -> Option<DateTime<Utc>> {
    let ts = ts?;
    DateTime::<Utc>::from_timestamp(ts.seconds, u32::try_from(ts.nanos).unwrap_or(0))
}

/// Serializes timestamps as the previous API did: UTC, microseconds, `Z` suffix
/// (`2026-01-04T12:00:00.123456Z`).
pub fn serialize_time<S: Serializer>(
    value: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(t) => serializer.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Micros, true)),
        None => serializer.serialize_none(),
    }
}

/// Largest page the API accepts.
pub const MAX_PER_PAGE: u32 = 200;
/// Page size when the client gives none.
pub const DEFAULT_PER_PAGE: u32 = 50;
/// Deepest `page` served by walking page tokens; deeper pages need `page_token`.
pub const MAX_PAGE: u32 = 100;

/// Bounds of the pagination parameters of one list endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimits {
    /// Name of the page size parameter (`per_page` or `page_size`), for error messages.
    pub size_field: &'static str,
    pub default_size: u32,
    pub max_size: u32,
    /// Deepest page number accepted.
    pub max_page: u32,
}

impl PageLimits {
    /// Lists of instances and pairs: `per_page` 1-200 (default 50), pages 1-100 reached by
    /// following cursors.
    pub const CURSOR: PageLimits = PageLimits {
        size_field: "per_page",
        default_size: DEFAULT_PER_PAGE,
        max_size: MAX_PER_PAGE,
        max_page: MAX_PAGE,
    };

    /// The same, with the size parameter named `page_size` (as the previous mirror API).
    pub const CURSOR_PAGE_SIZE: PageLimits = PageLimits {
        size_field: "page_size",
        ..PageLimits::CURSOR
    };
}

/// Pagination parameters common to every list endpoint.
#[derive(Debug, Clone, Default)]
pub struct PageParams {
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    pub page_token: Option<String>,
}

/// What to ask the API for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageRequest {
    /// 1-based page number, reached by following page tokens.
    Number { page: u32, per_page: u32 },
    /// An opaque token from a previous response's `X-Next-Page-Token`.
    Token { token: String, per_page: u32 },
}

impl PageRequest {
    pub fn per_page(&self) -> u32 {
        match self {
            PageRequest::Number { per_page, .. } | PageRequest::Token { per_page, .. } => *per_page,
        }
    }
}

impl PageParams {
    pub fn new(page: Option<u32>, per_page: Option<u32>, page_token: &Option<String>) -> Self {
        Self {
            page,
            per_page,
            page_token: page_token.clone(),
        }
    }

    /// Checks the parameters against [`PageLimits::CURSOR`].
    pub fn validate(&self) -> Result<PageRequest, GatewayError> {
        self.validate_with(PageLimits::CURSOR)
    }

    pub fn validate_with(&self, limits: PageLimits) -> Result<PageRequest, GatewayError> {
        let per_page = self.per_page.unwrap_or(limits.default_size);
        if !(1..=limits.max_size).contains(&per_page) {
            return Err(GatewayError::unprocessable(
                limits.size_field,
                format!("must be between 1 and {}", limits.max_size),
            ));
        }
        match (&self.page, &self.page_token) {
            (Some(_), Some(_)) => Err(GatewayError::unprocessable(
                "page_token",
                "cannot be combined with page",
            )),
            (_, Some(token)) if !token.is_empty() => Ok(PageRequest::Token {
                token: token.clone(),
                per_page,
            }),
            (page, _) => {
                let page = page.unwrap_or(1);
                if !(1..=limits.max_page).contains(&page) {
                    let hint = if limits.max_page == MAX_PAGE {
                        "; use page_token for deeper pages"
                    } else {
                        ""
                    };
                    return Err(GatewayError::unprocessable(
                        "page",
                        format!("must be between 1 and {}{hint}", limits.max_page),
                    ));
                }
                Ok(PageRequest::Number { page, per_page })
            }
        }
    }
}

/// One page as returned by a list RPC.
pub struct ApiPage<T> {
    pub items: Vec<T>,
    pub next_page_token: String,
    pub total: i64,
}

/// Fetches the requested page, following page tokens for page numbers > 1.
pub async fn fetch_page<T, F, Fut>(
    request: &PageRequest,
    mut call: F,
) -> Result<ApiPage<T>, GatewayError>
where
    F: FnMut(String, i32) -> Fut,
    Fut: Future<Output = Result<ApiPage<T>, GatewayError>>,
{
    match request {
        PageRequest::Token { token, per_page } => call(token.clone(), *per_page as i32).await,
        PageRequest::Number { page, per_page } => {
            let mut token = String::new();
            for _ in 1..*page {
                let skipped = call(token, *per_page as i32).await?;
                if skipped.next_page_token.is_empty() {
                    return Ok(ApiPage {
                        items: Vec::new(),
                        next_page_token: String::new(),
                        total: skipped.total,
                    });
                }
                token = skipped.next_page_token;
            }
            call(token, *per_page as i32).await
        }
    }
}

/// The URL of the next page: the same query with `page` advanced, or `page_token` replaced.
pub fn next_link(uri: &Uri, request: &PageRequest, next_token: &str) -> String {
    next_link_within(uri, request, next_token, MAX_PAGE)
}

/// [`next_link`] for endpoints serving page numbers up to `max_page`.
pub fn next_link_within(
    uri: &Uri,
    request: &PageRequest,
    next_token: &str,
    max_page: u32,
) -> String {
    match request {
        PageRequest::Number { page, .. } if *page < max_page => {
            link_to(uri, "page", &(page + 1).to_string())
        }
        // Beyond the deepest page number, continue with the cursor.
        _ => link_to(uri, "page_token", next_token),
    }
}

/// The request's path and query with `page`/`page_token` replaced by `key=value`.
pub fn link_to(uri: &Uri, key: &str, value: &str) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (name, current) in form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()) {
        if name != "page" && name != "page_token" {
            serializer.append_pair(&name, &current);
        }
    }
    serializer.append_pair(key, value);
    format!("{}?{}", uri.path(), serializer.finish())
}

/// A list response: a bare JSON array (as the previous API returned) plus pagination headers
/// `X-Total-Count`, `X-Next-Page-Token` and `Link: <…>; rel="next"`.
pub struct Listed<T> {
    items: Vec<T>,
    total: Option<i64>,
    next_token: Option<String>,
    link: Option<String>,
    extra: Vec<(HeaderName, HeaderValue)>,
}

impl<T> Listed<T> {
    pub fn new(page: ApiPage<T>, request: &PageRequest, uri: &Uri) -> Self {
        Self::within(page, request, uri, MAX_PAGE)
    }

    /// [`Listed::new`] for endpoints serving page numbers up to `max_page`.
    pub fn within(page: ApiPage<T>, request: &PageRequest, uri: &Uri, max_page: u32) -> Self {
        let next_token = (!page.next_page_token.is_empty()).then_some(page.next_page_token);
        let link = next_token
            .as_deref()
            .map(|token| next_link_within(uri, request, token, max_page));
        Self {
            items: page.items,
            total: Some(page.total),
            next_token,
            link,
            extra: Vec::new(),
        }
    }

    /// A list without a known total or cursor; `next` is the URL of the next page, if any.
    pub fn plain(items: Vec<T>, next: Option<String>) -> Self {
        Self {
            items,
            total: None,
            next_token: None,
            link: next,
            extra: Vec::new(),
        }
    }

    /// Adds a response header.
    pub fn header(mut self, name: &'static str, value: impl Display) -> Self {
        if let Ok(value) = HeaderValue::from_str(&value.to_string()) {
            self.extra.push((HeaderName::from_static(name), value));
        }
        self
    }
}

impl<T: Serialize> IntoResponse for Listed<T> {
    fn into_response(self) -> Response {
        let mut response = Json(self.items).into_response();
        let headers = response.headers_mut();
        if let Some(total) = self.total {
            headers.insert(
                HeaderName::from_static("x-total-count"),
                HeaderValue::from(total.max(0)),
            );
        }
        if let Some(token) = self.next_token
            && let Ok(value) = HeaderValue::from_str(&token)
        {
            headers.insert(HeaderName::from_static("x-next-page-token"), value);
        }
        if let Some(link) = self.link
            && let Ok(value) = HeaderValue::from_str(&format!("<{link}>; rel=\"next\""))
        {
            headers.insert(header::LINK, value);
        }
        for (name, value) in self.extra {
            headers.insert(name, value);
        }
        response
    }
}

/// Validates the paging parameters, fetches the page (following cursors for page numbers)
/// and builds the list response.
pub async fn list<T, F, Fut>(
    paging: &PageRequest,
    uri: &Uri,
    call: F,
) -> Result<Listed<T>, GatewayError>
where
    F: FnMut(String, i32) -> Fut,
    Fut: Future<Output = Result<ApiPage<T>, GatewayError>>,
{
    let page = fetch_page(paging, call).await?;
    Ok(Listed::new(page, paging, uri))
}

/// The error for a response that lacks a field the API always sets.
pub fn missing(field: &'static str) -> impl FnOnce() -> GatewayError {
    move || {
        tracing::error!(field, "API response lacks a required field");
        GatewayError::from(mm_common::ApiError::internal())
    }
}

/// Rejects ids below 1 of optional filter parameters.
pub fn check_ids(ids: &[(&str, Option<i64>)]) -> Result<(), GatewayError> {
    for (field, value) in ids {
        if value.is_some_and(|v| v < 1) {
            return Err(GatewayError::unprocessable(
                *field,
                "must be a positive integer",
            ));
        }
    }
    Ok(())
}

/// Query parameter deserializer: an empty (or blank) value is the same as an absent one, so
/// forms that send every field (`?status=&enabled=`) mean "any". Other values must parse.
pub fn blank_as_none<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: Display,
{
    let value = Option::<String>::deserialize(deserializer)?;
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => value.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

/// Declares the REST form of a protobuf enum: lowercase `snake_case` strings on the wire,
/// parsed case-insensitively and strictly (the unspecified value is not accepted).
///
/// Each variant's text must be the `snake_case` of its name: serde and utoipa derive the
/// wire names with `rename_all` (utoipa cannot read a `rename` given by a macro argument).
macro_rules! rest_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident : $proto:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The REST name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// Case-insensitive, surrounding blanks ignored.
            pub fn parse(value: &str) -> Option<Self> {
                let value = value.trim();
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str().eq_ignore_ascii_case(value))
            }

            pub fn to_proto(self) -> mm_proto::v1::$proto {
                match self {
                    $($name::$variant => mm_proto::v1::$proto::$variant,)+
                }
            }

            /// `None` for the unspecified or an unknown value.
            pub fn from_proto(value: i32) -> Option<Self> {
                match mm_proto::v1::$proto::try_from(value).ok()? {
                    $(mm_proto::v1::$proto::$variant => Some($name::$variant),)+
                    #[allow(unreachable_patterns)]
                    _ => None,
                }
            }

            /// The proto value of an optional filter (unspecified when absent).
            pub fn filter(value: Option<Self>) -> i32 {
                value.map_or(0, |v| v.to_proto() as i32)
            }

            fn expected() -> String {
                let names: Vec<String> =
                    Self::ALL.iter().map(|v| format!("\"{}\"", v.as_str())).collect();
                format!("must be one of {}", names.join(", "))
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;

            fn from_str(value: &str) -> Result<Self, String> {
                Self::parse(value).ok_or_else(|| format!("{}, got {value:?}", Self::expected()))
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = String::deserialize(deserializer)?;
                value.parse().map_err(serde::de::Error::custom)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use rest_enum;

/// Maps REST sort keys to the API's (`created_at` → `create_time`); `-key` means descending.
pub fn order_by(value: Option<&str>) -> String {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return String::new();
    };
    let (field, desc) = match value.strip_prefix('-') {
        Some(field) => (field, true),
        None => match value.rsplit_once(' ') {
            Some((field, dir)) if dir.eq_ignore_ascii_case("desc") => (field.trim(), true),
            Some((field, dir)) if dir.eq_ignore_ascii_case("asc") => (field.trim(), false),
            _ => (value, false),
        },
    };
    let field = match field {
        "created_at" => "create_time",
        "updated_at" => "update_time",
        other => other,
    };
    if desc {
        format!("{field} desc")
    } else {
        field.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_distinguishes_missing_null_and_value() {
        #[derive(Deserialize)]
        struct B {
            #[serde(default)]
            a: Patch<String>,
            #[serde(default)]
            b: Patch<String>,
            #[serde(default)]
            c: Patch<String>,
        }
        let b: B = serde_json::from_str(r#"{"b": null, "c": "x"}"#).unwrap();
        assert_eq!(b.a, Patch::Missing);
        assert_eq!(b.b, Patch::Null);
        assert_eq!(b.c, Patch::Value("x".into()));
        let mut mask = MaskBuilder::default();
        assert!(mask.required("a", b.a).unwrap().is_none());
        assert_eq!(mask.optional("b", b.b), Some(None));
        assert!(mask.required("c", Patch::<String>::Null).is_err());
        assert_eq!(mask.paths, vec!["b"]);
    }

    #[test]
    fn page_parameters_are_checked() {
        let p = PageParams::default();
        assert_eq!(
            p.validate().unwrap(),
            PageRequest::Number {
                page: 1,
                per_page: 50
            }
        );
        let p = PageParams {
            per_page: Some(0),
            ..Default::default()
        };
        assert_eq!(
            p.validate().unwrap_err().field_violations[0].field,
            "per_page"
        );
        let p = PageParams {
            page: Some(0),
            ..Default::default()
        };
        assert_eq!(p.validate().unwrap_err().field_violations[0].field, "page");
        let p = PageParams {
            page: Some(2),
            page_token: Some("t".into()),
            ..Default::default()
        };
        assert!(p.validate().is_err());
    }

    #[tokio::test]
    async fn page_numbers_follow_tokens() {
        let calls = std::sync::Mutex::new(Vec::new());
        let page = fetch_page(
            &PageRequest::Number {
                page: 3,
                per_page: 2,
            },
            |token, size| {
                calls.lock().unwrap().push((token.clone(), size));
                async move {
                    let n: usize = token.parse().unwrap_or(0);
                    Ok(ApiPage {
                        items: vec![n, n + 1],
                        next_page_token: (n + 2).to_string(),
                        total: 10,
                    })
                }
            },
        )
        .await
        .unwrap();
        assert_eq!(page.items, vec![4, 5]);
        assert_eq!(calls.lock().unwrap().len(), 3);
    }

    #[test]
    fn next_links_keep_filters() {
        let uri: Uri = "/api/pairs?search=a%20b&page=2&per_page=5".parse().unwrap();
        let link = next_link(
            &uri,
            &PageRequest::Number {
                page: 2,
                per_page: 5,
            },
            "tok",
        );
        assert_eq!(link, "/api/pairs?search=a+b&per_page=5&page=3");
        let link = next_link(
            &uri,
            &PageRequest::Number {
                page: MAX_PAGE,
                per_page: 5,
            },
            "tok",
        );
        assert_eq!(link, "/api/pairs?search=a+b&per_page=5&page_token=tok");
    }

    #[test]
    fn sort_keys_are_mapped() {
        assert_eq!(order_by(None), "");
        assert_eq!(order_by(Some("name")), "name");
        assert_eq!(order_by(Some("-created_at")), "create_time desc");
        assert_eq!(order_by(Some("updated_at desc")), "update_time desc");
    }
}
