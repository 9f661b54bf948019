//! Campaigns: one approved template sent to many recipients from one number, each recipient
//! with their own parameters (checked and rendered when the campaign is made), started at once
//! or at a time in the organization's time zone, paced to the number's limits by a
//! [`runner::CampaignActor`]. Progress lives in the database: a restart resumes where it
//! stopped, and a per-recipient idempotency key means no recipient is ever sent twice.

pub mod costs;
pub mod pricing;
pub mod recipients;
pub mod runner;
pub mod stats;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use entities::enums::{CampaignStatus, RecipientStatus, TemplateStatus};
use entities::{campaign, campaign_recipient};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::channels::whatsapp::accounts;
use crate::channels::whatsapp::templates::params::Parameters;
use crate::channels::whatsapp::templates::store::components_of;
use crate::domain::{Error, Result};
use crate::state::AppState;
use recipients::{RecipientInput, RowProblem};

/// How long after the send a reply counts toward the campaign, by default.
pub const DEFAULT_ATTRIBUTION_HOURS: i32 = 72;

/// A campaign as the API shows it.
#[derive(Serialize, ToSchema, Debug)]
#[serde(rename_all = "camelCase")]
pub struct CampaignView {
    pub id: String,
    pub name: String,
    pub template_id: String,
    pub template_name: String,
    pub language: String,
    pub category: String,
    pub account_id: String,
    /// SCHEDULED, RUNNING, PAUSED, COMPLETED or CANCELLED.
    pub status: String,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub total: i32,
    pub attribution_hours: i32,
    /// Why sending waits, if it does (the number's daily limit, the template paused by Meta…).
    pub waiting_reason: Option<String>,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&campaign::Model> for CampaignView {
    fn from(c: &campaign::Model) -> Self {
        CampaignView {
            id: c.id.clone(),
            name: c.name.clone(),
            template_id: c.template_id.clone(),
            template_name: c.template_name.clone(),
            language: c.language.clone(),
            category: c.category.clone(),
            account_id: c.account_id.clone(),
            status: c.status.to_string(),
            scheduled_at: c.scheduled_at,
            started_at: c.started_at,
            completed_at: c.completed_at,
            total: c.total,
            attribution_hours: c.attribution_hours,
            waiting_reason: c.waiting_reason.clone(),
            created_by: c.created_by.clone(),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// One recipient as the API shows it.
#[derive(Serialize, ToSchema, Debug)]
#[serde(rename_all = "camelCase")]
pub struct RecipientView {
    pub id: String,
    pub position: i32,
    pub phone: String,
    pub name: Option<String>,
    /// PENDING, SENT, DELIVERED, READ, FAILED or REPLIED.
    pub status: String,
    /// The text the customer got.
    pub text: String,
    pub conversation_id: Option<String>,
    pub message_id: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub read_at: Option<DateTime<Utc>>,
    pub replied_at: Option<DateTime<Utc>>,
}

impl From<&campaign_recipient::Model> for RecipientView {
    fn from(r: &campaign_recipient::Model) -> Self {
        RecipientView {
            id: r.id.clone(),
            position: r.position,
            phone: format!("+{}", r.wa_id),
            name: r.name.clone(),
            status: r.status.to_string(),
            text: r.text.clone(),
            conversation_id: r.conversation_id.clone(),
            message_id: r.message_id.clone(),
            error_code: r.error_code.clone(),
            error_message: r.error_message.clone(),
            sent_at: r.sent_at,
            delivered_at: r.delivered_at,
            read_at: r.read_at,
            replied_at: r.replied_at,
        }
    }
}

/// CAMPAIGNS-2: what a new campaign gives.
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct CampaignInput {
    pub name: Option<String>,
    /// An APPROVED template of the organization.
    pub template_id: Option<String>,
    /// The number to send from (default: the template's).
    pub account_id: Option<String>,
    /// When to start: an RFC 3339 time, or a local time (`2026-12-24T09:00`) in the
    /// organization's time zone (its business hours' zone, else UTC). Absent: at once.
    pub scheduled_at: Option<String>,
    /// Values for recipients that give none.
    pub parameters: Option<Parameters>,
    /// The recipients as a list…
    pub recipients: Option<Vec<RecipientInput>>,
    /// …or as CSV text: a `phone` column, optionally `name`, and one column per parameter
    /// (`1`, `2`… or the parameter's name; `header`; `button_<index>`).
    pub recipients_csv: Option<String>,
    /// Hours after a send in which a reply counts for the campaign (default 72).
    pub attribution_hours: Option<i32>,
    /// Leave rows with problems out instead of refusing the campaign.
    #[serde(default)]
    pub skip_invalid: bool,
    /// Only check the recipients and estimate the cost; nothing is stored.
    #[serde(default)]
    pub dry_run: bool,
}

/// What checking a campaign's recipients found.
#[derive(Serialize, ToSchema, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Preview {
    /// Recipients that will be sent.
    pub valid: usize,
    /// Rows left out, with the field at fault.
    pub invalid: Vec<RowProblem>,
    /// Rows whose number an earlier row has (sent once).
    pub duplicates: usize,
    pub estimate: pricing::Estimate,
    /// The first few recipients' messages as they will read.
    pub samples: Vec<String>,
}

/// What creating a campaign answers.
#[derive(Serialize, ToSchema, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Created {
    /// `None` for a dry run.
    pub campaign: Option<CampaignView>,
    pub preview: Preview,
}

/// The organization's time zone: its business hours' zone, else UTC.
async fn time_zone(db: &impl ConnectionTrait, org_id: &str) -> Result<chrono_tz::Tz> {
    let settings = actors::people::settings::load(db, org_id).await?;
    Ok(settings.business_hours.and_then(|b| b.timezone.parse().ok()).unwrap_or(chrono_tz::UTC))
}

/// When a campaign starts, from what its creator wrote.
fn start_time(text: Option<&str>, tz: chrono_tz::Tz) -> Result<Option<DateTime<Utc>>> {
    let Some(t) = text.map(str::trim).filter(|t| !t.is_empty()) else { return Ok(None) };
    if let Ok(at) = DateTime::parse_from_rfc3339(t) {
        return Ok(Some(at.with_timezone(&Utc)));
    }
    let naive = NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M"))
        .map_err(|_| {
            Error::invalid("scheduledAt", "scheduledAt is an RFC 3339 time or a local time like 2026-12-24T09:00")
        })?;
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|at| Some(at.with_timezone(&Utc)))
        .ok_or_else(|| Error::invalid("scheduledAt", "that local time does not exist in the organization's time zone"))
}

/// CAMPAIGNS-2: checks the recipients, and unless it is a dry run stores the campaign and lets
/// the runner start it (now or when scheduled).
pub async fn create(state: &AppState, org_id: &str, user_id: Option<&str>, input: CampaignInput) -> Result<Created> {
    let db = state.db();
    // The ids a body names are checked first: naming another organization's is the fault.
    let named_account = input.account_id.as_deref().filter(|a| !a.is_empty());
    crate::domain::refs::require_opt(
        db,
        org_id,
        "accountId",
        crate::domain::refs::Kind::WhatsappAccount,
        named_account,
    )
    .await?;
    let template_id = input
        .template_id
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Error::invalid("templateId", "templateId is required"))?;
    let template = crate::channels::whatsapp::templates::store::get(db, org_id, template_id)
        .await
        .map_err(|_| Error::invalid("templateId", "templateId names no template of this organization"))?;
    let account = match input.account_id.as_deref().filter(|a| !a.is_empty()) {
        Some(id) => {
            let a = accounts::get(db, org_id, id).await?.ok_or_else(|| {
                Error::invalid("accountId", "accountId names no connected WhatsApp account of this organization")
            })?;
            if template.waba_id.as_deref() != Some(a.waba_id.as_str()) {
                return Err(Error::invalid(
                    "accountId",
                    "the template belongs to another business account than this number",
                ));
            }
            a
        }
        None => {
            let all = accounts::list(db, org_id).await?;
            all.iter()
                .find(|a| template.account_id.as_deref() == Some(a.id.as_str()))
                .or_else(|| all.iter().find(|a| template.waba_id.as_deref() == Some(a.waba_id.as_str())))
                .cloned()
                .ok_or_else(|| {
                    Error::Conflict("no connected number belongs to the template's business account".into())
                })?
        }
    };
    let name = input.name.as_deref().map(str::trim).unwrap_or_default().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(Error::invalid("name", "name is 1 to 200 characters"));
    }
    if template.status != TemplateStatus::Approved {
        return Err(Error::Conflict(format!(
            "the template is {}: only an APPROVED template can be sent",
            template.status
        )));
    }
    let attribution_hours = input.attribution_hours.unwrap_or(DEFAULT_ATTRIBUTION_HOURS);
    if !(1..=720).contains(&attribution_hours) {
        return Err(Error::invalid("attributionHours", "attributionHours is 1 to 720"));
    }
    let scheduled_at = start_time(input.scheduled_at.as_deref(), time_zone(db, org_id).await?)?;
    let components = components_of(&template);
    let named = template.parameter_format == "NAMED";
    let rows = match (input.recipients, input.recipients_csv) {
        (Some(_), Some(_)) => {
            return Err(Error::invalid("recipientsCsv", "give recipients or recipientsCsv, not both"));
        }
        (Some(list), None) => list,
        (None, Some(csv)) => {
            recipients::from_csv(&csv, &components, named).map_err(|e| Error::invalid("recipientsCsv", e))?
        }
        (None, None) => return Err(Error::invalid("recipients", "give the recipients (recipients or recipientsCsv)")),
    };
    if rows.len() > recipients::MAX_RECIPIENTS {
        return Err(Error::invalid(
            "recipients",
            format!("a campaign has at most {} recipients", recipients::MAX_RECIPIENTS),
        ));
    }
    let checks =
        recipients::check(&components, named, template.header_media_path.is_some(), input.parameters.as_ref(), rows);
    let preview = Preview {
        valid: checks.valid.len(),
        duplicates: checks.duplicates,
        estimate: pricing::estimate(
            &state.rates,
            template.category.as_str(),
            checks.valid.iter().map(|c| c.wa_id.as_str()),
        ),
        samples: checks.valid.iter().take(3).map(|c| c.prepared.text.clone()).collect(),
        invalid: checks.invalid.clone(),
    };
    if input.dry_run {
        return Ok(Created { campaign: None, preview });
    }
    if let Some(first) = checks.invalid.first().filter(|_| !input.skip_invalid) {
        return Err(Error::invalid(
            format!("recipients[{}].{}", first.row - 1, first.field),
            format!(
                "{} row(s) cannot be sent (first: row {}: {}); fix them, or set skipInvalid to leave them out (dryRun lists them all)",
                checks.invalid.len(),
                first.row,
                first.message
            ),
        ));
    }
    if checks.valid.is_empty() {
        return Err(Error::invalid("recipients", "no recipient can be sent"));
    }
    let now = Utc::now();
    let due = scheduled_at.is_none_or(|t| t <= now);
    let c = campaign::Model {
        id: actors::new_id(),
        org_id: org_id.to_owned(),
        name,
        template_id: template.id.clone(),
        template_name: template.name.clone(),
        language: template.language.clone(),
        category: template.category.to_string(),
        account_id: account.id.clone(),
        inbox_id: account.inbox_id.clone(),
        status: if due { CampaignStatus::Running } else { CampaignStatus::Scheduled },
        scheduled_at,
        started_at: due.then_some(now),
        completed_at: None,
        total: checks.valid.len() as i32,
        attribution_hours,
        waiting_reason: None,
        lease_owner: None,
        lease_until: None,
        created_by: user_id.map(str::to_owned),
        created_at: now,
        updated_at: now,
        deleted_at: None,
    };
    let txn = db.begin().await?;
    campaign::ActiveModel::from(c.clone()).reset_all().insert(&txn).await?;
    for chunk in checks.valid.chunks(200) {
        let rows = chunk.iter().map(|r| {
            campaign_recipient::ActiveModel::from(campaign_recipient::Model {
                id: actors::new_id(),
                org_id: org_id.to_owned(),
                campaign_id: c.id.clone(),
                position: r.row as i32,
                wa_id: r.wa_id.clone(),
                name: r.name.clone(),
                parameters: serde_json::to_string(&r.parameters).unwrap_or_else(|_| "{}".into()),
                components: r.prepared.components.to_string(),
                text: r.prepared.text.clone(),
                status: RecipientStatus::Pending,
                conversation_id: None,
                message_id: None,
                error_code: None,
                error_message: None,
                sent_at: None,
                delivered_at: None,
                read_at: None,
                replied_at: None,
                updated_at: now,
            })
            .reset_all()
        });
        campaign_recipient::Entity::insert_many(rows).exec(&txn).await?;
    }
    txn.commit().await?;
    runner::wake(state);
    Ok(Created { campaign: Some(CampaignView::from(&c)), preview })
}

