//! An ordered routing rule: when its conditions match a new conversation, the conversation goes
//! to its team.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "routing_rules")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub team_id: String,
    /// `ANY` or `ALL`.
    pub match_type: String,
    /// JSON array of `actors::policy::routing::Condition`.
    pub conditions: String,
    /// 1 is evaluated first.
    pub priority: i32,
    pub is_active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
