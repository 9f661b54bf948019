//! Messages.

use entities::message;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::conversations::Page;

/// The message an inbox already holds with this provider id (wamid), if any.
pub async fn by_provider_id(
    db: &impl ConnectionTrait,
    inbox_id: &str,
    provider_message_id: &str,
) -> Result<Option<message::Model>, DbErr> {
    message::Entity::find()
        .filter(message::Column::InboxId.eq(inbox_id))
        .filter(message::Column::ProviderMessageId.eq(provider_message_id))
        .one(db)
        .await
}

/// A page of a conversation's messages in chronological order. Without a key: the latest
/// `limit`; `Before`: the `limit` messages just older than the key; `After`: just newer.
pub async fn page(
    db: &impl ConnectionTrait,
    conversation_id: &str,
    key: Option<(Page, &str)>,
    limit: u64,
) -> Result<Vec<message::Model>, DbErr> {
    let q = message::Entity::find().filter(message::Column::ConversationId.eq(conversation_id));
    let mut rows = match key {
        Some((Page::After, k)) => {
            return q.filter(message::Column::Id.gt(k)).order_by_asc(message::Column::Id).limit(limit).all(db).await;
        }
        Some((Page::Before, k)) => {
            q.filter(message::Column::Id.lt(k)).order_by_desc(message::Column::Id).limit(limit).all(db).await?
        }
        None => q.order_by_desc(message::Column::Id).limit(limit).all(db).await?,
    };
    rows.reverse();
    Ok(rows)
}
