//! Messages.

use entities::enums::{Direction, MessageStatus};
use entities::message;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Select, Statement,
};

use super::conversations::Page;

/// The message an inbox already holds with this provider id (wamid), if any.
pub async fn by_provider_id(
    db: &impl ConnectionTrait,
    inbox_id: &str,
    provider_message_id: &str,
) -> Result<Option<message::Model>, DbErr> {
    message::Entity::find()
        .filter(message::Column::InboxId.eq(inbox_id))
        .filter(message::Column::ProviderMessageId.eq(provider_message_id))
        .one(db)
        .await
}

/// Inserts `row` as a statement that returns one row, for [`crate::db::Db::write_statements`].
pub fn insert_statement(backend: DbBackend, row: &message::Model) -> Statement {
    let mut statement = message::Entity::insert(message::ActiveModel::from(row.clone()).reset_all()).build(backend);
    statement.sql.push_str(" RETURNING 1");
    statement
}

/// The `outbox_counts` bucket a message counts in (state, error code; migration 000030): an
/// outbound message while pending, failed (with its code) or failed and discarded; `None` for
/// the others.
pub fn outbox_bucket(m: &message::Model) -> Option<(&'static str, String)> {
    if m.direction != Direction::Outbound {
        return None;
    }
    match m.status {
        MessageStatus::Pending => Some(("pending", String::new())),
        MessageStatus::Failed if m.discarded_at.is_none() => Some(("failed", m.error_code.clone().unwrap_or_default())),
        MessageStatus::Failed => Some(("discarded", String::new())),
        _ => None,
    }
}

/// For a write that moves a message from `before`'s outbox bucket to `after`'s (`before`:
/// `None` for a new message), PostgreSQL statements for those buckets' `outbox_counts` rows; `None`
/// when the message counts where it counted. The first creates the rows that are not there yet
/// (run, and committed, before the write: a row only the write's trigger inserted could not be
/// locked first, and two writes inserting it would wait for each other); the second, first among
/// the write's statements, locks them in key order and returns one row, so the write holds them
/// before the conversation's row and the event counter: the order in which the counts trigger (at
/// the end of each message statement) has every other writer take them.
pub fn lock_outbox_statements(before: Option<&message::Model>, after: &message::Model) -> Option<[Statement; 2]> {
    let was = before.and_then(outbox_bucket);
    let is = outbox_bucket(after);
    if was == is {
        return None;
    }
    let mut keys: Vec<(&str, String)> = was.into_iter().chain(is).collect();
    keys.sort();
    let mut values: Vec<sea_orm::Value> = vec![after.org_id.clone().into()];
    let mut tuples = Vec::with_capacity(keys.len());
    let mut rows = Vec::with_capacity(keys.len());
    for (state, code) in keys {
        let (s, c) = (values.len() + 1, values.len() + 2);
        tuples.push(format!("(${s}, ${c})"));
        rows.push(format!("($1, ${s}, ${c}, 0)"));
        values.push(state.into());
        values.push(code.into());
    }
    Some([
        Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "INSERT INTO outbox_counts (org_id, state, error_code, n) VALUES {} ON CONFLICT DO NOTHING",
                rows.join(", ")
            ),
            values.clone(),
        ),
        Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "SELECT count(*) AS n FROM (SELECT 1 FROM outbox_counts WHERE org_id = $1 AND (state, error_code) IN ({}) \
                 ORDER BY state, error_code FOR UPDATE) AS l",
                tuples.join(", ")
            ),
            values,
        ),
    ])
}

/// Writes the columns `changes` sets of message `id`, as a statement that returns one row, for
/// [`crate::db::Db::write_statements`].
pub fn update_statement(backend: DbBackend, id: &str, changes: message::ActiveModel) -> Statement {
    let mut statement =
        message::Entity::update_many().set(changes).filter(message::Column::Id.eq(id.to_owned())).build(backend);
    statement.sql.push_str(" RETURNING 1");
    statement
}

