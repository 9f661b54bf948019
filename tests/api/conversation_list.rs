use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

fn ids(v: &Value) -> Vec<String> {
    v["data"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
}

/// The ids the list answers for query `q`, sorted.
async fn listed(app: &TestApp, token: &str, q: String) -> Vec<String> {
    let (status, body) = app.get(&format!("/api/v1/conversations?{q}"), token).await;
    assert_eq!(status, 200, "{q}: {body}");
    let mut v = ids(&body);
    v.sort();
    v
}

#[actix_web::test]
async fn the_list_filters_by_every_word_its_clients_use() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let alice = app.customer_says(&org, &account, "15559300001", "I want a refund").await;
    let bob = app.customer_says(&org, &account, "15559300002", "where is my parcel").await;
    let carol = app.customer_says(&org, &account, "15559300003", "hello").await;
    app.patch(
        &format!("/api/v1/conversations/{alice}"),
        &org.token,
        json!({"assignedTo": org.user_id, "category": "billing"}),
    )
    .await;
    app.post(&format!("/api/v1/conversations/{bob}/follow-up"), &org.token, json!({})).await;
    app.post(&format!("/api/v1/conversations/{carol}/resolve"), &org.token, json!({})).await;
    app.post(&format!("/api/v1/conversations/{bob}/read"), &org.token, json!({})).await;

    let get = |q: &'static str| listed(&app, &org.token, q.to_owned());
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(get("assignedTo=me").await, vec![alice.clone()]);
    assert_eq!(get("assignedId=unassigned").await, sorted(vec![bob.clone(), carol.clone()]));
    assert_eq!(get("search=refund").await, vec![alice.clone()], "message text");
    assert_eq!(get("search=REFUND").await, vec![alice.clone()], "any case");
    assert_eq!(get("search=%25").await, Vec::<String>::new(), "% is a plain character");
    assert_eq!(get("keyword=Customer&status=CLOSED").await, vec![carol.clone()], "contact name, with status");
    assert_eq!(get("search=5559300002").await, vec![bob.clone()], "phone");
    assert_eq!(get("subFilter=unread&status=BOT_HANDLING,HUMAN_HANDLING").await, vec![alice.clone()]);
    assert_eq!(get("subFilter=needs_action").await, vec![alice.clone()]);
    assert_eq!(get("botCategory=bot").await, vec![bob.clone()]);
    assert_eq!(get("botEnabled=false&status=HUMAN_HANDLING").await, vec![alice.clone()]);
    assert_eq!(get("status=followUp").await, vec![bob.clone()]);
    assert_eq!(get("status[]=archived").await, vec![carol.clone()]);
    assert_eq!(
        get("status=OPEN&status=CLOSED&status=HUMAN_HANDLING").await,
        sorted(vec![alice.clone(), carol.clone()])
    );
    assert_eq!(get("category=billing").await, vec![alice.clone()]);
    assert_eq!(get("channel=whatsapp").await.len(), 3);
    assert!(get("channel=telegram").await.is_empty());
    assert!(get("status=blocked").await.is_empty());
    assert_eq!(get("perPage=1").await.len(), 1);

    for bad in
        ["sort=sideways", "subFilter=maybe", "botCategory=robots", "status=NOPE", "perPage=x", "botEnabled=perhaps"]
    {
        let (status, body) = app.get(&format!("/api/v1/conversations?{bad}"), &org.token).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
}

#[actix_web::test]
async fn every_sort_order_holds_and_pages_stay_stable_while_messages_arrive() {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(app.customer_says(&org, &account, &format!("155593100{i:02}"), "hi").await);
    }
    // Conversation 1 gets a newer message: it moves to the top of `newest`.
    app.customer_says(&org, &account, "15559310001", "anyone?").await;
    let (_, newest) = app.get("/api/v1/conversations?sort=newest", &org.token).await;
    assert_eq!(
        ids(&newest).iter().collect::<Vec<_>>(),
        vec![&created[1], &created[4], &created[3], &created[2], &created[0]]
    );
    let (_, oldest) = app.get("/api/v1/conversations?sort=oldest", &org.token).await;
    assert_eq!(
        ids(&oldest).iter().collect::<Vec<_>>(),
        vec![&created[0], &created[2], &created[3], &created[4], &created[1]]
    );
    let (_, c_new) = app.get("/api/v1/conversations?sort=created_newest", &org.token).await;
    assert_eq!(ids(&c_new).iter().collect::<Vec<_>>(), created.iter().rev().collect::<Vec<_>>());
    let (_, c_old) = app.get("/api/v1/conversations?sort=created_oldest", &org.token).await;
    assert_eq!(ids(&c_old).iter().collect::<Vec<_>>(), created.iter().collect::<Vec<_>>());
    let (_, waiting) = app.get("/api/v1/conversations?sort=waiting_longest", &org.token).await;
    assert_eq!(ids(&waiting)[0], created[0]);

    // Page 1, then activity on a conversation further down, then page 2: nothing seen twice,
    // nothing that stayed put is skipped.
    let (_, p1) = app.get("/api/v1/conversations?sort=newest&limit=2", &org.token).await;
    assert_eq!(ids(&p1).iter().collect::<Vec<_>>(), vec![&created[1], &created[4]]);
    app.customer_says(&org, &account, "15559310002", "still there?").await;
    let (_, p2) = app
        .get(
            &format!("/api/v1/conversations?sort=newest&limit=2&cursor={}", p1["nextCursor"].as_str().unwrap()),
            &org.token,
        )
        .await;
    assert_eq!(
        ids(&p2).iter().collect::<Vec<_>>(),
        vec![&created[3], &created[0]],
        "conversation 2 moved above the cursor; the rest follow in order"
    );
    let (status, _) = app
        .get(&format!("/api/v1/conversations?sort=oldest&cursor={}", p1["nextCursor"].as_str().unwrap()), &org.token)
        .await;
    assert_eq!(status, 400, "a cursor belongs to its sort order");
}