/// One of the organization's campaigns.
pub async fn get(db: &impl ConnectionTrait, org_id: &str, id: &str) -> Result<campaign::Model> {
    campaign::Entity::find_by_id(id.to_owned())
        .filter(campaign::Column::OrgId.eq(org_id))
        .filter(campaign::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .ok_or(Error::NotFound("campaign"))
}

/// The campaigns that send from an inbox (its number), newest first.
pub async fn of_inbox(db: &impl ConnectionTrait, org_id: &str, inbox_id: &str) -> Result<Vec<campaign::Model>> {
    Ok(campaign::Entity::find()
        .filter(campaign::Column::OrgId.eq(org_id))
        .filter(campaign::Column::InboxId.eq(inbox_id))
        .filter(campaign::Column::DeletedAt.is_null())
        .order_by_desc(campaign::Column::CreatedAt)
        .order_by_desc(campaign::Column::Id)
        .all(db)
        .await?)
}

/// CAMPAIGNS-1: the organization's campaigns, newest first, with their progress.
pub async fn list(
    db: &impl ConnectionTrait,
    org_id: &str,
    status: Option<CampaignStatus>,
    skip: u64,
    size: u64,
) -> Result<(Vec<(campaign::Model, stats::Counts)>, u64)> {
    let mut q = campaign::Entity::find()
        .filter(campaign::Column::OrgId.eq(org_id))
        .filter(campaign::Column::DeletedAt.is_null());
    if let Some(s) = status {
        q = q.filter(campaign::Column::Status.eq(s.as_str()));
    }
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_desc(campaign::Column::CreatedAt)
        .order_by_desc(campaign::Column::Id)
        .offset(skip)
        .limit(size)
        .all(db)
        .await?;
    for c in rows.iter().filter(|c| stats::still_moving(c)) {
        stats::refresh_for_read(db, c).await;
    }
    let ids: Vec<String> = rows.iter().map(|c| c.id.clone()).collect();
    let mut counts = stats::counts_of(db, &ids).await?;
    let out = rows
        .into_iter()
        .map(|c| {
            let n = counts.remove(&c.id).unwrap_or_default();
            (c, n)
        })
        .collect();
    Ok((out, total))
}

/// CAMPAIGNS-4: a campaign with a page of its recipients and its figures, all as of one refresh
/// of its recipients' statuses (a refresh that loses a race to the runner never fails the read).
pub async fn detail(
    db: &impl ConnectionTrait,
    card: &pricing::RateCard,
    org_id: &str,
    id: &str,
    status: Option<RecipientStatus>,
    skip: u64,
    size: u64,
) -> Result<Detail> {
    let campaign = get(db, org_id, id).await?;
    stats::refresh_for_read(db, &campaign).await;
    let (recipients, total) = recipients_page(db, &campaign, status, skip, size).await?;
    let stats = stats::figures(db, card, &campaign).await?;
    Ok(Detail { campaign, recipients, total, stats })
}

/// What [`detail`] answers.
pub struct Detail {
    pub campaign: campaign::Model,
    pub recipients: Vec<campaign_recipient::Model>,
    /// Recipients matching the filter, over all pages.
    pub total: u64,
    pub stats: stats::CampaignStats,
}

/// CAMPAIGNS-6: a page of a campaign's recipients in sending order (of one status, if given),
/// and how many there are.
async fn recipients_page(
    db: &impl ConnectionTrait,
    c: &campaign::Model,
    status: Option<RecipientStatus>,
    skip: u64,
    size: u64,
) -> Result<(Vec<campaign_recipient::Model>, u64)> {
    let mut q = campaign_recipient::Entity::find().filter(campaign_recipient::Column::CampaignId.eq(c.id.clone()));
    if let Some(s) = status {
        q = q.filter(campaign_recipient::Column::Status.eq(s.as_str()));
    }
    let total = q.clone().count(db).await?;
    let rows = q.order_by_asc(campaign_recipient::Column::Position).offset(skip).limit(size).all(db).await?;
    Ok((rows, total))
}

/// What a bulk request does to each campaign.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Stop sending after the messages under way; resume picks up where it stopped.
    Pause,
    Resume,
    /// Stop for good; recipients not sent stay PENDING.
    Cancel,
    /// Remove from lists (a running one is cancelled first); its messages stay.
    Delete,
}

