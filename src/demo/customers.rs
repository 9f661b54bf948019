//! Simulated customers: each has a short script; every tick one of them sends its next line as a
//! signed WhatsApp webhook, exactly as Meta would deliver it. Customers who finished start over
//! later with a new conversation (after an agent resolved the old one) or keep waiting.

use std::time::Duration;

use serde_json::json;

use crate::channels::whatsapp::signature;

const PEOPLE: [(&str, &[&str]); 8] = [
    ("Maria Lopez", &["Hi! When are you open on Saturday?", "And do you ship to Spain?"]),
    ("Jonas Becker", &["My lamp arrived broken, I would like a refund please", "Order 1042, it came yesterday"]),
    ("Aisha Khan", &["Is the oak table in stock in 180 cm?", "What is the price with delivery to Hamburg?"]),
    ("Tom Novak", &["How long does shipping within Germany take?", "Great, thanks!"]),
    (
        "Lea Fischer",
        &["Can I pay by invoice?", "Perfect. Can I speak to a person about a bulk discount for our office?"],
    ),
    ("Ken Watanabe", &["What bulbs do your lamps use?", "Is there a warranty?"]),
    ("Sofia Rossi", &["I want to return a chair, how does that work?", "It was damaged on one leg"]),
    ("Omar Haddad", &["Hello, do you have a walnut table?", "When would it ship?"]),
];

pub struct Customers {
    base: String,
    app_secret: String,
    phone_number_id: String,
    count: usize,
    http: reqwest::Client,
}

impl Customers {
    pub fn new(http: reqwest::Client, base: &str, app_secret: &str, phone_number_id: &str, count: usize) -> Customers {
        Customers {
            base: base.to_owned(),
            app_secret: app_secret.to_owned(),
            phone_number_id: phone_number_id.to_owned(),
            count: count.clamp(1, PEOPLE.len()),
            http,
        }
    }

    /// Sends one line every `every`, round the customers, until the task is dropped.
    pub async fn run(self, every: Duration) {
        let mut step = 0usize;
        let mut sent = 0u64;
        loop {
            // Customers take turns; each says its lines in order, then starts over.
            let who = step % self.count;
            let round = step / self.count;
            let (name, lines) = PEOPLE[who];
            let line = lines[round % lines.len()];
            let wa_id = format!("49155500{:04}", who + 1);
            sent += 1;
            self.say(&wa_id, name, line, sent).await;
            step += 1;
            actix_web::rt::time::sleep(every).await;
        }
    }

    async fn say(&self, wa_id: &str, name: &str, text: &str, n: u64) {
        let wamid = format!("wamid.DEMOIN{n:08}.{}", &actors::new_id()[24..]);
        let payload = json!({
            "object": "whatsapp_business_account",
            "entry": [{"id": "demo-waba", "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550100", "phone_number_id": self.phone_number_id},
                "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
                "messages": [{"from": wa_id, "id": wamid, "timestamp": chrono::Utc::now().timestamp().to_string(), "type": "text", "text": {"body": text}}]
            }}]}]
        });
        let body = payload.to_string().into_bytes();
        let sig = signature::sign(self.app_secret.as_bytes(), &body);
        let res = self
            .http
            .post(format!("{}/webhooks/whatsapp", self.base))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", sig)
            .body(body)
            .send()
            .await;
        match res {
            Ok(r) if r.status().is_success() => tracing::info!(customer = name, "demo: customer wrote {text:?}"),
            Ok(r) => tracing::warn!(status = %r.status(), "demo: the webhook was refused"),
            Err(e) => tracing::warn!(%e, "demo: the webhook could not be sent"),
        }
    }
}
