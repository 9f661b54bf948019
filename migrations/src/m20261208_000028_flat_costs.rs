//! Indexes that keep the queries users hit often flat as the data grows (issue 17, §3 of its
//! plan): the conversation list walks an index in its sort order and stops at the page size
//! instead of sorting the organization's conversations; the open views, the auto-assignment
//! capacity and queue, the failed-message statistics and list, and CSAT's "was a survey sent"
//! read only the rows they are about.
//!
//! Most are partial. SQLite uses a partial index only when the query's own WHERE holds the
//! index's condition at prepare time, and a generic PostgreSQL plan cannot prove `status = $1`
//! implies it, so the queries that use them write those conditions as SQL literals (the plan
//! tests in `tests/api/plans.rs` hold them to it). CREATE INDEX only, the same SQL on SQLite and
//! PostgreSQL.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261208_000028_flat_costs"
    }
}

/// (name, definition). `status` values are the stored forms of `ConversationStatus` and
/// `MessageStatus`.
const INDEXES: &[(&str, &str)] = &[
    // The list unfiltered or over closed conversations, newest or oldest activity first.
    ("ix_conversations_org_recent", "conversations (org_id, last_message_at, id)"),
    // The list by creation (id order).
    ("ix_conversations_org_id", "conversations (org_id, id)"),
    // The UI's default view: conversations that are not closed, by activity.
    ("ix_conversations_open_recent", "conversations (org_id, last_message_at, id) WHERE status <> 'CLOSED'"),
    // Mine and unassigned, by activity.
    (
        "ix_conversations_open_assignee",
        "conversations (org_id, assigned_to, last_message_at, id) WHERE status <> 'CLOSED'",
    ),
    // Each agent's open load, counted for auto-assignment. The list's index above holds the same
    // rows, but without statistics SQLite prefers the narrower `ix_conversations_assignee`,
    // which holds every conversation an agent ever had, over a wider partial one.
    ("ix_conversations_open_load", "conversations (org_id, assigned_to) WHERE status <> 'CLOSED'"),
    // The "waiting longest" sort of the open views.
    ("ix_conversations_open_waiting", "conversations (org_id, last_inbound_at, id) WHERE status <> 'CLOSED'"),
    // The auto-assignment queue: open and unassigned, oldest queued first.
    ("ix_conversations_queue", "conversations (org_id, queued_at) WHERE status = 'OPEN' AND assigned_to IS NULL"),
    // Failed messages waiting for an admin: counted by error code.
    ("ix_messages_failed_open", "messages (org_id, error_code) WHERE status = 'failed' AND discarded_at IS NULL"),
    // ... and listed newest first.
    ("ix_messages_failed_open_recent", "messages (org_id, id) WHERE status = 'failed' AND discarded_at IS NULL"),
    // Discarded failures, newest first (this set grows with history).
    ("ix_messages_failed_discarded", "messages (org_id, id) WHERE status = 'failed' AND discarded_at IS NOT NULL"),
    // The outbox: messages still to be sent.
    ("ix_messages_pending", "messages (org_id, id) WHERE status = 'pending'"),
    // The satisfaction surveys a conversation was sent.
    ("ix_messages_surveys", "messages (conversation_id) WHERE message_type = 'csat'"),
];

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for (name, def) in INDEXES {
            db.execute_unprepared(&format!("CREATE INDEX {name} ON {def}")).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for (name, _) in INDEXES.iter().rev() {
            db.execute_unprepared(&format!("DROP INDEX {name}")).await?;
        }
        Ok(())
    }
}
