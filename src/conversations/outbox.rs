//! The outbox as admins see it: outbound messages that failed or are still waiting to be sent,
//! their statistics, and retrying or discarding them in bulk. Every change goes through the
//! message's conversation actor.

use std::collections::HashMap;

use actors::conversation::{Discard, Requeue};
use actors::store::literal;
use actors::views::MessageView;
use entities::enums::{Direction, MessageStatus};
use entities::{contact, conversation, message, outbox_count};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Select,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{Error, Result};

/// Most messages one bulk request may name.
pub const MAX_BULK: usize = 500;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FailedMessage {
    #[serde(flatten)]
    pub message: MessageView,
    /// The customer it was meant for.
    pub contact_wa_id: Option<String>,
    pub contact_name: Option<String>,
    pub discarded_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Which outbound messages a list shows.
pub struct Filter {
    pub status: MessageStatus,
    /// Only discarded ones (else only those not discarded).
    pub discarded: bool,
    pub template_name: Option<String>,
    /// Text, error message or error code contains this.
    pub search: Option<String>,
}

fn outbound_of(org_id: &str) -> Select<message::Entity> {
    message::Entity::find()
        .filter(message::Column::OrgId.eq(org_id))
        .filter(message::Column::Direction.eq(Direction::Outbound.as_str()))
}

/// The organization's outbound messages in `status`, the status written into the SQL so the
/// partial indexes of failed and pending messages serve the query.
fn outbound_in(org_id: &str, status: MessageStatus) -> Select<message::Entity> {
    outbound_of(org_id).filter(literal::is((message::Entity, message::Column::Status), status.as_str()))
}

/// The messages [`list`] shows, unordered (its total counts these).
pub fn filtered(org_id: &str, f: &Filter) -> Select<message::Entity> {
    let mut query = outbound_in(org_id, f.status);
    query = if f.discarded {
        query.filter(message::Column::DiscardedAt.is_not_null())
    } else {
        query.filter(message::Column::DiscardedAt.is_null())
    };
    if let Some(name) = f.template_name.as_deref().filter(|n| !n.is_empty()) {
        query = query.filter(message::Column::MessageType.eq("template")).filter(actors::store::text::contains(
            (message::Entity, message::Column::Content),
            &format!("\"name\":\"{name}\""),
        ));
    }
    if let Some(s) = f.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        query = query.filter(
            Condition::any()
                .add(actors::store::text::contains((message::Entity, message::Column::Text), s))
                .add(actors::store::text::contains((message::Entity, message::Column::ErrorMessage), s))
                .add(message::Column::ErrorCode.eq(s)),
        );
    }
    query
}

/// The page [`list`] reads, newest first.
pub fn page(filtered: Select<message::Entity>, skip: u64, size: u64) -> Select<message::Entity> {
    filtered.order_by_desc(message::Column::Id).offset(skip).limit(size)
}

/// A page of the filtered messages, newest first, with the customers they were meant for, and
/// the total.
pub async fn list(
    db: &DatabaseConnection,
    org_id: &str,
    f: Filter,
    skip: u64,
    size: u64,
) -> Result<(Vec<FailedMessage>, u64)> {
    let query = filtered(org_id, &f);
    let total = query.clone().count(db).await?;
    let rows = page(query, skip, size).all(db).await?;

    // The customers, in two queries for the whole page.
    let conv_ids: Vec<String> = rows.iter().map(|m| m.conversation_id.clone()).collect();
    let convs: HashMap<String, String> = conversation::Entity::find()
        .filter(conversation::Column::Id.is_in(conv_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.contact_id))
        .collect();
    let contacts: HashMap<String, contact::Model> = contact::Entity::find()
        .filter(contact::Column::Id.is_in(convs.values().cloned().collect::<Vec<_>>()))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let data = rows
        .iter()
        .map(|m| {
            let c = convs.get(&m.conversation_id).and_then(|cid| contacts.get(cid));
            FailedMessage {
                message: MessageView::from(m),
                contact_wa_id: c.map(|c| c.wa_id.clone()),
                contact_name: c.and_then(|c| c.name.clone()),
                discarded_at: m.discarded_at,
            }
        })
        .collect();
    Ok((data, total))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FailedStats {
    /// Failed and not discarded: waiting for an admin's decision.
    pub failed: u64,
    /// In the outbox, being sent or retried.
    pub pending: u64,
    pub discarded: u64,
    /// Failed, not discarded, by provider error code, most frequent first.
    pub by_error_code: Vec<ErrorCount>,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorCount {
    pub code: Option<String>,
    pub count: i64,
}

/// Failed message statistics, from the organization's outbox counters (`outbox_counts`, kept by
/// the database with every message write): the same cost however many messages were ever sent.
pub async fn stats(db: &DatabaseConnection, org_id: &str) -> Result<FailedStats> {
    let rows = outbox_count::Entity::find().filter(outbox_count::Column::OrgId.eq(org_id)).all(db).await?;
    Ok(stats_of(&rows))
}

/// The statistics the counters `rows` hold (those at zero or below count nothing).
pub fn stats_of(rows: &[outbox_count::Model]) -> FailedStats {
    let mut out = FailedStats { failed: 0, pending: 0, discarded: 0, by_error_code: Vec::new() };
    for r in rows.iter().filter(|r| r.n > 0) {
        let n = r.n.unsigned_abs();
        match r.state.as_str() {
            "failed" => {
                out.failed += n;
                let code = Some(r.error_code.clone()).filter(|c| !c.is_empty());
                out.by_error_code.push(ErrorCount { code, count: r.n });
            }
            "pending" => out.pending += n,
            "discarded" => out.discarded += n,
            _ => {}
        }
    }
    out.by_error_code.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.code.cmp(&b.code)));
    out
}

