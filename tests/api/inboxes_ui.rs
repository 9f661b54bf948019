//! Settings → Inboxes in a real browser (Debian's headless Chromium through chromedriver) against
//! the real server: an admin creates a website chat inbox, copies its embed snippet and turns its
//! satisfaction survey on with a tag rule; the API shows what the screen did.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Org, TestApp, spawn_app, unique};
use webdriver::Browser;

const WAIT: Duration = Duration::from_secs(15);
const PASSWORD: &str = "a-long-password";

/// A new organization's admin (email, API session) with a connected WhatsApp number.
async fn admin(app: &TestApp) -> (String, Org) {
    let email = format!("admin{}@example.com", unique());
    let org = app.register_as("Inboxes", "Ada Admin", &email, PASSWORD).await;
    app.connect_account(&org).await;
    (email, org)
}

async fn sign_in(b: &Browser, base: &str, email: &str) {
    b.goto(&format!("{base}/")).await;
    b.type_into("input[name=email]", email).await;
    b.type_into("input[name=password]", PASSWORD).await;
    b.click("[data-testid=signin-submit]").await;
    b.wait_for("[data-testid=conversation-list]", WAIT).await;
}

/// Chooses `value` in a select as a user would (the change event Preact listens to).
async fn choose(b: &Browser, css: &str, value: &str) {
    b.wait_for(css, WAIT).await;
    b.js(
        "const s = document.querySelector(arguments[0]); s.value = arguments[1]; s.dispatchEvent(new Event('change', {bubbles: true}));",
        json!([css, value]),
    )
    .await;
}

async fn inboxes(app: &TestApp, org: &Org) -> Vec<Value> {
    let (s, b) = app.get("/api/v1/inboxes?page=1&limit=100", &org.token).await;
    assert_eq!(s, 200, "{b}");
    b["data"].as_array().unwrap().clone()
}

#[actix_web::test]
async fn an_admin_creates_a_website_chat_inbox_gets_its_snippet_and_turns_its_survey_on_with_a_rule() {
    let Some(b) = Browser::start("inboxes_ui::an_admin_creates_a_website_chat_inbox").await else { return };
    let app = spawn_app().await;
    let (email, org) = admin(&app).await;
    sign_in(&b, &app.address, &email).await;

    // Settings → Inboxes lists the connected number's inbox.
    b.click("[data-testid=nav-settings]").await;
    b.click("[data-testid=settings-nav-inboxes]").await;
    b.wait_for("[data-testid=settings-inboxes] [data-testid=inbox-row]", WAIT).await;
    let listed = b.js("return document.querySelector('[data-testid=inboxes-list]').textContent", json!([])).await;
    assert!(listed.as_str().unwrap().contains("WhatsApp"), "{listed}");

    // A bad website URL is shown on its field; nothing is created.
    let form = "[data-testid=inbox-create-form]";
    b.type_into(&format!("{form} input[name=name]"), "Shop site").await;
    b.type_into(&format!("{form} input[name='widgetSettings.websiteUrl']"), "not a url").await;
    b.click("[data-testid=inbox-create-submit]").await;
    b.wait_for(&format!("{form} input[name='widgetSettings.websiteUrl'][aria-invalid=true]"), WAIT).await;
    assert_eq!(inboxes(&app, &org).await.len(), 1);

    b.js(&format!("document.querySelector(\"{form} input[name='widgetSettings.websiteUrl']\").value = ''"), json!([]))
        .await;
    b.type_into(&format!("{form} input[name='widgetSettings.websiteUrl']"), "https://shop.example.com").await;
    b.type_into(&format!("{form} input[name='widgetSettings.welcomeTitle']"), "Hello!").await;
    b.click("[data-testid=inbox-create-submit]").await;

    // The new inbox opens with its embed snippet and identity secret, as the API has them.
    b.wait_for("[data-testid=inbox-snippet]", WAIT).await;
    let all = inboxes(&app, &org).await;
    let site = all.iter().find(|i| i["name"] == "Shop site").unwrap_or_else(|| panic!("{all:?}"));
    assert_eq!(site["channel"], "livechat");
    assert_eq!(site["widgetSettings"]["websiteUrl"], "https://shop.example.com");
    let id = site["id"].as_str().unwrap().to_owned();
    let token = site["websiteToken"].as_str().unwrap();
    let want = format!("<script src=\"{}/widget.js\" data-token=\"{token}\" async></script>", app.address);
    let shown = b.js("return document.querySelector('[data-testid=inbox-snippet]').textContent", json!([])).await;
    assert_eq!(shown.as_str().unwrap(), want);
    let (s, one) = app.get(&format!("/api/v1/inboxes/{id}"), &org.token).await;
    assert_eq!(s, 200, "{one}");
    let secret = b.js("return document.querySelector('[data-testid=inbox-hmac-secret]').textContent", json!([])).await;
    assert_eq!(secret, one["data"]["hmacSecret"]);
    assert!(one["data"]["hmacSecret"].as_str().is_some_and(|s| !s.is_empty()), "{one}");

    // The survey on with a rule but no tag: the error is on the tags field.
    let csat = "[data-testid=inbox-csat-form]";
    b.click(&format!("{csat} input[name=csatSurveyEnabled]")).await;
    choose(&b, "[data-testid=inbox-csat-rule]", "contains").await;
    b.click("[data-testid=inbox-csat-save]").await;
    b.wait_for(&format!("{csat} input[name='csatConfig.surveyRule.values'][aria-invalid=true]"), WAIT).await;

    // With tags it is saved, and the API shows it.
    b.type_into(&format!("{csat} input[name='csatConfig.surveyRule.values']"), "vip, billing").await;
    choose(&b, &format!("{csat} select[name='csatConfig.displayType']"), "star").await;
    b.click("[data-testid=inbox-csat-save]").await;
    b.until(
        "the survey saved",
        WAIT,
        "const f = document.querySelector(arguments[0]); return f && [...f.querySelectorAll('.notice')].some(n => n.textContent.includes('Saved'))",
        json!([csat]),
    )
    .await;
    let (_, one) = app.get(&format!("/api/v1/inboxes/{id}"), &org.token).await;
    assert_eq!(one["data"]["csatSurveyEnabled"], true, "{one}");
    assert_eq!(one["data"]["csatConfig"]["displayType"], "star", "{one}");
    assert_eq!(
        one["data"]["csatConfig"]["surveyRule"],
        json!({"operator": "contains", "values": ["vip", "billing"]}),
        "{one}"
    );

    // The satisfaction of the inbox shows (none yet).
    b.until(
        "the satisfaction summary",
        WAIT,
        "const s = document.querySelector('[data-testid=inbox-satisfaction]'); return s && s.textContent.includes('No ratings yet')",
        json!([]),
    )
    .await;
}

