//! The event outbox: append inside the transaction that made the change, read back for resume
//! and gap repair.

use chrono::Utc;
use entities::{event, organization};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QueryResult, QuerySelect, Select, Statement, Value,
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
    let (statement, pending) = numbered_statement(org_id, Vec::new(), items);
    let rows = db.query_all_raw(statement).await?;
    pending.numbered(org_id, &rows, out)
}

/// Events written by [`numbered_statement`], waiting for the numbers its rows return.
pub(crate) struct Numbering {
    kept: Vec<(Option<String>, Option<i64>, EventName, String)>,
}

impl Numbering {
    /// Pushes the events onto `out` with the `org_seq`s the statement returned.
    pub(crate) fn numbered(self, org_id: &str, rows: &[QueryResult], out: &mut Vec<Event>) -> Result<(), DbErr> {
        if rows.len() != self.kept.len() {
            return Err(DbErr::RecordNotFound(format!("organization {org_id}")));
        }
        let mut last = i64::MIN;
        for row in rows {
            last = std::cmp::max(last, row.try_get::<i64>("", "org_seq")?);
        }
        let n = self.kept.len() as i64;
        for (i, (conversation_id, seq, name, payload)) in self.kept.into_iter().enumerate() {
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
}

/// Most events one statement numbers (8 values a row, far below PostgreSQL's 65,535 bind
/// parameters).
pub(crate) const AT_ONCE_MAX: usize = MAX_ROWS;

/// One PostgreSQL statement that runs `writes` (each a data-modifying statement that returns one
/// row when it applies, `… RETURNING 1`), then takes `items.len()` numbers from the
/// organization's counter and inserts the events with them. It returns one row (`org_seq`) per
/// event.
///
/// The writes run first (the counter's `WHERE` waits for them), so the counter row is locked
/// only from then until the statement commits. Should a write return no row, the events' `org_seq`
/// is NULL and the `NOT NULL` column refuses them: the statement fails as a whole
/// ([`is_unmatched`]), and so it does when a unique index refuses one of the writes' rows. (So
/// it does, too, should the organization be gone: no counter, no numbers.)
/// A write must not update the organization's own row: one statement updates a row once.
pub(crate) fn numbered_statement(org_id: &str, writes: Vec<Statement>, items: Vec<NewEvent>) -> (Statement, Numbering) {
    let n = items.len() as i64;
    let mut values: Vec<Value> = vec![org_id.into(), n.into(), Utc::now().into()];
    let mut with = Vec::with_capacity(writes.len() + 2);
    let mut applied = Vec::with_capacity(writes.len());
    for (i, write) in writes.into_iter().enumerate() {
        with.push(format!("w{i} AS ({})", shift_placeholders(&write.sql, values.len())));
        values.extend(write.values.map(|v| v.0).unwrap_or_default());
        applied.push(format!("(SELECT count(*) FROM w{i}) = 1"));
    }
    // Without writes, a missing organization numbers nothing (no rows: `RecordNotFound`).
    let (guard, org_seq, joined) = if applied.is_empty() {
        ("", "c.event_seq - $2 + v.ord".to_owned(), "JOIN c ON true")
    } else {
        with.push(format!("g AS (SELECT {} AS ok)", applied.join(" AND ")));
        (
            " AND (SELECT ok FROM g) IS NOT NULL",
            "CASE WHEN g.ok THEN c.event_seq - $2 + v.ord END".to_owned(),
            "LEFT JOIN c ON true CROSS JOIN g",
        )
    };
    with.push(format!(
        "c AS (UPDATE organizations SET event_seq = event_seq + $2 WHERE id = $1{guard} RETURNING event_seq)"
    ));
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
        "WITH {} \
         INSERT INTO events (id, org_id, org_seq, conversation_id, seq, name, payload, created_at) \
         SELECT v.id, $1, {org_seq}, v.conversation_id, v.seq, v.name, v.payload, $3 \
         FROM (VALUES {}) AS v(id, ord, conversation_id, seq, name, payload) {joined} \
         RETURNING org_seq",
        with.join(", "),
        rows.join(", ")
    );
    (Statement::from_sql_and_values(DbBackend::Postgres, sql, values), Numbering { kept })
}

/// Whether `e` is [`numbered_statement`]'s refusal of a write that returned no row.
pub(crate) fn is_unmatched(e: &DbErr) -> bool {
    use sea_orm::sqlx::postgres::PgDatabaseError;
    crate::db::database_error(e)
        .and_then(|db| db.try_downcast_ref::<PgDatabaseError>())
        .is_some_and(|pg| pg.code() == "23502" && pg.table() == Some("events") && pg.column() == Some("org_seq"))
}

/// `sql` with each PostgreSQL placeholder `$n` outside quotes renumbered `$(n + by)`.
fn shift_placeholders(sql: &str, by: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(ch) = chars.next() {
        out.push(ch);
        match (quote, ch) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(ch),
            (None, '$') => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                    digits.push(d);
                    chars.next();
                }
                match digits.parse::<usize>() {
                    Ok(k) => out.push_str(&(k + by).to_string()),
                    Err(_) => out.push_str(&digits),
                }
            }
            (None, _) => {}
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_shift_outside_quotes_only() {
        assert_eq!(
            shift_placeholders(r#"UPDATE "t$1" SET a = $1, b = '$2', c = $10 WHERE d = $2 RETURNING 1"#, 3),
            r#"UPDATE "t$1" SET a = $4, b = '$2', c = $13 WHERE d = $5 RETURNING 1"#
        );
        assert_eq!(shift_placeholders("SELECT 'it''s $1', $1", 1), "SELECT 'it''s $1', $2");
        assert_eq!(shift_placeholders("SELECT $ , $x", 5), "SELECT $ , $x");
    }
}
