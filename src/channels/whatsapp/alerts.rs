//! Account alerts (WHATSAPP-ACCOUNTS-9..12): what Meta's `account_alerts`,
//! `phone_number_quality_update` and `account_update` webhooks announce about a business account
//! or its numbers. Each is stored once for every organization that has the business account
//! connected (a redelivery has the same dedupe key and stores nothing), announced as
//! `account.alert`, and kept until acknowledged. A quality update also moves the number's tier
//! and quality rating on its account row, where the campaign pacer reads them.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use entities::{account_alert, whatsapp_account};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, SqlErr,
};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::payload::{Change, MAX_CONTENT_BYTES};
use super::webhook::IngestReport;
use crate::domain::{Error, Result};
use crate::state::AppState;

/// The webhook field an alert came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// `account_alerts`: Meta's alerts about a business account, number or business.
    AccountAlerts,
    /// `phone_number_quality_update`: a number flagged or unflagged, its limit up or down.
    QualityUpdate,
    /// `account_update`: bans, policy violations, restrictions and other account changes.
    AccountUpdate,
}

impl Source {
    /// The source of a webhook field, when it is one of the account-level ones.
    pub fn of(field: Option<&str>) -> Option<Source> {
        match field? {
            "account_alerts" => Some(Source::AccountAlerts),
            "phone_number_quality_update" => Some(Source::QualityUpdate),
            "account_update" => Some(Source::AccountUpdate),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Source::AccountAlerts => "account_alerts",
            Source::QualityUpdate => "phone_number_quality_update",
            Source::AccountUpdate => "account_update",
        }
    }
}

/// An alert as the API shows it and `account.alert` carries it.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AlertView {
    pub id: String,
    /// The organization's WhatsApp account (number) it is about, when Meta named one we know.
    pub account_id: Option<String>,
    pub waba_id: String,
    /// `account_alerts`, `phone_number_quality_update` or `account_update`.
    pub source: String,
    /// Meta's alert type or event: `DOWNGRADE`, `FLAGGED`, `DISABLED_UPDATE`, …
    #[serde(rename = "type")]
    pub alert_type: String,
    /// `CRITICAL`, `WARNING` or `INFORMATIONAL`.
    pub severity: Option<String>,
    /// Meta's `alert_status`, for `account_alerts`.
    pub status: Option<String>,
    pub title: String,
    pub description: Option<String>,
    /// The webhook's value as Meta sent it.
    #[schema(value_type = Object)]
    pub details: Value,
    pub occurred_at: DateTime<Utc>,
    pub acknowledged: bool,
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// The user who acknowledged it.
    pub acknowledged_by: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<&account_alert::Model> for AlertView {
    fn from(a: &account_alert::Model) -> Self {
        AlertView {
            id: a.id.clone(),
            account_id: a.account_id.clone(),
            waba_id: a.waba_id.clone(),
            source: a.source.clone(),
            alert_type: a.alert_type.clone(),
            severity: a.severity.clone(),
            status: a.alert_status.clone(),
            title: a.title.clone(),
            description: a.description.clone(),
            details: a.details.as_deref().and_then(|d| serde_json::from_str(d).ok()).unwrap_or(Value::Null),
            occurred_at: a.occurred_at,
            acknowledged: a.acknowledged_at.is_some(),
            acknowledged_at: a.acknowledged_at,
            acknowledged_by: a.acknowledged_by.clone(),
            created_at: a.created_at,
        }
    }
}

/// Which number an alert names.
#[derive(Debug, PartialEq, Eq)]
enum Number {
    /// Meta's phone number id (`account_alerts` on a `PHONE_NUMBER`).
    Id(String),
    /// The number itself, digits (`phone_number_quality_update`, `account_update`).
    Display(String),
    None,
}

impl Number {
    fn matches(&self, a: &whatsapp_account::Model) -> bool {
        match self {
            Number::Id(id) => a.phone_number_id == *id,
            Number::Display(digits) => a.display_phone_number.as_deref().map(only_digits).as_deref() == Some(digits),
            Number::None => false,
        }
    }
}

fn only_digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// What a quality update changes on the number's account row.
#[derive(Debug, PartialEq, Eq)]
struct Standing {
    tier: Option<String>,
    quality: Option<&'static str>,
}

/// One change in the alert's words.
#[derive(Debug)]
struct Described {
    alert_type: String,
    severity: Option<String>,
    status: Option<String>,
    title: String,
    description: Option<String>,
    number: Number,
    standing: Option<Standing>,
}

