//! What Meta actually charged, from the Graph API's analytics of each business account:
//! `pricing_analytics` for the account's total and `template_analytics` per template, over the
//! last 90 days; a campaign's share is its template's cost over the campaign's sending period,
//! in proportion to the campaign's sends among the template's.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use entities::campaign;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::stats;
use crate::channels::whatsapp::accounts;
use crate::channels::whatsapp::graph::{GraphClient, call};
use crate::channels::whatsapp::templates::meta::{refused, with_query};
use crate::domain::{Error, Result};
use crate::state::AppState;

/// How far back the costs go.
pub const DAYS: i64 = 90;
/// Template ids Meta takes per analytics request.
const IDS_PER_CALL: usize = 10;

/// Spend and sends of one template.
#[derive(Serialize, ToSchema, Debug, Default, Clone)]
#[serde(rename_all = "camelCase")]
pub struct TemplateCost {
    /// Meta's template id.
    pub meta_id: String,
    pub name: Option<String>,
    pub sent: u64,
    pub cost: f64,
}

/// One business account's spend.
#[derive(Serialize, ToSchema, Debug)]
#[serde(rename_all = "camelCase")]
pub struct AccountCost {
    pub waba_id: String,
    pub total: f64,
    pub templates: Vec<TemplateCost>,
    /// Why Meta's figures are missing, if they are.
    pub error: Option<String>,
}

/// CAMPAIGNS-4.
#[derive(Serialize, ToSchema, Debug)]
#[serde(rename_all = "camelCase")]
pub struct MetaCosts {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub currency: String,
    pub total: f64,
    pub accounts: Vec<AccountCost>,
}

#[derive(Deserialize)]
struct Points {
    #[serde(default)]
    data: Vec<Series>,
}

#[derive(Deserialize)]
struct Series {
    #[serde(default)]
    data_points: Vec<Value>,
}

impl GraphClient {
    /// The account's spend between two times (`pricing_analytics`, daily, summed).
    pub async fn pricing_total(
        &self,
        waba_id: &str,
        token: &str,
        from: i64,
        to: i64,
    ) -> std::result::Result<f64, actors::channel::SendError> {
        let fields = format!("pricing_analytics.start({from}).end({to}).granularity(DAILY)");
        let url = with_query(&self.url(waba_id), &[("fields", fields.as_str())])?;
        let text = call(self.http.get(url).bearer_auth(token)).await?;
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let points: Points = serde_json::from_value(v.get("pricing_analytics").cloned().unwrap_or(Value::Null))
            .unwrap_or(Points { data: Vec::new() });
        Ok(points.data.iter().flat_map(|s| &s.data_points).filter_map(|p| p.get("cost").and_then(Value::as_f64)).sum())
    }

    /// Sends and spend per template between two times (`template_analytics`, daily, summed).
    pub async fn template_costs(
        &self,
        waba_id: &str,
        token: &str,
        ids: &[String],
        from: i64,
        to: i64,
    ) -> std::result::Result<HashMap<String, TemplateCost>, actors::channel::SendError> {
        let mut out: HashMap<String, TemplateCost> = HashMap::new();
        for chunk in ids.chunks(IDS_PER_CALL) {
            let ids_json = serde_json::to_string(chunk).unwrap_or_else(|_| "[]".into());
            let (from, to) = (from.to_string(), to.to_string());
            let url = with_query(
                &self.url(&format!("{waba_id}/template_analytics")),
                &[
                    ("start", from.as_str()),
                    ("end", to.as_str()),
                    ("granularity", "DAILY"),
                    ("metric_types", "[\"COST\",\"SENT\"]"),
                    ("template_ids", ids_json.as_str()),
                ],
            )?;
            let text = call(self.http.get(url).bearer_auth(token)).await?;
            let points: Points = serde_json::from_str(&text).unwrap_or(Points { data: Vec::new() });
            for p in points.data.iter().flat_map(|s| &s.data_points) {
                let Some(id) =
                    p.get("template_id").map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()))
                else {
                    continue;
                };
                let e = out.entry(id.clone()).or_insert_with(|| TemplateCost { meta_id: id, ..Default::default() });
                e.sent += p.get("sent").and_then(Value::as_u64).unwrap_or(0);
                e.cost += p
                    .get("cost")
                    .and_then(Value::as_array)
                    .map(|c| {
                        c.iter()
                            .filter(|x| x.get("type").and_then(Value::as_str) == Some("amount_spent"))
                            .filter_map(|x| x.get("value").and_then(Value::as_f64))
                            .sum::<f64>()
                    })
                    .unwrap_or(0.0);
            }
        }
        Ok(out)
    }
}

