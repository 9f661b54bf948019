//! Routing at run time: the organization's active rules, in priority order, decide the team of
//! a new conversation from its first message (and again on re-route / run-now); no match means
//! the default team. The condition logic is [`crate::policy::routing`].

use chrono::{Datelike, Utc};
use entities::enums::Direction;
use entities::{contact, conversation, inbox, message, routing_rule, team};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::settings::RoutingSettings;
use crate::error::ActorError;
use crate::policy::routing::{self as policy, Condition, MatchType, RoutingInput, Rule};
use crate::store;

/// The organization's active rules whose team is active, in priority order.
pub async fn active_rules(db: &impl ConnectionTrait, org_id: &str) -> Result<Vec<Rule>, ActorError> {
    let teams: Vec<String> = team::Entity::find()
        .select_only()
        .column(team::Column::Id)
        .filter(team::Column::OrgId.eq(org_id))
        .filter(team::Column::IsActive.eq(true))
        .filter(team::Column::DeletedAt.is_null())
        .into_tuple()
        .all(db)
        .await?;
    let rows = routing_rule::Entity::find()
        .filter(routing_rule::Column::OrgId.eq(org_id))
        .filter(routing_rule::Column::IsActive.eq(true))
        .order_by_asc(routing_rule::Column::Priority)
        .order_by_asc(routing_rule::Column::CreatedAt)
        .all(db)
        .await?;
    Ok(rows.iter().filter(|r| teams.contains(&r.team_id)).map(rule_of).collect())
}

/// The policy's view of a stored rule.
pub fn rule_of(r: &routing_rule::Model) -> Rule {
    Rule {
        id: r.id.clone(),
        name: r.name.clone(),
        team_id: r.team_id.clone(),
        match_type: if r.match_type == "ALL" { MatchType::All } else { MatchType::Any },
        conditions: serde_json::from_str::<Vec<Condition>>(&r.conditions).unwrap_or_default(),
    }
}

/// What the rules look at for this conversation. `text` is the message being routed; `None`
/// reads the customer's recent messages.
pub async fn input_for(
    db: &impl ConnectionTrait,
    conv: &conversation::Model,
    contact: Option<&contact::Model>,
    text: Option<&str>,
    settings: &RoutingSettings,
) -> Result<RoutingInput, ActorError> {
    let message_text = match text {
        Some(t) => t.to_owned(),
        None => {
            let recent: Vec<Option<String>> = message::Entity::find()
                .select_only()
                .column(message::Column::Text)
                .filter(message::Column::ConversationId.eq(conv.id.clone()))
                .filter(message::Column::Direction.eq(Direction::Inbound.as_str()))
                .order_by_desc(message::Column::CreatedAt)
                .limit(5)
                .into_tuple()
                .all(db)
                .await?;
            recent.into_iter().flatten().rev().collect::<Vec<_>>().join("\n")
        }
    };
    let channel = inbox::Entity::find_by_id(conv.inbox_id.clone())
        .one(db)
        .await?
        .map_or(entities::enums::Channel::Whatsapp, |i| i.channel)
        .as_str()
        .to_owned();
    let tags = store::tags::of_conversations(db, &conv.org_id, std::slice::from_ref(&conv.id))
        .await?
        .remove(&conv.id)
        .unwrap_or_default()
        .into_iter()
        .map(|t| t.name)
        .collect();
    let tz: chrono_tz::Tz =
        settings.business_hours.as_ref().and_then(|b| b.timezone.parse().ok()).unwrap_or(chrono_tz::UTC);
    let local = Utc::now().with_timezone(&tz);
    Ok(RoutingInput {
        message_text,
        contact_name: contact.and_then(|c| c.name.clone()),
        contact_phone: contact
            .and_then(|c| c.phone.clone().or_else(|| Some(c.wa_id.clone()).filter(|w| !w.is_empty()))),
        contact_category: contact.and_then(|c| c.category.clone()),
        channel,
        inbox_id: conv.inbox_id.clone(),
        tags,
        category: conv.category.clone(),
        local_time: local.time(),
        weekday: local.weekday(),
    })
}

/// The team for this input: the first matching rule's, else the default team (if active).
/// Returns the team and the rule that chose it.
pub async fn decide(
    db: &impl ConnectionTrait,
    org_id: &str,
    input: &RoutingInput,
    settings: &RoutingSettings,
) -> Result<(Option<String>, Option<Rule>), ActorError> {
    let rules = active_rules(db, org_id).await?;
    if let Some(rule) = policy::first_match(&rules, input) {
        return Ok((Some(rule.team_id.clone()), Some(rule.clone())));
    }
    let default = match &settings.default_team_id {
        Some(id) => team::Entity::find_by_id(id.clone())
            .filter(team::Column::OrgId.eq(org_id))
            .filter(team::Column::IsActive.eq(true))
            .filter(team::Column::DeletedAt.is_null())
            .one(db)
            .await?
            .map(|t| t.id),
        None => None,
    };
    Ok((default, None))
}
