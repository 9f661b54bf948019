//! The agent web UI in a real browser: Debian's headless Chromium (through chromedriver) against
//! the real server on port 0, with the fake Graph API. Each test is an acceptance item of the UI.

use std::time::Duration;

use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::helpers::{
    Account, Org, TestApp, message_webhook, spawn_app, spawn_app_with, status_webhook, text_webhook, unique,
};
use crate::{campaigns, templates};
use webdriver::Browser;

const WAIT: Duration = Duration::from_secs(15);
const PASSWORD: &str = "a-long-password";

struct Admin {
    org: Org,
    email: String,
}

/// An organization with its admin (known email and password), a connected number, the bot off
/// (conversations open for humans) and a default team nobody is in, so conversations wait in the
/// queue instead of going to the admin the moment their browser makes them ONLINE.
async fn organization(app: &TestApp, company: &str) -> (Admin, Account) {
    let (admin, account) = organization_without_queue(app, company).await;
    let (s, team) = app.post("/api/v1/teams", &admin.org.token, json!({"name": "Queue"})).await;
    assert_eq!(s, 201, "{team}");
    let (s, b) =
        app.put("/api/v1/routing-rules/default-team", &admin.org.token, json!({"teamId": team["data"]["id"]})).await;
    assert_eq!(s, 200, "{b}");
    (admin, account)
}

/// The same without the queue team: conversations go to whoever is ONLINE.
async fn organization_without_queue(app: &TestApp, company: &str) -> (Admin, Account) {
    let email = format!("admin{}@example.com", unique());
    let org = app.register_as(company, "Ada Admin", &email, PASSWORD).await;
    let (s, b) = app.put("/api/v1/config/bot-enabled", &org.token, json!({"enabled": false})).await;
    assert_eq!(s, 200, "{b}");
    let account = app.connect_account(&org).await;
    (Admin { org, email }, account)
}

/// An AGENT of the admin's organization who accepted their invitation; answers (email, token).
async fn agent(app: &TestApp, admin: &Admin) -> (String, String) {
    let email = format!("agent{}@example.com", unique());
    let (s, b) = app.post("/api/v1/users", &admin.org.token, json!({"email": email, "name": "Alex Agent"})).await;
    assert_eq!(s, 201, "{b}");
    let (_, mails) = app.get(&format!("/api/v1/dev/mailbox?to={email}"), &admin.org.token).await;
    let body = mails["data"][0]["body"].as_str().unwrap().to_owned();
    let token: String = body
        .split("token=")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let (s, b) = app.post_anon(&format!("/api/v1/invitations/accept/{token}"), json!({"password": PASSWORD})).await;
    assert_eq!(s, 201, "{b}");
    (email, b["data"]["accessToken"].as_str().unwrap().to_owned())
}

/// Signs in through the sign-in screen and waits for the inbox.
async fn sign_in(b: &Browser, base: &str, email: &str, password: &str) {
    b.goto(&format!("{base}/")).await;
    b.type_into("input[name=email]", email).await;
    b.type_into("input[name=password]", password).await;
    b.click("[data-testid=signin-submit]").await;
    b.wait_for("[data-testid=conversation-list]", WAIT).await;
}

fn row(conversation_id: &str) -> String {
    format!("[data-testid=conversation-row][data-id='{conversation_id}']")
}

async fn count_of(b: &Browser, tab: &str, want: u64) {
    b.until(
        &format!("{tab} count {want}"),
        WAIT,
        "const t = document.querySelector(`[data-testid=${arguments[0]}]`); return t && t.dataset.count === String(arguments[1]);",
        json!([tab, want]),
    )
    .await;
}

/// Texts of the message nodes in the open thread, in document order.
async fn thread_texts(b: &Browser) -> Vec<String> {
    let v = b
        .js(
            "return [...document.querySelectorAll('[data-testid=thread] [data-testid=message] [data-testid=message-text]')].map(e => e.textContent)",
            json!([]),
        )
        .await;
    serde_json::from_value(v).unwrap()
}

async fn open(b: &Browser, conversation_id: &str) {
    b.click(&row(conversation_id)).await;
    b.wait_for(&format!("[data-testid=thread][data-conversation-id='{conversation_id}']"), WAIT).await;
}

#[actix_web::test]
async fn signing_in_shows_the_conversations_with_their_counts_per_tab_on_a_desktop_and_a_phone() {
    let Some(b) = Browser::start("ui::signing_in").await else { return };
    let app = spawn_app().await;
    let (admin, account) = organization(&app, "Counts").await;
    let c1 = app.customer_says(&admin.org, &account, "4915100000001", "Hello there").await;
    let c2 = app.customer_says(&admin.org, &account, "4915100000002", "Is anyone there?").await;
    let c3 = app.customer_says(&admin.org, &account, "4915100000003", "Question about my order").await;
    let (s, _) = app.post(&format!("/api/v1/conversations/{c1}/takeover"), &admin.org.token, json!({})).await;
    assert_eq!(s, 200);

    sign_in(&b, &app.address, &admin.email, PASSWORD).await;
    count_of(&b, "tab-all", 3).await;
    count_of(&b, "tab-mine", 1).await;
    count_of(&b, "tab-unassigned", 2).await;
    b.click("[data-testid=tab-all]").await;
    for c in [&c1, &c2, &c3] {
        b.wait_for(&row(c), WAIT).await;
    }
    b.click("[data-testid=tab-unassigned]").await;
    b.until(
        "the unassigned tab lists two rows",
        WAIT,
        "return document.querySelectorAll('[data-testid=conversation-row]').length === 2",
        json!([]),
    )
    .await;

    // One pane at a time on a phone: the list, then the thread with a way back.
    b.set_size(390, 844).await;
    b.click("[data-testid=tab-all]").await;
    open(&b, &c2).await;
    b.until(
        "the list hidden behind the thread on a phone",
        WAIT,
        "const l = document.querySelector('[data-testid=conversation-list]'); return !l || l.getBoundingClientRect().width === 0 || getComputedStyle(l).display === 'none' || l.closest('[hidden]') !== null || l.offsetParent === null",
        json!([]),
    )
    .await;
}

