//! What the conversation screens read besides the list: conversations rendered with their
//! contacts and tags, the categories in use, a contact's other conversations.

use std::collections::HashMap;

use actors::views::ConversationView;
use entities::enums::Channel;
use entities::{contact, conversation};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::Result;

/// Renders conversations with their contacts and tags, loading each kind in one query.
pub async fn views(
    db: &DatabaseConnection,
    org_id: &str,
    rows: &[conversation::Model],
) -> Result<Vec<ConversationView>> {
    let ids: Vec<String> = rows.iter().map(|c| c.contact_id.clone()).collect();
    let contacts: HashMap<String, contact::Model> = if ids.is_empty() {
        HashMap::new()
    } else {
        contact::Entity::find()
            .filter(contact::Column::OrgId.eq(org_id))
            .filter(contact::Column::Id.is_in(ids))
            .all(db)
            .await?
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect()
    };
    let conv_ids: Vec<String> = rows.iter().map(|c| c.id.clone()).collect();
    let mut tags = actors::store::tags::of_conversations(db, org_id, &conv_ids).await?;
    let channels = actors::store::inboxes::channels(db, org_id).await?;
    Ok(rows
        .iter()
        .map(|c| {
            let channel = channels.get(&c.inbox_id).copied().unwrap_or(Channel::Whatsapp);
            let mut v = ConversationView::new(c, contacts.get(&c.contact_id), channel);
            v.tags = Some(tags.remove(&c.id).unwrap_or_default());
            v
        })
        .collect())
}

#[derive(Serialize, ToSchema)]
pub struct CategoryCount {
    pub category: String,
    pub count: i64,
}

/// The categories the organization's conversations have, with how many have each, most used
/// first.
pub async fn categories(db: &DatabaseConnection, org_id: &str) -> Result<Vec<CategoryCount>> {
    let rows: Vec<(Option<String>, i64)> = conversation::Entity::find()
        .filter(conversation::Column::OrgId.eq(org_id))
        .filter(conversation::Column::Category.is_not_null())
        .select_only()
        .column(conversation::Column::Category)
        .column_as(Expr::col(conversation::Column::Id).count(), "n")
        .group_by(conversation::Column::Category)
        .into_tuple()
        .all(db)
        .await?;
    let mut out: Vec<CategoryCount> =
        rows.into_iter().filter_map(|(c, count)| Some(CategoryCount { category: c?, count })).collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then(a.category.cmp(&b.category)));
    Ok(out)
}

/// The contact's other conversations, newest first (at most 100), rendered.
pub async fn contact_history(db: &DatabaseConnection, conv: &conversation::Model) -> Result<Vec<ConversationView>> {
    let rows = conversation::Entity::find()
        .filter(conversation::Column::OrgId.eq(conv.org_id.clone()))
        .filter(conversation::Column::ContactId.eq(conv.contact_id.clone()))
        .filter(conversation::Column::Id.ne(conv.id.clone()))
        .order_by_desc(conversation::Column::Id)
        .limit(100)
        .all(db)
        .await?;
    views(db, &conv.org_id, &rows).await
}
