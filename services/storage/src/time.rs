//! Timestamps: UTC, microsecond precision on both backends.
//!
//! PostgreSQL stores `TIMESTAMPTZ`. SQLite stores TEXT in one fixed format
//! (`2026-01-04T12:00:00.123456Z`), so comparing text compares instants; sqlx's own SQLite
//! encoding varies the number of fraction digits, which would break ordering and paging.

use chrono::{DateTime, SubsecRound, Utc};
use sqlx::{
    Database, Decode, Encode, Postgres, Sqlite, Type,
    encode::IsNull,
    error::BoxDynError,
    postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef},
    sqlite::{SqliteArgumentsBuffer, SqliteTypeInfo, SqliteValueRef},
};

/// The current time, truncated to what both databases store.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// `time + duration`, capped at the last instant both databases store in the same format
/// (9999-12-31), so absurd TTLs or leases never overflow.
pub(crate) fn after(time: DateTime<Utc>, duration: std::time::Duration) -> DateTime<Utc> {
    let max = DateTime::parse_from_rfc3339("9999-12-31T23:59:59.999999Z")
        .expect("valid constant")
        .to_utc();
    chrono::Duration::from_std(duration)
        .ok()
        .and_then(|duration| time.checked_add_signed(duration))
        .map_or(max, |end| end.min(max))
        .trunc_subsecs(6)
}

/// Fixed-width SQLite text form of `time`.
pub(crate) fn sqlite_text(time: &DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// A timestamp as bound into queries of either backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DbTime(pub DateTime<Utc>);

impl Type<Postgres> for DbTime {
    fn type_info() -> PgTypeInfo {
        <DateTime<Utc> as Type<Postgres>>::type_info()
    }
}

impl Encode<'_, Postgres> for DbTime {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <DateTime<Utc> as Encode<Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Postgres> for DbTime {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        <DateTime<Utc> as Decode<Postgres>>::decode(value).map(DbTime)
    }
}

impl Type<Sqlite> for DbTime {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }

    fn compatible(ty: &<Sqlite as Database>::TypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl Encode<'_, Sqlite> for DbTime {
    fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
        <String as Encode<Sqlite>>::encode(sqlite_text(&self.0), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for DbTime {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        <DateTime<Utc> as Decode<Sqlite>>::decode(value).map(DbTime)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_text_is_fixed_width_and_sorts_like_time() {
        let a = DateTime::parse_from_rfc3339("2026-01-04T12:00:00Z")
            .unwrap()
            .to_utc();
        let b = DateTime::parse_from_rfc3339("2026-01-04T12:00:00.5Z")
            .unwrap()
            .to_utc();
        assert_eq!(sqlite_text(&a), "2026-01-04T12:00:00.000000Z");
        assert_eq!(sqlite_text(&b), "2026-01-04T12:00:00.500000Z");
        assert!(sqlite_text(&a) < sqlite_text(&b));
        assert_eq!(now().timestamp_subsec_nanos() % 1000, 0);
        assert_eq!(
            sqlite_text(&after(a, std::time::Duration::from_millis(1500))),
            "2026-01-04T12:00:01.500000Z"
        );
        assert_eq!(
            sqlite_text(&after(a, std::time::Duration::MAX)),
            "9999-12-31T23:59:59.999999Z"
        );
    }
}
