//! Model usage of an organization in one calendar month (UTC).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bot_usage")]
pub struct Model {
    /// `{org_id}:{month}`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    /// `YYYY-MM`.
    pub month: String,
    /// Bot turns answered.
    pub turns: i64,
    /// Model calls of any kind.
    pub calls: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
