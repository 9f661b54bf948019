//! The bot epoch a bot-written message belongs to. A bot reply waiting in the outbox (a rate
//! limit, a 5xx, a restart) is sent only while its epoch is still the conversation's; once a
//! human took the conversation it is withdrawn instead, so a retry never talks over the human.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000012_message_bot_epoch"
    }
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    BotEpoch,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Messages::Table)
                .add_column(ColumnDef::new(Messages::BotEpoch).big_integer().null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Messages::Table).drop_column(Messages::BotEpoch).to_owned()).await
    }
}
