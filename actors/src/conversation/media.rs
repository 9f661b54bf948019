//! Media of inbound messages. The message is stored at once with its media `pending`; the
//! node's media fetcher downloads the file and reports here, so the message's change (and its
//! `message.updated` event) goes through the conversation's actor like every other.

use actix::prelude::*;
use chrono::Utc;
use sea_orm::{ActiveValue::Set, IntoActiveModel};
use serde::{Deserialize, Serialize};

use super::ConversationActor;
use super::outbound::{own_message, update_message};
use crate::error::ActorError;
use crate::views::MessageView;

/// `media_status` values.
pub const MEDIA_PENDING: &str = "pending";
pub const MEDIA_DOWNLOADED: &str = "downloaded";
pub const MEDIA_FAILED: &str = "failed";

/// How a download ended.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum MediaOutcome {
    Stored { path: String, mime: String, size: i64 },
    Failed { error: String },
}

/// Record a download's outcome.
#[derive(Message, Clone, Debug, Serialize, Deserialize)]
#[rtype(result = "Result<MessageView, ActorError>")]
pub struct MediaResult {
    pub org_id: String,
    pub message_id: String,
    pub outcome: MediaOutcome,
}

/// Download a message's media again (it failed, or never finished).
#[derive(Message, Clone, Debug, Serialize, Deserialize)]
#[rtype(result = "Result<MessageView, ActorError>")]
pub struct RetryMedia {
    pub org_id: String,
    pub message_id: String,
}

impl Handler<MediaResult> for ConversationActor {
    type Result = AtomicResponse<Self, Result<MessageView, ActorError>>;
    fn handle(&mut self, msg: MediaResult, _: &mut Context<Self>) -> Self::Result {
        let org_id = msg.org_id.clone();
        self.run(&org_id, move |rt, mut s| async move {
            let m = own_message(&rt, &s, &msg.message_id).await?;
            let mut am = m.into_active_model();
            match msg.outcome {
                MediaOutcome::Stored { path, mime, size } => {
                    am.media_status = Set(Some(MEDIA_DOWNLOADED.into()));
                    am.media_path = Set(Some(path));
                    am.media_mime = Set(Some(mime));
                    am.media_size = Set(Some(size));
                    am.media_error = Set(None);
                }
                MediaOutcome::Failed { error } => {
                    am.media_status = Set(Some(MEDIA_FAILED.into()));
                    am.media_error = Set(Some(error));
                }
            }
            am.updated_at = Set(Utc::now());
            let updated = update_message(&rt, &mut s, am).await?;
            Ok((s, MessageView::from(&updated)))
        })
    }
}

impl Handler<RetryMedia> for ConversationActor {
    type Result = AtomicResponse<Self, Result<MessageView, ActorError>>;
    fn handle(&mut self, msg: RetryMedia, _: &mut Context<Self>) -> Self::Result {
        let org_id = msg.org_id.clone();
        self.run(&org_id, move |rt, mut s| async move {
            let m = own_message(&rt, &s, &msg.message_id).await?;
            if m.media_id.is_none() {
                return Err(ActorError::Conflict("the message has no media to download".into()));
            }
            if m.media_status.as_deref() == Some(MEDIA_DOWNLOADED) {
                return Err(ActorError::Conflict("the media is already downloaded".into()));
            }
            let mut am = m.into_active_model();
            am.media_status = Set(Some(MEDIA_PENDING.into()));
            am.media_error = Set(None);
            am.updated_at = Set(Utc::now());
            let updated = update_message(&rt, &mut s, am).await?;
            Ok((s, MessageView::from(&updated)))
        })
    }
}
