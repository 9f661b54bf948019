//! The outbound outbox lives on the messages themselves: a pending outbound message is due at
//! `next_attempt_at`, has been tried `attempts` times, may carry the client's idempotency key,
//! and can be discarded by an admin. `hidden` hides a message from agents without deleting it.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000003_outbox"
    }
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Attempts,
    NextAttemptAt,
    IdempotencyKey,
    DiscardedAt,
    Hidden,
    OrgId,
    Status,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        let cols = [
            ColumnDef::new(Messages::Attempts).integer().not_null().default(0).to_owned(),
            ColumnDef::new(Messages::NextAttemptAt).timestamp_with_time_zone().null().to_owned(),
            ColumnDef::new(Messages::IdempotencyKey).string().null().to_owned(),
            ColumnDef::new(Messages::DiscardedAt).timestamp_with_time_zone().null().to_owned(),
            ColumnDef::new(Messages::Hidden).boolean().not_null().default(false).to_owned(),
        ];
        for mut col in cols {
            m.alter_table(Table::alter().table(Messages::Table).add_column(&mut col).to_owned()).await?;
        }
        m.create_index(
            Index::create()
                .name("ux_messages_org_idempotency")
                .table(Messages::Table)
                .col(Messages::OrgId)
                .col(Messages::IdempotencyKey)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_messages_due")
                .table(Messages::Table)
                .col(Messages::Status)
                .col(Messages::NextAttemptAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ix_messages_due").to_owned()).await?;
        m.drop_index(Index::drop().name("ux_messages_org_idempotency").to_owned()).await?;
        for col in [
            Messages::Attempts,
            Messages::NextAttemptAt,
            Messages::IdempotencyKey,
            Messages::DiscardedAt,
            Messages::Hidden,
        ] {
            m.alter_table(Table::alter().table(Messages::Table).drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}
