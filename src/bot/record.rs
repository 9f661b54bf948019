//! What the bot leaves behind: token usage per organization and month, a trace of every run,
//! and the bot session of a conversation.

use chrono::{DateTime, Datelike, Utc};
use entities::{bot_session, bot_trace, bot_usage};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};
use serde::Serialize;
use serde_json::Value;

use super::provider::Usage;

pub fn month_of(t: DateTime<Utc>) -> String {
    format!("{:04}-{:02}", t.year(), t.month())
}

/// Adds a run's usage to the organization's month, atomically (an upsert that adds).
pub async fn add_usage(
    db: &impl ConnectionTrait,
    org_id: &str,
    usage: Usage,
    calls: i64,
    turns: i64,
) -> Result<(), DbErr> {
    add_usage_at(db, org_id, usage, calls, turns, Utc::now()).await
}

/// [`add_usage`] to the month of `now`.
async fn add_usage_at(
    db: &impl ConnectionTrait,
    org_id: &str,
    usage: Usage,
    calls: i64,
    turns: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let month = month_of(now);
    let row = bot_usage::ActiveModel {
        id: Set(format!("{org_id}:{month}")),
        org_id: Set(org_id.to_owned()),
        month: Set(month),
        turns: Set(turns),
        calls: Set(calls),
        prompt_tokens: Set(usage.prompt_tokens as i64),
        completion_tokens: Set(usage.completion_tokens as i64),
        updated_at: Set(now),
    };
    let add = |col: bot_usage::Column, n: i64| Expr::col((bot_usage::Entity, col)).add(n);
    bot_usage::Entity::insert(row)
        .on_conflict(
            OnConflict::column(bot_usage::Column::Id)
                .value(bot_usage::Column::Turns, add(bot_usage::Column::Turns, turns))
                .value(bot_usage::Column::Calls, add(bot_usage::Column::Calls, calls))
                .value(
                    bot_usage::Column::PromptTokens,
                    add(bot_usage::Column::PromptTokens, usage.prompt_tokens as i64),
                )
                .value(
                    bot_usage::Column::CompletionTokens,
                    add(bot_usage::Column::CompletionTokens, usage.completion_tokens as i64),
                )
                .value(bot_usage::Column::UpdatedAt, Expr::value(now))
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Takes one bot turn from the organization's month if fewer than `limit` were taken: one
/// conditional update, so concurrent conversations cannot take more turns than the limit.
/// Answers whether the turn was taken.
pub async fn reserve_turn(db: &impl ConnectionTrait, org_id: &str, limit: i64) -> Result<bool, DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter};
    // One instant for both statements, so the row made is the row counted (at a month's turn too).
    let now = Utc::now();
    add_usage_at(db, org_id, Usage::default(), 0, 0, now).await?; // the month's row exists from here on
    let id = format!("{org_id}:{}", month_of(now));
    let taken = bot_usage::Entity::update_many()
        .col_expr(bot_usage::Column::Turns, Expr::col(bot_usage::Column::Turns).add(1))
        .col_expr(bot_usage::Column::UpdatedAt, Expr::value(now))
        .filter(bot_usage::Column::Id.eq(id))
        .filter(bot_usage::Column::Turns.lt(limit))
        .exec(db)
        .await?;
    Ok(taken.rows_affected == 1)
}

pub async fn usage_of(db: &impl ConnectionTrait, org_id: &str, month: &str) -> Result<Option<bot_usage::Model>, DbErr> {
    bot_usage::Entity::find_by_id(format!("{org_id}:{month}")).one(db).await
}

/// One step of a run, as the trace shows it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// `retrieval`, `intent`, `prompt`, `model`, `tool`, `decision`, `guard`.
    pub kind: &'static str,
    pub duration_ms: u64,
    pub detail: Value,
}

/// A finished run, to store.
pub struct Trace {
    pub id: String,
    pub org_id: String,
    pub conversation_id: Option<String>,
    pub config_id: Option<String>,
    pub kind: &'static str,
    pub input: String,
    pub decision: &'static str,
    pub output: Option<String>,
    pub steps: Vec<Step>,
    pub chunk_ids: Vec<String>,
    pub model: Option<String>,
    pub usage: Usage,
    pub duration_ms: u64,
    pub error: Option<String>,
}

pub async fn save_trace(db: &impl ConnectionTrait, t: Trace) -> Result<(), DbErr> {
    bot_trace::Entity::insert(bot_trace::ActiveModel {
        id: Set(t.id),
        org_id: Set(t.org_id),
        conversation_id: Set(t.conversation_id),
        config_id: Set(t.config_id),
        kind: Set(t.kind.into()),
        input: Set(t.input),
        decision: Set(t.decision.into()),
        output: Set(t.output),
        steps: Set(serde_json::to_string(&t.steps).unwrap_or_else(|_| "[]".into())),
        chunk_ids: Set(serde_json::to_string(&t.chunk_ids).unwrap_or_else(|_| "[]".into())),
        model: Set(t.model),
        prompt_tokens: Set(t.usage.prompt_tokens as i64),
        completion_tokens: Set(t.usage.completion_tokens as i64),
        duration_ms: Set(t.duration_ms as i64),
        error: Set(t.error),
        message_id: Set(None),
        created_at: Set(Utc::now()),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Counts a turn in the conversation's bot session (`conversation:epoch`), opening it on the
/// first; a hand-off closes it as ESCALATED with the reason.
pub async fn session_turn(
    db: &impl ConnectionTrait,
    org_id: &str,
    conversation_id: &str,
    epoch: i64,
    handoff: Option<&str>,
) -> Result<(), DbErr> {
    let now = Utc::now();
    let mut on_conflict = OnConflict::column(bot_session::Column::Id);
    on_conflict
        .value(bot_session::Column::Turns, Expr::col((bot_session::Entity, bot_session::Column::Turns)).add(1))
        .value(bot_session::Column::LastTurnAt, Expr::value(now));
    if let Some(reason) = handoff {
        on_conflict
            .value(bot_session::Column::HandoffReason, Expr::value(reason.to_owned()))
            .value(bot_session::Column::ClosureType, Expr::value("ESCALATED"))
            .value(bot_session::Column::EndedAt, Expr::value(now));
    }
    bot_session::Entity::insert(bot_session::ActiveModel {
        id: Set(format!("{conversation_id}:{epoch}")),
        org_id: Set(org_id.to_owned()),
        conversation_id: Set(conversation_id.to_owned()),
        epoch: Set(epoch),
        turns: Set(1),
        started_at: Set(now),
        last_turn_at: Set(now),
        ended_at: Set(handoff.map(|_| now)),
        closure_type: Set(handoff.map(|_| "ESCALATED".to_owned())),
        handoff_reason: Set(handoff.map(str::to_owned)),
    })
    .on_conflict(on_conflict.to_owned())
    .exec_without_returning(db)
    .await?;
    Ok(())
}
