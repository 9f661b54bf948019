//! The API channel's outgoing webhooks as a durable queue. Each event of an API inbox's
//! conversations that the business's system is told about becomes one `webhook_deliveries` row
//! (unique per inbox and event, so the tail can run again without doubling anything), tried in
//! order per conversation with backoff and leases; each try is one `webhook_attempts` row (the
//! delivery log admins read). The inbox keeps the tail's cursor (the last `org_seq` it copied),
//! how many tries in a row failed, and when its webhook was turned off for failing too long.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000026_webhook_deliveries"
    }
}

#[derive(DeriveIden, Clone)]
enum Inboxes {
    Table,
    WebhookCursor,
    WebhookFailureStreak,
    WebhookDisabledAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    OrgId,
    InboxId,
    ConversationId,
    EventId,
    EventName,
    OrgSeq,
    Seq,
    Payload,
    Status,
    Attempts,
    NextAttemptAt,
    LeaseOwner,
    LeaseUntil,
    LastStatusCode,
    CreatedAt,
    DeliveredAt,
}

#[derive(DeriveIden)]
enum WebhookAttempts {
    Table,
    Id,
    DeliveryId,
    Attempt,
    StatusCode,
    ResponseExcerpt,
    Error,
    DurationMs,
    At,
}

fn inbox_columns() -> Vec<ColumnDef> {
    vec![
        ColumnDef::new(Inboxes::WebhookCursor).big_integer().not_null().default(0).to_owned(),
        ColumnDef::new(Inboxes::WebhookFailureStreak).integer().not_null().default(0).to_owned(),
        ColumnDef::new(Inboxes::WebhookDisabledAt).timestamp_with_time_zone().null().to_owned(),
    ]
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for mut col in inbox_columns() {
            m.alter_table(Table::alter().table(Inboxes::Table).add_column(&mut col).to_owned()).await?;
        }
        m.create_table(
            Table::create()
                .table(WebhookDeliveries::Table)
                .col(ColumnDef::new(WebhookDeliveries::Id).string().not_null().primary_key())
                .col(ColumnDef::new(WebhookDeliveries::OrgId).string().not_null())
                .col(ColumnDef::new(WebhookDeliveries::InboxId).string().not_null())
                .col(ColumnDef::new(WebhookDeliveries::ConversationId).string().not_null())
                .col(ColumnDef::new(WebhookDeliveries::EventId).string().not_null())
                .col(ColumnDef::new(WebhookDeliveries::EventName).string().not_null())
                .col(ColumnDef::new(WebhookDeliveries::OrgSeq).big_integer().not_null())
                .col(ColumnDef::new(WebhookDeliveries::Seq).big_integer().null())
                .col(ColumnDef::new(WebhookDeliveries::Payload).text().not_null())
                .col(ColumnDef::new(WebhookDeliveries::Status).string().not_null())
                .col(ColumnDef::new(WebhookDeliveries::Attempts).integer().not_null().default(0))
                .col(ColumnDef::new(WebhookDeliveries::NextAttemptAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(WebhookDeliveries::LeaseOwner).string().null())
                .col(ColumnDef::new(WebhookDeliveries::LeaseUntil).timestamp_with_time_zone().null())
                .col(ColumnDef::new(WebhookDeliveries::LastStatusCode).integer().null())
                .col(ColumnDef::new(WebhookDeliveries::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(WebhookDeliveries::DeliveredAt).timestamp_with_time_zone().null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_webhook_deliveries_inbox_event")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::InboxId)
                .col(WebhookDeliveries::EventId)
                .unique()
                .to_owned(),
        )
        .await?;
        // The dispatcher's sweep: pending deliveries in the organization's order.
        m.create_index(
            Index::create()
                .name("ix_webhook_deliveries_status_org_seq")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::Status)
                .col(WebhookDeliveries::OrgSeq)
                .to_owned(),
        )
        .await?;
        // A conversation's head: nothing older of it pending.
        m.create_index(
            Index::create()
                .name("ix_webhook_deliveries_conversation")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::ConversationId)
                .col(WebhookDeliveries::Status)
                .col(WebhookDeliveries::OrgSeq)
                .to_owned(),
        )
        .await?;
        // The delivery log of one inbox, newest first.
        m.create_index(
            Index::create()
                .name("ix_webhook_deliveries_inbox_org_seq")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::InboxId)
                .col(WebhookDeliveries::OrgSeq)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(WebhookAttempts::Table)
                .col(ColumnDef::new(WebhookAttempts::Id).string().not_null().primary_key())
                .col(ColumnDef::new(WebhookAttempts::DeliveryId).string().not_null())
                .col(ColumnDef::new(WebhookAttempts::Attempt).integer().not_null())
                .col(ColumnDef::new(WebhookAttempts::StatusCode).integer().null())
                .col(ColumnDef::new(WebhookAttempts::ResponseExcerpt).text().null())
                .col(ColumnDef::new(WebhookAttempts::Error).text().null())
                .col(ColumnDef::new(WebhookAttempts::DurationMs).big_integer().not_null())
                .col(ColumnDef::new(WebhookAttempts::At).timestamp_with_time_zone().not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_webhook_attempts_delivery")
                .table(WebhookAttempts::Table)
                .col(WebhookAttempts::DeliveryId)
                .col(WebhookAttempts::Attempt)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(WebhookAttempts::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(WebhookDeliveries::Table).to_owned()).await?;
        for col in inbox_columns().into_iter().rev() {
            m.alter_table(
                Table::alter().table(Inboxes::Table).drop_column(Alias::new(col.get_column_name())).to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
