//! Cryptography used by Mirror Maestro.
//!
//! * [`Cipher`]: AES-256-GCM encryption of secrets at rest (GitLab tokens), with a key id in
//!   every stored value so keys can rotate, and associated data that binds a value to its row.
//! * [`password`]: argon2id password hashing (PHC strings). These functions are CPU-heavy on
//!   purpose; async callers must run them in `tokio::task::spawn_blocking`.
//! * [`keyfile`]: loading or generating the encryption key and the JWT secret in the data
//!   directory, with owner-only permissions.

mod cipher;
pub mod keyfile;
pub mod password;
mod random;

pub use cipher::{Cipher, CryptoError, EncryptionKey, KeyError, aad};
pub use random::{random_password, random_secret, sha256};
