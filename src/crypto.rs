//! Secrets at rest (AES-256-GCM), token hashing and random tokens.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

/// Encrypts and decrypts third-party secrets (WhatsApp tokens, LLM keys). Stored form:
/// `v1:` + base64(nonce ‖ ciphertext).
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

#[derive(Debug, thiserror::Error)]
#[error("a stored secret could not be decrypted (was CX_SECRETS_KEY changed?)")]
pub struct DecryptError;

impl SecretBox {
    pub fn new(key: &[u8; 32]) -> SecretBox {
        SecretBox { cipher: Aes256Gcm::new(key.into()) }
    }

    pub fn encrypt(&self, plain: &str) -> String {
        let nonce_bytes: [u8; 12] = rand::random();
        let nonce = Nonce::from(nonce_bytes);
        // Encryption with a valid key and a fresh nonce cannot fail for inputs this size.
        let ct = self.cipher.encrypt(&nonce, plain.as_bytes()).unwrap_or_default();
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&ct);
        format!("v1:{}", B64.encode(out))
    }

    pub fn decrypt(&self, stored: &str) -> Result<String, DecryptError> {
        let b64 = stored.strip_prefix("v1:").ok_or(DecryptError)?;
        let raw = B64.decode(b64).map_err(|_| DecryptError)?;
        if raw.len() < 12 {
            return Err(DecryptError);
        }
        let (nonce, ct) = raw.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| DecryptError)?;
        let plain = self.cipher.decrypt(&Nonce::from(nonce), ct).map_err(|_| DecryptError)?;
        String::from_utf8(plain).map_err(|_| DecryptError)
    }
}

/// SHA-256 hex of a high-entropy token (API keys, refresh tokens): enough for lookups, since
/// such tokens cannot be guessed the way passwords can.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A random URL-safe token with `bytes` bytes of entropy.
pub fn random_token(bytes: usize) -> String {
    let buf: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    URL_SAFE_NO_PAD.encode(buf)
}

/// A password to print once (create-admin, the demo's accounts): 16 characters from an alphabet
/// without look-alikes, about 94 bits.
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    (0..16).map(|_| char::from(ALPHABET[rand::random_range(0..ALPHABET.len())])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_round_trip_and_tampering_is_detected() {
        let sb = SecretBox::new(&[7u8; 32]);
        let stored = sb.encrypt("EAAG-token");
        assert!(!stored.contains("EAAG"));
        assert_eq!(sb.decrypt(&stored).ok().as_deref(), Some("EAAG-token"));
        let mut tampered = stored.clone();
        tampered.push('A');
        assert!(sb.decrypt(&tampered).is_err());
        assert!(SecretBox::new(&[8u8; 32]).decrypt(&stored).is_err());
    }

    #[test]
    fn same_secret_encrypts_differently_each_time() {
        let sb = SecretBox::new(&[1u8; 32]);
        assert_ne!(sb.encrypt("x"), sb.encrypt("x"));
    }
}
