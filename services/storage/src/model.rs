use std::fmt;

use chrono::{DateTime, Utc};

/// Direction of the mirrors of a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MirrorDirection {
    /// The source project pushes to the target.
    Push,
    /// The target project pulls from the source.
    Pull,
}

impl MirrorDirection {
    /// The value stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            MirrorDirection::Push => "push",
            MirrorDirection::Pull => "pull",
        }
    }

    /// Parses a stored value.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "push" => Some(MirrorDirection::Push),
            "pull" => Some(MirrorDirection::Pull),
            _ => None,
        }
    }
}

/// A user account.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    /// argon2 PHC string.
    pub password_hash: String,
    pub is_admin: bool,
    pub is_active: bool,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("is_admin", &self.is_admin)
            .field("is_active", &self.is_active)
            .finish_non_exhaustive()
    }
}

/// A user to create.
#[derive(Clone)]
pub struct NewUser {
    pub username: String,
    pub email: Option<String>,
    pub password_hash: String,
    pub is_admin: bool,
    pub is_active: bool,
}

/// A registered GitLab instance.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Instance {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub description: String,
    /// Ciphertext of the API token, bound to this row (see `mm_crypto::aad::instance_token`).
    pub encrypted_token: String,
    pub token_user_id: Option<i64>,
    pub token_username: Option<String>,
    pub gitlab_version: Option<String>,
    pub gitlab_edition: Option<String>,
    /// When the verification fields were last recorded.
    pub verify_time: Option<DateTime<Utc>>,
    /// Number of pairs that use the instance as source or target.
    pub pair_count: i64,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
}

/// Encrypts the plaintext token for the row id it receives; called inside the insert
/// transaction once the new instance's id is known.
pub type TokenSealer = dyn Fn(i64) -> Result<String, String> + Send + Sync;

/// An instance to create. The token is supplied through a [`TokenSealer`].
#[derive(Debug, Clone)]
pub struct NewInstance {
    pub name: String,
    pub url: String,
    pub description: String,
}

/// Changes to an instance; `None` leaves a field unchanged.
///
/// Changing the URL clears the verification fields (they described another server), and
/// changing the token clears the token owner.
#[derive(Debug, Clone, Default)]
pub struct InstanceChanges {
    pub name: Option<String>,
    /// Refused with [`crate::StorageError::InstanceInUse`] when it differs from the stored
    /// URL and a pair uses the instance.
    pub url: Option<String>,
    pub description: Option<String>,
    /// New token ciphertext, already bound to this instance's id.
    pub encrypted_token: Option<String>,
}

impl InstanceChanges {
    /// Whether no field would change.
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.url.is_none()
            && self.description.is_none()
            && self.encrypted_token.is_none()
    }
}

/// What verifying an instance against GitLab found out (written by the verification worker).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceVerification {
    pub token_user_id: Option<i64>,
    pub token_username: Option<String>,
    pub gitlab_version: Option<String>,
    pub gitlab_edition: Option<String>,
}

/// Result of deleting an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteInstanceOutcome {
    NotFound,
    /// Pairs use the instance and cascading was not requested; nothing was deleted.
    InUse {
        pair_count: i64,
    },
    /// Deleted, together with these pairs and their mirrors.
    Deleted {
        deleted_pairs: i64,
        deleted_mirrors: i64,
    },
}

/// A source/target instance pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    pub id: i64,
    pub name: String,
    pub source_instance_id: i64,
    pub target_instance_id: i64,
    pub mirror_direction: MirrorDirection,
    pub mirror_overwrite_diverged: bool,
    pub mirror_trigger_builds: bool,
    pub only_mirror_protected_branches: bool,
    pub mirror_branch_regex: Option<String>,
    pub description: String,
    /// Number of mirrors in the pair.
    pub mirror_count: i64,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
}

/// A pair to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPair {
    pub name: String,
    pub source_instance_id: i64,
    pub target_instance_id: i64,
    pub mirror_direction: MirrorDirection,
    pub mirror_overwrite_diverged: bool,
    pub mirror_trigger_builds: bool,
    pub only_mirror_protected_branches: bool,
    pub mirror_branch_regex: Option<String>,
    pub description: String,
}

/// Changes to a pair; `None` leaves a field unchanged.
///
/// Instances and direction are refused with [`crate::StorageError::PairHasMirrors`] when they
/// differ from the stored values and the pair has mirrors.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PairChanges {
    pub name: Option<String>,
    pub source_instance_id: Option<i64>,
    pub target_instance_id: Option<i64>,
    pub mirror_direction: Option<MirrorDirection>,
    pub mirror_overwrite_diverged: Option<bool>,
    pub mirror_trigger_builds: Option<bool>,
    pub only_mirror_protected_branches: Option<bool>,
    /// `Some(None)` clears the regex.
    pub mirror_branch_regex: Option<Option<String>>,
    pub description: Option<String>,
}

impl PairChanges {
    /// Whether no field would change.
    pub fn is_empty(&self) -> bool {
        *self == PairChanges::default()
    }
}

/// Row shape of `pairs` (direction as stored text).
#[derive(sqlx::FromRow)]
pub(crate) struct PairRow {
    pub id: i64,
    pub name: String,
    pub source_instance_id: i64,
    pub target_instance_id: i64,
    pub mirror_direction: String,
    pub mirror_overwrite_diverged: bool,
    pub mirror_trigger_builds: bool,
    pub only_mirror_protected_branches: bool,
    pub mirror_branch_regex: Option<String>,
    pub description: String,
    pub mirror_count: i64,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
}

impl TryFrom<PairRow> for Pair {
    type Error = crate::StorageError;

    fn try_from(row: PairRow) -> Result<Self, Self::Error> {
        let mirror_direction = MirrorDirection::parse(&row.mirror_direction).ok_or_else(|| {
            crate::StorageError::Database(sqlx::Error::Decode(
                format!("unknown mirror_direction {:?}", row.mirror_direction).into(),
            ))
        })?;
        Ok(Pair {
            id: row.id,
            name: row.name,
            source_instance_id: row.source_instance_id,
            target_instance_id: row.target_instance_id,
            mirror_direction,
            mirror_overwrite_diverged: row.mirror_overwrite_diverged,
            mirror_trigger_builds: row.mirror_trigger_builds,
            only_mirror_protected_branches: row.only_mirror_protected_branches,
            mirror_branch_regex: row.mirror_branch_regex,
            description: row.description,
            mirror_count: row.mirror_count,
            create_time: row.create_time,
            update_time: row.update_time,
        })
    }
}
