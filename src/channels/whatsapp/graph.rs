//! The Graph API client (`POST /{version}/{phone-number-id}/messages` and friends) and the
//! [`WhatsAppSender`] that the conversation actors send through.

use std::time::Duration;

use actors::channel::{ChannelSender, OutboundContent, OutboundRequest, SendError, SendReceipt};
use futures_util::future::BoxFuture;
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use serde_json::{Value, json};

use super::accounts;
use crate::crypto::SecretBox;

/// Meta error codes worth retrying: throttling, spam rate limits, temporary unavailability.
const TRANSIENT_CODES: &[i64] = &[1, 2, 4, 80007, 130429, 131000, 131016, 131056, 133004];

#[derive(Clone)]
pub struct GraphClient {
    pub(crate) http: reqwest::Client,
    /// e.g. `https://graph.facebook.com`, or a local fake in tests.
    base_url: String,
    version: String,
}

/// What the Graph API says about a phone number.
#[derive(Debug, Default, Deserialize)]
pub struct PhoneNumberInfo {
    #[serde(default)]
    pub display_phone_number: Option<String>,
    #[serde(default)]
    pub verified_name: Option<String>,
}

#[derive(Deserialize)]
struct GraphErrorBody {
    error: GraphError,
}

#[derive(Deserialize)]
struct GraphError {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    code: Option<i64>,
    #[serde(default)]
    error_data: Option<GraphErrorData>,
}

#[derive(Deserialize)]
struct GraphErrorData {
    #[serde(default)]
    details: Option<String>,
}

impl GraphClient {
    pub fn new(base_url: &str, version: &str, timeout: Duration) -> Result<GraphClient, reqwest::Error> {
        let http = crate::http_client::builder(timeout).build()?;
        Ok(GraphClient { http, base_url: base_url.trim_end_matches('/').to_owned(), version: version.to_owned() })
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}/{}/{}", self.base_url, self.version, path)
    }

    /// Sends a WhatsApp message body; returns the wamid.
    pub async fn send_message(&self, phone_number_id: &str, token: &str, body: &Value) -> Result<String, SendError> {
        let url = self.url(&format!("{phone_number_id}/messages"));
        let text = call(self.http.post(url).bearer_auth(token).json(body)).await?;
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        v.pointer("/messages/0/id").and_then(Value::as_str).map(str::to_owned).ok_or_else(|| SendError {
            code: "bad_response".into(),
            message: "the WhatsApp Cloud API accepted the message but returned no message id".into(),
            transient: false,
        })
    }

    /// Reads a phone number's public details; an `Err` carries Meta's reason.
    pub async fn phone_number(&self, phone_number_id: &str, token: &str) -> Result<PhoneNumberInfo, SendError> {
        let url = format!("{}?fields=display_phone_number,verified_name", self.url(phone_number_id));
        let text = call(self.http.get(url).bearer_auth(token)).await?;
        Ok(serde_json::from_str(&text).unwrap_or_default())
    }
}

impl GraphClient {
    /// Uploads a file for sending; returns Meta's media id.
    pub async fn upload_media(
        &self,
        phone_number_id: &str,
        token: &str,
        bytes: Vec<u8>,
        mime: &str,
        filename: &str,
    ) -> Result<String, SendError> {
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(filename.to_owned())
            .mime_str(mime)
            .map_err(|e| SendError { code: "bad_media".into(), message: e.to_string(), transient: false })?;
        let form = reqwest::multipart::Form::new()
            .text("messaging_product", "whatsapp")
            .text("type", mime.to_owned())
            .part("file", part);
        let text =
            call(self.http.post(self.url(&format!("{phone_number_id}/media"))).bearer_auth(token).multipart(form))
                .await?;
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        v.get("id").and_then(Value::as_str).map(str::to_owned).ok_or_else(|| SendError {
            code: "bad_response".into(),
            message: "the Graph API took the upload but returned no media id".into(),
            transient: false,
        })
    }

