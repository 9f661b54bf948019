//! Keeping templates in step with Meta: the review, quality and category webhooks update the
//! organizations' copies and announce the change; a sync reads every template of an account
//! and reconciles (new ones added, changed ones updated, ones Meta no longer has removed).

use std::collections::HashSet;

use actors::events::EventName;
use actors::store::events::NewEvent;
use chrono::Utc;
use entities::enums::{TemplateCategory, TemplateStatus};
use entities::{whatsapp_account, whatsapp_template};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::meta::{self, MetaTemplate};
use super::store::{self, MessageTemplateView, components_of};
use crate::channels::whatsapp::accounts;
use crate::domain::{Error, Result};
use crate::state::AppState;

/// What a template webhook says, whichever of the three it is.
#[derive(Debug, Default)]
pub struct TemplateNews {
    pub waba_id: String,
    pub meta_id: Option<String>,
    pub name: Option<String>,
    pub language: Option<String>,
    /// Review: APPROVED, REJECTED, PAUSED, DISABLED, IN_APPEAL, REINSTATED, PENDING_DELETION…
    pub event: Option<String>,
    pub reason: Option<String>,
    /// Quality: the new score (GREEN, YELLOW, RED, UNKNOWN).
    pub quality: Option<String>,
    /// Category: the new category.
    pub category: Option<String>,
}

/// The status a review event leaves a template in (`None`: the status stays, as for FLAGGED,
/// which only warns that a pause may follow).
fn status_after(event: &str) -> Option<TemplateStatus> {
    match event {
        "REINSTATED" => Some(TemplateStatus::Approved),
        "PENDING_DELETION" | "DELETED" => Some(TemplateStatus::Removed),
        "FLAGGED" => None,
        other => TemplateStatus::parse(other).filter(|s| *s != TemplateStatus::Draft),
    }
}

/// The organizations' copies a webhook is about: on accounts of this business account, by
/// Meta's id, or by name and language for copies that do not know it yet.
async fn copies(state: &AppState, n: &TemplateNews) -> Result<Vec<whatsapp_template::Model>> {
    let mut by = Condition::any();
    if let Some(id) = &n.meta_id {
        by = by.add(whatsapp_template::Column::MetaId.eq(id.clone()));
    }
    if let (Some(name), Some(lang)) = (&n.name, &n.language) {
        by = by.add(
            Condition::all()
                .add(whatsapp_template::Column::Name.eq(name.clone()))
                .add(whatsapp_template::Column::Language.eq(lang.clone())),
        );
    }
    if by.is_empty() {
        return Ok(Vec::new());
    }
    Ok(whatsapp_template::Entity::find()
        .filter(whatsapp_template::Column::WabaId.eq(n.waba_id.clone()))
        .filter(whatsapp_template::Column::Status.ne(TemplateStatus::Removed.as_str()))
        .filter(whatsapp_template::Column::Status.ne(TemplateStatus::Draft.as_str()))
        .filter(by)
        .all(state.db())
        .await?)
}

