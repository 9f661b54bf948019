//! People and routing at run time: agent presence, the organization's routing settings,
//! auto-assignment of the queue, and the idle-agent detector. The policy itself (schedules,
//! rule conditions, the choice of agent) is plain functions in [`crate::policy`] and [`assign`].

pub mod assign;
pub mod idle;
pub mod presence;
pub mod routing;
pub mod settings;

use entities::conversation;
use entities::enums::ConversationStatus;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::conversation::Reassign;
use crate::error::ActorError;
use crate::runtime::Runtime;

/// Moves every open conversation of `user_id` back to the queue with `note` on each timeline
/// (the user was deleted or deactivated). Returns how many moved.
pub async fn release_conversations(rt: &Runtime, org_id: &str, user_id: &str, note: &str) -> Result<usize, ActorError> {
    let open = conversation::Entity::find()
        .filter(conversation::Column::OrgId.eq(org_id))
        .filter(conversation::Column::AssignedTo.eq(user_id))
        .filter(conversation::Column::Status.ne(ConversationStatus::Closed.as_str()))
        .all(&rt.db.conn)
        .await?;
    let mut moved = 0;
    for c in open {
        let msg = Reassign { org_id: org_id.into(), from: user_id.into(), to: None, note: note.into() };
        if rt.ask_conversation(org_id, &c.id, msg).await?.is_some() {
            moved += 1;
        }
    }
    Ok(moved)
}