/// Marks a message's send as under way: not due again before `until`.
pub async fn lease(db: &impl ConnectionTrait, id: &str, until: chrono::DateTime<chrono::Utc>) -> Result<(), DbErr> {
    message::Entity::update_many()
        .col_expr(message::Column::NextAttemptAt, sea_orm::sea_query::Expr::value(until))
        .filter(message::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// When an inbox's outbound messages were sent, for those sent after `since`.
pub async fn sent_since(
    db: &impl ConnectionTrait,
    inbox_id: &str,
    since: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<chrono::DateTime<chrono::Utc>>, DbErr> {
    let rows: Vec<Option<chrono::DateTime<chrono::Utc>>> = message::Entity::find()
        .select_only()
        .column(message::Column::SentAt)
        .filter(message::Column::InboxId.eq(inbox_id))
        .filter(message::Column::SentAt.gt(since))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().flatten().collect())
}

/// A page of a conversation's messages in chronological order. Without a key: the latest
/// `limit`; `Before`: the `limit` messages just older than the key; `After`: just newer.
pub async fn page(
    db: &impl ConnectionTrait,
    conversation_id: &str,
    key: Option<(Page, &str)>,
    limit: u64,
) -> Result<Vec<message::Model>, DbErr> {
    let mut rows = page_query(conversation_id, key, limit).all(db).await?;
    if !matches!(key, Some((Page::After, _))) {
        rows.reverse();
    }
    Ok(rows)
}

/// The query [`page`] runs: a range of `ix_messages_conversation` from the key, walked towards
/// older messages (newer ones for `After`), stopping at `limit`.
pub fn page_query(conversation_id: &str, key: Option<(Page, &str)>, limit: u64) -> Select<message::Entity> {
    let q = message::Entity::find().filter(message::Column::ConversationId.eq(conversation_id));
    match key {
        Some((Page::After, k)) => q.filter(message::Column::Id.gt(k)).order_by_asc(message::Column::Id),
        Some((Page::Before, k)) => q.filter(message::Column::Id.lt(k)).order_by_desc(message::Column::Id),
        None => q.order_by_desc(message::Column::Id),
    }
    .limit(limit)
}

pub async fn get(db: &impl ConnectionTrait, id: &str) -> Result<Option<message::Model>, DbErr> {
    message::Entity::find_by_id(id.to_owned()).one(db).await
}

/// The organization's message sent with this idempotency key, if any.
pub async fn by_idempotency_key(
    db: &impl ConnectionTrait,
    org_id: &str,
    key: &str,
) -> Result<Option<message::Model>, DbErr> {
    idempotency_query(org_id, key).one(db).await
}

/// The query of [`by_idempotency_key`]: a key of the partial `ux_messages_org_idempotency_key`.
pub fn idempotency_query(org_id: &str, key: &str) -> Select<message::Entity> {
    message::Entity::find().filter(message::Column::OrgId.eq(org_id)).filter(message::Column::IdempotencyKey.eq(key))
}

/// A conversation's outbound messages still in the outbox, oldest first.
pub async fn pending_outbound(db: &impl ConnectionTrait, conversation_id: &str) -> Result<Vec<message::Model>, DbErr> {
    message::Entity::find()
        .filter(message::Column::ConversationId.eq(conversation_id))
        .filter(message::Column::Status.eq(entities::enums::MessageStatus::Pending.as_str()))
        .filter(message::Column::NextAttemptAt.is_not_null())
        .order_by_asc(message::Column::Id)
        .all(db)
        .await
}

/// Conversations with an outbound message due now: (org id, conversation id), at most `limit`.
pub async fn due_conversations(
    db: &impl ConnectionTrait,
    now: chrono::DateTime<chrono::Utc>,
    limit: u64,
) -> Result<Vec<(String, String)>, DbErr> {
    due_query(now, limit).into_tuple().all(db).await
}

/// The query of [`due_conversations`]: a range of the partial `ix_messages_due_at`.
pub fn due_query(now: chrono::DateTime<chrono::Utc>, limit: u64) -> Select<message::Entity> {
    message::Entity::find()
        .select_only()
        .column(message::Column::OrgId)
        .column(message::Column::ConversationId)
        .filter(message::Column::Status.eq(entities::enums::MessageStatus::Pending.as_str()))
        .filter(message::Column::NextAttemptAt.lte(now))
        .distinct()
        .limit(limit)
}

/// Inbound messages whose media waits to be downloaded, oldest first.
pub async fn media_pending(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<message::Model>, DbErr> {
    media_pending_query(limit).all(db).await
}

/// The query of [`media_pending`]: a key of the partial `ix_messages_media`.
pub fn media_pending_query(limit: u64) -> Select<message::Entity> {
    message::Entity::find()
        .filter(message::Column::MediaStatus.eq("pending"))
        .order_by_asc(message::Column::Id)
        .limit(limit)
}

/// The id of the conversation's newest customer message, if any.
pub async fn latest_inbound_id(db: &impl ConnectionTrait, conversation_id: &str) -> Result<Option<String>, DbErr> {
    message::Entity::find()
        .select_only()
        .column(message::Column::Id)
        .filter(message::Column::ConversationId.eq(conversation_id))
        .filter(message::Column::Direction.eq(entities::enums::Direction::Inbound.as_str()))
        .order_by_desc(message::Column::Id)
        .limit(1)
        .into_tuple()
        .one(db)
        .await
}
