//! Request extractors whose rejections are the JSON error body and name the offending field.
//!
//! axum's own `Json`, `Query` and `Path` reject with plain text; these wrappers replace them.

use axum::{
    extract::{FromRequest, FromRequestParts, Request},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use http::{StatusCode, header, request::Parts};
use serde::{Serialize, de::DeserializeOwned};

use crate::errors::GatewayError;

/// JSON request body (and JSON response). Rejections: 400 for malformed JSON, 415 for a
/// non-JSON content type, 413 for an oversized body, 422 for JSON of the wrong shape.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = GatewayError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(content_type) = req.headers().get(header::CONTENT_TYPE)
            && !is_json_content_type(content_type.as_bytes())
        {
            return Err(GatewayError::from_http_status(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Some("expected Content-Type: application/json".into()),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            GatewayError::from_http_status(rejection.status(), Some(rejection.body_text()))
        })?;
        parse_json(&bytes).map(Json)
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

fn is_json_content_type(value: &[u8]) -> bool {
    let Ok(value) = std::str::from_utf8(value) else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parses a JSON body, turning every failure into an error that names the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, GatewayError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(GatewayError::bad_request(
            None,
            "request body must be a JSON object",
        ));
    }
    // Every request body of the API is an object. serde would accept an array for a struct
    // (field by position), which only produces confusing errors.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(
            match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
                Ok(_) => GatewayError::unprocessable("body", "must be a JSON object"),
                Err(error) => GatewayError::bad_request(
                    None,
                    format!("malformed JSON: {}", strip_position(&error.to_string())),
                ),
            },
        );
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let description = strip_position(&inner.to_string());
        match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                GatewayError::bad_request(None, format!("malformed JSON: {description}"))
            }
            serde_json::error::Category::Io | serde_json::error::Category::Data => {
                let (field, description) = field_and_description(&path, &description);
                GatewayError::unprocessable(field, description)
            }
        }
    })?;
    deserializer.end().map_err(|error| {
        GatewayError::bad_request(
            None,
            format!("malformed JSON: {}", strip_position(&error.to_string())),
        )
    })?;
    Ok(value)
}

/// serde_json appends " at line L column C"; the field path says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

/// The field named by a serde error: the path, or for missing/unknown fields the name in
/// backticks appended to the path of the enclosing object.
fn field_and_description(path: &str, description: &str) -> (String, String) {
    let parent = if path == "." { "" } else { path };
    let join = |name: &str| {
        if parent.is_empty() {
            name.to_owned()
        } else {
            format!("{parent}.{name}")
        }
    };
    if let Some(rest) = description.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or_default();
        return (join(name), "is required".to_owned());
    }
    if let Some(rest) = description.strip_prefix("unknown field `") {
        let name = rest.split('`').next().unwrap_or_default();
        // serde_path_to_error already records the unknown key as the last path segment.
        let field = if parent.ends_with(name) && !name.is_empty() {
            parent.to_owned()
        } else {
            join(name)
        };
        return (field, "unknown field".to_owned());
    }
    let field = if parent.is_empty() {
        "body".to_owned()
    } else {
        parent.to_owned()
    };
    (field, description.to_owned())
}

/// Query string parameters. Rejection: 422 naming the parameter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = GatewayError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        parse_query(query).map(Query)
    }
}

/// Parses a query string, naming the parameter on failure.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, GatewayError> {
    let deserializer =
        serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let description = error.into_inner().to_string();
        let (field, description) = field_and_description(&path, &description);
        let field = if field == "body" {
            "query".to_owned()
        } else {
            field
        };
        GatewayError::unprocessable(field, description)
    })
}

/// A numeric resource id from the path (`/api/instances/{id}`). Rejection: 422 naming `id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdPath(pub i64);

impl<S> FromRequestParts<S> for IdPath
where
    S: Send + Sync,
{
    type Rejection = GatewayError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| GatewayError::unprocessable("id", "must be a positive integer"))?;
        match raw.parse::<i64>() {
            Ok(id) if id > 0 => Ok(IdPath(id)),
            _ => Err(GatewayError::unprocessable(
                "id",
                "must be a positive integer",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        count: Option<u32>,
        inner: Option<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        flag: bool,
    }

    fn err(json: &str) -> GatewayError {
        parse_json::<Body>(json.as_bytes()).unwrap_err()
    }

    #[test]
    fn malformed_json_is_400() {
        let e = err("{\"name\": ");
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(e.message.starts_with("malformed JSON"), "{}", e.message);
        assert_eq!(err("").status, StatusCode::BAD_REQUEST);
        assert_eq!(
            err("{\"name\":\"a\"} trailing").status,
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn wrong_type_names_the_field() {
        let e = err(r#"{"name": 5}"#);
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.field_violations[0].field, "name");
        assert!(e.message.starts_with("name: invalid type"), "{}", e.message);
        assert!(!e.message.contains("line"), "{}", e.message);
        let e = err(r#"{"name": "a", "inner": {"flag": "yes"}}"#);
        assert_eq!(e.field_violations[0].field, "inner.flag");
    }

    #[test]
    fn unknown_and_missing_fields_are_named() {
        let e = err(r#"{"name": "a", "colour": 1}"#);
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.field_violations[0].field, "colour");
        assert_eq!(e.message, "colour: unknown field");
        let e = err(r#"{"name": "a", "inner": {"flag": true, "x": 1}}"#);
        assert_eq!(e.field_violations[0].field, "inner.x");
        let e = err(r#"{"count": 1}"#);
        assert_eq!(e.field_violations[0].field, "name");
        assert_eq!(e.message, "name: is required");
        let e = err(r#"[1, 2]"#);
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.field_violations[0].field, "body");
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Params {
        page: Option<u32>,
        search: Option<String>,
        force: Option<bool>,
    }

    #[test]
    fn bad_query_parameters_are_named() {
        let ok: Params = parse_query("page=2&search=a%20b&unknown=1").unwrap();
        assert_eq!(ok.page, Some(2));
        assert_eq!(ok.search.as_deref(), Some("a b"));
        let e = parse_query::<Params>("page=abc").unwrap_err();
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.field_violations[0].field, "page");
        let e = parse_query::<Params>("force=maybe").unwrap_err();
        assert_eq!(e.field_violations[0].field, "force");
    }

    #[test]
    fn json_content_types() {
        assert!(is_json_content_type(b"application/json"));
        assert!(is_json_content_type(b"application/json; charset=utf-8"));
        assert!(is_json_content_type(b"application/merge-patch+json"));
        assert!(!is_json_content_type(b"text/plain"));
        assert!(!is_json_content_type(b"application/x-www-form-urlencoded"));
    }
}
