//! The native HTTP API under `/api/v1`. Handlers are thin: parse and authorize, call an actor
//! or a query, map the result. Each module registers its routes with their OpenAPI annotations.

pub mod admission;
pub mod api_channel;
pub mod api_keys;
pub mod auth;
pub mod body;
pub mod bot;
pub mod campaigns;
pub mod compat;
pub mod contacts;
pub mod conversations;
pub mod csat;
pub mod dev;
pub mod failed_messages;
pub mod health;
pub mod inboxes;
pub mod internal;
pub mod invitations;
pub mod mailbox;
pub mod messages;
pub mod metrics;
pub mod multipart;
pub mod pagination;
pub mod profile;
pub mod refs;
pub mod routing_rules;
pub mod tags;
pub mod teams;
pub mod templates;
pub mod users;
pub mod webhook_deliveries;
pub mod webhooks;
pub mod whatsapp_accounts;
pub mod widget;
pub mod ws;

use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

/// The success envelope: `{"data": …}`.
#[derive(Serialize, ToSchema)]
pub struct Data<T: ToSchema> {
    pub data: T,
}

impl<T: ToSchema> Data<T> {
    pub fn new(data: T) -> Data<T> {
        Data { data }
    }
}

/// For optional fields that may be cleared: tells "absent" (`None`) from "null" (`Some(None)`).
/// Use with `#[serde(default, deserialize_with = "nullable")]`.
pub fn nullable<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Registers every `/api/v1` route.
pub fn routes(cfg: &mut ServiceConfig) {
    health::routes(cfg);
    auth::routes(cfg);
    api_keys::routes(cfg);
    whatsapp_accounts::routes(cfg);
    inboxes::routes(cfg);
    // The Chatwoot-style surface, in its own scope with its own error shape.
    compat::chatwoot::routes(cfg);
    webhook_deliveries::routes(cfg);
    api_channel::routes(cfg);
    // Before `conversations`: `/conversations/re-classify` is not a conversation id.
    bot::classify::routes(cfg);
    csat::routes(cfg);
    conversations::routes(cfg);
    // Before `messages`: `/messages/failed/…` must not be taken for `/messages/{id}/…`.
    failed_messages::routes(cfg);
    messages::routes(cfg);
    tags::routes(cfg);
    templates::routes(cfg);
    campaigns::routes(cfg);
    contacts::routes(cfg);
    dev::routes(cfg);
    mailbox::routes(cfg);
    teams::routes(cfg);
    routing_rules::routes(cfg);
    users::routes(cfg);
    invitations::routes(cfg);
    profile::routes(cfg);
    bot::routes(cfg);
    ws::routes(cfg);
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "cx-inbox API",
        description = "Customer-experience inbox: WhatsApp in, AI bot first, human agents live. \
            Success bodies are `{\"data\": …}`; cursor lists add `nextCursor` and `prevCursor`; errors are \
            `{\"error\": {\"code\", \"message\", \"details\"}}`. Authenticate with `Authorization: Bearer <access token | API key>`."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "auth", description = "Registration, login (password or emailed code), tokens"),
        (name = "users", description = "The organization's people: roles, capacity, presence, removal"),
        (name = "invitations", description = "Inviting people by email, and accepting"),
        (name = "profile", description = "The caller's own name, avatar and password"),
        (name = "api-keys", description = "Organization API keys"),
        (name = "whatsapp-accounts", description = "Connected WhatsApp numbers"),
        (name = "inboxes", description = "Inboxes as channels: WhatsApp numbers, live-chat widgets, API channels, and their settings"),
        (name = "campaigns", description = "Campaigns: one template to many recipients, paced to the number's limits; progress, funnel, export, costs"),
        (name = "templates", description = "WhatsApp message templates: drafts, Meta review, sending outside the 24-hour window"),
        (name = "conversations", description = "The shared inbox"),
        (name = "messages", description = "Messages of a conversation"),
        (name = "tags", description = "Tags and tagging conversations"),
        (name = "contacts", description = "Customers"),
        (name = "teams", description = "Teams, members, working hours"),
        (name = "bot", description = "The AI bot: configs, providers, knowledge base, intents, tools, metrics"),
        (name = "routing", description = "Routing rules, business hours, maintenance, idle-agent detection"),
        (name = "dev", description = "Simulated customers (admins, when CX_DEV_ENDPOINTS allows), and the dev mailbox (when no CX_SMTP_URL is set)"),
        (name = "realtime", description = "The agent WebSocket"),
        (name = "webhooks", description = "Inbound webhooks from providers"),
        (name = "compat-chatwoot", description = "The Chatwoot-style account-scoped inbox API: `/api/v1/accounts/{account_id}/inboxes…`, where `account_id` is the caller's organization id (any other is 404). Authenticate with the `api_access_token: <API key | access token>` header (or `Authorization: Bearer`). snake_case fields; ids are strings; success bodies are bare objects (lists `{\"payload\": [...]}`); errors are `{\"error\": \"sentence\"}` (a field at fault named first: `name: …`) with the native statuses"),
        (name = "api-channel", description = "The API channel: a business's system posts its customers' messages with the inbox's token (`Authorization: Bearer cxi_…`), and receives our messages and conversation changes as signed webhooks: `POST <webhookUrl>` with `X-CX-Event`, `X-CX-Delivery`, `X-CX-Timestamp` (unix seconds) and `X-CX-Signature: v1=<hex HMAC-SHA256(webhook secret, \"{timestamp}.{raw body}\")>`. Verify over the raw body in constant time and refuse a timestamp more than 5 minutes from your clock (replay window). Body: `{id, event, inboxId, conversationId, seq, createdAt, data}`; deliveries go in order per conversation, are retried for a day (10 s, 30 s, 1 min, 5 min, 15 min, 30 min, then hourly) and logged under `/api/v1/inboxes/{id}/webhook-deliveries`"),
        (name = "widget", description = "The live-chat widget: its loader and page, a visitor's session, messages, files, typing and WebSocket (see docs/widget-protocol.md)"),
        (name = "compat-cekat", description = "The classic Messages API of Cekat-style clients: `POST /messages/whatsapp`, `GET /messages`, `GET /messages/{id}`, `POST /v1/backoffice/conversations-delete`. snake_case fields; success `{\"success\": true, \"data\": …}`; errors `{\"success\": false, \"error\": {\"code\", \"message\", \"details\"}}` with the native codes and statuses"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "inboxToken",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API inbox's token (`cxi_…`), shown once when the inbox is created"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("JWT access token or API key"))
                    .build(),
            ),
        );
        // The Chatwoot-style surface's header; it takes the same tokens.
        components.add_security_scheme(
            "api_access_token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "api_access_token",
                "An API key or access token (the Chatwoot-style API)",
            ))),
        );
    }
}
