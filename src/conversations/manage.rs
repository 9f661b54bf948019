//! Setting a conversation's fields directly (`PATCH`): status, assignee, category and team,
//! checked here (who may assign to whom, that the assignee and the team are the organization's)
//! and applied by the conversation's actor, which decides the transition.

use actors::conversation::Update;
use actors::views::ConversationView;
use entities::enums::ConversationStatus;

use crate::domain::refs::{Kind, require};
use crate::domain::{Error, Result};
use crate::state::AppState;

/// Who asks: admins may assign to anyone, agents only to themselves.
pub struct Asker<'a> {
    pub is_admin: bool,
    pub user_id: Option<&'a str>,
}

/// The fields to set; `None` keeps one, `Some(None)` clears it.
#[derive(Default)]
pub struct Changes {
    pub status: Option<ConversationStatus>,
    pub assigned_to: Option<Option<String>>,
    pub category: Option<Option<String>>,
    pub team_id: Option<Option<String>>,
}

/// Applies `changes` to the conversation (of `org_id`) through its actor.
pub async fn update(
    state: &AppState,
    org_id: &str,
    asker: Asker<'_>,
    conversation_id: &str,
    changes: Changes,
) -> Result<ConversationView> {
    if let Some(Some(user)) = &changes.assigned_to {
        if !asker.is_admin && asker.user_id != Some(user.as_str()) {
            return Err(Error::Forbidden("agents can assign conversations only to themselves".into()));
        }
        if crate::auth::users::active_user(state.db(), org_id, user).await?.is_none() {
            return Err(Error::invalid("assignedTo", "assignedTo names no active user of this organization"));
        }
    }
    let category = match changes.category {
        Some(Some(c)) => {
            let c = c.trim().to_owned();
            if c.chars().count() > 100 {
                return Err(Error::invalid("category", "category is at most 100 characters"));
            }
            Some((!c.is_empty()).then_some(c))
        }
        other => other,
    };
    if let Some(Some(team)) = &changes.team_id {
        require(state.db(), org_id, "teamId", Kind::Team, team).await?;
    }
    let conv = actors::store::conversations::get(state.db(), org_id, conversation_id)
        .await?
        .ok_or(Error::NotFound("conversation"))?;
    let msg = Update {
        org_id: org_id.to_owned(),
        status: changes.status,
        assigned_to: changes.assigned_to,
        category,
        team_id: changes.team_id,
    };
    Ok(state.rt.ask_conversation(org_id, &conv.id, msg).await?)
}
