//! The client: one per GitLab instance, cheap to clone. Every request goes
//! through the same pipeline:
//!
//! 1. circuit breaker (fail fast while open),
//! 2. per-instance concurrency cap (semaphore),
//! 3. rate budget (wait for a slot; fail fast past the deadline),
//! 4. the HTTP request with a per-attempt timeout,
//! 5. rate-limit headers fed back to the budget; a 429 pauses the instance,
//! 6. classification into [`GitLabError`], breaker bookkeeping, metrics,
//! 7. bounded retries with jittered exponential backoff (see [`crate::retry`]).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderValue};
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::breaker::{BreakerConfig, BreakerState, CircuitBreaker, Outcome};
use crate::budget::{InstanceKey, RateBudget, RateLimitHeaders, UnlimitedBudget};
use crate::errors::{BudgetError, GitLabError, TransportKind};
use crate::retry::{Idempotency, RetryPolicy};
use crate::secret::SecretToken;

/// Characters kept as-is in a path segment; everything else (notably `/`)
/// is percent-encoded, so `group/sub/project` becomes `group%2Fsub%2Fproject`.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encode one path segment (a full path used as `:id`, a branch name).
pub fn encode_segment(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// A project or group: numeric id or full path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IdOrPath {
    Id(u64),
    Path(String),
}

impl IdOrPath {
    /// The `:id` URL segment (paths URL-encoded).
    pub fn segment(&self) -> String {
        match self {
            IdOrPath::Id(id) => id.to_string(),
            IdOrPath::Path(p) => encode_segment(p.trim_matches('/')),
        }
    }
}

impl fmt::Display for IdOrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdOrPath::Id(id) => write!(f, "{id}"),
            IdOrPath::Path(p) => f.write_str(p),
        }
    }
}

impl From<u64> for IdOrPath {
    fn from(id: u64) -> Self {
        IdOrPath::Id(id)
    }
}

impl From<&str> for IdOrPath {
    fn from(p: &str) -> Self {
        match p.parse::<u64>() {
            Ok(id) => IdOrPath::Id(id),
            Err(_) => IdOrPath::Path(p.to_string()),
        }
    }
}

impl From<String> for IdOrPath {
    fn from(p: String) -> Self {
        IdOrPath::from(p.as_str())
    }
}

impl From<&String> for IdOrPath {
    fn from(p: &String) -> Self {
        IdOrPath::from(p.as_str())
    }
}

/// Client settings.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Timeout of one attempt (connect + request + body).
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    /// Requests in flight to this instance at once.
    pub max_concurrency: usize,
    pub breaker: BreakerConfig,
    pub retry: RetryPolicy,
    pub user_agent: String,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_concurrency: 8,
            breaker: BreakerConfig::default(),
            retry: RetryPolicy::default(),
            user_agent: concat!("mirror-maestro/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

struct Shared {
    http: reqwest::Client,
    base: Url,
    api: String,
    token: SecretToken,
    instance: InstanceKey,
    budget: Arc<dyn RateBudget>,
    breaker: CircuitBreaker,
    permits: Arc<Semaphore>,
    cfg: ClientConfig,
}

/// A GitLab REST v4 client for one instance.
#[derive(Clone)]
pub struct GitLabClient {
    shared: Arc<Shared>,
    cancel: Option<CancellationToken>,
    deadline: Option<Duration>,
}

impl fmt::Debug for GitLabClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitLabClient")
            .field("instance", &self.shared.instance)
            .field("base_url", &self.shared.base.as_str())
            .field("token", &self.shared.token)
            .finish()
    }
}

/// Builds a [`GitLabClient`].
pub struct GitLabClientBuilder {
    base_url: String,
    token: SecretToken,
    instance: Option<InstanceKey>,
    budget: Option<Arc<dyn RateBudget>>,
    cfg: ClientConfig,
    http: Option<reqwest::Client>,
}

