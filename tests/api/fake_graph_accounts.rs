//! The fake Graph API's part for connecting and watching accounts: Embedded Signup's code
//! exchange (a code the test registered works once; any other is refused as Meta refuses it,
//! OAuthException 100), `debug_token` with the business account the code granted, a business
//! account's numbers, subscribing the app, registering a number (a second registration is
//! "already registered"), and the health fields of a number and its business account, settable
//! with [`FakeGraph::set_health`] and failing like an unreachable Meta with
//! [`FakeGraph::set_health_down`].

use std::collections::{HashMap, HashSet};

use actix_web::{HttpRequest, HttpResponse};
use serde_json::{Value, json};

use crate::helpers::{FakeGraph, GraphRequest};

/// What the fake knows about Meta's side of the accounts.
#[derive(Default)]
pub struct AccountsGraph {
    /// Embedded Signup codes not yet exchanged: code → (token, business account id).
    codes: HashMap<String, (String, String)>,
    /// Tokens the exchange gave out: token → business account id (what `debug_token` shows).
    tokens: HashMap<String, String>,
    /// Numbers of each business account: (phone number id, display number).
    numbers: HashMap<String, Vec<(String, String)>>,
    /// Numbers registered for the Cloud API.
    registered: HashSet<String>,
    /// Health fields per phone number id, over the defaults.
    health: HashMap<String, Value>,
    /// While set, health reads answer as an unreachable Meta does (503, code 2).
    health_down: bool,
    /// The query strings of the code exchanges received.
    exchanges: Vec<String>,
}

impl FakeGraph {
    /// Meta's Embedded Signup dialog gave `code` for business account `waba_id` with these
    /// numbers (phone number id, display number): exchanging it gives a token for them, once.
    pub fn embedded_signup(&self, code: &str, waba_id: &str, numbers: &[(&str, &str)]) -> String {
        let token = format!("EAAG-signup-{code}");
        let mut s = self.state.lock().unwrap();
        s.accounts.codes.insert(code.to_owned(), (token.clone(), waba_id.to_owned()));
        s.accounts
            .numbers
            .insert(waba_id.to_owned(), numbers.iter().map(|(id, d)| ((*id).to_owned(), (*d).to_owned())).collect());
        token
    }

    /// Adds a number Meta knows (its display number answers the account check of a connect).
    pub fn add_number(&self, waba_id: &str, phone_number_id: &str, display: &str) {
        let mut s = self.state.lock().unwrap();
        s.accounts
            .numbers
            .entry(waba_id.to_owned())
            .or_default()
            .push((phone_number_id.to_owned(), display.to_owned()));
    }

    /// Sets a number's quality rating, messaging-limit tier and `throughput.level` (a string
    /// such as "STANDARD" or a number).
    pub fn set_health(&self, phone_number_id: &str, quality: &str, tier: &str, throughput: Value) {
        let mut s = self.state.lock().unwrap();
        let h = s.accounts.health.entry(phone_number_id.to_owned()).or_insert_with(|| json!({}));
        h["quality_rating"] = json!(quality);
        h["messaging_limit_tier"] = json!(tier);
        h["throughput"] = json!({ "level": throughput });
    }

    /// While `down`, health reads fail as when Meta cannot be reached.
    pub fn set_health_down(&self, down: bool) {
        self.state.lock().unwrap().accounts.health_down = down;
    }

    /// Whether a number was registered for the Cloud API.
    pub fn registered(&self, phone_number_id: &str) -> bool {
        self.state.lock().unwrap().accounts.registered.contains(phone_number_id)
    }

    /// The query strings of the code exchanges the fake received.
    pub fn code_exchanges(&self) -> Vec<String> {
        self.state.lock().unwrap().accounts.exchanges.clone()
    }
}

