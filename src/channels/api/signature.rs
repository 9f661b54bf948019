//! How a webhook proves it is ours: `X-CX-Signature: v1=<hex HMAC-SHA256(secret,
//! "{timestamp}.{raw body}")>` with `X-CX-Timestamp: <unix seconds>`. A receiver recomputes it
//! over the raw body, compares in constant time, and refuses a timestamp more than
//! [`REPLAY_WINDOW_SECS`] away from its clock, so a captured request cannot be replayed later.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// How far a receiver should accept a timestamp from its own clock (documented: 5 minutes).
pub const REPLAY_WINDOW_SECS: i64 = 300;

/// The `X-CX-Signature` value of `body` sent at `timestamp`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!("v1={}", hex::encode(mac(secret, timestamp, body)))
}

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let mut m = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return Vec::new(),
    };
    m.update(timestamp.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m.finalize().into_bytes().to_vec()
}

/// What a receiver does: the header matches the body and the timestamp is within the window
/// of `now` (unix seconds). Compared in constant time.
pub fn verify(secret: &str, header: &str, timestamp: i64, body: &[u8], now: i64) -> bool {
    if (now - timestamp).abs() > REPLAY_WINDOW_SECS {
        return false;
    }
    let Some(given) = header.strip_prefix("v1=").and_then(|h| hex::decode(h).ok()) else {
        return false;
    };
    let expected = mac(secret, timestamp, body);
    !expected.is_empty() && bool::from(given.ct_eq(&expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_of_timestamp_dot_body() {
        // Computed independently: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac secret
        let sig = sign("secret", 1_700_000_000, br#"{"a":1}"#);
        let mut m = Hmac::<Sha256>::new_from_slice(b"secret").unwrap();
        m.update(br#"1700000000.{"a":1}"#);
        assert_eq!(sig, format!("v1={}", hex::encode(m.finalize().into_bytes())));
        assert_eq!(sig.len(), 3 + 64);

        assert!(verify("secret", &sig, 1_700_000_000, br#"{"a":1}"#, 1_700_000_100));
        // Another body, another secret, another timestamp, or outside the window: refused.
        assert!(!verify("secret", &sig, 1_700_000_000, br#"{"a":2}"#, 1_700_000_000));
        assert!(!verify("other", &sig, 1_700_000_000, br#"{"a":1}"#, 1_700_000_000));
        assert!(!verify("secret", &sig, 1_700_000_001, br#"{"a":1}"#, 1_700_000_001));
        assert!(!verify("secret", &sig, 1_700_000_000, br#"{"a":1}"#, 1_700_000_000 + REPLAY_WINDOW_SECS + 1));
        assert!(!verify("secret", "v0=abc", 1_700_000_000, br#"{"a":1}"#, 1_700_000_000));
    }
}