#[actix_web::test]
async fn a_webhook_shows_up_live_in_the_list_and_the_open_thread_with_its_unread_badge_and_the_title_count() {
    let Some(b) = Browser::start("ui::a_webhook_shows_up_live").await else { return };
    let app = spawn_app().await;
    let (admin, account) = organization(&app, "Live").await;
    let c1 = app.customer_says(&admin.org, &account, "4915200000001", "First question").await;

    sign_in(&b, &app.address, &admin.email, PASSWORD).await;
    b.click("[data-testid=tab-all]").await;
    open(&b, &c1).await;
    b.until("the first message", WAIT, "return document.body.innerText.includes('First question')", json!([])).await;

    // A message in the open conversation appears in its thread.
    let hook = text_webhook(
        &account.phone_number_id,
        "4915200000001",
        "Customer",
        &format!("wamid.{}", unique()),
        "Second question",
    );
    assert_eq!(app.post_webhook(&hook).await.0, 200);
    b.until("the live message in the thread", WAIT, "return [...document.querySelectorAll('[data-testid=message-text]')].some(e => e.textContent.includes('Second question'))", json!([])).await;

    // A new customer's conversation appears in the list with its unread badge; the title counts it.
    b.until(
        "nothing unread while the only conversation is open",
        WAIT,
        "return document.title === 'cx-inbox'",
        json!([]),
    )
    .await;
    let hook = text_webhook(
        &account.phone_number_id,
        "4915200000002",
        "Newcomer",
        &format!("wamid.{}", unique()),
        "Are you open today?",
    );
    assert_eq!(app.post_webhook(&hook).await.0, 200);
    let c2 = app.conversation_of(&admin.org, "4915200000002").await;
    b.wait_for(&format!("{} [data-testid=unread-badge]", row(&c2)), WAIT).await;
    let badge = b
        .js(
            "return document.querySelector(arguments[0]).textContent.trim()",
            json!([format!("{} [data-testid=unread-badge]", row(&c2))]),
        )
        .await;
    assert_eq!(badge, "1");
    b.until("a title that counts the unread conversation", WAIT, "return document.title === '(1) cx-inbox'", json!([]))
        .await;

    // A deep link reloads into the same conversation.
    b.goto(&format!("{}/conversations/{c1}", app.address)).await;
    b.wait_for(&format!("[data-testid=thread][data-conversation-id='{c1}']"), WAIT).await;
    b.until("the thread after a reload", WAIT, "return document.body.innerText.includes('Second question')", json!([]))
        .await;
}

#[actix_web::test]
async fn a_reply_shows_pending_is_sent_once_and_its_ticks_follow_the_status_webhooks() {
    let Some(b) = Browser::start("ui::a_reply_shows_pending").await else { return };
    let app = spawn_app().await;
    let (admin, account) = organization(&app, "Ticks").await;
    let c = app.customer_says(&admin.org, &account, "4915300000001", "Can you help me?").await;
    sign_in(&b, &app.address, &admin.email, PASSWORD).await;
    b.click("[data-testid=tab-all]").await;
    open(&b, &c).await;
    b.click("[data-testid=action-takeover]").await;
    b.until("the takeover", WAIT, "return !document.querySelector('[data-testid=action-takeover]')", json!([])).await;

    // The fake Graph API answers slowly, so the pending state is on screen long enough to see.
    app.graph.slow_down(Duration::from_millis(1500));
    b.type_into("[data-testid=composer-input]", "Sure, what do you need?\u{E007}").await;
    let mine = "[...document.querySelectorAll('[data-testid=message][data-direction=outbound]')].filter(m => m.textContent.includes('Sure, what do you need?'))";
    b.until(
        "the reply shown as pending",
        WAIT,
        &format!("const m = {mine}; return m.length === 1 && m[0].dataset.status === 'pending'"),
        json!([]),
    )
    .await;
    b.until(
        "the reply turned sent",
        WAIT,
        &format!("const m = {mine}; return m.length === 1 && m[0].dataset.status === 'sent'"),
        json!([]),
    )
    .await;
    let sends: Vec<_> =
        app.graph.sends().into_iter().filter(|r| r.body["text"]["body"] == "Sure, what do you need?").collect();
    assert_eq!(sends.len(), 1, "the Graph API received the reply exactly once");

    let msgs = app.messages(&admin.org, &c).await;
    let out = msgs.iter().find(|m| m["text"] == "Sure, what do you need?").unwrap();
    let wamid = out["providerMessageId"].as_str().unwrap();
    for status in ["delivered", "read"] {
        assert_eq!(
            app.post_webhook(&status_webhook(&account.phone_number_id, wamid, "4915300000001", status, None)).await.0,
            200
        );
        b.until(
            &format!("the tick {status}"),
            WAIT,
            &format!("const m = {mine}; return m.length === 1 && m[0].dataset.status === '{status}'"),
            json!([]),
        )
        .await;
    }
    // Still exactly one send, one message on screen.
    assert_eq!(app.graph.sends().iter().filter(|r| r.body["text"]["body"] == "Sure, what do you need?").count(), 1);
}

/// Wraps the page's WebSocket so the test can cut it and hold reconnects back.
const SOCKET_SWITCH: &str = r#"(() => {
  const Native = window.WebSocket;
  window.__cxSockets = [];
  window.__cxBlock = false;
  window.WebSocket = class extends Native {
    constructor(url, protocols) {
      super(window.__cxBlock ? String(url).replace(/\/\/[^/]+/, '//127.0.0.1:9') : url, protocols);
      window.__cxSockets.push(this);
    }
  };
})();"#;

