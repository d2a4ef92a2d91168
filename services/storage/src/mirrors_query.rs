//! SQL built at run time for filtered lists with offset paging (mirrors, jobs, job items) and
//! for the mirror group tree. Every filter is applied in SQL before `LIMIT`/`OFFSET`; the
//! count query uses the same `WHERE`.
//!
//! The two dialects differ only in the substring function (`strpos`/`instr`); text order and
//! case folding are byte-wise/ASCII on both (PostgreSQL columns use `COLLATE "C"`, whose
//! `lower` folds ASCII only, like SQLite's).

use std::fmt::Write as _;

use chrono::{DateTime, Duration, SubsecRound, Utc};

use crate::{
    ItemState, JobFilter, MirrorFilter, MirrorListParams, MirrorSortField, TokenStatus, Window,
    listing::{BuiltSql, Dialect, SqlValue},
    sql_jobs::{ITEM_COLUMNS, JOB_COLUMNS},
    sql_mirrors::MIRROR_COLUMNS,
    time::{DbTime, now},
};

/// A token expiring within this window is "expiring soon".
pub(crate) const EXPIRING_SOON_DAYS: i64 = 30;

/// A `WHERE` clause and the values of its placeholders.
pub(crate) struct Where {
    sql: String,
    values: Vec<SqlValue>,
}

impl Where {
    pub(crate) fn new() -> Self {
        Where {
            sql: String::from(" WHERE TRUE"),
            values: Vec::new(),
        }
    }

    /// Adds a value; returns its placeholder.
    pub(crate) fn bind(&mut self, value: SqlValue) -> String {
        self.values.push(value);
        format!("${}", self.values.len())
    }

    /// Adds `AND (condition)`.
    pub(crate) fn and(&mut self, condition: &str) {
        let _ = write!(self.sql, " AND ({condition})");
    }

    pub(crate) fn equals(&mut self, column: &str, value: SqlValue) {
        let placeholder = self.bind(value);
        self.and(&format!("{column} = {placeholder}"));
    }

    /// The page query (`select … WHERE … ORDER BY order LIMIT … OFFSET …`) and the count
    /// query (`count … WHERE …`).
    pub(crate) fn paged(
        mut self,
        select: &str,
        count: &str,
        order: &str,
        limit: u32,
        offset: u64,
    ) -> (BuiltSql, BuiltSql) {
        let count = BuiltSql {
            sql: format!("{count}{}", self.sql),
            values: self.values.clone(),
        };
        let limit = self.bind(SqlValue::Int(i64::from(limit.max(1))));
        let offset = self.bind(SqlValue::Int(i64::try_from(offset).unwrap_or(i64::MAX)));
        let select = BuiltSql {
            sql: format!(
                "{select}{} ORDER BY {order} LIMIT {limit} OFFSET {offset}",
                self.sql
            ),
            values: self.values,
        };
        (select, count)
    }
}

/// `column` contains the text at `placeholder`, ignoring ASCII case.
fn contains(dialect: Dialect, column: &str, placeholder: &str) -> String {
    match dialect {
        Dialect::Postgres => {
            format!("strpos(lower({column}), lower({placeholder}::text COLLATE \"C\")) > 0")
        }
        Dialect::Sqlite => format!("instr(lower({column}), lower({placeholder})) > 0"),
    }
}

/// The position function of the dialect (1-based, 0 when absent).
fn position_function(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => "strpos",
        Dialect::Sqlite => "instr",
    }
}

