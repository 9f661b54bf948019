//! A conversation's events by `seq`: a live-chat visitor resumes its socket with `since=<seq>`
//! of its conversation, which reads `events WHERE conversation_id = ? AND seq > ?`.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000025_events_by_conversation"
    }
}

#[derive(DeriveIden)]
enum Events {
    Table,
    ConversationId,
    Seq,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("ix_events_conversation_seq")
                .table(Events::Table)
                .col(Events::ConversationId)
                .col(Events::Seq)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ix_events_conversation_seq").table(Events::Table).to_owned()).await
    }
}
