//! Users as authentication sees them: who may act.

use entities::user;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::error::ApiResult;
use crate::state::AppState;

/// The organization's user with this id, unless deleted.
pub async fn active_user(state: &AppState, org_id: &str, id: &str) -> ApiResult<Option<user::Model>> {
    Ok(user::Entity::find_by_id(id.to_owned())
        .filter(user::Column::OrgId.eq(org_id))
        .filter(user::Column::DeletedAt.is_null())
        .one(state.db())
        .await?)
}
