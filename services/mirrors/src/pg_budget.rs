//! A per-instance request budget shared by every worker process, kept in PostgreSQL
//! (`gitlab_rate_budget`, one row per instance).
//!
//! Same GCRA as [`mm_gitlab::LocalRateBudget`] (see `mm_gitlab::budget` for the guarantee:
//! no window of `period` holds more than `limit` grants), with the theoretical arrival time
//! in the row. Reserving a slot is one statement under the row lock, and the database clock
//! is the only clock, so any number of processes share the limit exactly.
//!
//! Keys are instance ids as strings ([`crate::instance_key`]); any other key falls back to
//! an in-process budget. The row of an instance is written with its [`BudgetConfig`] the
//! first time this process uses it (and again after [`PgRateBudget::set_config`]).

use std::{
    collections::HashMap,
    time::{Duration, Instant, SystemTime},
};

use async_trait::async_trait;
use mm_gitlab::{
    BudgetConfig, BudgetError, CancellationToken, InstanceKey, LocalRateBudget, RateBudget,
    RateLimitHeaders,
};
use parking_lot::Mutex;
use sqlx::PgPool;

const UPSERT: &str = "
INSERT INTO gitlab_rate_budget
       (instance_id, tat, base_interval, emission_interval, tolerance, paused_until)
VALUES ($1, clock_timestamp(), make_interval(secs => $2), make_interval(secs => $2),
        make_interval(secs => $3), NULL)
ON CONFLICT (instance_id) DO UPDATE SET
       base_interval = EXCLUDED.base_interval,
       emission_interval = CASE WHEN gitlab_rate_budget.base_interval = EXCLUDED.base_interval
                                THEN greatest(gitlab_rate_budget.emission_interval, EXCLUDED.base_interval)
                                ELSE EXCLUDED.emission_interval END,
       tolerance = CASE WHEN gitlab_rate_budget.base_interval = EXCLUDED.base_interval
                        THEN gitlab_rate_budget.tolerance
                        ELSE EXCLUDED.tolerance END";

/// Reserves the next slot when it comes before the deadline (`$2`: seconds from now, NULL
/// for none). No row → no result.
const RESERVE: &str = "
WITH cur AS (
    SELECT instance_id, tat, emission_interval,
           greatest(clock_timestamp(), tat - tolerance,
                    coalesce(paused_until, '-infinity'::timestamptz)) AS slot
      FROM gitlab_rate_budget
     WHERE instance_id = $1
       FOR UPDATE
), upd AS (
    UPDATE gitlab_rate_budget b
       SET tat = greatest(cur.tat, cur.slot) + cur.emission_interval
      FROM cur
     WHERE b.instance_id = cur.instance_id
       AND cur.slot <= coalesce(clock_timestamp() + make_interval(secs => $2::float8),
                                'infinity'::timestamptz)
    RETURNING cur.slot
)
SELECT EXISTS (SELECT 1 FROM upd) AS granted,
       extract(epoch FROM (cur.slot - clock_timestamp()))::float8 AS wait_secs
  FROM cur";

const PAUSED: &str = "
SELECT coalesce(paused_until > clock_timestamp(), false)
  FROM gitlab_rate_budget WHERE instance_id = $1";

const PENALIZE: &str = "
UPDATE gitlab_rate_budget
   SET paused_until = greatest(coalesce(paused_until, '-infinity'::timestamptz),
                               clock_timestamp() + make_interval(secs => $2)),
       tat = greatest(tat, clock_timestamp() + make_interval(secs => $2))
 WHERE instance_id = $1";

const PACE: &str = "
UPDATE gitlab_rate_budget
   SET emission_interval = make_interval(secs => $2),
       tolerance = make_interval(secs => $3)
 WHERE instance_id = $1 AND emission_interval <> make_interval(secs => $2)";

/// Budget in PostgreSQL, shared by every process that uses the same database.
pub struct PgRateBudget {
    pool: PgPool,
    default: BudgetConfig,
    overrides: Mutex<HashMap<i64, BudgetConfig>>,
    /// Instances whose row this process has written, with the config it wrote.
    written: Mutex<HashMap<i64, BudgetConfig>>,
    /// Last pace (seconds per request) written after GitLab's `RateLimit-Limit`.
    paced: Mutex<HashMap<i64, u64>>,
    /// Keys that are not instance ids.
    fallback: LocalRateBudget,
}

impl std::fmt::Debug for PgRateBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgRateBudget")
            .field("default", &self.default)
            .field("overrides", &*self.overrides.lock())
            .finish_non_exhaustive()
    }
}

impl PgRateBudget {
    /// Every instance gets `default` unless [`set_config`](Self::set_config) says otherwise.
    pub fn new(pool: PgPool, default: BudgetConfig) -> Self {
        PgRateBudget {
            pool,
            default,
            overrides: Mutex::new(HashMap::new()),
            written: Mutex::new(HashMap::new()),
            paced: Mutex::new(HashMap::new()),
            fallback: LocalRateBudget::new(default),
        }
    }

    /// Sets the budget of one instance (written to its row on the next request).
    pub fn set_config(&self, instance_id: i64, cfg: BudgetConfig) {
        self.overrides.lock().insert(instance_id, cfg);
        self.written.lock().remove(&instance_id);
    }

