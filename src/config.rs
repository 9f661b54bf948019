//! Configuration: command-line flags, each with a `CX_…` environment fallback. Nothing is
//! required; secrets that are not given are generated once and kept in the data directory.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use clap::{Args, Parser, Subcommand};

/// The default log filter.
pub const DEFAULT_LOG: &str = "info,sea_orm_migration=warn,actix_server=warn";

#[derive(Parser, Debug, Clone)]
#[command(name = "cx-inbox", version, about = "Customer-experience inbox: WhatsApp, AI bot, live agents")]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug, Clone)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Run the database migrations and exit.
    Migrate,
    /// Create an organization and its first admin (a real install's first account), then exit.
    CreateAdmin(CreateAdmin),
    /// Run the server with a seeded demo organization (admin, two agents, teams, routing, tags, a
    /// bot on a built-in deterministic model) and simulated customers writing in through signed
    /// WhatsApp webhooks, answered by a simulated WhatsApp Cloud API. Its data lives in
    /// `<data dir>/demo`, which is emptied at every start.
    Demo(DemoArgs),
}

#[derive(Args, Debug, Clone)]
pub struct CreateAdmin {
    /// The admin's email address (their sign-in).
    #[arg(long)]
    pub email: String,
    /// The admin's name.
    #[arg(long, default_value = "Admin")]
    pub name: String,
    /// The organization's name.
    #[arg(long, default_value = "My company")]
    pub company: String,
    /// The password; when not given, one is generated and printed once.
    #[arg(long, env = "CX_ADMIN_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Make the account SUPER_ADMIN: it may act on every organization of this install.
    #[arg(long)]
    pub super_admin: bool,
}

#[derive(Args, Debug, Clone)]
pub struct DemoArgs {
    /// Simulated customers who write in.
    #[arg(long, default_value_t = 6)]
    pub customers: usize,
    /// Seconds between two simulated customer messages.
    #[arg(long, default_value_t = 8)]
    pub every_secs: u64,
}

