//! CONVERSATIONS-1: the list. Takes the native filters (status, assignedTo incl. `me` and
//! `unassigned`, search, subFilter, sort) and the filter words of the other list clients
//! (botCategory, assignedId, channel incl. `webchat`, inboxId, status flags, keyword, botEnabled, tags, perPage), repeated
//! or comma-separated. Cursors are keyset positions, so pages stay stable while messages arrive.

use actix_web::{HttpResponse, get, web};
use actors::store::conversation_list::{self, Assigned, Key, ListFilter, Sort};
use actors::store::conversations::Page;
use actors::views::ConversationView;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use entities::enums::{Channel, ConversationStatus};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::views;
use crate::api::compat::chatbotx::{self, ChatbotxConversation};
use crate::api::pagination::{self, CursorPage};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The query words, for the OpenAPI document (the handler reads them repeated or comma-separated).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
#[allow(non_snake_case)]
pub struct ListParams {
    /// Statuses (BOT_HANDLING, HUMAN_HANDLING, OPEN, WAITING_FOR_CUSTOMER, CLOSED) and/or flags
    /// (noAdminReply, unread, followUp, archived, blocked); repeated or comma-separated.
    status: Option<String>,
    /// A user id, `me`, or `unassigned` (alias: `assignedId`).
    assignedTo: Option<String>,
    /// Contact name, phone, WhatsApp id or message text (alias: `keyword`).
    search: Option<String>,
    /// `unread` or `needs_action`.
    subFilter: Option<String>,
    /// newest (default), oldest, waiting_longest, created_newest, created_oldest.
    sort: Option<String>,
    /// bot, human or all.
    botCategory: Option<String>,
    /// true: bot-handled only; false: the others.
    botEnabled: Option<bool>,
    /// Inbox channel: whatsapp, livechat (alias webchat) or api; omnichannel for all. A channel
    /// not served matches nothing.
    channel: Option<String>,
    /// Inbox ids; repeated or comma-separated.
    inboxId: Option<String>,
    /// Conversation category.
    category: Option<String>,
    /// Only conversations routed to this team.
    teamId: Option<String>,
    /// Tag ids (or the status flags); repeated or comma-separated.
    tags: Option<String>,
    cursor: Option<String>,
    /// Page size, default 50, at most 100 (alias: `perPage`).
    limit: Option<u64>,
    /// The items' shape: `native` (default) or `chatbotx` (the ChatbotX conversation, with
    /// `contact`, `contactInboxes`, `assignedUser`, `assignedInboxTeam` and the newest message).
    /// The envelope, filters and cursors are the same.
    representation: Option<String>,
}

/// The list's answer: native items, or ChatbotX items with `?representation=chatbotx`.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum ConversationListAnswer {
    Native(CursorPage<ConversationView>),
    Chatbotx(CursorPage<ChatbotxConversation>),
}

fn values<'a>(pairs: &'a [(String, String)], names: &[&str]) -> Vec<&'a str> {
    pairs
        .iter()
        .filter(|(k, _)| names.contains(&k.trim_end_matches("[]")))
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect()
}

fn one<'a>(pairs: &'a [(String, String)], names: &[&str]) -> Option<&'a str> {
    values(pairs, names).into_iter().next_back()
}

/// Applies a status-or-flag word; `false` if it is neither.
fn status_word(filter: &mut ListFilter, word: &str) -> bool {
    if let Some(s) = ConversationStatus::parse(word) {
        filter.statuses.push(s);
        return true;
    }
    match word {
        "noAdminReply" => filter.needs_action = true,
        "unread" => filter.unread = true,
        "followUp" => filter.follow_up = true,
        "archived" => filter.statuses.push(ConversationStatus::Closed),
        // Blocking contacts does not exist yet, so no conversation is with a blocked one.
        "blocked" => filter.nothing = true,
        _ => return false,
    }
    true
}

