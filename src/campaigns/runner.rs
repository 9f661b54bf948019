//! Running campaigns. Each node's scheduler claims campaigns that are due (a lease in the
//! database, renewed while it runs, so one node runs a campaign at a time and another takes it
//! over when that node dies) and starts a [`CampaignActor`] for each. The actor sends the
//! pending recipients in order, through the conversation actors and the outbox, with as many
//! sends under way as the number's throughput needs (the number's pacer, in the WhatsApp
//! sender, keeps them within Meta's limit); it waits while the number's daily limit of unique
//! customers is reached or the template is not approved, and stops when paused or cancelled.
//! Every recipient's send carries the idempotency key `campaign:<campaign>:<recipient>`, so a
//! campaign resumed after a crash never sends anyone twice.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ::actors::ActorError;
use ::actors::channel::{HeaderFile, TemplateContent};
use ::actors::conversation::SendTemplate;
use ::actors::inbox::ResolveConversation;
use actix::prelude::*;
use chrono::Utc;
use entities::enums::{CampaignStatus, Direction, RecipientStatus, TemplateStatus};
use entities::{campaign, campaign_recipient, message, whatsapp_template};
use futures_util::StreamExt;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::stats;
use crate::channels::whatsapp::accounts;
use crate::channels::whatsapp::templates::params;
use crate::channels::whatsapp::templates::store::components_of;
use crate::domain::{Error, Result};
use crate::state::AppState;

/// How long a node's claim on a campaign lasts without renewal.
const LEASE: chrono::Duration = chrono::Duration::seconds(5);
/// How often the scheduler looks for campaigns to run, besides being woken.
const POLL: Duration = Duration::from_millis(500);

/// The node's scheduler: woken when a campaign is created or resumed.
#[derive(Clone, Default)]
pub struct Runner {
    wake: Arc<tokio::sync::Notify>,
    /// Campaigns this node runs now.
    running: Arc<Mutex<HashSet<String>>>,
}

/// Looks for campaigns to run now rather than at the next poll.
pub fn wake(state: &AppState) {
    state.campaigns.wake.notify_one();
}

/// Starts the node's scheduler.
pub fn start(state: Arc<AppState>) {
    let rt = state.rt.clone();
    rt.spawn_loop(async move {
        loop {
            if let Err(e) = claim(&state).await {
                tracing::warn!(error = %e, "campaign scheduling failed");
            }
            tokio::select! {
                _ = state.campaigns.wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    });
}

/// Claims every campaign that is due and not run by a live node, and starts its actor.
async fn claim(state: &Arc<AppState>) -> Result<()> {
    let db = state.db();
    let now = Utc::now();
    let node = state.rt.config.node_id.clone();
    let due = campaign::Entity::find()
        .filter(campaign::Column::DeletedAt.is_null())
        .filter(
            Condition::any().add(campaign::Column::Status.eq(CampaignStatus::Running.as_str())).add(
                Condition::all()
                    .add(campaign::Column::Status.eq(CampaignStatus::Scheduled.as_str()))
                    .add(campaign::Column::ScheduledAt.lte(now)),
            ),
        )
        .filter(
            Condition::any()
                .add(campaign::Column::LeaseUntil.is_null())
                .add(campaign::Column::LeaseUntil.lt(now))
                .add(campaign::Column::LeaseOwner.eq(node.clone())),
        )
        .all(db)
        .await?;
    for c in due {
        if state.campaigns.running.lock().unwrap_or_else(|p| p.into_inner()).contains(&c.id) {
            continue;
        }
        // The claim: only if nobody else renewed it meanwhile.
        let claimed = campaign::Entity::update_many()
            .col_expr(campaign::Column::LeaseOwner, Expr::value(node.clone()))
            .col_expr(campaign::Column::LeaseUntil, Expr::value(now + LEASE))
            .filter(campaign::Column::Id.eq(c.id.clone()))
            .filter(
                Condition::any()
                    .add(campaign::Column::LeaseUntil.is_null())
                    .add(campaign::Column::LeaseUntil.lt(now))
                    .add(campaign::Column::LeaseOwner.eq(node.clone())),
            )
            .exec(db)
            .await?;
        if claimed.rows_affected == 0 {
            continue;
        }
        if c.status == CampaignStatus::Scheduled {
            campaign::Entity::update_many()
                .col_expr(campaign::Column::Status, Expr::value(CampaignStatus::Running.as_str()))
                .col_expr(campaign::Column::StartedAt, Expr::value(now))
                .col_expr(campaign::Column::UpdatedAt, Expr::value(now))
                .filter(campaign::Column::Id.eq(c.id.clone()))
                .filter(campaign::Column::Status.eq(CampaignStatus::Scheduled.as_str()))
                .exec(db)
                .await?;
        }
        state.campaigns.running.lock().unwrap_or_else(|p| p.into_inner()).insert(c.id.clone());
        tracing::info!(campaign_id = %c.id, "campaign claimed");
        CampaignActor { state: state.clone(), id: c.id }.start();
    }
    Ok(())
}

/// Runs one campaign on this node until it completes, is paused or cancelled, or its lease is
/// lost.
pub struct CampaignActor {
    state: Arc<AppState>,
    id: String,
}

impl Actor for CampaignActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let (state, id) = (self.state.clone(), self.id.clone());
        let work = async move {
            if let Err(e) = run(&state, &id).await {
                tracing::warn!(campaign_id = %id, error = %e, "campaign run stopped; another look follows");
            }
            release(&state, &id).await;
        };
        ctx.spawn(work.into_actor(self).map(|_, _, ctx| ctx.stop()));
    }
}

