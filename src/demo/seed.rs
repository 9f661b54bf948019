//! Seeds the demo organization through the public API, as an admin would: the admin account, a
//! WhatsApp number on the simulated Graph API, two teams with an agent each, routing rules, tags,
//! the bot on the demo model with a small FAQ in its knowledge base.

use std::time::Duration;

use serde_json::{Value, json};

pub struct Seeded {
    /// (email, password)
    pub admin: (String, String),
    pub agents: Vec<(String, String)>,
    pub phone_number_id: String,
}

const FAQ: &str = "# Demo Shop FAQ\n\n\
Our shop is open Monday to Saturday from 9:00 to 18:00; on Sundays we answer messages only.\n\n\
Shipping within Germany takes two working days and costs 4.90 EUR; orders over 50 EUR ship for free.\n\n\
Shipping to the rest of the EU takes four to six working days and costs 9.90 EUR.\n\n\
You can return any item within 30 days for a full refund; the return label is in the parcel.\n\n\
The oak table is in stock in 140 cm and 180 cm; the walnut version ships in three weeks.\n\n\
Our lamps use standard E27 bulbs; every lamp comes with a two-year warranty.\n\n\
You can pay by card, PayPal or invoice; invoices are due within 14 days.\n";

struct Client {
    base: String,
    http: reqwest::Client,
    token: Option<String>,
}

impl Client {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value, String> {
        let mut req = self.http.request(method.clone(), format!("{}/api/v1{path}", self.base));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.map_err(|e| format!("{method} {path}: {e}"))?;
        let status = res.status();
        let text = res.text().await.map_err(|e| format!("{method} {path}: {e}"))?;
        if !status.is_success() {
            return Err(format!("{method} {path}: {status} {text}"));
        }
        Ok(serde_json::from_str::<Value>(&text).map(|v| v["data"].clone()).unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value, String> {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn put(&self, path: &str, body: Value) -> Result<Value, String> {
        self.call(reqwest::Method::PUT, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Result<Value, String> {
        self.call(reqwest::Method::GET, path, None).await
    }
}

fn id_of(v: &Value) -> Result<String, String> {
    v["id"].as_str().map(str::to_owned).ok_or_else(|| format!("no id in {v}"))
}

pub async fn seed(base: &str, model_url: &str) -> Result<Seeded, String> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().map_err(|e| e.to_string())?;
    let mut api = Client { base: base.to_owned(), http, token: None };

    let admin = ("admin@demo.test".to_owned(), crate::crypto::random_password());
    let session = api
        .post(
            "/auth/register",
            json!({"companyName": "Demo Shop", "name": "Ada Admin", "email": admin.0, "password": admin.1}),
        )
        .await?;
    api.token = session["accessToken"].as_str().map(str::to_owned);

    let phone_number_id = "100000000001".to_owned();
    api.post(
        "/whatsapp-accounts/connect-manual",
        json!({"wabaId": "demo-waba", "phoneNumberId": phone_number_id, "accessToken": "demo-access-token"}),
    )
    .await?;

    let sales = id_of(&api.post("/teams", json!({"name": "Sales"})).await?)?;
    let support = id_of(&api.post("/teams", json!({"name": "Support"})).await?)?;

    let mut agents = Vec::new();
    for (email, name, team) in [("sam@demo.test", "Sam Sales", &sales), ("sue@demo.test", "Sue Support", &support)] {
        api.post("/users", json!({"email": email, "name": name, "role": "AGENT", "teamIds": [team]})).await?;
        let mails = api.get(&format!("/dev/mailbox?to={email}")).await?;
        let token = mails
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["body"].as_str())
            .find_map(|b| b.split("token=").nth(1))
            .map(|t| t.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect::<String>())
            .ok_or_else(|| format!("no invitation mail for {email}"))?;
        let pass = crate::crypto::random_password();
        let anon = Client { base: api.base.clone(), http: api.http.clone(), token: None };
        anon.post(&format!("/invitations/accept/{token}"), json!({"name": name, "password": pass})).await?;
        agents.push((email.to_owned(), pass));
    }

    api.post(
        "/routing-rules",
        json!({"name": "Buying", "teamId": sales, "conditions": [
            {"field": "message", "operator": "keywords", "value": ["price", "buy", "discount", "bulk", "stock"]}
        ]}),
    )
    .await?;
    api.post(
        "/routing-rules",
        json!({"name": "Problems", "teamId": support, "conditions": [
            {"field": "message", "operator": "keywords", "value": ["refund", "broken", "late", "damaged", "return"]}
        ]}),
    )
    .await?;
    api.put("/routing-rules/default-team", json!({"teamId": support})).await?;

    for (name, color) in [("VIP", "purple"), ("Complaint", "red"), ("Lead", "green")] {
        api.post("/tags", json!({"name": name, "color": color})).await?;
    }

    api.put(
        "/bot-config",
        json!({
            "name": "Demo bot",
            "provider": "LOCAL",
            "model": "demo-model",
            "baseUrl": model_url,
            "apiKey": "demo-local-model",
            "systemPrompt": "You are the friendly assistant of Demo Shop, a furniture and lighting store. Answer from the knowledge given; hand refunds and complaints to the team.",
            "handoffMessage": "I'm handing you to a colleague who will take it from here."
        }),
    )
    .await?;
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(FAQ.as_bytes().to_vec())
            .file_name("demo-shop-faq.md")
            .mime_str("text/markdown")
            .map_err(|e| e.to_string())?,
    );
    let res = api
        .http
        .post(format!("{}/api/v1/bot-config/documents", api.base))
        .bearer_auth(api.token.clone().unwrap_or_default())
        .multipart(form)
        .send()
        .await
        .map_err(|e| format!("uploading the FAQ: {e}"))?;
    if !res.status().is_success() {
        return Err(format!("uploading the FAQ: {}", res.status()));
    }
    api.post("/auth/complete-onboarding", json!({})).await.ok();

    Ok(Seeded { admin, agents, phone_number_id })
}
