//! Sending media to a customer: the file is checked against what WhatsApp takes for its kind,
//! stored, then handed to the conversation's actor, which sends it through the outbox like any
//! reply. A file that does not end up as the message's (a refusal, or an idempotent repeat that
//! answered with the first request's message) is deleted again.

use actors::conversation::SendMedia;
use actors::views::MessageView;
use entities::conversation;

use crate::domain::{Error, Result};
use crate::state::AppState;

pub const MB: usize = 1024 * 1024;

/// Files WhatsApp takes at all (a document may be up to this).
pub const MAX_BYTES: usize = 100 * MB;
/// A caption's length, in characters.
pub const MAX_CAPTION: usize = 1024;

/// The MIME types WhatsApp takes for a kind (empty: any) and its size limit.
fn rules(kind: &str) -> Option<(&'static [&'static str], usize)> {
    Some(match kind {
        "image" => (&["image/jpeg", "image/png"], 5 * MB),
        "video" => (&["video/mp4", "video/3gpp"], 16 * MB),
        "audio" => (&["audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"], 16 * MB),
        "document" => (&[], MAX_BYTES),
        _ => return None,
    })
}

/// The kind a MIME type is sent as when the client does not say.
fn kind_of(mime: &str) -> &'static str {
    match mime.split('/').next().unwrap_or_default() {
        "image" => "image",
        "video" => "video",
        "audio" => "audio",
        _ => "document",
    }
}

/// A file an agent sends.
pub struct Upload {
    pub bytes: Vec<u8>,
    pub mime: String,
    pub filename: Option<String>,
    /// image, video, audio or document; default from the MIME type.
    pub kind: Option<String>,
    pub caption: Option<String>,
}

/// Checks the file, stores it and has the conversation's actor send it.
pub async fn send(
    state: &AppState,
    conv: &conversation::Model,
    sender_id: &str,
    upload: Upload,
    idempotency_key: Option<String>,
) -> Result<MessageView> {
    let org_id = conv.org_id.as_str();
    let Upload { bytes, mime, filename, kind, caption } = upload;
    if bytes.is_empty() {
        return Err(Error::invalid("file", "a non-empty file is required"));
    }
    let kind = kind.filter(|k| !k.is_empty()).unwrap_or_else(|| kind_of(&mime).to_owned());
    let (types, max) =
        rules(&kind).ok_or_else(|| Error::invalid("type", "type must be image, video, audio or document"))?;
    if !types.is_empty() && !types.contains(&mime.as_str()) {
        let allowed = types.join(", ");
        return Err(Error::invalid("file", format!("WhatsApp does not take {mime} as {kind}; use one of {allowed}")));
    }
    if bytes.len() > max {
        return Err(Error::TooLarge(format!("a {kind} may be at most {} MB", max / MB)));
    }
    let caption = caption.filter(|c| !c.is_empty());
    if caption.as_ref().is_some_and(|c| c.chars().count() > MAX_CAPTION) {
        return Err(Error::invalid("caption", format!("caption is at most {MAX_CAPTION} characters")));
    }
    let path = format!("{org_id}/out-{}", actors::new_id());
    let size = bytes.len() as i64;
    state.media.put(&path, bytes).await.map_err(|e| Error::Internal(format!("media store: {e}")))?;
    let msg = SendMedia {
        org_id: org_id.to_owned(),
        sender_id: sender_id.to_owned(),
        kind,
        path: path.clone(),
        mime,
        size,
        caption,
        filename,
        idempotency_key,
        reply_to: None,
    };
    let result = state.rt.ask_conversation(org_id, &conv.id, msg).await;
    // The file stays only if it is the message's: not after a refusal (closed, outside the
    // window), nor when the Idempotency-Key answered with the first request's message.
    let kept = match &result {
        Ok(view) => {
            let row = actors::store::messages::get(state.db(), &view.id).await.ok().flatten();
            row.is_none_or(|m| m.media_path.as_deref() == Some(path.as_str()))
        }
        // A refusal stored nothing; after anything else (an unavailable node, a timeout) the
        // message may exist, so its file stays.
        Err(e) => !matches!(
            e,
            actors::ActorError::Conflict(_) | actors::ActorError::Invalid { .. } | actors::ActorError::NotFound(_)
        ),
    };
    if !kept && let Err(e) = state.media.delete(&path).await {
        tracing::warn!(error = %e, path = %path, "unsent media not deleted");
    }
    Ok(result?)
}
