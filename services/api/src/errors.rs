//! Storage failures as client-facing errors.

use mm_common::ApiError;
use mm_storage::StorageError;

/// Logs an unexpected failure and returns the generic internal error. The cause goes to the
/// log only; clients never see internals.
pub(crate) fn internal(context: &str, error: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %error, "{context}");
    ApiError::internal()
}

/// Maps a storage error. `name_field` is the request path of the name being written (for
/// example `pair.name`), used when a uniqueness violation is reported.
pub(crate) fn storage_error(error: StorageError, name_field: &str) -> ApiError {
    match error {
        StorageError::AlreadyExists { entity, field } => {
            let field_path = if field == "name" {
                name_field.to_owned()
            } else {
                field.to_owned()
            };
            ApiError::already_exists(format!("another {entity} already has this {field}"))
                .with_field(field_path, "already in use")
        }
        StorageError::InstanceInUse { pair_count } => ApiError::failed_precondition(format!(
            "the instance URL cannot change while {pair_count} pair(s) use the instance"
        )),
        StorageError::PairHasMirrors { mirror_count } => ApiError::failed_precondition(format!(
            "the pair has {mirror_count} mirror(s): its instances and direction cannot change; \
             delete the mirrors or create a new pair"
        )),
        StorageError::MissingReference => ApiError::failed_precondition(
            "a referenced instance or pair was deleted concurrently; reload and retry",
        ),
        // The API validates every value the schema checks; reaching this is a bug, but the
        // value was still the client's, so it is reported as bad input.
        StorageError::CheckViolation { constraint } => {
            tracing::warn!(%constraint, "value passed validation but failed a database constraint");
            ApiError::new(
                mm_common::ErrorCode::InvalidArgument,
                format!("a value is outside the allowed range ({constraint})"),
            )
        }
        StorageError::InvalidCursor => ApiError::invalid_field(
            "page_token",
            "does not match the requested order; start again without a page token",
        ),
        other => internal("storage operation failed", other),
    }
}
