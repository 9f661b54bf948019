//! When a user's sessions were last ended (a password change, signing out everywhere): access
//! tokens issued before it stop working at once, not when they expire.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000018_sessions_valid_after"
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    SessionsValidAfter,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .add_column(ColumnDef::new(Users::SessionsValidAfter).timestamp_with_time_zone().null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Users::Table).drop_column(Users::SessionsValidAfter).to_owned()).await
    }
}
