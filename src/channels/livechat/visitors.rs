//! Who a widget visitor is. The website token (public, in the page) names the inbox; a session
//! makes or continues the visitor's contact and gives it a signed visitor token, which every
//! later call carries. A website that signs its users in passes their `identifier` with its
//! HMAC: that identity's contact is resumed from any browser, and an inbox that enforces it
//! refuses visitors without a valid hash.

use chrono::Utc;
use entities::enums::{Channel, ConversationStatus};
use entities::{contact, conversation, inbox};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder,
};
use serde::Serialize;
use utoipa::ToSchema;

use super::token::{self, Claims};
use crate::domain::{Error, Result};
use crate::inboxes::WidgetSettings;
use crate::state::AppState;
use actors::store::contacts::{self, NewContact};

/// A live-chat inbox as the widget's calls need it.
pub struct WidgetInbox {
    pub model: inbox::Model,
    /// The identity secret: signs visitor tokens and checks identifier hashes.
    pub secret: String,
    pub settings: WidgetSettings,
    /// Origins allowed to embed the widget; empty: any.
    pub origins: Vec<String>,
}

/// A visitor whose token checked out.
pub struct Visitor {
    pub inbox: WidgetInbox,
    pub contact: contact::Model,
    /// The visitor's address in the inbox.
    pub source_id: String,
}

impl Visitor {
    pub fn org_id(&self) -> &str {
        &self.inbox.model.org_id
    }
}

fn open(state: &AppState, model: inbox::Model) -> Result<WidgetInbox> {
    let secret = match model.hmac_secret_enc.as_deref() {
        Some(enc) => state.secrets.decrypt(enc).map_err(|e| Error::Internal(format!("inbox {}: {e}", model.id)))?,
        None => return Err(Error::NotFound("widget")),
    };
    let settings = model.widget_settings.as_deref().and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default();
    let origins = model.allowed_origins.as_deref().and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default();
    Ok(WidgetInbox { model, secret, settings, origins })
}

fn usable(q: sea_orm::Select<inbox::Entity>) -> sea_orm::Select<inbox::Entity> {
    q.filter(inbox::Column::Channel.eq(Channel::Livechat))
        .filter(inbox::Column::DeletedAt.is_null())
        .filter(inbox::Column::DisabledAt.is_null())
}

/// The avatar of an agent of a live-chat inbox's organization, for the widget to show beside
/// their answers (a public picture, as on any support site); 404 for anyone else's.
pub async fn agent_avatar(state: &AppState, inbox_id: &str, user_id: &str) -> Result<(Vec<u8>, &'static str)> {
    let inbox = usable(inbox::Entity::find_by_id(inbox_id.to_owned()))
        .one(state.db())
        .await?
        .ok_or(Error::NotFound("widget"))?;
    crate::auth::profile::avatar(state, &inbox.org_id, user_id).await
}

/// The live-chat inbox a website token names (a deleted or disabled one is not found).
pub async fn by_website_token(state: &AppState, website_token: &str) -> Result<WidgetInbox> {
    if website_token.is_empty() || website_token.len() > 100 {
        return Err(Error::NotFound("widget"));
    }
    let model = usable(inbox::Entity::find())
        .filter(inbox::Column::WebsiteToken.eq(website_token))
        .one(state.db())
        .await?
        .ok_or(Error::NotFound("widget"))?;
    open(state, model)
}

impl WidgetInbox {
    /// A request from a page of another site must come from an allowed origin. The widget
    /// itself runs in our iframe, so its calls are same-origin (`host`); no `Origin` (a
    /// same-origin GET, a non-browser client) is not a cross-site request.
    pub fn check_origin(&self, origin: Option<&str>, host: &str) -> Result<()> {
        let Some(origin) = origin.filter(|o| !o.is_empty() && *o != "null") else { return Ok(()) };
        let same = origin.split_once("://").is_some_and(|(_, h)| h.eq_ignore_ascii_case(host));
        if same || self.origins.is_empty() || self.origins.iter().any(|o| o.eq_ignore_ascii_case(origin)) {
            return Ok(());
        }
        Err(Error::Forbidden(format!("origin {origin} may not use this widget")))
    }

