//! Contacts: customers by WhatsApp id, by their address in an inbox, or by a website's
//! verified identifier.

use chrono::Utc;
use entities::{contact, contact_inbox};
use sea_orm::sea_query::OnConflict;
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
        email: Set(None),
        identifier: Set(None),
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
        // The unique index on (org_id, wa_id) is partial (`wa_id <> ''`): the planner uses it
        // only when the query says so itself, else it scans the organization's contacts.
        .filter(contact::Column::WaId.ne(""))
        .one(db)
        .await
}

pub async fn get(db: &impl ConnectionTrait, org_id: &str, id: &str) -> Result<Option<contact::Model>, DbErr> {
    contact::Entity::find_by_id(id.to_owned()).filter(contact::Column::OrgId.eq(org_id)).one(db).await
}

/// A customer who is not on WhatsApp (a website visitor, an API inbox's customer).
#[derive(Clone, Debug, Default)]
pub struct NewContact {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub identifier: Option<String>,
}

pub async fn create(db: &impl ConnectionTrait, org_id: &str, new: NewContact) -> Result<contact::Model, DbErr> {
    let now = Utc::now();
    contact::ActiveModel {
        id: Set(crate::new_id()),
        org_id: Set(org_id.to_owned()),
        wa_id: Set(String::new()),
        name: Set(new.name),
        profile_name: Set(None),
        name_edited: Set(false),
        phone: Set(new.phone),
        category: Set(None),
        simulated: Set(false),
        email: Set(new.email),
        identifier: Set(new.identifier),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
}

/// The contact whose address in this inbox is `source_id`.
pub async fn by_source(
    db: &impl ConnectionTrait,
    inbox_id: &str,
    source_id: &str,
) -> Result<Option<contact::Model>, DbErr> {
    let Some(link) = contact_inbox::Entity::find()
        .filter(contact_inbox::Column::InboxId.eq(inbox_id))
        .filter(contact_inbox::Column::SourceId.eq(source_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    contact::Entity::find_by_id(link.contact_id).one(db).await
}

/// The organization's contact with this verified website identifier.
pub async fn by_identifier(
    db: &impl ConnectionTrait,
    org_id: &str,
    identifier: &str,
) -> Result<Option<contact::Model>, DbErr> {
    contact::Entity::find()
        .filter(contact::Column::OrgId.eq(org_id))
        .filter(contact::Column::Identifier.eq(identifier))
        .one(db)
        .await
}

/// Records `source_id` as the contact's address in the inbox; an address already recorded is
/// kept as it is (it names the contact it was first given to).
pub async fn attach(
    db: &impl ConnectionTrait,
    org_id: &str,
    contact_id: &str,
    inbox_id: &str,
    source_id: &str,
) -> Result<(), DbErr> {
    let row = contact_inbox::ActiveModel {
        id: Set(crate::new_id()),
        org_id: Set(org_id.to_owned()),
        contact_id: Set(contact_id.to_owned()),
        inbox_id: Set(inbox_id.to_owned()),
        source_id: Set(source_id.to_owned()),
        created_at: Set(Utc::now()),
    };
    let conflict =
        OnConflict::columns([contact_inbox::Column::InboxId, contact_inbox::Column::SourceId]).do_nothing().to_owned();
    match contact_inbox::Entity::insert(row).on_conflict(conflict).exec_without_returning(db).await {
        Ok(_) | Err(DbErr::RecordNotInserted) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The addresses of these contacts, as `(contact_id, inbox_id, source_id)`.
pub async fn addresses(db: &impl ConnectionTrait, contact_ids: &[String]) -> Result<Vec<contact_inbox::Model>, DbErr> {
    if contact_ids.is_empty() {
        return Ok(Vec::new());
    }
    contact_inbox::Entity::find()
        .filter(contact_inbox::Column::ContactId.is_in(contact_ids.iter().cloned()))
        .all(db)
        .await
}
