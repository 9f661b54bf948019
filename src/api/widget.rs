//! The live-chat widget's API (`docs/widget-protocol.md`): the loader and iframe page, the
//! visitor's REST calls and its WebSocket. Public (the website token names the inbox), then
//! authenticated by the visitor token (`X-Visitor-Token`, or `?visitorToken=` where a header
//! cannot be set).

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, get, post, web};
use actix_web_actors::ws;
use futures_util::future::LocalBoxFuture;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::Data;
use super::multipart::{self, Limits};
use crate::channels::livechat::messages::{self, MAX_FILE, Upload, Written};
use crate::channels::livechat::socket::{MAX_FRAME, VisitorSession};
use crate::channels::livechat::view::WidgetMessage;
use crate::channels::livechat::visitors::{self, SessionInput, WidgetConfig, WidgetSession};
use crate::channels::livechat::{self as livechat, Visitor};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(loader)
        .service(page)
        .service(config)
        .service(session)
        .service(history)
        .service(send)
        .service(send_file)
        .service(typing)
        .service(offline)
        .service(csat)
        .service(agent_avatar)
        .service(media)
        .service(socket);
}

fn origin(req: &HttpRequest) -> Option<String> {
    req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

fn host(req: &HttpRequest) -> String {
    req.connection_info().host().to_owned()
}

/// The caller's address for rate limits: the connection's peer (headers can be forged).
fn ip(req: &HttpRequest) -> String {
    req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default()
}

/// The visitor a request's token names, from an allowed origin.
pub struct VisitorAuth(pub Visitor);

impl FromRequest for VisitorAuth {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req.app_data::<web::Data<AppState>>().cloned().ok_or(ApiError::Internal("no state".into()))?;
            let token = req
                .headers()
                .get("X-Visitor-Token")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .or_else(|| visitor_token_in_query(&req))
                .ok_or_else(|| ApiError::Unauthorized("the X-Visitor-Token header is required".into()))?;
            let visitor = visitors::visitor_of(&state, &token).await?;
            visitor.inbox.check_origin(origin(&req).as_deref(), &host(&req))?;
            Ok(VisitorAuth(visitor))
        })
    }
}