#[actix_web::test]
async fn conversation_list_filters_by_inbox_and_by_channel_webchat() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let (first, second) = (app.connect_account(&org).await, app.connect_account(&org).await);
    let alice = app.customer_says(&org, &first, "15559400001", "hi").await;
    let bob = app.customer_says(&org, &second, "15559400002", "hello").await;
    let (_, view) = app.get(&format!("/api/v1/conversations/{bob}"), &org.token).await;
    let bob_inbox = view["data"]["inboxId"].as_str().unwrap().to_owned();
    let (_, view) = app.get(&format!("/api/v1/conversations/{alice}"), &org.token).await;
    let alice_inbox = view["data"]["inboxId"].as_str().unwrap().to_owned();
    // Bob's inbox becomes a live chat: the list reads the channel from the inbox.
    let sql = format!("UPDATE inboxes SET channel = 'livechat' WHERE id = '{bob_inbox}'");
    app.db.execute_unprepared(&sql).await.unwrap();

    let list = |q: String| listed(&app, &org.token, q);
    let both = {
        let mut v = vec![alice.clone(), bob.clone()];
        v.sort();
        v
    };
    assert_eq!(list(format!("inboxId={alice_inbox}")).await, vec![alice.clone()]);
    assert_eq!(list(format!("inboxId={bob_inbox}")).await, vec![bob.clone()]);
    assert_eq!(list(format!("inboxId={alice_inbox},{bob_inbox}")).await, both);
    assert_eq!(list(format!("inboxId={alice_inbox}&inboxId={bob_inbox}")).await, both);
    assert_eq!(list("inboxId=someone-elses".into()).await, Vec::<String>::new());
    assert_eq!(list("channel=webchat".into()).await, vec![bob.clone()]);
    assert_eq!(list("channel=livechat".into()).await, vec![bob.clone()]);
    assert_eq!(list("channel=whatsapp".into()).await, vec![alice.clone()]);
    assert_eq!(list("channel=email".into()).await, Vec::<String>::new(), "a channel not served matches nothing");
    assert_eq!(list("channel=omnichannel".into()).await, both);
    assert_eq!(list(format!("channel=whatsapp&inboxId={bob_inbox}")).await, Vec::<String>::new());

    // Another organization's inbox id shows none of its conversations.
    let other = app.register("Other").await;
    let (_, theirs) = app.get(&format!("/api/v1/conversations?inboxId={alice_inbox}"), &other.token).await;
    assert_eq!(theirs["data"], json!([]));
}
