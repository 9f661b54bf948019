//! The conversation list: filters, five sort orders, and keyset cursors. A cursor holds the
//! position of the last row seen in the sort (its sort value and id), so the next page starts
//! right after it however many conversations moved to the top in the meantime: a page never
//! repeats or skips a conversation that did not itself move.

use chrono::{DateTime, Utc};
use entities::enums::ConversationStatus;
use entities::{contact, conversation, conversation_count, inbox, message};
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

/// How many conversations a view of the list holds, and how many of them are unread and need
/// action (its sub-filters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub all: u64,
    pub unread: u64,
    pub needs_action: u64,
}

/// The counts of the view `filter` (and of its sub-filters). A view narrowed only by what a
/// bucket of `conversation_counts` holds (status, assignee, unread, needs action, bot) sums its
/// buckets, whatever the number of conversations; any other view counts its rows.
pub async fn counts(db: &impl ConnectionTrait, org_id: &str, filter: &ListFilter) -> Result<Counts, DbErr> {
    if !bucketed(filter) {
        return count_rows(db, org_id, filter).await;
    }
    let mut q = conversation_count::Entity::find().filter(conversation_count::Column::OrgId.eq(org_id));
    match &filter.assigned {
        Assigned::Anyone => {}
        Assigned::Unassigned => q = q.filter(conversation_count::Column::AssignedTo.eq("")),
        Assigned::User(u) => q = q.filter(conversation_count::Column::AssignedTo.eq(u.clone())),
    }
    Ok(sum_buckets(filter, &q.all(db).await?))
}

/// The counts of the view `filter` by counting its rows (three indexed counts).
pub async fn count_rows(db: &impl ConnectionTrait, org_id: &str, filter: &ListFilter) -> Result<Counts, DbErr> {
    use sea_orm::PaginatorTrait;
    let count = |f: ListFilter| select(org_id, &f).count(db);
    Ok(Counts {
        all: count(filter.clone()).await?,
        unread: count(ListFilter { unread: true, ..filter.clone() }).await?,
        needs_action: count(ListFilter { needs_action: true, ..filter.clone() }).await?,
    })
}

/// Whether [`select`] of `filter` narrows only by what a bucket holds. Every field is named, so
/// a new filter has to say here whether the buckets can answer it.
fn bucketed(filter: &ListFilter) -> bool {
    let ListFilter {
        statuses: _,
        assigned,
        search,
        unread: _,
        needs_action: _,
        follow_up,
        category,
        bot: _,
        channel,
        inbox_ids,
        tag_ids,
        team_id,
        nothing: _,
    } = filter;
    // The buckets hold unassigned as `""`; a user id that is empty (a caller without one asking
    // for "me") matches no conversation, as in `select`.
    !matches!(assigned, Assigned::User(u) if u.is_empty())
        && search.is_none()
        && !follow_up
        && category.is_none()
        && channel.is_none()
        && inbox_ids.is_empty()
        && tag_ids.is_empty()
        && team_id.is_none()
}

/// The counts of a bucketed `filter` from the organization's buckets: each condition of
/// [`select`] on a bucket's key.
pub fn sum_buckets(filter: &ListFilter, buckets: &[conversation_count::Model]) -> Counts {
    use ConversationStatus::{BotHandling, HumanHandling, Open};
    let is = |b: &conversation_count::Model, s: ConversationStatus| b.status == s.as_str();
    let needs_action = |b: &conversation_count::Model| b.awaiting == 1 && (is(b, HumanHandling) || is(b, Open));
    let passes = |b: &conversation_count::Model| {
        !filter.nothing
            && (filter.statuses.is_empty() || filter.statuses.iter().any(|s| is(b, *s)))
            && match &filter.assigned {
                Assigned::Anyone => true,
                Assigned::Unassigned => b.assigned_to.is_empty(),
                Assigned::User(u) => b.assigned_to == *u,
            }
            && (!filter.unread || b.unread == 1)
            && (!filter.needs_action || needs_action(b))
            && filter.bot.is_none_or(|bot| bot == is(b, BotHandling))
    };
    let mut out = Counts::default();
    for b in buckets.iter().filter(|b| passes(b)) {
        let n = u64::try_from(b.n).unwrap_or(0);
        out.all += n;
        if b.unread == 1 {
            out.unread += n;
        }
        if needs_action(b) {
            out.needs_action += n;
        }
    }
    out
}
