//! A WhatsApp phone number is connected to one organization at a time: the webhook finds the
//! account by phone number id, so two live accounts for one number would send a customer's
//! messages to either. A partial unique index (live rows only) makes the database refuse the
//! second one even when two organizations connect the number at the same moment. Should an
//! older database hold such a pair, the newer account is retired (marked deleted as of its own
//! creation) so the index can be built; the oldest keeps receiving.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000015_unique_live_phone_number"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        // Retired as a disconnect would: the account and its inbox.
        let keep = "(SELECT min(id) FROM whatsapp_accounts WHERE deleted_at IS NULL GROUP BY phone_number_id)";
        db.execute_unprepared(&format!(
            "UPDATE inboxes SET deleted_at = created_at WHERE deleted_at IS NULL AND id IN \
             (SELECT inbox_id FROM whatsapp_accounts WHERE deleted_at IS NULL AND id NOT IN {keep})"
        ))
        .await?;
        db.execute_unprepared(&format!(
            "UPDATE whatsapp_accounts SET deleted_at = created_at, status = 'disconnected' \
             WHERE deleted_at IS NULL AND id NOT IN {keep}"
        ))
        .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX ux_whatsapp_accounts_live_phone ON whatsapp_accounts (phone_number_id) \
             WHERE deleted_at IS NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection().execute_unprepared("DROP INDEX ux_whatsapp_accounts_live_phone").await?;
        Ok(())
    }
}
