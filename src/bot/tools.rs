//! Bot tools: HTTP calls into a customer's systems. The URL, headers and body are templates
//! filled from the arguments (`{name}`, URL-encoded in the URL); the secret is decrypted only for
//! the call. Every call is guarded against server-side request forgery: the host is resolved
//! once, every address must be public (no loopback, private, link-local, CGNAT, multicast or
//! unspecified ranges, including 169.254.169.254) unless the admin allowed that host on the tool,
//! the connection goes to the checked address, and redirects are not followed.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use entities::bot_tool;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::crypto::SecretBox;
use crate::domain::{Error, find_in_org};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

/// A parameter of a tool.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Param {
    pub name: String,
    /// `string`, `number`, `integer` or `boolean`.
    #[serde(default = "string_type", rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub required: bool,
}

fn string_type() -> String {
    "string".into()
}

pub fn params_of(t: &bot_tool::Model) -> Vec<Param> {
    serde_json::from_str(&t.parameters).unwrap_or_default()
}

/// What a call returned.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ToolResult {
    pub ok: bool,
    pub status: Option<u16>,
    /// The response body: JSON when it parses, else its text, cut at 8 KB; `null` when the call
    /// got no answer (refused, timed out).
    #[schema(value_type = Option<serde_json::Value>)]
    pub body: Value,
    pub error: Option<String>,
    pub duration_ms: u64,
    /// The URL called (query included, secret never).
    pub url: String,
}

/// Checks the arguments against the parameters: required ones present, types right.
pub fn check_arguments(params: &[Param], args: &Map<String, Value>) -> Result<(), String> {
    for p in params {
        match args.get(&p.name) {
            None | Some(Value::Null) if p.required => return Err(format!("{} is required", p.name)),
            None | Some(Value::Null) => {}
            Some(v) => {
                let ok = match p.kind.as_str() {
                    "number" => v.is_number() || v.as_str().is_some_and(|s| s.parse::<f64>().is_ok()),
                    "integer" => v.is_i64() || v.as_str().is_some_and(|s| s.parse::<i64>().is_ok()),
                    "boolean" => v.is_boolean(),
                    _ => v.is_string() || v.is_number(),
                };
                if !ok {
                    return Err(format!("{} must be a {}", p.name, p.kind));
                }
            }
        }
    }
    Ok(())
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Where a template is used, which decides how values are written into it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fill {
    /// Percent-encoded (the secret as configured).
    Url,
    /// Escaped as the inside of a JSON string, so a value cannot add fields to the body.
    Json,
    /// As is (a header value; reqwest refuses line breaks).
    Header,
}

/// Fills `{name}` placeholders from `args` and `{secret}` from the secret, in one pass over the
/// template: a value is never read as a template itself, so an argument that says `{secret}`
/// stays that text. Unknown placeholders are left as they are.
pub fn fill(template: &str, args: &Map<String, Value>, secret: Option<&str>, mode: Fill) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let name_len = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
        let name = &after[..name_len];
        let value = if !after[name_len..].starts_with('}') || name.is_empty() {
            None
        } else if name == "secret" {
            secret.map(|s| match mode {
                Fill::Json => json_escape(s),
                Fill::Url | Fill::Header => s.to_owned(),
            })
        } else {
            args.get(name).map(|v| {
                let text = as_text(v);
                match mode {
                    Fill::Url => urlencode(&text),
                    Fill::Json => json_escape(&text),
                    Fill::Header => text,
                }
            })
        };
        match value {
            Some(v) => {
                out.push_str(&v);
                rest = &after[name_len + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `s` as the inside of a JSON string literal.
fn json_escape(s: &str) -> String {
    let quoted = Value::String(s.to_owned()).to_string();
    quoted[1..quoted.len() - 1].to_owned()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Whether an address is one a customer-configured URL may not reach.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 198 && (o[1] == 18 || o[1] == 19))
                || o[0] >= 240
        }
        IpAddr::V6(v6) => {
            if v6.is_loopback() || v6.is_unspecified() {
                return true;
            }
            // Mapped (::ffff:a.b.c.d) and compatible (::a.b.c.d) forms reach the IPv4 address.
            if let Some(v4) = v6.to_ipv4() {
                return is_private(IpAddr::V4(v4));
            }
            let s = v6.segments();
            let embedded = |hi: u16, lo: u16| {
                is_private(IpAddr::V4(std::net::Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo))))
            };
            v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xffc0) == 0xfec0
                // NAT64 (64:ff9b::/96), IPv4-translated (::ffff:0:0/96) and 6to4 (2002::/16)
                // carry an IPv4 address inside.
                || (s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] && embedded(s[6], s[7]))
                || (s[..5] == [0, 0, 0, 0, 0xffff] && s[5] == 0 && embedded(s[6], s[7]))
                || (s[0] == 0x2002 && embedded(s[1], s[2]))
        }
    }
}