impl GitLabClientBuilder {
    /// Key of the instance in the rate budget (default: the base URL).
    pub fn instance(mut self, key: InstanceKey) -> Self {
        self.instance = Some(key);
        self
    }

    /// The budget shared by every client of the process (or of every
    /// replica). Default: no limit.
    pub fn budget(mut self, budget: Arc<dyn RateBudget>) -> Self {
        self.budget = Some(budget);
        self
    }

    pub fn config(mut self, cfg: ClientConfig) -> Self {
        self.cfg = cfg;
        self
    }

    pub fn request_timeout(mut self, t: Duration) -> Self {
        self.cfg.request_timeout = t;
        self
    }

    pub fn max_concurrency(mut self, n: usize) -> Self {
        self.cfg.max_concurrency = n.max(1);
        self
    }

    pub fn breaker(mut self, b: BreakerConfig) -> Self {
        self.cfg.breaker = b;
        self
    }

    pub fn retry(mut self, r: RetryPolicy) -> Self {
        self.cfg.retry = r;
        self
    }

    /// Use a prepared `reqwest::Client` (custom CA bundle, proxy). Its own
    /// timeouts are superseded by the per-attempt timeout.
    pub fn http_client(mut self, c: reqwest::Client) -> Self {
        self.http = Some(c);
        self
    }

    pub fn build(self) -> Result<GitLabClient, GitLabError> {
        let mut base = Url::parse(self.base_url.trim())
            .map_err(|e| GitLabError::Invalid(format!("base URL: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(GitLabError::Invalid("base URL must be http(s)".into()));
        }
        if !base.username().is_empty() || base.password().is_some() {
            return Err(GitLabError::Invalid(
                "base URL must not carry credentials; pass the token separately".into(),
            ));
        }
        base.set_query(None);
        base.set_fragment(None);
        let trimmed = base.as_str().trim_end_matches('/').to_string();
        let trimmed = trimmed
            .strip_suffix("/api/v4")
            .unwrap_or(&trimmed)
            .to_string();
        let api = format!("{trimmed}/api/v4/");
        if self.token.is_empty() {
            return Err(GitLabError::Invalid("empty token".into()));
        }
        let http = match self.http {
            Some(c) => c,
            None => reqwest::Client::builder()
                .connect_timeout(self.cfg.connect_timeout)
                .user_agent(self.cfg.user_agent.clone())
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| GitLabError::Invalid(format!("HTTP client: {e}")))?,
        };
        let instance = self
            .instance
            .unwrap_or_else(|| InstanceKey::new(trimmed.as_str()));
        let breaker = CircuitBreaker::new(instance.as_str(), self.cfg.breaker);
        Ok(GitLabClient {
            shared: Arc::new(Shared {
                http,
                base: Url::parse(&trimmed).map_err(|e| GitLabError::Invalid(e.to_string()))?,
                api,
                token: self.token,
                instance,
                budget: self.budget.unwrap_or_else(|| Arc::new(UnlimitedBudget)),
                breaker,
                permits: Arc::new(Semaphore::new(self.cfg.max_concurrency.max(1))),
                cfg: self.cfg,
            }),
            cancel: None,
            deadline: None,
        })
    }
}

/// One request as the endpoint modules describe it.
#[derive(Debug, Clone)]
pub(crate) struct ApiRequest {
    pub method: Method,
    /// Low-cardinality name for metrics and errors, e.g.
    /// `"GET /projects/:id/remote_mirrors"`.
    pub endpoint: &'static str,
    pub target: Target,
    pub query: Vec<(String, String)>,
    pub body: Option<serde_json::Value>,
    pub idempotency: Idempotency,
}

#[derive(Debug, Clone)]
pub(crate) enum Target {
    /// Relative to `/api/v4/`, segments already encoded.
    Path(String),
    /// A full URL (a `Link: rel="next"` on this instance).
    Url(Url),
}

impl ApiRequest {
    pub fn new(method: Method, endpoint: &'static str, path: impl Into<String>) -> Self {
        let idempotency = if method == Method::POST {
            Idempotency::NonIdempotent
        } else {
            Idempotency::Idempotent
        };
        Self {
            method,
            endpoint,
            target: Target::Path(path.into()),
            query: vec![],
            body: None,
            idempotency,
        }
    }

