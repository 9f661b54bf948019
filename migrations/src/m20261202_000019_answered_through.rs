//! The newest customer message a bot reply has answered, while the customer has written more
//! since: the next bot turn answers what came after it, so a message sent while the bot was
//! thinking is never left unanswered.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000019_answered_through"
    }
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    AnsweredThrough,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Conversations::Table)
                .add_column(ColumnDef::new(Conversations::AnsweredThrough).string().null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Conversations::Table).drop_column(Conversations::AnsweredThrough).to_owned())
            .await
    }
}
