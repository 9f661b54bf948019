//! Organization tags and their links to conversations; a category on contacts.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000004_tags_contacts"
    }
}

#[derive(DeriveIden)]
enum Tags {
    Table,
    Id,
    OrgId,
    Name,
    Color,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ConversationTags {
    Table,
    ConversationId,
    TagId,
    OrgId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Contacts {
    Table,
    Category,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Tags::Table)
                .col(ColumnDef::new(Tags::Id).string().not_null().primary_key())
                .col(ColumnDef::new(Tags::OrgId).string().not_null())
                .col(ColumnDef::new(Tags::Name).string().not_null())
                .col(ColumnDef::new(Tags::Color).string().not_null())
                .col(ColumnDef::new(Tags::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Tags::UpdatedAt).timestamp_with_time_zone().not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_tags_org_name")
                .table(Tags::Table)
                .col(Tags::OrgId)
                .col(Tags::Name)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ConversationTags::Table)
                .col(ColumnDef::new(ConversationTags::ConversationId).string().not_null())
                .col(ColumnDef::new(ConversationTags::TagId).string().not_null())
                .col(ColumnDef::new(ConversationTags::OrgId).string().not_null())
                .col(ColumnDef::new(ConversationTags::CreatedAt).timestamp_with_time_zone().not_null())
                .primary_key(Index::create().col(ConversationTags::ConversationId).col(ConversationTags::TagId))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_conversation_tags_tag")
                .table(ConversationTags::Table)
                .col(ConversationTags::TagId)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Contacts::Table)
                .add_column(ColumnDef::new(Contacts::Category).string().null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Contacts::Table).drop_column(Contacts::Category).to_owned()).await?;
        m.drop_table(Table::drop().table(ConversationTags::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Tags::Table).to_owned()).await
    }
}
