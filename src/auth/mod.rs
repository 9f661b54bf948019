//! Authentication: passwords (Argon2id), access tokens (short-lived JWT), refresh tokens
//! (rotating, stored hashed), API keys (stored hashed), and the [`Caller`] extractor that
//! turns a `Bearer` header into who is calling.

pub mod api_keys;
pub mod caller;
pub mod invitations;
pub mod jwt;
pub mod login_codes;
pub mod membership;
pub mod password;
pub mod profile;
pub mod sessions;
pub mod throttle;
pub mod tokens;
pub mod users;

pub use caller::Caller;
pub use jwt::JwtKeys;
