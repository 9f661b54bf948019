//! The name a customer gives themselves on WhatsApp, apart from the contact's name, and whether
//! someone edited the name. The name follows the profile name until someone edits it; after that
//! a new profile name no longer overwrites what the agent wrote. Existing contacts start with the
//! profile name equal to their name, not edited, so they keep following it as before.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000014_contact_profile_name"
    }
}

#[derive(DeriveIden)]
enum Contacts {
    Table,
    ProfileName,
    NameEdited,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Contacts::Table)
                .add_column(ColumnDef::new(Contacts::ProfileName).string().null())
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Contacts::Table)
                .add_column(ColumnDef::new(Contacts::NameEdited).boolean().not_null().default(false))
                .to_owned(),
        )
        .await?;
        m.get_connection().execute_unprepared("UPDATE contacts SET profile_name = name").await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Contacts::Table).drop_column(Contacts::NameEdited).to_owned()).await?;
        m.alter_table(Table::alter().table(Contacts::Table).drop_column(Contacts::ProfileName).to_owned()).await
    }
}
