//! Customer satisfaction (CSAT). When a conversation is resolved and its inbox's survey is on
//! and its rule matches the conversation's tags, the customer is asked to rate it: on WhatsApp
//! an interactive list (inside the 24-hour window only), in the widget buttons, on an API inbox
//! the survey message's webhook. Ratings come back through [`rate`] (or a WhatsApp list reply,
//! [`whatsapp_reply`]) and are stored once per conversation by the conversation's actor.

use actors::conversation::Resolve;
use actors::conversation::csat::{Rate, RatingView, Survey, parse_option_id};
use actors::views::ConversationView;
use chrono::{DateTime, Utc};
use entities::{conversation, csat_response, inbox};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{Error, Result};
use crate::inboxes::CsatConfig;
use crate::state::AppState;

const DEFAULT_QUESTION: &str = "How would you rate your experience?";
const DEFAULT_BUTTON: &str = "Rate us";

/// The survey a resolved conversation gets, if its inbox asks for one and the rule matches.
pub async fn survey_for(db: &impl ConnectionTrait, conv: &conversation::Model) -> Result<Option<Survey>> {
    let Some(inbox) = inbox::Entity::find_by_id(conv.inbox_id.clone()).one(db).await? else { return Ok(None) };
    if !inbox.csat_survey_enabled {
        return Ok(None);
    }
    let config: CsatConfig =
        inbox.csat_config.as_deref().and_then(|c| serde_json::from_str(c).ok()).unwrap_or_default();
    if let Some(rule) = &config.survey_rule {
        let tags = actors::store::tags::of_conversations(db, &conv.org_id, std::slice::from_ref(&conv.id)).await?;
        let names: Vec<String> =
            tags.get(&conv.id).map(|t| t.iter().map(|t| t.name.clone()).collect()).unwrap_or_default();
        if !rule.matches(&names) {
            return Ok(None);
        }
    }
    Ok(Some(Survey {
        question: config.message.filter(|m| !m.trim().is_empty()).unwrap_or_else(|| DEFAULT_QUESTION.into()),
        display_type: config.display_type.unwrap_or_else(|| "emoji".into()),
        button: config.button_text.filter(|b| !b.trim().is_empty()).unwrap_or_else(|| DEFAULT_BUTTON.into()),
    }))
}

/// Resolves the conversation through its actor, which sends the survey when one is due.
pub async fn resolve(state: &AppState, org_id: &str, conversation_id: &str) -> Result<ConversationView> {
    let conv = actors::store::conversations::get(state.db(), org_id, conversation_id)
        .await?
        .ok_or(Error::NotFound("conversation"))?;
    let survey = survey_for(state.db(), &conv).await?;
    let msg = Resolve { org_id: org_id.to_owned(), survey };
    Ok(state.rt.ask_conversation(org_id, conversation_id, msg).await?)
}

/// The customer's rating of a conversation of `org_id` that was sent a survey.
pub async fn rate(
    state: &AppState,
    org_id: &str,
    conversation_id: &str,
    rating: i32,
    comment: Option<String>,
) -> Result<RatingView> {
    let msg = Rate { org_id: org_id.to_owned(), rating, comment };
    Ok(state.rt.ask_conversation(org_id, conversation_id, msg).await?)
}

