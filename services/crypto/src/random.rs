use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::{TryRngCore, rngs::OsRng};
use sha2::{Digest, Sha256};

/// Fills `buffer` from the operating system's random source.
pub(crate) fn fill_random(buffer: &mut [u8]) {
    // The OS random source failing is not recoverable: continuing would produce weak keys.
    OsRng
        .try_fill_bytes(buffer)
        .expect("the operating system random number generator failed");
}

/// 32 random bytes as unpadded URL-safe base64: a secret suitable for HMAC keys.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    fill_random(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A random password of `length` characters drawn from letters and digits, without the
/// look-alikes `0 O 1 l I`, so it can be read off a terminal and typed.
pub fn random_password(length: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut password = String::with_capacity(length);
    let mut byte = [0u8; 1];
    while password.len() < length {
        fill_random(&mut byte);
        // Rejection sampling keeps every character equally likely.
        let limit = (256 / ALPHABET.len() * ALPHABET.len()) as u8;
        if byte[0] < limit {
            password.push(ALPHABET[usize::from(byte[0]) % ALPHABET.len()] as char);
        }
    }
    password
}

/// SHA-256 digest of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_passwords_have_the_requested_length_and_differ() {
        let a = random_password(20);
        let b = random_password(20);
        assert_eq!(a.chars().count(), 20);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }

    #[test]
    fn random_secrets_decode_to_32_bytes() {
        let secret = random_secret();
        assert_eq!(URL_SAFE_NO_PAD.decode(&secret).unwrap().len(), 32);
        assert_ne!(secret, random_secret());
    }
}