/// Why a target is refused.
#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error("the URL is not a valid http(s) URL")]
    BadUrl,
    #[error("{0} could not be resolved")]
    Unresolved(String),
    #[error(
        "{host} resolves to {ip}, a private, loopback or link-local address; allow the host on the tool to call it"
    )]
    Private { host: String, ip: IpAddr },
}

/// Resolves the URL's host and checks every address; answers the address to connect to.
pub async fn guard(url: &reqwest::Url, allowed_hosts: &[String]) -> Result<(String, SocketAddr), GuardError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(GuardError::BadUrl);
    }
    let host = url.host_str().ok_or(GuardError::BadUrl)?.trim_start_matches('[').trim_end_matches(']').to_owned();
    let port = url.port_or_known_default().ok_or(GuardError::BadUrl)?;
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|_| GuardError::Unresolved(host.clone()))?
            .collect(),
    };
    let first = *addrs.first().ok_or_else(|| GuardError::Unresolved(host.clone()))?;
    let allowed = allowed_hosts.iter().any(|h| h.eq_ignore_ascii_case(&host));
    if !allowed && let Some(bad) = addrs.iter().find(|a| is_private(a.ip())) {
        return Err(GuardError::Private { host, ip: bad.ip() });
    }
    Ok((host, first))
}

/// A DNS resolver for clients that reach customer-configured hosts over a shared client (the
/// model providers): the addresses are checked at the moment the connection is made, so a name
/// that resolved to a public address for [`guard`] cannot switch to a private one for the call.
/// Hosts in `allowed` (the operator's list) may resolve anywhere. IP literals do not pass through
/// a resolver: [`guard`] checks those, and such a client must not follow redirects.
pub struct GuardedResolver {
    allowed: std::sync::Arc<Vec<String>>,
}

