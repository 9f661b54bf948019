//! Deleting conversations for good, with their messages and tags. Each goes through its actor
//! (as the simulation cleanup does), so no message still in flight writes after the delete.

use actors::conversation::Delete;
use entities::conversation;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::domain::{Error, Result};
use crate::state::AppState;

/// Most conversations one request deletes.
pub const MAX_IDS: usize = 100;

/// Deletes the conversations `ids` of the organization; answers the ids deleted, in the order
/// given (each once). When any id names no conversation of the organization, nothing is
/// deleted. `field` names the list in the caller's API.
pub async fn delete(state: &AppState, org_id: &str, ids: &[String], field: &str, reason: &str) -> Result<Vec<String>> {
    let mut wanted: Vec<String> = Vec::new();
    for id in ids.iter().map(|i| i.trim()) {
        if id.is_empty() {
            return Err(Error::invalid(field, format!("{field} holds an empty id")));
        }
        if !wanted.iter().any(|w| w == id) {
            wanted.push(id.to_owned());
        }
    }
    if wanted.is_empty() || wanted.len() > MAX_IDS {
        return Err(Error::invalid(field, format!("{field} holds 1 to {MAX_IDS} conversation ids")));
    }
    let found: Vec<String> = conversation::Entity::find()
        .select_only()
        .column(conversation::Column::Id)
        .filter(conversation::Column::OrgId.eq(org_id))
        .filter(conversation::Column::Id.is_in(wanted.clone()))
        .into_tuple()
        .all(state.db())
        .await?;
    if wanted.iter().any(|w| !found.contains(w)) {
        return Err(Error::NotFound("conversation"));
    }
    delete_found(state, org_id, wanted, reason).await
}

/// Deletes conversations already known to be the organization's, one by one through their
/// actors; answers the ids deleted (one deleted by someone else meanwhile counts as deleted).
pub async fn delete_found(state: &AppState, org_id: &str, ids: Vec<String>, reason: &str) -> Result<Vec<String>> {
    let mut deleted = Vec::with_capacity(ids.len());
    for id in ids {
        let msg = Delete { org_id: org_id.to_owned(), reason: reason.to_owned() };
        match state.rt.ask_conversation(org_id, &id, msg).await {
            Ok(_) => deleted.push(id),
            // Deleted by someone else since it was found: it is gone all the same.
            Err(actors::ActorError::NotFound(_)) => deleted.push(id),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(deleted)
}
