//! The conversation list: filters, five sort orders, and keyset cursors. A cursor holds the
//! position of the last row seen in the sort (its sort value and id), so the next page starts
//! right after it however many conversations moved to the top in the meantime: a page never
//! repeats or skips a conversation that did not itself move.

use chrono::{DateTime, Utc};
use entities::enums::ConversationStatus;
use entities::{contact, conversation, inbox, message};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};

use super::conversations::Page;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Sort {
    /// Latest activity first.
    #[default]
    Newest,
    /// Least recent activity first.
    Oldest,
    /// The customer who wrote longest ago first.
    WaitingLongest,
    CreatedNewest,
    CreatedOldest,
}

impl Sort {
    pub fn parse(s: &str) -> Option<Sort> {
        Some(match s {
            "newest" => Sort::Newest,
            "oldest" => Sort::Oldest,
            "waiting_longest" => Sort::WaitingLongest,
            "created_newest" => Sort::CreatedNewest,
            "created_oldest" => Sort::CreatedOldest,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Newest => "newest",
            Sort::Oldest => "oldest",
            Sort::WaitingLongest => "waiting_longest",
            Sort::CreatedNewest => "created_newest",
            Sort::CreatedOldest => "created_oldest",
        }
    }

    /// The time column sorted on (id breaks ties); `None` when the id alone orders.
    fn column(self) -> Option<conversation::Column> {
        match self {
            Sort::Newest | Sort::Oldest => Some(conversation::Column::LastMessageAt),
            Sort::WaitingLongest => Some(conversation::Column::LastInboundAt),
            Sort::CreatedNewest | Sort::CreatedOldest => None,
        }
    }

    fn descending(self) -> bool {
        matches!(self, Sort::Newest | Sort::CreatedNewest)
    }

    /// The row's position in this sort.
    pub fn key_of(self, c: &conversation::Model) -> Key {
        let at = match self {
            Sort::Newest | Sort::Oldest => c.last_message_at,
            Sort::WaitingLongest => c.last_inbound_at,
            Sort::CreatedNewest | Sort::CreatedOldest => None,
        };
        Key { at, id: c.id.clone() }
    }
}

/// Whose conversations.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Assigned {
    #[default]
    Anyone,
    Unassigned,
    User(String),
}

/// Everything the list can be narrowed by; all conditions hold together.
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    /// Any of these statuses; all when empty.
    pub statuses: Vec<ConversationStatus>,
    pub assigned: Assigned,
    /// Contact name, phone or WhatsApp id, or any message text, contains this (any case).
    pub search: Option<String>,
    pub unread: bool,
    /// Open or with a human, and the customer wrote last.
    pub needs_action: bool,
    pub follow_up: bool,
    pub category: Option<String>,
    /// `Some(true)`: only conversations the bot handles; `Some(false)`: only the others.
    pub bot: Option<bool>,
    /// Inbox channel (`whatsapp`, `livechat`, `api`); another word matches nothing.
    pub channel: Option<String>,
    /// In any of these inboxes; all when empty.
    pub inbox_ids: Vec<String>,
    /// Tagged with any of these.
    pub tag_ids: Vec<String>,
    /// Routed to this team.
    pub team_id: Option<String>,
    /// A condition nothing can meet (a filter on something that does not exist yet).
    pub nothing: bool,
}

/// A position in a sort order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    pub at: Option<DateTime<Utc>>,
    pub id: String,
}