impl GuardedResolver {
    pub fn new(allowed: Vec<String>) -> GuardedResolver {
        GuardedResolver { allowed: std::sync::Arc::new(allowed) }
    }
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allowed = self.allowed.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let open = allowed.iter().any(|h| h.eq_ignore_ascii_case(&host));
            if !open && let Some(bad) = addrs.iter().find(|a| is_private(a.ip())) {
                let refused = GuardError::Private { host, ip: bad.ip() };
                return Err(Box::new(refused) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Calls the tool with `args`. Never fails: a refused target, a timeout or an error status is a
/// result with `ok: false` and the reason, for the model (or the agent) to read.
pub async fn call(secrets: &SecretBox, tool: &bot_tool::Model, args: &Map<String, Value>) -> ToolResult {
    let started = Instant::now();
    let secret = tool.secret.as_deref().and_then(|s| secrets.decrypt(s).ok());
    let url_text = fill(&tool.url, args, None, Fill::Url);
    let failed = |error: String, url: &str| ToolResult {
        ok: false,
        status: None,
        body: Value::Null,
        error: Some(error),
        duration_ms: started.elapsed().as_millis() as u64,
        url: url.to_owned(),
    };
    if let Err(e) = check_arguments(&params_of(tool), args) {
        return failed(e, &url_text);
    }
    let Ok(url) = reqwest::Url::parse(&fill(&tool.url, args, secret.as_deref(), Fill::Url)) else {
        return failed("the tool's URL is not valid once filled".into(), &url_text);
    };
    let allowed: Vec<String> = serde_json::from_str(&tool.allowed_hosts).unwrap_or_default();
    let (host, addr) = match guard(&url, &allowed).await {
        Ok(target) => target,
        Err(e) => return failed(e.to_string(), &url_text),
    };
    let timeout = Duration::from_millis(u64::try_from(tool.timeout_ms.clamp(100, 30_000)).unwrap_or(10_000));
    let client = match reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .resolve(&host, addr)
        .user_agent(concat!("cx-inbox-tools/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(c) => c,
        Err(e) => return failed(e.to_string(), &url_text),
    };
    let method = reqwest::Method::from_bytes(tool.method.to_uppercase().as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut req = client.request(method.clone(), url);
    let headers: Map<String, Value> = serde_json::from_str(&tool.headers).unwrap_or_default();
    for (name, value) in &headers {
        req = req.header(name.as_str(), fill(&as_text(value), args, secret.as_deref(), Fill::Header));
    }
    if let Some(s) = &secret
        && !headers.keys().any(|h| h.eq_ignore_ascii_case("authorization"))
        && !tool.url.contains("{secret}")
    {
        req = req.bearer_auth(s);
    }
    if method != reqwest::Method::GET && method != reqwest::Method::DELETE {
        let body = match &tool.body_template {
            Some(t) => fill(t, args, secret.as_deref(), Fill::Json),
            None => Value::Object(args.clone()).to_string(),
        };
        req = req.header("content-type", "application/json").body(body);
    }
    match req.send().await {
        Ok(mut resp) => {
            let status = resp.status();
            // At most 8 KB is read: a huge answer cannot exhaust memory.
            let mut bytes = Vec::new();
            while bytes.len() < 8 * 1024 {
                match resp.chunk().await {
                    Ok(Some(c)) => bytes.extend_from_slice(&c),
                    _ => break,
                }
            }
            let cut = &bytes[..bytes.len().min(8 * 1024)];
            let body =
                serde_json::from_slice(cut).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(cut).into()));
            ToolResult {
                ok: status.is_success(),
                status: Some(status.as_u16()),
                body,
                error: (!status.is_success()).then(|| format!("the tool answered {status}")),
                duration_ms: started.elapsed().as_millis() as u64,
                url: url_text,
            }
        }
        Err(e) if e.is_timeout() => failed(format!("no answer within {} ms", timeout.as_millis()), &url_text),
        // Without the URL: it may carry the secret, and this text reaches the model and the timeline.
        Err(e) => failed(format!("the call failed: {}", crate::bot::provider::reason(&e.without_url())), &url_text),
    }
}

// ---- the organization's tools, as admins manage them and agents run them ----

/// A tool's fields as a client gives them; `None` keeps (or defaults) one; `Some(None)` clears
/// the body template or the secret.
#[derive(Default)]
pub struct Fields {
    pub name: Option<String>,
    pub description: Option<String>,
    pub method: Option<String>,
    pub url: Option<String>,
    pub headers: Option<Map<String, Value>>,
    pub parameters: Option<Vec<Param>>,
    pub body_template: Option<Option<String>>,
    pub timeout_ms: Option<i32>,
    pub allowed_hosts: Option<Vec<String>>,
    /// Stored encrypted; `Some(None)` or an empty one removes it.
    pub secret: Option<Option<String>>,
    pub is_active: Option<bool>,
    pub agent_enabled: Option<bool>,
}

/// Checks a tool as it would be stored, including its target, and that its name is free.
async fn check(db: &DatabaseConnection, t: &bot_tool::Model) -> crate::domain::Result<()> {
    check_fields(t)?;
    let dup = bot_tool::Entity::find()
        .filter(bot_tool::Column::OrgId.eq(t.org_id.clone()))
        .filter(bot_tool::Column::Name.eq(t.name.clone()))
        .filter(bot_tool::Column::Id.ne(t.id.clone()))
        .one(db)
        .await?;
    if dup.is_some() {
        return Err(Error::Conflict(format!("a tool named {:?} already exists", t.name)));
    }
    Ok(())
}

/// Checks a tool's own fields (the API and imports): name, method, timeout, parameters, and a
/// target that is not a literal private address or localhost unless allowed.
pub fn check_fields(t: &bot_tool::Model) -> crate::domain::Result<()> {
    let name_ok = !t.name.is_empty()
        && t.name.len() <= 64
        && t.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !name_ok {
        return Err(Error::invalid("name", "name is 1-64 characters of a-z, 0-9 and _"));
    }
    if t.description.trim().is_empty() || t.description.chars().count() > 1000 {
        return Err(Error::invalid("description", "description is required (it tells the model what the tool does)"));
    }
    if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&t.method.as_str()) {
        return Err(Error::invalid("method", "method must be GET, POST, PUT, PATCH or DELETE"));
    }
    if !(100..=30_000).contains(&t.timeout_ms) {
        return Err(Error::invalid("timeoutMs", "timeoutMs must be between 100 and 30000"));
    }
    let params = params_of(t);
    for (i, p) in params.iter().enumerate() {
        if p.name.is_empty() || !p.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(Error::invalid(format!("parameters[{i}].name"), "parameter names are letters, digits and _"));
        }
        if !["string", "number", "integer", "boolean"].contains(&p.kind.as_str()) {
            return Err(Error::invalid(format!("parameters[{i}].type"), "type is string, number, integer or boolean"));
        }
    }
    let url = reqwest::Url::parse(&t.url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .ok_or_else(|| Error::invalid("url", "url must be an absolute http(s) URL"))?;
    let allowed: Vec<String> = serde_json::from_str(&t.allowed_hosts).unwrap_or_default();
    let host = url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_lowercase();
    let literal = host.parse::<std::net::IpAddr>().ok();
    let private = literal.is_some_and(is_private) || host == "localhost" || host.ends_with(".localhost");
    if private && !allowed.iter().any(|h| h.eq_ignore_ascii_case(&host)) {
        return Err(Error::invalid(
            "url",
            format!("{host} is a private, loopback or link-local address; add it to allowedHosts to call it anyway"),
        ));
    }
    Ok(())
}

fn apply(secrets: &SecretBox, t: &mut bot_tool::Model, b: Fields) {
    if let Some(v) = b.name {
        t.name = v.trim().to_owned();
    }
    if let Some(v) = b.description {
        t.description = v.trim().to_owned();
    }
    if let Some(v) = b.method {
        t.method = v.trim().to_uppercase();
    }
    if let Some(v) = b.url {
        t.url = v.trim().to_owned();
    }
    if let Some(v) = b.headers {
        t.headers = Value::Object(v).to_string();
    }
    if let Some(v) = b.parameters {
        t.parameters = serde_json::to_string(&v).unwrap_or_else(|_| "[]".into());
    }
    if let Some(v) = b.body_template {
        t.body_template = v;
    }
    if let Some(v) = b.timeout_ms {
        t.timeout_ms = v;
    }
    if let Some(v) = b.allowed_hosts {
        let hosts: Vec<String> = v.iter().map(|h| h.trim().to_lowercase()).filter(|h| !h.is_empty()).collect();
        t.allowed_hosts = serde_json::to_string(&hosts).unwrap_or_else(|_| "[]".into());
    }
    match b.secret {
        None => {}
        Some(None) => t.secret = None,
        Some(Some(s)) if s.trim().is_empty() => t.secret = None,
        Some(Some(s)) => t.secret = Some(secrets.encrypt(s.trim())),
    }
    if let Some(v) = b.is_active {
        t.is_active = v;
    }
    if let Some(v) = b.agent_enabled {
        t.agent_enabled = v;
    }
}

/// The organization's tools by name; only those agents may run when `for_agents`.
pub async fn list(
    db: &DatabaseConnection,
    org_id: &str,
    for_agents: bool,
) -> crate::domain::Result<Vec<bot_tool::Model>> {
    let mut q = bot_tool::Entity::find().filter(bot_tool::Column::OrgId.eq(org_id));
    if for_agents {
        q = q.filter(bot_tool::Column::IsActive.eq(true)).filter(bot_tool::Column::AgentEnabled.eq(true));
    }
    Ok(q.order_by_asc(bot_tool::Column::Name).all(db).await?)
}

/// Creates a tool (GET, 10 s, active, not for agents unless given).
pub async fn create(
    db: &DatabaseConnection,
    secrets: &SecretBox,
    org_id: &str,
    f: Fields,
) -> crate::domain::Result<bot_tool::Model> {
    let now = chrono::Utc::now();
    let mut t = bot_tool::Model {
        id: actors::new_id(),
        org_id: org_id.to_owned(),
        name: String::new(),
        description: String::new(),
        method: "GET".into(),
        url: String::new(),
        headers: "{}".into(),
        parameters: "[]".into(),
        body_template: None,
        timeout_ms: 10_000,
        allowed_hosts: "[]".into(),
        secret: None,
        is_active: true,
        agent_enabled: false,
        created_at: now,
        updated_at: now,
    };
    apply(secrets, &mut t, f);
    check(db, &t).await?;
    Ok(bot_tool::ActiveModel::from(t).insert(db).await?)
}

/// Changes a tool.
pub async fn update(
    db: &DatabaseConnection,
    secrets: &SecretBox,
    org_id: &str,
    id: &str,
    f: Fields,
) -> crate::domain::Result<bot_tool::Model> {
    let mut t = find_in_org::<bot_tool::Entity>(db, org_id, id).await?;
    apply(secrets, &mut t, f);
    t.updated_at = chrono::Utc::now();
    check(db, &t).await?;
    Ok(bot_tool::ActiveModel::from(t).reset_all().update(db).await?)
}

/// Deletes a tool.
pub async fn delete(db: &DatabaseConnection, org_id: &str, id: &str) -> crate::domain::Result<()> {
    let t = find_in_org::<bot_tool::Entity>(db, org_id, id).await?;
    bot_tool::Entity::delete_by_id(t.id).exec(db).await?;
    Ok(())
}

/// The tool `toolId` names, if agents may run it.
pub async fn for_agent(
    db: &DatabaseConnection,
    org_id: &str,
    id: Option<&str>,
) -> crate::domain::Result<bot_tool::Model> {
    let id = id.ok_or_else(|| Error::invalid("toolId", "toolId is required"))?;
    let t = find_in_org::<bot_tool::Entity>(db, org_id, id).await.map_err(|e| match e {
        Error::NotFound(_) => Error::invalid("toolId", "toolId names no tool of this organization"),
        other => other,
    })?;
    if !t.is_active || !t.agent_enabled {
        return Err(Error::invalid(
            "toolId",
            "toolId names a tool that agents cannot run (inactive or not for agents)",
        ));
    }
    Ok(t)
}

/// Runs a tool for an agent (`who`, or an API key) with `params`; with a conversation, the run
/// is noted on its timeline by its actor.
pub async fn run_for_agent(
    state: &crate::state::AppState,
    tool: &bot_tool::Model,
    params: &Map<String, Value>,
    who: Option<&str>,
    conversation: Option<&entities::conversation::Model>,
) -> crate::domain::Result<ToolResult> {
    check_arguments(&params_of(tool), params).map_err(|e| Error::invalid("params", e))?;
    let result = call(&state.secrets, tool, params).await;
    if let Some(conv) = conversation {
        let who = match who {
            Some(id) => entities::user::Entity::find_by_id(id.to_owned())
                .one(state.db())
                .await?
                .map_or_else(|| "An agent".to_owned(), |u| u.name),
            None => "An API key".into(),
        };
        let outcome = if result.ok {
            "succeeded".to_owned()
        } else {
            format!("failed: {}", result.error.clone().unwrap_or_default())
        };
        let note = format!("{who} ran the tool {}: {outcome}", tool.name);
        let msg = actors::conversation::Note { org_id: conv.org_id.clone(), note };
        state.rt.ask_conversation(&conv.org_id, &conv.id, msg).await?;
    }
    Ok(result)
}

/// A tool's parameters as the model reads them from the conversation (for the agent to check),
/// and the required ones it does not tell. Uses the active config's model.
pub async fn extract_params(
    state: &crate::state::AppState,
    org_id: &str,
    tool: &bot_tool::Model,
    conversation_id: &str,
) -> crate::domain::Result<(Map<String, Value>, Vec<String>)> {
    let c = super::engine::require_config(state.db(), org_id).await?;
    let endpoint = super::config::endpoint(state.db(), &state.secrets, &c).await?;
    let transcript = super::engine::transcript(state.db(), conversation_id, 30, ("user", "assistant")).await?;
    let params = params_of(tool);
    let prompt = format!(
        "Extract the parameters of the tool {} ({}) from the conversation. Parameters: {}. \
         Answer with one JSON object {{\"params\": {{name: value}}}}; leave out what the conversation does not say.\n\nConversation:\n{transcript}",
        tool.name,
        tool.description,
        serde_json::to_string(&params)?,
    );
    let object = state.bot.ask_json(org_id, &endpoint, prompt, 0.0, 400).await?;
    let found = object.get("params").and_then(Value::as_object).cloned().unwrap_or(object);
    let known: Map<String, Value> =
        found.into_iter().filter(|(k, v)| !v.is_null() && params.iter().any(|p| &p.name == k)).collect();
    let missing =
        params.iter().filter(|p| p.required && !known.contains_key(&p.name)).map(|p| p.name.clone()).collect();
    Ok((known, missing))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_private_link_local_and_metadata_addresses_are_private() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.5",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::10.0.0.1",
            "fec0::1",
            "64:ff9b::a9fe:a9fe",
            "::ffff:0:7f00:1",
            "2002:7f00:1::",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "64:ff9b::808:808", "2002:808:808::"] {
            assert!(!is_private(ip.parse().unwrap()), "{ip}");
        }
    }

