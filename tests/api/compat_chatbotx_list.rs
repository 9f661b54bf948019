//! The ChatbotX conversation list (seed 003): the native `GET /api/v1/conversations` with the
//! seed's filter words, and its item shape behind `representation=chatbotx`.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::helpers::{Org, TestApp, spawn_app};

/// The seed's response example, verbatim.
const SEED_RESPONSE: &str = r#"{
  "data": [
    {
      "id": "<string>",
      "createdAt": "2023-11-07T05:31:56Z",
      "updatedAt": "2023-11-07T05:31:56Z",
      "botEnabled": true,
      "botResumeAt": "2023-11-07T05:31:56Z",
      "archivedAt": "2023-11-07T05:31:56Z",
      "additionalAttributes": "<string>",
      "contactLastReadAt": "2023-11-07T05:31:56Z",
      "agentLastReadAt": "2023-11-07T05:31:56Z",
      "lastActivityAt": "2023-11-07T05:31:56Z",
      "followed": true,
      "workspaceId": "<string>",
      "contactId": "<string>",
      "adminRepliedAt": "2023-11-07T05:31:56Z",
      "contactRepliedAt": "2023-11-07T05:31:56Z",
      "contactInboxes": [
        {
          "id": "<string>",
          "contactId": "<string>",
          "inboxId": "<string>",
          "channel": "<string>"
        }
      ],
      "messages": [
        {
          "id": "<string>",
          "createdAt": "2023-11-07T05:31:56Z",
          "updatedAt": "2023-11-07T05:31:56Z",
          "conversationId": "<string>",
          "contactInboxId": "<string>",
          "workspaceId": "<string>",
          "text": "<string>",
          "contentAttributes": "<string>",
          "sourceId": "<string>",
          "senderId": null,
          "clientId": "<string>"
        }
      ],
      "contact": {
        "id": "<string>",
        "createdAt": "2023-11-07T05:31:56Z",
        "updatedAt": "2023-11-07T05:31:56Z",
        "avatar": "<string>",
        "phoneNumber": "<string>",
        "email": "<string>",
        "emailVerified": true,
        "emailOptIn": true,
        "firstName": "<string>",
        "lastName": "<string>",
        "fullName": "<string>",
        "lastReadAt": "2023-11-07T05:31:56Z",
        "ref": "<string>",
        "country": "<string>",
        "state": "<string>",
        "city": "<string>",
        "location": "<string>",
        "locale": "<string>",
        "timezone": "<string>",
        "subscribedAt": "2023-11-07T05:31:56Z",
        "broadcastSubscribedAt": "2023-11-07T05:31:56Z",
        "blockedAt": "2023-11-07T05:31:56Z",
        "workspaceId": "<string>"
      },
      "assignedUser": {
        "id": "<string>",
        "createdAt": "2023-11-07T05:31:56Z",
        "updatedAt": "2023-11-07T05:31:56Z",
        "name": "<string>",
        "email": "<string>",
        "emailVerified": true,
        "image": "<string>",
        "isAnonymous": true
      },
      "assignedInboxTeam": {
        "id": "<string>",
        "createdAt": "2023-11-07T05:31:56Z",
        "updatedAt": "2023-11-07T05:31:56Z",
        "workspaceId": "<string>",
        "name": "<string>"
      },
      "aiContextLastMessageId": null,
      "assignedUserId": null,
      "assignedInboxTeamId": null
    }
  ],
  "nextCursor": "<string>",
  "prevCursor": "<string>"
}"#;

/// Every key path of a JSON value (`data[].contact.phoneNumber`), arrays by their first item.
fn key_paths(v: &Value, at: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(o) => {
            for (k, sub) in o {
                let p = if at.is_empty() { k.clone() } else { format!("{at}.{k}") };
                out.insert(p.clone());
                key_paths(sub, &p, out);
            }
        }
        Value::Array(a) => {
            if let Some(first) = a.first() {
                key_paths(first, &format!("{at}[]"), out);
            }
        }
        _ => {}
    }
}

fn paths(v: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    key_paths(v, "", &mut out);
    out
}

/// The seed's curl: `GET /api/v1/conversations` with `Authorization: Bearer <token>`.
async fn list(app: &TestApp, org: &Org, query: &str) -> (u16, Value) {
    let res = app
        .client
        .get(app.url(&format!("/api/v1/conversations{query}")))
        .header("Authorization", format!("Bearer {}", org.token))
        .send()
        .await
        .unwrap();
    crate::helpers::status_json(res).await
}

