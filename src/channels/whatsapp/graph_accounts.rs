//! The Graph API calls that connect and watch a business account: Embedded Signup's code
//! exchange and the token's business accounts, a business account's numbers, subscribing the app
//! to its webhooks, registering a number, and the health fields of a number and an account.
//! Every `Err` is the classified [`SendError`]: `transient` when Meta could not be reached.

use actors::channel::SendError;
use serde::Deserialize;
use serde_json::{Value, json};

use super::graph::{GraphClient, call};

/// The number's health fields (WHATSAPP-ACCOUNTS-8).
const NUMBER_FIELDS: &str = "quality_rating,messaging_limit_tier,throughput,name_status,verified_name,\
display_phone_number,status,code_verification_status";
/// The business account's review and standing.
const ACCOUNT_FIELDS: &str = "account_review_status,business_verification_status,name,health_status";

/// A phone number of a business account, as `GET /{waba-id}/phone_numbers` lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct AccountNumber {
    pub id: String,
    #[serde(default)]
    pub display_phone_number: Option<String>,
    #[serde(default)]
    pub verified_name: Option<String>,
}

fn bad_url(e: impl std::fmt::Display) -> SendError {
    SendError {
        code: "bad_request".into(),
        message: format!("could not build the Graph API URL: {e}"),
        transient: false,
    }
}

fn bad_response(what: &str) -> SendError {
    SendError {
        code: "bad_response".into(),
        message: format!("the Graph API answered without {what}"),
        transient: false,
    }
}

/// A network error names the URL it failed on; these calls carry secrets (the app secret, a
/// code, a token) in theirs, which must never reach a log line or an answer.
fn redact(mut e: SendError, secrets: &[&str]) -> SendError {
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        e.message = e.message.replace(s, "[redacted]");
    }
    e
}

impl GraphClient {
    fn url_with(&self, path: &str, params: &[(&str, &str)]) -> Result<reqwest::Url, SendError> {
        reqwest::Url::parse_with_params(&self.url(path), params).map_err(bad_url)
    }

    /// Embedded Signup: trades the code Meta's dialog gave the browser for the business's access
    /// token (`GET /oauth/access_token`, with the app's id and secret).
    pub async fn exchange_code(&self, app_id: &str, app_secret: &str, code: &str) -> Result<String, SendError> {
        let params = [("client_id", app_id), ("client_secret", app_secret), ("code", code)];
        let url = self.url_with("oauth/access_token", &params)?;
        let text = call(self.http.get(url)).await.map_err(|e| redact(e, &[app_secret, code]))?;
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        v.get("access_token").and_then(Value::as_str).map(str::to_owned).ok_or_else(|| bad_response("an access token"))
    }

    /// The WhatsApp Business Accounts a token was granted (`GET /debug_token`, asked with the
    /// app's own token): the targets of its `whatsapp_business_management` scope, else of
    /// `whatsapp_business_messaging`.
    pub async fn granted_business_accounts(&self, token: &str, app_token: &str) -> Result<Vec<String>, SendError> {
        let url = self.url_with("debug_token", &[("input_token", token)])?;
        let text = call(self.http.get(url).bearer_auth(app_token)).await.map_err(|e| redact(e, &[token, app_token]))?;
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let scopes = v.pointer("/data/granular_scopes").and_then(Value::as_array).cloned().unwrap_or_default();
        let targets = |scope: &str| -> Vec<String> {
            scopes
                .iter()
                .filter(|s| s.get("scope").and_then(Value::as_str) == Some(scope))
                .flat_map(|s| s.get("target_ids").and_then(Value::as_array).cloned().unwrap_or_default())
                .filter_map(|id| match id {
                    Value::String(s) => Some(s),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect()
        };
        let mut ids = targets("whatsapp_business_management");
        if ids.is_empty() {
            ids = targets("whatsapp_business_messaging");
        }
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    /// The phone numbers of a business account.
    pub async fn account_numbers(&self, waba_id: &str, token: &str) -> Result<Vec<AccountNumber>, SendError> {
        let url = self.url_with(&format!("{waba_id}/phone_numbers"), &[("limit", "100")])?;
        let text = call(self.http.get(url).bearer_auth(token)).await?;
        #[derive(Deserialize)]
        struct Numbers {
            #[serde(default)]
            data: Vec<AccountNumber>,
        }
        let numbers: Numbers = serde_json::from_str(&text).map_err(|_| bad_response("a list of phone numbers"))?;
        Ok(numbers.data)
    }

    /// Subscribes this app to a business account's webhooks (`POST /{waba-id}/subscribed_apps`).
    pub async fn subscribe_app(&self, waba_id: &str, token: &str) -> Result<(), SendError> {
        call(self.http.post(self.url(&format!("{waba_id}/subscribed_apps"))).bearer_auth(token)).await?;
        Ok(())
    }

    /// Registers a number for the Cloud API with a two-step verification `pin`.
    pub async fn register_number(&self, phone_number_id: &str, token: &str, pin: &str) -> Result<(), SendError> {
        let body = json!({ "messaging_product": "whatsapp", "pin": pin });
        call(self.http.post(self.url(&format!("{phone_number_id}/register"))).bearer_auth(token).json(&body)).await?;
        Ok(())
    }

    /// A number's health fields, as Meta sends them.
    pub async fn number_health(&self, phone_number_id: &str, token: &str) -> Result<Value, SendError> {
        let url = self.url_with(phone_number_id, &[("fields", NUMBER_FIELDS)])?;
        let text = call(self.http.get(url).bearer_auth(token)).await?;
        serde_json::from_str(&text).map_err(|_| bad_response("the number's fields"))
    }

    /// A business account's review status and standing, as Meta sends them.
    pub async fn account_health(&self, waba_id: &str, token: &str) -> Result<Value, SendError> {
        let url = self.url_with(waba_id, &[("fields", ACCOUNT_FIELDS)])?;
        let text = call(self.http.get(url).bearer_auth(token)).await?;
        serde_json::from_str(&text).map_err(|_| bad_response("the account's fields"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_a_failed_url_are_redacted() {
        let e = SendError {
            code: "network".into(),
            message: "error sending request for url (https://g/oauth?client_secret=s3cr3t&code=abc)".into(),
            transient: true,
        };
        let e = redact(e, &["s3cr3t", "abc", ""]);
        assert!(!e.message.contains("s3cr3t") && !e.message.contains("abc"), "{}", e.message);
    }
}