    pub fn get(endpoint: &'static str, path: impl Into<String>) -> Self {
        Self::new(Method::GET, endpoint, path)
    }

    pub fn query(mut self, k: &str, v: impl ToString) -> Self {
        self.query.push((k.to_string(), v.to_string()));
        self
    }

    pub fn query_opt(self, k: &str, v: Option<impl ToString>) -> Self {
        match v {
            Some(v) => self.query(k, v),
            None => self,
        }
    }

    pub fn json(mut self, body: serde_json::Value) -> Self {
        self.body = Some(body);
        self
    }

    pub fn idempotency(mut self, i: Idempotency) -> Self {
        self.idempotency = i;
        self
    }
}

/// A successful answer.
#[derive(Debug, Clone)]
pub(crate) struct ApiResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl GitLabClient {
    /// Start building a client for `base_url` (`https://gitlab.example.com`,
    /// with or without `/api/v4`).
    pub fn builder(base_url: impl Into<String>, token: SecretToken) -> GitLabClientBuilder {
        GitLabClientBuilder {
            base_url: base_url.into(),
            token,
            instance: None,
            budget: None,
            cfg: ClientConfig::default(),
            http: None,
        }
    }

    /// A handle whose calls stop waiting (budget, backoff) when `token` is
    /// cancelled. Shares everything else with `self`.
    pub fn with_cancellation(&self, token: CancellationToken) -> Self {
        Self {
            cancel: Some(token),
            ..self.clone()
        }
    }

    /// A handle whose calls use `deadline` instead of the policy's overall
    /// deadline.
    pub fn with_deadline(&self, deadline: Duration) -> Self {
        Self {
            deadline: Some(deadline),
            ..self.clone()
        }
    }

    pub fn instance(&self) -> &InstanceKey {
        &self.shared.instance
    }

    /// `https://host[/prefix]` without `/api/v4`.
    pub fn base_url(&self) -> &Url {
        &self.shared.base
    }

    pub fn breaker_state(&self) -> BreakerState {
        self.shared.breaker.state()
    }

    pub fn breaker(&self) -> &CircuitBreaker {
        &self.shared.breaker
    }

    pub(crate) fn api_prefix(&self) -> &str {
        &self.shared.api
    }

    /// Send with retries; 2xx only, everything else is an error.
    pub(crate) async fn send(&self, req: &ApiRequest) -> Result<ApiResponse, GitLabError> {
        let policy = self.shared.cfg.retry;
        let deadline = Instant::now() + self.deadline.unwrap_or(policy.overall_deadline);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let err = match self.attempt(req, deadline).await {
                Ok(r) => return Ok(r),
                Err(e) => e,
            };
            if !policy.should_retry(&err, attempt, req.idempotency) {
                return Err(err);
            }
            // A 429 already paused the whole instance in the budget; the
            // next attempt waits there. Other errors back off.
            let delay = match err {
                GitLabError::RateLimited { .. } => Duration::ZERO,
                _ => policy.backoff(attempt),
            };
            if Instant::now() + delay >= deadline {
                return Err(err);
            }
            metrics::counter!("gitlab_retries_total",
                "instance" => self.shared.instance.to_string(), "endpoint" => req.endpoint)
            .increment(1);
            tracing::debug!(endpoint = req.endpoint, attempt, ?delay, error = %err, "retrying GitLab call");
            if !delay.is_zero() {
                let sleep = tokio::time::sleep(delay);
                match &self.cancel {
                    Some(c) => tokio::select! {
                        _ = sleep => {}
                        _ = c.cancelled() => return Err(budget_err(req, BudgetError::Cancelled)),
                    },
                    None => sleep.await,
                }
            }
        }
    }

