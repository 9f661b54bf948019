//! Team membership as accounts see it: the active team a request names, and the one way a user
//! joins a team (creating a user, accepting an invitation, and the teams' own "add member").

use chrono::Utc;
use entities::enums::TeamRole;
use entities::{team, team_member};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::domain::{Error, Result};

/// An active team of the organization, named by the request's `field`: a 400 on `field` when the
/// organization has no such team (another organization's included) or it is deactivated.
pub async fn active_team(db: &impl ConnectionTrait, org_id: &str, id: &str, field: &str) -> Result<team::Model> {
    let found = team::Entity::find_by_id(id.to_owned()).filter(team::Column::OrgId.eq(org_id)).one(db).await?;
    match found {
        Some(t) if t.is_active && t.deleted_at.is_none() => Ok(t),
        Some(_) => Err(Error::invalid(field, "the team is deactivated")),
        None => Err(Error::invalid(field, "no such team")),
    }
}

/// Makes `user_id` a member of `team_id` with `role`, in `db` (the caller's transaction when it
/// has one). The caller checks the team and the user belong to `org_id`; 409 when the user is a
/// member already.
pub async fn add_member(
    db: &impl ConnectionTrait,
    org_id: &str,
    team_id: &str,
    user_id: &str,
    role: TeamRole,
) -> Result<team_member::Model> {
    let inserted = team_member::ActiveModel::from(team_member::Model {
        team_id: team_id.to_owned(),
        user_id: user_id.to_owned(),
        org_id: org_id.to_owned(),
        role,
        created_at: Utc::now(),
    })
    .reset_all()
    .insert(db)
    .await;
    match inserted {
        Ok(m) => Ok(m),
        Err(e) if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => {
            Err(Error::Conflict("the user is already a member of this team".into()))
        }
        Err(e) => Err(e.into()),
    }
}
