//! SQL shared by both backends. Placeholders are `$n`, which sqlx binds by number on SQLite
//! too; anything dialect-specific lives in the backend modules. Mirrors, jobs, the outbox and
//! leases have their own modules (`sql_mirrors`, `sql_jobs`).

/// Instance columns with the pair count, from `instances i`.
macro_rules! instance_select {
    () => {
        "SELECT i.id, i.name, i.url, i.description, i.encrypted_token, i.token_user_id, \
         i.token_username, i.gitlab_version, i.gitlab_edition, i.verify_time, \
         (SELECT COUNT(*) FROM pairs p \
          WHERE p.source_instance_id = i.id OR p.target_instance_id = i.id) AS pair_count, \
         i.create_time, i.update_time \
         FROM instances i"
    };
}

/// Pair columns with the mirror count, from `pairs p`.
macro_rules! pair_select {
    () => {
        "SELECT p.id, p.name, p.source_instance_id, p.target_instance_id, p.mirror_direction, \
         p.mirror_overwrite_diverged, p.mirror_trigger_builds, \
         p.only_mirror_protected_branches, p.mirror_branch_regex, p.description, \
         (SELECT COUNT(*) FROM mirrors m WHERE m.pair_id = p.id) AS mirror_count, \
         p.create_time, p.update_time \
         FROM pairs p"
    };
}

macro_rules! user_columns {
    () => {
        "id, username, email, password_hash, is_admin, is_active, create_time, update_time"
    };
}

// ---- users ----

pub(crate) const INSERT_USER: &str = concat!(
    "INSERT INTO users (username, email, password_hash, is_admin, is_active, create_time, update_time) \
     VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING ",
    user_columns!()
);
pub(crate) const USER_BY_ID: &str =
    concat!("SELECT ", user_columns!(), " FROM users WHERE id = $1");
pub(crate) const USER_BY_USERNAME: &str = concat!(
    "SELECT ",
    user_columns!(),
    " FROM users WHERE username = $1"
);
pub(crate) const COUNT_USERS: &str = "SELECT COUNT(*) FROM users";
pub(crate) const SET_USER_ACTIVE: &str =
    "UPDATE users SET is_active = $2, update_time = $3 WHERE id = $1";

// ---- instances ----

pub(crate) const INSTANCE_SELECT: &str = instance_select!();
pub(crate) const INSTANCE_COUNT: &str = "SELECT COUNT(*) FROM instances i";
pub(crate) const INSTANCE_BY_ID: &str = concat!(instance_select!(), " WHERE i.id = $1");
/// The token column must hold ciphertext (`v1:` CHECK); this marker is replaced with the real
/// ciphertext in the same transaction, before anyone else can see the row.
pub(crate) const INSERT_INSTANCE: &str = "INSERT INTO instances (name, url, description, encrypted_token, create_time, update_time) \
     VALUES ($1, $2, $3, 'v1:pending', $4, $4) RETURNING id";
pub(crate) const SET_INSTANCE_TOKEN: &str =
    "UPDATE instances SET encrypted_token = $2 WHERE id = $1";
pub(crate) const UPDATE_INSTANCE: &str = "UPDATE instances SET name = $2, url = $3, \
     description = $4, encrypted_token = $5, token_user_id = $6, token_username = $7, \
     gitlab_version = $8, gitlab_edition = $9, verify_time = $10, update_time = $11 \
     WHERE id = $1";
pub(crate) const RECORD_INSTANCE_VERIFICATION: &str = "UPDATE instances SET token_user_id = $2, \
     token_username = $3, gitlab_version = $4, gitlab_edition = $5, verify_time = $6 \
     WHERE id = $1";
pub(crate) const INSTANCE_PAIR_COUNT: &str =
    "SELECT COUNT(*) FROM pairs WHERE source_instance_id = $1 OR target_instance_id = $1";
pub(crate) const DELETE_INSTANCE_MIRRORS: &str = "DELETE FROM mirrors WHERE pair_id IN \
     (SELECT id FROM pairs WHERE source_instance_id = $1 OR target_instance_id = $1)";
pub(crate) const DELETE_INSTANCE_PAIRS: &str =
    "DELETE FROM pairs WHERE source_instance_id = $1 OR target_instance_id = $1";
pub(crate) const DELETE_INSTANCE: &str = "DELETE FROM instances WHERE id = $1";

// ---- pairs ----

pub(crate) const PAIR_SELECT: &str = pair_select!();
pub(crate) const PAIR_COUNT: &str = "SELECT COUNT(*) FROM pairs p";
pub(crate) const PAIR_BY_ID: &str = concat!(pair_select!(), " WHERE p.id = $1");
pub(crate) const INSERT_PAIR: &str = "INSERT INTO pairs (name, source_instance_id, \
     target_instance_id, mirror_direction, mirror_overwrite_diverged, mirror_trigger_builds, \
     only_mirror_protected_branches, mirror_branch_regex, description, create_time, update_time) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id";
pub(crate) const UPDATE_PAIR: &str = "UPDATE pairs SET name = $2, source_instance_id = $3, \
     target_instance_id = $4, mirror_direction = $5, mirror_overwrite_diverged = $6, \
     mirror_trigger_builds = $7, only_mirror_protected_branches = $8, \
     mirror_branch_regex = $9, description = $10, update_time = $11 WHERE id = $1";
pub(crate) const DELETE_PAIR: &str = "DELETE FROM pairs WHERE id = $1";
/// Ids start at 1, so excluding id 0 excludes nothing.
pub(crate) const REVERSE_PAIR: &str = "SELECT id FROM pairs WHERE source_instance_id = $1 \
     AND target_instance_id = $2 AND id <> $3 ORDER BY id LIMIT 1";

// ---- mirrors ----

// The other mirror statements are in `sql_mirrors`.
pub(crate) const COUNT_PAIR_MIRRORS: &str = "SELECT COUNT(*) FROM mirrors WHERE pair_id = $1";
pub(crate) const DELETE_PAIR_MIRRORS: &str = "DELETE FROM mirrors WHERE pair_id = $1";
