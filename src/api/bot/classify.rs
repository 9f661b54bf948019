//! CONVERSATIONS-4/5: classify conversations with the model (the category routing rules read),
//! then route them again. The categories to choose from are the active config's `categories`,
//! or else those the organization already uses; an answer outside them leaves the conversation
//! as it was.

use actix_web::{HttpResponse, post, web};
use entities::conversation;
use entities::enums::ConversationStatus;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::super::Data;
use crate::auth::Caller;
use crate::bot::config::{self, Settings};
use crate::bot::provider::{ChatMessage, ChatRequest};
use crate::bot::{decision, engine};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(bulk).service(one);
}

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

/// Classifies one conversation and routes it again.
async fn classify(state: &AppState, org_id: &str, conv: &conversation::Model) -> ApiResult<Classified> {
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
        return Err(ApiError::Conflict(
            "no categories to choose from: list them in the bot config's categories".into(),
        ));
    }
    let history = engine::history(state.db(), &conv.id, 20).await?;
    let transcript: Vec<String> = history.iter().map(|m| format!("{}: {}", m.role, m.content)).collect();
    let prompt = format!(
        "Classify this customer conversation into exactly one of these categories: {}. \
         Answer with one JSON object {{\"category\": \"…\"}}.\n\nConversation:\n{}",
        categories.join(", "),
        transcript.join("\n")
    );
    let endpoint = config::endpoint(state.db(), &state.secrets, &c).await?;
    let req = ChatRequest {
        model: endpoint.model.clone(),
        messages: vec![ChatMessage::new("user", prompt)],
        temperature: Some(0.0),
        max_tokens: Some(50),
        json: true,
    };
    let answer = state
        .bot
        .provider(&endpoint)
        .await?
        .chat(&req)
        .await
        .map_err(|e| ApiError::Unavailable(format!("the model could not answer: {e}")))?;
    state.bot.add_usage(org_id, answer.usage, 1).await?;
    let chosen = decision::category_of(&answer.content)
        .and_then(|c| categories.iter().find(|k| k.eq_ignore_ascii_case(&c)).cloned());
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

/// Classify one conversation with the model and route it again.
#[utoipa::path(tag = "conversations", security(("bearer" = [])), params(("id" = String, Path, description = "Conversation id")), responses((status = 200, body = Data<Classified>), (status = 404, body = crate::error::ErrorBody), (status = 409, description = "Closed, no active bot config, or no categories", body = crate::error::ErrorBody), (status = 503, body = crate::error::ErrorBody)))]
#[post("/conversations/{id}/re-classify")]
pub async fn one(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let conv = crate::api::conversations::find(&state, &caller, &id).await?;
    if conv.status == ConversationStatus::Closed.as_str() {
        return Err(ApiError::Conflict("the conversation is closed".into()));
    }
    Ok(HttpResponse::Ok().json(Data::new(classify(&state, &caller.org_id, &conv).await?)))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReclassifyRequest {
    /// Only conversations without a category.
    pub only_uncategorized: Option<bool>,
    /// At most this many (newest first); default 100, at most 500.
    pub limit: Option<u64>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReclassifyReport {
    pub processed: usize,
    pub changed: usize,
    pub failed: usize,
    pub results: Vec<Classified>,
}

/// Classify and route again every open conversation (admins).
#[utoipa::path(tag = "conversations", security(("bearer" = [])), request_body = ReclassifyRequest, responses((status = 200, body = Data<ReclassifyReport>), (status = 400, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
#[post("/conversations/re-classify")]
pub async fn bulk(
    state: web::Data<AppState>,
    caller: Caller,
    body: crate::api::body::OptionalJson<ReclassifyRequest>,
) -> ApiResult<HttpResponse> {
    caller.require_admin()?;
    let b = body.into_inner().unwrap_or_default();
    let limit = b.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::validation("limit", "limit must be between 1 and 500"));
    }
    engine::require_config(state.db(), &caller.org_id).await?;
    let mut q = conversation::Entity::find()
        .filter(conversation::Column::OrgId.eq(caller.org_id.clone()))
        .filter(conversation::Column::Status.ne(ConversationStatus::Closed.as_str()));
    if b.only_uncategorized == Some(true) {
        q = q.filter(conversation::Column::Category.is_null());
    }
    let convs = q.order_by_desc(conversation::Column::UpdatedAt).limit(limit).all(state.db()).await?;
    let mut results = Vec::new();
    let mut failed = 0;
    for conv in &convs {
        match classify(&state, &caller.org_id, conv).await {
            Ok(r) => results.push(r),
            // No categories at all is the same answer for every conversation.
            Err(e @ ApiError::Conflict(_)) if results.is_empty() => return Err(e),
            Err(e) => {
                tracing::warn!(conversation_id = %conv.id, error = %e, "re-classify failed");
                failed += 1;
            }
        }
    }
    let changed = results.iter().filter(|r| r.changed).count();
    Ok(HttpResponse::Ok().json(Data::new(ReclassifyReport {
        processed: results.len() + failed,
        changed,
        failed,
        results,
    })))
}
