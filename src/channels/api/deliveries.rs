//! The delivery log of an API inbox's webhook (admins): its deliveries newest first, one with
//! every try, a replay that sends one again, and turning the webhook back on after it was turned
//! off for failing. Another organization's inbox or delivery is not found.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use entities::enums::Channel;
use entities::{inbox, webhook_attempt, webhook_delivery};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::Notify;
use utoipa::ToSchema;

use super::dispatcher::PENDING;
use crate::domain::{Error, Result};

/// A delivery as the log shows it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    /// Also the `id` of the body and the `X-CX-Delivery` header.
    pub id: String,
    pub inbox_id: String,
    pub conversation_id: String,
    pub event_id: String,
    /// `message.created`, `message.updated`, `conversation.status_changed`, `conversation.assigned`.
    pub event: String,
    /// The event's place in its conversation.
    pub seq: Option<i64>,
    /// `pending`, `delivered` or `failed` (retries given up after a day).
    pub status: String,
    pub attempts: i32,
    /// When the next try is due (pending only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The receiver's last HTTP status.
    pub last_status_code: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// One try of a delivery.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptView {
    pub attempt: i32,
    pub status_code: Option<i32>,
    /// The first 2 KB of the receiver's answer.
    pub response_excerpt: Option<String>,
    pub error: Option<String>,
    pub duration_ms: i64,
    pub at: DateTime<Utc>,
}

/// A delivery with its body's data and every try.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryDetail {
    #[serde(flatten)]
    pub delivery: DeliveryView,
    /// The event's data, as the body's `data` carries it.
    #[schema(value_type = Object)]
    pub data: Value,
    pub attempts_log: Vec<AttemptView>,
}

/// The webhook's state after it was enabled.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookState {
    pub inbox_id: String,
    pub webhook_url: Option<String>,
    pub enabled: bool,
    /// Deliveries waiting to go out.
    pub pending: u64,
}

impl From<&webhook_delivery::Model> for DeliveryView {
    fn from(d: &webhook_delivery::Model) -> Self {
        DeliveryView {
            id: d.id.clone(),
            inbox_id: d.inbox_id.clone(),
            conversation_id: d.conversation_id.clone(),
            event_id: d.event_id.clone(),
            event: d.event_name.clone(),
            seq: d.seq,
            status: d.status.clone(),
            attempts: d.attempts,
            next_attempt_at: (d.status == PENDING).then_some(d.next_attempt_at),
            last_status_code: d.last_status_code,
            created_at: d.created_at,
            delivered_at: d.delivered_at,
        }
    }
}

