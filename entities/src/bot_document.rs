//! A knowledge-base document of an organization; its text is split into [`crate::bot_chunk`]s.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bot_documents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub mime: String,
    pub size: i64,
    /// `PROCESSING`, `READY` or `FAILED`.
    pub status: crate::enums::DocumentStatus,
    pub error: Option<String>,
    pub chunk_count: i32,
    /// The original file in the media store.
    pub path: String,
    /// Chunks carry provider embeddings.
    pub embedded: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
