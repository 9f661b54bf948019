//! Conversation fields agents and the bot set: a category, a follow-up mark with its note, and
//! the handoff summary carried back to the bot, and whether the customer is waiting for a reply.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000005_conversation_fields"
    }
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Category,
    FollowUpAt,
    FollowUpNote,
    FollowUpBy,
    HandoffSummary,
    AwaitingReply,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let cols = [
            ColumnDef::new(Conversations::Category).string().null().to_owned(),
            ColumnDef::new(Conversations::FollowUpAt).timestamp_with_time_zone().null().to_owned(),
            ColumnDef::new(Conversations::FollowUpNote).text().null().to_owned(),
            ColumnDef::new(Conversations::FollowUpBy).string().null().to_owned(),
            ColumnDef::new(Conversations::HandoffSummary).text().null().to_owned(),
            ColumnDef::new(Conversations::AwaitingReply).boolean().not_null().default(false).to_owned(),
        ];
        for mut col in cols {
            m.alter_table(Table::alter().table(Conversations::Table).add_column(&mut col).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in [
            Conversations::Category,
            Conversations::FollowUpAt,
            Conversations::FollowUpNote,
            Conversations::FollowUpBy,
            Conversations::HandoffSummary,
            Conversations::AwaitingReply,
        ] {
            m.alter_table(Table::alter().table(Conversations::Table).drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}
