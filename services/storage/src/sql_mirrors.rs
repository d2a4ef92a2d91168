//! Mirror SQL shared by both backends (`$n` placeholders). Filtered lists and the group tree
//! are built in `mirrors_query`.
//!
//! Statements name columns without a table alias so they work in `RETURNING` on both
//! databases; lists read `FROM mirrors m`.

/// Every column of [`crate::rows::MirrorRow`].
macro_rules! mirror_columns {
    () => {
        "id, pair_id, source_project_id, source_project_path, target_project_id, \
         target_project_path, mirror_overwrite_diverged, mirror_trigger_builds, \
         only_mirror_protected_branches, mirror_branch_regex, lifecycle, gitlab_mirror_id, \
         enabled, last_update_status, last_successful_update_time, last_update_time, last_error, \
         status_check_time, encrypted_mirror_token, mirror_token_name, mirror_token_expire_time, \
         gitlab_token_id, token_project_id, create_time, update_time"
    };
}

pub(crate) const MIRROR_COLUMNS: &str = mirror_columns!();

macro_rules! insert_mirror_head {
    () => {
        "INSERT INTO mirrors (pair_id, source_project_id, source_project_path, \
         target_project_id, target_project_path, mirror_overwrite_diverged, \
         mirror_trigger_builds, only_mirror_protected_branches, mirror_branch_regex, enabled, \
         lifecycle, create_time, update_time) "
    };
}

/// Head of a multi-row insert of new mirrors; rows bind their values in the column order
/// (see `bind_new_mirror` in `backend_mirrors`).
pub(crate) const INSERT_MIRRORS_HEAD: &str = insert_mirror_head!();

pub(crate) const INSERT_MIRROR: &str = concat!(
    insert_mirror_head!(),
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING ",
    mirror_columns!()
);

pub(crate) const MIRROR_BY_ID: &str =
    concat!("SELECT ", mirror_columns!(), " FROM mirrors WHERE id = $1");

pub(crate) const MIRROR_BY_PATHS: &str = concat!(
    "SELECT ",
    mirror_columns!(),
    " FROM mirrors WHERE pair_id = $1 AND source_project_path = $2 AND target_project_path = $3"
);

pub(crate) const PAIR_MIRRORS: &str = concat!(
    "SELECT ",
    mirror_columns!(),
    " FROM mirrors WHERE pair_id = $1 ORDER BY id"
);

/// `$2`/`$4`/`$6`/`$8` say whether to set the override that follows (`NULL` inherits).
pub(crate) const UPDATE_MIRROR: &str = concat!(
    "UPDATE mirrors SET \
     mirror_overwrite_diverged = CASE WHEN $2 THEN $3 ELSE mirror_overwrite_diverged END, \
     mirror_trigger_builds = CASE WHEN $4 THEN $5 ELSE mirror_trigger_builds END, \
     only_mirror_protected_branches = CASE WHEN $6 THEN $7 \
         ELSE only_mirror_protected_branches END, \
     mirror_branch_regex = CASE WHEN $8 THEN $9 ELSE mirror_branch_regex END, \
     enabled = COALESCE($10, enabled), \
     update_time = $11 \
     WHERE id = $1 RETURNING ",
    mirror_columns!()
);

/// `NULL` leaves a field unchanged; `$10` says whether to set `last_error` to `$11`;
/// `update_time` moves only when the lifecycle (`$12`) changes. SET expressions see the old
/// row on both databases.
pub(crate) const RECORD_MIRROR_PROVISIONING: &str = "UPDATE mirrors SET \
     source_project_id = COALESCE($2, source_project_id), \
     target_project_id = COALESCE($3, target_project_id), \
     gitlab_mirror_id = COALESCE($4, gitlab_mirror_id), \
     encrypted_mirror_token = COALESCE($5, encrypted_mirror_token), \
     mirror_token_name = COALESCE($6, mirror_token_name), \
     mirror_token_expire_time = COALESCE($7, mirror_token_expire_time), \
     gitlab_token_id = COALESCE($8, gitlab_token_id), \
     token_project_id = COALESCE($9, token_project_id), \
     last_error = CASE WHEN $10 THEN $11 ELSE last_error END, \
     update_time = CASE WHEN $12 IS NOT NULL AND $12 <> lifecycle THEN $13 \
         ELSE update_time END, \
     lifecycle = COALESCE($12, lifecycle) \
     WHERE id = $1";

/// Never touches `update_time`; `enabled` (`$6`) only when GitLab reported it.
pub(crate) const RECORD_MIRROR_STATUS: &str = "UPDATE mirrors SET last_update_status = $2, \
     last_successful_update_time = $3, last_update_time = $4, last_error = $5, \
     enabled = COALESCE($6, enabled), status_check_time = $7 WHERE id = $1";

pub(crate) const DELETE_MIRROR: &str = "DELETE FROM mirrors WHERE id = $1";

pub(crate) const MARK_MIRROR_DELETING: &str = "UPDATE mirrors SET lifecycle = 'deleting', update_time = $2 \
     WHERE id = $1 AND lifecycle <> 'deleting'";

/// Uses the partial index `mirrors_status_check_idx` (same predicate on both databases).
pub(crate) const MIRRORS_DUE_FOR_STATUS_CHECK: &str = concat!(
    "SELECT ",
    mirror_columns!(),
    " FROM mirrors WHERE lifecycle = 'ready' \
     AND (status_check_time IS NULL OR status_check_time < $1) \
     ORDER BY status_check_time ASC NULLS FIRST, id ASC LIMIT $2"
);
