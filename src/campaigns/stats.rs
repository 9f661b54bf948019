//! How a campaign fared: each recipient's status follows their message (sent, delivered, read,
//! failed) and then their reply within the attribution window; counts per campaign and across
//! all; the recipients as CSV, streamed.

use std::collections::HashMap;

use actors::store::placeholder;
use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use entities::enums::{Direction, RecipientStatus};
use entities::{campaign, campaign_recipient, message};
use futures_util::Stream;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::Result;

/// Recipients by status.
#[derive(Serialize, ToSchema, Debug, Default, Clone, PartialEq, Eq)]
#[schema(as = RecipientCounts)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub total: u64,
    pub pending: u64,
    pub sent: u64,
    pub delivered: u64,
    pub read: u64,
    pub replied: u64,
    pub failed: u64,
}

impl Counts {
    fn add(&mut self, status: RecipientStatus, n: u64) {
        self.total += n;
        match status {
            RecipientStatus::Pending => self.pending += n,
            RecipientStatus::Sent => self.sent += n,
            RecipientStatus::Delivered => self.delivered += n,
            RecipientStatus::Read => self.read += n,
            RecipientStatus::Replied => self.replied += n,
            RecipientStatus::Failed => self.failed += n,
        }
    }

    /// The funnel: how many got at least this far (a read message was delivered and sent).
    pub fn funnel(&self) -> Funnel {
        let replied = self.replied;
        let read = self.read + replied;
        let delivered = self.delivered + read;
        let sent = self.sent + delivered;
        Funnel { recipients: self.total, sent, delivered, read, replied, failed: self.failed }
    }
}

/// Recipients who got at least this far.
#[derive(Serialize, ToSchema, Debug, Default, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Funnel {
    pub recipients: u64,
    pub sent: u64,
    pub delivered: u64,
    pub read: u64,
    pub replied: u64,
    pub failed: u64,
}

/// Gives recipients whose message was made since the last look its id and conversation, found
/// by the send's idempotency key (the runner records nothing per send: one statement here does
/// it for all of them).
pub async fn link(db: &impl ConnectionTrait, c: &campaign::Model) -> Result<()> {
    let backend = db.get_database_backend();
    let key = "'campaign:' || campaign_recipients.campaign_id || ':' || campaign_recipients.id";
    let by_key = |col: &str| {
        format!(
            "(SELECT m.{col} FROM messages m WHERE m.org_id = campaign_recipients.org_id AND m.idempotency_key = {key})"
        )
    };
    let sql = format!(
        "UPDATE campaign_recipients SET message_id = {id}, conversation_id = {conv} \
         WHERE campaign_id = {p1} AND message_id IS NULL AND status = 'PENDING'",
        id = by_key("id"),
        conv = by_key("conversation_id"),
        p1 = placeholder(backend, 1),
    );
    db.execute_raw(Statement::from_sql_and_values(backend, sql, [c.id.clone().into()])).await?;
    Ok(())
}

/// Brings recipients up to date with their messages: all of them, or (`only_pending`) those
/// not yet known to be sent, which is what progress needs.
pub async fn sync_messages(db: &impl ConnectionTrait, c: &campaign::Model, only_pending: bool) -> Result<()> {
    let backend = db.get_database_backend();
    let m = "(SELECT {col} FROM messages m WHERE m.id = campaign_recipients.message_id)";
    let col = |c: &str| m.replace("{col}", c);
    let which = if only_pending { "status = 'PENDING'" } else { "status <> 'REPLIED' AND status <> 'FAILED'" };
    let sql = format!(
        "UPDATE campaign_recipients SET \
         status = COALESCE({status}, status), \
         sent_at = COALESCE({sent}, sent_at), delivered_at = COALESCE({delivered}, delivered_at), \
         read_at = COALESCE({read}, read_at), \
         error_code = COALESCE({code}, error_code), error_message = COALESCE({error}, error_message) \
         WHERE campaign_id = {p1} AND message_id IS NOT NULL AND {which}",
        status =
            col("CASE m.status WHEN 'sent' THEN 'SENT' WHEN 'delivered' THEN 'DELIVERED' WHEN 'read' THEN 'READ' \
             WHEN 'failed' THEN 'FAILED' ELSE NULL END"),
        sent = col("m.sent_at"),
        delivered = col("m.delivered_at"),
        read = col("m.read_at"),
        code = col("m.error_code"),
        error = col("m.error_message"),
        p1 = placeholder(backend, 1),
    );
    db.execute_raw(Statement::from_sql_and_values(backend, sql, [c.id.clone().into()])).await?;
    Ok(())
}

