//! Tag names are unique per organization in any case ("VIP" and "vip" are one tag): the API
//! checks it, and this index holds when two requests create them at the same moment. Should an
//! older database hold such a pair, the newer tag gets its id's tail appended to its name.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000016_tag_names_any_case"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared(
            "UPDATE tags SET name = substr(name, 1, 45) || ' ' || substr(id, length(id) - 3) \
             WHERE id NOT IN (SELECT min(id) FROM tags GROUP BY org_id, lower(name))",
        )
        .await?;
        db.execute_unprepared("CREATE UNIQUE INDEX ux_tags_org_name_any_case ON tags (org_id, lower(name))").await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection().execute_unprepared("DROP INDEX ux_tags_org_name_any_case").await?;
        Ok(())
    }
}
