//! The bot's records as figures: feedback on bot messages, usage against the monthly limit,
//! quality over a window, bot sessions, and the traces the server keeps of every run.

use chrono::{Duration, Months, Utc};
use entities::enums::Direction;
use entities::{bot_feedback, bot_session, bot_trace, conversation, message};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::record;
use crate::domain::{Error, Result};

/// An open bot session with no turn for this long reads as ABANDONED.
const ABANDONED_AFTER_HOURS: i64 = 24;

/// A look-back window in days: `default` when not given, 1 to `max`.
pub fn days(d: Option<i64>, default: i64, max: i64) -> Result<i64> {
    let d = d.unwrap_or(default);
    if !(1..=max).contains(&d) {
        return Err(Error::invalid("days", format!("days must be between 1 and {max}")));
    }
    Ok(d)
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeedbackView {
    pub id: String,
    pub message_id: String,
    pub conversation_id: String,
    pub user_id: String,
    pub rating: i32,
    pub comment: Option<String>,
    pub created_at: chrono::DateTime<Utc>,
}

impl From<bot_feedback::Model> for FeedbackView {
    fn from(f: bot_feedback::Model) -> Self {
        FeedbackView {
            id: f.id,
            message_id: f.message_id,
            conversation_id: f.conversation_id,
            user_id: f.user_id,
            rating: f.rating,
            comment: f.comment,
            created_at: f.created_at,
        }
    }
}

/// Feedback on bot messages, newest first: a page of `limit` after the `cursor` (an id), and
/// whether there is more.
pub async fn feedback(
    db: &DatabaseConnection,
    org_id: &str,
    limit: u64,
    cursor: Option<&str>,
) -> Result<(Vec<FeedbackView>, Option<String>)> {
    let mut query = bot_feedback::Entity::find().filter(bot_feedback::Column::OrgId.eq(org_id));
    if let Some(c) = cursor {
        query = query.filter(bot_feedback::Column::Id.lt(c));
    }
    let mut rows = query.order_by_desc(bot_feedback::Column::Id).limit(limit + 1).all(db).await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more { rows.last().map(|r| r.id.clone()) } else { None };
    Ok((rows.into_iter().map(FeedbackView::from).collect(), next_cursor))
}

/// A user's rating of a bot message of the conversation: 1, 0 or -1, with an optional comment
/// (at most 2000 characters). Rating it again replaces the earlier rating.
pub async fn rate(
    db: &DatabaseConnection,
    user_id: &str,
    conv: &conversation::Model,
    message_id: &str,
    rating: Option<i32>,
    comment: Option<String>,
) -> Result<FeedbackView> {
    let rating =
        rating.filter(|r| (-1..=1).contains(r)).ok_or_else(|| Error::invalid("rating", "rating must be 1, 0 or -1"))?;
    if comment.as_ref().is_some_and(|c| c.chars().count() > 2000) {
        return Err(Error::invalid("comment", "comment is at most 2000 characters"));
    }
    let m = message::Entity::find_by_id(message_id.to_owned())
        .filter(message::Column::ConversationId.eq(conv.id.clone()))
        .one(db)
        .await?
        .ok_or_else(|| Error::invalid("messageId", "messageId names no message of this conversation"))?;
    if m.direction != Direction::Outbound || m.sender_id.is_some() {
        return Err(Error::invalid("messageId", "only the bot's messages take feedback"));
    }
    let row = bot_feedback::ActiveModel {
        id: Set(actors::new_id()),
        org_id: Set(conv.org_id.clone()),
        message_id: Set(m.id.clone()),
        conversation_id: Set(conv.id.clone()),
        user_id: Set(user_id.to_owned()),
        rating: Set(rating),
        comment: Set(comment),
        created_at: Set(Utc::now()),
    };
    bot_feedback::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([bot_feedback::Column::MessageId, bot_feedback::Column::UserId])
                .update_columns([
                    bot_feedback::Column::Rating,
                    bot_feedback::Column::Comment,
                    bot_feedback::Column::CreatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    let saved = bot_feedback::Entity::find()
        .filter(bot_feedback::Column::MessageId.eq(m.id))
        .filter(bot_feedback::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .ok_or(Error::NotFound("feedback"))?;
    Ok(FeedbackView::from(saved))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageView {
    /// `YYYY-MM` (UTC).
    pub month: String,
    pub turns: i64,
    pub calls: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub turn_limit: i64,
    pub remaining_turns: i64,
    /// When reached, bot turns hand conversations to humans until the month ends.
    pub limit_reached: bool,
}

async fn usage_in(db: &DatabaseConnection, org_id: &str, month: String, limit: i64) -> Result<UsageView> {
    let u = record::usage_of(db, org_id, &month).await?;
    let turns = u.as_ref().map_or(0, |u| u.turns);
    Ok(UsageView {
        month,
        turns,
        calls: u.as_ref().map_or(0, |u| u.calls),
        prompt_tokens: u.as_ref().map_or(0, |u| u.prompt_tokens),
        completion_tokens: u.as_ref().map_or(0, |u| u.completion_tokens),
        turn_limit: limit,
        remaining_turns: (limit - turns).max(0),
        limit_reached: turns >= limit,
    })
}

/// This month's usage against `limit`.
pub async fn usage(db: &DatabaseConnection, org_id: &str, limit: i64) -> Result<UsageView> {
    usage_in(db, org_id, record::month_of(Utc::now()), limit).await
}

/// The last 12 months of usage, oldest first (months without use are zero).
pub async fn usage_history(db: &DatabaseConnection, org_id: &str, limit: i64) -> Result<Vec<UsageView>> {
    let now = Utc::now();
    let mut out = Vec::new();
    for back in (0..12).rev() {
        let t = now.checked_sub_months(Months::new(back)).unwrap_or(now);
        out.push(usage_in(db, org_id, record::month_of(t), limit).await?);
    }
    Ok(out)
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Quality {
    pub days: i64,
    pub turns: u64,
    pub replies: u64,
    pub handoffs: u64,
    pub errors: u64,
    /// Share of turns that ended in a hand-off.
    pub handoff_rate: f64,
    pub avg_duration_ms: f64,
    pub sessions: u64,
    pub resolved_by_bot: u64,
    pub escalated: u64,
    pub positive_feedback: u64,
    pub negative_feedback: u64,
}

/// Quality figures of the bot over the last `days`.
pub async fn quality(db: &DatabaseConnection, org_id: &str, days: i64) -> Result<Quality> {
    let since = Utc::now() - Duration::days(days);
    let runs = bot_trace::Entity::find()
        .filter(bot_trace::Column::OrgId.eq(org_id))
        .filter(bot_trace::Column::Kind.eq("TURN"))
        .filter(bot_trace::Column::CreatedAt.gte(since))
        .all(db)
        .await?;
    let count = |d: &str| runs.iter().filter(|t| t.decision == d).count() as u64;
    let turns = runs.len() as u64;
    let spans = bot_session::Entity::find()
        .filter(bot_session::Column::OrgId.eq(org_id))
        .filter(bot_session::Column::StartedAt.gte(since))
        .all(db)
        .await?;
    let closed = |c: &str| spans.iter().filter(|s| s.closure_type.as_deref() == Some(c)).count() as u64;
    let feedback = |r: i32| {
        bot_feedback::Entity::find()
            .filter(bot_feedback::Column::OrgId.eq(org_id))
            .filter(bot_feedback::Column::CreatedAt.gte(since))
            .filter(bot_feedback::Column::Rating.eq(r))
            .count(db)
    };
    let handoffs = count("HANDOFF");
    Ok(Quality {
        days,
        turns,
        replies: count("REPLY"),
        handoffs,
        errors: runs.iter().filter(|t| t.error.is_some()).count() as u64,
        handoff_rate: if turns == 0 { 0.0 } else { handoffs as f64 / turns as f64 },
        avg_duration_ms: if turns == 0 {
            0.0
        } else {
            runs.iter().map(|t| t.duration_ms as f64).sum::<f64>() / turns as f64
        },
        sessions: spans.len() as u64,
        resolved_by_bot: closed("RESOLVED_CONFIRMED"),
        escalated: closed("ESCALATED"),
        positive_feedback: feedback(1).await?,
        negative_feedback: feedback(-1).await?,
    })
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    pub id: String,
    pub conversation_id: String,
    pub turns: i32,
    pub started_at: chrono::DateTime<Utc>,
    pub last_turn_at: chrono::DateTime<Utc>,
    pub ended_at: Option<chrono::DateTime<Utc>>,
    /// `None` while the session is open.
    pub closure_type: Option<String>,
    pub handoff_reason: Option<String>,
}

/// Bot sessions of the last `days`, newest first, optionally of one closure type
/// (RESOLVED_CONFIRMED, ABANDONED or ESCALATED); a page (`skip`, `limit`) and the total.
pub async fn sessions(
    db: &DatabaseConnection,
    org_id: &str,
    days: i64,
    closure_type: Option<&str>,
    skip: u64,
    limit: u64,
) -> Result<(Vec<SessionView>, u64)> {
    let now = Utc::now();
    let quiet = now - Duration::hours(ABANDONED_AFTER_HOURS);
    let mut query = bot_session::Entity::find()
        .filter(bot_session::Column::OrgId.eq(org_id))
        .filter(bot_session::Column::StartedAt.gte(now - Duration::days(days)));
    match closure_type {
        None => {}
        Some("ABANDONED") => {
            query = query
                .filter(bot_session::Column::ClosureType.is_null())
                .filter(bot_session::Column::LastTurnAt.lt(quiet))
        }
        Some(c @ ("RESOLVED_CONFIRMED" | "ESCALATED")) => query = query.filter(bot_session::Column::ClosureType.eq(c)),
        Some(_) => {
            return Err(Error::invalid(
                "closureType",
                "closureType must be RESOLVED_CONFIRMED, ABANDONED or ESCALATED",
            ));
        }
    }
    let total = query.clone().count(db).await?;
    let rows = query.order_by_desc(bot_session::Column::StartedAt).offset(skip).limit(limit).all(db).await?;
    let data = rows
        .into_iter()
        .map(|s| SessionView {
            closure_type: s.closure_type.or_else(|| (s.last_turn_at < quiet).then(|| "ABANDONED".to_owned())),
            id: s.id,
            conversation_id: s.conversation_id,
            turns: s.turns,
            started_at: s.started_at,
            last_turn_at: s.last_turn_at,
            ended_at: s.ended_at,
            handoff_reason: s.handoff_reason,
        })
        .collect();
    Ok((data, total))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TraceView {
    pub id: String,
    pub kind: String,
    pub conversation_id: Option<String>,
    pub config_id: Option<String>,
    pub input: String,
    pub decision: String,
    pub output: Option<String>,
    pub model: Option<String>,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub duration_ms: i64,
    pub error: Option<String>,
    /// The reply message the run produced.
    pub message_id: Option<String>,
    pub chunk_ids: Vec<String>,
    /// Each step: `kind`, `durationMs`, `detail` (detail view only).
    #[schema(value_type = Option<Vec<Object>>)]
    pub steps: Option<Value>,
    pub created_at: chrono::DateTime<Utc>,
}

fn trace_view(t: bot_trace::Model, with_steps: bool) -> TraceView {
    TraceView {
        chunk_ids: serde_json::from_str(&t.chunk_ids).unwrap_or_default(),
        steps: with_steps.then(|| serde_json::from_str(&t.steps).unwrap_or(Value::Null)),
        id: t.id,
        kind: t.kind,
        conversation_id: t.conversation_id,
        config_id: t.config_id,
        input: t.input,
        decision: t.decision,
        output: t.output,
        model: t.model,
        prompt_tokens: t.prompt_tokens,
        completion_tokens: t.completion_tokens,
        duration_ms: t.duration_ms,
        error: t.error,
        message_id: t.message_id,
        created_at: t.created_at,
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TraceSummary {
    pub days: i64,
    pub runs: usize,
    pub by_decision: std::collections::BTreeMap<String, usize>,
    pub by_kind: std::collections::BTreeMap<String, usize>,
    pub p50_duration_ms: i64,
    pub p95_duration_ms: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub errors: usize,
    /// The 50 newest runs.
    pub recent: Vec<TraceView>,
}

/// Performance of the bot's runs over the last `days`.
pub async fn trace_summary(db: &DatabaseConnection, org_id: &str, days: i64) -> Result<TraceSummary> {
    let rows = bot_trace::Entity::find()
        .filter(bot_trace::Column::OrgId.eq(org_id))
        .filter(bot_trace::Column::CreatedAt.gte(Utc::now() - Duration::days(days)))
        .order_by_desc(bot_trace::Column::CreatedAt)
        .all(db)
        .await?;
    let mut durations: Vec<i64> = rows.iter().map(|t| t.duration_ms).collect();
    durations.sort_unstable();
    let pct =
        |p: f64| durations.get(((durations.len() as f64 - 1.0) * p).round().max(0.0) as usize).copied().unwrap_or(0);
    let mut by_decision = std::collections::BTreeMap::new();
    let mut by_kind = std::collections::BTreeMap::new();
    for t in &rows {
        *by_decision.entry(t.decision.clone()).or_default() += 1;
        *by_kind.entry(t.kind.clone()).or_default() += 1;
    }
    let summary = TraceSummary {
        days,
        runs: rows.len(),
        p50_duration_ms: pct(0.5),
        p95_duration_ms: pct(0.95),
        prompt_tokens: rows.iter().map(|t| t.prompt_tokens).sum(),
        completion_tokens: rows.iter().map(|t| t.completion_tokens).sum(),
        errors: rows.iter().filter(|t| t.error.is_some()).count(),
        by_decision,
        by_kind,
        recent: rows.into_iter().take(50).map(|t| trace_view(t, false)).collect(),
    };
    Ok(summary)
}

/// One run, step by step.
pub async fn trace(db: &DatabaseConnection, org_id: &str, id: &str) -> Result<TraceView> {
    let t = crate::domain::find_in_org::<bot_trace::Entity>(db, org_id, id).await?;
    Ok(trace_view(t, true))
}