#[actix_web::test]
async fn an_admin_creates_an_api_inbox_and_sees_its_token_once_and_its_signing_secret() {
    let Some(b) = Browser::start("inboxes_ui::an_admin_creates_an_api_inbox").await else { return };
    let app = spawn_app().await;
    let (email, org) = admin(&app).await;
    sign_in(&b, &app.address, &email).await;
    b.goto(&format!("{}/settings/inboxes", app.address)).await;

    let form = "[data-testid=inbox-create-form]";
    choose(&b, "[data-testid=inbox-channel]", "api").await;
    b.type_into(&format!("{form} input[name=name]"), "Shop backend").await;
    b.type_into(&format!("{form} input[name=webhookUrl]"), "https://hooks.example.com/cx").await;
    b.click("[data-testid=inbox-create-submit]").await;

    // The token is shown right after creation; the API keeps only its first characters.
    b.wait_for("[data-testid=inbox-api-token]", WAIT).await;
    let token = b.js("return document.querySelector('[data-testid=inbox-api-token]').textContent", json!([])).await;
    let token = token.as_str().unwrap().to_owned();
    let all = inboxes(&app, &org).await;
    let inbox = all.iter().find(|i| i["name"] == "Shop backend").unwrap_or_else(|| panic!("{all:?}"));
    assert_eq!(inbox["channel"], "api");
    let prefix = inbox["apiTokenPrefix"].as_str().unwrap();
    assert!(!token.is_empty() && token.starts_with(prefix), "{token} / {prefix}");
    let id = inbox["id"].as_str().unwrap().to_owned();
    let (_, one) = app.get(&format!("/api/v1/inboxes/{id}"), &org.token).await;
    assert_eq!(one["data"]["webhookUrl"], "https://hooks.example.com/cx", "{one}");
    let secret =
        b.js("return document.querySelector('[data-testid=inbox-webhook-secret]').textContent", json!([])).await;
    assert_eq!(secret, one["data"]["webhookSecret"]);

    // Closed and opened again: the token is gone for good.
    let row = format!("[data-testid=inbox-row][data-id='{id}'] [data-testid=inbox-manage]");
    b.click(&row).await;
    b.click(&row).await;
    b.wait_for("[data-testid=inbox-webhook-secret]", WAIT).await;
    let shown = b.js("return !!document.querySelector('[data-testid=inbox-api-token]')", json!([])).await;
    assert_eq!(shown, json!(false));
}
