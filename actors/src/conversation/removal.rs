//! Deleting a conversation (the simulation cleanup): done by its actor like any other change, so
//! no message it is still handling writes after the delete, and the actor stops with it instead
//! of serving a cached row of a conversation that no longer exists.

use actix::prelude::*;
use entities::{conversation, conversation_tag, message};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};

use super::{ConversationActor, Outbox};
use crate::error::ActorError;
use crate::events::EventName;

/// Delete the conversation with its messages and tags; announced as `conversations.removed`.
/// Answers how many messages went with it.
#[derive(Message, Clone, Debug, Serialize, Deserialize)]
#[rtype(result = "Result<u64, ActorError>")]
pub struct Delete {
    pub org_id: String,
    /// Why, for the event (`simulation cleanup`).
    pub reason: String,
}

impl Handler<Delete> for ConversationActor {
    type Result = AtomicResponse<Self, Result<u64, ActorError>>;
    fn handle(&mut self, msg: Delete, _: &mut Context<Self>) -> Self::Result {
        let org_id = msg.org_id.clone();
        let work = self.run_fut(&org_id, move |rt, s| async move {
            let txn = rt.db.begin_write_in(&s.conv.org_id).await?;
            let id = s.conv.id.clone();
            let gone = conversation::Entity::delete_many()
                .filter(conversation::Column::Id.eq(id.clone()))
                .filter(conversation::Column::EventSeq.eq(s.conv.event_seq))
                .exec(&*txn)
                .await?;
            if gone.rows_affected != 1 {
                return Err(ActorError::Stale);
            }
            let messages = message::Entity::delete_many()
                .filter(message::Column::ConversationId.eq(id.clone()))
                .exec(&*txn)
                .await?;
            conversation_tag::Entity::delete_many()
                .filter(conversation_tag::Column::ConversationId.eq(id.clone()))
                .exec(&*txn)
                .await?;
            let mut out = Outbox::new(&s.conv);
            let payload = serde_json::json!({ "conversationIds": [id], "reason": msg.reason });
            out.push(EventName::ConversationsRemoved, payload.to_string());
            rt.commit(txn, &s.conv.org_id, out.items).await?;
            Ok((s, messages.rows_affected))
        });
        AtomicResponse::new(Box::pin(work.map(|res, act, ctx| {
            if res.is_ok() {
                // Nothing left to serve: the next message for this id loads, finds no row and
                // answers not found.
                act.state = None;
                ctx.stop();
            }
            res
        })))
    }
}