/// [`refresh`] for a read: the campaign's runner (or another read) may be updating the same
/// rows, and on PostgreSQL two such updates can deadlock; the loser is retried, and if it still
/// cannot run the read answers the figures as they are, which the next look brings up to date.
pub async fn refresh_for_read(db: &impl ConnectionTrait, c: &campaign::Model) {
    for attempt in 0..3 {
        match refresh(db, c).await {
            Ok(()) => return,
            Err(e) if attempt < 2 => {
                tracing::debug!(campaign_id = %c.id, error = %e, "campaign refresh lost a race; again");
                tokio::time::sleep(std::time::Duration::from_millis(20 * (attempt + 1))).await;
            }
            Err(e) => tracing::warn!(campaign_id = %c.id, error = %e, "campaign figures not refreshed for this read"),
        }
    }
}

/// Brings a campaign's recipients up to date with their messages, then with replies: a
/// customer message in the recipient's conversation after the send and within the window.
pub async fn refresh(db: &impl ConnectionTrait, c: &campaign::Model) -> Result<()> {
    link(db, c).await?;
    sync_messages(db, c, false).await?;
    replies(db, c).await
}

async fn replies(db: &impl ConnectionTrait, c: &campaign::Model) -> Result<()> {
    let Some(started) = c.started_at else { return Ok(()) };
    let waiting: Vec<(String, String, Option<DateTime<Utc>>)> = campaign_recipient::Entity::find()
        .select_only()
        .column(campaign_recipient::Column::Id)
        .column(campaign_recipient::Column::ConversationId)
        .column(campaign_recipient::Column::SentAt)
        .filter(campaign_recipient::Column::CampaignId.eq(c.id.clone()))
        .filter(campaign_recipient::Column::Status.is_in(["SENT", "DELIVERED", "READ"]))
        .filter(campaign_recipient::Column::ConversationId.is_not_null())
        .into_tuple::<(String, Option<String>, Option<DateTime<Utc>>)>()
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(id, conv, at)| conv.map(|c| (id, c, at)))
        .collect();
    if waiting.is_empty() {
        return Ok(());
    }
    let window = Duration::hours(i64::from(c.attribution_hours));
    for chunk in waiting.chunks(500) {
        let convs: Vec<String> = chunk.iter().map(|(_, conv, _)| conv.clone()).collect();
        let inbound: Vec<(String, DateTime<Utc>)> = message::Entity::find()
            .select_only()
            .column(message::Column::ConversationId)
            .column(message::Column::CreatedAt)
            .filter(message::Column::ConversationId.is_in(convs))
            .filter(message::Column::Direction.eq(Direction::Inbound.as_str()))
            .filter(message::Column::CreatedAt.gt(started))
            .order_by_asc(message::Column::CreatedAt)
            .into_tuple()
            .all(db)
            .await?;
        let mut by_conv: HashMap<&str, Vec<DateTime<Utc>>> = HashMap::new();
        for (conv, at) in &inbound {
            by_conv.entry(conv.as_str()).or_default().push(*at);
        }
        for (id, conv, sent_at) in chunk {
            let Some(sent_at) = sent_at else { continue };
            let reply = by_conv
                .get(conv.as_str())
                .and_then(|ts| ts.iter().find(|t| **t > *sent_at && **t <= *sent_at + window));
            if let Some(at) = reply {
                campaign_recipient::Entity::update_many()
                    .col_expr(campaign_recipient::Column::Status, Expr::value(RecipientStatus::Replied.as_str()))
                    .col_expr(campaign_recipient::Column::RepliedAt, Expr::value(*at))
                    .filter(campaign_recipient::Column::Id.eq(id.clone()))
                    .exec(db)
                    .await?;
            }
        }
    }
    Ok(())
}

/// Whether a campaign's figures can still move: it is sending, or its last sends are within the
/// attribution window (statuses and replies still come in). Others need no refresh.
pub fn still_moving(c: &campaign::Model) -> bool {
    c.completed_at.is_none_or(|done| Utc::now() < done + Duration::hours(i64::from(c.attribution_hours)))
}

