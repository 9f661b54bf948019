//! The live-chat widget in a real browser: a plain site page (served by a tiny local server on
//! its own origin, `localhost` against the product's `127.0.0.1`, so the widget runs cross-site
//! as on a customer's site) with the one script tag; the agent in the agent UI of a second
//! Chromium. Acceptance A1 and the browser half of A2 of issue 16, and the loader's laziness.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};
use webdriver::Browser;

use crate::helpers::{Org, TestApp, serve_fake, spawn_app, unique};

const WAIT: Duration = Duration::from_secs(20);
const PASSWORD: &str = "a-long-password";

/// What the site page embeds: the product's address and the inbox's website token.
struct Site {
    product: String,
    website_token: String,
}

/// The site's pages: `?at=head|body` places the script tag; `identifier` and `hash` set
/// `window.cxWidget` before it, as a site that signs its users in would.
async fn site_page(req: HttpRequest, site: web::Data<Mutex<Site>>) -> HttpResponse {
    let q = web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .map(|q| q.into_inner())
        .unwrap_or_default();
    let (product, token) = {
        let s = site.lock().unwrap();
        (s.product.clone(), s.website_token.clone())
    };
    let tag = format!(r#"<script src="{product}/widget.js" data-token="{token}" async></script>"#);
    let identity = match (q.get("identifier"), q.get("hash")) {
        (Some(id), Some(hash)) => {
            let v = json!({"identifier": id, "identifierHash": hash, "name": "Iris Identified", "email": "iris@example.com"});
            format!("<script>window.cxWidget = {v};</script>")
        }
        _ => String::new(),
    };
    let in_head = q.get("at").is_none_or(|a| a == "head");
    let (head, body) = if in_head { (tag, String::new()) } else { (String::new(), tag) };
    let html = format!(
        "<!doctype html><html><head><meta charset=utf-8><title>Test shop</title>{identity}{head}</head>\
         <body><h1>Test shop</h1><p>Products.</p>{body}</body></html>"
    );
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(html)
}

/// Serves the site page; answers its base URL on `localhost` (another site than the product).
fn serve_site(app: &TestApp, website_token: &str) -> String {
    let site = Arc::new(Mutex::new(Site { product: app.address.clone(), website_token: website_token.to_owned() }));
    serve_fake(site, site_page).replace("127.0.0.1", "localhost")
}

struct Admin {
    org: Org,
    email: String,
}

/// An organization whose admin signs in with a known password, the bot off (conversations are
/// for humans), and a live-chat inbox; answers the admin and the created inbox.
async fn organization_with_widget(app: &TestApp, settings: Value) -> (Admin, Value) {
    let email = format!("admin{}@example.com", unique());
    let org = app.register_as("Shop", "Ada Admin", &email, PASSWORD).await;
    let (s, b) = app.put("/api/v1/config/bot-enabled", &org.token, json!({"enabled": false})).await;
    assert_eq!(s, 200, "{b}");
    let mut body = json!({"channel": "livechat", "name": "Website"});
    body.as_object_mut().unwrap().extend(settings.as_object().unwrap().clone());
    let (s, inbox) = app.post("/api/v1/inboxes", &org.token, body).await;
    assert_eq!(s, 201, "{inbox}");
    assert!(inbox["data"]["websiteToken"].is_string(), "{inbox}");
    (Admin { org, email }, inbox["data"].clone())
}

/// The inbox's conversations, newest first, as the agent API lists them.
async fn conversations(app: &TestApp, admin: &Admin, inbox_id: &str) -> Vec<String> {
    let (s, list) = app.get(&format!("/api/v1/conversations?inboxId={inbox_id}&limit=100"), &admin.org.token).await;
    assert_eq!(s, 200, "{list}");
    list["data"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
}

async fn sign_in(b: &Browser, base: &str, email: &str) {
    b.goto(&format!("{base}/")).await;
    b.type_into("input[name=email]", email).await;
    b.type_into("input[name=password]", PASSWORD).await;
    b.click("[data-testid=signin-submit]").await;
    b.wait_for("[data-testid=conversation-list]", WAIT).await;
}

/// Opens the chat window on the site page and steps into the widget's iframe, ready to chat.
async fn open_chat(b: &Browser) {
    b.leave_frames().await;
    b.click("[data-cx=bubble]").await;
    b.until(
        "the chat window shown",
        WAIT,
        "const f = document.querySelector('[data-cx=frame]'); return !!f && f.style.display === 'block'",
        json!([]),
    )
    .await;
    b.enter_frame("[data-cx=frame]").await;
    b.wait_for("[data-testid=widget][data-phase]:not([data-phase=loading])", WAIT).await;
}

/// Texts of the widget's messages with their direction, in order (inside the iframe).
async fn widget_texts(b: &Browser) -> Vec<(String, String)> {
    let v = b
        .js(
            "return [...document.querySelectorAll('[data-testid=widget-message]')].map(e => [e.dataset.direction, (e.querySelector('[data-testid=widget-message-text]') || {}).textContent || ''])",
            json!([]),
        )
        .await;
    serde_json::from_value(v).unwrap()
}

async fn widget_shows(b: &Browser, what: &str, direction: &str, text: &str) {
    b.until(
        what,
        WAIT,
        "return [...document.querySelectorAll(`[data-testid=widget-message][data-direction=${arguments[0]}] [data-testid=widget-message-text]`)].some(e => e.textContent === arguments[1])",
        json!([direction, text]),
    )
    .await;
}

async fn visitor_writes(b: &Browser, text: &str) {
    b.type_into("[data-testid=widget-input]", &format!("{text}\u{E007}")).await;
    b.until(
        "the visitor's message stored",
        WAIT,
        "return [...document.querySelectorAll('[data-testid=widget-message][data-direction=inbound]')].some(e => e.textContent.includes(arguments[0]) && !e.dataset.id.startsWith('pending:') && e.dataset.status !== 'failed')",
        json!([text]),
    )
    .await;
}

fn identity_hash(secret: &str, identifier: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(identifier.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[actix_web::test]
async fn a_visitor_writes_an_agent_sees_it_live_and_replies_and_a_reload_continues() {
    let Some(visitor) = Browser::start("widget_ui::a_visitor_writes").await else { return };
    let app = spawn_app().await;
    let (admin, inbox) = organization_with_widget(&app, json!({})).await;
    let inbox_id = inbox["id"].as_str().unwrap();
    let site = serve_site(&app, inbox["websiteToken"].as_str().unwrap());

    // The agent is signed in, in a browser of their own, before the visitor writes.
    let agent = visitor.second().await;
    sign_in(&agent, &app.address, &admin.email).await;
    agent.click("[data-testid=tab-all]").await;

    visitor.goto(&format!("{site}/?at=body")).await;
    open_chat(&visitor).await;
    visitor_writes(&visitor, "Hello from the website").await;

    // The agent's list shows the conversation live; its thread shows the message.
    let conversation = {
        let mut found = Vec::new();
        for _ in 0..100 {
            found = conversations(&app, &admin, inbox_id).await;
            if !found.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(found.len(), 1, "one conversation in the widget's inbox");
        found.remove(0)
    };
    let row = format!("[data-testid=conversation-row][data-id='{conversation}']");
    agent.wait_for(&row, WAIT).await;
    agent.click(&row).await;
    agent.wait_for(&format!("[data-testid=thread][data-conversation-id='{conversation}']"), WAIT).await;
    agent
        .until(
            "the visitor's message in the agent's thread",
            WAIT,
            "return [...document.querySelectorAll('[data-testid=thread] [data-testid=message-text]')].some(e => e.textContent.includes('Hello from the website'))",
            json!([]),
        )
        .await;

    // Typing both ways: the agent's shows in the widget with their name.
    agent.type_into("[data-testid=composer-input]", "Hi").await;
    visitor
        .until(
            "the agent typing in the widget",
            WAIT,
            "const e = document.querySelector('[data-testid=widget-typing]'); return e && e.textContent.includes('Ada Admin')",
            json!([]),
        )
        .await;
    agent
        .js("const i = document.querySelector('[data-testid=composer-input]'); i.select(); return true", json!([]))
        .await;

    // The visitor closes the window; the agent replies: the bubble counts it and the widget rings.
    visitor.leave_frames().await;
    visitor.click("[data-cx=bubble]").await;
    visitor
        .until(
            "the window closed",
            WAIT,
            "return document.querySelector('[data-cx=frame]').style.display === 'none'",
            json!([]),
        )
        .await;
    agent.type_into("[data-testid=composer-input]", "Hi! How can I help?\u{E007}").await;
    agent
        .until(
            "the agent's reply stored",
            WAIT,
            "return [...document.querySelectorAll('[data-testid=thread] [data-testid=message]')].some(e => e.textContent.includes('Hi! How can I help?') && e.dataset.status && e.dataset.status !== 'pending' && e.dataset.status !== 'failed')",
            json!([]),
        )
        .await;
    visitor
        .until(
            "the unread badge on the bubble",
            WAIT,
            "const b = document.querySelector('[data-cx=badge]'); return b.style.display === 'block' && b.textContent === '1'",
            json!([]),
        )
        .await;
    visitor.enter_frame("[data-cx=frame]").await;
    let rang = visitor.js("return document.documentElement.dataset.rang || '0'", json!([])).await;
    assert_eq!(rang, "1", "one sound for one reply while closed");

    // Opened, the window shows the reply with the agent's name, without a reload.
    open_chat(&visitor).await;
    widget_shows(&visitor, "the agent's reply in the widget", "outbound", "Hi! How can I help?").await;
    let name = visitor
        .until(
            "the agent's name in the widget header",
            WAIT,
            "const e = document.querySelector('[data-testid=widget-agent-name]'); return e && e.textContent",
            json!([]),
        )
        .await;
    assert_eq!(name, "Ada Admin");
    visitor.leave_frames().await;
    assert_eq!(visitor.js("return document.querySelector('[data-cx=badge]').style.display", json!([])).await, "none");
    visitor.enter_frame("[data-cx=frame]").await;
    // The window is open, so the reply is read; the agent's API shows it.
    let mut status = Value::Null;
    for _ in 0..100 {
        let reply =
            app.messages(&admin.org, &conversation).await.into_iter().find(|m| m["text"] == "Hi! How can I help?");
        status = reply.map(|m| m["status"].clone()).unwrap_or(Value::Null);
        if status == "read" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "read", "the visitor's read ack reached the agent's message");

    // A reload continues the same conversation: the history is back and a new message joins it.
    visitor.leave_frames().await;
    visitor.reload().await;
    open_chat(&visitor).await;
    widget_shows(&visitor, "the history after the reload", "outbound", "Hi! How can I help?").await;
    assert_eq!(
        widget_texts(&visitor).await,
        vec![
            ("inbound".to_owned(), "Hello from the website".to_owned()),
            ("outbound".to_owned(), "Hi! How can I help?".to_owned())
        ]
    );
    visitor_writes(&visitor, "Still me after a reload").await;
    agent
        .until(
            "the message after the reload in the same thread",
            WAIT,
            "return [...document.querySelectorAll('[data-testid=thread] [data-testid=message-text]')].some(e => e.textContent.includes('Still me after a reload'))",
            json!([]),
        )
        .await;
    assert_eq!(conversations(&app, &admin, inbox_id).await, vec![conversation], "still one conversation");
}

#[actix_web::test]
async fn identity_verified_visitor_resumes_from_a_second_browser() {
    let Some(first) = Browser::start("widget_ui::identity_verified_visitor").await else { return };
    let app = spawn_app().await;
    let (admin, inbox) = organization_with_widget(&app, json!({"hmacMandatory": true})).await;
    let inbox_id = inbox["id"].as_str().unwrap().to_owned();
    let secret = inbox["hmacSecret"].as_str().unwrap_or_else(|| panic!("the admin sees the identity secret: {inbox}"));
    let site = serve_site(&app, inbox["websiteToken"].as_str().unwrap());
    let identifier = format!("user-{}", unique());
    let good = identity_hash(secret, &identifier);
    let contacts_before = app.count("contacts").await;

    // A wrong hash is refused: no chat, no contact.
    first.goto(&format!("{site}/?identifier={identifier}&hash={}", identity_hash("not-the-secret", &identifier))).await;
    open_chat(&first).await;
    first.wait_for("[data-testid=widget-identity-refused]", WAIT).await;
    assert_eq!(first.js("return !!document.querySelector('[data-testid=widget-input]')", json!([])).await, false);
    // Without any identity the inbox asks for one.
    first.leave_frames().await;
    first.goto(&format!("{site}/")).await;
    open_chat(&first).await;
    first.wait_for("[data-testid=widget-identity-required]", WAIT).await;
    assert_eq!(app.count("contacts").await, contacts_before, "no contact for a refused visitor");

    // The right hash chats.
    first.leave_frames().await;
    first.goto(&format!("{site}/?identifier={identifier}&hash={good}")).await;
    open_chat(&first).await;
    visitor_writes(&first, "I am the identified visitor").await;
    drop(first);

    // Another browser (nothing stored) with the same identity resumes that conversation.
    let second = Browser::start("widget_ui::identity_verified_visitor (second browser)").await.expect("a browser");
    second.goto(&format!("{site}/?identifier={identifier}&hash={good}")).await;
    open_chat(&second).await;
    widget_shows(&second, "the first browser's message in the second", "inbound", "I am the identified visitor").await;
    visitor_writes(&second, "Back from another browser").await;
    // A file goes up from the send box and its link opens with the visitor's token.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("order-note.txt");
    std::fs::write(&path, "order 77: blue, size M").unwrap();
    second.type_into("[data-testid=widget-file]", path.to_str().unwrap()).await;
    let href = second
        .until(
            "the uploaded file stored, with its link",
            WAIT,
            "const a = [...document.querySelectorAll('[data-testid=widget-message][data-direction=inbound]')].filter(e => !e.dataset.id.startsWith('pending:')).map(e => e.querySelector('[data-testid=widget-message-file]')).find(a => a && a.getAttribute('href')); return a && a.href",
            json!([]),
        )
        .await;
    let href = href.as_str().unwrap().to_owned();
    assert!(href.contains("visitorToken="), "{href}");
    let res = app.client.get(&href).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200, "{href}");
    assert_eq!(res.text().await.unwrap(), "order 77: blue, size M");
    let list = conversations(&app, &admin, &inbox_id).await;
    assert_eq!(list.len(), 1, "one conversation for the identity: {list:?}");
    let texts: Vec<Value> = app.messages(&admin.org, &list[0]).await.into_iter().map(|m| m["text"].clone()).collect();
    assert!(
        texts.contains(&json!("I am the identified visitor")) && texts.contains(&json!("Back from another browser")),
        "{texts:?}"
    );
}

#[actix_web::test]
async fn the_loader_in_head_loads_nothing_until_interaction() {
    let Some(b) = Browser::start("widget_ui::the_loader_in_head").await else { return };
    let app = spawn_app().await;
    let (_admin, inbox) = organization_with_widget(&app, json!({})).await;
    let site = serve_site(&app, inbox["websiteToken"].as_str().unwrap());
    let contacts_before = app.count("contacts").await;

    // In <head> (no <body> yet when it runs): the bubble is drawn and nothing else is fetched.
    b.goto(&format!("{site}/?at=head")).await;
    b.wait_for("[data-cx=bubble]", WAIT).await;
    let early = b
        .js(
            "return {t: performance.now(), frames: document.querySelectorAll('iframe').length, \
             fetched: performance.getEntriesByType('resource').filter(e => new URL(e.name).origin === arguments[0]).map(e => new URL(e.name).pathname)}",
            json!([app.address]),
        )
        .await;
    assert!(early["t"].as_f64().unwrap() < 4500.0, "checked before the 5 s fallback: {early}");
    assert_eq!(early["frames"], 0, "{early}");
    assert_eq!(early["fetched"], json!(["/widget.js"]), "only the loader itself from the product: {early}");

    // A message that is not from the widget's iframe at its origin changes nothing.
    b.js("window.postMessage({cx: 'unread', count: 5}, '*')", json!([])).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        b.js("return getComputedStyle(document.querySelector('[data-cx=badge]')).display", json!([])).await,
        "none"
    );

    // The first interaction loads the iframe app from the script's origin.
    open_chat(&b).await;
    b.wait_for("[data-testid=widget][data-phase=ready]", WAIT).await;
    b.leave_frames().await;
    let src = b.js("return document.querySelector('[data-cx=frame]').src", json!([])).await;
    let src = src.as_str().unwrap();
    assert!(src.starts_with(&format!("{}/widget?websiteToken=", app.address)), "{src}");
    // Opening the window creates no visitor yet: that waits for the first message.
    assert_eq!(app.count("contacts").await, contacts_before);

    // Without any interaction, the iframe comes after 5 s (in <body> this time).
    b.goto(&format!("{site}/?at=body")).await;
    b.wait_for("[data-cx=bubble]", WAIT).await;
    assert_eq!(b.js("return document.querySelectorAll('iframe').length", json!([])).await, 0);
    b.until(
        "the iframe after 5 s",
        WAIT,
        "return document.querySelectorAll('[data-cx=frame]').length === 1 && performance.now() >= 5000",
        json!([]),
    )
    .await;
}

#[actix_web::test]
async fn outside_working_hours_a_visitor_leaves_an_email_and_a_message_in_the_offline_form() {
    let Some(b) = Browser::start("widget_ui::outside_working_hours").await else { return };
    let app = spawn_app().await;
    // Open only on a day that is never today: closed now.
    let today = chrono::Utc::now().format("%a").to_string().to_uppercase();
    let day = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"].into_iter().find(|d| *d != today).unwrap();
    let hours =
        json!({"timezone": "UTC", "isEnabled": true, "slots": [{"day": day, "start": "09:00", "end": "10:00"}]});
    let (admin, inbox) = organization_with_widget(&app, json!({"workingHours": hours})).await;
    let inbox_id = inbox["id"].as_str().unwrap().to_owned();
    let site = serve_site(&app, inbox["websiteToken"].as_str().unwrap());

    b.goto(&format!("{site}/?at=body")).await;
    open_chat(&b).await;
    b.wait_for("[data-testid=widget-offline-form]", WAIT).await;
    assert_eq!(b.js("return !!document.querySelector('[data-testid=widget-input]')", json!([])).await, false);
    b.type_into("[data-testid=widget-offline-email]", "visitor@example.com").await;
    b.type_into("[data-testid=widget-offline-text]", "Please call me back tomorrow").await;
    b.click("[data-testid=widget-offline-send]").await;
    b.wait_for("[data-testid=widget-offline-done]", WAIT).await;
    widget_shows(&b, "the offline message in the thread", "inbound", "Please call me back tomorrow").await;

    let list = conversations(&app, &admin, &inbox_id).await;
    assert_eq!(list.len(), 1, "{list:?}");
    let (_, c) = app.get(&format!("/api/v1/conversations/{}", list[0]), &admin.org.token).await;
    assert_eq!(c["data"]["contact"]["email"], "visitor@example.com", "{c}");
    let texts: Vec<Value> = app.messages(&admin.org, &list[0]).await.into_iter().map(|m| m["text"].clone()).collect();
    assert!(texts.contains(&json!("Please call me back tomorrow")), "{texts:?}");
}
