//! Meta's side of templates, through the Graph API: create (submit for review), edit, delete,
//! list a business account's templates page by page, and the resumable upload that turns a
//! header example file into the handle Meta's review needs.

use actors::channel::SendError;
use serde::Deserialize;
use serde_json::{Value, json};

use super::rules::Component;
use crate::channels::whatsapp::graph::{GraphClient, call};
use crate::domain::Error;

/// Meta's answer to a submission.
#[derive(Debug, Deserialize)]
pub struct Created {
    pub id: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
}

/// One template as Meta lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct MetaTemplate {
    pub id: String,
    pub name: String,
    pub language: String,
    pub status: String,
    pub category: String,
    #[serde(default)]
    pub components: Vec<Component>,
    #[serde(default)]
    pub parameter_format: Option<String>,
    #[serde(default)]
    pub rejected_reason: Option<String>,
    #[serde(default)]
    pub quality_score: Option<QualityScore>,
    #[serde(default)]
    pub previous_category: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct QualityScore {
    #[serde(default)]
    pub score: Option<String>,
}

#[derive(Deserialize)]
struct ListPage {
    #[serde(default)]
    data: Vec<Value>,
    #[serde(default)]
    paging: Option<Paging>,
}

#[derive(Deserialize)]
struct Paging {
    #[serde(default)]
    cursors: Option<Cursors>,
    #[serde(default)]
    next: Option<String>,
}

#[derive(Deserialize)]
struct Cursors {
    #[serde(default)]
    after: Option<String>,
}

/// What a submission sends.
pub struct Submission<'a> {
    pub name: &'a str,
    pub language: &'a str,
    pub category: &'a str,
    pub parameter_format: &'a str,
    pub components: &'a [Component],
}

/// The fields a listing asks for.
const FIELDS: &str =
    "id,name,language,status,category,components,parameter_format,rejected_reason,quality_score,previous_category";

/// Most pages a sync reads (at 100 templates a page; an account holds at most 6,000).
const MAX_PAGES: usize = 100;

impl GraphClient {
    /// Submits a template for review.
    pub async fn create_template(&self, waba_id: &str, token: &str, t: &Submission<'_>) -> Result<Created, SendError> {
        let body = json!({
            "name": t.name,
            "language": t.language,
            "category": t.category,
            "parameter_format": t.parameter_format,
            "components": t.components,
        });
        let url = self.url(&format!("{waba_id}/message_templates"));
        let text = call(self.http.post(url).bearer_auth(token).json(&body)).await?;
        serde_json::from_str(&text).map_err(|e| bad_response(&format!("a template submission answer without id: {e}")))
    }

    /// Changes an approved, rejected or paused template's components (and category); Meta
    /// reviews it again.
    pub async fn edit_template(
        &self,
        meta_id: &str,
        token: &str,
        category: &str,
        components: &[Component],
    ) -> Result<(), SendError> {
        let body = json!({ "category": category, "components": components });
        call(self.http.post(self.url(meta_id)).bearer_auth(token).json(&body)).await.map(|_| ())
    }

    /// Deletes a template at Meta (this language only, by its id).
    pub async fn delete_template(
        &self,
        waba_id: &str,
        token: &str,
        name: &str,
        meta_id: &str,
    ) -> Result<(), SendError> {
        let url = self.url(&format!("{waba_id}/message_templates"));
        let url = with_query(&url, &[("name", name), ("hsm_id", meta_id)])?;
        call(self.http.delete(url).bearer_auth(token)).await.map(|_| ())
    }

    /// Every template of a business account, following Meta's paging. A template Meta
    /// describes in a shape this cannot read is skipped (and logged), not fatal.
    pub async fn list_templates(&self, waba_id: &str, token: &str) -> Result<Vec<MetaTemplate>, SendError> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut query = vec![("fields", FIELDS), ("limit", "100")];
            if let Some(a) = &after {
                query.push(("after", a.as_str()));
            }
            let url = with_query(&self.url(&format!("{waba_id}/message_templates")), &query)?;
            let text = call(self.http.get(url).bearer_auth(token)).await?;
            let page: ListPage =
                serde_json::from_str(&text).map_err(|e| bad_response(&format!("a template list without data: {e}")))?;
            for v in page.data {
                match serde_json::from_value::<MetaTemplate>(v.clone()) {
                    Ok(t) => out.push(t),
                    Err(e) => {
                        tracing::warn!(error = %e, template = %v, "a template Meta listed could not be read; skipped")
                    }
                }
            }
            let paging = page.paging.unwrap_or(Paging { cursors: None, next: None });
            match (paging.next, paging.cursors.and_then(|c| c.after)) {
                (Some(_), Some(cursor)) => after = Some(cursor),
                _ => return Ok(out),
            }
        }
        Ok(out)
    }

    /// Meta's resumable upload: opens an upload session on the app, sends the bytes, and answers
    /// the file handle a template's media header example names.
    pub async fn upload_handle(
        &self,
        app_id: &str,
        token: &str,
        bytes: Vec<u8>,
        mime: &str,
        file_name: &str,
    ) -> Result<String, SendError> {
        let len = bytes.len().to_string();
        let url = with_query(
            &self.url(&format!("{app_id}/uploads")),
            &[("file_name", file_name), ("file_length", len.as_str()), ("file_type", mime)],
        )?;
        let text = call(self.http.post(url).bearer_auth(token)).await?;
        let id = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_owned))
            .ok_or_else(|| bad_response("an upload session without id"))?;
        let upload = self
            .http
            .post(self.url(&id))
            .header("Authorization", format!("OAuth {token}"))
            .header("file_offset", "0")
            .body(bytes);
        let text = call(upload).await?;
        serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v.get("h").and_then(Value::as_str).map(str::to_owned))
            .ok_or_else(|| bad_response("an upload answer without a handle"))
    }
}

/// `url` with its query parameters encoded.
pub(crate) fn with_query(url: &str, pairs: &[(&str, &str)]) -> Result<reqwest::Url, SendError> {
    reqwest::Url::parse_with_params(url, pairs).map_err(|e| SendError {
        code: "bad_url".into(),
        message: format!("the Graph API address is not a URL: {e}"),
        transient: false,
    })
}

fn bad_response(what: &str) -> SendError {
    SendError { code: "bad_response".into(), message: format!("the Graph API sent {what}"), transient: false }
}

/// Meta's refusal in the domain's terms: busy or unreachable is worth trying again; anything
/// else is Meta's reason, as Meta gave it.
pub fn refused(e: SendError) -> Error {
    if e.transient {
        Error::Unavailable(format!("Meta could not be reached or is busy ({}): {}", e.code, e.message))
    } else {
        Error::Unprocessable(format!("Meta refused: {} (code {})", e.message, e.code))
    }
}
