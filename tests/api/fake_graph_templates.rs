//! The fake Graph API's template side, playing Meta's part: submissions land PENDING (or
//! APPROVED when told), names are unique per account and language, lists are paged with
//! cursors, edits send a template back to review, deletes remove it, and the resumable upload
//! hands out file handles.

use actix_web::{HttpRequest, HttpResponse};
use serde_json::{Value, json};

use super::helpers::GraphRequest;

/// Meta's copy of the templates, per business account.
#[derive(Default)]
pub struct TemplateFake {
    /// (waba id, template JSON as Meta lists it).
    pub stored: Vec<(String, Value)>,
    pub next_id: u64,
    /// New submissions are APPROVED at once instead of PENDING.
    pub approve_at_once: bool,
    /// Templates per list page (Meta's `limit`, when smaller).
    pub page_size: Option<usize>,
    pub uploads: u64,
    /// What Meta charges per template message in its analytics.
    pub cost_per_message: f64,
}

fn graph_error(status: u16, code: u64, message: &str) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
        .json(json!({"error": {"message": message, "type": "OAuthException", "code": code, "error_user_msg": message}}))
}

fn query(req: &HttpRequest, key: &str) -> Option<String> {
    let q = actix_web::web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string()).ok()?;
    q.get(key).cloned()
}

/// Answers the request if it is a template call.
pub fn handle(
    req: &HttpRequest,
    r: &GraphRequest,
    f: &mut TemplateFake,
    seen: &[GraphRequest],
    refused: &std::collections::HashMap<String, (u64, String)>,
) -> Option<HttpResponse> {
    let parts: Vec<&str> = r.path.trim_start_matches('/').split('/').collect();
    let rate = if f.cost_per_message > 0.0 { f.cost_per_message } else { 0.05 };
    let sends_of = |name: Option<&str>| {
        seen.iter()
            .filter(|q| q.method == "POST" && q.path.ends_with("/messages") && q.body["type"] == "template")
            .filter(|q| !refused.contains_key(q.body["to"].as_str().unwrap_or_default()))
            .filter(|q| name.is_none_or(|n| q.body["template"]["name"] == n))
            .count() as u64
    };
    // /{version}/{waba}?fields=pricing_analytics…: the account's spend.
    if parts.len() == 2 && r.method == "GET" && query(req, "fields").is_some_and(|f| f.starts_with("pricing_analytics"))
    {
        let n = sends_of(None);
        return Some(HttpResponse::Ok().json(json!({"id": parts[1], "pricing_analytics": {"data": [{"data_points": [
            {"start": 0, "end": 1, "volume": n, "cost": n as f64 * rate}
        ]}]}})));
    }
    // /{version}/{waba}/template_analytics: sends and spend per template.
    if parts.len() == 3 && parts[2] == "template_analytics" && r.method == "GET" {
        let ids: Vec<String> =
            query(req, "template_ids").and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
        let points: Vec<Value> = ids
            .iter()
            .map(|id| {
                let name = f.stored.iter().find(|(_, t)| t["id"] == id.as_str()).and_then(|(_, t)| t["name"].as_str().map(str::to_owned));
                let n = name.as_deref().map_or(0, |n| sends_of(Some(n)));
                json!({"template_id": id, "start": 0, "end": 1, "sent": n, "cost": [{"type": "amount_spent", "value": n as f64 * rate}]})
            })
            .collect();
        return Some(HttpResponse::Ok().json(json!({"data": [{"granularity": "DAILY", "data_points": points}]})));
    }
    // /{version}/{waba}/message_templates
    if parts.len() == 3 && parts[2] == "message_templates" {
        let waba = parts[1].to_owned();
        return Some(match r.method.as_str() {
            "POST" => {
                let b = &r.body;
                let (name, language) =
                    (b["name"].as_str().unwrap_or_default(), b["language"].as_str().unwrap_or_default());
                if f.stored.iter().any(|(w, t)| *w == waba && t["name"] == name && t["language"] == language) {
                    return Some(graph_error(
                        400,
                        100,
                        "Message template already exists: there is already English (US) content for this template",
                    ));
                }
                f.next_id += 1;
                let id = format!("{}", 9_000_000 + f.next_id);
                let status = if f.approve_at_once { "APPROVED" } else { "PENDING" };
                let t = json!({
                    "id": id, "name": name, "language": language, "status": status,
                    "category": b["category"], "components": b["components"],
                    "parameter_format": b.get("parameter_format").cloned().unwrap_or(json!("POSITIONAL")),
                });
                f.stored.push((waba, t));
                HttpResponse::Ok().json(json!({"id": id, "status": status, "category": b["category"]}))
            }
            "GET" => {
                let limit = query(req, "limit").and_then(|l| l.parse().ok()).unwrap_or(25usize);
                let limit = f.page_size.map_or(limit, |p| p.min(limit));
                let start = query(req, "after")
                    .and_then(|a| a.strip_prefix("C").and_then(|n| n.parse().ok()))
                    .unwrap_or(0usize);
                let all: Vec<&Value> = f.stored.iter().filter(|(w, _)| *w == waba).map(|(_, t)| t).collect();
                let page: Vec<&Value> = all.iter().skip(start).take(limit).copied().collect();
                let end = start + page.len();
                let mut paging = json!({"cursors": {"before": format!("C{start}"), "after": format!("C{end}")}});
                if end < all.len() {
                    paging["next"] = json!(format!("https://graph.test/{waba}/message_templates?after=C{end}"));
                }
                HttpResponse::Ok().json(json!({"data": page, "paging": paging}))
            }
            "DELETE" => {
                let name = query(req, "name").unwrap_or_default();
                let id = query(req, "hsm_id");
                let before = f.stored.len();
                f.stored.retain(|(w, t)| {
                    !(*w == waba && t["name"] == name.as_str() && id.as_deref().is_none_or(|i| t["id"] == i))
                });
                if f.stored.len() == before {
                    graph_error(400, 100, "Template not found")
                } else {
                    HttpResponse::Ok().json(json!({"success": true}))
                }
            }
            _ => graph_error(400, 100, "Unsupported request"),
        });
    }
    // /{version}/{app}/uploads, then /{version}/upload:{n}
    if parts.len() == 3 && parts[2] == "uploads" && r.method == "POST" {
        f.uploads += 1;
        return Some(HttpResponse::Ok().json(json!({"id": format!("upload:{}", f.uploads)})));
    }
    if parts.len() == 2 && parts[1].starts_with("upload:") && r.method == "POST" {
        if !r.authorization.as_deref().is_some_and(|a| a.starts_with("OAuth ")) {
            return Some(graph_error(400, 190, "upload needs an OAuth authorization header"));
        }
        return Some(
            HttpResponse::Ok().json(json!({"h": format!("4::aW1hZ2U{}", parts[1].trim_start_matches("upload:"))})),
        );
    }
    // /{version}/{template id}: an edit
    if parts.len() == 2 && r.method == "POST" {
        let id = parts[1];
        if let Some((_, t)) = f.stored.iter_mut().find(|(_, t)| t["id"] == id) {
            if let Some(c) = r.body.get("components") {
                t["components"] = c.clone();
            }
            if let Some(c) = r.body.get("category") {
                t["category"] = c.clone();
            }
            t["status"] = json!("PENDING");
            return Some(HttpResponse::Ok().json(json!({"success": true})));
        }
    }
    None
}
