//! argon2id password hashing with PHC strings.
//!
//! Every function here costs tens of milliseconds of CPU by design. From async code call them
//! inside `tokio::task::spawn_blocking`, never directly on a runtime thread.

use std::sync::OnceLock;

use argon2::{
    Argon2,
    password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash},
};

/// Hashing failed (only on an unusable random source or absurd input sizes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("password hashing failed")]
pub struct HashError;

/// Hashes `password` with argon2id and a random salt; returns the PHC string to store.
pub fn hash_password(password: &str) -> Result<String, HashError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|_| HashError)
}

/// Whether `password` matches the stored PHC string. A malformed stored hash never matches.
pub fn verify_password(password: &str, stored_hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored_hash) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// Spends the same time as a real verification and always fails. Call it when the user does
/// not exist, so response times do not reveal which usernames exist.
pub fn dummy_verify(password: &str) -> bool {
    static DUMMY_HASH: OnceLock<String> = OnceLock::new();
    let hash = DUMMY_HASH.get_or_init(|| {
        hash_password(&crate::random_secret()).expect("hashing a random secret succeeds")
    });
    let _ = verify_password(password, hash);
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_the_right_password() {
        let hash = hash_password("correct horse battery staple").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery staple", &hash));
        assert!(!verify_password("wrong", &hash));
    }

    #[test]
    fn the_same_password_hashes_differently_each_time() {
        assert_ne!(hash_password("pw").unwrap(), hash_password("pw").unwrap());
    }

    #[test]
    fn malformed_hashes_and_dummy_verification_never_match() {
        assert!(!verify_password("pw", "not a phc string"));
        assert!(!verify_password("pw", ""));
        assert!(!dummy_verify("pw"));
    }
}
