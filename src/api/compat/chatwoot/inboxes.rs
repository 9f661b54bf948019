//! The account's inboxes (seed 002): list, read, create, change and delete, under
//! `/api/v1/accounts/{account_id}/inboxes`. Reads are any member's, writes admins'. A web
//! widget or API inbox is created as the native API does; a WhatsApp inbox by connecting its
//! number with Meta's ids and token (`channel.provider_config`).

use actix_web::{HttpResponse, delete, get, patch, post, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::envelope::{ChatwootCaller, ChatwootErrorBody, ChatwootResult};
use super::view::{self, ChatwootChannel, ChatwootInbox, ChatwootInboxBody, ChatwootInboxList};
use crate::channels::whatsapp::accounts::Credentials;
use crate::error::ApiError;
use crate::inboxes::{self, Created};
use crate::state::AppState;

/// Most inboxes the list shows (it has no pages in this API).
const MAX_LISTED: u64 = 1000;

/// `{account_id}`: the caller's organization id (Chatwoot's account).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AccountPath {
    /// The caller's organization id; any other is 404.
    pub account_id: String,
}

/// `{account_id}` and an inbox `{id}`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct InboxPath {
    /// The caller's organization id; any other is 404.
    pub account_id: String,
    /// The inbox id.
    pub id: String,
}

/// The organization's inboxes, oldest first (no secrets in the list).
#[utoipa::path(
    tag = "compat-chatwoot",
    security(("api_access_token" = []), ("bearer" = [])),
    params(AccountPath),
    responses(
        (status = 200, body = ChatwootInboxList),
        (status = 401, body = ChatwootErrorBody),
        (status = 404, description = "`account_id` is not the caller's organization", body = ChatwootErrorBody),
    )
)]
#[get("/inboxes")]
pub async fn list(state: web::Data<AppState>, ChatwootCaller(caller): ChatwootCaller) -> ChatwootResult<HttpResponse> {
    let (rows, _) = inboxes::list(state.db(), &caller.org_id, 0, MAX_LISTED).await?;
    let payload = rows.iter().map(|i| ChatwootInbox::of(i, false)).collect();
    Ok(HttpResponse::Ok().json(ChatwootInboxList { payload }))
}

/// An inbox; admins also see its identity secret (`hmac_token`).
#[utoipa::path(
    tag = "compat-chatwoot",
    security(("api_access_token" = []), ("bearer" = [])),
    params(InboxPath),
    responses(
        (status = 200, body = ChatwootInbox),
        (status = 401, body = ChatwootErrorBody),
        (status = 404, description = "`Inbox not found` (another organization's included), or another account", body = ChatwootErrorBody),
    )
)]
#[get("/inboxes/{id}")]
pub async fn get_one(
    state: web::Data<AppState>,
    ChatwootCaller(caller): ChatwootCaller,
    path: web::Path<InboxPath>,
) -> ChatwootResult<HttpResponse> {
    let inbox = inboxes::get(&state, &caller.org_id, &path.id).await?;
    Ok(HttpResponse::Ok().json(ChatwootInbox::of(&inbox, caller.require_admin().is_ok())))
}