/// CAMPAIGNS-4: each connected business account's spend over the last 90 days, total and per
/// template. An account Meta cannot tell about says why; the others still answer.
pub async fn meta_costs(state: &AppState, org_id: &str) -> Result<MetaCosts> {
    let to = Utc::now();
    let from = to - Duration::days(DAYS);
    let mut seen = std::collections::HashSet::new();
    let mut out = MetaCosts { from, to, currency: state.rates.currency.clone(), total: 0.0, accounts: Vec::new() };
    for account in accounts::list(state.db(), org_id).await? {
        if !seen.insert(account.waba_id.clone()) {
            continue;
        }
        let token = state.secrets.decrypt(&account.access_token_enc).map_err(|e| Error::Internal(e.to_string()))?;
        let templates = crate::channels::whatsapp::templates::store::list(
            state.db(),
            org_id,
            crate::channels::whatsapp::templates::store::Filter { account_id: None, ..Default::default() },
            0,
            1000,
        )
        .await?
        .0;
        let names: HashMap<String, String> = templates
            .iter()
            .filter(|t| t.waba_id.as_deref() == Some(account.waba_id.as_str()))
            .filter_map(|t| t.meta_id.clone().map(|m| (m, t.name.clone())))
            .collect();
        let ids: Vec<String> = names.keys().cloned().collect();
        let (f, t) = (from.timestamp(), to.timestamp());
        let figures = async {
            let total = state.graph.pricing_total(&account.waba_id, &token, f, t).await?;
            let per = state.graph.template_costs(&account.waba_id, &token, &ids, f, t).await?;
            Ok::<_, actors::channel::SendError>((total, per))
        };
        match figures.await {
            Ok((total, per)) => {
                let mut templates: Vec<TemplateCost> = per
                    .into_values()
                    .map(|mut c| {
                        c.name = names.get(&c.meta_id).cloned();
                        c
                    })
                    .collect();
                templates.sort_by(|a, b| b.cost.total_cmp(&a.cost));
                out.total += total;
                out.accounts.push(AccountCost { waba_id: account.waba_id.clone(), total, templates, error: None });
            }
            Err(e) => out.accounts.push(AccountCost {
                waba_id: account.waba_id.clone(),
                total: 0.0,
                templates: Vec::new(),
                error: Some(refused(e).to_string()),
            }),
        }
    }
    Ok(out)
}

/// CAMPAIGNS-5.
#[derive(Serialize, ToSchema, Debug)]
#[serde(rename_all = "camelCase")]
pub struct CampaignCost {
    pub campaign_id: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The template's sends and spend over the campaign's period, per Meta.
    pub template_sent: u64,
    pub template_cost: f64,
    /// The campaign's sends.
    pub campaign_sent: u64,
    /// The campaign's share of the template's spend.
    pub cost: f64,
    pub currency: String,
    /// The rate card's figure for the same sends, to compare.
    pub estimated_cost: f64,
}

/// CAMPAIGNS-5: a campaign's real cost: its template's spend over the campaign's period, in
/// proportion to the campaign's sends among the template's.
pub async fn campaign_cost(state: &AppState, c: &campaign::Model) -> Result<CampaignCost> {
    let template = crate::channels::whatsapp::templates::store::get(state.db(), &c.org_id, &c.template_id).await?;
    let meta_id = template.meta_id.clone().ok_or_else(|| Error::Conflict("the template was never at Meta".into()))?;
    let account = accounts::get(state.db(), &c.org_id, &c.account_id)
        .await?
        .ok_or_else(|| Error::Conflict("the campaign's number is disconnected: Meta cannot be asked".into()))?;
    let token = state.secrets.decrypt(&account.access_token_enc).map_err(|e| Error::Internal(e.to_string()))?;
    let from = c.started_at.unwrap_or(c.created_at);
    // Meta's figures are daily: the whole last day counts.
    let to = c.completed_at.unwrap_or_else(Utc::now) + Duration::days(1);
    let per = state
        .graph
        .template_costs(&account.waba_id, &token, std::slice::from_ref(&meta_id), from.timestamp(), to.timestamp())
        .await
        .map_err(refused)?;
    let figures = per.get(&meta_id).cloned().unwrap_or_default();
    let s = stats::of(state.db(), &state.rates, c).await?;
    let share = if figures.sent == 0 { 0.0 } else { (s.funnel.sent as f64 / figures.sent as f64).min(1.0) };
    Ok(CampaignCost {
        campaign_id: c.id.clone(),
        from,
        to,
        template_sent: figures.sent,
        template_cost: figures.cost,
        campaign_sent: s.funnel.sent,
        cost: (figures.cost * share * 10_000.0).round() / 10_000.0,
        currency: state.rates.currency.clone(),
        estimated_cost: s.estimated_cost,
    })
}