    /// The `frame-ancestors` of the widget page.
    pub fn frame_ancestors(&self) -> String {
        if self.origins.is_empty() { "*".to_owned() } else { self.origins.join(" ") }
    }

    /// Whether the inbox is within its working hours now (always, without them).
    pub fn open_now(&self) -> bool {
        if !self.model.working_hours_enabled {
            return true;
        }
        let hours = self
            .model
            .working_hours
            .as_deref()
            .and_then(|t| serde_json::from_str::<actors::policy::schedule::WeeklySchedule>(t).ok());
        hours.is_none_or(|h| actors::policy::schedule::WeeklySchedule { is_enabled: true, ..h }.is_open(Utc::now()))
    }
}

/// What the widget shows before the visitor writes.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WidgetConfig {
    pub inbox_id: String,
    pub name: String,
    pub greeting_enabled: bool,
    pub greeting_message: Option<String>,
    pub avatar_url: Option<String>,
    pub widget_color: Option<String>,
    pub welcome_title: Option<String>,
    pub welcome_tagline: Option<String>,
    /// Within working hours (else the widget offers the offline form).
    pub open_now: bool,
    /// The site must sign its visitors in (identity verification enforced).
    pub identity_required: bool,
    /// Ask for the visitor's email.
    pub email_collect: bool,
}

pub async fn config(state: &AppState, website_token: &str, origin: Option<&str>, host: &str) -> Result<WidgetConfig> {
    let inbox = by_website_token(state, website_token).await?;
    inbox.check_origin(origin, host)?;
    let open_now = inbox.open_now();
    let WidgetInbox { model, settings, .. } = inbox;
    Ok(WidgetConfig {
        inbox_id: model.id,
        name: model.name,
        greeting_enabled: model.greeting_enabled,
        greeting_message: model.greeting_message,
        avatar_url: None,
        widget_color: settings.widget_color,
        welcome_title: settings.welcome_title,
        welcome_tagline: settings.welcome_tagline,
        open_now,
        identity_required: model.hmac_mandatory,
        email_collect: settings.enable_email_collect.unwrap_or(false),
    })
}

/// A session request.
#[derive(Default)]
pub struct SessionInput {
    pub website_token: String,
    pub visitor_token: Option<String>,
    pub identifier: Option<String>,
    pub identifier_hash: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
}

/// A visitor's session: its token, contact and latest conversation in the inbox.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WidgetSession {
    pub visitor_token: String,
    pub contact_id: String,
    pub conversation_id: Option<String>,
}

fn clean(v: Option<String>, field: &str, max: usize) -> Result<Option<String>> {
    let v = v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    if v.as_ref().is_some_and(|s| s.chars().count() > max) {
        return Err(Error::invalid(field, format!("{field} is at most {max} characters")));
    }
    Ok(v)
}

/// Checks an email address's shape.
pub fn email(v: Option<String>, field: &str) -> Result<Option<String>> {
    let v = clean(v, field, 254)?;
    if let Some(e) = &v {
        let ok = e.split_once('@').is_some_and(|(u, d)| !u.is_empty() && d.contains('.') && !d.starts_with('.'));
        if !ok || e.contains(char::is_whitespace) {
            return Err(Error::invalid(field, format!("{field} is not an email address")));
        }
    }
    Ok(v)
}

