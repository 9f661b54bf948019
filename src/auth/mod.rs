//! Accounts: passwords (Argon2id), access tokens (short-lived JWT), refresh tokens (rotating,
//! stored hashed), API keys (stored hashed), and the [`Caller`] extractor that turns a `Bearer`
//! header into who is calling. The domain of accounts lives here too, for the handlers in
//! `api::{auth, users, invitations, api_keys, profile}` to call: [`sessions`] and [`login_codes`]
//! (signing in and out), [`users`] (accounts, and their management in `users::admin` and
//! `users::bulk`), [`invitations`], [`api_keys`], [`profile`], and [`membership`] (the one way a
//! user joins a team). Apart from the extractor in [`caller`], these answer a
//! [`crate::domain::Error`] and know nothing of HTTP.

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
