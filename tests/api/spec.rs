//! The OpenAPI document against the server: one schema name per type, answers that match their
//! documented schemas, and the rules every request body follows (destructive and bulk bodies
//! refuse unknown fields; every id a body names must be an object of the caller's organization),
//! checked by walking the document rather than a hand-kept list of routes.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::helpers::{Org, TestApp, spawn_app_with, unique};

async fn spec_of(app: &TestApp) -> Value {
    app.client.get(app.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap()
}

// ---------------------------------------------------------------------------------------------
// One name, one type.

/// Every `ToSchema` type of the server and the runtime with the name it registers under (its
/// `#[schema(as = …)]` or its own name): two types with one name would share one component, and
/// the document would describe one of them with the other's fields.
fn schema_names() -> BTreeMap<String, Vec<String>> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    walk(&root.join("src"), &mut files);
    walk(&root.join("actors/src"), &mut files);
    let mut names: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            let line = lines[i].trim();
            // A derive list, possibly over several lines, that names ToSchema.
            if line.starts_with("#[derive(") {
                let mut derive = line.to_owned();
                while !derive.contains(")]") && i + 1 < lines.len() {
                    i += 1;
                    derive.push_str(lines[i].trim());
                }
                if derive.split(|c: char| !c.is_alphanumeric() && c != '_').any(|w| w == "ToSchema") {
                    let mut renamed = None;
                    let mut j = i + 1;
                    while j < lines.len() {
                        let l = lines[j].trim();
                        if let Some(pos) = l.find("schema(as = ") {
                            let rest = &l[pos + "schema(as = ".len()..];
                            let name: String =
                                rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
                            renamed = Some(name.rsplit("::").next().unwrap_or_default().to_owned());
                        }
                        let item = l.trim_start_matches("pub(crate) ").trim_start_matches("pub ");
                        if let Some(rest) = item.strip_prefix("struct ").or_else(|| item.strip_prefix("enum ")) {
                            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                            let at = format!("{}:{}", file.strip_prefix(root).unwrap().display(), j + 1);
                            names.entry(renamed.unwrap_or(name)).or_default().push(at);
                            break;
                        }
                        if !(l.starts_with("#[") || l.starts_with("///") || l.starts_with("//") || l.is_empty()) {
                            break;
                        }
                        j += 1;
                    }
                }
            }
            i += 1;
        }
    }
    names
}

