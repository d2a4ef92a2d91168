//! Outbox and lease operations, written once for both backends.
//!
//! [`outbox_operations!`] expands to the functions of `postgres::outbox` and
//! `sqlite::outbox`. The expansion site provides `Db`, `Pool`, `begin_write` and the
//! dialect's `CLAIM_OUTBOX` statement.

macro_rules! outbox_operations {
    () => {
        use std::time::Duration;

        use chrono::{DateTime, Utc};
        use sqlx::QueryBuilder;

        use crate::{
            OutboxMessage, StorageResult,
            backend_jobs::BATCH_ROWS,
            rows::OutboxRow,
            sql_jobs,
            time::{DbTime, after, now},
        };

        pub(super) async fn claim(
            pool: &Pool,
            limit: u32,
            lease: Duration,
        ) -> StorageResult<Vec<OutboxMessage>> {
            if limit == 0 {
                return Ok(Vec::new());
            }
            let time = now();
            let mut tx = begin_write(pool).await?;
            let rows = sqlx::query_as::<Db, OutboxRow>(CLAIM_OUTBOX)
                .bind(DbTime(time))
                .bind(i64::from(limit))
                .bind(DbTime(after(time, lease)))
                .fetch_all(&mut *tx)
                .await?;
            tx.commit().await?;
            let mut messages: Vec<OutboxMessage> = rows.into_iter().map(Into::into).collect();
            messages.sort_by_key(|message| message.id);
            Ok(messages)
        }

        pub(super) async fn delete(pool: &Pool, ids: &[i64]) -> StorageResult<()> {
            for chunk in ids.chunks(BATCH_ROWS) {
                let mut delete = QueryBuilder::<Db>::new(sql_jobs::DELETE_OUTBOX_HEAD);
                let mut list = delete.separated(", ");
                for id in chunk {
                    list.push_bind(*id);
                }
                list.push_unseparated(")");
                delete.build().execute(pool).await?;
            }
            Ok(())
        }

        pub(super) async fn release(
            pool: &Pool,
            id: i64,
            available_at: DateTime<Utc>,
        ) -> StorageResult<()> {
            sqlx::query::<Db>(sql_jobs::RELEASE_OUTBOX)
                .bind(id)
                .bind(DbTime(available_at))
                .execute(pool)
                .await?;
            Ok(())
        }

        pub(super) async fn release_claims(pool: &Pool) -> StorageResult<u64> {
            Ok(sqlx::query::<Db>(sql_jobs::RELEASE_OUTBOX_CLAIMS)
                .execute(pool)
                .await?
                .rows_affected())
        }

        pub(super) async fn len(pool: &Pool) -> StorageResult<i64> {
            Ok(sqlx::query_scalar::<Db, i64>(sql_jobs::OUTBOX_LEN)
                .fetch_one(pool)
                .await?)
        }

        pub(super) async fn try_acquire_lease(
            pool: &Pool,
            name: &str,
            holder: &str,
            ttl: Duration,
        ) -> StorageResult<bool> {
            let time = now();
            let held = sqlx::query_scalar::<Db, String>(sql_jobs::ACQUIRE_LEASE)
                .bind(name)
                .bind(holder)
                .bind(DbTime(after(time, ttl)))
                .bind(DbTime(time))
                .fetch_optional(pool)
                .await?;
            Ok(held.is_some())
        }

        pub(super) async fn release_lease(
            pool: &Pool,
            name: &str,
            holder: &str,
        ) -> StorageResult<()> {
            sqlx::query::<Db>(sql_jobs::RELEASE_LEASE)
                .bind(name)
                .bind(holder)
                .execute(pool)
                .await?;
            Ok(())
        }
    };
}

pub(crate) use outbox_operations;