#[actix_web::test]
async fn after_a_dropped_socket_twenty_messages_that_arrived_meanwhile_are_on_screen_once_in_order() {
    let Some(b) = Browser::start("ui::after_a_dropped_socket").await else { return };
    b.before_each_page(SOCKET_SWITCH).await;
    let app = spawn_app().await;
    let (admin, account) = organization(&app, "Drops").await;
    let c = app.customer_says(&admin.org, &account, "4915400000001", "Start").await;
    sign_in(&b, &app.address, &admin.email, PASSWORD).await;
    b.click("[data-testid=tab-all]").await;
    open(&b, &c).await;
    b.until("the first message", WAIT, "return document.body.innerText.includes('Start')", json!([])).await;

    b.js("window.__cxBlock = true; window.__cxSockets.forEach(s => s.close());", json!([])).await;
    b.wait_for("[data-testid=live-banner]", WAIT).await;
    for i in 1..=20 {
        let hook = text_webhook(
            &account.phone_number_id,
            "4915400000001",
            "Customer",
            &format!("wamid.{}", unique()),
            &format!("burst {i:02}"),
        );
        assert_eq!(app.post_webhook(&hook).await.0, 200);
    }
    b.js("window.__cxBlock = false;", json!([])).await;
    b.until("all twenty messages", Duration::from_secs(30), "return [...document.querySelectorAll('[data-testid=message-text]')].filter(e => e.textContent.startsWith('burst ')).length >= 20", json!([])).await;
    b.until("the banner gone", WAIT, "return !document.querySelector('[data-testid=live-banner]')", json!([])).await;
    let burst: Vec<String> = thread_texts(&b).await.into_iter().filter(|t| t.starts_with("burst ")).collect();
    let want: Vec<String> = (1..=20).map(|i| format!("burst {i:02}")).collect();
    assert_eq!(burst, want, "each message once, in order");
}

#[actix_web::test]
async fn a_long_history_opens_at_the_latest_page_and_pages_back_with_a_bounded_dom() {
    let Some(b) = Browser::start("ui::a_long_history").await else { return };
    let app = spawn_app().await;
    let (admin, account) = organization(&app, "History").await;
    let wa = "4915500000001";
    for batch in 0..20 {
        let messages: Vec<Value> = (1..=100)
            .map(|i| {
                let n = batch * 100 + i;
                json!({"from": wa, "id": format!("wamid.hist.{}.{n}", unique()), "timestamp": chrono::Utc::now().timestamp().to_string(), "type": "text", "text": {"body": format!("history {n:04}")}})
            })
            .collect();
        let mut hook = message_webhook(&account.phone_number_id, wa, "Talkative", json!({}));
        hook["entry"][0]["changes"][0]["value"]["messages"] = Value::Array(messages);
        let (s, r) = app.post_webhook(&hook).await;
        assert_eq!(s, 200, "{r}");
    }
    let c = app.conversation_of(&admin.org, wa).await;
    assert_eq!(app.count("messages").await, 2000);

    sign_in(&b, &app.address, &admin.email, PASSWORD).await;
    b.click("[data-testid=tab-all]").await;
    open(&b, &c).await;
    b.until("the latest message", WAIT, "return document.body.innerText.includes('history 2000')", json!([])).await;
    let nodes = b.js("return document.querySelectorAll('[data-testid=message]').length", json!([])).await;
    assert!(nodes.as_u64().unwrap() <= 300, "{nodes} message nodes after opening");
    assert!(!thread_texts(&b).await.iter().any(|t| t == "history 0001"), "the whole history is not loaded at once");

    // Scrolling up loads older pages, and the DOM stays bounded.
    let mut max_nodes = 0;
    for _ in 0..60 {
        b.js("const s = document.querySelector('[data-testid=thread-scroll]'); s.scrollTop = 0; s.dispatchEvent(new Event('scroll'));", json!([])).await;
        tokio::time::sleep(Duration::from_millis(250)).await;
        let n =
            b.js("return document.querySelectorAll('[data-testid=message]').length", json!([])).await.as_u64().unwrap();
        max_nodes = max_nodes.max(n);
        if thread_texts(&b).await.iter().any(|t| t == "history 1500") {
            break;
        }
    }
    assert!(thread_texts(&b).await.iter().any(|t| t == "history 1500"), "older pages came in on scroll");
    assert!(max_nodes <= 400, "at most a few hundred message nodes, saw {max_nodes}");
}

#[actix_web::test]
async fn a_closed_24_hour_window_blocks_free_text_and_says_why() {
    let Some(b) = Browser::start("ui::a_closed_window").await else { return };
    let app = spawn_app().await;
    let (admin, account) = organization(&app, "Window").await;
    let old = (chrono::Utc::now() - chrono::Duration::hours(25)).timestamp().to_string();
    let wa = "4915600000001";
    let hook = message_webhook(
        &account.phone_number_id,
        wa,
        "Late",
        json!({"from": wa, "id": "wamid.old.ui", "timestamp": old, "type": "text", "text": {"body": "yesterday's question"}}),
    );
    assert_eq!(app.post_webhook(&hook).await.0, 200);
    let c = app.conversation_of(&admin.org, wa).await;

    sign_in(&b, &app.address, &admin.email, PASSWORD).await;
    b.click("[data-testid=tab-all]").await;
    open(&b, &c).await;
    let notice = b.wait_for("[data-testid=composer-closed]", WAIT).await;
    assert!(!notice.is_empty());
    let text = b.js("return document.querySelector('[data-testid=composer-closed]').textContent", json!([])).await;
    assert!(text.as_str().unwrap().contains("24"), "the notice says why: {text}");
    let usable = b
        .js("const i = document.querySelector('[data-testid=composer-input]'); return !!i && !i.disabled && !i.readOnly", json!([]))
        .await;
    assert_eq!(usable, json!(false), "free text cannot be typed");
}

#[actix_web::test]
async fn an_admin_invites_an_agent_from_settings_and_the_mail_lands_in_the_dev_mailbox() {
    let Some(b) = Browser::start("ui::an_admin_invites").await else { return };
    let app = spawn_app().await;
    let (admin, _) = organization(&app, "Invites").await;
    sign_in(&b, &app.address, &admin.email, PASSWORD).await;
    b.click("[data-testid=nav-settings]").await;
    b.goto(&format!("{}/settings/users", app.address)).await;
    let email = format!("new{}@example.com", unique());
    b.type_into("[data-testid=invite-form] input[name=email]", &email).await;
    b.click("[data-testid=invite-submit]").await;
    b.until("the invitation listed", WAIT, "return [...document.querySelectorAll('[data-testid=invitation-row]')].some(r => r.textContent.includes(arguments[0]))", json!([email])).await;
    let (s, mails) = app.get(&format!("/api/v1/dev/mailbox?to={email}"), &admin.org.token).await;
    assert_eq!(s, 200);
    assert_eq!(mails["data"].as_array().unwrap().len(), 1, "{mails}");
    assert!(mails["data"][0]["body"].as_str().unwrap().contains("/accept-invitation?token="));
}