/// What a bulk retry or discard takes.
pub enum Selection {
    /// These messages (each must be the organization's).
    Ids(Vec<String>),
    /// Every failed message not yet discarded, oldest first, at most [`MAX_BULK`].
    AllFailed,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FailedBulkResult {
    /// Messages the action was applied to.
    pub succeeded: Vec<String>,
    /// Messages it could not be applied to, with why.
    pub failed: Vec<FailedBulkFailure>,
}

#[derive(Serialize, ToSchema)]
pub struct FailedBulkFailure {
    pub id: String,
    pub reason: String,
}

/// Retries (`requeue`) or discards the selected failed messages, each through its
/// conversation's actor; reports each one.
pub async fn bulk(rt: &actors::Runtime, org_id: &str, selection: Selection, requeue: bool) -> Result<FailedBulkResult> {
    let db = &rt.db.conn;
    // The messages, in one query; each change then goes through its conversation's actor.
    let (ids, mut found): (Vec<String>, HashMap<String, message::Model>) = match selection {
        Selection::Ids(ids) => {
            let rows = message::Entity::find()
                .filter(message::Column::OrgId.eq(org_id.to_owned()))
                .filter(message::Column::Id.is_in(ids.clone()))
                .all(db)
                .await?;
            // An id that names no message of the organization is a fault of the request: nothing
            // is done (a message that is not failed is reported on its own below).
            if let Some(unknown) = ids.iter().find(|id| !rows.iter().any(|m| &m.id == *id)) {
                return Err(Error::invalid(
                    "messageIds",
                    format!("messageIds holds {unknown}, which names no message of this organization"),
                ));
            }
            (ids, rows.into_iter().map(|m| (m.id.clone(), m)).collect())
        }
        Selection::AllFailed => {
            let rows = outbound_in(org_id, MessageStatus::Failed)
                .filter(message::Column::DiscardedAt.is_null())
                .order_by_asc(message::Column::Id)
                .limit(MAX_BULK as u64)
                .all(db)
                .await?;
            (rows.iter().map(|m| m.id.clone()).collect(), rows.into_iter().map(|m| (m.id.clone(), m)).collect())
        }
    };
    let mut result = FailedBulkResult { succeeded: Vec::new(), failed: Vec::new() };
    for id in ids {
        let outcome = match found.remove(&id) {
            None => Err(Error::NotFound("message")),
            Some(m) => {
                let (org, conv) = (org_id.to_owned(), m.conversation_id.clone());
                let r = if requeue {
                    rt.ask_conversation(&org, &conv, Requeue { org_id: org.clone(), message_id: m.id }).await
                } else {
                    rt.ask_conversation(&org, &conv, Discard { org_id: org.clone(), message_id: m.id }).await
                };
                r.map_err(Error::from)
            }
        };
        match outcome {
            Ok(_) => result.succeeded.push(id),
            Err(e) => result.failed.push(FailedBulkFailure { id, reason: e.to_string() }),
        }
    }
    Ok(result)
}