#[derive(Args, Debug, Clone)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "CX_BIND", default_value = "127.0.0.1:8080", global = true)]
    pub bind: SocketAddr,
    /// Where the SQLite database, generated secrets and media live.
    #[arg(long, env = "CX_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; default: `cx-inbox.db` in the data directory.
    #[arg(long, env = "CX_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Database pool size. One connection less than this is what requests and bot turns may use
    /// at once; the rest wait in the database queue.
    #[arg(long, env = "CX_DATABASE_POOL", default_value_t = 16, global = true)]
    pub database_pool: u32,
    /// Requests that may wait for database capacity at once; past it a request is answered 503
    /// with `Retry-After` at once.
    #[arg(long, env = "CX_DATABASE_QUEUE", default_value_t = 1024, global = true)]
    pub database_queue: usize,
    /// Longest a request waits in the database queue before it is answered 503, in milliseconds.
    #[arg(long, env = "CX_DATABASE_QUEUE_WAIT_MS", default_value_t = 5_000, global = true)]
    pub database_queue_wait_ms: u64,
    /// Longest any work waits for a pool connection, in milliseconds (past the queue it should
    /// never come to that; if it does, the request is answered 503, a bot turn is retried).
    #[arg(long, env = "CX_DATABASE_ACQUIRE_MS", default_value_t = 10_000, global = true)]
    pub database_acquire_ms: u64,
    /// SQLite: `full` fsyncs the log at every commit, so an acknowledged message survives a power
    /// loss; `normal` fsyncs only at checkpoints (faster, may lose the last commits). With group
    /// commit a commit is one fsync per group of writes.
    #[arg(long, env = "CX_SQLITE_SYNCHRONOUS", default_value = "full", value_parser = ["full", "normal"], global = true)]
    pub sqlite_synchronous: String,
    /// Writes committed together at most (group commit).
    #[arg(long, env = "CX_COMMIT_MAX_WRITES", default_value_t = 256, global = true)]
    pub commit_max_writes: usize,
    /// A group of writes this old (in microseconds) commits at the next write's end, even if
    /// more writes are queued.
    #[arg(long, env = "CX_COMMIT_MAX_AGE_US", default_value_t = 10_000, global = true)]
    pub commit_max_age_us: u64,
    /// PostgreSQL: group-commit streams; each organization's event-writing transactions join
    /// one of them. Default 0: no grouping, each write commits on its own (measured faster on
    /// PostgreSQL, whose grouped writes take turns on one connection).
    #[arg(long, env = "CX_COMMIT_SHARDS", global = true)]
    pub commit_shards: Option<usize>,
    /// Secret that signs access tokens; generated into the data directory when unset.
    #[arg(long, env = "CX_JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<String>,
    /// Base64 of 32 bytes: the AES-256-GCM key for third-party secrets at rest; generated into
    /// the data directory when unset.
    #[arg(long, env = "CX_SECRETS_KEY", hide_env_values = true, global = true)]
    pub secrets_key: Option<String>,
    /// Access token lifetime, in seconds.
    #[arg(long, env = "CX_ACCESS_TOKEN_TTL", default_value_t = 900, global = true)]
    pub access_token_ttl: i64,
    /// Refresh token lifetime, in days.
    #[arg(long, env = "CX_REFRESH_TOKEN_DAYS", default_value_t = 30, global = true)]
    pub refresh_token_days: i64,
    /// Base URL of Meta's Graph API (tests point it at a fake).
    #[arg(long, env = "CX_WHATSAPP_GRAPH_URL", default_value = "https://graph.facebook.com", global = true)]
    pub whatsapp_graph_url: String,
    /// Graph API version used in request paths.
    #[arg(long, env = "CX_WHATSAPP_GRAPH_VERSION", default_value = "v21.0", global = true)]
    pub whatsapp_graph_version: String,
    /// The Meta app secret that signs webhooks (`X-Hub-Signature-256`). Without it every
    /// webhook POST is refused.
    #[arg(long, env = "CX_WHATSAPP_APP_SECRET", hide_env_values = true, global = true)]
    pub whatsapp_app_secret: Option<String>,
    /// A JSON rate card of Meta's per-message prices, replacing the one shipped (see
    /// `src/campaigns/rates.json` for its shape and date).
    #[arg(long, env = "CX_WHATSAPP_RATES_FILE", global = true)]
    pub whatsapp_rates_file: Option<PathBuf>,
    /// The token Meta echoes in the webhook verify handshake. Without it the handshake is refused.
    #[arg(long, env = "CX_WHATSAPP_VERIFY_TOKEN", hide_env_values = true, global = true)]
    pub whatsapp_verify_token: Option<String>,
    /// Largest webhook body accepted, in bytes (Meta's payloads stay within 3 MB); a larger one
    /// is answered 413 before it is read.
    #[arg(long, env = "CX_WEBHOOK_MAX_BYTES", default_value_t = 3 << 20, global = true)]
    pub webhook_max_bytes: usize,
    /// Timeout of one Graph API call, in seconds.
    #[arg(long, env = "CX_WHATSAPP_TIMEOUT", default_value_t = 15, global = true)]
    pub whatsapp_timeout: u64,
    /// This node's id in a cluster; default: a random one per process.
    #[arg(long, env = "CX_NODE_ID", global = true)]
    pub node_id: Option<String>,
    /// Redis URL; setting it makes this node part of a cluster (shared database required).
    #[arg(long, env = "CX_REDIS_URL", hide_env_values = true, global = true)]
    pub redis_url: Option<String>,
    /// Prefix of every Redis key and channel, so clusters can share a Redis.
    #[arg(long, env = "CX_REDIS_PREFIX", default_value = "cx", global = true)]
    pub redis_prefix: String,
    /// How long a node's claim on a conversation lasts without renewal, in milliseconds: the time
    /// another node waits before taking over the conversations of a node that died.
    #[arg(long, env = "CX_LEASE_MS", default_value_t = 5000, global = true)]
    pub lease_ms: u64,
    /// URL where the other nodes reach this one; default `http://<CX_BIND>`.
    #[arg(long, env = "CX_ADVERTISE_URL", global = true)]
    pub advertise_url: Option<String>,
    /// Wait before the first retry of a send that failed transiently, in milliseconds; doubles
    /// per attempt up to 5 minutes.
    #[arg(long, env = "CX_OUTBOX_BACKOFF_MS", default_value_t = 1000, global = true)]
    pub outbox_backoff_ms: u64,
    /// How long a message whose send call was under way when its node died waits, in
    /// milliseconds, for the provider's status webhook to say it arrived before it is sent
    /// again.
    #[arg(long, env = "CX_OUTBOX_IN_FLIGHT_LEASE_MS", default_value_t = 60_000, global = true)]
    pub outbox_in_flight_lease_ms: u64,
    /// How often the outbox is checked for due messages, and the media queue for files to
    /// download, in milliseconds.
    #[arg(long, env = "CX_OUTBOX_POLL_MS", default_value_t = 1000, global = true)]
    pub outbox_poll_ms: u64,
    /// An agent with no live socket for this long becomes OFFLINE, in milliseconds.
    #[arg(long, env = "CX_PRESENCE_GRACE_MS", default_value_t = 60_000, global = true)]
    pub presence_grace_ms: u64,
    /// How often the idle-agent detector runs (and the queue is checked for missed
    /// assignments), in milliseconds.
    #[arg(long, env = "CX_IDLE_CHECK_MS", default_value_t = 60_000, global = true)]
    pub idle_check_ms: u64,
    /// Customer messages within this many milliseconds of each other get one bot turn.
    #[arg(long, env = "CX_BOT_DEBOUNCE_MS", default_value_t = 1_500, global = true)]
    pub bot_debounce_ms: u64,
    /// How long one call to an LLM provider may take, in seconds (retries come on top).
    #[arg(long, env = "CX_BOT_TIMEOUT_SECS", default_value_t = 60, global = true)]
    pub bot_timeout_secs: u64,
    /// LLM provider hosts allowed although they are private or loopback addresses (a LOCAL model
    /// server, say), comma-separated. Others are refused: base URLs are set by organization admins.
    #[arg(long, env = "CX_LLM_PRIVATE_HOSTS", value_delimiter = ',', global = true)]
    pub llm_private_hosts: Vec<String>,
    /// Token a Prometheus scrape of `GET /metrics` sends as `Authorization: Bearer <token>`;
    /// unset, there is no `/metrics`.
    #[arg(long, env = "CX_METRICS_TOKEN", hide_env_values = true, global = true)]
    pub metrics_token: Option<String>,
    /// Live-chat messages one widget visitor may write per 10 seconds.
    #[arg(long, env = "CX_WIDGET_VISITOR_RATE", default_value_t = 10, global = true)]
    pub widget_visitor_rate: u32,
    /// Live-chat messages one IP address may write per 10 seconds into one inbox.
    #[arg(long, env = "CX_WIDGET_IP_RATE", default_value_t = 60, global = true)]
    pub widget_ip_rate: u32,
    /// Bot turns per organization and month unless the organization has its own limit.
    #[arg(long, env = "CX_BOT_MONTHLY_TURNS", default_value_t = 10_000, global = true)]
    pub bot_monthly_turns: i64,
    /// Knowledge retrieval compares the question with every embedded passage of an organization
    /// that has at most this many (so a passage close in meaning is found without a shared word);
    /// above it, only with the passages the full-text index finds.
    #[arg(long, env = "CX_KNOWLEDGE_EXHAUSTIVE_VECTORS", default_value_t = 5_000, global = true)]
    pub knowledge_exhaustive_vectors: usize,
    /// Whether the simulation endpoints (`/api/v1/dev/…`, admins only) are on; default: on with
    /// SQLite, off with PostgreSQL.
    #[arg(long, env = "CX_DEV_ENDPOINTS", global = true)]
    pub dev_endpoints: Option<bool>,
    /// SMTP server for outgoing mail (invitations, login codes), as a lettre URL:
    /// `smtp://host:25` (plain, for local sinks), `smtp://user:pass@host:587?tls=required`
    /// (STARTTLS) or `smtps://user:pass@host` (TLS). Unset: mail is only kept in the dev mailbox.
    #[arg(long, env = "CX_SMTP_URL", hide_env_values = true, global = true)]
    pub smtp_url: Option<String>,
    /// The sender of outgoing mail.
    #[arg(long, env = "CX_MAIL_FROM", default_value = "cx-inbox <no-reply@localhost>", global = true)]
    pub mail_from: String,
    /// Base URL of the web app, for links in emails; default `http://<listening address>`.
    #[arg(long, env = "CX_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// How long an invitation stays valid, in days.
    #[arg(long, env = "CX_INVITATION_DAYS", default_value_t = 7, global = true)]
    pub invitation_days: i64,
    /// API channel webhooks may target `http://` URLs and private, loopback or link-local
    /// addresses. Off in production (organization admins set webhook URLs, so the server must not
    /// be made to call its own network); tests turn it on for their local receiver.
    #[arg(long, env = "CX_WEBHOOK_ALLOW_PRIVATE", default_value_t = false, global = true)]
    pub webhook_allow_private: bool,
    /// The first retry delay of a failed API channel webhook, in milliseconds; the later ones
    /// are multiples of it (10 s, 30 s, 1 min, 5 min, 15 min, 30 min, then hourly until 24 h
    /// at the default 10 000). Tests set it to a few milliseconds so a day of retries takes
    /// seconds.
    #[arg(long, env = "CX_WEBHOOK_RETRY_BASE_MS", default_value_t = 10_000, global = true)]
    pub webhook_retry_base_ms: u64,
    /// Failed webhook tries in a row (any delivery of the inbox) after which the inbox's webhook
    /// is turned off and an `account.alert` is raised; an admin enables it again.
    #[arg(long, env = "CX_WEBHOOK_DISABLE_AFTER", default_value_t = 20, global = true)]
    pub webhook_disable_after: u32,
    /// Seconds an idle conversation actor lives before it is stopped (and later re-spawned).
    #[arg(long, env = "CX_ACTOR_IDLE_SECS", default_value_t = 300, global = true)]
    pub actor_idle_secs: u64,
    /// `TCP_NODELAY` on accepted connections: each socket frame and answer leaves at once
    /// instead of waiting (Nagle) while the previous one is unacknowledged, up to the client's
    /// delayed ACK (40 ms). On by default since the bus relays events per thread (README,
    /// "Fewer round trips"): with 1,000 agent sockets at 200 msg/s the delivery p99 fell from
    /// 62 to 21 ms on SQLite; set `false` to coalesce small writes instead.
    #[arg(long, env = "CX_TCP_NODELAY", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub tcp_nodelay: bool,
    /// HTTP worker threads; default: one per core.
    #[arg(long, env = "CX_WORKERS", global = true)]
    pub workers: Option<usize>,
    /// Log filter (tracing `EnvFilter` syntax). Migrations and the HTTP server's start-up say
    /// what they did at info; by default only their warnings show, so the first lines a new user
    /// sees are the address of the app and the server's own.
    #[arg(long, env = "CX_LOG", default_value = DEFAULT_LOG, global = true)]
    pub log: String,
    /// Log as JSON lines instead of text.
    #[arg(long, env = "CX_LOG_JSON", default_value_t = false, global = true)]
    pub log_json: bool,
}

