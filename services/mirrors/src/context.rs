//! What every handler needs: storage, the cipher, GitLab clients and the mirror settings.

use std::{sync::Arc, time::Duration};

use mm_crypto::Cipher;
use mm_gitlab::RateBudget;
use mm_storage::Storage;

use crate::clients::{ClientSettings, GitLabClients};

/// Settings of the mirror handlers.
#[derive(Debug, Clone)]
pub struct MirrorSettings {
    /// Lifetime of the project access tokens created for mirrors (GitLab allows at most 365
    /// days, 400 with `buffered_token_expiration_limit`).
    pub token_lifetime_days: u32,
    /// Tokens are named `{prefix}-mirror-{mirror id}` (rotations add `-r{n}`), so a retry
    /// finds the token an interrupted attempt created.
    pub token_name_prefix: String,
    /// After triggering a sync, wait this long before reading the mirror's status back into
    /// the row (zero: read at once).
    pub sync_status_wait: Duration,
    /// Trigger a first sync right after creating a mirror (best effort: a failure is a
    /// warning). GitLab runs a pull mirror's first update on its own.
    pub sync_after_create: bool,
    /// How long `pair.remove` / `instance.remove` wait before looking again whether the
    /// job's mirror cleanups have finished.
    pub remove_defer: Duration,
}

impl Default for MirrorSettings {
    fn default() -> Self {
        MirrorSettings {
            token_lifetime_days: 365,
            token_name_prefix: "mirror-maestro".to_owned(),
            sync_status_wait: Duration::ZERO,
            sync_after_create: true,
            remove_defer: Duration::from_secs(5),
        }
    }
}

impl MirrorSettings {
    /// Name of the first token of a mirror.
    pub fn token_name(&self, mirror_id: i64) -> String {
        format!("{}-mirror-{mirror_id}", self.token_name_prefix)
    }

    /// Name of the token created by rotation `n` (1, 2, …).
    pub fn rotated_token_name(&self, mirror_id: i64, n: u32) -> String {
        format!("{}-r{n}", self.token_name(mirror_id))
    }

    /// Whether `name` is one of the names this mirror's tokens get (first or rotated).
    pub fn is_token_family(&self, mirror_id: i64, name: &str) -> bool {
        let base = self.token_name(mirror_id);
        match name.strip_prefix(&base) {
            Some("") => true,
            Some(rest) => rest
                .strip_prefix("-r")
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())),
            None => false,
        }
    }

    /// The rotation number of a token name of this mirror (0 for the first token).
    pub fn rotation_of(&self, mirror_id: i64, name: &str) -> Option<u32> {
        let base = self.token_name(mirror_id);
        match name.strip_prefix(&base)? {
            "" => Some(0),
            rest => rest.strip_prefix("-r")?.parse().ok(),
        }
    }
}

/// Shared state of the mirror handlers.
pub struct MirrorsContext {
    pub storage: Arc<dyn Storage>,
    pub cipher: Arc<Cipher>,
    pub clients: GitLabClients,
    pub settings: MirrorSettings,
}

impl std::fmt::Debug for MirrorsContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MirrorsContext")
            .field("backend", &self.storage.backend())
            .field("clients", &self.clients)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl MirrorsContext {
    /// A context whose GitLab clients all use `budget` (a [`mm_gitlab::LocalRateBudget`] for
    /// one process, a [`crate::PgRateBudget`] shared by every worker replica).
    pub fn new(
        storage: Arc<dyn Storage>,
        cipher: Arc<Cipher>,
        budget: Arc<dyn RateBudget>,
        client_settings: ClientSettings,
        settings: MirrorSettings,
    ) -> Self {
        let clients = GitLabClients::new(cipher.clone(), budget, client_settings);
        MirrorsContext {
            storage,
            cipher,
            clients,
            settings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_names() {
        let s = MirrorSettings::default();
        assert_eq!(s.token_name(7), "mirror-maestro-mirror-7");
        assert_eq!(s.rotated_token_name(7, 2), "mirror-maestro-mirror-7-r2");
        assert!(s.is_token_family(7, "mirror-maestro-mirror-7"));
        assert!(s.is_token_family(7, "mirror-maestro-mirror-7-r12"));
        assert!(!s.is_token_family(7, "mirror-maestro-mirror-70"));
        assert!(!s.is_token_family(7, "mirror-maestro-mirror-7-r"));
        assert!(!s.is_token_family(7, "mirror-maestro-mirror-7-rx"));
        assert_eq!(s.rotation_of(7, "mirror-maestro-mirror-7"), Some(0));
        assert_eq!(s.rotation_of(7, "mirror-maestro-mirror-7-r3"), Some(3));
        assert_eq!(s.rotation_of(7, "other"), None);
    }
}
