//! Classifying conversations with the model (the category routing rules read), then routing them
//! again. The categories to choose from are the active config's `categories`, or else those the
//! organization already uses; an answer outside them leaves the conversation as it was.

use entities::conversation;
use entities::enums::ConversationStatus;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;

use super::config::{self, Settings};
use super::{decision, engine};
use crate::domain::{Error, Result};
use crate::state::AppState;

/// What classifying one conversation did.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Classified {
    pub conversation_id: String,
    pub previous_category: Option<String>,
    pub category: Option<String>,
    pub previous_team_id: Option<String>,
    pub team_id: Option<String>,
    /// The category or the team changed.
    pub changed: bool,
}

/// Classifies one (open) conversation and routes it again.
pub async fn conversation(state: &AppState, org_id: &str, conv: &conversation::Model) -> Result<Classified> {
    let c = engine::require_config(state.db(), org_id).await?;
    let settings = Settings::of(&c);
    let mut categories = settings.categories.clone();
    if categories.is_empty() {
        categories = conversation::Entity::find()
            .select_only()
            .column(conversation::Column::Category)
            .distinct()
            .filter(conversation::Column::OrgId.eq(org_id))
            .filter(conversation::Column::Category.is_not_null())
            .into_tuple::<Option<String>>()
            .all(state.db())
            .await?
            .into_iter()
            .flatten()
            .collect();
    }
    if categories.is_empty() {
        return Err(Error::Conflict("no categories to choose from: list them in the bot config's categories".into()));
    }
    let transcript = engine::transcript(state.db(), &conv.id, 20, ("user", "assistant")).await?;
    let prompt = format!(
        "Classify this customer conversation into exactly one of these categories: {}. \
         Answer with one JSON object {{\"category\": \"…\"}}.\n\nConversation:\n{transcript}",
        categories.join(", "),
    );
    let endpoint = config::endpoint(state.db(), &state.secrets, &c).await?;
    let answer = state.bot.ask_json(org_id, &endpoint, prompt, 0.0, 50).await?;
    let chosen =
        decision::category_in(&answer).and_then(|c| categories.iter().find(|k| k.eq_ignore_ascii_case(&c)).cloned());
    let mut current = conv.clone();
    if let Some(cat) = &chosen
        && conv.category.as_ref() != Some(cat)
    {
        let msg = actors::conversation::Update {
            org_id: org_id.to_owned(),
            category: Some(Some(cat.clone())),
            ..Default::default()
        };
        let view = state.rt.ask_conversation(org_id, &conv.id, msg).await?;
        current.category = view.category.clone();
    }
    let rerouted = state
        .rt
        .ask_conversation(org_id, &conv.id, actors::conversation::Reroute { org_id: org_id.to_owned() })
        .await?;
    Ok(Classified {
        conversation_id: conv.id.clone(),
        changed: current.category != conv.category || rerouted.changed,
        previous_category: conv.category.clone(),
        category: current.category,
        previous_team_id: rerouted.previous_team_id,
        team_id: rerouted.team_id,
    })
}

/// Classifies and routes again the organization's open conversations, newest first (at most
/// `limit`, 1 to 500; only those without a category when `only_uncategorized`). Answers the
/// results and how many failed.
pub async fn open_conversations(
    state: &AppState,
    org_id: &str,
    only_uncategorized: bool,
    limit: u64,
) -> Result<(Vec<Classified>, usize)> {
    if !(1..=500).contains(&limit) {
        return Err(Error::invalid("limit", "limit must be between 1 and 500"));
    }
    engine::require_config(state.db(), org_id).await?;
    let mut q = conversation::Entity::find()
        .filter(conversation::Column::OrgId.eq(org_id))
        .filter(conversation::Column::Status.ne(ConversationStatus::Closed.as_str()));
    if only_uncategorized {
        q = q.filter(conversation::Column::Category.is_null());
    }
    let convs = q.order_by_desc(conversation::Column::UpdatedAt).limit(limit).all(state.db()).await?;
    let mut results = Vec::new();
    let mut failed = 0;
    for conv in &convs {
        match conversation(state, org_id, conv).await {
            Ok(r) => results.push(r),
            // No categories at all is the same answer for every conversation.
            Err(e @ Error::Conflict(_)) if results.is_empty() => return Err(e),
            Err(e) => {
                tracing::warn!(conversation_id = %conv.id, error = %e, "re-classify failed");
                failed += 1;
            }
        }
    }
    Ok((results, failed))
}