/// Applies a template webhook (`field` says which) to every organization's copy and announces
/// it: `template.status_changed`, `template.quality_changed` or `template.category_changed`.
/// Organizations that have the business account but no copy are told too (review outcomes of
/// templates made in Meta's own tools). Answers how many organizations were told.
pub async fn apply(state: &AppState, field: &str, n: TemplateNews) -> Result<usize> {
    let name = match field {
        "message_template_status_update" => EventName::TemplateStatusChanged,
        "message_template_quality_update" => EventName::TemplateQualityChanged,
        _ => EventName::TemplateCategoryChanged,
    };
    let mut told: HashSet<String> = HashSet::new();
    for t in copies(state, &n).await? {
        let org_id = t.org_id.clone();
        let previous = json!({ "status": t.status.as_str(), "quality": t.quality, "category": t.category.as_str() });
        let mut am = t.into_active_model();
        match name {
            EventName::TemplateStatusChanged => {
                if let Some(s) = n.event.as_deref().and_then(status_after) {
                    am.status = Set(s);
                }
                let reason = n.reason.clone().filter(|r| !r.is_empty() && r != "NONE");
                am.rejected_reason = Set(reason);
            }
            EventName::TemplateQualityChanged => am.quality = Set(n.quality.clone()),
            _ => {
                if let Some(c) = n.category.as_deref().and_then(TemplateCategory::parse) {
                    am.previous_category = Set(Some(previous["category"].as_str().unwrap_or_default().to_owned()));
                    am.category = Set(c);
                }
            }
        }
        if let Some(id) = &n.meta_id {
            am.meta_id = Set(Some(id.clone()));
        }
        am.updated_at = Set(Utc::now());
        let txn = state.rt.db.begin_write_in(&org_id).await?;
        let t = am.update(&*txn).await?;
        let payload = json!({
            "template": MessageTemplateView::from(&t),
            "previous": previous,
            "event": n.event, "reason": n.reason, "wabaId": n.waba_id,
            "templateId": n.meta_id, "templateName": n.name, "language": n.language,
            "status": t.status.as_str(),
        });
        state
            .rt
            .commit(txn, &org_id, vec![NewEvent { conversation: None, name, payload: payload.to_string() }])
            .await?;
        told.insert(org_id);
    }
    let holders = whatsapp_account::Entity::find()
        .filter(whatsapp_account::Column::WabaId.eq(n.waba_id.clone()))
        .filter(whatsapp_account::Column::DeletedAt.is_null())
        .all(state.db())
        .await?;
    let mut rest: Vec<String> = holders.into_iter().map(|a| a.org_id).filter(|o| !told.contains(o)).collect();
    rest.sort();
    rest.dedup();
    for org_id in rest {
        let payload = json!({
            "template": null, "event": n.event, "reason": n.reason, "wabaId": n.waba_id,
            "templateId": n.meta_id, "templateName": n.name, "language": n.language,
            "status": n.event, "quality": n.quality, "category": n.category,
        });
        let txn = state.rt.db.begin_write_in(&org_id).await?;
        state
            .rt
            .commit(txn, &org_id, vec![NewEvent { conversation: None, name, payload: payload.to_string() }])
            .await?;
        told.insert(org_id);
    }
    Ok(told.len())
}

/// What a sync did.
#[derive(Serialize, ToSchema, Default, Debug)]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    /// Business accounts read.
    pub accounts: usize,
    /// Templates Meta has that were not here.
    pub created: usize,
    /// Templates whose status, category, quality or components changed.
    pub updated: usize,
    pub unchanged: usize,
    /// Templates Meta no longer has, marked REMOVED.
    pub removed: usize,
    /// Accounts Meta could not be asked about, with why.
    pub failed: Vec<SyncFailure>,
}

#[derive(Serialize, ToSchema, Debug)]
#[serde(rename_all = "camelCase")]
pub struct SyncFailure {
    pub account_id: String,
    pub reason: String,
}

/// TEMPLATES-12: reads every template of the organization's accounts (or of the one named) from
/// Meta and reconciles.
pub async fn sync(state: &AppState, org_id: &str, account_id: Option<&str>) -> Result<SyncReport> {
    let targets = match account_id.filter(|a| !a.is_empty()) {
        Some(id) => vec![accounts::get(state.db(), org_id, id).await?.ok_or_else(|| {
            Error::invalid("accountId", "accountId names no connected WhatsApp account of this organization")
        })?],
        None => accounts::list(state.db(), org_id).await?,
    };
    if targets.is_empty() {
        return Err(Error::Conflict("no WhatsApp number is connected: connect one to sync its templates".into()));
    }
    let mut report = SyncReport::default();
    // One business account is read once even when several of its numbers are connected.
    let mut seen = HashSet::new();
    for account in targets {
        if !seen.insert(account.waba_id.clone()) {
            continue;
        }
        report.accounts += 1;
        let token = match state.secrets.decrypt(&account.access_token_enc) {
            Ok(t) => t,
            Err(e) => {
                report.failed.push(SyncFailure { account_id: account.id.clone(), reason: e.to_string() });
                continue;
            }
        };
        match state.graph.list_templates(&account.waba_id, &token).await {
            Ok(list) => reconcile(state, org_id, &account, list, &mut report).await?,
            Err(e) => {
                report.failed.push(SyncFailure { account_id: account.id.clone(), reason: meta::refused(e).to_string() })
            }
        }
    }
    Ok(report)
}