    #[actix_web::test]
    async fn the_resolver_refuses_a_name_on_a_private_address_unless_the_operator_allows_it() {
        use reqwest::dns::Resolve;
        let name = |h: &str| h.parse::<reqwest::dns::Name>().unwrap();
        let Err(e) = GuardedResolver::new(vec![]).resolve(name("localhost")).await else {
            panic!("localhost resolved for a guarded client");
        };
        assert!(e.to_string().contains("localhost resolves to"), "{e}");
        let addrs: Vec<_> =
            GuardedResolver::new(vec!["LOCALHOST".into()]).resolve(name("localhost")).await.unwrap().collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()) && !addrs.is_empty());

        // And a client built on it cannot reach a loopback server by name.
        let client =
            reqwest::Client::builder().dns_resolver(std::sync::Arc::new(GuardedResolver::new(vec![]))).build().unwrap();
        let err = client.get("http://localhost:9/").send().await.unwrap_err();
        let mut source: Option<&dyn std::error::Error> = Some(&err);
        let mut chain = vec![];
        while let Some(e) = source {
            chain.push(e.to_string());
            source = e.source();
        }
        assert!(chain.iter().any(|m| m.contains("localhost resolves to")), "{chain:?}");
    }

    #[test]
    fn url_values_are_encoded_and_other_templates_are_not() {
        let args = serde_json::json!({"q": "a b&c", "id": 7}).as_object().cloned().unwrap();
        assert_eq!(fill("https://x/{id}?q={q}", &args, None, Fill::Url), "https://x/7?q=a%20b%26c");
        assert_eq!(fill("{\"q\": \"{q}\"}", &args, None, Fill::Json), "{\"q\": \"a b&c\"}");
    }

    #[test]
    fn an_argument_cannot_pull_in_the_secret_or_add_fields_to_the_body() {
        let args = serde_json::json!({"q": "{secret}", "n": "x\",\"admin\":true,\"y\":\"", "id": 7})
            .as_object()
            .cloned()
            .unwrap();
        let body = fill(
            "{\"q\": \"{q}\", \"n\": \"{n}\", \"key\": \"{secret}\", \"id\": {id}}",
            &args,
            Some("s\"3"),
            Fill::Json,
        );
        let parsed: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!({"q": "{secret}", "n": "x\",\"admin\":true,\"y\":\"", "key": "s\"3", "id": 7})
        );
        assert_eq!(fill("Bearer {secret} {q}", &args, Some("tok"), Fill::Header), "Bearer tok {secret}");
        assert_eq!(fill("https://x/{q}?k={secret}", &args, Some("tok"), Fill::Url), "https://x/%7Bsecret%7D?k=tok");
        // Unknown, empty or unclosed placeholders stay as written; text around them is kept.
        assert_eq!(fill("{a}{}{ {id", &args, None, Fill::Header), "{a}{}{ {id");
        assert_eq!(fill("é{id}ü", &args, None, Fill::Header), "é7ü");
    }
}
