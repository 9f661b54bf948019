//! A tool's name is unique in its organization: the model calls tools by name, so two tools of
//! one name would leave the choice to chance. Duplicates from before (an import could create
//! them) are renamed first, keeping the oldest under its name.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000013_bot_tool_names"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared(
                "UPDATE bot_tools SET name = substr(name, 1, 57) || '_' || substr(id, length(id) - 5) \
                 WHERE id NOT IN (SELECT min(id) FROM bot_tools GROUP BY org_id, name)",
            )
            .await?;
        m.create_index(
            Index::create()
                .name("ux_bot_tools_org_name")
                .table(Alias::new("bot_tools"))
                .col(Alias::new("org_id"))
                .col(Alias::new("name"))
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ux_bot_tools_org_name").table(Alias::new("bot_tools")).to_owned()).await
    }
}