    /// Downloads a media file in Meta's two steps: the media id gives a short-lived URL and the
    /// MIME type; the URL, fetched with the same bearer token, gives the bytes.
    pub async fn download_media(
        &self,
        media_id: &str,
        token: &str,
        max_bytes: usize,
    ) -> Result<(Vec<u8>, String), SendError> {
        #[derive(Deserialize)]
        struct MediaInfo {
            url: String,
            #[serde(default)]
            mime_type: Option<String>,
        }
        let text = call(self.http.get(self.url(media_id)).bearer_auth(token)).await?;
        let info: MediaInfo = serde_json::from_str(&text).map_err(|e| SendError {
            code: "bad_response".into(),
            message: format!("the Graph API media answer has no url: {e}"),
            transient: false,
        })?;
        let mut res = self.http.get(&info.url).bearer_auth(token).send().await.map_err(|e| SendError {
            code: "network".into(),
            message: format!("could not download the media: {e}"),
            transient: true,
        })?;
        let status = res.status();
        if !status.is_success() {
            return Err(classify_error(status.as_u16(), &res.text().await.unwrap_or_default()));
        }
        if res.content_length().is_some_and(|n| n as usize > max_bytes) {
            return Err(SendError {
                code: "too_large".into(),
                message: format!("the file is larger than {max_bytes} bytes"),
                transient: false,
            });
        }
        // Read in pieces and stop at the limit: a body without Content-Length is bounded too.
        let mut bytes = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(|e| SendError {
            code: "network".into(),
            message: e.to_string(),
            transient: true,
        })? {
            if bytes.len() + chunk.len() > max_bytes {
                return Err(SendError {
                    code: "too_large".into(),
                    message: format!("the file is larger than {max_bytes} bytes"),
                    transient: false,
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok((bytes, info.mime_type.unwrap_or_else(|| "application/octet-stream".into())))
    }
}

/// Sends a Graph API request; the body of a 2xx answer, or the classified error.
pub(crate) async fn call(req: reqwest::RequestBuilder) -> Result<String, SendError> {
    let res = req.send().await.map_err(|e| SendError {
        code: if e.is_timeout() { "timeout".into() } else { "network".into() },
        message: format!("could not reach the WhatsApp Cloud API: {e}"),
        transient: true,
    })?;
    let status = res.status();
    let text = res.text().await.unwrap_or_default();
    if !status.is_success() {
        return Err(classify_error(status.as_u16(), &text));
    }
    Ok(text)
}

/// Turns a Graph API error response into a [`SendError`] that says whether to retry.
pub fn classify_error(status: u16, body: &str) -> SendError {
    let parsed: Option<GraphErrorBody> = serde_json::from_str(body).ok();
    let (code, message) = match parsed {
        Some(GraphErrorBody { error }) => {
            let msg =
                error.error_data.and_then(|d| d.details).or(error.message).unwrap_or_else(|| format!("HTTP {status}"));
            (error.code, msg)
        }
        None => (None, format!("HTTP {status}: {}", body.chars().take(200).collect::<String>())),
    };
    let transient = status == 429 || status >= 500 || code.is_some_and(|c| TRANSIENT_CODES.contains(&c));
    SendError { code: code.map_or_else(|| format!("http_{status}"), |c| c.to_string()), message, transient }
}

/// The request body for an outbound message.
pub fn message_body(to: &str, content: &OutboundContent) -> Value {
    match content {
        OutboundContent::Text { body } => json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "text",
            "text": { "preview_url": false, "body": body },
        }),
        // A file is uploaded first and sent by its media id: see `media_body`.
        OutboundContent::Media { .. } => Value::Null,
        OutboundContent::MediaLink { kind, link, caption, filename } => {
            let mut object = json!({ "link": link });
            media_extras(&mut object, kind, caption.as_deref(), filename.as_deref());
            json!({ "messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": kind, kind: object })
        }
        OutboundContent::Template { name, language, components, .. } => {
            template_body(to, name, language, components.clone())
        }
        OutboundContent::Survey { question, button, options } => survey_body(to, question, button, options),
        OutboundContent::Reaction { message_id, emoji } => json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "reaction",
            "reaction": { "message_id": message_id, "emoji": emoji },
        }),
    }
}

