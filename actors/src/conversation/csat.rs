//! Customer satisfaction: the survey a resolved conversation sends (when its inbox's rule
//! matched; the caller decides) and the customer's rating, stored once per conversation and
//! announced as `conversation.rated`. A rating changes nothing else: a closed conversation stays
//! closed.

use actix::prelude::*;
use chrono::Utc;
use entities::{csat_response, message};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect, Select,
};
use serde::{Deserialize, Serialize};

use super::outbound::{SURVEY, send_survey};
use super::{ConversationActor, Loaded, Outbox, commit};
use crate::channel::{SurveyContent, SurveyOption};
use crate::error::ActorError;
use crate::events::EventName;
use crate::runtime::Runtime;

/// The survey to send: the inbox's question, look and button label.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Survey {
    pub question: String,
    /// `emoji` or `star`.
    pub display_type: String,
    pub button: String,
}

/// The labels of ratings 1 to 5 in each look; WhatsApp list rows hold at most 24 characters.
fn label(display_type: &str, rating: i32) -> String {
    const WORDS: [&str; 5] = ["Very poor", "Poor", "Okay", "Good", "Excellent"];
    const FACES: [&str; 5] = ["😞", "🙁", "😐", "🙂", "😀"];
    let i = (rating.clamp(1, 5) - 1) as usize;
    if display_type == "star" {
        format!("{} {}", "⭐".repeat(i + 1), WORDS[i])
    } else {
        format!("{} {}", FACES[i], WORDS[i])
    }
}

/// What a choice answers with: `csat:<conversation id>:<rating>`.
pub fn option_id(conversation_id: &str, rating: i32) -> String {
    format!("csat:{conversation_id}:{rating}")
}

/// The conversation and rating an option id names.
pub fn parse_option_id(id: &str) -> Option<(&str, i32)> {
    let rest = id.strip_prefix("csat:")?;
    let (conversation, rating) = rest.rsplit_once(':')?;
    let rating: i32 = rating.parse().ok()?;
    ((1..=5).contains(&rating) && !conversation.is_empty()).then_some((conversation, rating))
}

pub(super) async fn send(rt: &Runtime, s: Loaded, survey: Survey) -> Result<Loaded, ActorError> {
    let options = (1..=5)
        .rev()
        .map(|r| SurveyOption { id: option_id(&s.conv.id, r), rating: r, label: label(&survey.display_type, r) })
        .collect();
    let content = SurveyContent { display_type: survey.display_type, button: survey.button, options };
    send_survey(rt, s, survey.question, &content).await
}

/// The customer rates the conversation (1 to 5, with an optional comment). Only a conversation
/// that was sent a survey takes a rating; rating again replaces the rating.
#[derive(Message, Clone, Debug, Serialize, Deserialize)]
#[rtype(result = "Result<RatingView, ActorError>")]
pub struct Rate {
    pub org_id: String,
    pub rating: i32,
    pub comment: Option<String>,
}

/// A rating as agents (and the API) see it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RatingView {
    pub conversation_id: String,
    pub inbox_id: String,
    pub contact_id: String,
    /// Who had the conversation when it was rated.
    pub assigned_to: Option<String>,
    pub channel: String,
    /// 1 (very poor) to 5 (excellent).
    pub rating: i32,
    pub comment: Option<String>,
    pub rated_at: chrono::DateTime<Utc>,
}

impl From<&csat_response::Model> for RatingView {
    fn from(r: &csat_response::Model) -> Self {
        RatingView {
            conversation_id: r.conversation_id.clone(),
            inbox_id: r.inbox_id.clone(),
            contact_id: r.contact_id.clone(),
            assigned_to: r.assigned_to.clone(),
            channel: r.channel.to_string(),
            rating: r.rating,
            comment: r.comment.clone(),
            rated_at: r.updated_at,
        }
    }
}

/// A survey message of the conversation, if it was sent one: one row of `ix_messages_surveys`,
/// not a count of the conversation's messages.
pub fn survey_sent(conversation_id: &str) -> Select<message::Entity> {
    message::Entity::find()
        .select_only()
        .column(message::Column::Id)
        .filter(message::Column::ConversationId.eq(conversation_id))
        .filter(crate::store::literal::is((message::Entity, message::Column::MessageType), SURVEY))
        .limit(1)
}

/// Longest comment kept, in characters.
pub const MAX_COMMENT: usize = 2_000;

impl Handler<Rate> for ConversationActor {
    type Result = AtomicResponse<Self, Result<RatingView, ActorError>>;
    fn handle(&mut self, msg: Rate, _: &mut Context<Self>) -> Self::Result {
        self.run(&msg.org_id, move |rt, mut s| async move {
            if !(1..=5).contains(&msg.rating) {
                return Err(ActorError::Invalid { field: "rating", message: "rating is 1 to 5".into() });
            }
            let comment = msg.comment.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
            if comment.as_ref().is_some_and(|c| c.chars().count() > MAX_COMMENT) {
                return Err(ActorError::Invalid {
                    field: "comment",
                    message: format!("comment is at most {MAX_COMMENT} characters"),
                });
            }
            let surveyed: Option<String> = survey_sent(&s.conv.id).into_tuple().one(&rt.db.conn).await?;
            if surveyed.is_none() {
                return Err(ActorError::Conflict("this conversation was not sent a satisfaction survey".into()));
            }
            let now = Utc::now();
            let txn = rt.db.begin_write_in(&s.conv.org_id).await?;
            let existing = csat_response::Entity::find()
                .filter(csat_response::Column::ConversationId.eq(s.conv.id.clone()))
                .one(&*txn)
                .await?;
            let row = match existing {
                Some(found) => {
                    let mut am = found.into_active_model();
                    am.rating = Set(msg.rating);
                    am.comment = Set(comment);
                    am.updated_at = Set(now);
                    am.update(&*txn).await?
                }
                None => {
                    csat_response::ActiveModel {
                        id: Set(crate::new_id()),
                        org_id: Set(s.conv.org_id.clone()),
                        inbox_id: Set(s.conv.inbox_id.clone()),
                        conversation_id: Set(s.conv.id.clone()),
                        contact_id: Set(s.conv.contact_id.clone()),
                        assigned_to: Set(s.conv.assigned_to.clone()),
                        channel: Set(s.channel),
                        rating: Set(msg.rating),
                        comment: Set(comment),
                        created_at: Set(now),
                        updated_at: Set(now),
                    }
                    .insert(&*txn)
                    .await?
                }
            };
            let view = RatingView::from(&row);
            let mut out = Outbox::new(&s.conv);
            out.push(EventName::ConversationRated, serde_json::to_string(&view)?);
            commit(&rt, txn, &mut s.conv, out).await?;
            Ok((s, view))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_option_id_names_its_conversation_and_rating() {
        let id = option_id("0190-abc:x", 4);
        assert_eq!(parse_option_id(&id), Some(("0190-abc:x", 4)));
        assert_eq!(parse_option_id("csat:c:6"), None);
        assert_eq!(parse_option_id("csat::3"), None);
        assert_eq!(parse_option_id("other:c:3"), None);
        assert!(label("emoji", 5).chars().count() <= 24 && label("star", 5).chars().count() <= 24);
    }
}
