//! Contacts: customers by WhatsApp id.

use chrono::Utc;
use entities::contact;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter,
};

/// Finds the organization's contact with this WhatsApp id, creating it (or refreshing its
/// profile name) as needed. The name follows the profile name unless someone edited it.
pub async fn upsert_by_wa_id(
    db: &impl ConnectionTrait,
    org_id: &str,
    wa_id: &str,
    profile_name: Option<&str>,
) -> Result<contact::Model, DbErr> {
    Ok(upsert(db, org_id, wa_id, profile_name).await?.0)
}

/// [`upsert_by_wa_id`], also answering whether an existing contact changed (a new profile name).
pub async fn upsert(
    db: &impl ConnectionTrait,
    org_id: &str,
    wa_id: &str,
    profile_name: Option<&str>,
) -> Result<(contact::Model, bool), DbErr> {
    let now = Utc::now();
    if let Some(found) = find_by_wa_id(db, org_id, wa_id).await? {
        match profile_name {
            Some(name) if found.profile_name.as_deref() != Some(name) => {
                let follows = !found.name_edited || found.name.is_none();
                let mut am = found.into_active_model();
                am.profile_name = Set(Some(name.to_owned()));
                if follows {
                    am.name = Set(Some(name.to_owned()));
                }
                am.updated_at = Set(now);
                return Ok((am.update(db).await?, true));
            }
            _ => return Ok((found, false)),
        }
    }
    contact::ActiveModel {
        id: Set(crate::new_id()),
        org_id: Set(org_id.to_owned()),
        wa_id: Set(wa_id.to_owned()),
        name: Set(profile_name.map(str::to_owned)),
        profile_name: Set(profile_name.map(str::to_owned)),
        name_edited: Set(false),
        phone: Set(Some(format!("+{wa_id}"))),
        category: Set(None),
        simulated: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map(|c| (c, false))
}

pub async fn find_by_wa_id(
    db: &impl ConnectionTrait,
    org_id: &str,
    wa_id: &str,
) -> Result<Option<contact::Model>, DbErr> {
    contact::Entity::find()
        .filter(contact::Column::OrgId.eq(org_id))
        .filter(contact::Column::WaId.eq(wa_id))
        .one(db)
        .await
}

pub async fn get(db: &impl ConnectionTrait, org_id: &str, id: &str) -> Result<Option<contact::Model>, DbErr> {
    contact::Entity::find_by_id(id.to_owned()).filter(contact::Column::OrgId.eq(org_id)).one(db).await
}
