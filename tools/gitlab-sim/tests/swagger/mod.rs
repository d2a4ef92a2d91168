//! A small Swagger 2.0 response validator: resolves `#/definitions/..`
//! references and checks types, formats, enums, array items and object
//! properties. Translation rules from Swagger 2 to JSON-schema semantics:
//!
//! - Swagger 2 cannot say "nullable"; Grape entities render `nil` as `null`,
//!   so `null` is accepted for every property.
//! - Objects are open (the spec has no `additionalProperties: false`);
//!   fields GitLab added after the spec was generated are accepted.
//! - `format: date-time` must be RFC 3339; `format: date` must be `YYYY-MM-DD`;
//!   `int32`/`int64` are annotations only.
//! - Known spec defects are passed in explicitly by the caller.

#![allow(dead_code)]

use std::collections::HashSet;
use std::path::Path;

use serde_json::Value;

/// A JSON type a defect allows instead of the declared one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    Integer,
    Boolean,
    Object,
    Array,
    /// A `YYYY-MM-DD` string where the spec says `date-time`.
    Date,
}

/// One documented defect: `definition.property` is really `actual`.
#[derive(Debug, Clone)]
pub struct Defect {
    pub definition: &'static str,
    pub property: &'static str,
    pub actual: Kind,
    pub reason: &'static str,
}

pub struct Spec {
    pub doc: Value,
    pub name: String,
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn matches_kind(k: Kind, v: &Value) -> bool {
    match k {
        Kind::String => v.is_string(),
        Kind::Integer => v.is_i64() || v.is_u64(),
        Kind::Boolean => v.is_boolean(),
        Kind::Object => v.is_object(),
        Kind::Array => v.is_array(),
        Kind::Date => v.as_str().is_some_and(is_date),
    }
}

fn is_date(s: &str) -> bool {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

fn is_date_time(s: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

/// Segments of a path template with parameters blanked.
pub fn normalize(template: &str) -> String {
    template
        .split('/')
        .map(|s| {
            if s.starts_with('{') && s.ends_with('}') {
                "{}"
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Does a concrete (percent-encoded) path match a template?
pub fn path_matches(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(a, b)| (a.starts_with('{') && !b.is_empty()) || a == b)
}

impl Spec {
    pub fn load(path: &Path) -> Spec {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
            panic!(
                "OpenAPI spec {} cannot be read ({e}). The conformance test needs ../shared/gitlab-openapi \
                 beside the repository, or MM_GITLAB_OPENAPI pointing at the file.",
                path.display()
            )
        });
        let doc: Value = serde_yaml::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()));
        assert_eq!(
            doc["swagger"],
            "2.0",
            "{} is not a Swagger 2.0 document",
            path.display()
        );
        Spec {
            doc,
            name: path.file_name().unwrap().to_string_lossy().into_owned(),
        }
    }

    /// The operation for `method` on the template equal to `template`
    /// (parameter names ignored).
    pub fn op_for_template(&self, method: &str, template: &str) -> Option<(String, &Value)> {
        let want = normalize(template);
        let paths = self.doc["paths"].as_object()?;
        paths.iter().find_map(|(p, ops)| {
            (normalize(p) == want).then(|| {
                ops.get(method.to_ascii_lowercase())
                    .map(|op| (p.clone(), op))
            })?
        })
    }

    /// The most specific spec template matching a concrete path.
    pub fn op_for_path(&self, method: &str, path: &str) -> Option<(String, &Value)> {
        let paths = self.doc["paths"].as_object()?;
        let mut best: Option<(usize, String, &Value)> = None;
        for (p, ops) in paths {
            if !path_matches(p, path) {
                continue;
            }
            let Some(op) = ops.get(method.to_ascii_lowercase()) else {
                continue;
            };
            let params = p.matches('{').count();
            if best.as_ref().is_none_or(|(b, _, _)| params < *b) {
                best = Some((params, p.clone(), op));
            }
        }
        best.map(|(_, p, op)| (p, op))
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> (&'a Value, Option<String>) {
        match schema.get("$ref").and_then(|r| r.as_str()) {
            Some(r) => {
                let name = r.trim_start_matches("#/definitions/");
                (&self.doc["definitions"][name], Some(name.to_string()))
            }
            None => (schema, None),
        }
    }

    /// Validate `v` against `schema`; errors are appended with a JSON path.
    #[allow(clippy::too_many_arguments)]
    pub fn validate(
        &self,
        schema: &Value,
        v: &Value,
        at: &str,
        def: Option<&str>,
        defects: &[Defect],
        used: &mut HashSet<usize>,
        errors: &mut Vec<String>,
    ) {
        let (schema, named) = self.resolve(schema);
        let def_owned = named.or(def.map(str::to_string));
        let def = def_owned.as_deref();
        if v.is_null() {
            return;
        }
        if schema.is_null() {
            errors.push(format!("{at}: unresolved schema reference"));
            return;
        }
        if let Some(en) = schema.get("enum").and_then(|e| e.as_array())
            && !en.contains(v)
        {
            errors.push(format!("{at}: {v} not in enum {en:?}"));
        }
        let ty = schema.get("type").and_then(|t| t.as_str()).unwrap_or(
            if schema.get("properties").is_some() {
                "object"
            } else {
                ""
            },
        );
        let ok = match ty {
            "" => true,
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            other => {
                errors.push(format!("{at}: unknown schema type {other}"));
                return;
            }
        };
        if !ok {
            errors.push(format!("{at}: expected {ty}, got {} ({v})", kind_of(v)));
            return;
        }
        match ty {
            "string" => {
                let s = v.as_str().unwrap_or_default();
                match schema.get("format").and_then(|f| f.as_str()) {
                    Some("date-time") if !is_date_time(s) => {
                        errors.push(format!("{at}: {s:?} is not a date-time"))
                    }
                    Some("date") if !is_date(s) => {
                        errors.push(format!("{at}: {s:?} is not a date"))
                    }
                    _ => {}
                }
            }
            "array" => {
                if let Some(items) = schema.get("items") {
                    for (i, x) in v.as_array().unwrap().iter().enumerate() {
                        self.validate(items, x, &format!("{at}[{i}]"), def, defects, used, errors);
                    }
                }
            }
            "object" => {
                let Some(props) = schema.get("properties").and_then(|p| p.as_object()) else {
                    return;
                };
                for (k, sub) in props {
                    let Some(x) = v.get(k) else { continue };
                    let mut local = vec![];
                    self.validate(
                        sub,
                        x,
                        &format!("{at}.{k}"),
                        None,
                        defects,
                        used,
                        &mut local,
                    );
                    if local.is_empty() {
                        continue;
                    }
                    // A documented defect of this exact property may excuse it.
                    let excused = def.and_then(|d| {
                        defects.iter().position(|f| {
                            f.definition == d && f.property == k && matches_kind(f.actual, x)
                        })
                    });
                    match excused {
                        Some(ix) => {
                            used.insert(ix);
                        }
                        None => errors.extend(
                            local
                                .into_iter()
                                .map(|e| format!("{e} [in {}]", def.unwrap_or("inline"))),
                        ),
                    }
                }
            }
            _ => {}
        }
    }
}
