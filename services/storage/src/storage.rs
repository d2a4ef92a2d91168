use async_trait::async_trait;

use crate::{
    DeleteInstanceOutcome, Instance, InstanceChanges, InstanceFilter, InstanceVerification,
    ListParams, NewInstance, NewMirror, NewPair, NewUser, Page, Pair, PairChanges, PairFilter,
    StorageResult, TokenSealer, User,
};

/// Which database a [`Storage`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// Everything Mirror Maestro persists. Implemented by [`crate::PgStorage`] and
/// [`crate::SqliteStorage`], which behave identically (same conformance suite).
///
/// Lookups of a missing row return `Ok(None)`; constraint violations return the dedicated
/// [`crate::StorageError`] variants.
#[async_trait]
pub trait Storage: Send + Sync + 'static {
    /// The backend behind this storage.
    fn backend(&self) -> Backend;

    /// Applies pending migrations.
    async fn migrate(&self) -> StorageResult<()>;

    /// Checks that the database answers.
    async fn ping(&self) -> StorageResult<()>;

    /// Closes the pool; later calls fail.
    async fn close(&self);

    // ---- users ----

    async fn create_user(&self, user: &NewUser) -> StorageResult<User>;
    async fn get_user(&self, id: i64) -> StorageResult<Option<User>>;
    async fn get_user_by_username(&self, username: &str) -> StorageResult<Option<User>>;
    async fn count_users(&self) -> StorageResult<i64>;
    /// Enables or disables a user; returns `false` when the user does not exist.
    async fn set_user_active(&self, id: i64, active: bool) -> StorageResult<bool>;

    // ---- instances ----

    /// Inserts an instance; `seal_token` encrypts the token for the new id inside the same
    /// transaction, so no row ever exists without its token.
    async fn create_instance(
        &self,
        instance: &NewInstance,
        seal_token: &TokenSealer,
    ) -> StorageResult<Instance>;
    async fn get_instance(&self, id: i64) -> StorageResult<Option<Instance>>;
    async fn list_instances(
        &self,
        filter: &InstanceFilter,
        params: &ListParams,
    ) -> StorageResult<Page<Instance>>;
    /// Applies `changes`; `Ok(None)` when the instance does not exist.
    async fn update_instance(
        &self,
        id: i64,
        changes: &InstanceChanges,
    ) -> StorageResult<Option<Instance>>;
    /// Deletes an instance. With `cascade`, its pairs (and their mirrors) go in the same
    /// transaction; without, an instance used by pairs is left alone.
    async fn delete_instance(&self, id: i64, cascade: bool)
    -> StorageResult<DeleteInstanceOutcome>;
    /// Number of pairs using the instance as source or target (0 when it does not exist).
    async fn instance_pair_count(&self, id: i64) -> StorageResult<i64>;
    /// Records what verifying the instance against GitLab found; `false` when the instance
    /// does not exist.
    async fn record_instance_verification(
        &self,
        id: i64,
        verification: &InstanceVerification,
    ) -> StorageResult<bool>;

    // ---- pairs ----

    async fn create_pair(&self, pair: &NewPair) -> StorageResult<Pair>;
    async fn get_pair(&self, id: i64) -> StorageResult<Option<Pair>>;
    async fn list_pairs(
        &self,
        filter: &PairFilter,
        params: &ListParams,
    ) -> StorageResult<Page<Pair>>;
    /// Applies `changes`; `Ok(None)` when the pair does not exist.
    async fn update_pair(&self, id: i64, changes: &PairChanges) -> StorageResult<Option<Pair>>;
    /// Deletes a pair and its mirrors; returns the number of mirrors deleted, or `None` when
    /// the pair does not exist.
    async fn delete_pair(&self, id: i64) -> StorageResult<Option<i64>>;
    /// The pair mirroring from `target` to `source` (the reverse of source → target), if any,
    /// ignoring the pair `excluding`.
    async fn find_reverse_pair(
        &self,
        source_instance_id: i64,
        target_instance_id: i64,
        excluding: Option<i64>,
    ) -> StorageResult<Option<i64>>;

    // ---- mirrors ----

    /// Inserts a mirror row and returns its id.
    async fn insert_mirror(&self, mirror: &NewMirror) -> StorageResult<i64>;
    async fn count_mirrors(&self, pair_id: i64) -> StorageResult<i64>;
}
