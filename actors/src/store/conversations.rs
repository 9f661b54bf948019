//! Conversations: reads for the API and the rows the actors write.

use entities::conversation;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

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

/// Which way a cursor page goes along the id order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    /// Items older (smaller id) than the key.
    Before,
    /// Items newer (larger id) than the key.
    After,
}

/// Organizations with conversations waiting unassigned for a human.
pub async fn orgs_with_queue(db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    use sea_orm::QuerySelect;
    conversation::Entity::find()
        .select_only()
        .column(conversation::Column::OrgId)
        .distinct()
        .filter(conversation::Column::Status.eq(ConversationStatus::Open.as_str()))
        .filter(conversation::Column::AssignedTo.is_null())
        .into_tuple()
        .all(db)
        .await
}

/// Open (not CLOSED) conversations assigned to each of these users; users with none are absent.
pub async fn open_counts(
    db: &impl ConnectionTrait,
    org_id: &str,
    user_ids: &[String],
) -> Result<std::collections::HashMap<String, i64>, DbErr> {
    use sea_orm::QuerySelect;
    use sea_orm::sea_query::{Expr, ExprTrait};
    let rows: Vec<(Option<String>, i64)> = conversation::Entity::find()
        .select_only()
        .column(conversation::Column::AssignedTo)
        .column_as(ExprTrait::count(Expr::col(conversation::Column::Id)), "n")
        .filter(conversation::Column::OrgId.eq(org_id))
        .filter(conversation::Column::AssignedTo.is_in(user_ids.to_vec()))
        .filter(conversation::Column::Status.ne(ConversationStatus::Closed.as_str()))
        .group_by(conversation::Column::AssignedTo)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().filter_map(|(u, n)| u.map(|u| (u, n))).collect())
}
