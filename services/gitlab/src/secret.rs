//! Secrets that must never reach logs: API tokens and URLs that carry
//! `user:password@` credentials.

use std::fmt;

use serde::{Deserialize, Deserializer};

/// An API token (personal, project or group access token).
///
/// `Debug` and `Display` print `[redacted]`; the value is only reachable via
/// [`SecretToken::expose`]. It deliberately does not implement `Serialize`,
/// so it cannot end up in a JSON log line by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretToken(String);

impl SecretToken {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The raw token, for the `PRIVATE-TOKEN` header or a mirror URL.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretToken([redacted])")
    }
}

impl fmt::Display for SecretToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for SecretToken {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl From<&str> for SecretToken {
    fn from(s: &str) -> Self {
        Self(s.to_string())
    }
}

impl<'de> Deserialize<'de> for SecretToken {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(SecretToken)
    }
}

/// A URL that may hold credentials (a push-mirror target such as
/// `https://oauth2:glpat-…@host/group/project.git`).
///
/// `Debug`/`Display` show the masked form (see [`mask_url_credentials`]).
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(String);

impl SecretUrl {
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    /// Build `scheme://username:token@host/path` from a plain URL.
    ///
    /// Fails when `url` does not parse or cannot hold credentials.
    pub fn with_credentials(
        url: &str,
        username: &str,
        token: &SecretToken,
    ) -> Result<Self, url::ParseError> {
        let mut u = url::Url::parse(url)?;
        u.set_username(username)
            .and_then(|_| u.set_password(Some(token.expose())))
            .map_err(|_| url::ParseError::EmptyHost)?;
        Ok(Self(u.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with the user part and password replaced by `*****`.
    pub fn masked(&self) -> String {
        mask_url_credentials(&self.0)
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretUrl({})", self.masked())
    }
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// Replace every `user:password@` (or `user@`) in URLs inside `text` by
/// `*****:*****@` / `*****@`, like GitLab's `SafeUrl`.
///
/// Works on free text (error messages that embed a URL), not only on a bare
/// URL: every `scheme://userinfo@` occurrence is masked.
pub fn mask_url_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        // The authority ends at the first '/', '?', '#' or whitespace.
        let end = tail
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace() || c == '"')
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                if userinfo.contains(':') {
                    out.push_str("*****:*****");
                } else {
                    out.push_str("*****");
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_userinfo() {
        assert_eq!(
            mask_url_credentials("https://u:t@example.com/a.git"),
            "https://*****:*****@example.com/a.git"
        );
        assert_eq!(
            mask_url_credentials("push to http://oauth2:glpat-x@127.0.0.1:80/g/p.git failed"),
            "push to http://*****:*****@127.0.0.1:80/g/p.git failed"
        );
        assert_eq!(
            mask_url_credentials("ssh://git@host/x.git"),
            "ssh://*****@host/x.git"
        );
        assert_eq!(
            mask_url_credentials("https://example.com/a@b"),
            "https://example.com/a@b"
        );
        assert_eq!(mask_url_credentials("no url here"), "no url here");
    }

    #[test]
    fn debug_is_redacted() {
        let t = SecretToken::new("glpat-abcdef");
        assert!(!format!("{t:?}").contains("abcdef"));
        assert!(!format!("{t}").contains("abcdef"));
        let u = SecretUrl::with_credentials("http://host/g/p.git", "oauth2", &t).unwrap();
        assert!(u.expose().contains("glpat-abcdef"));
        assert!(!format!("{u:?}").contains("abcdef"));
        assert_eq!(u.to_string(), "http://*****:*****@host/g/p.git");
    }
}
