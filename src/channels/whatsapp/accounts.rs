//! Connected WhatsApp accounts: lookups used by the webhook, the sender and the API.

use entities::whatsapp_account;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

/// The connected account with this Meta phone number id, in any organization.
pub async fn by_phone_number_id(
    db: &impl ConnectionTrait,
    phone_number_id: &str,
) -> Result<Option<whatsapp_account::Model>, DbErr> {
    whatsapp_account::Entity::find()
        .filter(whatsapp_account::Column::PhoneNumberId.eq(phone_number_id))
        .filter(whatsapp_account::Column::DeletedAt.is_null())
        .one(db)
        .await
}

/// The connected account behind an inbox.
pub async fn by_inbox(
    db: &impl ConnectionTrait,
    org_id: &str,
    inbox_id: &str,
) -> Result<Option<whatsapp_account::Model>, DbErr> {
    whatsapp_account::Entity::find()
        .filter(whatsapp_account::Column::OrgId.eq(org_id))
        .filter(whatsapp_account::Column::InboxId.eq(inbox_id))
        .filter(whatsapp_account::Column::DeletedAt.is_null())
        .one(db)
        .await
}

/// One of the organization's connected accounts.
pub async fn get(db: &impl ConnectionTrait, org_id: &str, id: &str) -> Result<Option<whatsapp_account::Model>, DbErr> {
    whatsapp_account::Entity::find_by_id(id.to_owned())
        .filter(whatsapp_account::Column::OrgId.eq(org_id))
        .filter(whatsapp_account::Column::DeletedAt.is_null())
        .one(db)
        .await
}

/// The organization's connected accounts, oldest first.
pub async fn list(db: &impl ConnectionTrait, org_id: &str) -> Result<Vec<whatsapp_account::Model>, DbErr> {
    whatsapp_account::Entity::find()
        .filter(whatsapp_account::Column::OrgId.eq(org_id))
        .filter(whatsapp_account::Column::DeletedAt.is_null())
        .order_by_asc(whatsapp_account::Column::Id)
        .all(db)
        .await
}
