//! Secrets kept in files in the data directory: the encryption key (`encryption.key`) and the
//! JWT secret (`jwt_secret.key`).
//!
//! A configured value always wins. Otherwise the file is read, or created with a new random
//! secret. Files are created with mode 0600 (owner only); an existing file that other users can
//! read is refused, and a group-readable one is accepted with a warning.

use std::{
    fs,
    io::{self, Write},
    path::{Path, PathBuf},
};

use crate::{Cipher, EncryptionKey, KeyError, random_secret};

/// File name of the encryption key in the data directory.
pub const ENCRYPTION_KEY_FILE: &str = "encryption.key";
/// File name of the JWT secret in the data directory.
pub const JWT_SECRET_FILE: &str = "jwt_secret.key";

/// A secret file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error(
        "{path}: permissions {mode:04o} let other users read it; run `chmod 600 {path}` and restart"
    )]
    TooOpen { path: PathBuf, mode: u32 },
    #[error("{path}: file is empty")]
    Empty { path: PathBuf },
    #[error("{origin}: {source}")]
    BadKey { origin: String, source: KeyError },
}

/// Where a secret came from; for the startup log (never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// From configuration (environment or config file).
    Configured,
    /// Read from an existing file.
    File(PathBuf),
    /// Generated now and written to this new file.
    Generated(PathBuf),
}

/// Reads the secret file at `path`, or creates it with `generate()` when it does not exist.
/// Returns the trimmed file content.
pub fn read_or_create(
    path: &Path,
    generate: impl FnOnce() -> String,
) -> Result<(String, SecretSource), KeyFileError> {
    let io_error = |source| KeyFileError::Io {
        path: path.to_owned(),
        source,
    };
    match fs::read_to_string(path) {
        Ok(content) => read_existing(path, content),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                create_private_dir(parent).map_err(io_error)?;
            }
            let content = generate();
            match write_new_private_file(path, &content) {
                Ok(()) => Ok((content, SecretSource::Generated(path.to_owned()))),
                // Another process created it first: use theirs so both agree.
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
                    let content = fs::read_to_string(path).map_err(io_error)?;
                    read_existing(path, content)
                }
                Err(error) => Err(io_error(error)),
            }
        }
        Err(error) => Err(io_error(error)),
    }
}

fn read_existing(path: &Path, content: String) -> Result<(String, SecretSource), KeyFileError> {
    check_permissions(path)?;
    let content = content.trim().to_owned();
    if content.is_empty() {
        return Err(KeyFileError::Empty {
            path: path.to_owned(),
        });
    }
    Ok((content, SecretSource::File(path.to_owned())))
}

/// The cipher for encryption at rest.
///
/// `configured` is `MM_ENCRYPTION_KEY`: base64 of 32 bytes, or several comma-separated keys
/// where the first is the primary and the rest are older keys kept for decryption during a
/// rotation. Without it, `<data_dir>/encryption.key` is used (one key per line, primary
/// first), and generated when missing.
pub fn load_cipher(
    configured: Option<&str>,
    data_dir: &Path,
) -> Result<(Cipher, SecretSource), KeyFileError> {
    let (text, source, origin) = match configured {
        Some(value) => (
            value.to_owned(),
            SecretSource::Configured,
            "MM_ENCRYPTION_KEY".to_owned(),
        ),
        None => {
            let path = data_dir.join(ENCRYPTION_KEY_FILE);
            let (text, source) = read_or_create(&path, || EncryptionKey::generate().1)?;
            (text, source, path.display().to_string())
        }
    };
    let mut keys = text
        .split([',', '\n'])
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(EncryptionKey::from_base64);
    let primary = keys
        .next()
        .unwrap_or(Err(KeyError::WrongLength(0)))
        .map_err(|source| KeyFileError::BadKey {
            origin: origin.clone(),
            source,
        })?;
    let older = keys
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| KeyFileError::BadKey { origin, source })?;
    Ok((Cipher::from_keys(primary, older), source))
}

