//! The media fetcher: downloads the files of inbound messages from the Graph API in two steps
//! (the media id gives a short-lived URL, the URL gives the bytes, both with the account's
//! bearer token), keeps them in the media store, and reports each outcome to the message's
//! conversation actor. Runs for the node's lifetime; a failed download stays `failed` with the
//! reason until `retry-media` puts it back in line.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actors::Runtime;
use actors::conversation::{MediaOutcome, MediaResult};
use sea_orm::DatabaseConnection;

use super::accounts;
use super::graph::GraphClient;
use crate::crypto::SecretBox;
use crate::media::MediaStore;

/// Largest file accepted (WhatsApp's own limit for documents is 100 MB).
pub const MAX_MEDIA_BYTES: usize = 100 * 1024 * 1024;
/// Downloads at once.
const PARALLEL: usize = 4;

pub struct MediaFetcher {
    pub rt: Runtime,
    pub db: DatabaseConnection,
    pub secrets: SecretBox,
    pub graph: GraphClient,
    pub store: Arc<dyn MediaStore>,
    pub poll: Duration,
}

impl MediaFetcher {
    /// Looks for pending media every `poll` and downloads it.
    pub async fn run(self: Arc<Self>) {
        let in_flight: Arc<Mutex<HashSet<String>>> = Arc::default();
        let mut tick = tokio::time::interval(self.poll);
        loop {
            tick.tick().await;
            let pending = match actors::store::messages::media_pending(&self.db, 50).await {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(error = %e, "media sweep failed");
                    continue;
                }
            };
            for m in pending {
                {
                    let mut set = in_flight.lock().unwrap_or_else(|p| p.into_inner());
                    if set.len() >= PARALLEL || !set.insert(m.id.clone()) {
                        continue;
                    }
                }
                let (me, in_flight) = (self.clone(), in_flight.clone());
                actix_web::rt::spawn(async move {
                    let outcome = me.download(&m).await;
                    if let MediaOutcome::Failed { error } = &outcome {
                        tracing::info!(message_id = %m.id, %error, "media download failed");
                    }
                    let report = MediaResult { org_id: m.org_id.clone(), message_id: m.id.clone(), outcome };
                    if let Err(e) = me.rt.ask_conversation(&m.org_id, &m.conversation_id, report).await {
                        tracing::warn!(message_id = %m.id, error = %e, "could not record the media download");
                    }
                    in_flight.lock().unwrap_or_else(|p| p.into_inner()).remove(&m.id);
                });
            }
        }
    }

    async fn download(&self, m: &entities::message::Model) -> MediaOutcome {
        let failed = |error: String| MediaOutcome::Failed { error };
        let Some(media_id) = &m.media_id else { return failed("no media id".into()) };
        let account = match accounts::by_inbox(&self.db, &m.org_id, &m.inbox_id).await {
            Ok(Some(a)) => a,
            Ok(None) => return failed("the inbox has no connected WhatsApp account".into()),
            Err(e) => return failed(format!("database: {e}")),
        };
        let token = match self.secrets.decrypt(&account.access_token_enc) {
            Ok(t) => t,
            Err(e) => return failed(e.to_string()),
        };
        let (bytes, mime) = match self.graph.download_media(media_id, &token, MAX_MEDIA_BYTES).await {
            Ok(x) => x,
            Err(e) => return failed(format!("{} ({})", e.message, e.code)),
        };
        let key = format!("{}/{}", m.org_id, m.id);
        let size = bytes.len() as i64;
        match self.store.put(&key, bytes).await {
            Ok(()) => MediaOutcome::Stored { path: key, mime, size },
            Err(e) => failed(format!("could not store the file: {e}")),
        }
    }
}
