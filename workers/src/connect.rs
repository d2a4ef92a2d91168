//! The process's one RabbitMQ connection.

use std::time::Duration;

use lapin::{Connection, ConnectionProperties, types::LongString};
use rand::Rng;

use crate::shutdown::Shutdown;

/// First pause before connecting again.
pub const FIRST_DELAY: Duration = Duration::from_millis(500);
const MAX_DELAY: Duration = Duration::from_secs(30);

/// Opens a connection.
///
/// Without lapin's automatic recovery: after a loss, the consumer and the relay open a new
/// connection themselves once their own in-flight work is settled. A transparent recovery
/// would resume consuming while handlers of the lost channel still run, so a redelivered task
/// could run twice at once, and acknowledgements of the old channel could meet the new one's
/// delivery tags.
pub async fn connect(amqp_url: &str) -> lapin::Result<Connection> {
    let name = format!(
        "mm-worker@{}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| std::process::id().to_string())
    );
    let properties = ConnectionProperties::default().with_connection_name(LongString::from(name));
    Connection::connect(amqp_url, properties).await
}

/// Connects, retrying with exponential backoff and jitter until it works or `shutdown`
/// fires (then `None`).
pub async fn connect_with_backoff(amqp_url: &str, shutdown: &Shutdown) -> Option<Connection> {
    let mut shutdown = shutdown.clone();
    let mut delay = FIRST_DELAY;
    let mut attempt = 1u32;
    loop {
        if shutdown.is_triggered() {
            return None;
        }
        let result = tokio::select! {
            result = connect(amqp_url) => result,
            _ = shutdown.wait() => return None,
        };
        match result {
            Ok(connection) => {
                tracing::info!(url = %redact(amqp_url), "connected to RabbitMQ");
                return Some(connection);
            }
            Err(error) => {
                let wait = jittered(delay);
                tracing::warn!(
                    url = %redact(amqp_url),
                    attempt,
                    %error,
                    retry_in_ms = wait.as_millis() as u64,
                    "cannot connect to RabbitMQ"
                );
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = shutdown.wait() => return None,
                }
                delay = next_delay(delay);
                attempt += 1;
            }
        }
    }
}

/// `delay` plus up to a quarter of it, so that many processes do not reconnect in step.
pub fn jittered(delay: Duration) -> Duration {
    let jitter = rand::rng().random_range(0..=delay.as_millis() as u64 / 4);
    delay + Duration::from_millis(jitter)
}

/// The delay after `delay`: doubled, at most 30 s.
pub fn next_delay(delay: Duration) -> Duration {
    (delay * 2).min(MAX_DELAY)
}

/// The URL without its password, for logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            let user = credentials.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("amqp://mm:s3cret@rabbit:5672/%2f"),
            "amqp://mm:***@rabbit:5672/%2f"
        );
        assert_eq!(redact("amqp://rabbit:5672/%2f"), "amqp://rabbit:5672/%2f");
    }
}
