//! A number's health as Meta sees it (WHATSAPP-ACCOUNTS-8): quality rating, messaging-limit tier,
//! throughput, display-name status, and the business account's review and standing. Read from
//! the Graph API at most once a minute per account (the figures are kept on the account row,
//! where the campaign pacer reads them through [`Pacing`]); when Meta cannot answer, the last
//! figures are answered, marked stale, with Meta's reason.

use chrono::{DateTime, Utc};
use entities::whatsapp_account;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::accounts;
use crate::domain::{Error, Result};
use crate::state::AppState;

/// How long a health check is answered again without asking Meta (`refresh=true` asks anyway).
pub const CACHE_SECONDS: i64 = 60;

/// Meta's `throughput.level` `STANDARD`: messages per second.
pub const STANDARD_THROUGHPUT: u32 = 80;
/// Meta's `throughput.level` `HIGH`: messages per second.
pub const HIGH_THROUGHPUT: u32 = 1000;
/// Unique customers per rolling 24 hours assumed for a number whose tier was never read: the
/// tier of a business that has not been verified beyond the start (`TIER_1K`).
pub const DEFAULT_DAILY_UNIQUE: u32 = 1000;

/// How fast and how widely a number may send, for the campaign pacer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pacing {
    /// Messages per second: the number's throughput (80 when never read).
    pub per_second: u32,
    /// Unique customers per rolling 24 hours (the messaging-limit tier); `None` is unlimited.
    /// 1,000 when the tier was never read or is not one Meta documents.
    pub daily_unique_limit: Option<u32>,
}

impl Pacing {
    /// The pacing of an account from what its row holds.
    pub fn of(account: &whatsapp_account::Model) -> Pacing {
        Pacing::from_figures(account.throughput_level, account.messaging_limit_tier.as_deref())
    }

    /// The pacing of a throughput (msg/s) and a tier as stored; the defaults for what is unknown.
    pub fn from_figures(throughput_level: Option<i32>, tier: Option<&str>) -> Pacing {
        let per_second =
            throughput_level.and_then(|n| u32::try_from(n).ok()).filter(|n| *n > 0).unwrap_or(STANDARD_THROUGHPUT);
        let daily_unique_limit = tier.and_then(tier_limit).unwrap_or(Some(DEFAULT_DAILY_UNIQUE));
        Pacing { per_second, daily_unique_limit }
    }
}

/// Unique customers per 24 hours of a tier: `TIER_250` is `Some(Some(250))`, `TIER_1K`
/// `Some(Some(1000))`, `TIER_100K` `Some(Some(100000))`, `TIER_UNLIMITED` `Some(None)`; a name
/// that is not a tier is `None`.
pub fn tier_limit(tier: &str) -> Option<Option<u32>> {
    let t = tier.trim().to_ascii_uppercase();
    let n = t.strip_prefix("TIER_")?;
    if n == "UNLIMITED" {
        return Some(None);
    }
    let (digits, factor) = match n.strip_suffix('K') {
        Some(d) => (d, 1000),
        None => match n.strip_suffix('M') {
            Some(d) => (d, 1_000_000),
            None => (n, 1),
        },
    };
    let base: u32 = digits.parse().ok()?;
    base.checked_mul(factor).filter(|n| *n > 0).map(Some)
}

/// Messages per second of Meta's `throughput` (`{"level": "STANDARD"}`, `"HIGH"`, or a number);
/// `None` when it says nothing usable (`NOT_APPLICABLE`).
pub fn throughput_of(v: &Value) -> Option<u32> {
    let level = v.get("level").unwrap_or(v);
    match level {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()).filter(|n| *n > 0),
        Value::String(s) => match s.trim().to_ascii_uppercase().as_str() {
            "STANDARD" => Some(STANDARD_THROUGHPUT),
            "HIGH" => Some(HIGH_THROUGHPUT),
            other => other.parse().ok().filter(|n| *n > 0),
        },
        _ => None,
    }
}

/// What the last check kept besides the columns the pacer reads.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Detail {
    verified_name: Option<String>,
    phone_status: Option<String>,
    code_verification_status: Option<String>,
    account_review_status: Option<String>,
    business_verification_status: Option<String>,
    can_send_message: Option<String>,
}

