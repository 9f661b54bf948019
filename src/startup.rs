//! Builds the server: configuration -> database and migrations -> runtime -> HTTP app. The
//! builder binds before it returns, so tests bind port 0 and read the port back.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpResponse, HttpServer, web};
use actors::cluster::{Cluster, ClusterConfig};
use actors::db::DbOptions;
use actors::{Db, Runtime, RuntimeConfig};
use entities::enums::Channel;
use migrations::{Migrator, MigratorTrait};
use sha2::{Digest, Sha256};
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_actix_web::scope::scope;
use utoipa_swagger_ui::SwaggerUi;

use crate::api;
use crate::auth::JwtKeys;
use crate::channels::whatsapp::media::MediaFetcher;
use crate::channels::whatsapp::{GraphClient, WhatsAppSender};
use crate::config::Config;
use crate::crypto::SecretBox;
use crate::error;
use crate::media::{LocalDisk, MediaStore};
use crate::state::AppState;

/// Largest JSON body the API accepts, and the largest raw body (a forwarded cluster command);
/// webhooks have their own limit (`CX_WEBHOOK_MAX_BYTES`).
pub const JSON_LIMIT: usize = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("configuration: {0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("mail: {0}")]
    Mail(#[from] crate::mail::MailConfigError),
    #[error("redis: {0}")]
    Redis(String),
    #[error("cannot listen: {0}")]
    Io(#[from] std::io::Error),
    #[error("HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

pub struct Application {
    address: SocketAddr,
    server: Server,
    state: web::Data<AppState>,
}

/// Connects to the configured database and brings its schema up to date.
pub async fn connect_and_migrate(config: &Config) -> Result<Db, StartupError> {
    let url = config.database_url();
    let acquire = Duration::from_millis(config.database_acquire_ms.max(100));
    let mut options = DbOptions::new(config.database_pool, acquire);
    options.sqlite_synchronous_full = config.sqlite_synchronous != "normal";
    options.group = actors::group_commit::Options {
        max_writes: config.commit_max_writes.max(1),
        max_age: Duration::from_micros(config.commit_max_age_us.max(1)),
    };
    if let Some(shards) = config.commit_shards {
        options.shards = shards;
    }
    let db = Db::connect_with(&url, options).await?;
    Migrator::up(&db.conn, None).await?;
    Ok(db)
}

impl Application {
    /// Everything but serving: secrets, database, migrations, runtime, listener.
    pub async fn build(config: Config) -> Result<Application, StartupError> {
        // With a scrape token, counters and histograms are recorded from the start.
        if config.metrics_token.is_some() {
            crate::metrics::install();
        }
        let secrets = config.secrets()?;
        let db = connect_and_migrate(&config).await?;
        let secret_box = SecretBox::new(&secrets.secrets_key);
        let graph = GraphClient::new(
            &config.whatsapp_graph_url,
            &config.whatsapp_graph_version,
            Duration::from_secs(config.whatsapp_timeout),
        )?;
        let media: Arc<dyn MediaStore> = Arc::new(LocalDisk::new(config.data_dir.join("media")));
        let sender = WhatsAppSender {
            db: db.conn.clone(),
            secrets: secret_box.clone(),
            graph: graph.clone(),
            media: media.clone(),
            pacer: Default::default(),
        };
        let rt_config = RuntimeConfig {
            node_id: config.node_id.clone().unwrap_or_else(|| format!("node-{}", &actors::new_id()[24..])),
            actor_idle: Duration::from_secs(config.actor_idle_secs.max(1)),
            outbox_backoff: Duration::from_millis(config.outbox_backoff_ms.max(10)),
            outbox_poll: Duration::from_millis(config.outbox_poll_ms.max(10)),
            outbox_in_flight_lease: chrono::Duration::milliseconds(config.outbox_in_flight_lease_ms.max(100) as i64),
            presence_grace: Duration::from_millis(config.presence_grace_ms.max(10)),
            idle_check: Duration::from_millis(config.idle_check_ms.max(50)),
            bot_debounce: Duration::from_millis(config.bot_debounce_ms),
            db_queue: config.database_queue,
            db_queue_wait: Duration::from_millis(config.database_queue_wait_ms),
            ..RuntimeConfig::default()
        };
        let listener = TcpListener::bind(config.bind)?;
        let address = listener.local_addr()?;
        let mailer = crate::mail::Mailer::new(&config, db.conn.clone())?;
        let public_url = public_url(&config, address);
        let cluster = match &config.redis_url {
            Some(url) => {
                let advertise = config.advertise_url.clone().unwrap_or_else(|| format!("http://{address}"));
                let cfg = ClusterConfig {
                    redis_url: url.clone(),
                    prefix: config.redis_prefix.clone(),
                    lease: Duration::from_millis(config.lease_ms.max(200)),
                    advertise_url: advertise,
                    // Every node shares the JWT secret (tokens verify anywhere); the key that
                    // signs forwarded commands is derived from it.
                    secret: Sha256::new()
                        .chain_update(b"cx-inbox cluster key\0")
                        .chain_update(&secrets.jwt)
                        .finalize()
                        .to_vec(),
                };
                Some(Cluster::new(cfg, rt_config.node_id.clone()).map_err(|e| StartupError::Redis(e.to_string()))?)
            }
            None => None,
        };
        // Live chat's messages are sent once stored (the visitor's socket delivers them); the API
        // channel's once queued (the webhook dispatcher below delivers them).
        let router = crate::channels::ChannelRouter::default()
            .with(Channel::Whatsapp, Arc::new(sender))
            .with(Channel::Livechat, Arc::new(crate::channels::livechat::LivechatSender))
            .with(Channel::Api, Arc::new(crate::channels::api::ApiChannelSender));
        let rt = Runtime::start(db, Arc::new(router), rt_config, cluster);
        let fetcher = Arc::new(MediaFetcher {
            rt: rt.clone(),
            db: rt.db.conn.clone(),
            secrets: secret_box.clone(),
            graph: graph.clone(),
            store: media.clone(),
            poll: Duration::from_millis(config.outbox_poll_ms.max(10)),
        });
        rt.spawn_loop(fetcher.run());
        let webhook_wake = Arc::new(tokio::sync::Notify::new());
        let dispatcher = Arc::new(crate::channels::api::WebhookDispatcher {
            rt: rt.clone(),
            secrets: secret_box.clone(),
            node_id: rt.config.node_id.clone(),
            allow_private: config.webhook_allow_private,
            retry_base: Duration::from_millis(config.webhook_retry_base_ms.max(1)),
            disable_after: config.webhook_disable_after,
            wake: webhook_wake.clone(),
        });
        rt.spawn_loop(dispatcher.run());
        let bot = crate::bot::engine::Engine::new(
            rt.db.clone(),
            rt.admission.clone(),
            secret_box.clone(),
            Duration::from_secs(config.bot_timeout_secs.max(1)),
            config.bot_monthly_turns,
            config.llm_private_hosts.iter().map(|h| h.trim().to_lowercase()).filter(|h| !h.is_empty()).collect(),
            config.knowledge_exhaustive_vectors,
        )?;
        rt.set_bot(Arc::new(bot.clone()));
        let rates = crate::campaigns::pricing::RateCard::load(config.whatsapp_rates_file.as_deref())
            .map_err(std::io::Error::other)?;
        let widget = crate::channels::livechat::Widget::start(&rt, config.widget_visitor_rate, config.widget_ip_rate);
        let state = web::Data::new(AppState {
            rt,
            widget,
            jwt: JwtKeys::new(&secrets.jwt, config.access_token_ttl),
            secrets: secret_box,
            graph,
            media,
            mailer,
            bot,
            public_url,
            config: config.clone(),
            sign_in_throttle: Default::default(),
            rates,
            campaigns: Default::default(),
            webhook_wake,
            wa_accounts: Default::default(),
        });
        crate::campaigns::runner::start(state.clone().into_inner());

        crate::bot::documents::resume(&state).await?;
        let app_state = state.clone();
        let spec = openapi();
        let mut server = HttpServer::new(move || app(app_state.clone(), spec.clone()))
            .tcp_nodelay(config.tcp_nodelay)
            .listen(listener)?
            .shutdown_timeout(30)
            .disable_signals();
        if let Some(w) = config.workers {
            server = server.workers(w.max(1));
        }
        Ok(Application { address, server: server.run(), state })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Serves until the server is stopped through its handle, then stops the actor threads.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let rt = self.state.rt.clone();
        let result = self.server.await;
        rt.shutdown();
        result
    }

    /// Serves until SIGTERM or Ctrl-C, then stops gracefully: no new connections, in-flight
    /// requests finish (each change is committed before its request answers), actors stop.
    pub async fn run_until_signal(self) -> std::io::Result<()> {
        let handle = self.handle();
        actix_web::rt::spawn(async move {
            wait_for_signal().await;
            tracing::info!("shutting down: finishing in-flight requests");
            handle.stop(true).await;
        });
        self.run_until_stopped().await
    }
}

/// `CX_PUBLIC_URL` without its trailing slash, or the address the server listens on (a
/// wildcard bind address is shown as `localhost`).
fn public_url(config: &Config, address: SocketAddr) -> String {
    match config.public_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None if address.ip().is_unspecified() => format!("http://localhost:{}", address.port()),
        None => format!("http://{address}"),
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {},
                    _ = tokio::signal::ctrl_c() => {},
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The OpenAPI document of every route, collected from the handlers' annotations.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes(App::new().into_utoipa_app().openapi(api::ApiDoc::openapi())).split_for_parts().1
}

/// Every annotated route: the native API under `/api/v1`, the webhooks, and the compatible
/// surfaces outside `/api/v1`.
fn routes<T>(app: utoipa_actix_web::UtoipaApp<T>) -> utoipa_actix_web::UtoipaApp<T>
where
    T: actix_web::dev::ServiceFactory<
            actix_web::dev::ServiceRequest,
            Config = (),
            Error = actix_web::Error,
            InitError = (),
        >,
{
    app.service(scope("/api/v1").configure(api::routes))
        .service(api::webhooks::verify)
        .service(api::webhooks::receive)
        .service(api::metrics::scrape)
        .configure(api::compat::routes)
        .configure(api::widget::routes)
}

/// The HTTP application. The docs come first: the `/api/v1` scope answers 404 for any path
/// under it that it does not know, so nothing registered after it can serve such a path.
fn app(
    state: web::Data<AppState>,
    spec: utoipa::openapi::OpenApi,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let app = App::new()
        .app_data(state)
        .app_data(web::JsonConfig::default().limit(JSON_LIMIT).error_handler(error::json_error))
        .app_data(web::QueryConfig::default().error_handler(error::query_error))
        .app_data(web::PathConfig::default().error_handler(error::path_error))
        .app_data(web::PayloadConfig::new(JSON_LIMIT))
        .wrap(actix_web::middleware::from_fn(api::admission::admit))
        .wrap(actix_web::middleware::ErrorHandlers::new().default_handler(error::json_framework_errors))
        .wrap(tracing_actix_web::TracingLogger::<RedactedSpans>::new())
        .route("/api/v1/docs", web::get().to(docs_redirect))
        .service(api::internal::command)
        .service(SwaggerUi::new("/api/v1/docs/{_:.*}").url("/api/v1/openapi.json", spec))
        .default_service(web::to(crate::web_ui::serve));
    routes(app.into_utoipa_app()).into_app()
}

async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header(("Location", "/api/v1/docs/")).finish()
}

/// Request spans that never carry a credential: the default span records the whole path and
/// query, and a 4xx logs it, so a WebSocket `?token=` or an invitation token in a path would
/// land in the logs. Here a route with a `{token}` segment is logged by its pattern, and the
/// `token` and `key` query values are replaced.
pub struct RedactedSpans;

impl tracing_actix_web::RootSpanBuilder for RedactedSpans {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        let route = request.match_pattern().unwrap_or_else(|| "default".into());
        let target = redacted_target(request.path(), request.query_string(), &route);
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %route,
            http.target = %target,
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        tracing_actix_web::DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// The path and query to log for a request on `route`.
fn redacted_target(path: &str, query: &str, route: &str) -> String {
    let path = if route.contains("{token}") { route } else { path };
    if query.is_empty() {
        return path.to_owned();
    }
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if matches!(k, "token" | "key" | "access_token") => format!("{k}=[redacted]"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{path}?{}", query.join("&"))
}

#[cfg(test)]
mod redaction_tests {
    #[test]
    fn tokens_never_reach_the_logged_target() {
        assert_eq!(
            super::redacted_target("/api/v1/ws", "since=ev1.2&token=eyJabc", "/api/v1/ws"),
            "/api/v1/ws?since=ev1.2&token=[redacted]"
        );
        assert_eq!(
            super::redacted_target("/api/v1/invitations/accept/abc123", "", "/api/v1/invitations/accept/{token}"),
            "/api/v1/invitations/accept/{token}"
        );
        assert_eq!(super::redacted_target("/api/v1/users", "page=2", "/api/v1/users"), "/api/v1/users?page=2");
    }
}
