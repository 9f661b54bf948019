//! Media of messages: the provider's media id, where the downloaded file is kept, and how the
//! download went (`pending`, `downloaded`, `failed` with the reason).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000006_media"
    }
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    MediaId,
    MediaStatus,
    MediaPath,
    MediaMime,
    MediaSize,
    MediaError,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let cols = [
            ColumnDef::new(Messages::MediaId).string().null().to_owned(),
            ColumnDef::new(Messages::MediaStatus).string().null().to_owned(),
            ColumnDef::new(Messages::MediaPath).string().null().to_owned(),
            ColumnDef::new(Messages::MediaMime).string().null().to_owned(),
            ColumnDef::new(Messages::MediaSize).big_integer().null().to_owned(),
            ColumnDef::new(Messages::MediaError).text().null().to_owned(),
        ];
        for mut col in cols {
            m.alter_table(Table::alter().table(Messages::Table).add_column(&mut col).to_owned()).await?;
        }
        m.create_index(
            Index::create()
                .name("ix_messages_media_status")
                .table(Messages::Table)
                .col(Messages::MediaStatus)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ix_messages_media_status").to_owned()).await?;
        for col in [
            Messages::MediaId,
            Messages::MediaStatus,
            Messages::MediaPath,
            Messages::MediaMime,
            Messages::MediaSize,
            Messages::MediaError,
        ] {
            m.alter_table(Table::alter().table(Messages::Table).drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}
