//! One recipient of a campaign: their number, their parameters (checked and rendered when the
//! campaign was made), and how their message fared.
use sea_orm::entity::prelude::*;

use crate::enums::RecipientStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaign_recipients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    pub campaign_id: String,
    /// Order of sending (the row of the upload).
    pub position: i32,
    /// The WhatsApp id (E.164 digits).
    pub wa_id: String,
    pub name: Option<String>,
    /// The parameters as given, JSON.
    pub parameters: String,
    /// Meta's send components with the parameters filled in, JSON.
    pub components: String,
    /// The rendered text the thread shows.
    pub text: String,
    pub status: RecipientStatus,
    pub conversation_id: Option<String>,
    pub message_id: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub sent_at: Option<DateTimeUtc>,
    pub delivered_at: Option<DateTimeUtc>,
    pub read_at: Option<DateTimeUtc>,
    pub replied_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
