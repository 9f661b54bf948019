//! The SSRF guard of webhook URLs: an organization admin sets the URL, so the server must not be
//! made to call its own network. Only `https`, and no loopback, private, link-local (the cloud
//! metadata address 169.254.169.254 among them), unique-local or multicast address (the same
//! list as the bot's tools, [`crate::bot::tools::is_private`]). Checked when the URL is saved,
//! and again at every connection on the address then resolved, which the client is pinned to
//! (a name cannot resolve to a public address for the check and a private one for the call).
//! `CX_WEBHOOK_ALLOW_PRIVATE` lifts both rules, for tests and closed networks.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::bot::tools::is_private;

/// How long the check at save time waits for DNS; a name that does not resolve then is taken
/// (the receiver may not be up yet) and checked again at every connection.
const SAVE_LOOKUP: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refused {
    #[error("webhookUrl must be an absolute https URL")]
    NotHttps,
    #[error(
        "{host} is {ip}, a loopback, private, link-local or multicast address; webhooks go to public addresses only"
    )]
    Private { host: String, ip: IpAddr },
    #[error("{0} could not be resolved")]
    Unresolved(String),
}

fn host_of(url: &reqwest::Url) -> Result<String, Refused> {
    let host = url.host_str().ok_or(Refused::NotHttps)?;
    Ok(host.trim_start_matches('[').trim_end_matches(']').to_lowercase())
}

fn scheme_ok(url: &reqwest::Url, allow_private: bool) -> Result<(), Refused> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if allow_private => Ok(()),
        _ => Err(Refused::NotHttps),
    }
}

fn check_all(host: &str, addrs: &[SocketAddr], allow_private: bool) -> Result<(), Refused> {
    match addrs.iter().find(|a| is_private(a.ip())) {
        Some(bad) if !allow_private => Err(Refused::Private { host: host.to_owned(), ip: bad.ip() }),
        _ => Ok(()),
    }
}

async fn lookup(host: &str, port: u16) -> Result<Vec<SocketAddr>, Refused> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let addrs: Vec<SocketAddr> =
        tokio::net::lookup_host((host, port)).await.map_err(|_| Refused::Unresolved(host.to_owned()))?.collect();
    if addrs.is_empty() {
        return Err(Refused::Unresolved(host.to_owned()));
    }
    Ok(addrs)
}

/// The check when an admin saves the URL: the scheme, an address literal or `localhost`, and
/// what the name resolves to now.
pub async fn check_at_save(url: &str, allow_private: bool) -> Result<(), Refused> {
    let url = reqwest::Url::parse(url).map_err(|_| Refused::NotHttps)?;
    scheme_ok(&url, allow_private)?;
    let host = host_of(&url)?;
    if !allow_private && (host == "localhost" || host.ends_with(".localhost")) {
        return Err(Refused::Private { host, ip: IpAddr::from([127, 0, 0, 1]) });
    }
    let port = url.port_or_known_default().unwrap_or(443);
    match tokio::time::timeout(SAVE_LOOKUP, lookup(&host, port)).await {
        Ok(Ok(addrs)) => check_all(&host, &addrs, allow_private),
        // Not resolvable now: the connection-time check decides.
        Ok(Err(_)) | Err(_) => Ok(()),
    }
}

/// The check at every connection: resolves the host and checks every address; answers the
/// host and the address to pin the client to.
pub async fn resolve(url: &reqwest::Url, allow_private: bool) -> Result<(String, SocketAddr), Refused> {
    scheme_ok(url, allow_private)?;
    let host = host_of(url)?;
    let port = url.port_or_known_default().ok_or(Refused::NotHttps)?;
    let addrs = lookup(&host, port).await?;
    check_all(&host, &addrs, allow_private)?;
    addrs.first().map(|a| (host.clone(), *a)).ok_or(Refused::Unresolved(host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ssrf_guard_refuses_private_loopback_link_local_and_metadata() {
        for url in [
            "https://127.0.0.1/hook",
            "https://10.1.2.3/hook",
            "https://172.16.0.1/hook",
            "https://192.168.1.1/hook",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/hook",
            "https://[fd00::1]/hook",
            "https://[fe80::1]/hook",
            "https://[ff02::1]/hook",
            "https://224.0.0.1/hook",
            "https://[::ffff:127.0.0.1]/hook",
            "https://localhost/hook",
            "https://api.localhost/hook",
        ] {
            assert!(
                matches!(check_at_save(url, false).await, Err(Refused::Private { .. })),
                "{url} should be refused at save"
            );
            if !url.contains("localhost") {
                let parsed = reqwest::Url::parse(url).unwrap();
                assert!(matches!(resolve(&parsed, false).await, Err(Refused::Private { .. })), "{url} at connect");
            }
        }
        // Only https, unless private targets are allowed (tests).
        assert_eq!(check_at_save("http://93.184.216.34/hook", false).await, Err(Refused::NotHttps));
        assert_eq!(check_at_save("ftp://93.184.216.34/hook", true).await, Err(Refused::NotHttps));
        // A public address passes, and connects to exactly that address.
        assert_eq!(check_at_save("https://93.184.216.34/hook", false).await, Ok(()));
        let public = reqwest::Url::parse("https://93.184.216.34:8443/hook").unwrap();
        let (host, addr) = resolve(&public, false).await.unwrap();
        assert_eq!((host.as_str(), addr.to_string().as_str()), ("93.184.216.34", "93.184.216.34:8443"));
        // The operator's switch lets a local receiver through, resolved and pinned.
        let local = reqwest::Url::parse("http://localhost:9/hook").unwrap();
        let (_, addr) = resolve(&local, true).await.unwrap();
        assert!(addr.ip().is_loopback());
        assert!(matches!(resolve(&local, false).await, Err(Refused::NotHttps)));
    }
}
