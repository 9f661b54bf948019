//! Tags and their links to conversations.

use std::collections::HashMap;

use entities::{conversation_tag, tag};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

use crate::views::TagView;

pub async fn get(db: &impl ConnectionTrait, org_id: &str, id: &str) -> Result<Option<tag::Model>, DbErr> {
    tag::Entity::find_by_id(id.to_owned()).filter(tag::Column::OrgId.eq(org_id)).one(db).await
}

/// The tag, share-locked on PostgreSQL until the caller's transaction ends, so it cannot be
/// deleted between this check and a link the caller then inserts (SQLite's one writer already
/// orders the two).
pub async fn get_to_link(db: &impl ConnectionTrait, org_id: &str, id: &str) -> Result<Option<tag::Model>, DbErr> {
    let mut q = tag::Entity::find_by_id(id.to_owned()).filter(tag::Column::OrgId.eq(org_id));
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        q = sea_orm::QuerySelect::lock_shared(q);
    }
    q.one(db).await
}

/// The conversations that carry the tag.
pub async fn carriers(db: &impl ConnectionTrait, tag_id: &str) -> Result<Vec<String>, DbErr> {
    let links = conversation_tag::Entity::find().filter(conversation_tag::Column::TagId.eq(tag_id)).all(db).await?;
    Ok(links.into_iter().map(|l| l.conversation_id).collect())
}

/// The tags of each of these conversations, by name.
pub async fn of_conversations(
    db: &impl ConnectionTrait,
    org_id: &str,
    conversation_ids: &[String],
) -> Result<HashMap<String, Vec<TagView>>, DbErr> {
    let mut out: HashMap<String, Vec<TagView>> = HashMap::new();
    if conversation_ids.is_empty() {
        return Ok(out);
    }
    let links = conversation_tag::Entity::find()
        .filter(conversation_tag::Column::OrgId.eq(org_id))
        .filter(conversation_tag::Column::ConversationId.is_in(conversation_ids.to_vec()))
        .all(db)
        .await?;
    let tag_ids: Vec<String> = links.iter().map(|l| l.tag_id.clone()).collect();
    let tags: HashMap<String, tag::Model> = tag::Entity::find()
        .filter(tag::Column::Id.is_in(tag_ids))
        .order_by_asc(tag::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id.clone(), t))
        .collect();
    for l in links {
        if let Some(t) = tags.get(&l.tag_id) {
            out.entry(l.conversation_id).or_default().push(TagView::from(t));
        }
    }
    for v in out.values_mut() {
        v.sort_by(|a, b| a.name.cmp(&b.name));
    }
    Ok(out)
}
