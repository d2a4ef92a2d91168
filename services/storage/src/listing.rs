//! Filtered, ordered, keyset-paginated lists.
//!
//! Pages continue after the last row of the previous page (`(sort key, id)` greater than the
//! cursor), not at an offset, so rows inserted or deleted between two page requests neither
//! repeat nor vanish. The SQL is built once here for both backends; they differ only in the
//! case-insensitive "contains" function.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use crate::{Instance, MirrorDirection, Pair, StorageError, StorageResult, time::DbTime};

/// Field a list is ordered by; ties are broken by id in the same direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SortField {
    #[default]
    Name,
    CreateTime,
    UpdateTime,
    Id,
}

impl SortField {
    fn column(self) -> &'static str {
        match self {
            SortField::Name => "name",
            SortField::CreateTime => "create_time",
            SortField::UpdateTime => "update_time",
            SortField::Id => "id",
        }
    }
}

/// Order of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Sort {
    pub field: SortField,
    pub descending: bool,
}

/// Sort-key value of the last row of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CursorKey {
    /// For [`SortField::Name`].
    Text(String),
    /// For [`SortField::CreateTime`] and [`SortField::UpdateTime`].
    Time(DateTime<Utc>),
    /// For [`SortField::Id`]: the id alone is the key.
    Id,
}

/// Position after which the next page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub key: CursorKey,
    pub id: i64,
}

/// Order, position and size of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListParams {
    pub sort: Sort,
    /// Start after this row; `None` for the first page.
    pub after: Option<Cursor>,
    /// Maximum number of rows (at least 1).
    pub limit: u32,
}

impl Default for ListParams {
    fn default() -> Self {
        Self {
            sort: Sort::default(),
            after: None,
            limit: 50,
        }
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Number of rows matching the filter, over all pages.
    pub total: i64,
    /// Cursor for the next page; `None` on the last page.
    pub next: Option<Cursor>,
}

/// Filter of instance lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceFilter {
    /// Case-insensitive substring of name, URL or description.
    pub search: Option<String>,
}

/// Filter of pair lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PairFilter {
    /// Case-insensitive substring of name or description.
    pub search: Option<String>,
    pub direction: Option<MirrorDirection>,
    pub source_instance_id: Option<i64>,
    pub target_instance_id: Option<i64>,
}

/// A row that can be listed: it knows its sort keys.
pub(crate) trait Listed {
    fn id(&self) -> i64;
    fn name(&self) -> &str;
    fn create_time(&self) -> DateTime<Utc>;
    fn update_time(&self) -> DateTime<Utc>;

    fn cursor(&self, field: SortField) -> Cursor {
        let key = match field {
            SortField::Name => CursorKey::Text(self.name().to_owned()),
            SortField::CreateTime => CursorKey::Time(self.create_time()),
            SortField::UpdateTime => CursorKey::Time(self.update_time()),
            SortField::Id => CursorKey::Id,
        };
        Cursor { key, id: self.id() }
    }
}

impl Listed for Instance {
    fn id(&self) -> i64 {
        self.id
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn create_time(&self) -> DateTime<Utc> {
        self.create_time
    }
    fn update_time(&self) -> DateTime<Utc> {
        self.update_time
    }
}

impl Listed for Pair {
    fn id(&self) -> i64 {
        self.id
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn create_time(&self) -> DateTime<Utc> {
        self.create_time
    }
    fn update_time(&self) -> DateTime<Utc> {
        self.update_time
    }
}

/// Turns the `limit + 1` rows fetched into a page: the extra row only signals a next page.
pub(crate) fn finish_page<T: Listed>(mut rows: Vec<T>, params: &ListParams, total: i64) -> Page<T> {
    let limit = params.limit.max(1) as usize;
    let next = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|row| row.cursor(params.sort.field))
    } else {
        None
    };
    Page {
        items: rows,
        total,
        next,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Postgres,
    Sqlite,
}

/// A value bound to a `$n` placeholder.
#[derive(Debug, Clone)]
pub(crate) enum SqlValue {
    Int(i64),
    Bool(bool),
    Text(String),
    Time(DbTime),
}

/// SQL text with `$n` placeholders and their values, in order.
#[derive(Debug, Clone)]
pub(crate) struct BuiltSql {
    pub sql: String,
    pub values: Vec<SqlValue>,
}

/// One condition of a list filter.
pub(crate) enum Condition {
    /// Any of the columns contains the text, ignoring case.
    ContainsAny {
        columns: &'static [&'static str],
        needle: String,
    },
    /// The column equals the value.
    Equals {
        column: &'static str,
        value: SqlValue,
    },
}