    async fn attempt(
        &self,
        req: &ApiRequest,
        deadline: Instant,
    ) -> Result<ApiResponse, GitLabError> {
        let s = &self.shared;
        let instance = s.instance.to_string();
        let ticket = s.breaker.try_acquire().map_err(|retry_in| {
            metrics::counter!("gitlab_circuit_rejections_total", "instance" => instance.clone())
                .increment(1);
            GitLabError::CircuitOpen {
                instance: instance.clone(),
                retry_in,
            }
        })?;

        let wait_started = Instant::now();
        let permit = {
            let acquire = tokio::time::timeout_at(
                tokio::time::Instant::from_std(deadline),
                s.permits.clone().acquire_owned(),
            );
            let res = match &self.cancel {
                Some(c) => tokio::select! {
                    r = acquire => r,
                    _ = c.cancelled() => return Err(budget_err(req, BudgetError::Cancelled)),
                },
                None => acquire.await,
            };
            match res {
                Ok(Ok(p)) => p,
                _ => {
                    return Err(budget_err(
                        req,
                        BudgetError::Exhausted {
                            ready_in: Duration::ZERO,
                        },
                    ));
                }
            }
        };
        s.budget
            .acquire(&s.instance, Some(deadline), self.cancel.as_ref())
            .await
            .map_err(|e| budget_err(req, e))?;
        metrics::histogram!("gitlab_budget_wait_seconds", "instance" => instance.clone())
            .record(wait_started.elapsed().as_secs_f64());

        let now = Instant::now();
        let timeout = s
            .cfg
            .request_timeout
            .min(deadline.saturating_duration_since(now));
        if timeout.is_zero() {
            return Err(budget_err(
                req,
                BudgetError::Exhausted {
                    ready_in: Duration::ZERO,
                },
            ));
        }
        let url = self.url_for(req)?;
        let mut rb = s
            .http
            .request(req.method.clone(), url)
            .header("PRIVATE-TOKEN", token_header(&s.token)?)
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(timeout);
        if let Some(b) = &req.body {
            rb = rb.json(b);
        }
        let started = Instant::now();
        let result = tokio::time::timeout(timeout, async {
            let resp = rb.send().await?;
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let body = resp.bytes().await?;
            Ok::<_, reqwest::Error>((status, headers, body))
        })
        .await;
        drop(permit);
        let elapsed = started.elapsed();
        let outcome = match result {
            Err(_) => Err(GitLabError::Transport {
                endpoint: req.endpoint.to_string(),
                kind: TransportKind::Timeout,
                message: format!("no answer within {timeout:?}"),
            }),
            Ok(Err(e)) => Err(GitLabError::from_reqwest(req.endpoint, e)),
            Ok(Ok(parts)) => Ok(parts),
        };
        let (status, headers, body) = match outcome {
            Ok(p) => p,
            Err(e) => {
                self.record_metrics(req, transport_label(&e), elapsed);
                ticket.record(Outcome::Failure);
                return Err(e);
            }
        };
        self.record_metrics(req, status_label(status), elapsed);

        let rl = RateLimitHeaders::parse(&headers);
        if !rl.is_empty() {
            s.budget.observe(&s.instance, &rl).await;
        }
        if (200..300).contains(&status) {
            ticket.record(Outcome::Success);
            return Ok(ApiResponse {
                status,
                headers,
                body,
            });
        }
        if status == 429 {
            ticket.record(Outcome::Neutral);
            let pause = rl
                .retry_after
                .or_else(|| {
                    rl.reset
                        .and_then(|r| r.duration_since(SystemTime::now()).ok())
                })
                .unwrap_or(s.cfg.retry.default_rate_limit_pause);
            metrics::counter!("gitlab_rate_limited_total", "instance" => instance.clone())
                .increment(1);
            tracing::warn!(instance = %instance, endpoint = req.endpoint, ?pause, "GitLab answered 429; pausing the instance");
            s.budget
                .penalize(&s.instance, SystemTime::now() + pause)
                .await;
            return Err(GitLabError::from_status(
                req.endpoint,
                status,
                &body,
                Some(pause),
            ));
        }
        let err = GitLabError::from_status(req.endpoint, status, &body, None);
        ticket.record(if err.counts_against_breaker() {
            Outcome::Failure
        } else {
            Outcome::Success
        });
        Err(err)
    }