fn query(req: &HttpRequest) -> HashMap<String, String> {
    let url = reqwest::Url::parse(&format!("http://fake/?{}", req.query_string())).unwrap();
    url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

fn error(status: u16, code: i64, message: &str) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
        .json(json!({"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "FAKE"}}))
}

/// Meta's answer to an accounts request, or `None` for the main fake to answer.
pub fn answer(req: &HttpRequest, record: &GraphRequest, s: &mut AccountsGraph) -> Option<HttpResponse> {
    // "/v21.0/123/phone_numbers" → ["123", "phone_numbers"]
    let parts: Vec<&str> = record.path.trim_start_matches('/').split('/').skip(1).collect();
    let q = query(req);
    let get = record.method == "GET";
    match parts.as_slice() {
        ["oauth", "access_token"] if get => {
            s.exchanges.push(req.query_string().to_owned());
            let code = q.get("code").cloned().unwrap_or_default();
            if q.get("client_secret").is_none_or(String::is_empty) {
                return Some(error(400, 101, "Missing client_secret parameter."));
            }
            match s.codes.remove(&code) {
                Some((token, waba)) => {
                    s.tokens.insert(token.clone(), waba);
                    Some(HttpResponse::Ok().json(json!({"access_token": token, "token_type": "bearer"})))
                }
                None => Some(error(
                    400,
                    100,
                    "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request",
                )),
            }
        }
        ["debug_token"] if get => {
            let token = q.get("input_token").cloned().unwrap_or_default();
            let Some(waba) = s.tokens.get(&token) else {
                return Some(error(400, 190, "Invalid OAuth access token - Cannot parse access token"));
            };
            Some(HttpResponse::Ok().json(json!({"data": {
                "app_id": "1234567890",
                "type": "SYSTEM_USER",
                "is_valid": true,
                "scopes": ["whatsapp_business_management", "whatsapp_business_messaging"],
                "granular_scopes": [
                    {"scope": "whatsapp_business_management", "target_ids": [waba]},
                    {"scope": "whatsapp_business_messaging", "target_ids": [waba]}
                ]
            }})))
        }
        [waba, "phone_numbers"] if get => {
            let list: Vec<Value> = s
                .numbers
                .get(*waba)
                .map(|l| {
                    l.iter()
                        .map(|(id, d)| json!({"id": id, "display_phone_number": d, "verified_name": "Test Co", "quality_rating": "GREEN"}))
                        .collect()
                })
                .unwrap_or_default();
            Some(HttpResponse::Ok().json(json!({"data": list, "paging": {"cursors": {"before": "A", "after": "B"}}})))
        }
        [_, "subscribed_apps"] if record.method == "POST" => Some(HttpResponse::Ok().json(json!({"success": true}))),
        [id, "register"] if record.method == "POST" => {
            let pin = record.body["pin"].as_str().unwrap_or_default();
            if record.body["messaging_product"] != "whatsapp"
                || pin.len() != 6
                || !pin.chars().all(|c| c.is_ascii_digit())
            {
                return Some(error(400, 100, "(#100) Invalid parameter"));
            }
            if !s.registered.insert((*id).to_owned()) {
                return Some(error(400, 133010, "Phone number already registered"));
            }
            Some(HttpResponse::Ok().json(json!({"success": true})))
        }
        [id] if get => {
            let fields = q.get("fields").cloned().unwrap_or_default();
            let health_read = fields.contains("quality_rating") || fields.contains("account_review_status");
            if health_read && s.health_down {
                return Some(error(503, 2, "Service temporarily unavailable"));
            }
            if fields.contains("account_review_status") {
                return Some(HttpResponse::Ok().json(json!({
                    "id": id,
                    "name": "Test WABA",
                    "account_review_status": "APPROVED",
                    "business_verification_status": "verified",
                    "health_status": {"can_send_message": "AVAILABLE", "entities": []}
                })));
            }
            let display = s.numbers.values().flatten().find(|(n, _)| n == id).map(|(_, d)| d.clone());
            if fields.contains("quality_rating") {
                let mut h = json!({
                    "id": id,
                    "display_phone_number": display.as_deref().unwrap_or("+1 555-0100"),
                    "verified_name": "Test Co",
                    "quality_rating": "GREEN",
                    "messaging_limit_tier": "TIER_1K",
                    "throughput": {"level": "STANDARD"},
                    "name_status": "APPROVED",
                    "status": "CONNECTED",
                    "code_verification_status": "VERIFIED"
                });
                if let Some(Value::Object(over)) = s.health.get(*id) {
                    for (k, v) in over {
                        h[k] = v.clone();
                    }
                }
                return Some(HttpResponse::Ok().json(h));
            }
            display.map(|d| {
                HttpResponse::Ok().json(json!({"id": id, "display_phone_number": d, "verified_name": "Test Co"}))
            })
        }
        _ => None,
    }
}