/// Builds the filter, sort and page size from the query pairs.
pub fn parse(caller: &Caller, pairs: &[(String, String)]) -> ApiResult<(ListFilter, Sort, u64)> {
    let mut f = ListFilter::default();
    for w in values(pairs, &["status"]) {
        if !status_word(&mut f, w) {
            return Err(ApiError::validation("status", format!("unknown status {w:?}")));
        }
    }
    for w in values(pairs, &["tags"]) {
        if !status_word(&mut f, w) {
            f.tag_ids.push(w.to_owned());
        }
    }
    f.assigned = match one(pairs, &["assignedTo", "assignedId"]) {
        None => Assigned::Anyone,
        Some("unassigned" | "null") => Assigned::Unassigned,
        Some("me") => Assigned::User(caller.user_id.clone().unwrap_or_default()),
        Some(id) => Assigned::User(id.to_owned()),
    };
    f.search = one(pairs, &["search", "keyword"]).map(str::to_owned);
    f.team_id = one(pairs, &["teamId"]).map(str::to_owned);
    match one(pairs, &["subFilter"]) {
        None | Some("all") => {}
        Some("unread") => f.unread = true,
        Some("needs_action") => f.needs_action = true,
        Some(other) => {
            return Err(ApiError::validation(
                "subFilter",
                format!("subFilter must be unread or needs_action, not {other:?}"),
            ));
        }
    }
    match one(pairs, &["botCategory"]) {
        None | Some("all") => {}
        Some("bot") => f.bot = Some(true),
        Some("human") => f.bot = Some(false),
        Some(other) => {
            return Err(ApiError::validation(
                "botCategory",
                format!("botCategory must be bot, human or all, not {other:?}"),
            ));
        }
    }
    match one(pairs, &["botEnabled"]) {
        None | Some("null") => {}
        Some("true") => f.bot = Some(true),
        Some("false") => f.bot = Some(false),
        Some(other) => {
            return Err(ApiError::validation("botEnabled", format!("botEnabled must be true or false, not {other:?}")));
        }
    }
    match one(pairs, &["channel"]) {
        None | Some("omnichannel") => {}
        // ChatbotX calls the live-chat widget `webchat`.
        Some("webchat") => f.channel = Some(Channel::Livechat.as_str().to_owned()),
        Some(ch) => f.channel = Some(ch.to_owned()),
    }
    f.inbox_ids = values(pairs, &["inboxId"]).into_iter().map(str::to_owned).collect();
    f.category = one(pairs, &["category"]).map(str::to_owned);
    let sort = match one(pairs, &["sort"]) {
        None => Sort::default(),
        Some(s) => Sort::parse(s).ok_or_else(|| {
            ApiError::validation(
                "sort",
                "sort must be newest, oldest, waiting_longest, created_newest or created_oldest",
            )
        })?,
    };
    let limit = match one(pairs, &["limit", "perPage"]) {
        None => None,
        Some(n) => {
            Some(n.parse::<u64>().map_err(|_| ApiError::validation("limit", "limit must be a positive integer"))?)
        }
    };
    Ok((f, sort, pagination::limit(limit)?))
}

fn encode_cursor(sort: Sort, page: Page, key: &Key) -> String {
    let dir = if page == Page::Before { 'b' } else { 'a' };
    let at = key.at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)).unwrap_or_else(|| "-".into());
    URL_SAFE_NO_PAD.encode(format!("c2|{}|{dir}|{at}|{}", sort.as_str(), key.id))
}

fn decode_cursor(sort: Sort, cursor: &str) -> ApiResult<(Page, Key)> {
    let bad = || ApiError::validation("cursor", "the cursor is not one this list returned");
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?).map_err(|_| bad())?;
    let parts: Vec<&str> = raw.splitn(5, '|').collect();
    let [version, s, dir, at, id] = parts.as_slice() else { return Err(bad()) };
    if *version != "c2" || id.is_empty() {
        return Err(bad());
    }
    if *s != sort.as_str() {
        return Err(ApiError::validation("cursor", "the cursor belongs to another sort order"));
    }
    let page = match *dir {
        "b" => Page::Before,
        "a" => Page::After,
        _ => return Err(bad()),
    };
    let at = match *at {
        "-" => None,
        t => Some(DateTime::parse_from_rfc3339(t).map_err(|_| bad())?.with_timezone(&Utc)),
    };
    Ok((page, Key { at, id: (*id).to_owned() }))
}

/// List conversations with filters and sort orders, by cursor.
#[utoipa::path(
    tag = "conversations",
    security(("bearer" = [])),
    params(ListParams),
    responses((status = 200, description = "`nextCursor` continues in the sort order, `prevCursor` goes back; ChatbotX items with `representation=chatbotx`", body = ConversationListAnswer), (status = 400, body = crate::error::ErrorBody))
)]
#[get("/conversations")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<Vec<(String, String)>>,
) -> ApiResult<HttpResponse> {
    let pairs = q.into_inner();
    let (filter, sort, limit) = parse(&caller, &pairs)?;
    let chatbotx = match one(&pairs, &["representation"]) {
        None | Some("native") => false,
        Some("chatbotx") => true,
        Some(other) => {
            return Err(ApiError::validation(
                "representation",
                format!("representation must be native or chatbotx, not {other:?}"),
            ));
        }
    };
    let from = match one(&pairs, &["cursor"]) {
        Some(c) => Some(decode_cursor(sort, c)?),
        None => None,
    };
    let going_back = matches!(from, Some((Page::After, _)));
    let mut rows = conversation_list::list(state.db(), &caller.org_id, &filter, sort, from.clone(), limit + 1).await?;
    let w = pagination::window(&mut rows, limit, from.as_ref().map(|(p, _)| *p), going_back);
    let next_cursor = rows.last().filter(|_| w.next).map(|c| encode_cursor(sort, Page::Before, &sort.key_of(c)));
    let prev_cursor = rows.first().filter(|_| w.prev).map(|c| encode_cursor(sort, Page::After, &sort.key_of(c)));
    if chatbotx {
        let related = crate::conversations::related::of(state.db(), &caller.org_id, &rows).await?;
        let data = chatbotx::items(&rows, &related);
        let page = CursorPage { data, next_cursor, prev_cursor };
        return Ok(HttpResponse::Ok().json(ConversationListAnswer::Chatbotx(page)));
    }
    let data = views(&state, &caller.org_id, &rows).await?;
    Ok(HttpResponse::Ok().json(ConversationListAnswer::Native(CursorPage { data, next_cursor, prev_cursor })))
}