/// The conditions of a mirror filter, on `mirrors m`.
fn mirror_where(dialect: Dialect, filter: &MirrorFilter) -> Where {
    let mut w = Where::new();
    if let Some(pair_id) = filter.pair_id {
        w.equals("m.pair_id", SqlValue::Int(pair_id));
    }
    match filter.status.as_deref() {
        Some("unknown") => w.and("m.last_update_status IS NULL"),
        Some(status) => w.equals("m.last_update_status", SqlValue::Text(status.to_owned())),
        None => {}
    }
    if let Some(enabled) = filter.enabled {
        w.equals("m.enabled", SqlValue::Bool(enabled));
    }
    if let Some(lifecycle) = filter.lifecycle {
        w.equals("m.lifecycle", SqlValue::Text(lifecycle.as_str().to_owned()));
    }
    if let Some(search) = filter.search.as_deref().filter(|s| !s.is_empty()) {
        let needle = w.bind(SqlValue::Text(search.to_owned()));
        w.and(&format!(
            "{} OR {}",
            contains(dialect, "m.source_project_path", &needle),
            contains(dialect, "m.target_project_path", &needle)
        ));
    }
    if let Some(status) = filter.token_status {
        token_condition(&mut w, status, filter.now.unwrap_or_else(now));
    }
    if let Some(prefix) = filter
        .group_prefix
        .as_deref()
        .map(|prefix| prefix.trim_end_matches('/'))
        .filter(|prefix| !prefix.is_empty())
    {
        // Paths under `P/` are exactly those in ['P/', 'P0') byte-wise ('0' follows '/'),
        // which keeps `P-old/…` out and lets the path indexes serve the filter.
        let low = w.bind(SqlValue::Text(format!("{prefix}/")));
        let high = w.bind(SqlValue::Text(format!("{prefix}0")));
        w.and(&format!(
            "(m.source_project_path >= {low} AND m.source_project_path < {high}) \
             OR (m.target_project_path >= {low} AND m.target_project_path < {high})"
        ));
    }
    w
}

fn token_condition(w: &mut Where, status: TokenStatus, now: DateTime<Utc>) {
    let column = "m.mirror_token_expire_time";
    let now = now.trunc_subsecs(6);
    let soon = now + Duration::days(EXPIRING_SOON_DAYS);
    match status {
        TokenStatus::None => w.and(&format!("{column} IS NULL")),
        TokenStatus::Expired => {
            let now = w.bind(SqlValue::Time(DbTime(now)));
            w.and(&format!("{column} <= {now}"));
        }
        TokenStatus::ExpiringSoon => {
            let now = w.bind(SqlValue::Time(DbTime(now)));
            let soon = w.bind(SqlValue::Time(DbTime(soon)));
            w.and(&format!("{column} > {now} AND {column} <= {soon}"));
        }
        TokenStatus::Active => {
            let soon = w.bind(SqlValue::Time(DbTime(soon)));
            w.and(&format!("{column} > {soon}"));
        }
    }
}

/// ORDER BY of a mirror list: the sort column, then id, both in the requested direction.
/// Unchecked mirrors (status NULL) come first ascending and last descending on both backends.
fn mirror_order(params: &MirrorListParams) -> String {
    let direction = if params.descending { "DESC" } else { "ASC" };
    let column = match params.sort {
        MirrorSortField::CreateTime => "m.create_time",
        MirrorSortField::UpdateTime => "m.update_time",
        MirrorSortField::SourcePath => "m.source_project_path",
        MirrorSortField::TargetPath => "m.target_project_path",
        MirrorSortField::Status => "m.last_update_status",
    };
    let nulls = match (params.sort, params.descending) {
        (MirrorSortField::Status, false) => " NULLS FIRST",
        (MirrorSortField::Status, true) => " NULLS LAST",
        _ => "",
    };
    format!("{column} {direction}{nulls}, m.id {direction}")
}

/// The page and count queries of a mirror list.
pub(crate) fn mirror_list(
    dialect: Dialect,
    filter: &MirrorFilter,
    params: &MirrorListParams,
) -> (BuiltSql, BuiltSql) {
    mirror_where(dialect, filter).paged(
        &format!("SELECT {MIRROR_COLUMNS} FROM mirrors m"),
        "SELECT COUNT(*) FROM mirrors m",
        &mirror_order(params),
        params.limit,
        params.offset,
    )
}

