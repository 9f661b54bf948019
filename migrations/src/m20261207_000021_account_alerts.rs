//! Account health and alerts: what Meta last said about a number's health (quality rating,
//! messaging-limit tier, throughput, display-name status: the campaign pacer reads them), the
//! alerts Meta's `account_alerts`, `phone_number_quality_update` and `account_update` webhooks
//! bring (one row per organization that has the business account connected, deduplicated so a
//! redelivered webhook stores nothing twice), and each organization's Meta app settings for
//! Embedded Signup (the app secret stays in the environment).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000021_account_alerts"
    }
}

fn text<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).string().not_null().to_owned()
}
fn text_null<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).string().null().to_owned()
}
fn long_text_null<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).text().null().to_owned()
}
fn time<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().not_null().to_owned()
}
fn time_null<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().null().to_owned()
}

#[derive(DeriveIden, Clone)]
enum WhatsappAccounts {
    Table,
    QualityRating,
    MessagingLimitTier,
    ThroughputLevel,
    NameStatus,
    HealthDetail,
    HealthCheckedAt,
}

#[derive(DeriveIden, Clone)]
enum AccountAlerts {
    Table,
    Id,
    OrgId,
    AccountId,
    WabaId,
    Source,
    AlertType,
    Severity,
    AlertStatus,
    Title,
    Description,
    Details,
    DedupeKey,
    OccurredAt,
    AcknowledgedAt,
    AcknowledgedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone)]
enum WhatsappMetaConfigs {
    Table,
    OrgId,
    AppId,
    ConfigId,
    UpdatedBy,
    CreatedAt,
    UpdatedAt,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        for mut col in [
            text_null(WhatsappAccounts::QualityRating),
            text_null(WhatsappAccounts::MessagingLimitTier),
            ColumnDef::new(WhatsappAccounts::ThroughputLevel).integer().null().to_owned(),
            text_null(WhatsappAccounts::NameStatus),
            long_text_null(WhatsappAccounts::HealthDetail),
            time_null(WhatsappAccounts::HealthCheckedAt),
        ] {
            m.alter_table(Table::alter().table(WhatsappAccounts::Table).add_column(&mut col).to_owned()).await?;
        }

        m.create_table(
            Table::create()
                .table(AccountAlerts::Table)
                .col(ColumnDef::new(AccountAlerts::Id).string().not_null().primary_key())
                .col(text(AccountAlerts::OrgId))
                .col(text_null(AccountAlerts::AccountId))
                .col(text(AccountAlerts::WabaId))
                .col(text(AccountAlerts::Source))
                .col(text(AccountAlerts::AlertType))
                .col(text_null(AccountAlerts::Severity))
                .col(text_null(AccountAlerts::AlertStatus))
                .col(text(AccountAlerts::Title))
                .col(long_text_null(AccountAlerts::Description))
                .col(long_text_null(AccountAlerts::Details))
                .col(text(AccountAlerts::DedupeKey))
                .col(time(AccountAlerts::OccurredAt))
                .col(time_null(AccountAlerts::AcknowledgedAt))
                .col(text_null(AccountAlerts::AcknowledgedBy))
                .col(time(AccountAlerts::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_account_alerts_org_dedupe")
                .table(AccountAlerts::Table)
                .col(AccountAlerts::OrgId)
                .col(AccountAlerts::DedupeKey)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_account_alerts_org_ack")
                .table(AccountAlerts::Table)
                .col(AccountAlerts::OrgId)
                .col(AccountAlerts::AcknowledgedAt)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(WhatsappMetaConfigs::Table)
                .col(ColumnDef::new(WhatsappMetaConfigs::OrgId).string().not_null().primary_key())
                .col(text(WhatsappMetaConfigs::AppId))
                .col(text(WhatsappMetaConfigs::ConfigId))
                .col(text_null(WhatsappMetaConfigs::UpdatedBy))
                .col(time(WhatsappMetaConfigs::CreatedAt))
                .col(time(WhatsappMetaConfigs::UpdatedAt))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(WhatsappMetaConfigs::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(AccountAlerts::Table).to_owned()).await?;
        for col in [
            WhatsappAccounts::HealthCheckedAt,
            WhatsappAccounts::HealthDetail,
            WhatsappAccounts::NameStatus,
            WhatsappAccounts::ThroughputLevel,
            WhatsappAccounts::MessagingLimitTier,
            WhatsappAccounts::QualityRating,
        ] {
            m.alter_table(Table::alter().table(WhatsappAccounts::Table).drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}