async fn release(state: &AppState, id: &str) {
    state.campaigns.running.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
    let r = campaign::Entity::update_many()
        .col_expr(campaign::Column::LeaseOwner, Expr::value(Option::<String>::None))
        .col_expr(campaign::Column::LeaseUntil, Expr::value(Option::<chrono::DateTime<Utc>>::None))
        .filter(campaign::Column::Id.eq(id))
        .filter(campaign::Column::LeaseOwner.eq(state.rt.config.node_id.clone()))
        .exec(state.db())
        .await;
    if let Err(e) = r {
        tracing::warn!(campaign_id = %id, error = %e, "could not release a campaign's lease; it runs out by itself");
    }
}

/// Renews the lease while the campaign runs; `false` when it is no longer this node's to run.
async fn renew(state: &AppState, id: &str) -> Result<bool> {
    let r = campaign::Entity::update_many()
        .col_expr(campaign::Column::LeaseUntil, Expr::value(Utc::now() + LEASE))
        .filter(campaign::Column::Id.eq(id))
        .filter(campaign::Column::LeaseOwner.eq(state.rt.config.node_id.clone()))
        .filter(campaign::Column::Status.eq(CampaignStatus::Running.as_str()))
        .filter(campaign::Column::DeletedAt.is_null())
        .exec(state.db())
        .await?;
    Ok(r.rows_affected == 1)
}

async fn set_waiting(state: &AppState, id: &str, reason: Option<String>) -> Result<()> {
    campaign::Entity::update_many()
        .col_expr(campaign::Column::WaitingReason, Expr::value(reason))
        .filter(campaign::Column::Id.eq(id))
        .exec(state.db())
        .await?;
    Ok(())
}

/// Unique customers the number sent templates to in the last 24 hours (Meta's messaging limit
/// counts business-initiated conversations per rolling day).
async fn customers_today(state: &AppState, inbox_id: &str) -> Result<u64> {
    let n: Option<i64> = message::Entity::find()
        .select_only()
        .column_as(Expr::col(message::Column::ConversationId).count_distinct(), "n")
        .filter(message::Column::InboxId.eq(inbox_id))
        .filter(message::Column::Direction.eq(Direction::Outbound.as_str()))
        .filter(message::Column::MessageType.eq(::actors::conversation::TEMPLATE))
        // Stored, not only answered: a send on its way to Meta counts already.
        .filter(message::Column::CreatedAt.gt(Utc::now() - chrono::Duration::hours(24)))
        .filter(message::Column::Status.ne(entities::enums::MessageStatus::Failed))
        .into_tuple()
        .one(state.db())
        .await?;
    Ok(u64::try_from(n.unwrap_or(0)).unwrap_or(0))
}