/// A conversation routed to team Support, taken and answered by the admin.
async fn answered_conversation(app: &TestApp, org: &Org, wa_id: &str) -> (String, String) {
    let (s, team) = app.post("/api/v1/teams", &org.token, json!({"name": "Support"})).await;
    assert_eq!(s, 201, "{team}");
    let team_id = team["data"]["id"].as_str().unwrap().to_owned();
    let (s, b) = app.put("/api/v1/routing-rules/default-team", &org.token, json!({"teamId": team_id})).await;
    assert_eq!(s, 200, "{b}");
    let account = app.connect_account(org).await;
    let conv = app.customer_says(org, &account, wa_id, "Hi, where is my order?").await;
    let (s, taken) = app.post(&format!("/api/v1/conversations/{conv}/takeover"), &org.token, json!({})).await;
    assert_eq!(s, 200, "{taken}");
    let (s, sent) = app
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            &org.token,
            json!({"type": "text", "text": "On its way!"}),
        )
        .await;
    assert_eq!(s, 201, "{sent}");
    (conv, team_id)
}

#[actix_web::test]
async fn representation_chatbotx_answers_exactly_the_seed_keys() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let (conv, team_id) = answered_conversation(&app, &org, "6281234500001").await;

    let (status, page) = list(&app, &org, "?representation=chatbotx").await;
    assert_eq!(status, 200, "{page}");
    let seed: Value = serde_json::from_str(SEED_RESPONSE).unwrap();
    assert_eq!(paths(&page), paths(&seed), "the key paths differ from the seed's");

    let c = &page["data"][0];
    assert_eq!(c["id"], conv.as_str());
    assert_eq!(c["workspaceId"], org.org_id.as_str());
    assert_eq!(c["botEnabled"], false, "a human has it");
    assert_eq!(c["followed"], false);
    assert_eq!(c["archivedAt"], Value::Null);
    assert!(c["adminRepliedAt"].is_string() && c["contactRepliedAt"].is_string() && c["lastActivityAt"].is_string());
    let contact_id = c["contactId"].as_str().unwrap();
    let inbox = &c["contactInboxes"][0];
    let inbox_id = inbox["inboxId"].as_str().unwrap();
    // The contact's stored address in that inbox (contact_inboxes), its WhatsApp id.
    let stored = {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        entities::contact_inbox::Entity::find()
            .filter(entities::contact_inbox::Column::ContactId.eq(contact_id))
            .filter(entities::contact_inbox::Column::InboxId.eq(inbox_id))
            .one(&app.db)
            .await
            .unwrap()
            .expect("the contact's address in the inbox is stored")
    };
    assert_eq!(inbox["id"], stored.id.as_str());
    assert_eq!(stored.source_id, "6281234500001");
    assert_eq!((inbox["contactId"].as_str(), inbox["channel"].as_str()), (Some(contact_id), Some("whatsapp")));
    let m = &c["messages"][0];
    let thread = app.messages(&org, &conv).await;
    let last = thread.iter().rev().find(|m| m["direction"] != "system").unwrap();
    assert_eq!(m["id"], last["id"]);
    assert_eq!(m["text"], "On its way!");
    assert_eq!(m["sourceId"], last["providerMessageId"]);
    assert_eq!(m["senderId"], org.user_id.as_str());
    assert_eq!(m["contactInboxId"], inbox["id"]);
    assert_eq!(m["conversationId"], conv.as_str());
    assert_eq!(c["contact"]["id"], contact_id);
    assert_eq!(c["contact"]["phoneNumber"], "+6281234500001");
    assert_eq!(c["contact"]["fullName"], "Customer");
    assert_eq!(c["contact"]["emailVerified"], false);
    assert_eq!(c["assignedUserId"], org.user_id.as_str());
    assert_eq!(c["assignedUser"]["id"], org.user_id.as_str());
    assert_eq!(c["assignedUser"]["isAnonymous"], false);
    assert_eq!(c["assignedInboxTeamId"], team_id.as_str());
    assert_eq!(c["assignedInboxTeam"]["id"], team_id.as_str());
    assert_eq!(c["assignedInboxTeam"]["name"], "Support");
    assert_eq!(c["assignedInboxTeam"]["workspaceId"], org.org_id.as_str());
    assert!(page["nextCursor"].is_null() && page["prevCursor"].is_null(), "{page}");
}

