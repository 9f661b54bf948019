//! An invitation to join an organization. The token is sent by email and stored only as its
//! SHA-256; it is single-use and expires.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invitations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    /// Lower-cased.
    pub email: String,
    pub name: Option<String>,
    /// The role the new user gets.
    pub role: crate::enums::Role,
    /// A team the new user joins as a member on acceptance.
    pub team_id: Option<String>,
    /// Set when an admin created the user first (`POST /users`): acceptance sets their password.
    pub user_id: Option<String>,
    pub token_hash: String,
    /// `PENDING`, `ACCEPTED` or `REVOKED` (an expired one stays `PENDING` past `expires_at`).
    pub status: crate::enums::InvitationStatus,
    pub invited_by: Option<String>,
    pub expires_at: DateTimeUtc,
    pub accepted_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
