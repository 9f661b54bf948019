//! A conversation's bot epoch: bumped every time the conversation leaves the bot (takeover,
//! assignment, an agent's reply). A bot turn remembers the epoch it started in; its reply is
//! sent only if the epoch is unchanged, so a bot never talks over a human who took over while
//! it was thinking.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000009_bot_epoch"
    }
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    BotEpoch,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Conversations::Table)
                .add_column(ColumnDef::new(Conversations::BotEpoch).big_integer().not_null().default(0))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Conversations::Table).drop_column(Conversations::BotEpoch).to_owned()).await
    }
}