/// Several campaigns' recipients by status, in one query.
pub async fn counts_of(db: &impl ConnectionTrait, ids: &[String]) -> Result<HashMap<String, Counts>> {
    let rows: Vec<(String, RecipientStatus, i64)> = campaign_recipient::Entity::find()
        .select_only()
        .column(campaign_recipient::Column::CampaignId)
        .column(campaign_recipient::Column::Status)
        .column_as(Expr::col(campaign_recipient::Column::Id).count(), "n")
        .filter(campaign_recipient::Column::CampaignId.is_in(ids.to_vec()))
        .group_by(campaign_recipient::Column::CampaignId)
        .group_by(campaign_recipient::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let mut out: HashMap<String, Counts> = ids.iter().map(|id| (id.clone(), Counts::default())).collect();
    for (id, status, n) in rows {
        out.entry(id).or_default().add(status, u64::try_from(n).unwrap_or(0));
    }
    Ok(out)
}

/// A campaign's recipients by status (refresh first for current figures).
pub async fn counts(db: &impl ConnectionTrait, campaign_id: &str) -> Result<Counts> {
    let rows: Vec<(RecipientStatus, i64)> = campaign_recipient::Entity::find()
        .select_only()
        .column(campaign_recipient::Column::Status)
        .column_as(Expr::col(campaign_recipient::Column::Id).count(), "n")
        .filter(campaign_recipient::Column::CampaignId.eq(campaign_id))
        .group_by(campaign_recipient::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let mut out = Counts::default();
    for (status, n) in rows {
        out.add(status, u64::try_from(n).unwrap_or(0));
    }
    Ok(out)
}

/// CAMPAIGNS-8: a campaign's figures.
#[derive(Serialize, ToSchema, Debug)]
#[serde(rename_all = "camelCase")]
pub struct CampaignStats {
    pub counts: Counts,
    pub funnel: Funnel,
    /// Share of recipients with each outcome (0..1), of those sent.
    pub delivery_rate: f64,
    pub read_rate: f64,
    pub reply_rate: f64,
    /// What it cost by Meta's rate card (recipients sent × rate of their market).
    pub estimated_cost: f64,
    pub currency: String,
    /// Sends a second since it started (while running or at the end).
    pub send_rate: Option<f64>,
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// CAMPAIGNS-8: refreshes and answers a campaign's figures.
pub async fn of(
    db: &impl ConnectionTrait,
    card: &super::pricing::RateCard,
    c: &campaign::Model,
) -> Result<CampaignStats> {
    refresh_for_read(db, c).await;
    figures(db, card, c).await
}

/// A campaign's figures as its recipients' rows stand (the caller refreshed them).
pub async fn figures(
    db: &impl ConnectionTrait,
    card: &super::pricing::RateCard,
    c: &campaign::Model,
) -> Result<CampaignStats> {
    let counts = counts(db, &c.id).await?;
    let funnel = counts.funnel();
    let sent_numbers: Vec<String> = campaign_recipient::Entity::find()
        .select_only()
        .column(campaign_recipient::Column::WaId)
        .filter(campaign_recipient::Column::CampaignId.eq(c.id.clone()))
        .filter(campaign_recipient::Column::Status.is_in(["SENT", "DELIVERED", "READ", "REPLIED"]))
        .into_tuple()
        .all(db)
        .await?;
    let cost = super::pricing::estimate(card, &c.category, sent_numbers.iter().map(String::as_str));
    let send_rate = c.started_at.map(|s| {
        let until = c.completed_at.unwrap_or_else(Utc::now);
        let secs = Ord::max((until - s).num_milliseconds(), 1) as f64 / 1000.0;
        funnel.sent as f64 / secs
    });
    Ok(CampaignStats {
        delivery_rate: ratio(funnel.delivered, funnel.sent),
        read_rate: ratio(funnel.read, funnel.sent),
        reply_rate: ratio(funnel.replied, funnel.sent),
        counts,
        funnel,
        estimated_cost: cost.total,
        currency: cost.currency,
        send_rate,
    })
}

/// CAMPAIGNS-3: figures across the organization's campaigns.
#[derive(Serialize, ToSchema, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct GlobalStats {
    pub campaigns: u64,
    /// Campaigns by status.
    pub by_status: HashMap<String, u64>,
    pub counts: Counts,
    pub funnel: Funnel,
    pub delivery_rate: f64,
    pub read_rate: f64,
    pub reply_rate: f64,
}

/// CAMPAIGNS-3: refreshes the campaigns still moving and sums every campaign's figures.
pub async fn global(db: &impl ConnectionTrait, org_id: &str) -> Result<GlobalStats> {
    let all = campaign::Entity::find()
        .filter(campaign::Column::OrgId.eq(org_id))
        .filter(campaign::Column::DeletedAt.is_null())
        .all(db)
        .await?;
    let mut out = GlobalStats::default();
    for c in all.iter().filter(|c| still_moving(c)) {
        refresh_for_read(db, c).await;
    }
    let ids: Vec<String> = all.iter().map(|c| c.id.clone()).collect();
    let mut by_campaign = counts_of(db, &ids).await?;
    for c in &all {
        out.campaigns += 1;
        *out.by_status.entry(c.status.to_string()).or_default() += 1;
        let n = by_campaign.remove(&c.id).unwrap_or_default();
        out.counts.total += n.total;
        out.counts.pending += n.pending;
        out.counts.sent += n.sent;
        out.counts.delivered += n.delivered;
        out.counts.read += n.read;
        out.counts.replied += n.replied;
        out.counts.failed += n.failed;
    }
    out.funnel = out.counts.funnel();
    out.delivery_rate = ratio(out.funnel.delivered, out.funnel.sent);
    out.read_rate = ratio(out.funnel.read, out.funnel.sent);
    out.reply_rate = ratio(out.funnel.replied, out.funnel.sent);
    Ok(out)
}

/// A CSV field, quoted when it must be; a leading `=`, `+`, `-` or `@` is defused so a
/// spreadsheet does not run it as a formula.
fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) && !s[1..].chars().all(|c| c.is_ascii_digit()) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.to_rfc3339()).unwrap_or_default()
}

