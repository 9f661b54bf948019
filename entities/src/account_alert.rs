//! Something Meta announced about a connected WhatsApp Business Account or one of its numbers (a
//! quality flag, a messaging-limit change, a ban or restriction, an alert), kept until an admin
//! acknowledges it. One row per organization that has the business account connected.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "account_alerts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    /// The organization's account (number) it is about, when Meta named one we know.
    pub account_id: Option<String>,
    /// The WhatsApp Business Account (the webhook entry's id).
    pub waba_id: String,
    /// The webhook field that brought it: `account_alerts`, `phone_number_quality_update` or
    /// `account_update`.
    pub source: String,
    /// Meta's alert type or event (`DOWNGRADE`, `FLAGGED`, `DISABLED_UPDATE`, …).
    pub alert_type: String,
    /// `CRITICAL`, `WARNING` or `INFORMATIONAL`: Meta's, or ours from the event's kind.
    pub severity: Option<String>,
    /// Meta's `alert_status` (`ACTIVE`, `NONE`), for `account_alerts`.
    pub alert_status: Option<String>,
    /// One line for a list.
    pub title: String,
    pub description: Option<String>,
    /// The webhook's value as Meta sent it (JSON).
    pub details: Option<String>,
    /// Hash of the webhook field, business account, Meta's timestamp and value: a redelivery has
    /// the same key and is not stored again. Unique per organization.
    pub dedupe_key: String,
    /// Meta's timestamp of the change (the entry's `time`), or when it arrived.
    pub occurred_at: DateTimeUtc,
    pub acknowledged_at: Option<DateTimeUtc>,
    /// The user who acknowledged it.
    pub acknowledged_by: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