/// What a stretch of sending works with, read again about once a second.
struct Ready {
    campaign: campaign::Model,
    template: whatsapp_template::Model,
    header: Option<HeaderFile>,
    per_second: u32,
    /// Customers the number may still reach today.
    room: u64,
}

/// Whether the campaign may send now: renews the lease, and waits (saying why) while the
/// template is not approved, the number is disconnected or its daily limit is reached. `None`:
/// it stopped being this node's to run (paused, cancelled, deleted, taken over).
async fn ready(state: &AppState, id: &str) -> Result<Option<Ready>> {
    let db = state.db();
    loop {
        if !renew(state, id).await? {
            return Ok(None);
        }
        let c = campaign::Entity::find_by_id(id.to_owned()).one(db).await?.ok_or(Error::NotFound("campaign"))?;
        let template = whatsapp_template::Entity::find_by_id(c.template_id.clone()).one(db).await?;
        let template = match template {
            Some(t) if t.status == TemplateStatus::Approved => t,
            other => {
                let status = other.map_or("gone".to_owned(), |t| t.status.to_string());
                let why = format!("the template is {status} at Meta; sending resumes when it is approved again");
                set_waiting(state, id, Some(why)).await?;
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
        };
        let Some(account) = accounts::get(db, &c.org_id, &c.account_id).await? else {
            set_waiting(state, id, Some("the number is disconnected; connect it again to go on".into())).await?;
            tokio::time::sleep(Duration::from_secs(5)).await;
            continue;
        };
        let pacing = accounts::Pacing::of(&account);
        let mut room = u64::MAX;
        if let Some(limit) = pacing.daily_unique_limit.map(u64::from) {
            let used = customers_today(state, &c.inbox_id).await?;
            if used >= limit {
                let why = format!(
                    "the number reached its limit of {limit} customers in 24 hours; sending resumes as the day rolls on"
                );
                set_waiting(state, id, Some(why)).await?;
                tokio::time::sleep(Duration::from_secs(10)).await;
                continue;
            }
            room = limit - used;
        }
        if c.waiting_reason.is_some() {
            set_waiting(state, id, None).await?;
        }
        announce(state, &c).await?;
        let header = header_file(&template);
        return Ok(Some(Ready { campaign: c, template, header, per_second: pacing.per_second, room }));
    }
}

/// Tells the organization's agents how the campaign stands (`campaign.progress`), so progress
/// bars move without polling.
pub async fn announce(state: &AppState, c: &campaign::Model) -> Result<()> {
    // Best effort: a read refreshing the same rows may win a race on PostgreSQL.
    let synced = async {
        stats::link(state.db(), c).await?;
        stats::sync_messages(state.db(), c, true).await
    };
    if let Err(e) = synced.await {
        tracing::debug!(campaign_id = %c.id, error = %e, "campaign progress not synced this time");
    }
    let counts = stats::counts(state.db(), &c.id).await?;
    let payload = serde_json::json!({ "campaign": super::CampaignView::from(c), "counts": counts });
    let txn = state.rt.db.begin_write_in(&c.org_id).await?;
    let event = ::actors::store::events::NewEvent {
        conversation: None,
        name: ::actors::events::EventName::CampaignProgress,
        payload: payload.to_string(),
    };
    state.rt.commit(txn, &c.org_id, vec![event]).await?;
    Ok(())
}

/// The next pending recipients in sending order after `after`.
async fn pending_after(state: &AppState, id: &str, after: i32, limit: u64) -> Result<Vec<campaign_recipient::Model>> {
    Ok(campaign_recipient::Entity::find()
        .filter(campaign_recipient::Column::CampaignId.eq(id))
        .filter(campaign_recipient::Column::Status.eq(RecipientStatus::Pending.as_str()))
        .filter(campaign_recipient::Column::MessageId.is_null())
        .filter(campaign_recipient::Column::Position.gt(after))
        .order_by_asc(campaign_recipient::Column::Position)
        .limit(limit)
        .all(state.db())
        .await?)
}

/// Recipients whose conversations one turn of the inbox actor finds or opens.
const RESOLVE_PER_TURN: usize = 25;

async fn run(state: &AppState, id: &str) -> Result<()> {
    loop {
        let Some(first) = ready(state, id).await? else { return Ok(()) };
        if pending_after(state, id, -1, 1).await?.is_empty() {
            let now = Utc::now();
            campaign::Entity::update_many()
                .col_expr(campaign::Column::Status, Expr::value(CampaignStatus::Completed.as_str()))
                .col_expr(campaign::Column::CompletedAt, Expr::value(now))
                .col_expr(campaign::Column::UpdatedAt, Expr::value(now))
                .filter(campaign::Column::Id.eq(id))
                .filter(campaign::Column::Status.eq(CampaignStatus::Running.as_str()))
                .exec(state.db())
                .await?;
            stats::refresh_for_read(state.db(), &first.campaign).await;
            if let Some(c) = campaign::Entity::find_by_id(id.to_owned()).one(state.db()).await? {
                announce(state, &c).await?;
            }
            tracing::info!(campaign_id = %id, "campaign completed");
            return Ok(());
        }
        // A steady stream of sends: as one finishes the next starts, so one slow send holds one
        // slot, not the campaign. About a second of recipients is read at a time, each time
        // after another look at the lease, the template and the daily limit.
        let concurrency = (first.per_second as usize / 4).clamp(4, 64);
        // Sends started and not yet stored: the daily limit's count cannot see them yet.
        let unstored = &AtomicU64::new(0);
        let pages = futures_util::stream::unfold((-1i32, Some(first)), move |(after, ready_now)| async move {
            // Sends under way are read before the look counts the stored ones: a send that is
            // stored while the look runs is then counted twice (the stretch ends a little early),
            // never not at all (one customer over the limit). No send starts during the look.
            let under_way = unstored.load(Ordering::SeqCst);
            let r = match ready_now {
                Some(r) => r,
                None => match ready(state, id).await {
                    Ok(Some(r)) => r,
                    Ok(None) => return None,
                    Err(e) => {
                        tracing::warn!(campaign_id = %id, error = %e, "campaign check failed; another look follows");
                        return None;
                    }
                },
            };
            // No room until the sends under way are stored: this stretch ends, and the next
            // look counts them.
            let room = r.room.saturating_sub(under_way);
            if room == 0 {
                return None;
            }
            let batch = Ord::min(u64::from(r.per_second).clamp(10, 1000), room);
            let page = match pending_after(state, id, after, batch).await {
                Ok(p) if !p.is_empty() => p,
                _ => return None,
            };
            let last = page.last().map_or(after, |p| p.position);
            // The page's conversations a few dozen per turn of the inbox actor (one transaction
            // each): few turns, and each short enough that a customer's own message never waits
            // long behind one. Should a turn fail, each of its sends finds its own.
            let mut conversations: Vec<Option<String>> = Vec::with_capacity(page.len());
            for chunk in page.chunks(RESOLVE_PER_TURN) {
                let wa_ids: Vec<String> = chunk.iter().map(|p| p.wa_id.clone()).collect();
                let resolve = ::actors::inbox::ResolveMany { wa_ids };
                match state.rt.ask_inbox(&r.campaign.org_id, &r.campaign.inbox_id, resolve).await {
                    Ok(ids) if ids.len() == chunk.len() => conversations.extend(ids.into_iter().map(Some)),
                    Ok(_) => conversations.extend(std::iter::repeat_n(None, chunk.len())),
                    Err(e) => {
                        tracing::info!(campaign_id = %id, error = %e, "conversations could not be opened at once");
                        conversations.extend(std::iter::repeat_n(None, chunk.len()));
                    }
                }
            }
            let r = Arc::new(r);
            let items: Vec<(Arc<Ready>, campaign_recipient::Model, Option<String>)> =
                page.into_iter().zip(conversations).map(|(p, conv)| (r.clone(), p, conv)).collect();
            Some((futures_util::stream::iter(items), (last, None)))
        })
        .flatten();
        let failures = pages
            .map(|(r, recipient, conversation)| {
                // Counted when taken from the page, before the next page's look at the limit.
                unstored.fetch_add(1, Ordering::SeqCst);
                async move {
                    let sent =
                        send_one(state, &r.campaign, &r.template, r.header.clone(), recipient, conversation).await;
                    unstored.fetch_sub(1, Ordering::SeqCst);
                    sent
                }
            })
            .buffer_unordered(concurrency)
            .filter_map(|res| async move { res.err() })
            .fold(0usize, |n, e| async move {
                tracing::warn!(campaign_id = %id, error = %e, "a send could not be made; it is tried again");
                n + 1
            })
            .await;
        if failures > 0 {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let c = campaign::Entity::find_by_id(id.to_owned()).one(state.db()).await?;
        if let Some(c) = c {
            stats::refresh_for_read(state.db(), &c).await;
        }
    }
}

/// The template's stored header file, for templates with a media header.
fn header_file(t: &whatsapp_template::Model) -> Option<HeaderFile> {
    let path = t.header_media_path.clone()?;
    Some(HeaderFile {
        kind: params::header_format(&components_of(t)).unwrap_or_default().to_ascii_lowercase(),
        path,
        mime: t.header_media_mime.clone().unwrap_or_default(),
    })
}

async fn fail(state: &AppState, r: &campaign_recipient::Model, code: &str, reason: String) -> Result<()> {
    campaign_recipient::Entity::update_many()
        .col_expr(campaign_recipient::Column::Status, Expr::value(RecipientStatus::Failed.as_str()))
        .col_expr(campaign_recipient::Column::ErrorCode, Expr::value(code))
        .col_expr(campaign_recipient::Column::ErrorMessage, Expr::value(reason))
        .col_expr(campaign_recipient::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(campaign_recipient::Column::Id.eq(r.id.clone()))
        .exec(state.db())
        .await?;
    Ok(())
}

/// Sends one recipient's message (or finds the one a run before a crash already made).
async fn send_one(
    state: &AppState,
    c: &campaign::Model,
    t: &whatsapp_template::Model,
    header: Option<HeaderFile>,
    r: campaign_recipient::Model,
    conversation: Option<String>,
) -> Result<()> {
    let key = format!("campaign:{}:{}", c.id, r.id);
    // A run before a crash may have made it: then it is linked, not sent again.
    if ::actors::store::messages::by_idempotency_key(state.db(), &c.org_id, &key).await?.is_some() {
        return Ok(());
    }
    let conversation = match conversation.filter(|c| !c.is_empty()) {
        Some(id) => id,
        None => {
            let resolve = ResolveConversation { wa_id: r.wa_id.clone(), profile_name: None, closed: None };
            state.rt.ask_inbox(&c.org_id, &c.inbox_id, resolve).await?
        }
    };
    let components = serde_json::from_str(&r.components).unwrap_or(serde_json::Value::Array(Vec::new()));
    let msg = SendTemplate {
        org_id: c.org_id.clone(),
        sender_id: None,
        template: TemplateContent {
            name: t.name.clone(),
            language: t.language.clone(),
            components,
            header_file: header,
        },
        text: r.text.clone(),
        idempotency_key: Some(key),
    };
    let answer = state.rt.ask_conversation(&c.org_id, &conversation, msg).await;
    let outcome = match &answer {
        Ok(_) => "made",
        Err(ActorError::Conflict(_)) => "refused",
        Err(ActorError::Invalid { .. }) => "invalid",
        Err(_) => "retry",
    };
    metrics::counter!("cx_campaign_sends_total", "outcome" => outcome).increment(1);
    match answer {
        // Linked to its recipient by `stats::link`, with every other send of the second.
        Ok(_) => Ok(()),
        Err(ActorError::Conflict(reason)) => fail(state, &r, "refused", reason).await,
        Err(ActorError::Invalid { message, .. }) => fail(state, &r, "invalid", message).await,
        Err(e) => Err(e.into()),
    }
}