#[derive(Serialize, ToSchema, Default, Debug)]
#[schema(as = CampaignBulkResult)]
#[serde(rename_all = "camelCase")]
pub struct BulkResult {
    pub succeeded: Vec<String>,
    pub failed: Vec<BulkFailure>,
}

#[derive(Serialize, ToSchema, Debug)]
#[schema(as = CampaignBulkFailure)]
pub struct BulkFailure {
    pub id: String,
    pub reason: String,
}

/// Applies an action to one campaign: a conditional update, so a campaign that moved on in the
/// meantime (completed, cancelled) is reported, not overwritten.
pub async fn act(state: &AppState, org_id: &str, id: &str, action: Action) -> Result<campaign::Model> {
    let db = state.db();
    let c = get(db, org_id, id).await?;
    use CampaignStatus as S;
    let (from, to): (&[S], Option<S>) = match action {
        Action::Pause => (&[S::Running, S::Scheduled], Some(S::Paused)),
        Action::Resume => (&[S::Paused], Some(S::Running)),
        Action::Cancel => (&[S::Running, S::Scheduled, S::Paused], Some(S::Cancelled)),
        Action::Delete => (&[S::Running, S::Scheduled, S::Paused, S::Completed, S::Cancelled], None),
    };
    if !from.contains(&c.status) {
        return Err(Error::Conflict(format!(
            "the campaign is {}: it cannot be {}",
            c.status,
            match action {
                Action::Pause => "paused",
                Action::Resume => "resumed",
                Action::Cancel => "cancelled",
                Action::Delete => "deleted",
            }
        )));
    }
    let now = Utc::now();
    let mut q = campaign::Entity::update_many()
        .col_expr(campaign::Column::UpdatedAt, Expr::value(now))
        .filter(campaign::Column::Id.eq(c.id.clone()))
        .filter(campaign::Column::Status.is_in(from.iter().map(|s| s.as_str())));
    match to {
        Some(next) => {
            q = q.col_expr(campaign::Column::Status, Expr::value(next.as_str()));
            if next == S::Running && c.started_at.is_none() {
                q = q.col_expr(campaign::Column::StartedAt, Expr::value(now));
            }
            if next == S::Cancelled {
                q = q.col_expr(campaign::Column::CompletedAt, Expr::value(now));
            }
        }
        None => {
            q = q.col_expr(campaign::Column::DeletedAt, Expr::value(now));
            if matches!(c.status, S::Running | S::Scheduled | S::Paused) {
                q = q.col_expr(campaign::Column::Status, Expr::value(S::Cancelled.as_str()));
            }
        }
    }
    if q.exec(db).await?.rows_affected == 0 {
        return Err(Error::Conflict("the campaign changed meanwhile; look again".into()));
    }
    if action == Action::Resume {
        runner::wake(state);
    }
    let c = campaign::Entity::find_by_id(c.id).one(db).await?.ok_or(Error::NotFound("campaign"))?;
    runner::announce(state, &c).await?;
    Ok(c)
}

