//! The event outbox: append inside the transaction that made the change, read back for resume
//! and gap repair.

use chrono::Utc;
use entities::{event, organization};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Select, Statement, Value,
};

use crate::events::{Event, EventName};

/// One event to append: its conversation and per-conversation seq, name and JSON data.
pub struct NewEvent {
    pub conversation: Option<(String, i64)>,
    pub name: EventName,
    pub payload: String,
}

/// Takes `items.len()` numbers from the organization's counter (one statement), inserts the
/// events with them in the order given (multi-row), and pushes the committed-to-be events onto
/// `out`. Bumping the counter row locks it until commit, so an organization's events commit in
/// `org_seq` order with no gaps: a cursor never skips an event that commits later.
pub async fn number_and_insert(
    db: &impl ConnectionTrait,
    org_id: &str,
    items: Vec<NewEvent>,
    out: &mut Vec<Event>,
) -> Result<(), DbErr> {
    if items.is_empty() {
        return Ok(());
    }
    if db.get_database_backend() == DbBackend::Postgres && items.len() <= MAX_ROWS {
        return number_and_insert_at_once(db, org_id, items, out).await;
    }
    let n = items.len() as i64;
    let rows = organization::Entity::update_many()
        .col_expr(organization::Column::EventSeq, Expr::col(organization::Column::EventSeq).add(n))
        .filter(organization::Column::Id.eq(org_id))
        .exec_with_returning(db)
        .await?;
    let last =
        rows.first().map(|o| o.event_seq).ok_or_else(|| DbErr::RecordNotFound(format!("organization {org_id}")))?;
    let now = Utc::now();
    let mut models = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let org_seq = last - n + 1 + i as i64;
        let (conversation_id, seq) = item.conversation.unzip();
        out.push(Event::from_parts(
            org_id.to_owned(),
            org_seq,
            conversation_id.clone(),
            seq,
            item.name.as_str().to_owned(),
            &item.payload,
        ));
        models.push(event::ActiveModel {
            id: Set(crate::new_id()),
            org_id: Set(org_id.to_owned()),
            org_seq: Set(org_seq),
            conversation_id: Set(conversation_id),
            seq: Set(seq),
            name: Set(item.name.as_str().to_owned()),
            payload: Set(item.payload),
            created_at: Set(now),
        });
    }
    // 8 columns a row: `MAX_ROWS` rows stay far below both databases' bind-parameter limits.
    let mut models = models.into_iter().peekable();
    while models.peek().is_some() {
        let chunk: Vec<_> = models.by_ref().take(MAX_ROWS).collect();
        event::Entity::insert_many(chunk).exec_without_returning(db).await?;
    }
    Ok(())
}

/// Rows of one multi-row insert.
const MAX_ROWS: usize = 500;

/// [`number_and_insert`] in one statement, on PostgreSQL: the counter bump is a data-modifying
/// `WITH` whose new value numbers the inserted rows. One round trip and one statement less on
/// every write that announces something (SQLite has no such `WITH`).
async fn number_and_insert_at_once(
    db: &impl ConnectionTrait,
    org_id: &str,
    items: Vec<NewEvent>,
    out: &mut Vec<Event>,
) -> Result<(), DbErr> {
    let n = items.len() as i64;
    let now = Utc::now();
    let mut values: Vec<Value> = vec![org_id.into(), n.into(), now.into()];
    let mut rows = Vec::with_capacity(items.len());
    let mut kept = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let (conversation_id, seq) = item.conversation.unzip();
        let first = values.len() + 1;
        rows.push(format!(
            "(${first}, {}, ${}, ${}::bigint, ${}, ${})",
            i + 1,
            first + 1,
            first + 2,
            first + 3,
            first + 4
        ));
        values.push(crate::new_id().into());
        values.push(conversation_id.clone().into());
        values.push(seq.into());
        values.push(item.name.as_str().into());
        values.push(item.payload.clone().into());
        kept.push((conversation_id, seq, item.name, item.payload));
    }
    let sql = format!(
        "WITH c AS (UPDATE organizations SET event_seq = event_seq + $2 WHERE id = $1 RETURNING event_seq) \
         INSERT INTO events (id, org_id, org_seq, conversation_id, seq, name, payload, created_at) \
         SELECT v.id, $1, c.event_seq - $2 + v.ord, v.conversation_id, v.seq, v.name, v.payload, $3 \
         FROM c CROSS JOIN (VALUES {}) AS v(id, ord, conversation_id, seq, name, payload) \
         RETURNING org_seq",
        rows.join(", ")
    );
    let numbered = db.query_all_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values)).await?;
    if numbered.len() != kept.len() {
        return Err(DbErr::RecordNotFound(format!("organization {org_id}")));
    }
    let mut last = i64::MIN;
    for row in &numbered {
        last = std::cmp::max(last, row.try_get::<i64>("", "org_seq")?);
    }
    for (i, (conversation_id, seq, name, payload)) in kept.into_iter().enumerate() {
        let org_seq = last - n + 1 + i as i64;
        out.push(Event::from_parts(
            org_id.to_owned(),
            org_seq,
            conversation_id,
            seq,
            name.as_str().to_owned(),
            &payload,
        ));
    }
    Ok(())
}

/// Events of an organization after `after`, oldest first, at most `limit`.
pub async fn since(db: &impl ConnectionTrait, org_id: &str, after: i64, limit: u64) -> Result<Vec<Event>, DbErr> {
    let rows = since_query(org_id, after, limit).all(db).await?;
    Ok(rows.into_iter().map(Event::from_row).collect())
}

/// The query [`since`] runs: a range of `ux_events_org_seq`.
pub fn since_query(org_id: &str, after: i64, limit: u64) -> Select<event::Entity> {
    event::Entity::find()
        .filter(event::Column::OrgId.eq(org_id))
        .filter(event::Column::OrgSeq.gt(after))
        .order_by_asc(event::Column::OrgSeq)
        .limit(limit)
}

/// The organization's latest committed `org_seq`.
pub async fn head(db: &impl ConnectionTrait, org_id: &str) -> Result<i64, DbErr> {
    Ok(organization::Entity::find_by_id(org_id.to_owned()).one(db).await?.map(|o| o.event_seq).unwrap_or(0))
}

/// A conversation's events after its `seq` `after`, oldest first, at most `limit`
/// (`ix_events_conversation_seq`).
pub async fn of_conversation_since(
    db: &impl ConnectionTrait,
    conversation_id: &str,
    after: i64,
    limit: u64,
) -> Result<Vec<Event>, DbErr> {
    let rows = event::Entity::find()
        .filter(event::Column::ConversationId.eq(conversation_id))
        .filter(event::Column::Seq.gt(after))
        .order_by_asc(event::Column::Seq)
        .limit(limit)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(Event::from_row).collect())
}
