//! Per organization, the figures BM25 needs about all of its knowledge passages, kept with every
//! passage write so that retrieval never counts them.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bot_knowledge_stats")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub org_id: String,
    /// Passages (BM25's N).
    pub chunks: i64,
    /// The sum of the passages' term counts (N times the average length).
    pub total_terms: i64,
    /// Passages that carry an embedding.
    pub embedded_chunks: i64,
    /// Changes with every write of the organization's passages: a cache of its vectors is
    /// stale when this differs.
    pub version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
