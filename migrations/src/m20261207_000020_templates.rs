//! WhatsApp message templates, per organization and business account: drafts kept here, and
//! Meta's copy of each submitted one (its id, review status, quality, category). A name and
//! language are unique per account among templates that are not removed.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000020_templates"
    }
}

#[derive(DeriveIden)]
enum WhatsappTemplates {
    Table,
    Id,
    OrgId,
    AccountId,
    WabaId,
    MetaId,
    Name,
    Language,
    Category,
    ParameterFormat,
    Components,
    Status,
    RejectedReason,
    Quality,
    PreviousCategory,
    HeaderMediaPath,
    HeaderMediaMime,
    CreatedBy,
    SubmittedAt,
    CreatedAt,
    UpdatedAt,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use WhatsappTemplates as T;
        m.create_table(
            Table::create()
                .table(T::Table)
                .col(ColumnDef::new(T::Id).string().not_null().primary_key())
                .col(ColumnDef::new(T::OrgId).string().not_null())
                .col(ColumnDef::new(T::AccountId).string().null())
                .col(ColumnDef::new(T::WabaId).string().null())
                .col(ColumnDef::new(T::MetaId).string().null())
                .col(ColumnDef::new(T::Name).string().not_null())
                .col(ColumnDef::new(T::Language).string().not_null())
                .col(ColumnDef::new(T::Category).string().not_null())
                .col(ColumnDef::new(T::ParameterFormat).string().not_null())
                .col(ColumnDef::new(T::Components).text().not_null())
                .col(ColumnDef::new(T::Status).string().not_null())
                .col(ColumnDef::new(T::RejectedReason).text().null())
                .col(ColumnDef::new(T::Quality).string().null())
                .col(ColumnDef::new(T::PreviousCategory).string().null())
                .col(ColumnDef::new(T::HeaderMediaPath).string().null())
                .col(ColumnDef::new(T::HeaderMediaMime).string().null())
                .col(ColumnDef::new(T::CreatedBy).string().null())
                .col(ColumnDef::new(T::SubmittedAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(T::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(T::UpdatedAt).timestamp_with_time_zone().not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_whatsapp_templates_org_name")
                .table(T::Table)
                .col(T::OrgId)
                .col(T::Name)
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_whatsapp_templates_meta").table(T::Table).col(T::MetaId).to_owned())
            .await?;
        // Two live templates of one name and language on one account would be the same
        // template to Meta; drafts without an account count as one account.
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_whatsapp_templates_live_name ON whatsapp_templates \
                 (org_id, COALESCE(account_id, ''), name, language) WHERE status <> 'REMOVED'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(WhatsappTemplates::Table).to_owned()).await
    }
}
