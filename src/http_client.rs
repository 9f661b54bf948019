//! The one way the server starts an HTTP client for calls out (Meta's Graph API, model
//! providers): its timeouts and user agent. Building one can fail (the TLS backend cannot load);
//! that is a startup error, never a client that silently has no timeouts.

use std::time::Duration;

/// A client builder with the server's user agent, `timeout` for the whole call and 5 s to
/// connect; callers add what is theirs (a guarded resolver, no redirects) and `build()`.
pub fn builder(timeout: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(5))
        .user_agent(concat!("cx-inbox/", env!("CARGO_PKG_VERSION")))
}