#[actix_web::test]
async fn the_native_list_is_unchanged_without_the_representation() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let (conv, _) = answered_conversation(&app, &org, "6281234500002").await;

    let (status, native) = list(&app, &org, "").await;
    assert_eq!(status, 200, "{native}");
    let item = &native["data"][0];
    assert_eq!(item["id"], conv.as_str());
    assert_eq!(item["status"], "WAITING_FOR_CUSTOMER");
    assert_eq!(item["contact"]["waId"], "6281234500002");
    for chatbotx_only in ["contactInboxes", "assignedInboxTeam", "workspaceId", "botEnabled", "messages"] {
        assert!(item.get(chatbotx_only).is_none(), "{chatbotx_only} in the native item: {item}");
    }
    let (_, explicit) = list(&app, &org, "?representation=native").await;
    assert_eq!(paths(&explicit), paths(&native));
    assert_eq!(explicit["data"][0]["id"], native["data"][0]["id"]);

    let (status, answer) = list(&app, &org, "?representation=chatwoot").await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"]["details"]["field"], "representation");
}

#[actix_web::test]
async fn the_seed_filters_and_cursor_work_with_the_chatbotx_representation() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let first = app.customer_says(&org, &account, "6281234500010", "first customer").await;
    let second = app.customer_says(&org, &account, "6281234500011", "second customer wants a refund").await;

    // The seed's query words, as a ChatbotX client sends them (with how many of the two new,
    // bot-handled, unassigned conversations each leaves; the flags just have to be taken).
    for (query, count) in [
        ("botCategory=all&channel=omnichannel", Some(2)),
        ("botCategory=bot&channel=whatsapp", Some(2)),
        ("botCategory=human", Some(0)),
        ("botEnabled=true", Some(2)),
        ("assignedId=unassigned", Some(2)),
        ("perPage=50", Some(2)),
        ("status[]=unread&status[]=noAdminReply", None),
        ("tags[]=followUp", None),
    ] {
        let (status, page) = list(&app, &org, &format!("?{query}&representation=chatbotx")).await;
        assert_eq!(status, 200, "{query}: {page}");
        let items = page["data"].as_array().unwrap();
        if let Some(n) = count {
            assert_eq!(items.len(), n, "{query}: {page}");
        }
        assert!(items.iter().all(|c| c["contactInboxes"].is_array()), "{query}");
    }
    let (_, found) = list(&app, &org, "?keyword=refund&representation=chatbotx").await;
    let ids: Vec<&str> = found["data"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![second.as_str()]);
    // The live-chat widget is ChatbotX's `webchat`: no WhatsApp conversation is one.
    let (_, webchat) = list(&app, &org, "?channel=webchat&representation=chatbotx").await;
    assert_eq!(webchat["data"], json!([]));

    // perPage and cursor page through in the seed's envelope.
    let (_, p1) = list(&app, &org, "?perPage=1&representation=chatbotx").await;
    assert_eq!(p1["data"][0]["id"], second.as_str());
    let cursor = p1["nextCursor"].as_str().unwrap().to_owned();
    let (_, p2) = list(&app, &org, &format!("?perPage=1&cursor={cursor}&representation=chatbotx")).await;
    assert_eq!(p2["data"][0]["id"], first.as_str());
    assert!(p2["nextCursor"].is_null() && p2["prevCursor"].is_string(), "{p2}");
    assert_eq!(p2["data"][0]["messages"][0]["text"], "first customer");
    assert_eq!(p2["data"][0]["assignedUser"], Value::Null);
}

#[actix_web::test]
async fn another_organizations_conversations_never_appear_and_no_token_is_401() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let other = app.register("Other").await;
    let account = app.connect_account(&other).await;
    app.customer_says(&other, &account, "6281234500020", "not yours").await;

    let (status, page) = list(&app, &org, "?representation=chatbotx").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["data"], json!([]));
    let (_, page) = list(&app, &org, &format!("?assignedId={}&representation=chatbotx", other.user_id)).await;
    assert_eq!(page["data"], json!([]));

    let res = app.client.get(app.url("/api/v1/conversations?representation=chatbotx")).send().await.unwrap();
    let (status, answer) = crate::helpers::status_json(res).await;
    assert_eq!(status, 401, "{answer}");
    assert_eq!(answer["error"]["code"], "unauthorized");
}