/// The header of the export.
pub const CSV_HEADER: &str =
    "position,phone,name,status,sent_at,delivered_at,read_at,replied_at,error_code,error_message,text\n";

fn csv_line(r: &campaign_recipient::Model) -> String {
    let cells = [
        r.position.to_string(),
        format!("+{}", r.wa_id),
        r.name.clone().unwrap_or_default(),
        r.status.to_string(),
        time(r.sent_at),
        time(r.delivered_at),
        time(r.read_at),
        time(r.replied_at),
        r.error_code.clone().unwrap_or_default(),
        r.error_message.clone().unwrap_or_default(),
        r.text.clone(),
    ];
    let mut line = cells.iter().map(|c| field(c)).collect::<Vec<_>>().join(",");
    line.push('\n');
    line
}

/// CAMPAIGNS-7: the recipients (of one status, if given) as CSV, read and sent a page at a
/// time so a large campaign never sits in memory whole.
pub fn export(
    db: DatabaseConnection,
    campaign_id: String,
    status: Option<RecipientStatus>,
) -> impl Stream<Item = std::result::Result<Bytes, sea_orm::DbErr>> {
    const PAGE: u64 = 1000;
    futures_util::stream::unfold(Some(-1i32), move |after| {
        let (db, campaign_id) = (db.clone(), campaign_id.clone());
        async move {
            let after = after?;
            if after == -1 {
                return Some((Ok(Bytes::from_static(CSV_HEADER.as_bytes())), Some(0)));
            }
            let mut q = campaign_recipient::Entity::find()
                .filter(campaign_recipient::Column::CampaignId.eq(campaign_id))
                .filter(campaign_recipient::Column::Position.gt(after));
            if let Some(s) = status {
                q = q.filter(campaign_recipient::Column::Status.eq(s.as_str()));
            }
            match q.order_by_asc(campaign_recipient::Column::Position).limit(PAGE).all(&db).await {
                Err(e) => Some((Err(e), None)),
                Ok(rows) if rows.is_empty() => None,
                Ok(rows) => {
                    let next = rows.last().map(|r| r.position);
                    let chunk: String = rows.iter().map(csv_line).collect();
                    Some((Ok(Bytes::from(chunk)), next))
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("+4915112345678"), "+4915112345678");
    }

    #[test]
    fn the_funnel_counts_everyone_who_got_at_least_so_far() {
        let mut c = Counts::default();
        c.add(RecipientStatus::Sent, 2);
        c.add(RecipientStatus::Delivered, 3);
        c.add(RecipientStatus::Read, 4);
        c.add(RecipientStatus::Replied, 1);
        c.add(RecipientStatus::Failed, 5);
        c.add(RecipientStatus::Pending, 6);
        let f = c.funnel();
        assert_eq!((f.recipients, f.sent, f.delivered, f.read, f.replied, f.failed), (21, 10, 8, 5, 1, 5));
    }
}
