//! Customer satisfaction ratings: at most one per conversation (a customer who rates again
//! changes their rating), with who handled the conversation and on which channel, so reports
//! need no join with what may since have changed.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000027_csat"
    }
}

#[derive(DeriveIden)]
enum CsatResponses {
    Table,
    Id,
    OrgId,
    InboxId,
    ConversationId,
    ContactId,
    AssignedTo,
    Channel,
    Rating,
    Comment,
    CreatedAt,
    UpdatedAt,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(CsatResponses::Table)
                .col(ColumnDef::new(CsatResponses::Id).string().not_null().primary_key())
                .col(ColumnDef::new(CsatResponses::OrgId).string().not_null())
                .col(ColumnDef::new(CsatResponses::InboxId).string().not_null())
                .col(ColumnDef::new(CsatResponses::ConversationId).string().not_null())
                .col(ColumnDef::new(CsatResponses::ContactId).string().not_null())
                .col(ColumnDef::new(CsatResponses::AssignedTo).string().null())
                .col(ColumnDef::new(CsatResponses::Channel).string().not_null())
                .col(ColumnDef::new(CsatResponses::Rating).integer().not_null())
                .col(ColumnDef::new(CsatResponses::Comment).text().null())
                .col(ColumnDef::new(CsatResponses::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(CsatResponses::UpdatedAt).timestamp_with_time_zone().not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_csat_responses_conversation")
                .table(CsatResponses::Table)
                .col(CsatResponses::ConversationId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_csat_responses_org_created")
                .table(CsatResponses::Table)
                .col(CsatResponses::OrgId)
                .col(CsatResponses::CreatedAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(CsatResponses::Table).to_owned()).await
    }
}