/// Secrets resolved from the configuration or the data directory.
#[derive(Clone)]
pub struct Secrets {
    pub jwt: Vec<u8>,
    pub secrets_key: [u8; 32],
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("CX_SECRETS_KEY must be base64 of exactly 32 bytes")]
    BadSecretsKey,
    #[error("CX_JWT_SECRET must be at least 32 bytes (it signs every access token)")]
    WeakJwtSecret,
    #[error("with CX_REDIS_URL (cluster mode) set CX_JWT_SECRET and CX_SECRETS_KEY, the same on every node")]
    ClusterSecretsMissing,
}

impl Config {
    /// The configuration with every default, for tests and embedding.
    pub fn defaults() -> Config {
        Cli::parse_from(["cx-inbox"]).config
    }

    /// Whether the simulation endpoints are available.
    pub fn dev_endpoints_on(&self) -> bool {
        self.dev_endpoints.unwrap_or_else(|| self.database_url().starts_with("sqlite:"))
    }

    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}?mode=rwc", self.data_dir.join("cx-inbox.db").display()),
        }
    }

    /// Creates the data directory and reads or generates the secrets.
    pub fn secrets(&self) -> Result<Secrets, ConfigError> {
        std::fs::create_dir_all(&self.data_dir).map_err(|e| ConfigError::Io(self.data_dir.clone(), e))?;
        // Nodes that each generated their own would refuse each other's tokens and commands.
        if self.redis_url.is_some() && (self.jwt_secret.is_none() || self.secrets_key.is_none()) {
            return Err(ConfigError::ClusterSecretsMissing);
        }
        let jwt = match &self.jwt_secret {
            Some(s) if s.len() < 32 => return Err(ConfigError::WeakJwtSecret),
            Some(s) => s.as_bytes().to_vec(),
            None => B64
                .decode(kept_secret(&self.data_dir.join("jwt.secret"))?.trim())
                .map_err(|_| ConfigError::BadSecretsKey)?,
        };
        let key_b64 = match &self.secrets_key {
            Some(s) => s.clone(),
            None => kept_secret(&self.data_dir.join("secrets.key"))?,
        };
        let bytes = B64.decode(key_b64.trim()).map_err(|_| ConfigError::BadSecretsKey)?;
        let secrets_key: [u8; 32] = bytes.try_into().map_err(|_| ConfigError::BadSecretsKey)?;
        Ok(Secrets { jwt, secrets_key })
    }
}

