use sqlx::error::ErrorKind;

/// Result of a storage operation.
pub type StorageResult<T> = Result<T, StorageError>;

/// A storage failure. Constraint violations get their own variants so the API can report
/// them as client errors naming the field, instead of internal errors.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A UNIQUE constraint failed: another `entity` already has this `field` value.
    #[error("another {entity} has the same {field}")]
    AlreadyExists {
        entity: &'static str,
        field: &'static str,
    },
    /// A foreign key failed: a referenced row is missing (deleted concurrently).
    #[error("a referenced row does not exist")]
    MissingReference,
    /// A CHECK constraint failed; `constraint` is its name (for example `pairs_name_length`).
    #[error("value rejected by constraint {constraint}")]
    CheckViolation { constraint: String },
    /// The instance's URL cannot change while pairs use it.
    #[error("the instance is used by {pair_count} pair(s)")]
    InstanceInUse { pair_count: i64 },
    /// The pair's instances and direction cannot change once it has mirrors.
    #[error("the pair has {mirror_count} mirror(s)")]
    PairHasMirrors { mirror_count: i64 },
    /// A page cursor whose key does not fit the requested sort field.
    #[error("the page cursor does not match the sort order")]
    InvalidCursor,
    /// The token could not be encrypted for the new row.
    #[error("sealing the token failed: {0}")]
    Seal(String),
    /// The database URL names no supported backend.
    #[error("unsupported database URL; use postgres://, postgresql:// or sqlite:")]
    UnsupportedUrl,
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StorageError {
    fn from(error: sqlx::Error) -> Self {
        let sqlx::Error::Database(db_error) = &error else {
            return StorageError::Database(error);
        };
        // PostgreSQL names the constraint; SQLite only says "UNIQUE constraint failed:
        // instances.name" or "CHECK constraint failed: pairs_name_length".
        let constraint = db_error
            .constraint()
            .map(str::to_owned)
            .unwrap_or_else(|| constraint_from_sqlite_message(db_error.message()));
        match db_error.kind() {
            ErrorKind::UniqueViolation => match unique_constraint_field(&constraint) {
                Some((entity, field)) => StorageError::AlreadyExists { entity, field },
                None => StorageError::Database(error),
            },
            ErrorKind::ForeignKeyViolation => StorageError::MissingReference,
            ErrorKind::CheckViolation => StorageError::CheckViolation { constraint },
            _ => StorageError::Database(error),
        }
    }
}

fn constraint_from_sqlite_message(message: &str) -> String {
    message
        .split_once("constraint failed: ")
        .map(|(_, rest)| rest.trim().to_owned())
        .unwrap_or_default()
}

/// The entity and field of a UNIQUE constraint, by PostgreSQL constraint name or by SQLite's
/// `table.column` list.
fn unique_constraint_field(constraint: &str) -> Option<(&'static str, &'static str)> {
    Some(match constraint {
        "users_username_key" | "users.username" => ("user", "username"),
        "users_email_key" | "users.email" => ("user", "email"),
        "instances_name_key" | "instances.name" => ("instance", "name"),
        "pairs_name_key" | "pairs.name" => ("pair", "name"),
        "mirrors_pair_projects_key"
        | "mirrors.pair_id, mirrors.source_project_id, mirrors.target_project_id" => {
            ("mirror", "target_project_id")
        }
        "mirrors_pair_paths_key"
        | "mirrors.pair_id, mirrors.source_project_path, mirrors.target_project_path" => {
            ("mirror", "source_project_path")
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_messages_yield_the_constraint() {
        assert_eq!(
            constraint_from_sqlite_message("UNIQUE constraint failed: instances.name"),
            "instances.name"
        );
        assert_eq!(
            constraint_from_sqlite_message("CHECK constraint failed: pairs_name_length"),
            "pairs_name_length"
        );
        assert_eq!(
            unique_constraint_field("pairs.name"),
            Some(("pair", "name"))
        );
        assert_eq!(
            unique_constraint_field("pairs_name_key"),
            Some(("pair", "name"))
        );
        assert_eq!(
            unique_constraint_field(
                "mirrors.pair_id, mirrors.source_project_path, mirrors.target_project_path"
            ),
            Some(("mirror", "source_project_path"))
        );
        assert_eq!(
            unique_constraint_field("mirrors_pair_paths_key"),
            Some(("mirror", "source_project_path"))
        );
    }
}
