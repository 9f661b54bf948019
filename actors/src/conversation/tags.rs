//! Tags on a conversation: adding and removing one is a change of the conversation, made by
//! its actor and announced as `conversation.updated` carrying the tags.

use actix::prelude::*;
use chrono::Utc;
use entities::conversation_tag;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};

use super::{ConversationActor, Loaded, Outbox, commit};
use crate::error::ActorError;
use crate::events::EventName;
use crate::runtime::Runtime;
use crate::store;
use crate::views::ConversationView;

/// Put a tag on the conversation (no change if it is there already).
#[derive(Message, Clone, Debug, Serialize, Deserialize)]
#[rtype(result = "Result<ConversationView, ActorError>")]
pub struct AddTag {
    pub org_id: String,
    pub tag_id: String,
}

/// Take a tag off the conversation.
#[derive(Message, Clone, Debug, Serialize, Deserialize)]
#[rtype(result = "Result<ConversationView, ActorError>")]
pub struct RemoveTag {
    pub org_id: String,
    pub tag_id: String,
}

async fn tagged_view(rt: &Runtime, s: &Loaded) -> Result<ConversationView, ActorError> {
    let mut tags = store::tags::of_conversations(&rt.db.conn, &s.conv.org_id, std::slice::from_ref(&s.conv.id)).await?;
    let mut view = s.view();
    view.tags = Some(tags.remove(&s.conv.id).unwrap_or_default());
    Ok(view)
}

async fn announce(
    rt: &Runtime,
    mut s: Loaded,
    txn: crate::db::WriteTxn,
) -> Result<(Loaded, ConversationView), ActorError> {
    s.conv.updated_at = Utc::now();
    let mut out = Outbox::new(&s.conv);
    s.conv.event_seq += 1;
    // Rendered inside the transaction, so the tags are the ones being committed.
    let mut tags = store::tags::of_conversations(&*txn, &s.conv.org_id, std::slice::from_ref(&s.conv.id)).await?;
    let mut view = s.view();
    view.tags = Some(tags.remove(&s.conv.id).unwrap_or_default());
    out.push(EventName::ConversationUpdated, serde_json::to_string(&view)?);
    commit(rt, txn, &mut s.conv, out).await?;
    Ok((s, view))
}

impl Handler<AddTag> for ConversationActor {
    type Result = AtomicResponse<Self, Result<ConversationView, ActorError>>;
    fn handle(&mut self, msg: AddTag, _: &mut Context<Self>) -> Self::Result {
        let org_id = msg.org_id.clone();
        self.run(&org_id, move |rt, s| async move {
            // Checked inside the write: a tag deleted meanwhile is never linked again.
            let txn = rt.db.begin_write_in(&s.conv.org_id).await?;
            store::tags::get_to_link(&*txn, &s.conv.org_id, &msg.tag_id).await?.ok_or(ActorError::NotFound("tag"))?;
            let exists =
                conversation_tag::Entity::find_by_id((s.conv.id.clone(), msg.tag_id.clone())).one(&*txn).await?;
            if exists.is_some() {
                drop(txn);
                let view = tagged_view(&rt, &s).await?;
                return Ok((s, view));
            }
            conversation_tag::ActiveModel {
                conversation_id: Set(s.conv.id.clone()),
                tag_id: Set(msg.tag_id.clone()),
                org_id: Set(s.conv.org_id.clone()),
                created_at: Set(Utc::now()),
            }
            .insert(&*txn)
            .await?;
            announce(&rt, s, txn).await
        })
    }
}

impl Handler<RemoveTag> for ConversationActor {
    type Result = AtomicResponse<Self, Result<ConversationView, ActorError>>;
    fn handle(&mut self, msg: RemoveTag, _: &mut Context<Self>) -> Self::Result {
        let org_id = msg.org_id.clone();
        self.run(&org_id, move |rt, s| async move {
            let txn = rt.db.begin_write_in(&s.conv.org_id).await?;
            let deleted = conversation_tag::Entity::delete_many()
                .filter(conversation_tag::Column::ConversationId.eq(s.conv.id.clone()))
                .filter(conversation_tag::Column::TagId.eq(msg.tag_id.clone()))
                .exec(&*txn)
                .await?;
            if deleted.rows_affected == 0 {
                return Err(ActorError::NotFound("tag"));
            }
            announce(&rt, s, txn).await
        })
    }
}