/// Every ancestor group of the source paths of the matching mirrors with the number of
/// mirrors under it and how many of them failed, ordered by path. Rows: `(grp, mirror_count,
/// failed_count)`.
///
/// `slashes` walks each path from one `/` to the next (`pos` is the position of a slash), so
/// `a/b/c/proj` yields `a`, `a/b` and `a/b/c`. UNION ALL keeps one row per mirror and group.
pub(crate) fn mirror_tree(dialect: Dialect, filter: &MirrorFilter) -> BuiltSql {
    let w = mirror_where(dialect, filter);
    let find = position_function(dialect);
    BuiltSql {
        sql: format!(
            "WITH RECURSIVE matched (path, failed) AS ( \
                 SELECT m.source_project_path, \
                        CASE WHEN m.last_update_status = 'failed' THEN 1 ELSE 0 END \
                 FROM mirrors m{where_sql}), \
             slashes (path, pos, failed) AS ( \
                 SELECT path, {find}(path, '/'), failed FROM matched \
                 WHERE {find}(path, '/') > 0 \
                 UNION ALL \
                 SELECT path, pos + {find}(substr(path, pos + 1), '/'), failed FROM slashes \
                 WHERE {find}(substr(path, pos + 1), '/') > 0) \
             SELECT substr(path, 1, pos - 1) AS grp, COUNT(*) AS mirror_count, \
                    COUNT(CASE WHEN failed = 1 THEN 1 END) AS failed_count \
             FROM slashes WHERE pos > 1 GROUP BY grp ORDER BY grp",
            where_sql = w.sql
        ),
        values: w.values,
    }
}

/// The page and count queries of a job list, newest first.
pub(crate) fn job_list(filter: &JobFilter, window: Window) -> (BuiltSql, BuiltSql) {
    let mut w = Where::new();
    if let Some(kind) = &filter.kind {
        w.equals("j.kind", SqlValue::Text(kind.clone()));
    }
    if let Some(state) = filter.state {
        w.equals("j.state", SqlValue::Text(state.as_str().to_owned()));
    }
    if let Some(pair_id) = filter.pair_id {
        w.equals("j.pair_id", SqlValue::Int(pair_id));
    }
    if let Some(mirror_id) = filter.mirror_id {
        w.equals("j.mirror_id", SqlValue::Int(mirror_id));
    }
    w.paged(
        &format!("SELECT {JOB_COLUMNS} FROM jobs j"),
        "SELECT COUNT(*) FROM jobs j",
        "j.create_time DESC, j.id DESC",
        window.limit,
        window.offset,
    )
}

/// The page and count queries of the items of a job, in id order.
pub(crate) fn item_list(
    job_id: i64,
    state: Option<ItemState>,
    window: Window,
) -> (BuiltSql, BuiltSql) {
    let mut w = Where::new();
    w.equals("i.job_id", SqlValue::Int(job_id));
    if let Some(state) = state {
        w.equals("i.state", SqlValue::Text(state.as_str().to_owned()));
    }
    w.paged(
        &format!("SELECT {ITEM_COLUMNS} FROM job_items i"),
        "SELECT COUNT(*) FROM job_items i",
        "i.id ASC",
        window.limit,
        window.offset,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_bind_in_order_before_limit_and_offset() {
        let filter = MirrorFilter {
            pair_id: Some(3),
            status: Some("unknown".into()),
            search: Some("App".into()),
            group_prefix: Some("platform/".into()),
            ..Default::default()
        };
        let params = MirrorListParams {
            sort: MirrorSortField::Status,
            descending: true,
            offset: 20,
            limit: 10,
        };
        let (select, count) = mirror_list(Dialect::Sqlite, &filter, &params);
        assert_eq!(count.values.len(), 4);
        assert!(count.sql.contains("m.last_update_status IS NULL"));
        assert!(count.sql.contains("m.source_project_path >= $3"));
        assert!(matches!(&count.values[2], SqlValue::Text(low) if low == "platform/"));
        assert!(matches!(&count.values[3], SqlValue::Text(high) if high == "platform0"));
        assert!(select.sql.ends_with(
            "ORDER BY m.last_update_status DESC NULLS LAST, m.id DESC LIMIT $5 OFFSET $6"
        ));
        assert!(matches!(select.values[4], SqlValue::Int(10)));
        assert!(matches!(select.values[5], SqlValue::Int(20)));
    }

    #[test]
    fn postgres_search_folds_ascii_only_like_sqlite() {
        let filter = MirrorFilter {
            search: Some("x".into()),
            ..Default::default()
        };
        let (_, count) = mirror_list(Dialect::Postgres, &filter, &MirrorListParams::default());
        assert!(
            count
                .sql
                .contains("strpos(lower(m.source_project_path), lower($1::text COLLATE \"C\"))")
        );
    }
}
