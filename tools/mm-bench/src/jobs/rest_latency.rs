//! API responsiveness while jobs run: 100,000 mirror rows seeded with one SQL statement, and
//! an open-loop sampler of `GET /api/mirrors` (first page of 50 with its total).

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use parking_lot::Mutex;
use sqlx::PgPool;

/// Inserts `per_pair` ready mirrors into each of `pair_ids` (rows only: nothing in GitLab,
/// and no job ever touches them because the status refresh is off).
pub async fn seed_mirror_rows(
    pool: &PgPool,
    pair_ids: &[i64],
    per_pair: i64,
) -> anyhow::Result<()> {
    let started = Instant::now();
    sqlx::query(
        "INSERT INTO mirrors (pair_id, source_project_id, source_project_path, target_project_id,
                              target_project_path, gitlab_mirror_id, enabled, lifecycle,
                              last_update_status, last_update_time, last_successful_update_time,
                              create_time, update_time)
         SELECT p.pair_id, p.n * 1000000 + g, 'bulk/group-' || (g % 100) || '/project-' || g,
                p.n * 1000000 + g, 'bulk/group-' || (g % 100) || '/project-' || g,
                p.n * 1000000 + g, TRUE, 'ready', 'finished', now(), now(),
                now() - make_interval(secs => g), now()
           FROM unnest($1::bigint[]) WITH ORDINALITY AS p(pair_id, n)
          CROSS JOIN generate_series(1, $2::bigint) AS g",
    )
    .bind(pair_ids)
    .bind(per_pair)
    .execute(pool)
    .await?;
    sqlx::query("ANALYZE mirrors").execute(pool).await?;
    println!(
        "  inserted {} mirror rows into {} other pairs in {:.1} s",
        per_pair * pair_ids.len() as i64,
        pair_ids.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Latencies of one sampling period.
#[derive(Debug, Clone, Default)]
pub struct Latencies {
    sorted_us: Vec<u64>,
    pub errors: usize,
}

impl Latencies {
    pub fn count(&self) -> usize {
        self.sorted_us.len()
    }

    pub fn percentile_ms(&self, percentile: f64) -> f64 {
        if self.sorted_us.is_empty() {
            return f64::NAN;
        }
        let rank = ((percentile / 100.0) * (self.sorted_us.len() - 1) as f64).round() as usize;
        self.sorted_us[rank] as f64 / 1000.0
    }

    pub fn max_ms(&self) -> f64 {
        self.sorted_us
            .last()
            .map_or(f64::NAN, |us| *us as f64 / 1000.0)
    }
}

/// Sends `GET /api/mirrors?per_page=50` at a fixed rate, each request on its own, so a slow
/// answer does not delay the next request (no coordinated omission).
pub struct Sampler {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Latencies>,
}

impl Sampler {
    pub fn start(http_base: &str, bearer: &str, per_second: f64) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let url = format!("{http_base}/api/mirrors?per_page=50");
        let bearer = bearer.to_owned();
        let period = Duration::from_secs_f64(1.0 / per_second.max(0.1));
        let flag = stop.clone();
        let task = tokio::spawn(async move {
            let http = reqwest::Client::new();
            let results = Arc::new(Mutex::new(Latencies::default()));
            let mut ticker = tokio::time::interval(period);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut in_flight = Vec::new();
            while !flag.load(Ordering::Relaxed) {
                ticker.tick().await;
                let request = http.get(&url).header("authorization", &bearer);
                let results = results.clone();
                in_flight.push(tokio::spawn(async move {
                    let started = Instant::now();
                    let ok = match request.send().await {
                        Ok(response) => {
                            let ok = response.status().is_success();
                            ok && response.bytes().await.is_ok()
                        }
                        Err(_) => false,
                    };
                    let elapsed = started.elapsed().as_micros() as u64;
                    let mut results = results.lock();
                    if ok {
                        results.sorted_us.push(elapsed);
                    } else {
                        results.errors += 1;
                    }
                }));
            }
            for request in in_flight {
                let _ = request.await;
            }
            let mut latencies = std::mem::take(&mut *results.lock());
            latencies.sorted_us.sort_unstable();
            latencies
        });
        Sampler { stop, task }
    }

    pub async fn finish(self) -> Latencies {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap_or_default()
    }
}

/// Samples for `duration` with nothing else running.
pub async fn sample_idle(
    http_base: &str,
    bearer: &str,
    per_second: f64,
    duration: Duration,
) -> Latencies {
    let sampler = Sampler::start(http_base, bearer, per_second);
    tokio::time::sleep(duration).await;
    sampler.finish().await
}
