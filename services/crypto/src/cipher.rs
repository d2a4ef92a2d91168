use std::fmt;

use aes_gcm::{
    Aes256Gcm, KeyInit, Nonce,
    aead::{Aead, Payload},
};
use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};

use crate::random::{fill_random, sha256};

/// Version tag of the stored format `v1:<key_id>:<base64url(nonce || ciphertext || tag)>`.
const FORMAT_VERSION: &str = "v1";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// Associated-data strings. Binding a ciphertext to its row means a value copied into another
/// row (or another column) fails to decrypt instead of silently authenticating someone else.
pub mod aad {
    /// The API token of GitLab instance `instance_id`.
    pub fn instance_token(instance_id: i64) -> String {
        format!("instance:{instance_id}:token")
    }

    /// The project access token of mirror `mirror_id`.
    pub fn mirror_token(mirror_id: i64) -> String {
        format!("mirror:{mirror_id}:token")
    }
}

/// A 256-bit AES key with its id. The id is derived from the key, so it needs no
/// configuration and the same key always gets the same id.
#[derive(Clone)]
pub struct EncryptionKey {
    id: String,
    cipher: Aes256Gcm,
}

/// A key that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the key is not valid base64")]
    NotBase64,
    #[error("the key must be 32 bytes, got {0}")]
    WrongLength(usize),
}

impl EncryptionKey {
    /// A key from its 32 raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let cipher =
            Aes256Gcm::new_from_slice(bytes).map_err(|_| KeyError::WrongLength(bytes.len()))?;
        // 8 hex characters of a domain-separated hash: enough to tell keys apart, and reveals
        // nothing useful about the key.
        let mut input = b"mirror-maestro key id\0".to_vec();
        input.extend_from_slice(bytes);
        let digest = sha256(&input);
        let id = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
        Ok(Self { id, cipher })
    }

    /// A key from standard or URL-safe base64 of 32 bytes (surrounding whitespace ignored).
    pub fn from_base64(encoded: &str) -> Result<Self, KeyError> {
        let encoded = encoded.trim();
        let bytes = STANDARD
            .decode(encoded)
            .or_else(|_| URL_SAFE_NO_PAD.decode(encoded.trim_end_matches('=')))
            .map_err(|_| KeyError::NotBase64)?;
        Self::from_bytes(&bytes)
    }

    /// A new random key and its base64 (standard alphabet) encoding.
    pub fn generate() -> (Self, String) {
        let mut bytes = [0u8; 32];
        fill_random(&mut bytes);
        let encoded = STANDARD.encode(bytes);
        let key = Self::from_bytes(&bytes).expect("32 bytes is a valid AES-256 key");
        (key, encoded)
    }

    /// The key id written into every value encrypted with this key.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptionKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Why a value could not be encrypted or decrypted. The messages never contain plaintext,
/// ciphertext or key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("encrypted value is malformed")]
    Malformed,
    #[error("encrypted value uses unknown key {key_id}")]
    UnknownKey { key_id: String },
    #[error("encrypted value failed authentication (wrong key, wrong row or tampered)")]
    Authentication,
    #[error("encryption failed")]
    Encryption,
}