#[actix_web::test]
async fn an_agent_sees_no_admin_settings_and_the_api_refuses_them() {
    let Some(b) = Browser::start("ui::an_agent_sees_no_admin_settings").await else { return };
    let app = spawn_app().await;
    let (admin, _) = organization(&app, "Roles").await;
    let (email, token) = agent(&app, &admin).await;
    sign_in(&b, &app.address, &email, PASSWORD).await;
    let nav = b.js("return !!document.querySelector('[data-testid=nav-settings]')", json!([])).await;
    assert_eq!(nav, json!(false));
    b.goto(&format!("{}/settings/users", app.address)).await;
    b.wait_for("[data-testid=settings-forbidden]", WAIT).await;
    assert_eq!(app.post("/api/v1/teams", &token, json!({"name": "Sneaky"})).await.0, 403);
    assert_eq!(app.post("/api/v1/invitations", &token, json!({"email": "x@example.com"})).await.0, 403);
}

#[actix_web::test]
async fn conversations_auto_assigned_to_me_while_i_sign_in_show_up_in_mine() {
    let Some(b) = Browser::start("ui::conversations_auto_assigned_to_me").await else { return };
    let app = spawn_app().await;
    let (admin, account) = organization_without_queue(&app, "Arrivals").await;
    let c1 = app.customer_says(&admin.org, &account, "4915700000001", "One").await;
    let c2 = app.customer_says(&admin.org, &account, "4915700000002", "Two").await;
    // Signing in opens the socket, which makes the admin ONLINE, which hands them the queue,
    // while the first page of "Mine" may still be on its way.
    // "Mine" is the first tab shown; no click, which would load the list again.
    sign_in(&b, &app.address, &admin.email, PASSWORD).await;
    count_of(&b, "tab-mine", 2).await;
    b.wait_for(&row(&c1), WAIT).await;
    b.wait_for(&row(&c2), WAIT).await;
}

#[actix_web::test]
async fn a_new_user_creates_an_organization_then_signs_out_and_back_in_with_an_emailed_code() {
    let Some(b) = Browser::start("ui::a_new_user_creates_an_organization").await else { return };
    let app = spawn_app().await;
    b.goto(&format!("{}/", app.address)).await;
    b.click("[data-testid=signin-register]").await;
    let email = format!("founder{}@example.com", unique());
    b.type_into("input[name=companyName]", "Fresh Co").await;
    b.type_into("input[name=name]", "Fay Founder").await;
    b.type_into("input[name=email]", &email).await;
    b.type_into("input[name=password]", "short").await;
    b.click("[data-testid=signin-submit]").await;
    // The browser's own check stops a short password; the server's field error shows for the rest.
    b.js("document.querySelector('input[name=password]').removeAttribute('minlength')", json!([])).await;
    b.click("[data-testid=signin-submit]").await;
    b.wait_for("input[name=password][aria-invalid=true]", WAIT).await;
    b.type_into("input[name=password]", "-and-now-long-enough").await;
    b.click("[data-testid=signin-submit]").await;
    b.wait_for("[data-testid=conversation-list]", WAIT).await;
    b.wait_for("[data-testid=nav-settings]", WAIT).await;

    b.click("[data-testid=sign-out]").await;
    b.wait_for("[data-testid=signin-submit]", WAIT).await;
    b.click("button.link:not([data-testid])").await;
    b.type_into("input[name=email]", &email).await;
    b.click("[data-testid=signin-submit]").await;
    b.wait_for("input[name=code]", WAIT).await;
    let code = {
        let rows = entities::login_code::Entity::find().all(&app.db).await.unwrap();
        assert_eq!(rows.len(), 1, "one code was requested");
        // The code itself only exists in the mail: read it from the mail log as the user would.
        let mail = entities::mail::Entity::find().all(&app.db).await.unwrap();
        let body = mail.iter().rev().find(|m| m.to_address == email).map(|m| m.body.clone()).unwrap();
        crate::smtp_sink::code_in(&body)
    };
    b.type_into("input[name=code]", &code).await;
    b.click("[data-testid=signin-submit]").await;
    b.wait_for("[data-testid=conversation-list]", WAIT).await;
}

#[actix_web::test]
async fn an_agent_moves_a_conversation_to_a_team_and_takes_it_from_the_command_menu() {
    let Some(b) = Browser::start("ui::an_agent_moves_a_conversation_to_a_team").await else { return };
    let app = spawn_app().await;
    let (admin, account) = organization(&app, "Moves").await;
    let (s, sales) = app.post("/api/v1/teams", &admin.org.token, json!({"name": "Sales"})).await;
    assert_eq!(s, 201);
    let sales = sales["data"]["id"].as_str().unwrap().to_owned();
    let c = app.customer_says(&admin.org, &account, "4915800000001", "I'd like to buy ten chairs").await;
    sign_in(&b, &app.address, &admin.email, PASSWORD).await;
    b.click("[data-testid=tab-all]").await;
    open(&b, &c).await;
    b.click("[data-testid=action-assign]").await;
    b.click(&format!("[data-testid=assign-team-option][data-team-id='{sales}']")).await;
    b.until(
        "the team in the header",
        WAIT,
        "const t = document.querySelector('[data-testid=thread-team]'); return t && t.textContent.includes('Sales')",
        json!([]),
    )
    .await;
    let (_, conv) = app.get(&format!("/api/v1/conversations/{c}"), &admin.org.token).await;
    assert_eq!(conv["data"]["teamId"], sales.as_str());

    // Ctrl+K, "take over", Enter: the conversation is mine.
    b.keys(&["\u{E009}", "k"]).await;
    b.wait_for("[data-testid=command-menu] input", WAIT).await;
    b.type_into("[data-testid=command-menu] input", "take over\u{E007}").await;
    b.until(
        "the conversation taken over",
        WAIT,
        "return !document.querySelector('[data-testid=action-takeover]')",
        json!([]),
    )
    .await;
    let (_, conv) = app.get(&format!("/api/v1/conversations/{c}"), &admin.org.token).await;
    assert_eq!(conv["data"]["assignedTo"], admin.org.user_id.as_str());
}

