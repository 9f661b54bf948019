//! A WhatsApp message template of an organization's business account: a local draft, or Meta's
//! template with its review status.
use sea_orm::entity::prelude::*;

use crate::enums::{TemplateCategory, TemplateStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "whatsapp_templates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    /// The connected number whose business account holds it; a draft may have none yet.
    pub account_id: Option<String>,
    pub waba_id: Option<String>,
    /// Meta's id, once submitted or synced.
    pub meta_id: Option<String>,
    pub name: String,
    pub language: String,
    pub category: TemplateCategory,
    /// POSITIONAL (`{{1}}`) or NAMED (`{{order_id}}`).
    pub parameter_format: String,
    /// The components in Meta's shape, JSON.
    pub components: String,
    pub status: TemplateStatus,
    pub rejected_reason: Option<String>,
    /// GREEN, YELLOW, RED or UNKNOWN, from Meta.
    pub quality: Option<String>,
    /// What the category was before Meta changed it.
    pub previous_category: Option<String>,
    /// The header image, video or document, in the media store.
    pub header_media_path: Option<String>,
    pub header_media_mime: Option<String>,
    pub created_by: Option<String>,
    pub submitted_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
