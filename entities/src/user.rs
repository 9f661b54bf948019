//! A person who logs in: an agent or an admin of one organization.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    /// Lower-cased; unique across the platform so login needs no organization.
    pub email: String,
    pub name: String,
    /// Argon2id PHC string; `None` for users who only log in by email code.
    pub password_hash: Option<String>,
    /// `SUPER_ADMIN`, `ADMIN` or `AGENT` (see [`crate::enums::Role`]).
    pub role: crate::enums::Role,
    /// Presence as last set or derived: `ONLINE`, `AWAY`, `BUSY`, `OFFLINE`.
    pub status: crate::enums::Presence,
    /// The avatar image in the media store, served at `/api/v1/users/{id}/avatar`.
    pub avatar_path: Option<String>,
    /// Most open conversations auto-assignment gives this agent; `None` = the team's limit.
    pub max_concurrent: Option<i32>,
    /// When `status` last changed: how long an agent has been OFFLINE or AWAY.
    pub status_changed_at: Option<DateTimeUtc>,
    /// When the agent's last socket closed.
    pub last_seen_at: Option<DateTimeUtc>,
    /// When auto-assignment last gave this agent a conversation (round-robin order).
    pub last_assigned_at: Option<DateTimeUtc>,
    /// The agent's writing-assist preference; `None` = on when the organization enables it.
    pub writing_assist: Option<bool>,
    /// Access tokens issued before this no longer work (a password change, signing out
    /// everywhere).
    pub sessions_valid_after: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