#[actix_web::test]
async fn two_tabs_of_one_agent_stay_in_step_and_keep_their_session_through_token_refreshes() {
    let Some(b) = Browser::start("ui::two_tabs_of_one_agent").await else { return };
    // Access tokens of 67 s: the session is refreshed every 7 s, so over the test it is refreshed
    // several times while both tabs use it. A refresh token spent twice revokes the whole sign-in,
    // so this holds only when one tab refreshes and the other takes its tokens (localStorage lets
    // a tab read the old token for a moment after another stored the new one).
    let app = spawn_app_with(|c| c.access_token_ttl = 67).await;
    let (admin, account) = organization(&app, "Tabs").await;
    let c1 = app.customer_says(&admin.org, &account, "4915900000001", "First customer here").await;
    let c2 = app.customer_says(&admin.org, &account, "4915900000002", "Second customer here").await;

    sign_in(&b, &app.address, &admin.email, PASSWORD).await;
    b.click("[data-testid=tab-all]").await;
    open(&b, &c1).await;
    let first = b.tab().await;

    // The second tab is signed in already (same browser) and opens the same conversation.
    let second = b.new_tab().await;
    b.goto(&format!("{}/conversations/{c1}", app.address)).await;
    b.wait_for(&format!("[data-testid=thread][data-conversation-id='{c1}']"), WAIT).await;
    b.click("[data-testid=action-takeover]").await;
    b.type_into("[data-testid=composer-input]", "Answered from the second tab\u{E007}").await;
    b.until(
        "the reply sent in the second tab",
        WAIT,
        "return document.querySelector('[data-testid=message][data-direction=outbound]:not([data-status=pending])')",
        json!([]),
    )
    .await;

    // The first tab shows the takeover and the reply without a reload.
    b.switch_to(&first).await;
    b.until(
        "the second tab's reply in the first tab",
        WAIT,
        "return [...document.querySelectorAll('[data-testid=message-text]')].some(e => e.textContent.includes('Answered from the second tab'))",
        json!([]),
    )
    .await;
    b.until(
        "the takeover in the first tab",
        WAIT,
        "return !document.querySelector('[data-testid=action-takeover]')",
        json!([]),
    )
    .await;
    count_of(&b, "tab-mine", 1).await;

    // Alt+J and Alt+K walk the list.
    b.click("[data-testid=tab-all]").await;
    let order = b
        .js("return [...document.querySelectorAll('[data-testid=conversation-row]')].map(r => r.dataset.id)", json!([]))
        .await;
    let order: Vec<String> = serde_json::from_value(order).unwrap();
    assert_eq!(order.len(), 2, "{order:?}");
    open(&b, &order[0]).await;
    b.keys(&["\u{E00A}", "j"]).await;
    b.wait_for(&format!("[data-testid=thread][data-conversation-id='{}']", order[1]), WAIT).await;
    b.keys(&["\u{E00A}", "k"]).await;
    b.wait_for(&format!("[data-testid=thread][data-conversation-id='{}']", order[0]), WAIT).await;
    assert!(order.contains(&c2));

    // Let both tabs go through several refreshes, then check both still work against the API.
    tokio::time::sleep(Duration::from_secs(22)).await;
    for tab in [&first, &second] {
        b.switch_to(tab).await;
        b.until("still signed in", WAIT, "return !!document.querySelector('[data-testid=conversation-list]') && !document.querySelector('[data-testid=signin-submit]')", json!([])).await;
    }
    let hook = text_webhook(
        &account.phone_number_id,
        "4915900000001",
        "Customer",
        &format!("wamid.{}", unique()),
        "Still there after the refreshes?",
    );
    assert_eq!(app.post_webhook(&hook).await.0, 200);
    for tab in [&second, &first] {
        b.switch_to(tab).await;
        // Reload only just after a refresh has been stored: a reload while a refresh is on its
        // way loses the new tokens with the page (the server has spent the old ones), a race of
        // the page's unload that the tabs cannot prevent (see the note of issue 14).
        b.until(
            "a refresh just stored",
            WAIT,
            "const s = JSON.parse(localStorage.getItem('cx.session') || 'null'); return !!s && s.expiresAt - Date.now() > 66000",
            json!([]),
        )
        .await;
        b.goto(&format!("{}/conversations/{c1}", app.address)).await;
        b.until(
            "the thread loaded with the refreshed session",
            WAIT,
            "return [...document.querySelectorAll('[data-testid=message-text]')].some(e => e.textContent.includes('Still there after the refreshes?'))",
            json!([]),
        )
        .await;
    }
}

/// With `CX_UI_SHOTS=<dir>`, saves a screenshot of the page there as `<name>.png` (to look at a
/// layout at desktop and phone widths).
async fn shot(b: &Browser, name: &str) {
    if let Some(dir) = std::env::var_os("CX_UI_SHOTS") {
        b.screenshot(&std::path::Path::new(&dir).join(format!("{name}.png"))).await;
    }
}

/// No horizontal scroll: neither the page nor the element `css` is wider than it shows.
async fn no_sideways_scroll(b: &Browser, css: &str) {
    let wide = b
        .js(
            "const d = document.documentElement; const e = document.querySelector(arguments[0]); \
             return [d.scrollWidth - d.clientWidth, e ? e.scrollWidth - e.clientWidth : 0]",
            json!([css]),
        )
        .await;
    assert_eq!(wide, json!([0, 0]), "horizontal overflow (page, {css}) in px");
}