async fn reconcile(
    state: &AppState,
    org_id: &str,
    account: &whatsapp_account::Model,
    list: Vec<MetaTemplate>,
    report: &mut SyncReport,
) -> Result<()> {
    let db = state.db();
    let local = whatsapp_template::Entity::find()
        .filter(whatsapp_template::Column::OrgId.eq(org_id))
        .filter(whatsapp_template::Column::WabaId.eq(account.waba_id.clone()))
        .filter(whatsapp_template::Column::Status.ne(TemplateStatus::Removed.as_str()))
        .all(db)
        .await?;
    let at_meta: HashSet<&str> = list.iter().map(|m| m.id.as_str()).collect();
    for m in &list {
        let found = local
            .iter()
            .find(|t| t.meta_id.as_deref() == Some(m.id.as_str()))
            .or_else(|| local.iter().find(|t| t.meta_id.is_none() && t.name == m.name && t.language == m.language));
        let status = TemplateStatus::parse(&m.status).unwrap_or(TemplateStatus::Pending);
        let category = TemplateCategory::parse(&m.category).unwrap_or(TemplateCategory::Utility);
        let components = serde_json::to_string(&m.components).map_err(|e| Error::Internal(e.to_string()))?;
        let quality = m.quality_score.as_ref().and_then(|q| q.score.clone());
        let reason = m.rejected_reason.clone().filter(|r| !r.is_empty() && r != "NONE");
        let format = m.parameter_format.clone().unwrap_or_else(|| "POSITIONAL".into());
        match found {
            Some(t) => {
                let same = t.status == status
                    && t.category == category
                    && components_of(t) == m.components
                    && t.quality == quality
                    && t.rejected_reason == reason
                    && t.meta_id.as_deref() == Some(m.id.as_str());
                if same {
                    report.unchanged += 1;
                    continue;
                }
                let mut am = t.clone().into_active_model();
                am.meta_id = Set(Some(m.id.clone()));
                am.status = Set(status);
                am.category = Set(category);
                am.components = Set(components);
                am.parameter_format = Set(format);
                am.quality = Set(quality);
                am.rejected_reason = Set(reason);
                am.previous_category = Set(m.previous_category.clone().or(t.previous_category.clone()));
                am.updated_at = Set(Utc::now());
                am.update(db).await?;
                report.updated += 1;
            }
            None => {
                let now = Utc::now();
                let row = whatsapp_template::Model {
                    id: actors::new_id(),
                    org_id: org_id.to_owned(),
                    account_id: Some(account.id.clone()),
                    waba_id: Some(account.waba_id.clone()),
                    meta_id: Some(m.id.clone()),
                    name: m.name.clone(),
                    language: m.language.clone(),
                    category,
                    parameter_format: format,
                    components,
                    status,
                    rejected_reason: reason,
                    quality,
                    previous_category: m.previous_category.clone(),
                    header_media_path: None,
                    header_media_mime: None,
                    created_by: None,
                    submitted_at: None,
                    created_at: now,
                    updated_at: now,
                };
                whatsapp_template::ActiveModel::from(row).reset_all().insert(db).await?;
                report.created += 1;
            }
        }
    }
    for t in local.into_iter().filter(|t| t.meta_id.as_deref().is_some_and(|id| !at_meta.contains(id))) {
        store::remove(db, org_id, &t.id).await?;
        report.removed += 1;
    }
    Ok(())
}
