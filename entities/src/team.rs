//! A team of agents. Routing rules send conversations to a team; auto-assignment picks among its
//! members by the team's strategy and capacity.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "teams")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub description: Option<String>,
    /// `LEAST_LOADED` or `ROUND_ROBIN` (see [`crate::enums::AssignStrategy`]).
    pub strategy: crate::enums::AssignStrategy,
    /// Most open conversations per member, unless the member has their own limit.
    pub max_open_per_agent: Option<i32>,
    /// Working hours as JSON (`actors::policy::schedule::WeeklySchedule`).
    pub schedule: Option<String>,
    pub is_active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