/// CAMPAIGNS-11: an action on each named campaign (or each of one status), reported one by one;
/// an id that names no campaign of the organization is a fault of the request.
pub async fn bulk(
    state: &AppState,
    org_id: &str,
    action: Action,
    ids: Option<Vec<String>>,
    status: Option<CampaignStatus>,
) -> Result<BulkResult> {
    let db = state.db();
    let ids = match ids {
        Some(ids) => {
            if ids.is_empty() || ids.len() > 500 {
                return Err(Error::invalid("selection.ids", "name 1 to 500 campaigns"));
            }
            let mut distinct = ids;
            distinct.sort();
            distinct.dedup();
            let found = campaign::Entity::find()
                .filter(campaign::Column::OrgId.eq(org_id))
                .filter(campaign::Column::DeletedAt.is_null())
                .filter(campaign::Column::Id.is_in(distinct.clone()))
                .count(db)
                .await?;
            if found != distinct.len() as u64 {
                return Err(Error::invalid(
                    "selection.ids",
                    "selection.ids names a campaign that is not this organization's",
                ));
            }
            distinct
        }
        None => list(db, org_id, status, 0, 500).await?.0.into_iter().map(|(c, _)| c.id).collect(),
    };
    let mut out = BulkResult::default();
    for id in ids {
        match act(state, org_id, &id, action).await {
            Ok(_) => out.succeeded.push(id),
            Err(e) => out.failed.push(BulkFailure { id, reason: e.to_string() }),
        }
    }
    Ok(out)
}

