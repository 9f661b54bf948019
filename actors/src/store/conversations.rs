//! Conversations: reads for the API and the rows the actors write.

use entities::conversation;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use entities::enums::ConversationStatus;

pub async fn get(db: &impl ConnectionTrait, org_id: &str, id: &str) -> Result<Option<conversation::Model>, DbErr> {
    conversation::Entity::find_by_id(id.to_owned()).filter(conversation::Column::OrgId.eq(org_id)).one(db).await
}

/// The contact's conversation in this inbox that is not closed, if any (the newest).
pub async fn open_for_contact(
    db: &impl ConnectionTrait,
    inbox_id: &str,
    contact_id: &str,
) -> Result<Option<conversation::Model>, DbErr> {
    conversation::Entity::find()
        .filter(conversation::Column::InboxId.eq(inbox_id))
        .filter(conversation::Column::ContactId.eq(contact_id))
        .filter(conversation::Column::Status.ne(ConversationStatus::Closed.as_str()))
        .order_by_desc(conversation::Column::Id)
        .one(db)
        .await
}

/// Writes every column of `c` (the actor computed the whole new row) if the stored row is still
/// at `expected_seq`; `false` when someone else changed it first.
pub async fn save_if_unchanged(
    db: &impl ConnectionTrait,
    c: &conversation::Model,
    expected_seq: i64,
) -> Result<bool, DbErr> {
    let res = conversation::Entity::update_many()
        .set(conversation::ActiveModel::from(c.clone()).reset_all())
        .filter(conversation::Column::Id.eq(c.id.clone()))
        .filter(conversation::Column::EventSeq.eq(expected_seq))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// What the conversation list is narrowed to.
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    /// Any of these statuses; all when empty.
    pub statuses: Vec<ConversationStatus>,
    /// Tagged with any of these tags; no restriction when empty.
    pub tag_ids: Vec<String>,
}

/// Which way a cursor page goes along the id order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    /// Items older (smaller id) than the key.
    Before,
    /// Items newer (larger id) than the key.
    After,
}

/// A page of the organization's conversations, newest first, optionally by status.
pub async fn list(
    db: &impl ConnectionTrait,
    org_id: &str,
    filter: &ListFilter,
    key: Option<(Page, &str)>,
    limit: u64,
) -> Result<Vec<conversation::Model>, DbErr> {
    let mut q = conversation::Entity::find().filter(conversation::Column::OrgId.eq(org_id));
    if !filter.statuses.is_empty() {
        q = q.filter(conversation::Column::Status.is_in(filter.statuses.iter().map(|s| s.as_str())));
    }
    if !filter.tag_ids.is_empty() {
        let tagged = sea_orm::sea_query::Query::select()
            .column(entities::conversation_tag::Column::ConversationId)
            .from(entities::conversation_tag::Entity)
            .and_where(entities::conversation_tag::Column::TagId.is_in(filter.tag_ids.clone()))
            .to_owned();
        q = q.filter(conversation::Column::Id.in_subquery(tagged));
    }
    let rows = match key {
        Some((Page::After, k)) => {
            let mut rows = q
                .filter(conversation::Column::Id.gt(k))
                .order_by_asc(conversation::Column::Id)
                .limit(limit)
                .all(db)
                .await?;
            rows.reverse();
            rows
        }
        Some((Page::Before, k)) => {
            q.filter(conversation::Column::Id.lt(k))
                .order_by_desc(conversation::Column::Id)
                .limit(limit)
                .all(db)
                .await?
        }
        None => q.order_by_desc(conversation::Column::Id).limit(limit).all(db).await?,
    };
    Ok(rows)
}