#[test]
fn every_schema_name_belongs_to_one_type() {
    let names = schema_names();
    assert!(names.len() > 100, "the scan found only {} schema types", names.len());
    assert!(names.contains_key("FailedBulkRequest") && names.contains_key("UserBulkRequest"));
    let shared: Vec<_> = names.iter().filter(|(_, at)| at.len() > 1).collect();
    assert!(
        shared.is_empty(),
        "schema names used by more than one type (rename one, or give it #[schema(as = …)]): {shared:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Answers match the document.

/// Checks `v` against an OpenAPI 3.1 schema (the subset the document uses); answers where it
/// does not match.
fn mismatch(spec: &Value, schema: &Value, v: &Value, at: &str) -> Option<String> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or_default();
        return mismatch(spec, &spec["components"]["schemas"][name], v, at);
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array)
        && let Some(m) = all.iter().find_map(|s| mismatch(spec, s, v, at))
    {
        return Some(m);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(any) = schema.get(key).and_then(Value::as_array)
            && !any.iter().any(|s| mismatch(spec, s, v, at).is_none())
        {
            return Some(format!("{at}: {v} matches none of {key}"));
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(v)
    {
        return Some(format!("{at}: {v} is not one of {options:?}"));
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let kind = match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let fits = types.is_empty() || types.contains(&kind) || (kind == "integer" && types.contains(&"number"));
    let nullable = schema.get("nullable") == Some(&Value::Bool(true));
    if !(fits || (kind == "null" && nullable)) {
        return Some(format!("{at}: {kind} {v} where the document says {types:?}"));
    }
    if let Value::Object(obj) = v {
        let props = schema.get("properties").and_then(Value::as_object);
        for req in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            let name = req.as_str().unwrap_or_default();
            if !obj.contains_key(name) {
                return Some(format!("{at}: required {name} is missing from {v}"));
            }
        }
        for (name, sub) in props.into_iter().flatten() {
            if let Some(value) = obj.get(name)
                && let Some(m) = mismatch(spec, sub, value, &format!("{at}.{name}"))
            {
                return Some(m);
            }
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (v, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            if let Some(m) = mismatch(spec, item_schema, item, &format!("{at}[{i}]")) {
                return Some(m);
            }
        }
    }
    None
}

/// Asserts that `body`, answered with `status` by `method path`, is what the document says.
fn assert_documented(spec: &Value, method: &str, path: &str, status: u16, body: &Value) {
    let op = &spec["paths"][path][method];
    assert!(op.is_object(), "{method} {path} is not in the document");
    let response = &op["responses"][status.to_string()];
    assert!(response.is_object(), "{method} {path} answered {status}, which the document does not list: {body}");
    let schema = &response["content"]["application/json"]["schema"];
    assert!(schema.is_object(), "{method} {path} {status} has no documented JSON body, but answered {body}");
    if let Some(m) = mismatch(spec, schema, body, "body") {
        panic!("{method} {path} {status} does not match its schema: {m}");
    }
}

#[actix_web::test]
async fn answers_match_their_documented_schemas() {
    let app = spawn_app_with(|_| {}).await;
    let spec = spec_of(&app).await;
    let org = app.register("Acme").await;
    let t = &org.token;
    let account = app.connect_account(&org).await;

    // The webhook's answer is `{"data": report}`.
    let hook = crate::helpers::text_webhook(&account.phone_number_id, "15550123", "Ann", "wamid.spec1", "hi");
    let (s, report) = app.post_webhook(&hook).await;
    assert_documented(&spec, "post", "/webhooks/whatsapp", s, &report);

    // A rule whose conditions carry a string and a list.
    let (_, team) = app.post("/api/v1/teams", t, json!({"name": "Billing"})).await;
    let rule = json!({
        "name": "Money", "teamId": team["data"]["id"], "matchType": "any",
        "conditions": [
            {"field": "message", "operator": "contains", "value": "refund"},
            {"field": "message", "operator": "in", "value": ["invoice", "bill"]}
        ]
    });
    let (s, created) = app.post("/api/v1/routing-rules", t, rule).await;
    assert_documented(&spec, "post", "/api/v1/routing-rules", s, &created);
    let (s, rules) = app.get("/api/v1/routing-rules", t).await;
    assert_documented(&spec, "get", "/api/v1/routing-rules", s, &rules);

    // A tool test whose call gets no answer: its body is null.
    let tool = json!({
        "name": "lookup", "description": "Looks an order up", "method": "GET",
        "url": "http://127.0.0.1:9/orders/{orderId}", "allowedHosts": ["127.0.0.1"],
        "parameters": [{"name": "orderId", "type": "string", "required": true}]
    });
    let (s, tool) = app.post("/api/v1/tools", t, tool).await;
    assert_eq!(s, 201, "{tool}");
    let id = tool["data"]["id"].as_str().unwrap();
    let (s, tested) = app.post(&format!("/api/v1/tools/{id}/test"), t, json!({"params": {"orderId": "7"}})).await;
    assert_eq!(tested["data"]["body"], Value::Null, "{tested}");
    assert_documented(&spec, "post", "/api/v1/tools/{id}/test", s, &tested);

    // The agent socket without a WebSocket handshake.
    let res = app.client.get(app.url("/api/v1/ws")).bearer_auth(t).send().await.unwrap();
    let s = res.status().as_u16();
    assert_eq!(res.headers()["content-type"], "application/json");
    let body: Value = res.json().await.unwrap();
    assert_documented(&spec, "get", "/api/v1/ws", s, &body);

    // Inboxes: created with a token shown once, listed by page, read with settings.
    let api_inbox = json!({"channel": "api", "name": "CRM", "webhookUrl": "https://crm.example/hooks"});
    let (s, created) = app.post("/api/v1/inboxes", t, api_inbox).await;
    assert_documented(&spec, "post", "/api/v1/inboxes", s, &created);
    let chat = json!({"channel": "livechat", "name": "Web", "widgetSettings": {"widgetColor": "#112233"},
        "workingHours": {"timezone": "UTC", "slots": [{"day": "MON", "start": "09:00", "end": "17:00"}]},
        "csatConfig": {"surveyRule": {"operator": "contains", "values": ["done"]}}});
    let (s, chat) = app.post("/api/v1/inboxes", t, chat).await;
    assert_documented(&spec, "post", "/api/v1/inboxes", s, &chat);
    let (s, inboxes) = app.get("/api/v1/inboxes", t).await;
    assert_documented(&spec, "get", "/api/v1/inboxes", s, &inboxes);
    let (s, one) = app.get(&format!("/api/v1/inboxes/{}", chat["data"]["id"].as_str().unwrap()), t).await;
    assert_documented(&spec, "get", "/api/v1/inboxes/{id}", s, &one);

    // The failed-message bulk actions, and the users' bulk action, each with its own body.
    let (s, bulk) = app.post("/api/v1/messages/failed/bulk-discard", t, json!({"all": true})).await;
    assert_documented(&spec, "post", "/api/v1/messages/failed/bulk-discard", s, &bulk);
    let body = &spec["paths"]["/api/v1/messages/failed/bulk-discard"]["post"]["requestBody"]["content"]["application/json"]
        ["schema"];
    assert_eq!(body["$ref"], "#/components/schemas/FailedBulkRequest");
    let props = &spec["components"]["schemas"]["FailedBulkRequest"]["properties"];
    assert!(props["messageIds"].is_object() && props["all"].is_object() && props["selection"].is_null(), "{props}");

    // The compatible surfaces answer in their own shapes, as documented.
    let (_, key) = app.post("/api/v1/api-keys", t, json!({"name": "compat"})).await;
    let key = key["data"]["key"].as_str().unwrap();
    let (_, accounts) = app.get("/api/v1/whatsapp-accounts", t).await;
    let inbox = accounts["data"][0]["inboxId"].as_str().unwrap();
    let send = json!({"inbox_id": inbox, "to": "+15550123", "type": "text", "content": {"text": "hello"}});
    let (s, sent) = app.post("/messages/whatsapp", key, send).await;
    assert_eq!(s, 200, "{sent}");
    assert_documented(&spec, "post", "/messages/whatsapp", s, &sent);
    let late = json!({"inbox_id": inbox, "to": "+15550999", "type": "text", "content": {"text": "hello"}});
    let (s, refused) = app.post("/messages/whatsapp", key, late).await;
    assert_documented(&spec, "post", "/messages/whatsapp", s, &refused);
    let id = sent["data"]["message_id"].as_str().unwrap();
    let (s, one) = app.get(&format!("/messages/{id}"), key).await;
    assert_documented(&spec, "get", "/messages/{id}", s, &one);
    let (_, convs) = app.get("/api/v1/conversations", t).await;
    let conv = convs["data"][0]["id"].as_str().unwrap().to_owned();
    let (s, page) = app.get(&format!("/messages?conversation_id={conv}&limit=1"), key).await;
    assert_documented(&spec, "get", "/messages", s, &page);
    let (s, bad) = app.get(&format!("/messages?conversation_id={conv}&limit=0"), key).await;
    assert_documented(&spec, "get", "/messages", s, &bad);
    let (s, list) = app.get("/api/v1/conversations?representation=chatbotx", t).await;
    assert_documented(&spec, "get", "/api/v1/conversations", s, &list);
    let (s, deleted) = app.post("/v1/backoffice/conversations-delete", key, json!({"conversation_ids": [conv]})).await;
    assert_documented(&spec, "post", "/v1/backoffice/conversations-delete", s, &deleted);
    let (s, gone) = app.get(&format!("/messages/{id}"), key).await;
    assert_documented(&spec, "get", "/messages/{id}", s, &gone);

    // The Chatwoot-style inboxes: bare objects, `{"payload": […]}`, `{"error": "…"}`.
    let base = format!("/api/v1/accounts/{}/inboxes", org.org_id);
    let list = "/api/v1/accounts/{account_id}/inboxes";
    let one = "/api/v1/accounts/{account_id}/inboxes/{id}";
    let widget = json!({"name": "Site", "channel": {"type": "web_widget", "widget_color": "#1f93ff"},
        "working_hours": [{"day_of_week": 1, "open_hour": 9, "open_minutes": 0, "close_hour": 17, "close_minutes": 0}],
        "csat_config": {"display_type": "emoji", "survey_rules": {"operator": "contains", "values": ["resolved"]}}});
    let (s, created) = app.post(&base, key, widget).await;
    assert_eq!(s, 200, "{created}");
    assert_documented(&spec, "post", list, s, &created);
    let (s, api) = app.post(&base, key, json!({"name": "App", "channel": {"type": "api"}})).await;
    assert_documented(&spec, "post", list, s, &api);
    let (s, refused) = app.post(&base, key, json!({"name": "Mail", "channel": {"type": "email"}})).await;
    assert_documented(&spec, "post", list, s, &refused);
    let (s, inboxes) = app.get(&base, key).await;
    assert_documented(&spec, "get", list, s, &inboxes);
    let (s, got) = app.get(&format!("{base}/{}", created["id"].as_str().unwrap()), key).await;
    assert_documented(&spec, "get", one, s, &got);
    let (s, missing) = app.get(&format!("{base}/{}", actors::new_id()), key).await;
    assert_documented(&spec, "get", one, s, &missing);
    let (s, health) = app.get(&format!("{base}/{inbox}/health"), key).await;
    assert_documented(&spec, "get", &format!("{one}/health"), s, &health);
    let (s, campaigns) = app.get(&format!("{base}/{inbox}/campaigns"), key).await;
    assert_documented(&spec, "get", &format!("{one}/campaigns"), s, &campaigns);
}

// ---------------------------------------------------------------------------------------------
// Walking the request bodies.

/// Resolves `$ref`s.
fn resolve<'a>(spec: &'a Value, mut s: &'a Value) -> &'a Value {
    while let Some(r) = s.get("$ref").and_then(Value::as_str) {
        s = &spec["components"]["schemas"][r.rsplit('/').next().unwrap_or_default()];
    }
    s
}

/// The properties of a (resolved) object schema, `allOf` parts included, and which are required.
fn properties(spec: &Value, s: &Value) -> (Map<String, Value>, BTreeSet<String>) {
    let s = resolve(spec, s);
    let mut props = Map::new();
    let mut required = BTreeSet::new();
    for part in s.get("allOf").and_then(Value::as_array).into_iter().flatten() {
        let (p, r) = properties(spec, part);
        props.extend(p);
        required.extend(r);
    }
    if let Some(p) = s.get("properties").and_then(Value::as_object) {
        props.extend(p.clone());
    }
    for r in s.get("required").and_then(Value::as_array).into_iter().flatten() {
        required.insert(r.as_str().unwrap_or_default().to_owned());
    }
    (props, required)
}

/// The JSON request body schema of an operation, if it has one.
fn json_body(op: &Value) -> Option<&Value> {
    op.get("requestBody")?.get("content")?.get("application/json")?.get("schema")
}

fn operations(spec: &Value) -> Vec<(String, String, Value)> {
    let mut ops = Vec::new();
    for (path, methods) in spec["paths"].as_object().unwrap() {
        for (method, op) in methods.as_object().unwrap() {
            ops.push((method.clone(), path.clone(), op.clone()));
        }
    }
    ops
}

async fn send(app: &TestApp, token: &str, method: &str, path: &str, body: &Value) -> (u16, Value) {
    let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
    let res = app.client.request(m, app.url(path)).bearer_auth(token).json(body).send().await.unwrap();
    crate::helpers::status_json(res).await
}

/// A path with every `{param}` replaced by a made-up id (the body is read before the path's
/// object is looked up, so a refused body never depends on it).
fn made_up_path(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').map_or(rest.len(), |e| start + e + 1);
        out.push_str(&actors::new_id());
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Routes whose bodies destroy or act on many objects: a misread field there does the most harm.
fn destructive_or_bulk(method: &str, path: &str) -> bool {
    method == "delete"
        || ["bulk", "reorder", "re-classify", "discard", "logout", "cleanup", "conversations-delete"]
            .iter()
            .any(|w| path.contains(w))
}

#[actix_web::test]
async fn destructive_and_bulk_bodies_refuse_unknown_fields() {
    let app = spawn_app_with(|c| c.dev_endpoints = Some(true)).await;
    let spec = spec_of(&app).await;
    let org = app.register("Acme").await;
    let mut checked = Vec::new();
    for (method, path, op) in operations(&spec) {
        if !destructive_or_bulk(&method, &path) || json_body(&op).is_none() {
            continue;
        }
        // The unknown field comes first, so it is what the body is refused for.
        let body: Value = serde_json::from_str(r#"{"unexpectedField": true}"#).unwrap();
        let (status, answer) = send(&app, &org.token, &method, &made_up_path(&path), &body).await;
        assert_eq!(
            (status, answer["error"]["details"]["field"].as_str()),
            (400, Some("unexpectedField")),
            "{method} {path} took an unknown field: {answer}"
        );
        checked.push(format!("{method} {path}"));
    }
    for must in [
        "post /api/v1/messages/failed/bulk-discard",
        "post /api/v1/messages/failed/bulk-retry",
        "post /api/v1/users/bulk",
        // The Cekat-style delete answers in its own envelope, with the same `error.details.field`.
        "post /v1/backoffice/conversations-delete",
    ] {
        assert!(checked.iter().any(|c| c == must), "{must} was not walked: {checked:?}");
    }
}

/// What the caller's organization holds, for filling ids in request bodies and paths.
struct World {
    ids: BTreeMap<&'static str, String>,
}

impl World {
    async fn build(app: &TestApp, org: &Org, llm: &crate::fake_llm::FakeLlm) -> World {
        let t = &org.token;
        let mut ids = BTreeMap::new();
        let id = |v: &Value| v["data"]["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_owned();
        let config = crate::bot::configure(app, org, llm).await;
        ids.insert("config", id(&config));
        let account = app.connect_account(org).await;
        ids.insert("account", account.id.clone());
        let wa = format!("3462{}", unique());
        let conversation = app.customer_says(org, &account, &wa, "hello").await;
        let message = app.messages(org, &conversation).await[0]["id"].as_str().unwrap().to_owned();
        ids.insert("conversation", conversation);
        ids.insert("message", message);
        let (_, team) = app.post("/api/v1/teams", t, json!({"name": format!("Team {}", unique())})).await;
        ids.insert("team", id(&team));
        let member = crate::users::add_member(app, org, "AGENT").await;
        ids.insert("user", member.id);
        let (_, tag) = app.post("/api/v1/tags", t, json!({"name": format!("tag{}", unique())})).await;
        ids.insert("tag", id(&tag));
        let tool = json!({"name": format!("tool{}", unique()), "description": "d", "method": "GET", "url": "https://example.com/x", "agentEnabled": true});
        let (_, tool) = app.post("/api/v1/tools", t, tool).await;
        ids.insert("tool", id(&tool));
        let preset =
            json!({"name": format!("p{}", unique()), "provider": "OPENAI", "model": "fake-chat", "baseUrl": llm.url});
        let (_, preset) = app.post("/api/v1/bot-config/presets", t, preset).await;
        ids.insert("preset", id(&preset));
        let intent = json!({"configId": ids["config"], "name": "greet", "examples": ["hi"], "action": "REPLY", "response": "Hello"});
        let (_, intent) = app.post("/api/v1/bot-config/intents", t, intent).await;
        ids.insert("intent", id(&intent));
        let rule = json!({"name": "r", "teamId": ids["team"], "conditions": [{"field": "message", "operator": "contains", "value": "x"}]});
        let (_, rule) = app.post("/api/v1/routing-rules", t, rule).await;
        ids.insert("rule", id(&rule));
        let draft = json!({"name": format!("t{}", unique()), "language": "en", "category": "UTILITY"});
        let (_, template) = app.post("/api/v1/templates/draft", t, draft).await;
        ids.insert("template", id(&template));
        let (_, inbox) = app.post("/api/v1/inboxes", t, json!({"channel": "livechat", "name": "Website"})).await;
        ids.insert("inbox", id(&inbox));
        ids.insert("org", org.org_id.clone());
        World { ids }
    }

    /// The object a field named `name` (`teamId`, `orderedIds`…) refers to.
    fn kind_of_field(name: &str) -> Option<&'static str> {
        if name == "assignedTo" {
            return Some("user");
        }
        let stem = name.trim_end_matches("Ids").trim_end_matches("Id").trim_end_matches('s');
        Some(match stem {
            "team" => "team",
            "user" => "user",
            "tag" => "tag",
            "tool" => "tool",
            "preset" => "preset",
            "config" | "botConfig" => "config",
            "conversation" => "conversation",
            "message" => "message",
            "account" => "account",
            "org" => "org",
            "ordered" => "rule", // routing-rules/reorder
            "template" => "template",
            // The Chatwoot-style `set_agent_bot` names a bot config.
            "agent_bot" => "config",
            _ => return None,
        })
    }

    /// The object a path parameter names: by the segment before it.
    fn kind_of_segment(segment: &str) -> Option<&'static str> {
        Some(match segment {
            "teams" => "team",
            "users" => "user",
            "tags" => "tag",
            "tools" => "tool",
            "presets" => "preset",
            "bot-config" => "config",
            "conversations" => "conversation",
            "messages" => "message",
            "routing-rules" => "rule",
            "intents" => "intent",
            "whatsapp-accounts" => "account",
            "templates" => "template",
            "inboxes" => "inbox",
            // The Chatwoot-style `/accounts/{account_id}`: the organization.
            "accounts" => "org",
            _ => return None,
        })
    }

    fn path(&self, path: &str) -> String {
        let segments: Vec<&str> = path.split('/').collect();
        let mut out = Vec::new();
        for (i, seg) in segments.iter().enumerate() {
            if seg.starts_with('{') {
                let kind = i.checked_sub(1).and_then(|p| World::kind_of_segment(segments[p]));
                let kind = kind.unwrap_or_else(|| panic!("no object to fill {seg} of {path} with"));
                out.push(self.ids[kind].clone());
            } else {
                out.push((*seg).to_owned());
            }
        }
        out.join("/")
    }
}

/// Fields whose ids are not objects of ours (Meta's ids for a number being connected, Meta's app;
/// an API channel's system's own id of its customer).
const NOT_OURS: &[&str] = &["phoneNumberId", "wabaId", "appId", "sourceId"];

/// Fields named like ours that hold someone else's ids on one route: (path, field).
const NOT_OURS_AT: &[(&str, &str)] = &[
    ("/api/v1/whatsapp-accounts/meta-config", "configId"),
    // The API channel's system names its own message (idempotency), not one of ours.
    ("/api/v1/api-channel/messages", "messageId"),
];

/// Fields of the snake_case compatible surfaces that hold the id of another object.
const COMPAT_ID_FIELDS: &[&str] = &["agent_bot"];

/// Fields that hold the id of another object: `…Id`, `…Ids`, `assignedTo` (a user), and the
/// compatible surfaces' own.
fn is_id_field(name: &str) -> bool {
    (name.ends_with("Id") || name.ends_with("Ids") || name == "assignedTo" || COMPAT_ID_FIELDS.contains(&name))
        && !NOT_OURS.contains(&name)
}

/// The field a 400 names: `error.details.field` (native and Cekat shapes), or the Chatwoot
/// shape's `{"error": "<field>: <why>"}`.
fn field_named(answer: &Value) -> String {
    match &answer["error"] {
        Value::String(sentence) => sentence.split_once(": ").map(|(f, _)| f.to_owned()).unwrap_or_default(),
        error => error["details"]["field"].as_str().unwrap_or_default().to_owned(),
    }
}

/// A value for a field that fits its schema; ids are real objects of the caller's organization.
fn sample(spec: &Value, world: &World, name: &str, schema: &Value) -> Value {
    let s = resolve(spec, schema);
    if is_id_field(name) {
        let kind = World::kind_of_field(name).unwrap_or_else(|| panic!("no object for the id field {name}"));
        let id = Value::String(world.ids[kind].clone());
        return if name.ends_with("Ids") { json!([id]) } else { id };
    }
    if let Some(first) = s.get("enum").and_then(Value::as_array).and_then(|e| e.first()) {
        return first.clone();
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(first) =
            s.get(key).and_then(Value::as_array).and_then(|o| o.iter().find(|o| o.get("type") != Some(&json!("null"))))
        {
            return sample(spec, world, name, first);
        }
    }
    let types: Vec<&str> = match s.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).filter(|t| *t != "null").collect(),
        _ => vec!["object"],
    };
    match types.first().copied().unwrap_or("object") {
        "string" if s.get("format").and_then(Value::as_str) == Some("email") || name.contains("email") => {
            json!(format!("walk{}@example.com", unique()))
        }
        "string" => json!(format!("{name}-{}", unique())),
        "integer" | "number" => json!(s.get("minimum").and_then(Value::as_i64).unwrap_or(1)),
        "boolean" => json!(false),
        "array" => json!([sample(spec, world, name, s.get("items").unwrap_or(&json!({})))]),
        _ => {
            let (props, required) = properties(spec, s);
            let mut obj = Map::new();
            for r in &required {
                obj.insert(r.clone(), sample(spec, world, r, props.get(r).unwrap_or(&json!({}))));
            }
            Value::Object(obj)
        }
    }
}

/// Every id field of a body schema, as a path (`teamId`, `invitations[0].teamId`) with the
/// body to send: the required fields filled, that field set to `wrong`.
fn id_cases(spec: &Value, world: &World, schema: &Value, wrong: &str) -> Vec<(String, Value)> {
    let (props, required) = properties(spec, schema);
    let base = sample(spec, world, "", schema);
    let mut cases = Vec::new();
    for (name, sub) in &props {
        let sub_r = resolve(spec, sub);
        if is_id_field(name) {
            let mut body = base.clone();
            body[name] = if name.ends_with("Ids") { json!([wrong]) } else { json!(wrong) };
            cases.push((name.clone(), body));
        } else if let Some(items) = sub_r.get("items").filter(|i| !properties(spec, i).0.is_empty()) {
            // A list of objects with ids of their own (bulk invitations).
            for (inner, item) in id_cases(spec, world, items, wrong) {
                let mut body = base.clone();
                body[name] = json!([item]);
                cases.push((format!("{name}[0].{inner}"), body));
            }
        } else if !properties(spec, sub_r).0.is_empty() && required.contains(name) {
            for (inner, nested) in id_cases(spec, world, sub_r, wrong) {
                let mut body = base.clone();
                body[name] = nested;
                cases.push((format!("{name}.{inner}"), body));
            }
        }
    }
    cases
}

#[actix_web::test]
async fn every_id_in_a_request_body_must_name_an_object_of_the_callers_organization() {
    let app = spawn_app_with(|c| {
        c.dev_endpoints = Some(true);
        c.llm_private_hosts = vec!["127.0.0.1".into()];
    })
    .await;
    let llm = crate::fake_llm::FakeLlm::start();
    let spec = spec_of(&app).await;
    // `other` holds the objects that must be refused; `org` calls (as SUPER_ADMIN, so the
    // platform routes are walked too).
    let other = app.register("Other").await;
    let other_world = World::build(&app, &other, &llm).await;
    let org = app.register("Acme").await;
    let world = World::build(&app, &org, &llm).await;
    app.make_super_admin(&org.user_id).await;
    let mut walked = Vec::new();
    let mut failures = Vec::new();
    for (method, path, op) in operations(&spec) {
        let Some(schema) = json_body(&op) else { continue };
        if !path.starts_with("/api/v1/") {
            continue;
        }
        for (field, _) in id_cases(&spec, &world, schema, "x") {
            if NOT_OURS_AT.contains(&(path.as_str(), field.as_str())) {
                continue;
            }
            let kind = World::kind_of_field(field.rsplit('.').next().unwrap_or(&field)).unwrap();
            // Once with an id that names nothing, once with the other organization's object.
            for wrong in [actors::new_id(), other_world.ids[kind].clone()] {
                if kind == "org" && wrong == other_world.ids["org"] {
                    continue; // a SUPER_ADMIN may name any organization
                }
                let mut body =
                    id_cases(&spec, &world, schema, &wrong).into_iter().find(|(f, _)| *f == field).unwrap().1;
                let (props, _) = properties(&spec, schema);
                // The document marks few fields required that a handler needs (`name`, `email`…):
                // a field the server asks for is filled in, and the request sent again.
                let (status, answer) = loop {
                    let (status, answer) = send(&app, &org.token, &method, &world.path(&path), &body).await;
                    let named = field_named(&answer);
                    match props.get(&named) {
                        Some(p) if status == 400 && named != field && body.get(&named).is_none() => {
                            body[&named] = sample(&spec, &world, &named, p);
                        }
                        _ => break (status, answer),
                    }
                };
                let named = field_named(&answer);
                if status != 400 || named != field {
                    failures.push(format!("{method} {path} {field}={wrong}: {status} {answer} (sent {body})"));
                }
            }
            walked.push(format!("{method} {path} {field}"));
        }
    }
    assert!(walked.len() >= 25, "only {} id fields walked: {walked:?}", walked.len());
    assert!(walked.iter().any(|w| w.contains("/api/v1/bot-config presetId")), "{walked:?}");
    assert!(walked.iter().any(|w| w.ends_with("/set_agent_bot agent_bot")), "{walked:?}");
    assert!(
        failures.is_empty(),
        "{} of {} accepted an id that is not the caller's:\n{}",
        failures.len(),
        walked.len(),
        failures.join("\n")
    );
}
