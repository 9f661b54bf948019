//! Conversations: reads for the API and the rows the actors write.

use entities::conversation;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, Iterable, ModelTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Select, Statement,
};

use entities::enums::ConversationStatus;

pub async fn get(db: &impl ConnectionTrait, org_id: &str, id: &str) -> Result<Option<conversation::Model>, DbErr> {
    conversation::Entity::find_by_id(id.to_owned()).filter(conversation::Column::OrgId.eq(org_id)).one(db).await
}

/// The contact's conversation in this inbox that is not closed, if any (the newest).
pub async fn open_for_contact(
    db: &impl ConnectionTrait,
    inbox_id: &str,
    contact_id: &str,
) -> Result<Option<conversation::Model>, DbErr> {
    conversation::Entity::find()
        .filter(conversation::Column::InboxId.eq(inbox_id))
        .filter(conversation::Column::ContactId.eq(contact_id))
        .filter(conversation::Column::Status.ne(ConversationStatus::Closed.as_str()))
        .order_by_desc(conversation::Column::Id)
        .one(db)
        .await
}

/// Writes every column of `c` (the actor computed the whole new row) if the stored row is still
/// at `expected_seq`; `false` when someone else changed it first.
pub async fn save_if_unchanged(
    db: &impl ConnectionTrait,
    c: &conversation::Model,
    expected_seq: i64,
) -> Result<bool, DbErr> {
    let res = conversation::Entity::update_many()
        .set(conversation::ActiveModel::from(c.clone()).reset_all())
        .filter(conversation::Column::Id.eq(c.id.clone()))
        .filter(conversation::Column::EventSeq.eq(expected_seq))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// [`save_if_unchanged`] as a statement that returns one row when it applies, for
/// [`crate::db::Db::write_statements`]. It writes only the columns in which `c` differs from
/// `before`, the row as stored at `expected_seq`: the database then rewrites only the index
/// entries of what changed (SQLite rewrites every index of every column an `UPDATE` sets, and a
/// conversation has twelve).
pub fn save_if_unchanged_statement(
    backend: DbBackend,
    c: &conversation::Model,
    before: &conversation::Model,
    expected_seq: i64,
) -> Statement {
    let mut changes = conversation::ActiveModel::from(before.clone());
    for col in conversation::Column::iter() {
        let value = c.get(col);
        if value != before.get(col) {
            changes.set(col, value);
        }
    }
    let mut statement = conversation::Entity::update_many()
        .set(changes)
        .filter(conversation::Column::Id.eq(c.id.clone()))
        .filter(conversation::Column::EventSeq.eq(expected_seq))
        .build(backend);
    statement.sql.push_str(" RETURNING 1");
    statement
}

/// The `conversation_counts` bucket a conversation counts in (migration 000030): organization,
/// status, assignee (`''` for none), unread or not, awaiting a reply or not.
fn bucket(c: &conversation::Model) -> (String, &'static str, String, i32, i32) {
    (
        c.org_id.clone(),
        c.status.as_str(),
        c.assigned_to.clone().unwrap_or_default(),
        i32::from(c.unread_count > 0),
        i32::from(c.awaiting_reply),
    )
}

/// Whether `c` counts in another `conversation_counts` bucket than `before` did.
pub fn changes_bucket(before: &conversation::Model, c: &conversation::Model) -> bool {
    bucket(before) != bucket(c)
}

/// PostgreSQL statements for a write that moves a conversation from `before`'s bucket to `c`'s:
/// the first creates the buckets' `conversation_counts` rows that are not there yet (run, and
/// committed, before the write: a row only the write's trigger inserted could not be locked
/// first, and two writes inserting it would wait for each other); the second, last among the
/// write's statements (after the conversation's row), locks them in key order and returns one
/// row. The write then holds the rows the counts trigger updates at the end of its statement
/// before it takes its organization's event counter: the order in which every other writer takes
/// them.
pub fn lock_buckets_statements(before: &conversation::Model, c: &conversation::Model) -> [Statement; 2] {
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(10);
    for (org_id, status, assignee, unread, awaiting) in [bucket(before), bucket(c)] {
        values.extend([org_id.into(), status.into(), assignee.into(), unread.into(), awaiting.into()]);
    }
    [
        Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO conversation_counts (org_id, status, assigned_to, unread, awaiting, n) \
             VALUES ($1, $2, $3, $4, $5, 0), ($6, $7, $8, $9, $10, 0) ON CONFLICT DO NOTHING",
            values.clone(),
        ),
        Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT count(*) AS n FROM (SELECT 1 FROM conversation_counts \
             WHERE (org_id, status, assigned_to, unread, awaiting) IN (($1, $2, $3, $4, $5), ($6, $7, $8, $9, $10)) \
             ORDER BY org_id, status, assigned_to, unread, awaiting FOR UPDATE) AS l",
            values,
        ),
    ]
}

/// Which way a cursor page goes along the id order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    /// Items older (smaller id) than the key.
    Before,
    /// Items newer (larger id) than the key.
    After,
}

/// Organizations with conversations waiting unassigned for a human.
pub async fn orgs_with_queue(db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    queue_orgs().into_tuple().all(db).await
}

/// The query of [`orgs_with_queue`]: it reads only the queue's own index
/// (`ix_conversations_queue`), not every conversation.
pub fn queue_orgs() -> Select<conversation::Entity> {
    conversation::Entity::find()
        .select_only()
        .column(conversation::Column::OrgId)
        .distinct()
        .filter(queued())
        .filter(conversation::Column::AssignedTo.is_null())
}

/// `status = 'OPEN'`, the condition of the queue's partial index.
pub fn queued() -> sea_orm::sea_query::Expr {
    super::literal::is((conversation::Entity, conversation::Column::Status), ConversationStatus::Open.as_str())
}

/// Open (not CLOSED) conversations assigned to each of these users; users with none are absent.
pub async fn open_counts(
    db: &impl ConnectionTrait,
    org_id: &str,
    user_ids: &[String],
) -> Result<std::collections::HashMap<String, i64>, DbErr> {
    let rows: Vec<(Option<String>, i64)> = open_counts_query(org_id, user_ids).into_tuple().all(db).await?;
    Ok(rows.into_iter().filter_map(|(u, n)| u.map(|u| (u, n))).collect())
}

/// The query of [`open_counts`]: each agent's open conversations in `ix_conversations_open_assignee`,
/// not every conversation the agent ever had.
pub fn open_counts_query(org_id: &str, user_ids: &[String]) -> Select<conversation::Entity> {
    use sea_orm::sea_query::{Expr, ExprTrait};
    conversation::Entity::find()
        .select_only()
        .column(conversation::Column::AssignedTo)
        .column_as(ExprTrait::count(Expr::col(conversation::Column::Id)), "n")
        .filter(conversation::Column::OrgId.eq(org_id))
        .filter(conversation::Column::AssignedTo.is_in(user_ids.to_vec()))
        .filter(super::literal::is_not(
            (conversation::Entity, conversation::Column::Status),
            ConversationStatus::Closed.as_str(),
        ))
        .group_by(conversation::Column::AssignedTo)
}
