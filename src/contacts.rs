//! Customers: searchable, found by WhatsApp id, with a name and a category agents can set. A
//! change is announced as `contact.updated`, and the contact's open conversations (whose actors
//! hold it) read it again.

use actors::Runtime;
use actors::events::EventName;
use actors::store::conversations::Page;
use actors::store::events::NewEvent;
use actors::views::ContactView;
use chrono::Utc;
use entities::enums::ConversationStatus;
use entities::{contact, conversation};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::domain::{Error, Result};

/// Up to `limit + 1` contacts, newest first, from the keyset position `key` (`Before` an id, or
/// `After` it, going back), whose name, phone or WhatsApp id contains `search`.
pub async fn page(
    db: &DatabaseConnection,
    org_id: &str,
    search: Option<&str>,
    key: Option<&(Page, String)>,
    limit: u64,
) -> Result<Vec<contact::Model>> {
    let mut query = contact::Entity::find().filter(contact::Column::OrgId.eq(org_id));
    if let Some(s) = search.map(str::trim).filter(|s| !s.is_empty()) {
        let digits: String = s.chars().filter(char::is_ascii_digit).collect();
        let mut any = Condition::any().add(actors::store::text::contains((contact::Entity, contact::Column::Name), s));
        if !digits.is_empty() {
            any = any.add(contact::Column::WaId.contains(&digits));
        }
        query = query.filter(any);
    }
    Ok(match key {
        Some((Page::After, k)) => {
            let q = query.filter(contact::Column::Id.gt(k.clone())).order_by_asc(contact::Column::Id);
            let mut r = q.limit(limit + 1).all(db).await?;
            r.reverse();
            r
        }
        Some((Page::Before, k)) => {
            let q = query.filter(contact::Column::Id.lt(k.clone())).order_by_desc(contact::Column::Id);
            q.limit(limit + 1).all(db).await?
        }
        None => query.order_by_desc(contact::Column::Id).limit(limit + 1).all(db).await?,
    })
}

/// A contact of the organization by WhatsApp id (with or without `+`) or, for a customer who
/// is not on WhatsApp, by contact id (ids are UUIDs, never all digits).
pub async fn by_key(db: &DatabaseConnection, org_id: &str, key: &str) -> Result<contact::Model> {
    let wa_id = key.trim_start_matches('+');
    let found = if !wa_id.is_empty() && wa_id.bytes().all(|b| b.is_ascii_digit()) {
        actors::store::contacts::find_by_wa_id(db, org_id, wa_id).await?
    } else {
        actors::store::contacts::get(db, org_id, key).await?
    };
    found.ok_or(Error::NotFound("contact"))
}

/// How many conversations the contact has had, and the newest of them.
pub async fn conversations_of(db: &DatabaseConnection, c: &contact::Model) -> Result<(u64, Option<String>)> {
    let convs = conversation::Entity::find().filter(conversation::Column::ContactId.eq(c.id.clone()));
    let count = convs.clone().count(db).await?;
    let latest = convs.order_by_desc(conversation::Column::Id).one(db).await?;
    Ok((count, latest.map(|l| l.id)))
}

/// A trimmed value of at most `max` characters; empty is `None`.
fn clean(field: &str, v: &str, max: usize) -> Result<Option<String>> {
    let v = v.trim();
    if v.chars().count() > max {
        return Err(Error::invalid(field, format!("{field} is at most {max} characters")));
    }
    Ok((!v.is_empty()).then(|| v.to_owned()))
}

/// Sets the contact's name (empty: back to the WhatsApp profile name) and category (empty:
/// none); `None` keeps a field.
pub async fn update(
    rt: &Runtime,
    c: contact::Model,
    name: Option<&str>,
    category: Option<&str>,
) -> Result<contact::Model> {
    let org_id = c.org_id.clone();
    let profile = c.profile_name.clone();
    let mut am = c.into_active_model();
    if let Some(name) = name {
        // A name of one's own stays; clearing it goes back to the WhatsApp profile name.
        match clean("name", name, 200)? {
            Some(n) => {
                am.name = Set(Some(n));
                am.name_edited = Set(true);
            }
            None => {
                am.name = Set(profile);
                am.name_edited = Set(false);
            }
        }
    }
    if let Some(category) = category {
        am.category = Set(clean("category", category, 50)?);
    }
    am.updated_at = Set(Utc::now());
    let txn = rt.db.begin_write_in(&org_id).await?;
    let c = am.update(&*txn).await?;
    let payload = serde_json::to_string(&ContactView::from(&c))?;
    rt.commit(txn, &org_id, vec![NewEvent { conversation: None, name: EventName::ContactUpdated, payload }]).await?;
    // The contact's open conversations hold it in their actors: they read it again, so their
    // next events do not bring the old name back.
    let open = conversation::Entity::find()
        .filter(conversation::Column::OrgId.eq(org_id.clone()))
        .filter(conversation::Column::ContactId.eq(c.id.clone()))
        .filter(conversation::Column::Status.ne(ConversationStatus::Closed.as_str()))
        .all(&rt.db.conn)
        .await?;
    for conv in open {
        let refresh = actors::conversation::RefreshContact { org_id: org_id.clone() };
        if let Err(e) = rt.ask_conversation(&org_id, &conv.id, refresh).await {
            tracing::warn!(conversation_id = %conv.id, error = %e, "contact not refreshed in its conversation");
        }
    }
    Ok(c)
}