/// Encrypts with the primary key and decrypts with any known key.
#[derive(Clone)]
pub struct Cipher {
    primary: EncryptionKey,
    older: Vec<EncryptionKey>,
}

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cipher")
            .field("primary", &self.primary.id)
            .field(
                "older",
                &self.older.iter().map(|k| &k.id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Cipher {
    /// A cipher that encrypts with `primary` and can still decrypt values written with any of
    /// the `older` keys (key rotation).
    pub fn from_keys(
        primary: EncryptionKey,
        older: impl IntoIterator<Item = EncryptionKey>,
    ) -> Self {
        let older = older
            .into_iter()
            .filter(|key| key.id != primary.id)
            .collect();
        Self { primary, older }
    }

    /// A cipher with a single key.
    pub fn new(key: EncryptionKey) -> Self {
        Self::from_keys(key, [])
    }

    /// Id of the key new values are encrypted with.
    pub fn primary_key_id(&self) -> &str {
        &self.primary.id
    }

    /// Encrypts `plaintext`, bound to `associated_data` (see [`aad`]), with a fresh random
    /// nonce. Returns the text to store.
    pub fn encrypt(&self, plaintext: &str, associated_data: &str) -> Result<String, CryptoError> {
        let mut nonce_bytes = [0u8; NONCE_LEN];
        fill_random(&mut nonce_bytes);
        let nonce = Nonce::from(nonce_bytes);
        let sealed = self
            .primary
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: associated_data.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Encryption)?;
        let mut blob = Vec::with_capacity(NONCE_LEN + sealed.len());
        blob.extend_from_slice(&nonce_bytes);
        blob.extend_from_slice(&sealed);
        Ok(format!(
            "{FORMAT_VERSION}:{}:{}",
            self.primary.id,
            URL_SAFE_NO_PAD.encode(blob)
        ))
    }

    /// Decrypts a value produced by [`Cipher::encrypt`] with the same associated data.
    pub fn decrypt(&self, stored: &str, associated_data: &str) -> Result<String, CryptoError> {
        let (key_id, blob) = parse_stored(stored)?;
        let key = self.key(key_id).ok_or_else(|| CryptoError::UnknownKey {
            key_id: key_id.to_owned(),
        })?;
        let (nonce_bytes, sealed) = blob.split_at(NONCE_LEN);
        let nonce_bytes: [u8; NONCE_LEN] =
            nonce_bytes.try_into().map_err(|_| CryptoError::Malformed)?;
        let plaintext = key
            .cipher
            .decrypt(
                &Nonce::from(nonce_bytes),
                Payload {
                    msg: sealed,
                    aad: associated_data.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Authentication)?;
        String::from_utf8(plaintext).map_err(|_| CryptoError::Malformed)
    }

    /// Whether `stored` was written with a key other than the primary one, so a rotation job
    /// should re-encrypt it.
    pub fn needs_reencryption(&self, stored: &str) -> bool {
        match parse_stored(stored) {
            Ok((key_id, _)) => key_id != self.primary.id,
            Err(_) => true,
        }
    }

    fn key(&self, key_id: &str) -> Option<&EncryptionKey> {
        std::iter::once(&self.primary)
            .chain(&self.older)
            .find(|key| key.id == key_id)
    }
}

fn parse_stored(stored: &str) -> Result<(&str, Vec<u8>), CryptoError> {
    let mut parts = stored.splitn(3, ':');
    let (Some(version), Some(key_id), Some(encoded)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(CryptoError::Malformed);
    };
    if version != FORMAT_VERSION || key_id.is_empty() {
        return Err(CryptoError::Malformed);
    }
    let blob = URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| CryptoError::Malformed)?;
    if blob.len() < NONCE_LEN + TAG_LEN {
        return Err(CryptoError::Malformed);
    }
    Ok((key_id, blob))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> EncryptionKey {
        EncryptionKey::from_bytes(&[byte; 32]).unwrap()
    }

    #[test]
    fn round_trip_with_matching_associated_data() {
        let cipher = Cipher::new(key(1));
        let stored = cipher
            .encrypt("glpat-secret", &aad::instance_token(42))
            .unwrap();
        assert!(stored.starts_with(&format!("v1:{}:", cipher.primary_key_id())));
        assert!(!stored.contains("glpat-secret"));
        assert_eq!(
            cipher.decrypt(&stored, &aad::instance_token(42)).unwrap(),
            "glpat-secret"
        );
    }

    #[test]
    fn each_encryption_uses_a_fresh_nonce() {
        let cipher = Cipher::new(key(1));
        let a = cipher.encrypt("same", "x").unwrap();
        let b = cipher.encrypt("same", "x").unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn value_moved_to_another_row_does_not_decrypt() {
        let cipher = Cipher::new(key(1));
        let stored = cipher.encrypt("token", &aad::instance_token(1)).unwrap();
        assert_eq!(
            cipher.decrypt(&stored, &aad::instance_token(2)),
            Err(CryptoError::Authentication)
        );
        assert_eq!(
            cipher.decrypt(&stored, &aad::mirror_token(1)),
            Err(CryptoError::Authentication)
        );
    }

    #[test]
    fn tampered_ciphertext_is_rejected_without_revealing_anything() {
        let cipher = Cipher::new(key(1));
        let stored = cipher.encrypt("super-secret-token", "a").unwrap();
        let mut bytes = stored.into_bytes();
        let last = bytes.len() - 1;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        let error = cipher.decrypt(&tampered, "a").unwrap_err();
        assert!(!error.to_string().contains("super-secret-token"));
        assert!(matches!(
            error,
            CryptoError::Authentication | CryptoError::Malformed
        ));
    }

    #[test]
    fn malformed_values_are_reported_as_such() {
        let cipher = Cipher::new(key(1));
        for bad in [
            "",
            "plain",
            "v1:abc",
            "v2:abc:AAAA",
            "v1::AAAA",
            "v1:abc:!!!",
            "v1:abc:AAAA",
        ] {
            assert!(
                matches!(
                    cipher.decrypt(bad, "a"),
                    Err(CryptoError::Malformed | CryptoError::UnknownKey { .. })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn rotation_decrypts_old_values_and_encrypts_with_the_new_key() {
        let old = Cipher::new(key(1));
        let stored_old = old.encrypt("token", "a").unwrap();

        let rotated = Cipher::from_keys(key(2), [key(1)]);
        assert_eq!(rotated.decrypt(&stored_old, "a").unwrap(), "token");
        assert!(rotated.needs_reencryption(&stored_old));
        let stored_new = rotated.encrypt("token", "a").unwrap();
        assert!(!rotated.needs_reencryption(&stored_new));

        // A cipher that no longer knows the old key says which key is missing.
        let forgotten = Cipher::new(key(2));
        assert_eq!(
            forgotten.decrypt(&stored_old, "a"),
            Err(CryptoError::UnknownKey {
                key_id: key(1).id().to_owned()
            })
        );
    }

    #[test]
    fn keys_parse_from_base64_and_reject_wrong_lengths() {
        let (generated, encoded) = EncryptionKey::generate();
        let parsed = EncryptionKey::from_base64(&format!(" {encoded}\n")).unwrap();
        assert_eq!(parsed.id(), generated.id());
        let url_safe = URL_SAFE_NO_PAD.encode(STANDARD.decode(&encoded).unwrap());
        assert_eq!(
            EncryptionKey::from_base64(&url_safe).unwrap().id(),
            generated.id()
        );
        assert_eq!(
            EncryptionKey::from_base64(&STANDARD.encode([0u8; 16])).unwrap_err(),
            KeyError::WrongLength(16)
        );
        assert_eq!(
            EncryptionKey::from_base64("not base64 at all!").unwrap_err(),
            KeyError::NotBase64
        );
    }

    #[test]
    fn debug_output_hides_key_material() {
        let cipher = Cipher::from_keys(key(7), [key(8)]);
        let debug = format!("{cipher:?}");
        assert!(debug.contains(key(7).id()));
        assert!(!debug.contains("7, 7, 7"));
    }
}