/// The organization's API inbox `id` (any other inbox has no webhook).
async fn api_inbox(db: &impl ConnectionTrait, org_id: &str, id: &str) -> Result<inbox::Model> {
    let found = inbox::Entity::find_by_id(id.to_owned())
        .filter(inbox::Column::OrgId.eq(org_id))
        .filter(inbox::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .ok_or(Error::NotFound("inbox"))?;
    if found.channel != Channel::Api {
        return Err(Error::Unprocessable(format!("only API inboxes have a webhook; this one is {}", found.channel)));
    }
    Ok(found)
}

fn parse_status(status: Option<&str>) -> Result<Option<&str>> {
    match status {
        None | Some("") => Ok(None),
        Some(s @ ("pending" | "delivered" | "failed")) => Ok(Some(s)),
        Some(_) => Err(Error::invalid("status", "status is pending, delivered or failed")),
    }
}

/// A page of the inbox's deliveries, newest first, and how many there are.
pub async fn list(
    db: &impl ConnectionTrait,
    org_id: &str,
    inbox_id: &str,
    status: Option<&str>,
    skip: u64,
    size: u64,
) -> Result<(Vec<DeliveryView>, u64)> {
    let status = parse_status(status)?;
    let i = api_inbox(db, org_id, inbox_id).await?;
    let mut q = webhook_delivery::Entity::find().filter(webhook_delivery::Column::InboxId.eq(&i.id));
    if let Some(s) = status {
        q = q.filter(webhook_delivery::Column::Status.eq(s));
    }
    let total = q.clone().count(db).await?;
    let rows = q.order_by_desc(webhook_delivery::Column::OrgSeq).offset(skip).limit(size).all(db).await?;
    Ok((rows.iter().map(DeliveryView::from).collect(), total))
}

async fn delivery(
    db: &impl ConnectionTrait,
    org_id: &str,
    inbox_id: &str,
    id: &str,
) -> Result<webhook_delivery::Model> {
    let i = api_inbox(db, org_id, inbox_id).await?;
    webhook_delivery::Entity::find_by_id(id.to_owned())
        .filter(webhook_delivery::Column::InboxId.eq(&i.id))
        .one(db)
        .await?
        .ok_or(Error::NotFound("delivery"))
}

/// One delivery with its tries, first try first.
pub async fn get(db: &impl ConnectionTrait, org_id: &str, inbox_id: &str, id: &str) -> Result<DeliveryDetail> {
    let d = delivery(db, org_id, inbox_id, id).await?;
    let attempts = webhook_attempt::Entity::find()
        .filter(webhook_attempt::Column::DeliveryId.eq(&d.id))
        .order_by_asc(webhook_attempt::Column::Attempt)
        .all(db)
        .await?;
    let attempts_log = attempts
        .into_iter()
        .map(|a| AttemptView {
            attempt: a.attempt,
            status_code: a.status_code,
            response_excerpt: a.response_excerpt,
            error: a.error,
            duration_ms: a.duration_ms,
            at: a.at,
        })
        .collect();
    let data = serde_json::from_str(&d.payload).unwrap_or(Value::Null);
    Ok(DeliveryDetail { delivery: DeliveryView::from(&d), data, attempts_log })
}

/// Sends a delivery again (delivered, failed or waiting for its next try): it is pending and due
/// now, behind nothing older of its conversation. Its tries go on counting.
pub async fn replay(
    db: &impl ConnectionTrait,
    wake: &Arc<Notify>,
    org_id: &str,
    inbox_id: &str,
    id: &str,
) -> Result<DeliveryView> {
    let d = delivery(db, org_id, inbox_id, id).await?;
    if d.status == PENDING && d.lease_until.is_some_and(|l| l > Utc::now()) {
        return Err(Error::Conflict("the delivery is being sent right now".into()));
    }
    webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Status, Expr::value(PENDING))
        .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(Utc::now()))
        .filter(webhook_delivery::Column::Id.eq(&d.id))
        .exec(db)
        .await?;
    wake.notify_one();
    tracing::info!(%org_id, %inbox_id, delivery_id = %id, "webhook delivery replayed");
    let d = delivery(db, org_id, inbox_id, id).await?;
    Ok(DeliveryView::from(&d))
}

/// Turns the webhook on again after it was turned off for failing: the failure count starts
/// over and the waiting deliveries are due now.
pub async fn enable(
    db: &impl ConnectionTrait,
    wake: &Arc<Notify>,
    org_id: &str,
    inbox_id: &str,
) -> Result<WebhookState> {
    let i = api_inbox(db, org_id, inbox_id).await?;
    inbox::Entity::update_many()
        .col_expr(inbox::Column::WebhookDisabledAt, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(inbox::Column::WebhookFailureStreak, Expr::value(0))
        .filter(inbox::Column::Id.eq(&i.id))
        .exec(db)
        .await?;
    webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(Utc::now()))
        .filter(webhook_delivery::Column::InboxId.eq(&i.id))
        .filter(webhook_delivery::Column::Status.eq(PENDING))
        .exec(db)
        .await?;
    wake.notify_one();
    let pending = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::InboxId.eq(&i.id))
        .filter(webhook_delivery::Column::Status.eq(PENDING))
        .count(db)
        .await?;
    tracing::info!(%org_id, %inbox_id, pending, "webhook enabled");
    Ok(WebhookState { inbox_id: i.id, webhook_url: i.webhook_url, enabled: true, pending })
}
