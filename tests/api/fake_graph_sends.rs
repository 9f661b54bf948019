//! The fake Graph API's sending side beyond a plain accept, playing Meta's part for campaigns:
//! a number's throughput limit (a send over it is refused with 130429, as Meta does), permanent
//! errors for chosen recipients, the time of every accepted send, a send that is accepted and
//! then held (to kill the server while its answer is on the way), and `sent` status webhooks
//! carrying `biz_opaque_callback_data`, delivered to the server and retried until it answers,
//! as Meta retries.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::HttpResponse;
use serde_json::{Value, json};

use super::helpers::{APP_SECRET, GraphRequest};

#[derive(Default)]
pub struct SendFake {
    /// Sends a second a number may make (Meta's throughput level); `None`: no limit.
    pub throughput: Option<usize>,
    /// Accepted sends: when, to whom, with what callback data.
    pub accepted: Vec<(Instant, String, Option<String>)>,
    /// Sends refused for going over the throughput.
    pub throttled: u64,
    /// Recipients whose sends fail for good: code and message.
    pub fail_to: HashMap<String, (u64, String)>,
    /// Hold the answer of the accepted send with this number (1-based) for a long time.
    pub hold_send: Option<usize>,
    /// Where to deliver status webhooks (the server's `/webhooks/whatsapp`), if anywhere.
    pub webhook_url: Option<String>,
    /// Status webhooks waiting to be delivered.
    pub outgoing: Arc<Mutex<VecDeque<Value>>>,
}

/// Refuses a send Meta would refuse; `None` lets it through.
pub fn refuse(r: &GraphRequest, f: &mut SendFake) -> Option<HttpResponse> {
    let to = r.body["to"].as_str().unwrap_or_default();
    if let Some((code, message)) = f.fail_to.get(to) {
        return Some(HttpResponse::BadRequest().json(json!({"error": {"message": message, "type": "OAuthException", "code": code, "error_data": {"details": message}}})));
    }
    if let Some(limit) = f.throughput {
        let now = Instant::now();
        let recent =
            f.accepted.iter().rev().take_while(|(t, _, _)| now.duration_since(*t) < Duration::from_secs(1)).count();
        if recent >= limit {
            f.throttled += 1;
            return Some(HttpResponse::BadRequest().json(json!({"error": {"message": "(#130429) Rate limit hit", "type": "OAuthException", "code": 130429, "error_data": {"details": "Cloud API message throughput has been reached."}}})));
        }
    }
    None
}

/// Records an accepted send and queues its `sent` status webhook; answers whether to hold the
/// answer.
pub fn accepted(r: &GraphRequest, wamid: &str, f: &mut SendFake) -> bool {
    let to = r.body["to"].as_str().unwrap_or_default().to_owned();
    let data = r.body["biz_opaque_callback_data"].as_str().map(str::to_owned);
    f.accepted.push((Instant::now(), to.clone(), data.clone()));
    if f.webhook_url.is_some() {
        let phone_number_id = r.path.trim_start_matches('/').split('/').nth(1).unwrap_or_default().to_owned();
        let mut status = json!({"id": wamid, "status": "sent", "timestamp": chrono::Utc::now().timestamp().to_string(), "recipient_id": to});
        if let Some(d) = data {
            status["biz_opaque_callback_data"] = json!(d);
        }
        let hook = json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550100", "phone_number_id": phone_number_id},
            "statuses": [status]
        }}]}]});
        f.outgoing.lock().unwrap().push_back(hook);
    }
    f.hold_send == Some(f.accepted.len())
}

/// Delivers queued status webhooks to `url`, signed like Meta's, each until it is taken.
pub fn deliver(url: String, outgoing: Arc<Mutex<VecDeque<Value>>>) {
    actix_web::rt::spawn(async move {
        let client = reqwest::Client::new();
        loop {
            let next = outgoing.lock().unwrap().front().cloned();
            let Some(hook) = next else {
                actix_web::rt::time::sleep(Duration::from_millis(20)).await;
                continue;
            };
            let body = serde_json::to_vec(&hook).unwrap();
            let sig = cx_inbox::channels::whatsapp::signature::sign(APP_SECRET.as_bytes(), &body);
            let ok = client
                .post(&url)
                .header("content-type", "application/json")
                .header("x-hub-signature-256", sig)
                .body(body)
                .timeout(Duration::from_secs(5))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ok {
                outgoing.lock().unwrap().pop_front();
            } else {
                actix_web::rt::time::sleep(Duration::from_millis(200)).await;
            }
        }
    });
}

/// The most sends accepted within any one second.
pub fn busiest_second(f: &SendFake) -> usize {
    let times: Vec<Instant> = f.accepted.iter().map(|(t, _, _)| *t).collect();
    (0..times.len())
        .map(|i| times[i..].iter().take_while(|t| t.duration_since(times[i]) < Duration::from_secs(1)).count())
        .max()
        .unwrap_or(0)
}