#[actix_web::test]
async fn a_closed_window_offers_the_template_picker_and_sends_one() {
    let Some(b) = Browser::start("ui::a_closed_window_offers_the_template_picker").await else { return };
    let app = spawn_app().await;
    let (admin, account) = organization(&app, "Picker").await;
    let c = templates::closed_window(&app, &admin.org, &account, "4916000000001").await;
    templates::approved(&app, &admin.org, templates::order_update("order_update")).await;

    sign_in(&b, &app.address, &admin.email, PASSWORD).await;
    b.click("[data-testid=tab-all]").await;
    open(&b, &c).await;
    b.wait_for("[data-testid=composer-closed]", WAIT).await;
    b.click("[data-testid=composer-send-template]").await;
    b.wait_for("[data-testid=template-option][data-name=order_update]", WAIT).await;
    shot(&b, "picker-list-1280").await;
    // Searched and chosen from the keyboard.
    b.type_into("[data-testid=template-search]", "order\u{E007}").await;
    b.wait_for("[data-testid=template-fill]", WAIT).await;
    let field = |slot: &str| format!("[data-testid=template-field][data-slot='{slot}']");
    let placeholder = b.js("return document.querySelector(arguments[0]).placeholder", json!([field("body.1")])).await;
    assert_eq!(placeholder, "Ana", "the example is the placeholder");
    b.type_into(&field("header.1"), "77").await;
    b.type_into(&field("body.1"), "Ana").await;
    b.type_into(&field("body.2"), "77").await;
    shot(&b, "picker-fill-1280").await;
    b.until(
        "the preview with the values typed",
        WAIT,
        "const p = document.querySelector('[data-testid=template-send-preview]'); return p && p.textContent.includes('Hi Ana, your order 77 ships today.') && p.textContent.includes('Order 77')",
        json!([]),
    )
    .await;

    // The button's value is missing: said at its field, nothing sent.
    b.click("[data-testid=template-send]").await;
    b.wait_for(&format!("{}[aria-invalid=true]", field("button.1")), WAIT).await;
    assert!(app.graph.sends().is_empty());

    b.type_into(&field("button.1"), "77").await;
    b.click("[data-testid=template-send]").await;
    let want = "Order 77\nHi Ana, your order 77 ships today.\nDemo Shop\n[Thanks] [Track]";
    b.until(
        "the rendered template in the thread, sent",
        WAIT,
        "return [...document.querySelectorAll('[data-testid=message][data-direction=outbound]')].some(m => m.dataset.status === 'sent' && m.querySelector('[data-testid=message-text]').textContent === arguments[0])",
        json!([want]),
    )
    .await;
    b.until("the picker closed", WAIT, "return !document.querySelector('[data-testid=template-fill]')", json!([]))
        .await;
    let sends = templates::wait_for_sends(&app, 1).await;
    assert_eq!(sends.len(), 1, "sent once");
    let body = &sends[0].body;
    assert_eq!(body["type"], "template");
    assert_eq!(body["template"]["name"], "order_update");
    assert_eq!(body["template"]["language"]["code"], "en_US");
    assert_eq!(
        body["template"]["components"],
        json!([
            {"type": "header", "parameters": [{"type": "text", "text": "77"}]},
            {"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "77"}]},
            {"type": "button", "sub_type": "url", "index": "1", "parameters": [{"type": "text", "text": "77"}]}
        ])
    );
    let on_screen = b
        .js("return document.querySelectorAll('[data-testid=message][data-direction=outbound]').length", json!([]))
        .await;
    assert_eq!(on_screen, json!(1), "one message on screen, the pending one replaced");
    shot(&b, "thread-sent-1280").await;

    // On a phone the picker fits the width.
    b.set_size(390, 844).await;
    b.click("[data-testid=composer-send-template]").await;
    b.click("[data-testid=template-option][data-name=order_update]").await;
    b.wait_for("[data-testid=template-fill]", WAIT).await;
    no_sideways_scroll(&b, "[data-testid=template-fill]").await;
    shot(&b, "picker-fill-390").await;
}

#[actix_web::test]
async fn a_template_drafted_in_the_editor_is_submitted_and_its_rejection_shows_live() {
    let Some(b) = Browser::start("ui::a_template_drafted_in_the_editor").await else { return };
    let app = spawn_app().await;
    let (admin, account) = organization(&app, "Manager").await;
    let waba = templates::waba_of(&app, &admin.org, &account).await;
    sign_in(&b, &app.address, &admin.email, PASSWORD).await;
    b.click("[data-testid=nav-settings]").await;
    b.click("[data-testid=settings-nav-templates]").await;
    b.wait_for("[data-testid=templates]", WAIT).await;
    b.click("[data-testid=template-new]").await;

    // A body with a variable: its example field appears and the preview fills it in.
    b.type_into("[data-testid=template-name]", "shipping_update").await;
    b.type_into("[data-testid=template-body]", "Hello ").await;
    b.click("[data-testid=template-add-variable]").await;
    b.type_into("[data-testid=template-body]", ", your parcel is on its way.").await;
    b.type_into("[data-testid=template-body-example][data-var='1']", "Ana").await;
    b.until(
        "the preview with the example",
        WAIT,
        "const p = document.querySelector('[data-testid=template-preview] [data-testid=preview-body]'); return p && p.textContent === 'Hello Ana, your parcel is on its way.'",
        json!([]),
    )
    .await;
    // A text header, a footer and a quick reply show in the preview too.
    b.click("[data-testid=template-editor] input[type=radio][value=TEXT]").await;
    b.type_into("[data-testid=template-editor] input[name='header.text']", "Your parcel").await;
    b.type_into("[data-testid=template-editor] input[name='footer.text']", "Demo Shop").await;
    b.click("[data-testid=template-add-button] option[value=QUICK_REPLY]").await;
    b.type_into("[data-testid=template-editor] input[name='buttons.0.text']", "Thanks").await;
    b.until(
        "the whole preview",
        WAIT,
        "const p = document.querySelector('[data-testid=template-preview]'); return p && ['Your parcel', 'Demo Shop', 'Thanks'].every(t => p.textContent.includes(t))",
        json!([]),
    )
    .await;
    no_sideways_scroll(&b, ".settings-body").await;
    shot(&b, "editor-1280").await;

    b.click("[data-testid=template-save-draft]").await;
    b.until(
        "the draft's own page",
        WAIT,
        "return /^\\/settings\\/templates\\/[^/]+$/.test(location.pathname) && !location.pathname.endsWith('/new')",
        json!([]),
    )
    .await;
    b.wait_for("[data-testid=template-editor] [data-testid=template-status].tpl-DRAFT", WAIT).await;
    let (_, list) = app.get("/api/v1/templates", &admin.org.token).await;
    let draft = &list["data"][0];
    assert_eq!(draft["status"], "DRAFT", "{list}");
    assert_eq!(
        draft["components"],
        json!([
            {"type": "HEADER", "format": "TEXT", "text": "Your parcel"},
            {"type": "BODY", "text": "Hello {{1}}, your parcel is on its way.", "example": {"body_text": [["Ana"]]}},
            {"type": "FOOTER", "text": "Demo Shop"},
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Thanks"}]}
        ])
    );

    b.click("[data-testid=template-submit]").await;
    let row = "[data-testid=template-row][data-name=shipping_update]";
    b.wait_for(&format!("{row}[data-status=PENDING]"), WAIT).await;
    let (_, got) = app.get("/api/v1/templates", &admin.org.token).await;
    let meta_id: u64 = got["data"][0]["metaId"].as_str().unwrap().parse().unwrap();

    // Meta rejects it: the row turns REJECTED with the reason, without a reload.
    b.js("window.__stillHere = true", json!([])).await;
    let hook = templates::template_webhook(
        &waba,
        "message_template_status_update",
        json!({"event": "REJECTED", "message_template_id": meta_id, "message_template_name": "shipping_update", "message_template_language": "en_US", "reason": "INVALID_FORMAT"}),
    );
    assert_eq!(app.post_webhook(&hook).await.0, 200);
    b.wait_for(&format!("{row}[data-status=REJECTED] [data-testid=template-status].tpl-REJECTED"), WAIT).await;
    b.until(
        "the reason on the row",
        WAIT,
        "const r = document.querySelector(arguments[0]); return r && r.textContent.includes('INVALID_FORMAT')",
        json!([format!("{row} [data-testid=template-rejected-reason]")]),
    )
    .await;
    assert_eq!(b.js("return window.__stillHere === true", json!([])).await, json!(true), "no reload");
    shot(&b, "list-1280").await;

    // The list and the editor fit a phone's width.
    b.set_size(390, 844).await;
    no_sideways_scroll(&b, ".settings-body").await;
    shot(&b, "list-390").await;
    b.click(&format!("{row} .tpl-name")).await;
    b.wait_for("[data-testid=editor-rejected]", WAIT).await;
    no_sideways_scroll(&b, ".settings-body").await;
    shot(&b, "editor-390").await;
}

#[actix_web::test]
async fn an_admin_creates_a_campaign_from_a_csv_sees_its_errors_and_watches_it_complete() {
    let Some(b) = Browser::start("ui::an_admin_creates_a_campaign_from_a_csv").await else { return };
    let app = spawn_app().await;
    let (admin, _account) = organization(&app, "Campaigns").await;
    let template = campaigns::promo(&app, &admin.org).await;
    // Three rows, the second with a number that is not E.164.
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("winter.csv");
    std::fs::write(&csv, "phone,name,1,2\n+4915112340001,Ana,Ana,10%\n12345,Bad,Bo,5%\n+4915112340002,Ben,Ben,20%\n")
        .unwrap();

    sign_in(&b, &app.address, &admin.email, PASSWORD).await;
    b.click("[data-testid=nav-campaigns]").await;
    b.wait_for("[data-testid=campaigns] [data-testid=campaigns-global]", WAIT).await;
    b.click("[data-testid=campaign-new]").await;
    b.type_into("[data-testid=campaign-name]", "Winter sale").await;
    b.click(&format!("[data-testid=campaign-template] option[value='{template}']")).await;
    // The columns the template's recipients take, and an example file of them.
    b.until(
        "the template's columns",
        WAIT,
        "const c = document.querySelector('[data-testid=campaign-columns]'); return c && c.textContent.includes('phone, name (optional), 1, 2')",
        json!([]),
    )
    .await;
    b.wait_for("[data-testid=campaign-example-csv]", WAIT).await;
    // The browser's file input takes the file's path.
    b.type_into("[data-testid=campaign-csv-file]", csv.to_str().unwrap()).await;
    b.until(
        "the file read",
        WAIT,
        "const r = document.querySelector('[data-testid=campaign-csv-read]'); return r && r.textContent.includes('3 rows')",
        json!([]),
    )
    .await;

    // Check: two will get it, the bad row is listed with its column, the cost and the samples.
    b.click("[data-testid=campaign-check]").await;
    b.wait_for("[data-testid=campaign-check-report][data-valid='2'][data-invalid='1']", WAIT).await;
    let bad = b
        .js(
            "const r = document.querySelector('[data-testid=campaign-invalid-row]'); return [r.dataset.row, r.dataset.field, r.textContent]",
            json!([]),
        )
        .await;
    assert_eq!(bad[0], "2", "{bad}");
    assert_eq!(bad[1], "phone", "{bad}");
    assert!(bad[2].as_str().unwrap().contains("12345"), "{bad}");
    let report =
        b.js("return document.querySelector('[data-testid=campaign-check-report]').textContent", json!([])).await;
    let report = report.as_str().unwrap();
    assert!(report.contains("Germany") && report.contains("rates from 2025-07-01"), "{report}");
    b.until(
        "the samples in WhatsApp bubbles",
        WAIT,
        "return [...document.querySelectorAll('[data-testid=campaign-sample] [data-testid=preview-body]')].map(e => e.textContent).join('|') === 'Hi Ana, 10% off today.|Hi Ben, 20% off today.'",
        json!([]),
    )
    .await;
    // Not sent while a row is at fault, unless it is left out.
    assert_eq!(
        b.js("return document.querySelector('[data-testid=campaign-send]').disabled", json!([])).await,
        json!(true)
    );
    assert_eq!(app.count("campaigns").await, 0, "a check stores nothing");
    no_sideways_scroll(&b, ".settings-body").await;
    shot(&b, "campaign-check-1280").await;
    b.set_size(390, 844).await;
    no_sideways_scroll(&b, ".settings-body").await;
    shot(&b, "campaign-check-390").await;
    b.set_size(1280, 800).await;

    // The fake Graph API answers slowly, so the campaign is seen running before it completes.
    app.graph.slow_down(Duration::from_millis(1500));
    b.click("[data-testid=campaign-skip-invalid]").await;
    b.click("[data-testid=campaign-send]").await;
    b.wait_for("[data-testid=campaign-detail][data-status=RUNNING]", WAIT).await;
    b.js("window.__stillHere = true", json!([])).await;
    b.wait_for("[data-testid=campaign-detail][data-status=COMPLETED]", Duration::from_secs(30)).await;
    b.wait_for("[data-testid=campaign-funnel] [data-step=sent][data-value='2']", WAIT).await;
    b.wait_for("[data-testid=campaign-funnel] [data-step=recipients][data-value='2']", WAIT).await;
    b.wait_for("[data-testid=campaign-progress][data-done='2'][data-failed='0']", WAIT).await;
    assert_eq!(b.js("return window.__stillHere === true", json!([])).await, json!(true), "followed live, no reload");
    b.until(
        "both recipients sent in the table",
        WAIT,
        "return [...document.querySelectorAll('[data-testid=campaign-recipient]')].map(r => r.dataset.status).join() === 'SENT,SENT'",
        json!([]),
    )
    .await;
    shot(&b, "campaign-detail-1280").await;

    // The fake Graph API got one template send per valid row.
    let sends: Vec<_> = app.graph.sends().into_iter().filter(|r| r.body["type"] == "template").collect();
    let mut to: Vec<&str> = sends.iter().map(|r| r.body["to"].as_str().unwrap()).collect();
    to.sort();
    assert_eq!(to, vec!["4915112340001", "4915112340002"]);
    assert!(sends.iter().all(|r| r.body["template"]["name"] == "promo"));

    // The list shows it completed with its figures; both fit a phone's width.
    b.set_size(390, 844).await;
    no_sideways_scroll(&b, ".settings-body").await;
    shot(&b, "campaign-detail-390").await;
    b.click("[data-testid=nav-campaigns]").await;
    b.wait_for("[data-testid=campaign-row][data-name='Winter sale'][data-status=COMPLETED] [data-testid=campaign-progress][data-done='2']", WAIT).await;
    b.wait_for("[data-testid=campaigns-global][data-sent='2']", WAIT).await;
    no_sideways_scroll(&b, ".settings-body").await;
    shot(&b, "campaigns-390").await;
}

/// Sets a `datetime-local` (or any) input's value as typing would, whatever the browser's locale.
async fn set_value(b: &Browser, css: &str, value: &str) {
    b.wait_for(css, WAIT).await;
    b.js(
        "const i = document.querySelector(arguments[0]); i.value = arguments[1]; i.dispatchEvent(new Event('input', {bubbles: true}));",
        json!([css, value]),
    )
    .await;
}

#[actix_web::test]
async fn an_admin_schedules_a_campaign_for_pasted_numbers_in_the_organizations_zone_and_pauses_cancels_and_deletes_it()
{
    let Some(b) = Browser::start("ui::an_admin_schedules_a_campaign_for_pasted_numbers").await else { return };
    let app = spawn_app().await;
    let (admin, _account) = organization(&app, "Scheduled").await;
    let (s, h) = app
        .put(
            "/api/v1/routing-rules/business-hours",
            &admin.org.token,
            json!({"timezone": "Europe/Berlin", "isEnabled": false, "slots": []}),
        )
        .await;
    assert_eq!(s, 200, "{h}");
    let template = campaigns::promo(&app, &admin.org).await;

    sign_in(&b, &app.address, &admin.email, PASSWORD).await;
    b.goto(&format!("{}/campaigns/new", app.address)).await;
    b.type_into("[data-testid=campaign-name]", "New year").await;
    b.click(&format!("[data-testid=campaign-template] option[value='{template}']")).await;
    b.click("[data-testid=campaign-source-paste]").await;
    b.type_into("[data-testid=campaign-recipients-text]", "+4915112340011\n+4915112340012\n+4915112340011").await;
    // Pasted numbers all get the same values; a missing one is said at its field.
    b.type_into("[data-testid=campaign-value][data-slot='body.1']", "friend").await;
    b.click("[data-testid=campaign-when-later]").await;
    b.until(
        "the organization's zone named",
        WAIT,
        "return document.querySelector('[data-testid=campaign-create]').textContent.includes('Europe/Berlin')",
        json!([]),
    )
    .await;
    set_value(&b, "[data-testid=campaign-at]", "2030-01-01T09:00").await;
    b.click("[data-testid=campaign-check]").await;
    b.wait_for("[data-testid=campaign-value][data-slot='body.2'][aria-invalid=true]", WAIT).await;
    b.type_into("[data-testid=campaign-value][data-slot='body.2']", "15%").await;
    b.click("[data-testid=campaign-check]").await;
    b.wait_for("[data-testid=campaign-check-report][data-valid='2'][data-invalid='0'][data-duplicates='1']", WAIT)
        .await;
    b.until(
        "the sample with the values",
        WAIT,
        "const s = document.querySelector('[data-testid=campaign-sample] [data-testid=preview-body]'); return s && s.textContent === 'Hi friend, 15% off today.'",
        json!([]),
    )
    .await;
    // A change after the check asks for another.
    b.type_into("[data-testid=campaign-name]", "!").await;
    assert_eq!(
        b.js("return document.querySelector('[data-testid=campaign-send]').disabled", json!([])).await,
        json!(true)
    );
    b.click("[data-testid=campaign-check]").await;
    b.until("checked again", WAIT, "return !document.querySelector('[data-testid=campaign-send]').disabled", json!([]))
        .await;
    b.click("[data-testid=campaign-send]").await;
    b.wait_for("[data-testid=campaign-detail][data-status=SCHEDULED]", WAIT).await;
    let (_, list) = app.get("/api/v1/campaigns", &admin.org.token).await;
    let c = &list["data"][0];
    assert_eq!(c["name"], "New year!");
    assert_eq!(c["scheduledAt"], "2030-01-01T08:00:00Z", "09:00 in Berlin: {c}");
    assert_eq!(c["total"], 2);

    // Pause, cancel and delete from the list (destructive ones confirmed); nothing is sent.
    b.click("[data-testid=nav-campaigns]").await;
    let row = "[data-testid=campaign-row][data-name='New year!']";
    b.wait_for(&format!("{row}[data-status=SCHEDULED]"), WAIT).await;
    b.click(&format!("{row} [data-testid=campaign-pause]")).await;
    b.wait_for(&format!("{row}[data-status=PAUSED]"), WAIT).await;
    b.js("window.__asked = []; window.confirm = (m) => { window.__asked.push(m); return true; };", json!([])).await;
    b.click(&format!("{row} [data-testid=campaign-cancel]")).await;
    b.wait_for(&format!("{row}[data-status=CANCELLED]"), WAIT).await;
    b.click(&format!("{row} [data-testid=campaign-delete]")).await;
    b.until("the row gone", WAIT, "return !document.querySelector(arguments[0])", json!([row])).await;
    let asked = b.js("return window.__asked.length", json!([])).await;
    assert_eq!(asked, json!(2), "cancel and delete asked first");
    assert!(app.graph.sends().is_empty());
    no_sideways_scroll(&b, ".settings-body").await;
}
