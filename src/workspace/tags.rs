//! Organization tags with a fixed color palette. Putting a tag on a conversation and taking it
//! off are changes of the conversation, made by its actor; deleting a tag takes it off every
//! conversation the same way.

use actors::Runtime;
use actors::conversation::RemoveTag;
use actors::events::EventName;
use actors::store::events::NewEvent;
use actors::views::TagView;
use chrono::Utc;
use entities::tag;
use futures_util::{StreamExt, stream};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
};

use crate::domain::{Error, Result};

/// The palette tags are colored from: (name, hex).
pub const PALETTE: &[(&str, &str)] = &[
    ("gray", "#6B7280"),
    ("red", "#EF4444"),
    ("orange", "#F97316"),
    ("amber", "#F59E0B"),
    ("green", "#22C55E"),
    ("teal", "#14B8A6"),
    ("blue", "#3B82F6"),
    ("indigo", "#6366F1"),
    ("purple", "#A855F7"),
    ("pink", "#EC4899"),
];

/// The hex of a palette color name ("" for a name not in it).
pub fn hex_of(color: &str) -> &'static str {
    PALETTE.iter().find(|(n, _)| *n == color).map(|(_, h)| *h).unwrap_or_default()
}

/// What a create or an edit gives; `None` keeps (or, on create, defaults) the field.
#[derive(Default)]
pub struct TagInput {
    pub name: Option<String>,
    pub color: Option<String>,
}

fn tag_name(name: &str) -> Result<String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 50 {
        return Err(Error::invalid("name", "name is required and at most 50 characters"));
    }
    Ok(n.to_owned())
}

fn tag_color(color: &str) -> Result<String> {
    let c = color.trim().to_lowercase();
    if PALETTE.iter().any(|(n, _)| *n == c) {
        Ok(c)
    } else {
        let names = PALETTE.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
        Err(Error::invalid("color", format!("color must be one of {names}")))
    }
}

/// Refuses a name another tag of the organization has (case-insensitively).
async fn ensure_unique(db: &impl ConnectionTrait, org_id: &str, name: &str, except: Option<&str>) -> Result<()> {
    // Any case in all of Unicode (at least as strict as either database's `lower()` in the index).
    let wanted = name.to_lowercase();
    let all = list(db, org_id).await?;
    if all.iter().any(|t| t.name.to_lowercase() == wanted && Some(t.id.as_str()) != except) {
        return Err(Error::Conflict(format!("a tag named {name:?} already exists")));
    }
    Ok(())
}

fn announced(name: EventName, t: &tag::Model) -> Result<NewEvent> {
    Ok(NewEvent { conversation: None, name, payload: serde_json::to_string(&TagView::from(t))? })
}

/// The organization's tags, by name in any case (the same on every database).
pub async fn list(db: &impl ConnectionTrait, org_id: &str) -> Result<Vec<tag::Model>> {
    let mut tags = tag::Entity::find().filter(tag::Column::OrgId.eq(org_id)).all(db).await?;
    tags.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then_with(|| a.id.cmp(&b.id)));
    Ok(tags)
}

/// One tag of the organization.
pub async fn get(db: &impl ConnectionTrait, org_id: &str, id: &str) -> Result<tag::Model> {
    actors::store::tags::get(db, org_id, id).await?.ok_or(Error::NotFound("tag"))
}

/// Creates a tag (color `gray` unless given); announced as `tag.created`.
pub async fn create(rt: &Runtime, org_id: &str, input: TagInput) -> Result<tag::Model> {
    let name = tag_name(input.name.as_deref().unwrap_or_default())?;
    let color = tag_color(input.color.as_deref().unwrap_or("gray"))?;
    ensure_unique(&rt.db.conn, org_id, &name, None).await?;
    let now = Utc::now();
    let txn = rt.db.begin_write_in(org_id).await?;
    let t = tag::ActiveModel {
        id: Set(actors::new_id()),
        org_id: Set(org_id.to_owned()),
        name: Set(name),
        color: Set(color),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&*txn)
    .await?;
    rt.commit(txn, org_id, vec![announced(EventName::TagCreated, &t)?]).await?;
    Ok(t)
}

/// Renames or recolors a tag; announced as `tag.updated`.
pub async fn update(rt: &Runtime, org_id: &str, id: &str, input: TagInput) -> Result<tag::Model> {
    let mut am = get(&rt.db.conn, org_id, id).await?.into_active_model();
    if let Some(name) = &input.name {
        let name = tag_name(name)?;
        ensure_unique(&rt.db.conn, org_id, &name, Some(id)).await?;
        am.name = Set(name);
    }
    if let Some(color) = &input.color {
        am.color = Set(tag_color(color)?);
    }
    am.updated_at = Set(Utc::now());
    let txn = rt.db.begin_write_in(org_id).await?;
    let t = am.update(&*txn).await?;
    rt.commit(txn, org_id, vec![announced(EventName::TagUpdated, &t)?]).await?;
    Ok(t)
}

/// Deletes a tag. It is gone first (announced as `tag.deleted`), so no conversation can be given
/// it any more; then the actor of each conversation that carried it takes it off, as an agent's
/// removal would (`conversation.updated` with the tags left). Answers how many carried it.
pub async fn delete(rt: &Runtime, org_id: &str, id: &str) -> Result<usize> {
    let t = get(&rt.db.conn, org_id, id).await?;
    let txn = rt.db.begin_write_in(org_id).await?;
    let carriers = actors::store::tags::carriers(&*txn, &t.id).await?;
    tag::Entity::delete_by_id(t.id.clone()).exec(&*txn).await?;
    let payload = serde_json::json!({ "id": t.id, "conversationIds": carriers });
    let gone = NewEvent { conversation: None, name: EventName::TagDeleted, payload: payload.to_string() };
    rt.commit(txn, org_id, vec![gone]).await?;
    // A link added in the instant before the delete (PostgreSQL) shows up in a second look.
    let mut left = carriers.clone();
    for _ in 0..3 {
        if left.is_empty() {
            break;
        }
        let results: Vec<_> = stream::iter(left)
            .map(|conversation_id| {
                let msg = RemoveTag { org_id: org_id.to_owned(), tag_id: t.id.clone() };
                async move { rt.ask_conversation(org_id, &conversation_id, msg).await }
            })
            .buffer_unordered(8)
            .collect()
            .await;
        for r in results {
            match r {
                // Already off, or the conversation itself is gone.
                Ok(_) | Err(actors::ActorError::NotFound(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        left = actors::store::tags::carriers(&rt.db.conn, &t.id).await?;
    }
    Ok(carriers.len())
}
