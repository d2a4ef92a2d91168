//! The PostgreSQL rate budget shared by two "processes" (two budgets on two pools).

use std::{
    sync::Arc,
    time::{Duration, Instant, SystemTime},
};

use mm_gitlab::{BudgetConfig, BudgetError, RateBudget};
use mm_mirrors::{PgRateBudget, instance_key};
use mm_storage::{
    NewInstance,
    testing::{TestBackend, TestDatabase},
};
use parking_lot::Mutex;
use sqlx::postgres::PgPoolOptions;

async fn setup() -> Option<(TestDatabase, i64)> {
    let db = TestDatabase::create(TestBackend::Postgres).await?;
    let storage = db.storage().await.expect("migrated storage");
    let sealer = |_: i64| Ok::<_, String>("v1:test:sealed".to_owned());
    let instance = storage
        .create_instance(
            &NewInstance {
                name: "budgeted".into(),
                url: "https://gitlab.example.com".into(),
                description: String::new(),
            },
            &sealer,
        )
        .await
        .expect("instance");
    storage.close().await;
    Some((db, instance.id))
}

async fn budget(db: &TestDatabase, cfg: BudgetConfig) -> Arc<PgRateBudget> {
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect(&db.url)
        .await
        .expect("pool");
    Arc::new(PgRateBudget::new(pool, cfg))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_budgets_on_two_pools_never_exceed_the_limit() {
    let Some((db, instance_id)) = setup().await else {
        return;
    };
    const LIMIT: usize = 10;
    let period = Duration::from_secs(1);
    let cfg = BudgetConfig::new(LIMIT as u32, period).with_burst(3);
    let budgets = [budget(&db, cfg).await, budget(&db, cfg).await];
    let key = instance_key(instance_id);
    let grants = Arc::new(Mutex::new(Vec::<Instant>::new()));
    let start = Instant::now();
    let run_for = Duration::from_millis(2500);
    let mut tasks = vec![];
    for budget in &budgets {
        for _ in 0..6 {
            let (budget, key, grants) = (budget.clone(), key.clone(), grants.clone());
            tasks.push(tokio::spawn(async move {
                while start.elapsed() < run_for {
                    budget.acquire(&key, None, None).await.expect("slot");
                    grants.lock().push(Instant::now());
                }
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mut grants = grants.lock().clone();
    grants.sort();
    // The margin (100 ms) absorbs the jitter between the database granting a slot and the
    // caller noticing; windows are measured on the caller's clock.
    for (i, t) in grants.iter().enumerate() {
        let in_window = grants[i..].iter().take_while(|g| **g < *t + period).count();
        assert!(
            in_window <= LIMIT,
            "{in_window} grants within {period:?} starting at grant {i}"
        );
    }
    // ... and the budget is used, not starved: 3 at once, then about one per 137 ms.
    assert!(grants.len() >= 15, "only {} grants", grants.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_seen_by_one_process_holds_the_other_and_deadlines_fail_fast() {
    let Some((db, instance_id)) = setup().await else {
        return;
    };
    let cfg = BudgetConfig::per_second(1000);
    let (one, two) = (budget(&db, cfg).await, budget(&db, cfg).await);
    let key = instance_key(instance_id);
    two.acquire(&key, None, None).await.unwrap();
    one.penalize(&key, SystemTime::now() + Duration::from_millis(600))
        .await;
    // A deadline before the end of the pause fails at once, without waiting.
    let t0 = Instant::now();
    let err = two
        .acquire(&key, Some(Instant::now() + Duration::from_millis(50)), None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, BudgetError::Exhausted { ready_in } if ready_in > Duration::from_millis(300)),
        "{err:?}"
    );
    assert!(t0.elapsed() < Duration::from_millis(300));
    // Without a deadline the other process waits for the pause.
    two.acquire(&key, None, None).await.unwrap();
    assert!(
        t0.elapsed() >= Duration::from_millis(450),
        "{:?}",
        t0.elapsed()
    );

    // A key that is not an instance id uses an in-process budget.
    one.acquire(&mm_gitlab::InstanceKey::new("not-an-id"), None, None)
        .await
        .unwrap();
}