/// A survey as an interactive list (reply buttons stop at three; a rating has five). Meta's
/// limits: body 1,024 characters, button label 20, row title 24.
fn survey_body(to: &str, question: &str, button: &str, options: &[actors::channel::SurveyOption]) -> Value {
    let cut = |s: &str, n: usize| s.chars().take(n).collect::<String>();
    let rows: Vec<Value> = options.iter().map(|o| json!({ "id": o.id, "title": cut(&o.label, 24) })).collect();
    json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": { "text": cut(question, 1024) },
            "action": { "button": cut(button, 20), "sections": [{ "title": "Rating", "rows": rows }] },
        },
    })
}

/// The request body for a template message; `components` are the send's parameters.
pub fn template_body(to: &str, name: &str, language: &str, components: Value) -> Value {
    let mut template = json!({ "name": name, "language": { "code": language } });
    if components.as_array().is_some_and(|c| !c.is_empty()) {
        template["components"] = components;
    }
    json!({ "messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "template", "template": template })
}

/// Puts an uploaded header file in as the header component's parameter (first, as Meta lists
/// components), replacing any header the send had.
pub fn with_header_media(components: Value, kind: &str, media_id: &str) -> Value {
    let mut list: Vec<Value> = match components {
        Value::Array(a) => a.into_iter().filter(|c| c.get("type").and_then(Value::as_str) != Some("header")).collect(),
        _ => Vec::new(),
    };
    list.insert(0, json!({ "type": "header", "parameters": [{ "type": kind, kind: { "id": media_id } }] }));
    Value::Array(list)
}

/// WhatsApp takes captions on images, videos and documents, and names on documents.
fn media_extras(object: &mut Value, kind: &str, caption: Option<&str>, filename: Option<&str>) {
    if let Some(c) = caption.filter(|_| kind != "audio") {
        object["caption"] = json!(c);
    }
    if let Some(f) = filename.filter(|_| kind == "document") {
        object["filename"] = json!(f);
    }
}

/// Sends through the inbox's connected WhatsApp account.
pub struct WhatsAppSender {
    pub db: DatabaseConnection,
    pub secrets: SecretBox,
    pub graph: GraphClient,
    /// Where files to send are kept.
    pub media: std::sync::Arc<dyn crate::media::MediaStore>,
    /// Each number's throughput slots.
    pub pacer: super::pacer::Pacer,
}

/// The message body for a file uploaded as `media_id`.
pub fn media_body(to: &str, kind: &str, media_id: &str, caption: Option<&str>, filename: Option<&str>) -> Value {
    let mut object = json!({ "id": media_id });
    media_extras(&mut object, kind, caption, filename);
    json!({ "messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": kind, kind: object })
}

impl ChannelSender for WhatsAppSender {
    fn send(&self, req: OutboundRequest) -> BoxFuture<'static, Result<SendReceipt, SendError>> {
        let (db, secrets, graph, media, pacer) =
            (self.db.clone(), self.secrets.clone(), self.graph.clone(), self.media.clone(), self.pacer.clone());
        Box::pin(async move {
            let account = accounts::by_inbox(&db, &req.org_id, &req.inbox_id)
                .await
                .map_err(|e| SendError { code: "database".into(), message: e.to_string(), transient: true })?
                .ok_or_else(|| SendError {
                    code: "no_account".into(),
                    message: "the inbox has no connected WhatsApp account".into(),
                    transient: false,
                })?;
            let token = secrets.decrypt(&account.access_token_enc).map_err(|e| SendError {
                code: "secret".into(),
                message: e.to_string(),
                transient: false,
            })?;
            let body = match &req.content {
                OutboundContent::Media { kind, path, mime, caption, filename } => {
                    let bytes = media.get(path).await.map_err(|e| SendError {
                        code: "media_missing".into(),
                        message: format!("the file to send is not in the media store: {e}"),
                        transient: false,
                    })?;
                    let name = filename
                        .clone()
                        .unwrap_or_else(|| format!("file.{}", mime.rsplit('/').next().unwrap_or("bin")));
                    let media_id = graph.upload_media(&account.phone_number_id, &token, bytes, mime, &name).await?;
                    media_body(&req.to, kind, &media_id, caption.as_deref(), filename.as_deref())
                }
                OutboundContent::Template { name, language, components, header_file } => {
                    let mut components = components.clone();
                    if let Some(f) = header_file {
                        let bytes = media.get(&f.path).await.map_err(|e| SendError {
                            code: "media_missing".into(),
                            message: format!("the template's header file is not in the media store: {e}"),
                            transient: false,
                        })?;
                        let file_name = format!("header.{}", f.mime.rsplit('/').next().unwrap_or("bin"));
                        let media_id =
                            graph.upload_media(&account.phone_number_id, &token, bytes, &f.mime, &file_name).await?;
                        components = with_header_media(components, &f.kind, &media_id);
                    }
                    template_body(&req.to, name, language, components)
                }
                other => message_body(&req.to, other),
            };
            let mut body = body;
            if let Some(id) = &req.message_id {
                body["biz_opaque_callback_data"] = json!(id);
            }
            if let Some(quoted) = &req.reply_to {
                body["context"] = json!({ "message_id": quoted });
            }
            if !pacer.knows(&account.phone_number_id) {
                // Sends of the last second before this node started still count at Meta.
                let recent = actors::store::messages::sent_since(
                    &db,
                    &account.inbox_id,
                    chrono::Utc::now() - chrono::Duration::seconds(1),
                )
                .await
                .unwrap_or_default();
                let now = chrono::Utc::now();
                pacer.seed(&account.phone_number_id, recent.into_iter().filter_map(|t| (now - t).to_std().ok()));
            }
            let mut per_second = accounts::Pacing::of(&account).per_second;
            // A number Meta rates RED is one step from a lower tier: campaigns go at half speed
            // (conversation replies keep the rest).
            if req.bulk && account.quality_rating.as_deref() == Some("RED") {
                per_second = (per_second / 2).max(1);
            }
            let slot = pacer.acquire(&account.phone_number_id, per_second, req.bulk).await;
            let sent = graph.send_message(&account.phone_number_id, &token, &body).await;
            drop(slot);
            if let Err(e) = &sent
                && e.code == "130429"
            {
                pacer.throttled(&account.phone_number_id);
            }
            Ok(SendReceipt { provider_message_id: sent? })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_errors_are_classified() {
        let window = classify_error(
            400,
            r#"{"error":{"message":"Re-engagement message","code":131047,"error_data":{"details":"Message failed to send because more than 24 hours have passed"}}}"#,
        );
        assert_eq!(window.code, "131047");
        assert!(!window.transient);
        assert!(window.message.contains("24 hours"));
        assert!(classify_error(400, r#"{"error":{"message":"rate","code":130429}}"#).transient);
        assert!(classify_error(503, "upstream down").transient);
        assert_eq!(classify_error(502, "<html>").code, "http_502");
    }

    #[test]
    fn text_body_is_the_cloud_api_shape() {
        let b = message_body("15550001111", &OutboundContent::Text { body: "hello".into() });
        assert_eq!(b["messaging_product"], "whatsapp");
        assert_eq!(b["to"], "15550001111");
        assert_eq!(b["type"], "text");
        assert_eq!(b["text"]["body"], "hello");
    }
}
