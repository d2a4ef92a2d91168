//! SQL of the read models (`$n` placeholders, both backends). No statement scans the mirrors:
//! counts come from `mirror_counts` and the rest is served by the indexes of
//! `20261123000003_read_models.sql`;
//! the two dialects differ only in the case-insensitive LIKE and the two-argument maximum.

use crate::{
    HealthLevel, LinkMirrorQuery,
    insights_model::{FAILED_STATUSES, PENDING_STATUSES, SUCCESS_STATUSES, SYNCING_STATUSES},
    listing::{BuiltSql, Dialect, SqlValue},
    time::DbTime,
};

/// `'a', 'b', …` for an `IN` list of constants (the values are compile-time literals).
fn literals(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("'{v}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Counts per pair, lifecycle, status and enabled flag, from the trigger-kept
/// `mirror_counts` (a few rows per pair). `$1`: a pair id or NULL for every pair.
pub(crate) const MIRROR_STATUS_GROUPS: &str = "SELECT pair_id, lifecycle, \
     NULLIF(last_update_status, '') AS last_update_status, enabled, \
     CAST(SUM(mirror_count) AS BIGINT) AS mirror_count, \
     CAST(SUM(CASE WHEN succeeded THEN 0 ELSE mirror_count END) AS BIGINT) AS never_succeeded \
     FROM mirror_counts WHERE mirror_count > 0 AND ($1 IS NULL OR pair_id = $1) \
     GROUP BY pair_id, lifecycle, last_update_status, enabled";

/// Newest success of the ready mirrors of every pair: one descent of
/// `mirrors_ready_success_idx` per pair.
pub(crate) const PAIR_LAST_SUCCESS: &str = "SELECT p.id, \
     (SELECT m.last_successful_update_time FROM mirrors m \
      WHERE m.pair_id = p.id AND m.lifecycle = 'ready' \
      AND m.last_successful_update_time IS NOT NULL \
      ORDER BY m.last_successful_update_time DESC LIMIT 1) AS last_success \
     FROM pairs p ORDER BY p.id";

/// Ready mirrors whose status was read before `$1`: a range of `mirrors_status_check_idx`
/// over the stale ones only (never-read mirrors are counted apart: an `OR IS NULL` would
/// turn the range into a filter over every mirror).
pub(crate) const OLDER_STATUS_COUNT: &str = "SELECT COUNT(*) FROM mirrors \
     WHERE lifecycle = 'ready' AND status_check_time < $1";
pub(crate) const NEVER_CHECKED_COUNT: &str = "SELECT COUNT(*) FROM mirrors \
     WHERE lifecycle = 'ready' AND status_check_time IS NULL";
pub(crate) const OLDEST_CHECK: &str = "SELECT status_check_time FROM mirrors \
     WHERE lifecycle = 'ready' AND status_check_time IS NOT NULL \
     ORDER BY status_check_time ASC LIMIT 1";
pub(crate) const NEWEST_CHECK: &str = "SELECT status_check_time FROM mirrors \
     WHERE lifecycle = 'ready' AND status_check_time IS NOT NULL \
     ORDER BY status_check_time DESC LIMIT 1";

pub(crate) const GRAPH_INSTANCES: &str =
    "SELECT id, name, url, description FROM instances ORDER BY id";
pub(crate) const GRAPH_PAIRS: &str = "SELECT id, name, source_instance_id, \
     target_instance_id, mirror_direction FROM pairs ORDER BY id";

/// Newest jobs created at or after `$1`, except those of kind `$2`, at most `$3`. Walks
/// `jobs_create_time_idx` newest first and stops at the limit.
pub(crate) const RECENT_ACTIVITY: &str = "SELECT j.id, j.kind, j.state, \
     COALESCE(m.source_project_path, p.name, i.name) AS subject, j.mirror_id, j.pair_id, \
     j.create_time, COALESCE(j.end_time, j.start_time, j.create_time) AS activity_time \
     FROM jobs j \
     LEFT JOIN mirrors m ON m.id = j.mirror_id \
     LEFT JOIN pairs p ON p.id = j.pair_id \
     LEFT JOIN instances i ON i.id = j.instance_id \
     WHERE j.create_time >= $1 AND j.kind <> $2 \
     ORDER BY j.create_time DESC, j.id DESC LIMIT $3";

/// Newest job of kind `$1` (`jobs_kind_create_time_idx`).
pub(crate) const LATEST_ROUND: &str = "SELECT id, state, total, succeeded, failed, \
     create_time, start_time, end_time FROM jobs WHERE kind = $1 \
     ORDER BY create_time DESC, id DESC LIMIT 1";

/// Newest finished job of kind `$1`.
pub(crate) const LATEST_FINISHED_ROUND: &str = "SELECT id, state, total, succeeded, failed, \
     create_time, start_time, end_time FROM jobs WHERE kind = $1 \
     AND state NOT IN ('queued', 'running') ORDER BY create_time DESC, id DESC LIMIT 1";

pub(crate) const LEASE_EXPIRY: &str = "SELECT expires_at FROM leases WHERE name = $1";

/// Ready mirrors syncing now: status in the syncing list, read at or after `$1`. Served by
/// the partial index `mirrors_ready_status_idx`.
pub(crate) fn syncing_where() -> String {
    format!(
        "FROM mirrors WHERE lifecycle = 'ready' AND last_update_status IN ({}) \
         AND status_check_time >= $1",
        literals(SYNCING_STATUSES)
    )
}

/// Ready mirrors whose last update failed at or after `$1`.
pub(crate) fn recent_failures() -> String {
    format!(
        "SELECT COUNT(*) FROM mirrors WHERE lifecycle = 'ready' \
         AND last_update_status IN ({}) AND last_update_time >= $1",
        literals(FAILED_STATUSES)
    )
}

/// `GREATEST`/`MAX` of two integers.
fn greatest(dialect: Dialect, a: &str, b: &str) -> String {
    match dialect {
        Dialect::Postgres => format!("GREATEST({a}, {b})"),
        Dialect::Sqlite => format!("MAX({a}, {b})"),
    }
}

/// Rank (see [`HealthLevel::rank`]) of the mirror's status, on `mirrors m`.
fn status_rank() -> String {
    format!(
        "CASE WHEN m.last_update_status IN ({}) THEN 3 \
         WHEN m.last_update_status IN ({}) THEN 2 \
         WHEN m.last_update_status IN ({}) THEN 1 ELSE 0 END",
        literals(FAILED_STATUSES),
        literals(PENDING_STATUSES),
        literals(SUCCESS_STATUSES)
    )
}

/// The page and count queries of a link's mirrors, worst health first, then oldest success
/// first (never-succeeded last within a health level), then pair and id. Health is computed
/// here from the same rules as [`crate::StalenessRules::judge`] with the thresholds turned
/// into instants, so the order and the page agree with what is reported.
pub(crate) fn link_mirrors(dialect: Dialect, query: &LinkMirrorQuery) -> (BuiltSql, BuiltSql) {
    let mut values = vec![
        SqlValue::Int(query.source_instance_id),
        SqlValue::Int(query.target_instance_id),
        SqlValue::Text(query.direction.as_str().to_owned()),
    ];
    let mut conditions = String::from(
        "p.source_instance_id = $1 AND p.target_instance_id = $2 \
         AND p.mirror_direction = $3 AND m.lifecycle = 'ready'",
    );
    if let Some(pair_id) = query.pair_id {
        values.push(SqlValue::Int(pair_id));
        conditions.push_str(&format!(" AND m.pair_id = ${}", values.len()));
    }
    if !query.include_disabled {
        values.push(SqlValue::Bool(true));
        conditions.push_str(&format!(" AND m.enabled = ${}", values.len()));
    }
    let from = format!("FROM mirrors m JOIN pairs p ON p.id = m.pair_id WHERE {conditions}");
    let count = BuiltSql {
        sql: format!("SELECT COUNT(*) {from}"),
        values: values.clone(),
    };

    let mut stale = format!(
        "CASE WHEN m.last_successful_update_time IS NULL THEN {}",
        query.rules.never_succeeded.rank()
    );
    for (seconds, level) in [
        (query.rules.error_seconds, HealthLevel::Error),
        (query.rules.warning_seconds, HealthLevel::Warning),
    ] {
        if seconds > 0 {
            let before = query.now - chrono::Duration::seconds(seconds);
            values.push(SqlValue::Time(DbTime(before)));
            stale.push_str(&format!(
                " WHEN m.last_successful_update_time <= ${} THEN {}",
                values.len(),
                level.rank()
            ));
        }
    }
    // CAST: PostgreSQL types integer literals as INT4; the rows decode i64 on both.
    stale.push_str(" ELSE 1 END");
    let stale = format!("CAST({stale} AS BIGINT)");
    let health = format!(
        "CAST({} AS BIGINT)",
        greatest(dialect, "status_rank", "stale_rank")
    );
    values.push(SqlValue::Int(i64::from(query.limit.max(1))));
    let limit = values.len();
    values.push(SqlValue::Int(
        i64::try_from(query.offset).unwrap_or(i64::MAX),
    ));
    let offset = values.len();
    let select = BuiltSql {
        sql: format!(
            "SELECT id, pair_id, pair_name, source_project_path, target_project_path, \
             mirror_direction, enabled, last_update_status, last_successful_update_time, \
             stale_rank, {health} AS health_rank FROM ( \
               SELECT m.id, m.pair_id, p.name AS pair_name, m.source_project_path, \
                 m.target_project_path, p.mirror_direction, m.enabled, m.last_update_status, \
                 m.last_successful_update_time, {stale} AS stale_rank, \
                 {status} AS status_rank {from}) ranked \
             ORDER BY health_rank DESC, \
               CASE WHEN last_successful_update_time IS NULL THEN 1 ELSE 0 END, \
               last_successful_update_time ASC, pair_id ASC, id ASC \
             LIMIT ${limit} OFFSET ${offset}",
            status = status_rank()
        ),
        values,
    };
    (select, count)
}

/// `column` contains the LIKE pattern at `placeholder`, ignoring ASCII case (SQLite's LIKE
/// folds ASCII; the PostgreSQL columns are `COLLATE "C"`, whose ILIKE folds ASCII too).
fn like(dialect: Dialect, column: &str, placeholder: &str) -> String {
    match dialect {
        Dialect::Postgres => format!("{column} ILIKE {placeholder} ESCAPE '\\'"),
        Dialect::Sqlite => format!("{column} LIKE {placeholder} ESCAPE '\\'"),
    }
}

/// `%text%` with LIKE's wildcards in `text` escaped, so the search is a plain substring.
pub(crate) fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Search statements: `$1` the pattern, `$2` the row limit (one more than asked, to tell
/// whether more matched).
pub(crate) fn search_instances(dialect: Dialect) -> String {
    format!(
        "SELECT id, name, url FROM instances WHERE {} OR {} OR {} ORDER BY name, id LIMIT $2",
        like(dialect, "name", "$1"),
        like(dialect, "url", "$1"),
        like(dialect, "description", "$1")
    )
}

pub(crate) fn search_pairs(dialect: Dialect) -> String {
    format!(
        "SELECT id, name, mirror_direction FROM pairs WHERE {} OR {} ORDER BY name, id LIMIT $2",
        like(dialect, "name", "$1"),
        like(dialect, "description", "$1")
    )
}

/// How a mirror search finds its matches (only SQLite has a choice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MirrorSearch {
    /// The trigram index, with the text as an FTS5 phrase: few matches.
    Indexed(String),
    /// The source-path index in order, stopping at the limit: many matches.
    Walk,
    /// The whole table: texts shorter than a trigram (and every PostgreSQL search).
    Scan,
}

/// The mirrors whose paths contain `$1` (a LIKE pattern), at most `$2`, in path order, for
/// [`MirrorSearch::Walk`] and [`MirrorSearch::Scan`].
///
/// PostgreSQL finds the matches through the trigram indexes whatever `how` says. On SQLite a
/// scan keeps the planner from walking the path index in order (the unary `+`), which would
/// read every row behind it when few mirrors match; a walk names the index, because left to
/// itself SQLite prefers a covering index over both paths and sorts every match (16 ms for
/// 100,000 mirrors against 0.4 ms for the walk).
pub(crate) fn search_mirrors(dialect: Dialect, how: &MirrorSearch) -> String {
    let (from, order) = match (dialect, how) {
        (Dialect::Sqlite, MirrorSearch::Walk) => (
            "mirrors INDEXED BY mirrors_source_project_path_idx",
            "source_project_path, target_project_path, id",
        ),
        (Dialect::Sqlite, _) => ("mirrors", "+source_project_path, target_project_path, id"),
        (Dialect::Postgres, _) => ("mirrors", "source_project_path, target_project_path, id"),
    };
    format!(
        "SELECT id, pair_id, source_project_path, target_project_path, last_update_status, \
         lifecycle FROM {from} WHERE {} OR {} ORDER BY {order} LIMIT $2",
        like(dialect, "source_project_path", "$1"),
        like(dialect, "target_project_path", "$1")
    )
}

/// SQLite's trigram index finds texts of this many characters or more.
pub(crate) const TRIGRAM: usize = 3;

/// Above this many matches, walking the path index in order (stopping at the limit) is faster
/// than sorting the index's matches.
pub(crate) const SQLITE_INDEXED_SEARCH_MAX: i64 = 2_000;

/// SQLite: how many mirrors the trigram index finds for the phrase `$1`, counting at most `$2`.
pub(crate) const SQLITE_COUNT_INDEXED_MATCHES: &str = "SELECT count(*) FROM (SELECT rowid FROM \
     mirror_path_search WHERE mirror_path_search MATCH $1 LIMIT $2)";

/// SQLite: the mirrors the trigram index finds for the phrase `$1`, at most `$2`, in path order.
pub(crate) const SQLITE_SEARCH_MIRRORS_INDEXED: &str = "SELECT id, pair_id, source_project_path, \
     target_project_path, last_update_status, lifecycle FROM mirrors WHERE id IN (SELECT rowid \
     FROM mirror_path_search WHERE mirror_path_search MATCH $1) \
     ORDER BY source_project_path, target_project_path, id LIMIT $2";

/// `text` as one FTS5 phrase: with the trigram tokenizer, a case-insensitive substring.
pub(crate) fn fts_phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fts_phrases_quote_the_text() {
        assert_eq!(fts_phrase("acme/api"), "\"acme/api\"");
        assert_eq!(fts_phrase("say \"hi\" OR x*"), "\"say \"\"hi\"\" OR x*\"");
    }

    #[test]
    fn patterns_escape_like_wildcards() {
        assert_eq!(contains_pattern("a_b%c\\d"), "%a\\_b\\%c\\\\d%");
        assert_eq!(contains_pattern("api"), "%api%");
    }
}