/// A number's health (WHATSAPP-ACCOUNTS-8).
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountHealth {
    pub account_id: String,
    pub phone_number_id: String,
    pub waba_id: String,
    /// `GREEN`, `YELLOW`, `RED` or `UNKNOWN`.
    pub quality_rating: Option<String>,
    /// `TIER_250`, `TIER_1K`, `TIER_2K`, `TIER_10K`, `TIER_100K` or `TIER_UNLIMITED`.
    pub messaging_limit_tier: Option<String>,
    /// Messages per second (Meta's STANDARD is 80, HIGH 1,000).
    pub throughput_level: Option<i32>,
    /// Display-name review: `APPROVED`, `PENDING_REVIEW`, `DECLINED`, …
    pub name_status: Option<String>,
    pub verified_name: Option<String>,
    pub display_phone_number: Option<String>,
    /// The number's own status at Meta (`CONNECTED`, `FLAGGED`, `RESTRICTED`, …).
    pub phone_status: Option<String>,
    pub code_verification_status: Option<String>,
    /// The business account's review: `APPROVED`, `PENDING`, `REJECTED`.
    pub account_review_status: Option<String>,
    pub business_verification_status: Option<String>,
    /// The business account's standing (`health_status.can_send_message`): `AVAILABLE`,
    /// `LIMITED` or `BLOCKED` (a banned account).
    pub can_send_message: Option<String>,
    /// What the campaign pacer makes of these figures.
    pub pacing: Pacing,
    /// When Meta was last asked successfully; `None` if never.
    pub checked_at: Option<DateTime<Utc>>,
    /// Answered from the last check (younger than `cacheSeconds`) without asking Meta.
    pub cached: bool,
    /// Meta could not be asked (or refused): these are the last figures known.
    pub stale: bool,
    /// Why it is stale.
    pub stale_reason: Option<String>,
    /// How long a check is reused.
    pub cache_seconds: i64,
}

