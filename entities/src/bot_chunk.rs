//! A passage of a knowledge-base document, the unit of retrieval.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bot_chunks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    pub document_id: String,
    pub position: i32,
    pub text: String,
    /// JSON array of floats from the provider's embedding model, if configured.
    pub embedding: Option<String>,
    /// The retrieval terms of `text` (`knowledge::terms`) joined by spaces: what the database's
    /// full-text index holds, and the term frequencies BM25 reads back.
    pub terms: String,
    /// How many terms (BM25's passage length); `-1` until a passage from before the index is
    /// backfilled at start-up.
    pub term_count: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
