//! How many of an organization's outbound messages are failed (by error code), discarded or
//! pending. Database triggers keep these with every message write (migration 000030).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox_counts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub org_id: String,
    /// `failed` (and not discarded), `discarded` or `pending`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub state: String,
    /// The provider's error code of failed messages (`""` for none); `""` for the other states.
    #[sea_orm(primary_key, auto_increment = false)]
    pub error_code: String,
    pub n: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