fn view(a: &whatsapp_account::Model, cached: bool, stale_reason: Option<String>) -> AccountHealth {
    let d: Detail = a.health_detail.as_deref().and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default();
    AccountHealth {
        account_id: a.id.clone(),
        phone_number_id: a.phone_number_id.clone(),
        waba_id: a.waba_id.clone(),
        quality_rating: a.quality_rating.clone(),
        messaging_limit_tier: a.messaging_limit_tier.clone(),
        throughput_level: a.throughput_level,
        name_status: a.name_status.clone(),
        verified_name: d.verified_name,
        display_phone_number: a.display_phone_number.clone(),
        phone_status: d.phone_status,
        code_verification_status: d.code_verification_status,
        account_review_status: d.account_review_status,
        business_verification_status: d.business_verification_status,
        can_send_message: d.can_send_message,
        pacing: Pacing::of(a),
        checked_at: a.health_checked_at,
        cached,
        stale: stale_reason.is_some(),
        stale_reason,
        cache_seconds: CACHE_SECONDS,
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// The account's health: the last check when it is younger than [`CACHE_SECONDS`] (unless
/// `refresh`), else Meta's answer, kept on the account row. Meta unreachable or refusing is not
/// an error: the last figures come back with `stale` and the reason.
pub async fn health(state: &AppState, org_id: &str, account_id: &str, refresh: bool) -> Result<AccountHealth> {
    let account = accounts::get(state.db(), org_id, account_id).await?.ok_or(Error::NotFound("WhatsApp account"))?;
    let fresh = account.health_checked_at.is_some_and(|at| (Utc::now() - at).num_seconds() < CACHE_SECONDS);
    if fresh && !refresh {
        return Ok(view(&account, true, None));
    }
    let token = match state.secrets.decrypt(&account.access_token_enc) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(account_id, error = %e, "the account's token cannot be decrypted");
            return Ok(view(
                &account,
                false,
                Some("the stored access token cannot be read; give the account a new token".into()),
            ));
        }
    };
    let number = match state.graph.number_health(&account.phone_number_id, &token).await {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(account_id, error = %e.message, "Meta did not answer the health check");
            let why = if e.transient {
                format!("Meta could not be reached: {}", e.message)
            } else {
                format!("Meta refused the health check: {}", e.message)
            };
            return Ok(view(&account, false, Some(why)));
        }
    };
    let mut detail: Detail =
        account.health_detail.as_deref().and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default();
    detail.verified_name = text(&number, "verified_name").or(detail.verified_name);
    detail.phone_status = text(&number, "status").or(detail.phone_status);
    detail.code_verification_status = text(&number, "code_verification_status").or(detail.code_verification_status);
    // The business account's half is secondary: when it fails, its last figures stay.
    match state.graph.account_health(&account.waba_id, &token).await {
        Ok(waba) => {
            detail.account_review_status = text(&waba, "account_review_status");
            detail.business_verification_status = text(&waba, "business_verification_status");
            detail.can_send_message =
                waba.pointer("/health_status/can_send_message").and_then(Value::as_str).map(str::to_owned);
        }
        Err(e) => tracing::warn!(account_id, error = %e.message, "Meta did not answer for the business account"),
    }
    let mut am = account.clone().into_active_model();
    if let Some(q) = text(&number, "quality_rating") {
        am.quality_rating = Set(Some(q));
    }
    if let Some(t) = text(&number, "messaging_limit_tier") {
        am.messaging_limit_tier = Set(Some(t));
    }
    if let Some(tp) = number.get("throughput").and_then(throughput_of) {
        am.throughput_level = Set(i32::try_from(tp).ok());
    }
    if let Some(n) = text(&number, "name_status") {
        am.name_status = Set(Some(n));
    }
    if let Some(d) = text(&number, "display_phone_number") {
        am.display_phone_number = Set(Some(d));
    }
    am.health_detail = Set(Some(serde_json::to_string(&detail)?));
    am.health_checked_at = Set(Some(Utc::now()));
    let account = am.update(state.db()).await?;
    Ok(view(&account, false, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_read_as_daily_unique_customers() {
        assert_eq!(tier_limit("TIER_250"), Some(Some(250)));
        assert_eq!(tier_limit("TIER_1K"), Some(Some(1000)));
        assert_eq!(tier_limit("TIER_2K"), Some(Some(2000)));
        assert_eq!(tier_limit("TIER_10K"), Some(Some(10_000)));
        assert_eq!(tier_limit("tier_100k"), Some(Some(100_000)));
        assert_eq!(tier_limit("TIER_UNLIMITED"), Some(None));
        assert_eq!(tier_limit("TIER_"), None);
        assert_eq!(tier_limit("LIMITED"), None);
        assert_eq!(tier_limit("TIER_99999999K"), None);
    }

    #[test]
    fn a_number_never_checked_paces_at_80_per_second_and_1000_customers_a_day() {
        assert_eq!(Pacing::from_figures(None, None), Pacing { per_second: 80, daily_unique_limit: Some(1000) });
        assert_eq!(
            Pacing::from_figures(Some(0), Some("TIER_X")),
            Pacing { per_second: 80, daily_unique_limit: Some(1000) }
        );
        assert_eq!(
            Pacing::from_figures(Some(1000), Some("TIER_UNLIMITED")),
            Pacing { per_second: 1000, daily_unique_limit: None }
        );
        assert_eq!(
            Pacing::from_figures(Some(50), Some("TIER_250")),
            Pacing { per_second: 50, daily_unique_limit: Some(250) }
        );
    }

    #[test]
    fn throughput_levels_read_as_messages_per_second() {
        assert_eq!(throughput_of(&serde_json::json!({"level": "STANDARD"})), Some(80));
        assert_eq!(throughput_of(&serde_json::json!({"level": "HIGH"})), Some(1000));
        assert_eq!(throughput_of(&serde_json::json!({"level": 50})), Some(50));
        assert_eq!(throughput_of(&serde_json::json!({"level": "250"})), Some(250));
        assert_eq!(throughput_of(&serde_json::json!({"level": "NOT_APPLICABLE"})), None);
        assert_eq!(throughput_of(&serde_json::json!(null)), None);
    }
}
