//! An inbox's avatar image, kept in the media store like users' avatars.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel};

use super::manage;
use crate::auth::profile::avatar_content_type;
use crate::domain::{Error, Result};
use crate::state::AppState;

/// The inbox's avatar image and its content type; 404 for no such inbox or no avatar.
pub async fn get(state: &AppState, org_id: &str, id: &str) -> Result<(Vec<u8>, &'static str)> {
    let inbox = manage::get(state, org_id, id).await?;
    let key = inbox.model.avatar_path.ok_or(Error::NotFound("avatar"))?;
    match state.media.get(&key).await {
        Ok(bytes) => Ok((bytes, avatar_content_type(&key))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::NotFound("avatar")),
        Err(e) => Err(Error::Internal(format!("media store: {e}"))),
    }
}

/// Removes the inbox's avatar, if it has one (the file goes too; a failure there leaves an
/// orphan file, not an error).
pub async fn remove(state: &AppState, org_id: &str, id: &str) -> Result<()> {
    let inbox = manage::get(state, org_id, id).await?;
    let Some(old) = inbox.model.avatar_path.clone() else {
        return Ok(());
    };
    let mut am = inbox.model.into_active_model();
    am.avatar_path = Set(None);
    am.updated_at = Set(Utc::now());
    am.update(state.db()).await?;
    if let Err(e) = state.media.delete(&old).await {
        tracing::warn!(key = %old, error = %e, "could not remove an inbox avatar");
    }
    Ok(())
}
