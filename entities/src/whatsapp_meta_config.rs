//! An organization's Meta app settings for Embedded Signup: the app id and the Embedded Signup
//! configuration id, which the web app needs to open Meta's dialog. The app secret is not here:
//! it stays in the server's environment (`CX_WHATSAPP_APP_SECRET`).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "whatsapp_meta_configs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub org_id: String,
    pub app_id: String,
    pub config_id: String,
    /// The admin who saved it last.
    pub updated_by: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