/// A WhatsApp list reply that answers a survey (`csat:<conversation>:<rating>`) from the
/// customer it was sent to, in this inbox: the rating is stored and `true` answered, so the
/// reply opens no conversation. Anything else answers `false` and is stored as a message.
pub async fn whatsapp_reply(
    state: &AppState,
    org_id: &str,
    inbox_id: &str,
    from_wa_id: &str,
    content: Option<&str>,
) -> Result<bool> {
    let Some(reply_id) = content
        .and_then(|c| serde_json::from_str::<serde_json::Value>(c).ok())
        .and_then(|v| v.get("list_reply")?.get("id")?.as_str().map(str::to_owned))
    else {
        return Ok(false);
    };
    let Some((conversation_id, rating)) = parse_option_id(&reply_id) else { return Ok(false) };
    let Some(conv) = actors::store::conversations::get(state.db(), org_id, conversation_id).await? else {
        return Ok(false);
    };
    let contact = actors::store::contacts::get(state.db(), org_id, &conv.contact_id).await?;
    if conv.inbox_id != inbox_id || contact.is_none_or(|c| c.wa_id != from_wa_id) {
        return Ok(false);
    }
    match rate(state, org_id, conversation_id, rating, None).await {
        Ok(_) => Ok(true),
        // No survey went to this conversation: the reply is an ordinary message.
        Err(Error::Conflict(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The rating of one conversation, if it has one.
pub async fn of_conversation(
    db: &impl ConnectionTrait,
    org_id: &str,
    conversation_id: &str,
) -> Result<Option<RatingView>> {
    actors::store::conversations::get(db, org_id, conversation_id).await?.ok_or(Error::NotFound("conversation"))?;
    let row = csat_response::Entity::find()
        .filter(csat_response::Column::OrgId.eq(org_id))
        .filter(csat_response::Column::ConversationId.eq(conversation_id))
        .one(db)
        .await?;
    Ok(row.as_ref().map(RatingView::from))
}

/// Which ratings a report covers.
#[derive(Default)]
pub struct Filter {
    pub inbox_id: Option<String>,
    pub assigned_to: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// What the ratings of a report add up to.
#[derive(Serialize, ToSchema, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub count: u64,
    /// Mean rating, null when there is none.
    pub average: Option<f64>,
    /// How many ratings of 1, 2, 3, 4 and 5.
    pub distribution: [u64; 5],
    /// Share of ratings of 4 or 5 (the usual CSAT score), 0 to 1; null when there is none.
    pub satisfied: Option<f64>,
}

fn select(org_id: &str, f: &Filter) -> Select<csat_response::Entity> {
    let mut q = csat_response::Entity::find().filter(csat_response::Column::OrgId.eq(org_id));
    if let Some(i) = &f.inbox_id {
        q = q.filter(csat_response::Column::InboxId.eq(i.clone()));
    }
    if let Some(a) = &f.assigned_to {
        q = q.filter(csat_response::Column::AssignedTo.eq(a.clone()));
    }
    if let Some(from) = f.from {
        q = q.filter(csat_response::Column::UpdatedAt.gte(from));
    }
    if let Some(to) = f.to {
        q = q.filter(csat_response::Column::UpdatedAt.lt(to));
    }
    q
}

/// One page of ratings, newest first, with the summary of all that match (an inbox or agent
/// of another organization matches nothing).
pub async fn report(
    db: &impl ConnectionTrait,
    org_id: &str,
    f: &Filter,
    limit: u64,
    offset: u64,
) -> Result<(Vec<RatingView>, Summary)> {
    let rows = select(org_id, f)
        .order_by_desc(csat_response::Column::UpdatedAt)
        .order_by_desc(csat_response::Column::Id)
        .limit(limit)
        .offset(offset)
        .all(db)
        .await?;
    let counts: Vec<(i32, i64)> = select(org_id, f)
        .select_only()
        .column(csat_response::Column::Rating)
        .column_as(csat_response::Column::Id.count(), "n")
        .group_by(csat_response::Column::Rating)
        .into_tuple()
        .all(db)
        .await?;
    Ok((rows.iter().map(RatingView::from).collect(), summary(&counts)))
}

fn summary(counts: &[(i32, i64)]) -> Summary {
    let mut distribution = [0u64; 5];
    for &(rating, n) in counts {
        if (1..=5).contains(&rating) {
            distribution[(rating - 1) as usize] += n.max(0) as u64;
        }
    }
    let count: u64 = distribution.iter().sum();
    let total: u64 = distribution.iter().enumerate().map(|(i, n)| (i as u64 + 1) * n).sum();
    let share = |n: u64| (count > 0).then(|| n as f64 / count as f64);
    Summary { count, average: share(total), distribution, satisfied: share(distribution[3] + distribution[4]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_counts_averages_and_gives_the_satisfied_share() {
        let s = summary(&[(5, 3), (4, 1), (1, 1), (9, 4)]);
        assert_eq!(s.count, 5);
        assert_eq!(s.distribution, [1, 0, 0, 1, 3]);
        assert_eq!(s.average, Some(4.0));
        assert_eq!(s.satisfied, Some(0.8));
        assert_eq!(summary(&[]).average, None);
    }
}