/// Builds the page query and the count query of a list.
///
/// `select` and `count` are the statements up to (excluding) `WHERE`; `alias` is the alias of
/// the listed table in them. Values in the statement itself are not supported.
pub(crate) fn build_list(
    dialect: Dialect,
    select: &str,
    count: &str,
    alias: &str,
    conditions: Vec<Condition>,
    params: &ListParams,
) -> StorageResult<(BuiltSql, BuiltSql)> {
    let mut values = Vec::new();
    let mut filter = String::from(" WHERE TRUE");
    for condition in conditions {
        match condition {
            Condition::ContainsAny { columns, needle } => {
                values.push(SqlValue::Text(needle));
                let n = values.len();
                let parts: Vec<String> = columns
                    .iter()
                    .map(|column| match dialect {
                        Dialect::Postgres => {
                            format!("strpos(lower({alias}.{column}), lower(${n})) > 0")
                        }
                        Dialect::Sqlite => {
                            format!("instr(lower({alias}.{column}), lower(${n})) > 0")
                        }
                    })
                    .collect();
                let _ = write!(filter, " AND ({})", parts.join(" OR "));
            }
            Condition::Equals { column, value } => {
                values.push(value);
                let _ = write!(filter, " AND {alias}.{column} = ${}", values.len());
            }
        }
    }
    let count_sql = BuiltSql {
        sql: format!("{count}{filter}"),
        values: values.clone(),
    };

    let sort = params.sort;
    let column = format!("{alias}.{}", sort.field.column());
    let (comparison, direction) = if sort.descending {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    let mut page_filter = filter;
    if let Some(cursor) = &params.after {
        let key = match (&cursor.key, sort.field) {
            (CursorKey::Text(text), SortField::Name) => Some(SqlValue::Text(text.clone())),
            (CursorKey::Time(time), SortField::CreateTime | SortField::UpdateTime) => {
                Some(SqlValue::Time(DbTime(*time)))
            }
            (CursorKey::Id, SortField::Id) => None,
            _ => return Err(StorageError::InvalidCursor),
        };
        values.push(SqlValue::Int(cursor.id));
        let id_param = values.len();
        match key {
            Some(key) => {
                values.push(key);
                let key_param = values.len();
                let _ = write!(
                    page_filter,
                    " AND ({column} {comparison} ${key_param} OR ({column} = ${key_param} AND {alias}.id {comparison} ${id_param}))"
                );
            }
            None => {
                let _ = write!(page_filter, " AND {alias}.id {comparison} ${id_param}");
            }
        }
    }
    values.push(SqlValue::Int(i64::from(params.limit.max(1)) + 1));
    let order = if sort.field == SortField::Id {
        format!(" ORDER BY {alias}.id {direction}")
    } else {
        format!(" ORDER BY {column} {direction}, {alias}.id {direction}")
    };
    let select_sql = BuiltSql {
        sql: format!("{select}{page_filter}{order} LIMIT ${}", values.len()),
        values,
    };
    Ok((select_sql, count_sql))
}

/// The conditions of an instance filter.
pub(crate) fn instance_conditions(filter: &InstanceFilter) -> Vec<Condition> {
    let mut conditions = Vec::new();
    if let Some(search) = filter.search.as_ref().filter(|s| !s.is_empty()) {
        conditions.push(Condition::ContainsAny {
            columns: &["name", "url", "description"],
            needle: search.clone(),
        });
    }
    conditions
}

/// The conditions of a pair filter.
pub(crate) fn pair_conditions(filter: &PairFilter) -> Vec<Condition> {
    let mut conditions = Vec::new();
    if let Some(search) = filter.search.as_ref().filter(|s| !s.is_empty()) {
        conditions.push(Condition::ContainsAny {
            columns: &["name", "description"],
            needle: search.clone(),
        });
    }
    if let Some(direction) = filter.direction {
        conditions.push(Condition::Equals {
            column: "mirror_direction",
            value: SqlValue::Text(direction.as_str().to_owned()),
        });
    }
    if let Some(id) = filter.source_instance_id {
        conditions.push(Condition::Equals {
            column: "source_instance_id",
            value: SqlValue::Int(id),
        });
    }
    if let Some(id) = filter.target_instance_id {
        conditions.push(Condition::Equals {
            column: "target_instance_id",
            value: SqlValue::Int(id),
        });
    }
    conditions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_and_limit_placeholders_follow_the_filter_values() {
        let params = ListParams {
            sort: Sort {
                field: SortField::Name,
                descending: true,
            },
            after: Some(Cursor {
                key: CursorKey::Text("m".into()),
                id: 7,
            }),
            limit: 10,
        };
        let conditions = instance_conditions(&InstanceFilter {
            search: Some("git".into()),
        });
        let (select, count) = build_list(
            Dialect::Sqlite,
            "SELECT * FROM instances i",
            "SELECT COUNT(*) FROM instances i",
            "i",
            conditions,
            &params,
        )
        .unwrap();
        assert!(
            count
                .sql
                .ends_with("instr(lower(i.description), lower($1)) > 0)")
        );
        assert_eq!(count.values.len(), 1);
        assert!(
            select
                .sql
                .contains("(i.name < $3 OR (i.name = $3 AND i.id < $2))")
        );
        assert!(
            select
                .sql
                .ends_with("ORDER BY i.name DESC, i.id DESC LIMIT $4")
        );
        assert!(matches!(select.values[3], SqlValue::Int(11)));
    }

    #[test]
    fn a_cursor_of_the_wrong_kind_is_rejected() {
        let params = ListParams {
            sort: Sort {
                field: SortField::CreateTime,
                descending: false,
            },
            after: Some(Cursor {
                key: CursorKey::Text("m".into()),
                id: 7,
            }),
            limit: 10,
        };
        assert!(matches!(
            build_list(Dialect::Postgres, "S", "C", "i", vec![], &params),
            Err(StorageError::InvalidCursor)
        ));
    }
}
