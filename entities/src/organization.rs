//! A tenant. `event_seq` is the organization's event counter: bumping it inside a transaction
//! serializes event-producing commits of one organization, so `events.org_seq` commits in order.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organizations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    pub bot_enabled: bool,
    pub onboarding_completed: bool,
    pub event_seq: i64,
    /// Business hours, off-hours reply, maintenance mode, default team and idle-agent settings,
    /// as JSON (`actors::routing::settings::RoutingSettings`); `None` = the defaults.
    pub routing_settings: Option<String>,
    /// Bot switches as JSON (`cx_inbox::bot::settings::OrgBotSettings`): bot mode flags,
    /// auto-categorize, media auto-display, writing assist; `None` = the defaults.
    pub bot_settings: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