/// CAMPAIGNS-9: what sending a template to these numbers would cost.
pub async fn estimate(
    state: &AppState,
    org_id: &str,
    template_id: Option<&str>,
    phones: Vec<RecipientInput>,
) -> Result<(pricing::Estimate, Vec<RowProblem>)> {
    let template_id =
        template_id.filter(|t| !t.is_empty()).ok_or_else(|| Error::invalid("templateId", "templateId is required"))?;
    let template = crate::channels::whatsapp::templates::store::get(state.db(), org_id, template_id)
        .await
        .map_err(|_| Error::invalid("templateId", "templateId names no template of this organization"))?;
    let mut wa_ids = Vec::new();
    let mut problems = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, r) in phones.into_iter().enumerate() {
        let phone = r.phone.unwrap_or_default();
        match crate::channels::whatsapp::templates::send::wa_id_of("phone", &phone) {
            Ok(w) if seen.insert(w.clone()) => wa_ids.push(w),
            Ok(_) => {}
            Err(e) => problems.push(RowProblem {
                row: i + 1,
                phone: Some(phone),
                field: "phone".into(),
                message: e.to_string(),
            }),
        }
    }
    let e = pricing::estimate(&state.rates, template.category.as_str(), wa_ids.iter().map(String::as_str));
    Ok((e, problems))
}
