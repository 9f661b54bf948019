//! A customer, identified per organization by their WhatsApp id (E.164 without `+`).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contacts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    pub wa_id: String,
    pub name: Option<String>,
    /// The name the customer gives themselves on WhatsApp (the last one seen).
    pub profile_name: Option<String>,
    /// Someone edited `name`: a new profile name no longer replaces it.
    pub name_edited: bool,
    pub phone: Option<String>,
    /// Free-form category an agent or the classifier gave the contact (e.g. `vip`, `lead`).
    pub category: Option<String>,
    /// Made by the dev simulation endpoints; cleanup removes it with its conversations.
    pub simulated: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