/// Reads a base64 secret from `path`, generating 32 random bytes there on first use.
fn kept_secret(path: &Path) -> Result<String, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(s),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let s = B64.encode(rand::random::<[u8; 32]>());
            write_private(path, &s).map_err(|e| ConfigError::Io(path.to_owned(), e))?;
            Ok(s)
        }
        Err(e) => Err(ConfigError::Io(path.to_owned(), e)),
    }
}

fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(content.as_bytes())
}

#[cfg(test)]
mod secret_tests {
    use super::*;

    #[test]
    fn a_short_jwt_secret_and_a_cluster_without_shared_secrets_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Config::defaults();
        c.data_dir = dir.path().to_owned();
        c.jwt_secret = Some("changeme".into());
        assert!(matches!(c.secrets(), Err(ConfigError::WeakJwtSecret)));
        c.jwt_secret = Some("x".repeat(32));
        assert!(c.secrets().is_ok());
        c.redis_url = Some("redis://127.0.0.1:6379".into());
        assert!(matches!(c.secrets(), Err(ConfigError::ClusterSecretsMissing)), "no shared CX_SECRETS_KEY");
        c.secrets_key = Some(B64.encode([1u8; 32]));
        assert!(c.secrets().is_ok());
    }
}

#[cfg(test)]
mod readme_tests {
    use clap::CommandFactory;

    use super::Cli;

    /// The README's configuration table gives each option's default as the code has it (the
    /// table row of an option with a default names it as its first backticked value).
    #[test]
    fn the_readme_gives_every_default_the_code_has() {
        let readme = include_str!("../README.md");
        let cli = Cli::command();
        let mut checked = 0;
        for arg in cli.get_arguments() {
            let (Some(env), Some(default)) = (arg.get_env(), arg.get_default_values().first()) else {
                continue;
            };
            let (env, default) = (env.to_string_lossy(), default.to_string_lossy());
            let row = readme
                .lines()
                .find(|l| l.starts_with(&format!("| `{env}` |")))
                .unwrap_or_else(|| panic!("{env} is not in the README's configuration table"));
            let cell = row.split('|').nth(2).unwrap_or_default().trim();
            assert_eq!(cell, format!("`{default}`"), "README default of {env}");
            checked += 1;
        }
        assert!(checked > 20, "only {checked} options with defaults were found");
    }
}
