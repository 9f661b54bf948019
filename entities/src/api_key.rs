//! Organization API keys. The full key is shown once at creation; only its SHA-256 hash and a
//! short display prefix are kept.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    pub name: String,
    /// First characters of the key, so admins can tell keys apart.
    pub prefix: String,
    #[sea_orm(unique)]
    pub key_hash: String,
    /// Role the key acts with: `ADMIN` or `AGENT`.
    pub role: crate::enums::Role,
    pub created_by: Option<String>,
    pub is_active: bool,
    pub last_used_at: Option<DateTimeUtc>,
    pub expires_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
