//! Customers beyond WhatsApp. A contact may now have no WhatsApp id (a website visitor, a
//! customer of an API inbox): such contacts store `wa_id = ''`, and the uniqueness of the
//! WhatsApp id holds only where there is one (a partial index, the same SQL on SQLite and
//! PostgreSQL, instead of rebuilding the SQLite table to drop NOT NULL). A contact gains an
//! `email` and the `identifier` a website gives a signed-in visitor (unique per organization,
//! so a verified identity resumes from any browser). `contact_inboxes` holds a contact's
//! address in each inbox it writes from: the WhatsApp id, a widget visitor's id, the API
//! caller's own customer id; one address per inbox names one contact. Existing WhatsApp
//! contacts get theirs from the inboxes they have conversations in.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000024_contact_channels"
    }
}

#[derive(DeriveIden)]
enum Contacts {
    Table,
    Email,
    Identifier,
}

#[derive(DeriveIden)]
enum ContactInboxes {
    Table,
    Id,
    OrgId,
    ContactId,
    InboxId,
    SourceId,
    CreatedAt,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        m.drop_index(Index::drop().name("ux_contacts_org_wa").table(Contacts::Table).to_owned()).await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX ux_contacts_org_wa_id ON contacts (org_id, wa_id) WHERE wa_id <> ''",
        )
        .await?;
        for col in [Contacts::Email, Contacts::Identifier] {
            m.alter_table(
                Table::alter().table(Contacts::Table).add_column(ColumnDef::new(col).string().null()).to_owned(),
            )
            .await?;
        }
        db.execute_unprepared(
            "CREATE UNIQUE INDEX ux_contacts_org_identifier ON contacts (org_id, identifier) WHERE identifier IS NOT NULL",
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ContactInboxes::Table)
                .col(ColumnDef::new(ContactInboxes::Id).string().not_null().primary_key())
                .col(ColumnDef::new(ContactInboxes::OrgId).string().not_null())
                .col(ColumnDef::new(ContactInboxes::ContactId).string().not_null())
                .col(ColumnDef::new(ContactInboxes::InboxId).string().not_null())
                .col(ColumnDef::new(ContactInboxes::SourceId).string().not_null())
                .col(ColumnDef::new(ContactInboxes::CreatedAt).timestamp_with_time_zone().not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_contact_inboxes_inbox_source")
                .table(ContactInboxes::Table)
                .col(ContactInboxes::InboxId)
                .col(ContactInboxes::SourceId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_contact_inboxes_contact")
                .table(ContactInboxes::Table)
                .col(ContactInboxes::ContactId)
                .to_owned(),
        )
        .await?;
        // One address per WhatsApp contact and inbox it talked in. The id only needs to be
        // unique: the contact's and inbox's ids joined are (ids are UUIDs).
        db.execute_unprepared(
            "INSERT INTO contact_inboxes (id, org_id, contact_id, inbox_id, source_id, created_at) \
             SELECT c.id || ':' || v.inbox_id, c.org_id, c.id, v.inbox_id, c.wa_id, min(v.created_at) \
             FROM contacts c JOIN conversations v ON v.contact_id = c.id \
             WHERE c.wa_id <> '' GROUP BY c.id, c.org_id, v.inbox_id, c.wa_id",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        m.drop_table(Table::drop().table(ContactInboxes::Table).to_owned()).await?;
        db.execute_unprepared("DROP INDEX ux_contacts_org_identifier").await?;
        for col in [Contacts::Email, Contacts::Identifier] {
            m.alter_table(Table::alter().table(Contacts::Table).drop_column(col).to_owned()).await?;
        }
        db.execute_unprepared("DROP INDEX ux_contacts_org_wa_id").await?;
        db.execute_unprepared("CREATE UNIQUE INDEX ux_contacts_org_wa ON contacts (org_id, wa_id)").await?;
        Ok(())
    }
}
