//! Campaigns: a template sent to many recipients, each with their own parameters, paced to the
//! number's limits. Progress is in the database (each recipient's status and message), so a
//! restart resumes where it stopped; a lease says which node runs a campaign.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000022_campaigns"
    }
}

#[derive(DeriveIden)]
enum Campaigns {
    Table,
    Id,
    OrgId,
    Name,
    TemplateId,
    TemplateName,
    Language,
    Category,
    AccountId,
    InboxId,
    Status,
    ScheduledAt,
    StartedAt,
    CompletedAt,
    Total,
    AttributionHours,
    WaitingReason,
    LeaseOwner,
    LeaseUntil,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum CampaignRecipients {
    Table,
    Id,
    OrgId,
    CampaignId,
    Position,
    WaId,
    Name,
    Parameters,
    Components,
    Text,
    Status,
    ConversationId,
    MessageId,
    ErrorCode,
    ErrorMessage,
    SentAt,
    DeliveredAt,
    ReadAt,
    RepliedAt,
    UpdatedAt,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use CampaignRecipients as R;
        use Campaigns as C;
        m.create_table(
            Table::create()
                .table(C::Table)
                .col(ColumnDef::new(C::Id).string().not_null().primary_key())
                .col(ColumnDef::new(C::OrgId).string().not_null())
                .col(ColumnDef::new(C::Name).string().not_null())
                .col(ColumnDef::new(C::TemplateId).string().not_null())
                .col(ColumnDef::new(C::TemplateName).string().not_null())
                .col(ColumnDef::new(C::Language).string().not_null())
                .col(ColumnDef::new(C::Category).string().not_null())
                .col(ColumnDef::new(C::AccountId).string().not_null())
                .col(ColumnDef::new(C::InboxId).string().not_null())
                .col(ColumnDef::new(C::Status).string().not_null())
                .col(ColumnDef::new(C::ScheduledAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(C::StartedAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(C::CompletedAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(C::Total).integer().not_null())
                .col(ColumnDef::new(C::AttributionHours).integer().not_null())
                .col(ColumnDef::new(C::WaitingReason).text().null())
                .col(ColumnDef::new(C::LeaseOwner).string().null())
                .col(ColumnDef::new(C::LeaseUntil).timestamp_with_time_zone().null())
                .col(ColumnDef::new(C::CreatedBy).string().null())
                .col(ColumnDef::new(C::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(C::UpdatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(C::DeletedAt).timestamp_with_time_zone().null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_campaigns_org").table(C::Table).col(C::OrgId).col(C::CreatedAt).to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_campaigns_status").table(C::Table).col(C::Status).to_owned()).await?;
        m.create_table(
            Table::create()
                .table(R::Table)
                .col(ColumnDef::new(R::Id).string().not_null().primary_key())
                .col(ColumnDef::new(R::OrgId).string().not_null())
                .col(ColumnDef::new(R::CampaignId).string().not_null())
                .col(ColumnDef::new(R::Position).integer().not_null())
                .col(ColumnDef::new(R::WaId).string().not_null())
                .col(ColumnDef::new(R::Name).string().null())
                .col(ColumnDef::new(R::Parameters).text().not_null())
                .col(ColumnDef::new(R::Components).text().not_null())
                .col(ColumnDef::new(R::Text).text().not_null())
                .col(ColumnDef::new(R::Status).string().not_null())
                .col(ColumnDef::new(R::ConversationId).string().null())
                .col(ColumnDef::new(R::MessageId).string().null())
                .col(ColumnDef::new(R::ErrorCode).string().null())
                .col(ColumnDef::new(R::ErrorMessage).text().null())
                .col(ColumnDef::new(R::SentAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(R::DeliveredAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(R::ReadAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(R::RepliedAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(R::UpdatedAt).timestamp_with_time_zone().not_null())
                .to_owned(),
        )
        .await?;
        // One row per customer in a campaign: the same number twice would be sent twice.
        m.create_index(
            Index::create()
                .name("ux_campaign_recipients_wa_id")
                .table(R::Table)
                .col(R::CampaignId)
                .col(R::WaId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_campaign_recipients_progress")
                .table(R::Table)
                .col(R::CampaignId)
                .col(R::Status)
                .col(R::Position)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_campaign_recipients_message").table(R::Table).col(R::MessageId).to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(CampaignRecipients::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Campaigns::Table).to_owned()).await
    }
}