/// Starts or continues a visitor's session.
pub async fn start(state: &AppState, input: SessionInput, origin: Option<&str>, host: &str) -> Result<WidgetSession> {
    let inbox = by_website_token(state, &input.website_token).await?;
    inbox.check_origin(origin, host)?;
    let name = clean(input.name, "name", 100)?;
    let email = email(input.email, "email")?;
    let identifier = clean(input.identifier, "identifier", 255)?;
    let verified = match (&identifier, input.identifier_hash.as_deref()) {
        (Some(id), Some(hash)) => token::identity_verified(&inbox.secret, id, hash),
        _ => false,
    };
    if inbox.model.hmac_mandatory && !verified {
        return Err(Error::IdentityUnverified(
            "this site verifies its visitors: a valid identifier and identifierHash are required".into(),
        ));
    }
    let db = state.db();
    let org_id = inbox.model.org_id.clone();
    let previous = match input.visitor_token.as_deref().filter(|t| !t.is_empty()) {
        Some(t) => visitor_of(state, t).await.ok().filter(|v| v.inbox.model.id == inbox.model.id),
        None => None,
    };
    let (contact, source_id) = match (verified.then_some(identifier).flatten(), previous) {
        // A verified identity is that identity's contact, in any browser.
        (Some(id), previous) => {
            let contact = match contacts::by_identifier(db, &org_id, &id).await? {
                Some(c) => c,
                None => {
                    contacts::create(
                        db,
                        &org_id,
                        NewContact { name: name.clone(), email: email.clone(), phone: None, identifier: Some(id) },
                    )
                    .await?
                }
            };
            let source_id =
                previous.filter(|p| p.contact.id == contact.id).map(|p| p.source_id).unwrap_or_else(actors::new_id);
            (contact, source_id)
        }
        (None, Some(p)) => (p.contact, p.source_id),
        (None, None) => {
            let contact = contacts::create(
                db,
                &org_id,
                NewContact { name: name.clone(), email: email.clone(), phone: None, identifier: None },
            )
            .await?;
            (contact, actors::new_id())
        }
    };
    contacts::attach(db, &org_id, &contact.id, &inbox.model.id, &source_id).await?;
    let contact = fill_in(db, contact, name, email).await?;
    let claims = Claims { i: inbox.model.id.clone(), c: contact.id.clone(), s: source_id, t: Utc::now().timestamp() };
    let conversation_id = latest_conversation(db, &inbox.model.id, &contact.id).await?.map(|c| c.id);
    Ok(WidgetSession { visitor_token: token::sign(&inbox.secret, &claims), contact_id: contact.id, conversation_id })
}

/// Gives the contact the name and email the visitor typed, where it has none.
async fn fill_in(
    db: &impl ConnectionTrait,
    contact: contact::Model,
    name: Option<String>,
    email: Option<String>,
) -> Result<contact::Model> {
    let name = name.filter(|_| contact.name.is_none());
    let email = email.filter(|e| contact.email.as_deref() != Some(e.as_str()));
    if name.is_none() && email.is_none() {
        return Ok(contact);
    }
    let mut am = contact.into_active_model();
    if let Some(n) = name {
        am.name = Set(Some(n));
    }
    if let Some(e) = email {
        am.email = Set(Some(e));
    }
    am.updated_at = Set(Utc::now());
    Ok(am.update(db).await?)
}

/// The visitor a token names; a forged, foreign or stale token (rotated secret, gone inbox or
/// contact) is refused.
pub async fn visitor_of(state: &AppState, visitor_token: &str) -> Result<Visitor> {
    let refused = || Error::Unauthenticated("the visitor token is not valid; start a new session".into());
    let claims = token::claims(visitor_token).ok_or_else(refused)?;
    let model = usable(inbox::Entity::find_by_id(claims.i.clone())).one(state.db()).await?.ok_or_else(refused)?;
    let inbox = open(state, model)?;
    if !token::verify(&inbox.secret, visitor_token) {
        return Err(refused());
    }
    let contact = contacts::get(state.db(), &inbox.model.org_id, &claims.c).await?.ok_or_else(refused)?;
    Ok(Visitor { inbox, contact, source_id: claims.s })
}

/// The contact's most recent conversation in the inbox (open or not).
pub async fn latest_conversation(
    db: &impl ConnectionTrait,
    inbox_id: &str,
    contact_id: &str,
) -> Result<Option<conversation::Model>> {
    Ok(conversation::Entity::find()
        .filter(conversation::Column::InboxId.eq(inbox_id))
        .filter(conversation::Column::ContactId.eq(contact_id))
        .order_by_desc(conversation::Column::CreatedAt)
        .order_by_desc(conversation::Column::Id)
        .one(db)
        .await?)
}

/// Whether the conversation still takes the visitor's messages as it is (not closed).
pub fn is_open(c: &conversation::Model) -> bool {
    c.status != ConversationStatus::Closed
}
