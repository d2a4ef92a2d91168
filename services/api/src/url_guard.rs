//! GitLab instance URLs: syntax, and the server-side request forgery guard.
//!
//! Mirror Maestro calls the URLs it is given with a stored admin token, so an URL pointing at
//! loopback, a private network or a cloud metadata endpoint would let an API user probe or
//! attack the internal network. Unless `allow_private_ips` is set, such hosts are refused,
//! both as literals and after DNS resolution (a failing lookup is tolerated: the host may only
//! resolve inside the network that runs the workers).

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
    time::Duration,
};

use mm_common::FieldViolation;
use url::{Host, Url};

const URL_MAX_CHARS: usize = 500;
const DNS_TIMEOUT: Duration = Duration::from_secs(3);

/// Host names that always denote local or metadata services.
const BLOCKED_HOST_NAMES: &[&str] = &[
    "localhost",
    "localhost.localdomain",
    "metadata",
    "metadata.google.internal",
    "metadata.goog",
    "instance-data",
];

/// Validates a GitLab base URL and returns it as stored: trimmed, without trailing slashes.
pub(crate) async fn instance_url(
    field: &str,
    raw: &str,
    allow_private_ips: bool,
) -> Result<String, FieldViolation> {
    let invalid = |description: &str| FieldViolation::new(field, description);
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(invalid("must not be empty"));
    }
    if trimmed.chars().count() > URL_MAX_CHARS {
        return Err(invalid("must be at most 500 characters"));
    }
    let url = Url::parse(trimmed).map_err(|error| {
        FieldViolation::new(
            field,
            format!("is not a valid URL ({error}); use for example https://gitlab.example.com"),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("must use http or https"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "must not contain a user name or password; the token is sent separately",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("must not contain a query or fragment"));
    }
    if url.port() == Some(0) {
        return Err(invalid("port must be between 1 and 65535"));
    }
    let host = url.host().ok_or_else(|| invalid("must include a host"))?;
    if !allow_private_ips {
        check_host(&host, url.port_or_known_default().unwrap_or(443))
            .await
            .map_err(|reason| FieldViolation::new(field, reason))?;
    }
    Ok(trimmed.trim_end_matches('/').to_owned())
}

async fn check_host(host: &Host<&str>, port: u16) -> Result<(), String> {
    const REFUSED: &str = "points to a loopback, private, link-local or metadata address; \
                           such URLs are refused unless MM_ALLOW_PRIVATE_IPS is enabled";
    match host {
        Host::Ipv4(ip) => refuse_if(is_blocked(IpAddr::V4(*ip)), REFUSED),
        Host::Ipv6(ip) => refuse_if(is_blocked(IpAddr::V6(*ip)), REFUSED),
        Host::Domain(domain) => {
            let domain = domain.trim_end_matches('.').to_ascii_lowercase();
            if BLOCKED_HOST_NAMES.contains(&domain.as_str()) || domain.ends_with(".localhost") {
                return Err(REFUSED.to_owned());
            }
            let lookup = tokio::net::lookup_host((domain.as_str(), port));
            match tokio::time::timeout(DNS_TIMEOUT, lookup).await {
                Ok(Ok(addresses)) => {
                    let mut addresses = addresses;
                    refuse_if(addresses.any(|a| is_blocked(a.ip())), REFUSED)
                }
                // Unresolvable here is not proof of anything; the worker will find out.
                Ok(Err(_)) | Err(_) => Ok(()),
            }
        }
    }
}

fn refuse_if(blocked: bool, reason: &str) -> Result<(), String> {
    if blocked {
        Err(reason.to_owned())
    } else {
        Ok(())
    }
}

/// Whether an address is not a public unicast address.
pub(crate) fn is_blocked(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_blocked_v4(ip),
        IpAddr::V6(ip) => is_blocked_v6(ip),
    }
}

fn is_blocked_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local() // 169.254/16, including 169.254.169.254
        || ip.is_multicast()
        || ip.is_broadcast()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64/10, including 100.100.100.200
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240 // reserved
}

fn is_blocked_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_blocked_v4(v4);
    }
    let segments = ip.segments();
    // NAT64 (64:ff9b::/96) reaches the embedded IPv4 address.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [a, b] = segments[6].to_be_bytes();
        let [c, d] = segments[7].to_be_bytes();
        return is_blocked_v4(Ipv4Addr::new(a, b, c, d));
    }
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || ip.is_unique_local() // fc00::/7
        || ip.is_unicast_link_local() // fe80::/10
        || (segments[0] & 0xffc0) == 0xfec0 // deprecated site-local
        || segments[..6] == [0, 0, 0, 0, 0, 0] // IPv4-compatible (deprecated)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn check(url: &str) -> Result<String, String> {
        instance_url("url", url, false)
            .await
            .map_err(|v| v.description)
    }

    #[tokio::test]
    async fn public_urls_are_accepted_and_normalised() {
        assert_eq!(
            check(" https://8.8.8.8/gitlab/ ").await.unwrap(),
            "https://8.8.8.8/gitlab"
        );
        assert_eq!(
            check("http://[2001:4860:4860::8888]:8080").await.unwrap(),
            "http://[2001:4860:4860::8888]:8080"
        );
        // Unresolvable names are tolerated.
        assert!(check("https://gitlab.invalid").await.is_ok());
    }

    #[tokio::test]
    async fn syntax_errors_are_explained() {
        for (url, expected) in [
            ("", "must not be empty"),
            ("gitlab.example.com", "is not a valid URL"),
            ("ftp://gitlab.example.com", "http or https"),
            (
                "https://user:pw@gitlab.example.com",
                "user name or password",
            ),
            ("https://gitlab.example.com?x=1", "query or fragment"),
            ("https://gitlab.example.com:0", "port"),
            ("https://gitlab.example.com:70000", "is not a valid URL"),
        ] {
            let error = check(url).await.unwrap_err();
            assert!(error.contains(expected), "{url}: {error}");
        }
        let long = format!("https://{}.com", "a".repeat(500));
        assert!(check(&long).await.unwrap_err().contains("500"));
    }

    #[tokio::test]
    async fn private_and_metadata_hosts_are_refused() {
        for url in [
            "http://localhost",
            "http://LOCALHOST.:8080",
            "http://api.localhost",
            "http://127.0.0.1",
            "http://2130706433",
            "http://0.0.0.0",
            "http://10.1.2.3",
            "http://172.16.0.1",
            "http://192.168.1.1",
            "http://169.254.169.254/latest/meta-data",
            "http://100.64.0.1",
            "http://100.100.100.200",
            "http://metadata.google.internal",
            "http://224.0.0.1",
            "http://[::1]",
            "http://[::]",
            "http://[fd00::1]",
            "http://[fe80::1]",
            "http://[::ffff:127.0.0.1]",
            "http://[64:ff9b::a9fe:a9fe]",
        ] {
            let error = check(url).await.unwrap_err();
            assert!(error.contains("MM_ALLOW_PRIVATE_IPS"), "{url}: {error}");
        }
    }

    #[tokio::test]
    async fn private_hosts_are_accepted_when_allowed() {
        assert!(
            instance_url("url", "http://127.0.0.1:3000", true)
                .await
                .is_ok()
        );
        assert!(instance_url("url", "http://localhost", true).await.is_ok());
        // Syntax rules still apply.
        assert!(instance_url("url", "ftp://127.0.0.1", true).await.is_err());
    }
}
