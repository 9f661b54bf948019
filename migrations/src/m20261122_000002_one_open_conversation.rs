//! At most one conversation that is not closed per contact and inbox. Two nodes may both try to
//! open a conversation for a new customer's first messages; this makes the second one fail and
//! find the first instead of opening a duplicate. A partial index, same SQL on SQLite and
//! PostgreSQL.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000002_one_open_conversation"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_conversations_one_open ON conversations (inbox_id, contact_id) WHERE status <> 'CLOSED'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection().execute_unprepared("DROP INDEX ux_conversations_one_open").await?;
        Ok(())
    }
}
