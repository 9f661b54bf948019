//! A campaign: one approved template sent to many recipients from one number.
use sea_orm::entity::prelude::*;

use crate::enums::CampaignStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaigns")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub template_id: String,
    pub template_name: String,
    pub language: String,
    /// The template's category when the campaign was made (what Meta charges by).
    pub category: String,
    /// The number it sends from, and that number's inbox.
    pub account_id: String,
    pub inbox_id: String,
    pub status: CampaignStatus,
    /// When it starts (UTC); `None`: at once.
    pub scheduled_at: Option<DateTimeUtc>,
    pub started_at: Option<DateTimeUtc>,
    pub completed_at: Option<DateTimeUtc>,
    /// Recipients.
    pub total: i32,
    /// A reply within this many hours of the send counts as a reply to the campaign.
    pub attribution_hours: i32,
    /// Why sending waits (the number's daily limit reached, Meta throttling), if it does.
    pub waiting_reason: Option<String>,
    /// The node running it, until when (renewed while it runs).
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    pub created_by: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
