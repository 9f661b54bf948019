//! Access tokens: HS256 JWTs that name the user, organization and role, valid for minutes.

use chrono::Utc;
use entities::enums::Role;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    pub org: String,
    pub role: String,
    pub iat: i64,
    pub exp: i64,
    /// When it was issued, in milliseconds (`iat` is whole seconds): compared with the moment a
    /// user's sessions were ended, so a token from just before a password change is refused
    /// and the one issued just after it is not.
    #[serde(default)]
    pub iat_ms: i64,
}

#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// Lifetime of an access token, in seconds.
    pub ttl: i64,
}

impl JwtKeys {
    pub fn new(secret: &[u8], ttl: i64) -> JwtKeys {
        JwtKeys { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret), ttl }
    }

    pub fn issue(&self, user_id: &str, org_id: &str, role: Role) -> Result<String, jsonwebtoken::errors::Error> {
        let at = Utc::now();
        let now = at.timestamp();
        let claims = Claims {
            sub: user_id.into(),
            org: org_id.into(),
            role: role.as_str().into(),
            iat: now,
            exp: now + self.ttl,
            iat_ms: at.timestamp_millis(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// The claims of a valid, unexpired token.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let mut v = Validation::new(Algorithm::HS256);
        v.leeway = 5;
        decode::<Claims>(token, &self.decoding, &v).ok().map(|d| d.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_verify_and_others_do_not() {
        let keys = JwtKeys::new(b"secret-one", 60);
        let t = keys.issue("u1", "o1", Role::Admin).unwrap_or_default();
        let c = keys.verify(&t);
        assert_eq!(c.as_ref().map(|c| c.sub.as_str()), Some("u1"));
        assert_eq!(c.as_ref().map(|c| c.role.as_str()), Some("ADMIN"));
        assert!(JwtKeys::new(b"secret-two", 60).verify(&t).is_none());
        let expired = JwtKeys::new(b"secret-one", -120).issue("u1", "o1", Role::Admin).unwrap_or_default();
        assert!(keys.verify(&expired).is_none());
    }
}
