//! A customer of an organization: on WhatsApp identified by their WhatsApp id (E.164 without
//! `+`), elsewhere by their address in each inbox (`contact_inbox`) and, for a website's
//! signed-in visitor, by the site's `identifier`.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contacts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    /// The WhatsApp id, or `''` for a customer who never wrote on WhatsApp.
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
    pub email: Option<String>,
    /// The website's own id of a signed-in visitor (identity verified by the inbox's HMAC).
    pub identifier: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// What to call the customer: their name, else their WhatsApp number, else their email,
    /// else "Visitor" (a website visitor who has not said who they are).
    pub fn display_name(&self) -> String {
        if let Some(name) = self.name.as_deref().filter(|n| !n.is_empty()) {
            return name.to_owned();
        }
        if !self.wa_id.is_empty() {
            return format!("+{}", self.wa_id);
        }
        self.email.clone().unwrap_or_else(|| "Visitor".to_owned())
    }
}
