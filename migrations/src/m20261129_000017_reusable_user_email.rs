//! An email address belongs to one live account: a deleted user's address can be invited or
//! registered again (the deleted row stays, for the history that names it). The unique index
//! covers live users only.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000017_reusable_user_email"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ux_users_email").table(Alias::new("users")).to_owned()).await?;
        m.get_connection()
            .execute_unprepared("CREATE UNIQUE INDEX ux_users_live_email ON users (email) WHERE deleted_at IS NULL")
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection().execute_unprepared("DROP INDEX ux_users_live_email").await?;
        m.create_index(
            Index::create()
                .name("ux_users_email")
                .table(Alias::new("users"))
                .col(Alias::new("email"))
                .unique()
                .to_owned(),
        )
        .await
    }
}
