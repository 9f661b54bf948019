//! Simulated customers (made by the dev simulation endpoints) are marked, so cleanup removes
//! them and their conversations and nothing else.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000008_simulated"
    }
}

#[derive(DeriveIden)]
enum Contacts {
    Table,
    Simulated,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Contacts::Table)
                .add_column(ColumnDef::new(Contacts::Simulated).boolean().not_null().default(false))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Contacts::Table).drop_column(Contacts::Simulated).to_owned()).await
    }
}