fn text(v: &Value, pointer: &str) -> Option<String> {
    match v.pointer(pointer)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn describe(source: Source, v: &Value) -> Described {
    match source {
        Source::AccountAlerts => {
            let alert_type = text(v, "/alert_info/alert_type").unwrap_or_else(|| "ALERT".into());
            let entity_type = text(v, "/entity_type").unwrap_or_else(|| "ACCOUNT".into());
            let entity_id = text(v, "/entity_id");
            let on = match &entity_id {
                Some(id) => format!(" on {} {id}", entity_type.to_ascii_lowercase().replace('_', " ")),
                None => String::new(),
            };
            Described {
                title: format!("Meta alert {alert_type}{on}"),
                severity: text(v, "/alert_info/alert_severity"),
                status: text(v, "/alert_info/alert_status"),
                description: text(v, "/alert_info/alert_description"),
                number: match entity_id {
                    Some(id) if entity_type.eq_ignore_ascii_case("PHONE_NUMBER") => Number::Id(id),
                    _ => Number::None,
                },
                standing: None,
                alert_type,
            }
        }
        Source::QualityUpdate => {
            let event = text(v, "/event").unwrap_or_else(|| "UPDATE".into()).to_ascii_uppercase();
            let display = text(v, "/display_phone_number");
            let number = display.clone().unwrap_or_else(|| "the number".into());
            let tier = text(v, "/current_limit");
            let limit = tier.clone().unwrap_or_else(|| "unknown".into());
            let old = text(v, "/old_limit").map(|o| format!(" from {o}")).unwrap_or_default();
            let (severity, title, quality) = match event.as_str() {
                "DOWNGRADE" => ("CRITICAL", format!("Messaging limit of {number} lowered{old} to {limit}"), None),
                "UPGRADE" => ("INFORMATIONAL", format!("Messaging limit of {number} raised{old} to {limit}"), None),
                "FLAGGED" => {
                    ("WARNING", format!("{number} is flagged: its quality rating dropped to low"), Some("RED"))
                }
                // Unflagged: the rating is back to medium at least; the next health check says which.
                "UNFLAGGED" => ("INFORMATIONAL", format!("{number} is no longer flagged"), Some("YELLOW")),
                "ONBOARDING" => ("INFORMATIONAL", format!("{number} is onboarding with messaging limit {limit}"), None),
                other => ("INFORMATIONAL", format!("Quality update for {number}: {other}"), None),
            };
            let description = match (event.as_str(), tier.as_deref().and_then(super::health::tier_limit)) {
                ("DOWNGRADE" | "FLAGGED", Some(Some(n))) => Some(format!(
                    "At most {n} unique customers per 24 hours can be messaged now; running campaigns keep to it."
                )),
                _ => None,
            };
            Described {
                alert_type: event,
                severity: Some(severity.into()),
                status: None,
                title,
                description,
                number: display.map(|d| Number::Display(only_digits(&d))).unwrap_or(Number::None),
                standing: Some(Standing { tier, quality }),
            }
        }
        Source::AccountUpdate => {
            let event = text(v, "/event").unwrap_or_else(|| "UPDATE".into()).to_ascii_uppercase();
            let ban = text(v, "/ban_info/waba_ban_state");
            let (severity, title) = match event.as_str() {
                "DISABLED_UPDATE" => {
                    let state = ban.clone().unwrap_or_else(|| "changed".into());
                    let sev = if state == "REINSTATE" { "INFORMATIONAL" } else { "CRITICAL" };
                    (sev, format!("Business account ban status: {state}"))
                }
                "ACCOUNT_VIOLATION" => (
                    "CRITICAL",
                    format!(
                        "Policy violation: {}",
                        text(v, "/violation_info/violation_type").unwrap_or_else(|| "unspecified".into())
                    ),
                ),
                "ACCOUNT_RESTRICTION" => {
                    let kinds: Vec<String> = v
                        .pointer("/restriction_info")
                        .and_then(Value::as_array)
                        .map(|l| l.iter().filter_map(|r| text(r, "/restriction_type")).collect())
                        .unwrap_or_default();
                    let kinds = if kinds.is_empty() { "restricted".to_owned() } else { kinds.join(", ") };
                    ("CRITICAL", format!("Business account restricted: {kinds}"))
                }
                "ACCOUNT_DELETED" => ("CRITICAL", "Business account deleted".to_owned()),
                other => ("INFORMATIONAL", format!("Account update: {other}")),
            };
            let description = text(v, "/ban_info/waba_ban_date").map(|d| format!("Ban date: {d}"));
            Described {
                alert_type: event,
                severity: Some(severity.into()),
                status: None,
                title,
                description,
                number: text(v, "/phone_number").map(|p| Number::Display(only_digits(&p))).unwrap_or(Number::None),
                standing: None,
            }
        }
    }
}

/// The same change delivered again has the same key: the field, the business account, Meta's
/// timestamp and the value. (Without a timestamp two identical changes count as one.)
fn dedupe_key(source: Source, waba_id: &str, time: Option<i64>, value: &Value) -> String {
    let mut h = Sha256::new();
    h.update(source.as_str().as_bytes());
    h.update(b"\n");
    h.update(waba_id.as_bytes());
    h.update(b"\n");
    h.update(time.map(|t| t.to_string()).unwrap_or_default().as_bytes());
    h.update(b"\n");
    h.update(value.to_string().as_bytes());
    hex::encode(h.finalize())
}

fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Stores an account-level change for every organization with the business account connected
/// (counted in `report`: `alerts`, `duplicates`, `unknown_numbers`). Committed when it returns.
pub async fn ingest(state: &AppState, source: Source, change: &Change, report: &mut IngestReport) -> Result<()> {
    let Some(waba_id) = change.waba_id.as_deref() else {
        tracing::warn!(field = source.as_str(), "account webhook without a business account id; ignored");
        report.skipped += 1;
        return Ok(());
    };
    let accounts = whatsapp_account::Entity::find()
        .filter(whatsapp_account::Column::WabaId.eq(waba_id))
        .filter(whatsapp_account::Column::DeletedAt.is_null())
        .all(state.db())
        .await?;
    if accounts.is_empty() {
        tracing::info!(%waba_id, field = source.as_str(), "account webhook for a business account not connected; ignored");
        report.unknown_numbers += 1;
        return Ok(());
    }
    let d = describe(source, &change.raw);
    let key = dedupe_key(source, waba_id, change.time, &change.raw);
    let occurred_at = change.time.and_then(|t| Utc.timestamp_opt(t, 0).single()).unwrap_or_else(Utc::now);
    let details = Some(change.raw.to_string()).filter(|t| t.len() <= MAX_CONTENT_BYTES);
    let mut orgs: BTreeMap<&str, Vec<&whatsapp_account::Model>> = BTreeMap::new();
    for a in &accounts {
        orgs.entry(a.org_id.as_str()).or_default().push(a);
    }
    for (org_id, org_accounts) in orgs {
        let named: Vec<&whatsapp_account::Model> = org_accounts.into_iter().filter(|a| d.number.matches(a)).collect();
        let txn = state.rt.db.begin_write_in(org_id).await?;
        let seen = account_alert::Entity::find()
            .filter(account_alert::Column::OrgId.eq(org_id))
            .filter(account_alert::Column::DedupeKey.eq(&key))
            .one(&*txn)
            .await?;
        if seen.is_some() {
            report.duplicates += 1;
            continue;
        }
        if let Some(standing) = &d.standing {
            for a in &named {
                let mut am = (*a).clone().into_active_model();
                if let Some(tier) = &standing.tier {
                    am.messaging_limit_tier = Set(Some(tier.clone()));
                }
                if let Some(q) = standing.quality {
                    am.quality_rating = Set(Some(q.to_owned()));
                }
                am.update(&*txn).await?;
            }
        }
        let row = account_alert::ActiveModel {
            id: Set(actors::new_id()),
            org_id: Set(org_id.to_owned()),
            account_id: Set(named.first().map(|a| a.id.clone())),
            waba_id: Set(waba_id.to_owned()),
            source: Set(source.as_str().to_owned()),
            alert_type: Set(d.alert_type.clone()),
            severity: Set(d.severity.clone()),
            alert_status: Set(d.status.clone()),
            title: Set(d.title.clone()),
            description: Set(d.description.clone()),
            details: Set(details.clone()),
            dedupe_key: Set(key.clone()),
            occurred_at: Set(occurred_at),
            acknowledged_at: Set(None),
            acknowledged_by: Set(None),
            created_at: Set(Utc::now()),
        }
        .insert(&*txn)
        .await;
        let row = match row {
            Ok(row) => row,
            // The same delivery stored by a concurrent request between the check and the insert.
            Err(e) if is_unique_violation(&e) => {
                report.duplicates += 1;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let event = actors::store::events::NewEvent {
            conversation: None,
            name: actors::events::EventName::AccountAlert,
            payload: serde_json::to_string(&AlertView::from(&row))?,
        };
        state.rt.commit(txn, org_id, vec![event]).await?;
        report.alerts += 1;
    }
    Ok(())
}

/// The organization's alerts, newest first (`acknowledged`: only those, or only the others),
/// `limit` from `skip`, with how many there are in all.
pub async fn list(
    db: &impl ConnectionTrait,
    org_id: &str,
    acknowledged: Option<bool>,
    skip: u64,
    limit: u64,
) -> Result<(Vec<AlertView>, u64)> {
    let mut q = account_alert::Entity::find().filter(account_alert::Column::OrgId.eq(org_id));
    q = match acknowledged {
        Some(true) => q.filter(account_alert::Column::AcknowledgedAt.is_not_null()),
        Some(false) => q.filter(account_alert::Column::AcknowledgedAt.is_null()),
        None => q,
    };
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_desc(account_alert::Column::OccurredAt)
        .order_by_desc(account_alert::Column::Id)
        .offset(skip)
        .limit(limit)
        .all(db)
        .await?;
    Ok((rows.iter().map(AlertView::from).collect(), total))
}

/// How many of the organization's alerts nobody acknowledged.
pub async fn unread_count(db: &impl ConnectionTrait, org_id: &str) -> Result<u64> {
    Ok(account_alert::Entity::find()
        .filter(account_alert::Column::OrgId.eq(org_id))
        .filter(account_alert::Column::AcknowledgedAt.is_null())
        .count(db)
        .await?)
}

/// Marks an alert acknowledged by `user_id` (once: acknowledging again keeps who and when).
pub async fn acknowledge(db: &impl ConnectionTrait, org_id: &str, user_id: &str, id: &str) -> Result<AlertView> {
    let alert = account_alert::Entity::find_by_id(id.to_owned())
        .filter(account_alert::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .ok_or(Error::NotFound("alert"))?;
    if alert.acknowledged_at.is_some() {
        return Ok(AlertView::from(&alert));
    }
    let mut am = alert.into_active_model();
    am.acknowledged_at = Set(Some(Utc::now()));
    am.acknowledged_by = Set(Some(user_id.to_owned()));
    Ok(AlertView::from(&am.update(db).await?))
}

/// Marks every alert of the organization not yet acknowledged as acknowledged by `user_id`;
/// answers how many.
pub async fn acknowledge_all(db: &impl ConnectionTrait, org_id: &str, user_id: &str) -> Result<u64> {
    let res = account_alert::Entity::update_many()
        .col_expr(account_alert::Column::AcknowledgedAt, Expr::value(Utc::now()))
        .col_expr(account_alert::Column::AcknowledgedBy, Expr::value(user_id))
        .filter(account_alert::Column::OrgId.eq(org_id))
        .filter(account_alert::Column::AcknowledgedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_downgrade_lowers_the_tier_of_the_number_it_names() {
        let d = describe(
            Source::QualityUpdate,
            &json!({"display_phone_number": "+1 555 0100", "event": "DOWNGRADE", "current_limit": "TIER_1K", "old_limit": "TIER_10K"}),
        );
        assert_eq!(d.alert_type, "DOWNGRADE");
        assert_eq!(d.severity.as_deref(), Some("CRITICAL"));
        assert_eq!(d.number, Number::Display("15550100".into()));
        assert_eq!(d.standing, Some(Standing { tier: Some("TIER_1K".into()), quality: None }));
        assert!(d.title.contains("TIER_10K") && d.title.contains("TIER_1K"), "{}", d.title);
        let flagged = describe(Source::QualityUpdate, &json!({"event": "FLAGGED", "current_limit": "TIER_250"}));
        assert_eq!(flagged.standing.and_then(|s| s.quality), Some("RED"));
    }

    #[test]
    fn account_alerts_and_updates_keep_metas_words() {
        let d = describe(
            Source::AccountAlerts,
            &json!({"entity_type": "PHONE_NUMBER", "entity_id": "123", "alert_info": {"alert_severity": "WARNING", "alert_status": "ACTIVE", "alert_type": "INCREASED_CAPACITY_THRESHOLD", "alert_description": "More capacity"}}),
        );
        assert_eq!((d.severity.as_deref(), d.status.as_deref()), (Some("WARNING"), Some("ACTIVE")));
        assert_eq!(d.number, Number::Id("123".into()));
        assert_eq!(d.description.as_deref(), Some("More capacity"));
        let ban = describe(
            Source::AccountUpdate,
            &json!({"event": "DISABLED_UPDATE", "ban_info": {"waba_ban_state": "DISABLE", "waba_ban_date": "2026-12-07"}}),
        );
        assert_eq!(ban.severity.as_deref(), Some("CRITICAL"));
        assert!(ban.title.contains("DISABLE"));
        assert_eq!(describe(Source::AccountUpdate, &json!({})).alert_type, "UPDATE");
    }

    #[test]
    fn a_redelivery_has_the_same_key_and_a_new_change_another() {
        let v = json!({"event": "DOWNGRADE", "current_limit": "TIER_1K"});
        let k = dedupe_key(Source::QualityUpdate, "w", Some(1), &v);
        assert_eq!(k, dedupe_key(Source::QualityUpdate, "w", Some(1), &v.clone()));
        assert_ne!(k, dedupe_key(Source::QualityUpdate, "w", Some(2), &v));
        assert_ne!(k, dedupe_key(Source::QualityUpdate, "x", Some(1), &v));
    }
}
