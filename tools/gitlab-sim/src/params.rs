//! Request parameters the way Grape sees them: query string merged with a
//! JSON or form-encoded body, `key[]` arrays, loose boolean coercion.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde_json::{Map, Value};

use crate::error::ApiError;

/// Merged request parameters.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pub map: Map<String, Value>,
    /// The raw query pairs in order (used to build pagination links).
    pub query_pairs: Vec<(String, String)>,
    /// Request path (without query).
    pub path: String,
}

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let path = req.uri().path().to_string();
        let query = req.uri().query().unwrap_or("").to_string();
        let ctype = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|_| ApiError::grape("body is invalid"))?;
        let mut p = Params {
            path,
            ..Default::default()
        };
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            p.query_pairs.push((k.to_string(), v.to_string()));
            insert_form(&mut p.map, &k, v.to_string());
        }
        if !body.is_empty() {
            if ctype.starts_with("application/json") || (ctype.is_empty() && body[0] == b'{') {
                match serde_json::from_slice::<Value>(&body) {
                    Ok(Value::Object(obj)) => {
                        for (k, v) in obj {
                            let key = k.strip_suffix("[]").unwrap_or(&k).to_string();
                            p.map.insert(key, v);
                        }
                    }
                    Ok(_) => {}
                    Err(_) => return Err(ApiError::grape("body is not valid JSON")),
                }
            } else if ctype.starts_with("application/x-www-form-urlencoded") || ctype.is_empty() {
                for (k, v) in url::form_urlencoded::parse(&body) {
                    insert_form(&mut p.map, &k, v.to_string());
                }
            } else if ctype.starts_with("multipart/form-data") {
                parse_multipart_fields(&ctype, &body, &mut p.map);
            }
        }
        Ok(p)
    }
}

fn insert_form(map: &mut Map<String, Value>, key: &str, value: String) {
    if let Some(base) = key.strip_suffix("[]") {
        let entry = map
            .entry(base.to_string())
            .or_insert_with(|| Value::Array(vec![]));
        match entry {
            Value::Array(a) => a.push(Value::String(value)),
            other => *other = Value::Array(vec![other.clone(), Value::String(value)]),
        }
    } else {
        map.insert(key.to_string(), Value::String(value));
    }
}

/// Minimal multipart parser for text fields (file parts are kept as their
/// raw text under the field name; only used by uploads, which need the name).
fn parse_multipart_fields(ctype: &str, body: &[u8], map: &mut Map<String, Value>) {
    let Some(boundary) = ctype.split("boundary=").nth(1) else {
        return;
    };
    let boundary = boundary.trim_matches('"');
    let delim = format!("--{boundary}");
    let text = String::from_utf8_lossy(body);
    for part in text.split(&delim) {
        let Some((head, content)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let Some(name) = head
            .split(';')
            .find_map(|s| s.trim().strip_prefix("name=").map(|n| n.trim_matches('"')))
        else {
            continue;
        };
        let filename = head
            .split(';')
            .find_map(|s| {
                s.trim()
                    .strip_prefix("filename=")
                    .map(|n| n.lines().next().unwrap_or("").trim_matches('"'))
            })
            .map(str::to_string);
        let content = content.strip_suffix("\r\n").unwrap_or(content).to_string();
        if let Some(f) = filename {
            map.insert(format!("{name}.filename"), Value::String(f));
        }
        map.insert(name.to_string(), Value::String(content));
    }
}

impl Params {
    pub fn has(&self, k: &str) -> bool {
        self.map.contains_key(k)
    }

    pub fn is_null(&self, k: &str) -> bool {
        matches!(self.map.get(k), Some(Value::Null))
    }

    /// String value (numbers and booleans are rendered).
    pub fn str(&self, k: &str) -> Option<String> {
        match self.map.get(k)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// Required non-blank string.
    pub fn req_str(&self, k: &str) -> Result<String, ApiError> {
        match self.str(k) {
            Some(s) if !s.trim().is_empty() => Ok(s),
            Some(_) => Err(ApiError::grape(format!("{k} is empty"))),
            None => Err(ApiError::missing(k)),
        }
    }

    /// Grape `Boolean` coercion.
    pub fn bool(&self, k: &str) -> Result<Option<bool>, ApiError> {
        match self.map.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(1) => Ok(Some(true)),
                Some(0) => Ok(Some(false)),
                _ => Err(ApiError::invalid(k)),
            },
            Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
                "true" | "t" | "1" | "yes" | "y" | "on" => Ok(Some(true)),
                "false" | "f" | "0" | "no" | "n" | "off" => Ok(Some(false)),
                _ => Err(ApiError::invalid(k)),
            },
            Some(_) => Err(ApiError::invalid(k)),
        }
    }

    pub fn bool_or(&self, k: &str, default: bool) -> Result<bool, ApiError> {
        Ok(self.bool(k)?.unwrap_or(default))
    }

    /// Grape `Integer` coercion.
    pub fn int(&self, k: &str) -> Result<Option<i64>, ApiError> {
        match self.map.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| ApiError::invalid(k)),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => s
                .trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| ApiError::invalid(k)),
            Some(_) => Err(ApiError::invalid(k)),
        }
    }

    /// Array of strings; a plain string is split on commas (Grape's
    /// `coerce_with` for `labels`).
    pub fn list(&self, k: &str) -> Option<Vec<String>> {
        match self.map.get(k)? {
            Value::Array(a) => Some(
                a.iter()
                    .filter_map(|v| match v {
                        Value::String(s) => Some(s.clone()),
                        Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    })
                    .collect(),
            ),
            Value::String(s) => Some(
                s.split(',')
                    .map(|x| x.trim().to_string())
                    .filter(|x| !x.is_empty())
                    .collect(),
            ),
            Value::Number(n) => Some(vec![n.to_string()]),
            _ => None,
        }
    }

    /// Integer list (`assignee_ids[]`).
    pub fn int_list(&self, k: &str) -> Result<Option<Vec<i64>>, ApiError> {
        match self.list(k) {
            None => Ok(None),
            Some(v) => v
                .iter()
                .map(|s| s.parse::<i64>().map_err(|_| ApiError::invalid(k)))
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
        }
    }
}
