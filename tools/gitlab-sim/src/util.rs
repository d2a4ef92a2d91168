//! Small helpers shared by every module: GitLab timestamp formats, URL
//! credential handling, random tokens.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rand::Rng;

/// GitLab's API timestamp format: `2026-01-04T12:00:00.123Z`.
pub fn ts(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Optional timestamp as JSON (`null` when absent).
pub fn ts_opt(t: &Option<DateTime<Utc>>) -> serde_json::Value {
    match t {
        Some(t) => serde_json::Value::String(ts(t)),
        None => serde_json::Value::Null,
    }
}

/// Token `expires_at` format: `YYYY-MM-DD`.
pub fn date_opt(d: &Option<NaiveDate>) -> serde_json::Value {
    match d {
        Some(d) => serde_json::Value::String(d.format("%Y-%m-%d").to_string()),
        None => serde_json::Value::Null,
    }
}

/// RFC 2616 HTTP date (`Tue, 05 Jan 2021 11:00:00 GMT`).
pub fn http_date(unix_secs: i64) -> String {
    DateTime::<Utc>::from_timestamp(unix_secs, 0)
        .unwrap_or_default()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

/// Parse a `YYYY-MM-DD` date (Grape's `Date` coercion also accepts a full
/// ISO timestamp, of which only the date part counts).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    let head = s.get(..10).unwrap_or(s);
    NaiveDate::parse_from_str(head, "%Y-%m-%d").ok()
}

/// Parse an ISO 8601 timestamp as used in query filters (`updated_after`).
pub fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s.trim()) {
        return Some(t.with_timezone(&Utc));
    }
    parse_date(s)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|n| n.and_utc())
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A random token value with GitLab's default `glpat-` prefix.
pub fn new_token_value() -> String {
    let mut rng = rand::rng();
    let body: String = (0..20)
        .map(|_| ALNUM[rng.random_range(0..ALNUM.len())] as char)
        .collect();
    format!("glpat-{body}")
}

/// Random lowercase hex string of `n` characters.
pub fn random_hex(n: usize) -> String {
    let mut rng = rand::rng();
    (0..n)
        .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
        .collect()
}

/// A URL split into its credential-free form and its credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitUrl {
    /// URL with user and password removed.
    pub sanitized: String,
    pub user: Option<String>,
    pub password: Option<String>,
}

/// Split `https://user:pass@host/path` into its parts.
pub fn split_credentials(raw: &str) -> Option<SplitUrl> {
    let mut u = url::Url::parse(raw).ok()?;
    let user = (!u.username().is_empty()).then(|| decode(u.username()));
    let password = u.password().map(decode);
    let _ = u.set_username("");
    let _ = u.set_password(None);
    Some(SplitUrl {
        sanitized: u.to_string(),
        user,
        password,
    })
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// GitLab's `SafeUrl#safe_url(allowed_usernames: ['git'])`: the user part
/// becomes `*****` unless it is `git`, a password becomes `*****`.
pub fn mask_url(raw: &str) -> String {
    let Ok(mut u) = url::Url::parse(raw) else {
        return raw.to_string();
    };
    let has_user = !u.username().is_empty();
    let has_pass = u.password().is_some();
    if !has_user && !has_pass {
        return raw.to_string();
    }
    if has_user && u.username() != "git" {
        let _ = u.set_username("*****");
    }
    if has_pass {
        let _ = u.set_password(Some("*****"));
    }
    u.to_string()
}

/// Rebuild a URL with the given credentials injected.
pub fn with_credentials(sanitized: &str, user: Option<&str>, password: Option<&str>) -> String {
    let Ok(mut u) = url::Url::parse(sanitized) else {
        return sanitized.to_string();
    };
    if let Some(user) = user.filter(|s| !s.is_empty()) {
        let _ = u.set_username(user);
    }
    if let Some(p) = password.filter(|s| !s.is_empty()) {
        if u.username().is_empty() {
            let _ = u.set_username("oauth2");
        }
        let _ = u.set_password(Some(p));
    }
    u.to_string()
}

/// GitLab's URL validation for mirror URLs: only these schemes are allowed.
pub fn url_scheme_allowed(raw: &str) -> bool {
    match url::Url::parse(raw) {
        Ok(u) => matches!(u.scheme(), "http" | "https" | "ssh" | "git") && u.has_host(),
        Err(_) => false,
    }
}

/// Replace any `user:password@` in free text (git's stderr) by the masked form.
pub fn mask_credentials_in_text(text: &str) -> String {
    let re = regex_userinfo();
    re.replace_all(text, "$1*****:*****@").into_owned()
}

fn regex_userinfo() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(r"([a-z][a-z0-9+.-]*://)[^/@\s:]+(?::[^/@\s]*)?@").unwrap())
}

/// Percent-encode a query value.
pub fn qenc(s: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, SET).to_string()
}

/// Percent-decode a path segment.
pub fn pdec(s: &str) -> String {
    decode(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_like_gitlab() {
        assert_eq!(
            mask_url("https://u:t@example.com/a.git"),
            "https://*****:*****@example.com/a.git"
        );
        assert_eq!(mask_url("ssh://git@host/x.git"), "ssh://git@host/x.git");
        assert_eq!(
            mask_url("https://example.com/a.git"),
            "https://example.com/a.git"
        );
        assert_eq!(
            mask_url("http://oauth2@h:1/a.git"),
            "http://*****@h:1/a.git"
        );
    }

    #[test]
    fn splits_and_rebuilds() {
        let s = split_credentials("http://oauth2:glpat-x@127.0.0.1:9/g/p.git").unwrap();
        assert_eq!(s.sanitized, "http://127.0.0.1:9/g/p.git");
        assert_eq!(s.user.as_deref(), Some("oauth2"));
        assert_eq!(s.password.as_deref(), Some("glpat-x"));
        assert_eq!(
            with_credentials(&s.sanitized, Some("oauth2"), Some("glpat-x")),
            "http://oauth2:glpat-x@127.0.0.1:9/g/p.git"
        );
    }

    #[test]
    fn masks_text() {
        assert_eq!(
            mask_credentials_in_text("fatal: unable to access 'http://a:b@h/x.git/'"),
            "fatal: unable to access 'http://*****:*****@h/x.git/'"
        );
    }

    #[test]
    fn timestamp_format() {
        let t = DateTime::parse_from_rfc3339("2026-01-04T12:00:00.123456Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(ts(&t), "2026-01-04T12:00:00.123Z");
        assert_eq!(http_date(1609844400), "Tue, 05 Jan 2021 11:00:00 GMT");
    }
}
