//! Helpers for people and routing tests: agents made straight in the database (with a token
//! the server issues), bot switched off so new conversations queue for humans, and waiting.

use std::time::Duration;

use entities::enums::Role;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;

use crate::helpers::{Org, TestApp, unique};

/// An agent of an organization and their access token.
#[derive(Clone, Debug)]
pub struct Agent {
    pub user_id: String,
    pub token: String,
}

/// Adds an AGENT to `org` (OFFLINE, no password) and issues them an access token.
pub async fn add_agent(app: &TestApp, org: &Org, name: &str) -> Agent {
    let now = chrono::Utc::now();
    let id = actors::new_id();
    entities::user::ActiveModel {
        id: Set(id.clone()),
        org_id: Set(org.org_id.clone()),
        email: Set(format!("agent{}@example.com", unique())),
        name: Set(name.into()),
        password_hash: Set(None),
        role: Set(Role::Agent),
        status: Set(entities::enums::Presence::Offline),
        created_at: Set(now),
        updated_at: Set(now),
        deleted_at: Set(None),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    let token = app.state.jwt.issue(&id, &org.org_id, Role::Agent).unwrap();
    Agent { user_id: id, token }
}

/// Switches the organization's bot off: new conversations wait (OPEN) for a human.
pub async fn bot_off(app: &TestApp, org: &Org) {
    entities::organization::Entity::update_many()
        .col_expr(entities::organization::Column::BotEnabled, Expr::value(false))
        .filter(entities::organization::Column::Id.eq(org.org_id.clone()))
        .exec(&app.db)
        .await
        .unwrap();
}

/// A team with these members and per-agent capacity, made through the API; returns its id.
pub async fn team_with(app: &TestApp, org: &Org, name: &str, members: &[&Agent], capacity: Option<i32>) -> String {
    let (s, team) =
        app.post("/api/v1/teams", &org.token, serde_json::json!({"name": name, "maxOpenPerAgent": capacity})).await;
    assert_eq!(s, 201, "{team}");
    let id = team["data"]["id"].as_str().unwrap().to_owned();
    for m in members {
        let (s, b) = app
            .post(&format!("/api/v1/teams/{id}/members"), &org.token, serde_json::json!({"userId": m.user_id}))
            .await;
        assert_eq!(s, 201, "{b}");
    }
    id
}

/// A conversation as the API shows it.
pub async fn conversation(app: &TestApp, org: &Org, id: &str) -> Value {
    let (s, b) = app.get(&format!("/api/v1/conversations/{id}"), &org.token).await;
    assert_eq!(s, 200, "{b}");
    b["data"].clone()
}

/// Polls `check` until it holds or `wait` passes; returns whether it held.
pub async fn eventually<F, Fut>(wait: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Open conversations assigned to each of `agents`, in the same order.
pub async fn loads(app: &TestApp, org: &Org, agents: &[&Agent]) -> Vec<usize> {
    let (_, list) = app.get("/api/v1/conversations?limit=200", &org.token).await;
    let rows = list["data"].as_array().cloned().unwrap_or_default();
    agents
        .iter()
        .map(|a| rows.iter().filter(|c| c["assignedTo"] == a.user_id.as_str() && c["status"] != "CLOSED").count())
        .collect()
}
