//! TEAMS-1..11: teams, members, working hours.

use serde_json::json;

use crate::agents::add_agent;
use crate::helpers::spawn_app;

#[actix_web::test]
async fn teams_are_created_listed_updated_and_deactivated() {
    let app = spawn_app().await;
    let org = app.register("Teams").await;
    let agent = add_agent(&app, &org, "Ann").await;

    let (s, b) = app.post("/api/v1/teams", &org.token, json!({"name": "Billing", "maxOpenPerAgent": 5})).await;
    assert_eq!(s, 201, "{b}");
    let id = b["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(b["data"]["strategy"], "LEAST_LOADED");
    assert_eq!(b["data"]["maxOpenPerAgent"], 5);

    let (s, b) = app.post("/api/v1/teams", &org.token, json!({"name": "billing"})).await;
    assert_eq!(s, 409, "duplicate name: {b}");
    let (s, b) = app.post("/api/v1/teams", &org.token, json!({"name": "X", "strategy": "RANDOM"})).await;
    assert_eq!((s, b["error"]["details"]["field"].as_str()), (400, Some("strategy")), "{b}");
    let (s, _) = app.post("/api/v1/teams", &agent.token, json!({"name": "Mine"})).await;
    assert_eq!(s, 403, "agents cannot create teams");

    let (s, b) = app
        .patch(&format!("/api/v1/teams/{id}"), &org.token, json!({"strategy": "ROUND_ROBIN", "maxOpenPerAgent": null}))
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"]["strategy"], "ROUND_ROBIN");
    assert!(b["data"]["maxOpenPerAgent"].is_null());
    let (s, _) = app.patch(&format!("/api/v1/teams/{id}"), &org.token, json!({"maxOpenPerAgent": 0})).await;
    assert_eq!(s, 400);

    let (s, b) = app.get("/api/v1/teams", &agent.token).await;
    assert_eq!(s, 200);
    assert_eq!(b["data"].as_array().unwrap().len(), 1);

    let (s, b) = app.delete(&format!("/api/v1/teams/{id}"), &org.token).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"]["isActive"], false);
    let (_, b) = app.get("/api/v1/teams", &org.token).await;
    assert!(b["data"].as_array().unwrap().is_empty(), "deactivated teams are hidden: {b}");
    let (_, b) = app.get("/api/v1/teams?includeInactive=true", &org.token).await;
    assert_eq!(b["data"].as_array().unwrap().len(), 1);
    let (s, b) = app.get(&format!("/api/v1/teams/{id}"), &org.token).await;
    assert_eq!((s, &b["data"]["isActive"]), (200, &json!(false)));

    let other = app.register("Other").await;
    let (s, _) = app.get(&format!("/api/v1/teams/{id}"), &other.token).await;
    assert_eq!(s, 404, "another org's team is a 404");
    let (s, _) = app.patch(&format!("/api/v1/teams/{id}"), &other.token, json!({"name": "Stolen"})).await;
    assert_eq!(s, 404);
}

#[actix_web::test]
async fn members_join_change_role_and_leave() {
    let app = spawn_app().await;
    let org = app.register("Members").await;
    let ann = add_agent(&app, &org, "Ann").await;
    let (_, t) = app.post("/api/v1/teams", &org.token, json!({"name": "Support"})).await;
    let id = t["data"]["id"].as_str().unwrap();

    let (s, b) = app.post(&format!("/api/v1/teams/{id}/members"), &org.token, json!({"userId": ann.user_id})).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["data"]["members"][0]["userId"], ann.user_id.as_str());
    assert_eq!(b["data"]["members"][0]["role"], "MEMBER");
    let (s, _) = app.post(&format!("/api/v1/teams/{id}/members"), &org.token, json!({"userId": ann.user_id})).await;
    assert_eq!(s, 409, "already a member");
    let (s, b) = app.post(&format!("/api/v1/teams/{id}/members"), &org.token, json!({"userId": "nobody"})).await;
    assert_eq!((s, b["error"]["details"]["field"].as_str()), (400, Some("userId")), "{b}");
    let other = app.register("Other").await;
    let (s, _) = app.post(&format!("/api/v1/teams/{id}/members"), &org.token, json!({"userId": other.user_id})).await;
    assert_eq!(s, 400, "another org's user cannot join");

    let path = format!("/api/v1/teams/{id}/members/{}", ann.user_id);
    let (s, b) = app.patch(&path, &org.token, json!({"role": "LEAD"})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"]["members"][0]["role"], "LEAD");
    let (s, _) = app.patch(&path, &org.token, json!({"role": "BOSS"})).await;
    assert_eq!(s, 400);

    let (s, b) = app.get(&format!("/api/v1/teams/{id}"), &ann.token).await;
    assert_eq!((s, b["data"]["memberCount"].as_u64()), (200, Some(1)));
    let (s, b) = app.delete(&path, &org.token).await;
    assert_eq!(s, 200, "{b}");
    assert!(b["data"]["members"].as_array().unwrap().is_empty());
    let (s, _) = app.delete(&path, &org.token).await;
    assert_eq!(s, 404, "not a member any more");
}

#[actix_web::test]
async fn a_team_schedule_is_validated_stored_and_answers_open_now() {
    let app = spawn_app().await;
    let org = app.register("Hours").await;
    let (_, t) = app.post("/api/v1/teams", &org.token, json!({"name": "Night"})).await;
    let id = t["data"]["id"].as_str().unwrap();

    let (s, b) = app.get(&format!("/api/v1/teams/{id}/schedule"), &org.token).await;
    assert_eq!(s, 200);
    assert!(b["data"].is_null(), "no schedule yet: {b}");

    let (s, b) = app
        .put(&format!("/api/v1/teams/{id}/schedule"), &org.token, json!({"timezone": "Mars/Olympus", "slots": []}))
        .await;
    assert_eq!((s, b["error"]["details"]["field"].as_str()), (400, Some("timezone")), "{b}");
    let bad_slot = json!({"timezone": "Europe/Berlin", "slots": [{"day": "MON", "start": "18:00", "end": "09:00"}]});
    let (s, b) = app.put(&format!("/api/v1/teams/{id}/schedule"), &org.token, bad_slot).await;
    assert_eq!((s, b["error"]["details"]["field"].as_str()), (400, Some("slots[0].end")), "{b}");

    // Open around the clock, every day: open now, whatever now is.
    let days = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];
    let slots: Vec<_> = days.iter().map(|d| json!({"day": d, "start": "00:00", "end": "24:00"})).collect();
    let (s, b) = app
        .put(
            &format!("/api/v1/teams/{id}/schedule"),
            &org.token,
            json!({"timezone": "America/New_York", "slots": slots}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (_, b) = app.get(&format!("/api/v1/teams/{id}/schedule"), &org.token).await;
    assert_eq!(b["data"]["timezone"], "America/New_York");
    let (s, b) = app.get(&format!("/api/v1/teams/{id}/schedule/status"), &org.token).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"]["isOpen"], true, "{b}");

    // Closed all week.
    let (s, _) = app
        .put(&format!("/api/v1/teams/{id}/schedule"), &org.token, json!({"timezone": "Asia/Tokyo", "slots": []}))
        .await;
    assert_eq!(s, 200);
    let (_, b) = app.get(&format!("/api/v1/teams/{id}/schedule/status"), &org.token).await;
    assert_eq!(b["data"]["isOpen"], false, "{b}");
    assert_eq!(b["data"]["timezone"], "Asia/Tokyo");

    let other = app.register("Other").await;
    let (s, _) = app.get(&format!("/api/v1/teams/{id}/schedule/status"), &other.token).await;
    assert_eq!(s, 404);
}