fn visitor_token_in_query(req: &HttpRequest) -> Option<String> {
    web::Query::<TokenQuery>::from_query(req.query_string()).ok().and_then(|q| q.into_inner().visitor_token)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
struct TokenQuery {
    /// The visitor token, where a header cannot be set (an `<img>`, a WebSocket).
    visitor_token: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
struct WebsiteQuery {
    /// The inbox's public website token (from the script tag).
    website_token: String,
}

/// The widget loader script for the business's page.
#[utoipa::path(tag = "widget", responses((status = 200, description = "text/javascript", content_type = "text/javascript"), (status = 404, body = ErrorBody)))]
#[get("/widget.js")]
async fn loader(req: HttpRequest) -> ApiResult<HttpResponse> {
    crate::web_ui::widget_file(&req, "widget.js").ok_or(ApiError::NotFound("widget loader"))
}

/// The widget's iframe app, embeddable only by the inbox's allowed origins (`frame-ancestors`).
#[utoipa::path(tag = "widget", params(WebsiteQuery), responses((status = 200, description = "text/html", content_type = "text/html"), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/widget")]
async fn page(state: web::Data<AppState>, req: HttpRequest, q: web::Query<WebsiteQuery>) -> ApiResult<HttpResponse> {
    let inbox = visitors::by_website_token(&state, &q.website_token).await?;
    let csp = format!("frame-ancestors {}", inbox.frame_ancestors());
    let mut res = match crate::web_ui::widget_file(&req, "widget.html") {
        Some(res) => res,
        None => actix_web::ResponseError::error_response(&ApiError::NotFound("widget page (not built)")),
    };
    if let Ok(v) = header::HeaderValue::from_str(&csp) {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    Ok(res)
}

/// What the widget shows before the visitor writes.
#[utoipa::path(tag = "widget", params(WebsiteQuery), responses((status = 200, body = Data<WidgetConfig>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/widget/config")]
async fn config(state: web::Data<AppState>, req: HttpRequest, q: web::Query<WebsiteQuery>) -> ApiResult<HttpResponse> {
    let c = visitors::config(&state, &q.website_token, origin(&req).as_deref(), &host(&req)).await?;
    Ok(HttpResponse::Ok().json(Data::new(c)))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionRequest {
    website_token: String,
    /// The token of an earlier session in this browser: continues that visitor.
    visitor_token: Option<String>,
    /// The site's id of its signed-in user.
    identifier: Option<String>,
    /// Lower-case hex HMAC-SHA256 of `identifier` with the inbox's identity secret.
    identifier_hash: Option<String>,
    name: Option<String>,
    email: Option<String>,
}

/// Start or continue a visitor's session.
#[utoipa::path(tag = "widget", request_body = SessionRequest, responses((status = 200, body = Data<WidgetSession>), (status = 400, body = ErrorBody), (status = 401, description = "`identity_verification_failed`: the inbox enforces identity and the hash is missing or wrong", body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[post("/widget/sessions")]
async fn session(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<SessionRequest>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let input = SessionInput {
        website_token: b.website_token,
        visitor_token: b.visitor_token,
        identifier: b.identifier,
        identifier_hash: b.identifier_hash,
        name: b.name,
        email: b.email,
    };
    let s = visitors::start(&state, input, origin(&req).as_deref(), &host(&req)).await?;
    Ok(HttpResponse::Ok().json(Data::new(s)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct HistoryQuery {
    /// A message id: the page just older than it.
    before: Option<String>,
    /// Default 50, at most 100.
    limit: Option<u64>,
}

#[derive(serde::Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WidgetHistory {
    /// Oldest first.
    data: Vec<WidgetMessage>,
    has_more: bool,
}

/// The visitor's conversation, a page at a time.
#[utoipa::path(tag = "widget", params(HistoryQuery, ("X-Visitor-Token" = String, Header)), responses((status = 200, body = WidgetHistory), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/widget/messages")]
async fn history(state: web::Data<AppState>, v: VisitorAuth, q: web::Query<HistoryQuery>) -> ApiResult<HttpResponse> {
    let (data, has_more) = messages::history(&state, &v.0, q.before.as_deref(), q.limit).await?;
    Ok(HttpResponse::Ok().json(WidgetHistory { data, has_more }))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WidgetSend {
    /// The widget's own id of the message: the same id again answers the same message.
    client_id: String,
    /// At most 4096 characters.
    text: String,
}

fn written(w: Written) -> HttpResponse {
    let mut res = if w.created { HttpResponse::Created() } else { HttpResponse::Ok() };
    res.json(Data::new(w.message))
}

/// Write a message (201; the same clientId again: 200 with the same message).
#[utoipa::path(tag = "widget", request_body = WidgetSend, params(("X-Visitor-Token" = String, Header)), responses((status = 201, body = Data<WidgetMessage>), (status = 200, body = Data<WidgetMessage>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 429, body = ErrorBody)))]
#[post("/widget/messages")]
async fn send(
    state: web::Data<AppState>,
    req: HttpRequest,
    v: VisitorAuth,
    body: web::Json<WidgetSend>,
) -> ApiResult<HttpResponse> {
    Ok(written(messages::send_text(&state, &v.0, &ip(&req), &body.client_id, &body.text).await?))
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct WidgetUpload {
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    client_id: String,
    caption: Option<String>,
}

/// Upload a file as a message (multipart `file`, `clientId`, optional `caption`).
#[utoipa::path(tag = "widget", request_body(content = WidgetUpload, content_type = "multipart/form-data"), params(("X-Visitor-Token" = String, Header)), responses((status = 201, body = Data<WidgetMessage>), (status = 200, body = Data<WidgetMessage>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 413, body = ErrorBody), (status = 429, body = ErrorBody)))]
#[post("/widget/messages/media")]
async fn send_file(
    state: web::Data<AppState>,
    req: HttpRequest,
    v: VisitorAuth,
    form: actix_multipart::Multipart,
) -> ApiResult<HttpResponse> {
    let mut form = multipart::read(form, Limits::files(&["file"], MAX_FILE)).await?;
    let file = form.file("file")?;
    let upload = Upload {
        bytes: file.bytes,
        mime: file.mime,
        filename: file.filename,
        client_id: form.field("clientId").unwrap_or_default().to_owned(),
        caption: form.field("caption").map(str::to_owned),
    };
    Ok(written(messages::send_file(&state, &v.0, &ip(&req), upload).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WidgetTyping {
    typing: bool,
}

/// The visitor is typing (or stopped): shown on the agents' sockets.
#[utoipa::path(tag = "widget", request_body = WidgetTyping, params(("X-Visitor-Token" = String, Header)), responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
#[post("/widget/typing")]
async fn typing(state: web::Data<AppState>, v: VisitorAuth, body: web::Json<WidgetTyping>) -> ApiResult<HttpResponse> {
    messages::typing(&state, &v.0, body.typing).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WidgetOffline {
    email: String,
    text: String,
}

/// Outside working hours: leave an email and a message.
#[utoipa::path(tag = "widget", request_body = WidgetOffline, params(("X-Visitor-Token" = String, Header)), responses((status = 201, body = Data<WidgetMessage>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
#[post("/widget/offline")]
async fn offline(
    state: web::Data<AppState>,
    req: HttpRequest,
    v: VisitorAuth,
    body: web::Json<WidgetOffline>,
) -> ApiResult<HttpResponse> {
    let w = messages::offline(&state, &v.0, &ip(&req), &body.email, &body.text).await?;
    Ok(HttpResponse::Created().json(Data::new(w.message)))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WidgetCsat {
    /// The survey message (`type: csat`) being answered.
    message_id: String,
    /// 1 (very poor) to 5 (excellent).
    rating: i32,
    /// At most 2,000 characters.
    comment: Option<String>,
}

/// The visitor rates their conversation from its satisfaction survey.
#[utoipa::path(tag = "widget", request_body = WidgetCsat, params(("X-Visitor-Token" = String, Header)), responses((status = 200, body = Data<actors::conversation::csat::RatingView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, description = "No survey of this visitor's", body = ErrorBody)))]
#[post("/widget/csat")]
async fn csat(state: web::Data<AppState>, v: VisitorAuth, body: web::Json<WidgetCsat>) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let rating = messages::rate(&state, &v.0, &b.message_id, b.rating, b.comment).await?;
    Ok(HttpResponse::Ok().json(Data::new(rating)))
}

/// The picture of an agent of the inbox's organization, shown beside their answers.
#[utoipa::path(tag = "widget", params(("inboxId" = String, Path), ("userId" = String, Path)), responses((status = 200, description = "the image"), (status = 404, body = ErrorBody)))]
#[get("/widget/inboxes/{inboxId}/agents/{userId}/avatar")]
async fn agent_avatar(state: web::Data<AppState>, path: web::Path<(String, String)>) -> ApiResult<HttpResponse> {
    let (inbox_id, user_id) = path.into_inner();
    let (bytes, mime) = visitors::agent_avatar(&state, &inbox_id, &user_id).await?;
    Ok(HttpResponse::Ok()
        .content_type(mime)
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(bytes))
}

/// The file of a message in the visitor's own conversation.
#[utoipa::path(tag = "widget", params(("messageId" = String, Path), TokenQuery), responses((status = 200, description = "the file"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/widget/media/{messageId}")]
async fn media(state: web::Data<AppState>, v: VisitorAuth, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let (bytes, mime, name) = messages::file(&state, &v.0, &path).await?;
    let mut res = HttpResponse::Ok();
    res.content_type(mime).insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if let Some(n) = name {
        let safe: String = n.chars().filter(|c| c.is_ascii_graphic() && *c != '"' || *c == ' ').collect();
        res.insert_header((header::CONTENT_DISPOSITION, format!("inline; filename=\"{safe}\"")));
    }
    Ok(res.body(bytes))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
struct SocketQuery {
    visitor_token: String,
    /// The last seq of the conversation the visitor saw: every later frame comes first, once.
    since: Option<i64>,
}

/// The visitor's live stream (`ready`, `message`, `message.updated`, `typing`, `conversation`).
#[utoipa::path(tag = "widget", params(SocketQuery), responses((status = 101, description = "Switching to the WebSocket protocol"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/widget/ws")]
async fn socket(
    state: web::Data<AppState>,
    req: HttpRequest,
    stream: web::Payload,
    q: web::Query<SocketQuery>,
) -> Result<HttpResponse, actix_web::Error> {
    let visitor = visitors::visitor_of(&state, &q.visitor_token).await.map_err(ApiError::from)?;
    visitor.inbox.check_origin(origin(&req).as_deref(), &host(&req)).map_err(ApiError::from)?;
    let conversation = livechat::socket::conversation_at(&state, &visitor).await.map_err(ApiError::from)?;
    let visitor_session = VisitorSession::new(state.clone(), &visitor, conversation, q.since);
    ws::WsResponseBuilder::new(visitor_session, &req, stream).frame_size(MAX_FRAME).start().map_err(|e| {
        ApiError::BadRequest(format!("this endpoint speaks WebSocket only ({e}): connect with Upgrade: websocket"))
            .into()
    })
}