    fn url_for(&self, req: &ApiRequest) -> Result<Url, GitLabError> {
        let mut url = match &req.target {
            Target::Url(u) => u.clone(),
            Target::Path(p) => Url::parse(&format!("{}{}", self.shared.api, p))
                .map_err(|e| GitLabError::Invalid(format!("{}: {e}", req.endpoint)))?,
        };
        if !req.query.is_empty() {
            let mut q = url.query_pairs_mut();
            for (k, v) in &req.query {
                q.append_pair(k, v);
            }
        }
        Ok(url)
    }

    fn record_metrics(&self, req: &ApiRequest, status: String, elapsed: Duration) {
        let instance = self.shared.instance.to_string();
        metrics::counter!("gitlab_requests_total",
            "instance" => instance.clone(), "endpoint" => req.endpoint, "status" => status.clone())
        .increment(1);
        metrics::histogram!("gitlab_request_duration_seconds",
            "instance" => instance.clone(), "endpoint" => req.endpoint)
        .record(elapsed.as_secs_f64());
        tracing::debug!(instance = %instance, endpoint = req.endpoint, status = %status, ?elapsed, "GitLab request");
    }

    /// Send and decode a JSON body.
    pub(crate) async fn json<T: DeserializeOwned>(
        &self,
        req: ApiRequest,
    ) -> Result<T, GitLabError> {
        let resp = self.send(&req).await?;
        decode(req.endpoint, &resp.body)
    }

    /// Send and ignore the body (204s).
    pub(crate) async fn empty(&self, req: ApiRequest) -> Result<u16, GitLabError> {
        Ok(self.send(&req).await?.status)
    }
}

pub(crate) fn decode<T: DeserializeOwned>(endpoint: &str, body: &[u8]) -> Result<T, GitLabError> {
    serde_json::from_slice(body).map_err(|e| GitLabError::Decode {
        endpoint: endpoint.to_string(),
        message: e.to_string(),
    })
}

fn budget_err(req: &ApiRequest, e: BudgetError) -> GitLabError {
    GitLabError::Budget {
        endpoint: req.endpoint.to_string(),
        source: e,
    }
}

fn token_header(t: &SecretToken) -> Result<HeaderValue, GitLabError> {
    let mut v = HeaderValue::from_str(t.expose())
        .map_err(|_| GitLabError::Invalid("token is not a valid header value".into()))?;
    v.set_sensitive(true);
    Ok(v)
}

fn status_label(status: u16) -> String {
    status.to_string()
}

fn transport_label(e: &GitLabError) -> String {
    match e {
        GitLabError::Transport { kind, .. } => match kind {
            TransportKind::Connect => "connect_error",
            TransportKind::Timeout => "timeout",
            TransportKind::Other => "transport_error",
        }
        .to_string(),
        _ => "error".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_and_refs() {
        assert_eq!(
            IdOrPath::from("acme/tools/ci").segment(),
            "acme%2Ftools%2Fci"
        );
        assert_eq!(IdOrPath::from("42").segment(), "42");
        assert_eq!(IdOrPath::from(7u64).segment(), "7");
        assert_eq!(encode_segment("feature/x y"), "feature%2Fx%20y");
    }

    #[test]
    fn builder_rejects_credentials_and_normalises() {
        let t = SecretToken::new("x");
        assert!(
            GitLabClient::builder("https://u:p@h", t.clone())
                .build()
                .is_err()
        );
        let c = GitLabClient::builder("https://h/gl/api/v4/", t.clone())
            .build()
            .unwrap();
        assert_eq!(c.api_prefix(), "https://h/gl/api/v4/");
        assert!(!format!("{c:?}").contains("\"x\""));
    }
}