/// What `channel.type` asks for: a native channel, or a WhatsApp number to connect.
enum Kind {
    Native(&'static str),
    Whatsapp,
}

fn kind(channel: Option<&ChatwootChannel>) -> Result<Kind, ApiError> {
    let name = channel.and_then(|c| c.kind.as_deref()).map(|k| k.trim().to_lowercase());
    match name.as_deref() {
        Some("web_widget") => Ok(Kind::Native("livechat")),
        Some("api") => Ok(Kind::Native("api")),
        Some("whatsapp") => Ok(Kind::Whatsapp),
        Some(t @ ("email" | "line" | "telegram" | "sms")) => Err(ApiError::Unprocessable(format!(
            "Channel type {t} is not supported; supported: web_widget, api, whatsapp"
        ))),
        None | Some("") => {
            Err(ApiError::validation("channel.type", "channel.type is required: web_widget, api or whatsapp"))
        }
        Some(_) => Err(ApiError::Unprocessable("Invalid channel type".into())),
    }
}

/// Meta's ids of the number and the token, from `channel.provider_config` (the token may also
/// be `channel.api_key`); a missing one is named.
fn meta_of(c: Option<&ChatwootChannel>) -> Result<[String; 3], ApiError> {
    let c = c.ok_or_else(|| ApiError::validation("channel", "channel is required"))?;
    if let Some(p) = c.provider.as_deref().filter(|p| !["whatsapp_cloud", "default"].contains(p)) {
        return Err(ApiError::Unprocessable(format!(
            "Provider {p} is not supported; supported: whatsapp_cloud (the WhatsApp Cloud API)"
        )));
    }
    let pc = c.provider_config.as_ref();
    let need = |v: Option<&String>, name: &str| {
        v.filter(|s| !s.trim().is_empty()).cloned().ok_or_else(|| {
            ApiError::Unprocessable(format!("A whatsapp channel needs channel.provider_config.{name} (from Meta)"))
        })
    };
    Ok([
        need(pc.and_then(|p| p.business_account_id.as_ref()), "business_account_id")?,
        need(pc.and_then(|p| p.phone_number_id.as_ref()), "phone_number_id")?,
        need(pc.and_then(|p| p.api_key.as_ref()).or(c.api_key.as_ref()), "api_key")?,
    ])
}

async fn create_inbox(state: &AppState, org_id: &str, body: ChatwootInboxBody) -> ChatwootResult<Created> {
    let kind = kind(body.channel.as_ref())?;
    let Some(name) = body.name.clone() else {
        return Err(ApiError::validation("name", "name is required and at most 100 characters").into());
    };
    match kind {
        Kind::Native(channel) => Ok(inboxes::create(state, org_id, Some(channel), view::input(body, None)?).await?),
        Kind::Whatsapp => {
            let [waba_id, phone_number_id, access_token] = meta_of(body.channel.as_ref())?;
            let c = Credentials {
                waba_id: &waba_id,
                phone_number_id: &phone_number_id,
                access_token: &access_token,
                alias: Some(&name),
            };
            Ok(inboxes::whatsapp::connect(state, org_id, c, view::input(body, None)?).await?)
        }
    }
}

/// Create an inbox (admin only): `channel.type` `web_widget` or `api` makes one here;
/// `whatsapp` connects the number given by `channel.provider_config` (`phone_number_id`,
/// `business_account_id`, `api_key`: Meta's ids and access token, checked with Meta). An API
/// inbox's token is in `api_token` of this answer, and never again.
#[utoipa::path(
    tag = "compat-chatwoot",
    security(("api_access_token" = []), ("bearer" = [])),
    params(AccountPath),
    request_body = ChatwootInboxBody,
    responses(
        (status = 200, body = ChatwootInbox),
        (status = 400, description = "A field at fault, named first (`name: …`)", body = ChatwootErrorBody),
        (status = 401, body = ChatwootErrorBody),
        (status = 403, body = ChatwootErrorBody),
        (status = 404, description = "`account_id` is not the caller's organization", body = ChatwootErrorBody),
        (status = 409, description = "The WhatsApp number is already connected", body = ChatwootErrorBody),
        (status = 422, description = "`Invalid channel type`, a channel type this server does not serve (email, line, telegram, sms), a missing WhatsApp credential, or Meta refused the credentials", body = ChatwootErrorBody),
    )
)]
#[post("/inboxes")]
pub async fn create(
    state: web::Data<AppState>,
    ChatwootCaller(caller): ChatwootCaller,
    body: web::Json<ChatwootInboxBody>,
) -> ChatwootResult<HttpResponse> {
    caller.require_admin()?;
    let created = create_inbox(&state, &caller.org_id, body.into_inner()).await?;
    let mut inbox = ChatwootInbox::of(&created.inbox, true);
    inbox.api_token = created.api_token;
    Ok(HttpResponse::Ok().json(inbox))
}

/// Change an inbox (admin only): the fields of a create, `channel.type` aside. Working hours
/// change by weekday (the days not listed keep theirs), the widget's look by field.
#[utoipa::path(
    tag = "compat-chatwoot",
    security(("api_access_token" = []), ("bearer" = [])),
    params(InboxPath),
    request_body = ChatwootInboxBody,
    responses(
        (status = 200, body = ChatwootInbox),
        (status = 400, description = "A field at fault, named first (`greeting_message: …`)", body = ChatwootErrorBody),
        (status = 401, body = ChatwootErrorBody),
        (status = 403, body = ChatwootErrorBody),
        (status = 404, description = "`Inbox not found`, or another account", body = ChatwootErrorBody),
    )
)]
#[patch("/inboxes/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    ChatwootCaller(caller): ChatwootCaller,
    path: web::Path<InboxPath>,
    body: web::Json<ChatwootInboxBody>,
) -> ChatwootResult<HttpResponse> {
    caller.require_admin()?;
    let current = inboxes::get(&state, &caller.org_id, &path.id).await?;
    let input = view::input(body.into_inner(), Some(&current))?;
    let inbox = inboxes::update(&state, &caller.org_id, &path.id, input).await?;
    Ok(HttpResponse::Ok().json(ChatwootInbox::of(&inbox, true)))
}

/// Delete an inbox (admin only) with all its conversations and their messages; this cannot be
/// undone. A WhatsApp inbox's number is disconnected. Answers 200 with an empty body.
#[utoipa::path(
    tag = "compat-chatwoot",
    security(("api_access_token" = []), ("bearer" = [])),
    params(InboxPath),
    responses(
        (status = 200, description = "Deleted, with its conversations"),
        (status = 401, body = ChatwootErrorBody),
        (status = 403, body = ChatwootErrorBody),
        (status = 404, description = "`Inbox not found`, or another account", body = ChatwootErrorBody),
    )
)]
#[delete("/inboxes/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    ChatwootCaller(caller): ChatwootCaller,
    path: web::Path<InboxPath>,
) -> ChatwootResult<HttpResponse> {
    caller.require_admin()?;
    inboxes::delete_with_conversations(&state, &caller.org_id, &path.id).await?;
    Ok(HttpResponse::Ok().finish())
}