    pub fn config(&self, instance_id: i64) -> BudgetConfig {
        self.overrides
            .lock()
            .get(&instance_id)
            .copied()
            .unwrap_or(self.default)
    }

    async fn ensure_row(&self, id: i64) -> Result<(), BudgetError> {
        let cfg = self.config(id);
        if self.written.lock().get(&id) == Some(&cfg) {
            return Ok(());
        }
        let interval = cfg.interval();
        let tolerance = interval * (cfg.burst.clamp(1, cfg.limit) - 1);
        sqlx::query(UPSERT)
            .bind(id)
            .bind(interval.as_secs_f64())
            .bind(tolerance.as_secs_f64())
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        self.written.lock().insert(id, cfg);
        Ok(())
    }

    /// One reservation attempt: `None` when the row does not exist.
    async fn reserve(
        &self,
        id: i64,
        deadline: Option<Instant>,
    ) -> Result<Option<(bool, Duration)>, BudgetError> {
        let secs = deadline.map(|d| d.saturating_duration_since(Instant::now()).as_secs_f64());
        let row: Option<(bool, f64)> = sqlx::query_as(RESERVE)
            .bind(id)
            .bind(secs)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(row.map(|(granted, wait)| (granted, Duration::from_secs_f64(wait.max(0.0)))))
    }

    async fn paused(&self, id: i64) -> Result<bool, BudgetError> {
        let paused: Option<bool> = sqlx::query_scalar(PAUSED)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(paused.unwrap_or(false))
    }
}

fn unavailable(error: sqlx::Error) -> BudgetError {
    BudgetError::Unavailable(error.to_string())
}

fn instance_id(key: &InstanceKey) -> Option<i64> {
    key.as_str().parse().ok()
}

async fn sleep(d: Duration, cancel: Option<&CancellationToken>) -> Result<(), BudgetError> {
    match cancel {
        Some(c) => tokio::select! {
            _ = tokio::time::sleep(d) => Ok(()),
            _ = c.cancelled() => Err(BudgetError::Cancelled),
        },
        None => {
            tokio::time::sleep(d).await;
            Ok(())
        }
    }
}

#[async_trait]
impl RateBudget for PgRateBudget {
    async fn acquire(
        &self,
        instance: &InstanceKey,
        deadline: Option<Instant>,
        cancel: Option<&CancellationToken>,
    ) -> Result<Duration, BudgetError> {
        let Some(id) = instance_id(instance) else {
            return self.fallback.acquire(instance, deadline, cancel).await;
        };
        let started = Instant::now();
        self.ensure_row(id).await?;
        loop {
            if cancel.is_some_and(|c| c.is_cancelled()) {
                return Err(BudgetError::Cancelled);
            }
            let Some((granted, wait)) = self.reserve(id, deadline).await? else {
                // The row vanished (instance deleted and re-created?): write it again.
                self.written.lock().remove(&id);
                self.ensure_row(id).await?;
                continue;
            };
            if !granted {
                return Err(BudgetError::Exhausted { ready_in: wait });
            }
            if !wait.is_zero() {
                sleep(wait, cancel).await?;
                // A 429 seen by any process while we slept pauses us too.
                if self.paused(id).await? {
                    continue;
                }
            }
            return Ok(started.elapsed());
        }
    }

    async fn penalize(&self, instance: &InstanceKey, until: SystemTime) {
        let Some(id) = instance_id(instance) else {
            return self.fallback.penalize(instance, until).await;
        };
        let Ok(pause) = until.duration_since(SystemTime::now()) else {
            return;
        };
        if let Err(error) = sqlx::query(PENALIZE)
            .bind(id)
            .bind(pause.as_secs_f64())
            .execute(&self.pool)
            .await
        {
            tracing::warn!(instance_id = id, %error, "could not record a GitLab rate-limit pause");
        }
    }

    async fn observe(&self, instance: &InstanceKey, headers: &RateLimitHeaders) {
        let Some(id) = instance_id(instance) else {
            return self.fallback.observe(instance, headers).await;
        };
        if headers.remaining == Some(0)
            && let Some(reset) = headers.reset
        {
            self.penalize(instance, reset).await;
        }
        let Some(limit) = headers.limit.filter(|l| *l > 0) else {
            return;
        };
        let cfg = self.config(id);
        let margin = if cfg.period.is_zero() {
            0.0
        } else {
            cfg.safety_margin.as_secs_f64() / cfg.period.as_secs_f64()
        };
        let advertised = Duration::from_secs_f64(60.0 * (1.0 + margin) / limit as f64);
        let emission = advertised.max(cfg.interval());
        let micros = u64::try_from(emission.as_micros()).unwrap_or(u64::MAX);
        if self.paced.lock().get(&id) == Some(&micros) {
            return;
        }
        let tolerance = emission * (cfg.burst.clamp(1, cfg.limit) - 1);
        match sqlx::query(PACE)
            .bind(id)
            .bind(emission.as_secs_f64())
            .bind(tolerance.as_secs_f64())
            .execute(&self.pool)
            .await
        {
            Ok(_) => {
                self.paced.lock().insert(id, micros);
            }
            Err(error) => {
                tracing::warn!(instance_id = id, %error, "could not record GitLab's advertised rate limit");
            }
        }
    }
}