/// The HMAC secret for JWTs: the configured one, else `<data_dir>/jwt_secret.key` (generated
/// as 32 random bytes in URL-safe base64 when missing). Returns the secret's bytes.
pub fn load_jwt_secret(
    configured: Option<&str>,
    data_dir: &Path,
) -> Result<(Vec<u8>, SecretSource), KeyFileError> {
    match configured {
        Some(secret) => Ok((secret.as_bytes().to_vec(), SecretSource::Configured)),
        None => {
            let (secret, source) = read_or_create(&data_dir.join(JWT_SECRET_FILE), random_secret)?;
            Ok((secret.into_bytes(), source))
        }
    }
}

#[cfg(unix)]
fn check_permissions(path: &Path) -> Result<(), KeyFileError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(path)
        .map_err(|source| KeyFileError::Io {
            path: path.to_owned(),
            source,
        })?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o007 != 0 {
        return Err(KeyFileError::TooOpen {
            path: path.to_owned(),
            mode,
        });
    }
    if mode & 0o070 != 0 {
        tracing::warn!(
            path = %path.display(),
            mode = format!("{mode:04o}"),
            "secret file is readable by its group; chmod 600 is recommended"
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_permissions(_path: &Path) -> Result<(), KeyFileError> {
    Ok(())
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

fn write_new_private_file(path: &Path, content: &str) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(content.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn mode_of(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn generated_key_file_is_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("data");
        let (first, source) = load_cipher(None, &data_dir).unwrap();
        let path = data_dir.join(ENCRYPTION_KEY_FILE);
        assert_eq!(source, SecretSource::Generated(path.clone()));
        #[cfg(unix)]
        assert_eq!(mode_of(&path), 0o600);

        let (second, source) = load_cipher(None, &data_dir).unwrap();
        assert_eq!(source, SecretSource::File(path));
        let stored = first.encrypt("token", "a").unwrap();
        assert_eq!(second.decrypt(&stored, "a").unwrap(), "token");
    }

    #[test]
    fn configured_key_wins_and_supports_older_keys() {
        let dir = tempfile::tempdir().unwrap();
        let (_, old) = EncryptionKey::generate();
        let (_, new) = EncryptionKey::generate();
        let (old_cipher, _) = load_cipher(Some(&old), dir.path()).unwrap();
        let stored = old_cipher.encrypt("token", "a").unwrap();
        let (rotated, source) = load_cipher(Some(&format!("{new}, {old}")), dir.path()).unwrap();
        assert_eq!(source, SecretSource::Configured);
        assert_eq!(rotated.decrypt(&stored, "a").unwrap(), "token");
        assert!(rotated.needs_reencryption(&stored));
        assert!(!dir.path().join(ENCRYPTION_KEY_FILE).exists());
    }

    #[test]
    fn bad_configured_key_names_its_origin() {
        let dir = tempfile::tempdir().unwrap();
        let error = load_cipher(Some("c2hvcnQ="), dir.path()).unwrap_err();
        assert!(
            error.to_string().starts_with("MM_ENCRYPTION_KEY"),
            "{error}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn world_readable_secret_files_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let (_, _) = load_jwt_secret(None, dir.path()).unwrap();
        let path = dir.path().join(JWT_SECRET_FILE);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let error = load_jwt_secret(None, dir.path()).unwrap_err();
        assert!(matches!(error, KeyFileError::TooOpen { mode: 0o644, .. }));
        assert!(error.to_string().contains("chmod 600"));

        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        assert!(load_jwt_secret(None, dir.path()).is_ok());
    }

    #[test]
    fn jwt_secret_is_generated_once() {
        let dir = tempfile::tempdir().unwrap();
        let (first, _) = load_jwt_secret(None, dir.path()).unwrap();
        let (second, source) = load_jwt_secret(None, dir.path()).unwrap();
        assert_eq!(first, second);
        assert!(first.len() >= 43);
        assert!(matches!(source, SecretSource::File(_)));
        let (configured, source) =
            load_jwt_secret(Some("x".repeat(32).as_str()), dir.path()).unwrap();
        assert_eq!(configured, b"x".repeat(32));
        assert_eq!(source, SecretSource::Configured);
    }

    #[test]
    fn empty_secret_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(JWT_SECRET_FILE);
        write_new_private_file(&path, "").unwrap();
        assert!(matches!(
            load_jwt_secret(None, dir.path()),
            Err(KeyFileError::Empty { .. })
        ));
    }
}