/// The organization's conversations that pass `filter` (the list and its counts share it).
pub fn select(org_id: &str, filter: &ListFilter) -> Select<conversation::Entity> {
    let mut q = conversation::Entity::find().filter(conversation::Column::OrgId.eq(org_id));
    if filter.nothing {
        q = q.filter(Expr::val(1).eq(0));
    }
    if !filter.statuses.is_empty() {
        q = q.filter(conversation::Column::Status.is_in(filter.statuses.iter().map(|s| s.as_str())));
    }
    // Implied by the conditions below, and spelled out so the open indexes serve the query.
    if open_only(filter) {
        q = q.filter(super::literal::is_not(
            (conversation::Entity, conversation::Column::Status),
            ConversationStatus::Closed.as_str(),
        ));
    }
    match &filter.assigned {
        Assigned::Anyone => {}
        Assigned::Unassigned => q = q.filter(conversation::Column::AssignedTo.is_null()),
        Assigned::User(u) => q = q.filter(conversation::Column::AssignedTo.eq(u.clone())),
    }
    if filter.unread {
        q = q.filter(conversation::Column::UnreadCount.gt(0));
    }
    if filter.needs_action {
        q = q.filter(conversation::Column::AwaitingReply.eq(true)).filter(
            conversation::Column::Status
                .is_in([ConversationStatus::HumanHandling.as_str(), ConversationStatus::Open.as_str()]),
        );
    }
    if filter.follow_up {
        q = q.filter(conversation::Column::FollowUpAt.is_not_null());
    }
    if let Some(c) = &filter.category {
        q = q.filter(conversation::Column::Category.eq(c.clone()));
    }
    if let Some(t) = &filter.team_id {
        q = q.filter(conversation::Column::TeamId.eq(t.clone()));
    }
    match filter.bot {
        Some(true) => q = q.filter(conversation::Column::Status.eq(ConversationStatus::BotHandling.as_str())),
        Some(false) => q = q.filter(conversation::Column::Status.ne(ConversationStatus::BotHandling.as_str())),
        None => {}
    }
    if let Some(ch) = &filter.channel {
        let inboxes = Query::select()
            .column(inbox::Column::Id)
            .from(inbox::Entity)
            .and_where(inbox::Column::OrgId.eq(org_id))
            .and_where(inbox::Column::Channel.eq(ch.clone()))
            .to_owned();
        q = q.filter(conversation::Column::InboxId.in_subquery(inboxes));
    }
    if !filter.inbox_ids.is_empty() {
        q = q.filter(conversation::Column::InboxId.is_in(filter.inbox_ids.clone()));
    }
    if !filter.tag_ids.is_empty() {
        let tagged = Query::select()
            .column(entities::conversation_tag::Column::ConversationId)
            .from(entities::conversation_tag::Entity)
            .and_where(entities::conversation_tag::Column::TagId.is_in(filter.tag_ids.clone()))
            .to_owned();
        q = q.filter(conversation::Column::Id.in_subquery(tagged));
    }
    if let Some(s) = filter.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let digits: String = s.chars().filter(char::is_ascii_digit).collect();
        let mut who = Condition::any().add(super::text::contains((contact::Entity, contact::Column::Name), s));
        if !digits.is_empty() {
            who = who.add(contact::Column::WaId.contains(&digits));
        }
        let contacts = Query::select()
            .column(contact::Column::Id)
            .from(contact::Entity)
            .and_where(contact::Column::OrgId.eq(org_id))
            .cond_where(who)
            .to_owned();
        let said = Query::select()
            .column(message::Column::ConversationId)
            .from(message::Entity)
            .and_where(message::Column::OrgId.eq(org_id))
            .and_where(super::text::contains((message::Entity, message::Column::Text), s))
            .to_owned();
        q = q.filter(
            Condition::any()
                .add(conversation::Column::ContactId.in_subquery(contacts))
                .add(conversation::Column::Id.in_subquery(said)),
        );
    }
    q
}

/// Whether `filter` passes only conversations that are not closed.
fn open_only(filter: &ListFilter) -> bool {
    let listed = !filter.statuses.is_empty() && !filter.statuses.contains(&ConversationStatus::Closed);
    listed || filter.needs_action || filter.bot == Some(true)
}

/// A page of conversations in `sort` order. `from`: continue after that key (`Before`), or go
/// back before it (`After`); rows come back in sort order either way.
pub async fn list(
    db: &impl ConnectionTrait,
    org_id: &str,
    filter: &ListFilter,
    sort: Sort,
    from: Option<(Page, Key)>,
    limit: u64,
) -> Result<Vec<conversation::Model>, DbErr> {
    let backwards = matches!(from, Some((Page::After, _)));
    let mut rows = page(org_id, filter, sort, from, limit).all(db).await?;
    if backwards {
        rows.reverse();
    }
    Ok(rows)
}

/// The query [`list`] runs (rows in walking order: reversed when paging back). It walks an index
/// of the sort's column from the key and stops at `limit`.
pub fn page(
    org_id: &str,
    filter: &ListFilter,
    sort: Sort,
    from: Option<(Page, Key)>,
    limit: u64,
) -> Select<conversation::Entity> {
    let mut q = select(org_id, filter);
    let column = sort.column();
    // Forward is the sort's own direction; paging back walks the other way.
    let backwards = matches!(from, Some((Page::After, _)));
    let desc = sort.descending() != backwards;
    // From a key with a time, the range below leaves out rows without one as this does (and
    // both together make SQLite misjudge the range and walk another index).
    if let (Some(col), None) = (column, from.as_ref().and_then(|(_, key)| key.at)) {
        q = q.filter(col.is_not_null());
    }
    if let Some((_, key)) = &from {
        let after = |c: conversation::Column, v: sea_orm::Value| if desc { c.lt(v) } else { c.gt(v) };
        q =
            match (column, key.at) {
                (Some(col), Some(at)) => q
                    // Implied by the next condition; a plain range the index can start from.
                    .filter(if desc { col.lte(at) } else { col.gte(at) })
                    .filter(Condition::any().add(after(col, at.into())).add(
                        Condition::all().add(col.eq(at)).add(after(conversation::Column::Id, key.id.clone().into())),
                    )),
                _ => q.filter(after(conversation::Column::Id, key.id.clone().into())),
            };
    }
    if let Some(col) = column {
        q = if desc { q.order_by_desc(col) } else { q.order_by_asc(col) };
    }
    q = if desc { q.order_by_desc(conversation::Column::Id) } else { q.order_by_asc(conversation::Column::Id) };
    q.limit(limit)
}
