//! Query plans of the queries users hit often (issue 17): each walks or counts the index meant
//! for it instead of scanning or sorting the organization's rows. The statements are built by
//! the same functions the server runs, with their values bound as the server binds them, so a
//! change that turns a literal status back into a parameter (and silently loses a partial
//! index) fails here.
//!
//! SQLite: `EXPLAIN QUERY PLAN` names the index. PostgreSQL: the statement is prepared and
//! explained as a generic plan (`plan_cache_mode = force_generic_plan`, what a pooled prepared
//! statement runs from its sixth execution), with sequential scans off so a few rows do not make
//! a scan the cheaper plan.

use actors::store::conversation_list::{self, Assigned, Key, ListFilter, Sort};
use actors::store::conversations::Page;
use chrono::Utc;
use entities::enums::{ConversationStatus, MessageStatus};
use sea_orm::sea_query::{Expr, PostgresQueryBuilder, QueryBuilder, SelectStatement};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, QueryTrait, Select, Statement, TransactionTrait};
use serde_json::Value;

use crate::helpers::{Org, TestApp, spawn_app, unique};

/// How the database runs a statement: SQLite's plan lines, or for PostgreSQL one line per plan
/// node, `<Node Type> <Index Name>`.
struct Plan {
    backend: DbBackend,
    sql: String,
    lines: Vec<String>,
}

impl Plan {
    async fn of(app: &TestApp, stmt: Statement) -> Plan {
        let backend = app.db.get_database_backend();
        let sql = stmt.sql.clone();
        let lines = match backend {
            DbBackend::Postgres => postgres_plan(app, stmt).await,
            _ => {
                let explain = Statement {
                    sql: format!("EXPLAIN QUERY PLAN {}", stmt.sql),
                    values: stmt.values,
                    db_backend: backend,
                };
                let rows = app.db.query_all_raw(explain).await.unwrap();
                rows.iter().map(|r| r.try_get::<String>("", "detail").unwrap()).collect()
            }
        };
        Plan { backend, sql, lines }
    }

    fn explained(&self) -> String {
        format!("{}\n-- for: {}", self.lines.join("\n"), self.sql)
    }

    /// The plan reads `index` and scans none of the big tables.
    fn uses(&self, index: &str) -> &Self {
        self.uses_one_of(&[index])
    }

    /// The plan reads one of `indexes` and scans none of the big tables.
    fn uses_one_of(&self, indexes: &[&str]) -> &Self {
        let named = |index: &str| match self.backend {
            DbBackend::Postgres => self.lines.iter().any(|l| {
                l.ends_with(&format!(" {index}"))
                    && ["Index Scan ", "Index Only Scan ", "Bitmap Index Scan "].iter().any(|s| l.starts_with(s))
            }),
            _ => self
                .lines
                .iter()
                .any(|l| l.contains(&format!("INDEX {index} ")) || l.ends_with(&format!("INDEX {index}"))),
        };
        assert!(indexes.iter().any(|i| named(i)), "the plan uses none of {indexes:?}:\n{}", self.explained());
        for table in ["conversations", "messages", "events"] {
            let scanned = self.lines.iter().any(|l| match self.backend {
                DbBackend::Postgres => l.starts_with("Seq Scan ") && l.contains(table),
                _ => l == &format!("SCAN {table}"),
            });
            assert!(!scanned, "the plan scans {table}:\n{}", self.explained());
        }
        self
    }

    /// Rows come out of the index in the order asked for: nothing is sorted.
    fn in_index_order(&self) -> &Self {
        let sorted = self.lines.iter().any(|l| match self.backend {
            DbBackend::Postgres => l.starts_with("Sort") || l.starts_with("Incremental Sort"),
            _ => l.contains("USE TEMP B-TREE FOR ORDER BY"),
        });
        assert!(!sorted, "the plan sorts:\n{}", self.explained());
        self
    }
}

/// The generic plan of `stmt`, its nodes flattened.
async fn postgres_plan(app: &TestApp, stmt: Statement) -> Vec<String> {
    let txn = app.db.begin().await.unwrap();
    txn.execute_unprepared("SET LOCAL enable_seqscan = off").await.unwrap();
    txn.execute_unprepared("SET LOCAL plan_cache_mode = force_generic_plan").await.unwrap();
    let name = format!("plan_probe_{}", unique());
    txn.execute_unprepared(&format!("PREPARE {name} AS {}", stmt.sql)).await.unwrap();
    let args: Vec<String> =
        stmt.values.iter().flat_map(|v| v.0.iter()).map(|v| PostgresQueryBuilder.value_to_string(v)).collect();
    let execute = if args.is_empty() { name.clone() } else { format!("{name}({})", args.join(", ")) };
    let row = txn
        .query_one_raw(Statement::from_string(DbBackend::Postgres, format!("EXPLAIN (FORMAT JSON) EXECUTE {execute}")))
        .await
        .unwrap()
        .unwrap();
    let plan: Value = row.try_get_by_index(0).unwrap();
    txn.execute_unprepared(&format!("DEALLOCATE {name}")).await.unwrap();
    txn.rollback().await.unwrap();
    let mut lines = Vec::new();
    flatten(&plan[0]["Plan"], &mut lines);
    lines
}

fn flatten(node: &Value, out: &mut Vec<String>) {
    let kind = node["Node Type"].as_str().unwrap_or_default();
    let on = node["Index Name"].as_str().or(node["Relation Name"].as_str()).unwrap_or_default();
    out.push(format!("{kind} {on}").trim_end().to_owned());
    for child in node["Plans"].as_array().into_iter().flatten() {
        flatten(child, out);
    }
}

fn built<E: EntityTrait>(app: &TestApp, q: Select<E>) -> Statement {
    q.build(app.db.get_database_backend())
}

/// The statement `PaginatorTrait::count` runs for `q`.
fn counted<E: EntityTrait>(app: &TestApp, q: Select<E>) -> Statement {
    let inner = q.into_query().reset_limit().reset_offset().clear_order_by().to_owned();
    let count =
        SelectStatement::new().expr(Expr::cust("COUNT(*) AS num_items")).from_subquery(inner, "sub_query").to_owned();
    app.db.get_database_backend().build(&count)
}

/// An organization whose customers wrote: conversations, messages and events to plan over.
async fn seeded() -> (TestApp, Org, String) {
    let app = spawn_app().await;
    let org = app.register("Acme").await;
    let account = app.connect_account(&org).await;
    let conversation = app.customer_says(&org, &account, "15557010001", "hello").await;
    app.customer_says(&org, &account, "15557010002", "hi there").await;
    (app, org, conversation)
}

fn active() -> Vec<ConversationStatus> {
    vec![ConversationStatus::BotHandling, ConversationStatus::Open, ConversationStatus::HumanHandling]
}

fn next_page(sort: Sort) -> Option<(Page, Key)> {
    let at = match sort {
        Sort::CreatedNewest | Sort::CreatedOldest => None,
        _ => Some(Utc::now()),
    };
    Some((Page::Before, Key { at, id: "01999999-0000-7000-8000-000000000000".into() }))
}

#[actix_web::test]
async fn the_default_view_walks_the_agents_open_conversations_newest_first() {
    let (app, org, _) = seeded().await;
    let mine = ListFilter { statuses: active(), assigned: Assigned::User(org.user_id.clone()), ..Default::default() };
    for from in [None, next_page(Sort::Newest)] {
        let q = conversation_list::page(&org.org_id, &mine, Sort::Newest, from, 26);
        Plan::of(&app, built(&app, q)).await.uses("ix_conversations_open_assignee").in_index_order();
    }
    // Unassigned: either open index, by the planner's guess of how many wait unassigned (a
    // PostgreSQL generic plan without statistics walks all open conversations); both hold only
    // conversations that are not closed.
    let unassigned = ListFilter { statuses: active(), assigned: Assigned::Unassigned, ..Default::default() };
    let q = conversation_list::page(&org.org_id, &unassigned, Sort::Newest, None, 26);
    Plan::of(&app, built(&app, q))
        .await
        .uses_one_of(&["ix_conversations_open_assignee", "ix_conversations_open_recent"])
        .in_index_order();
}

#[actix_web::test]
async fn the_open_view_of_everyone_walks_the_open_conversations_in_each_activity_order() {
    let (app, org, _) = seeded().await;
    let open = ListFilter { statuses: active(), ..Default::default() };
    for (sort, index) in [
        (Sort::Newest, "ix_conversations_open_recent"),
        (Sort::Oldest, "ix_conversations_open_recent"),
        (Sort::WaitingLongest, "ix_conversations_open_waiting"),
    ] {
        for from in [None, next_page(sort)] {
            let q = conversation_list::page(&org.org_id, &open, sort, from, 26);
            Plan::of(&app, built(&app, q)).await.uses(index).in_index_order();
        }
    }
}

#[actix_web::test]
async fn the_unfiltered_list_and_its_next_page_walk_the_organizations_index() {
    let (app, org, _) = seeded().await;
    let all = ListFilter::default();
    for (sort, index) in [
        (Sort::Newest, "ix_conversations_org_recent"),
        (Sort::Oldest, "ix_conversations_org_recent"),
        (Sort::CreatedNewest, "ix_conversations_org_id"),
        (Sort::CreatedOldest, "ix_conversations_org_id"),
    ] {
        for from in [None, next_page(sort)] {
            let q = conversation_list::page(&org.org_id, &all, sort, from, 26);
            Plan::of(&app, built(&app, q)).await.uses(index).in_index_order();
        }
    }
}

#[actix_web::test]
async fn the_counts_of_the_open_views_read_only_open_conversations() {
    let (app, org, _) = seeded().await;
    // Everyone's open conversations: the open index, or the statuses' range of the org's.
    let everyone: &[&str] = &[
        "ix_conversations_open_recent",
        "ix_conversations_open_assignee",
        "ix_conversations_open_load",
        "ix_conversations_org_status",
    ];
    let mine: &[&str] = &["ix_conversations_open_load", "ix_conversations_open_assignee"];
    let views = [
        (ListFilter { statuses: active(), ..Default::default() }, everyone),
        (ListFilter { statuses: active(), assigned: Assigned::User(org.user_id.clone()), ..Default::default() }, mine),
    ];
    for (view, indexes) in views {
        // The three counts the endpoint makes of a view.
        for f in [view.clone(), ListFilter { unread: true, ..view.clone() }, ListFilter { needs_action: true, ..view }]
        {
            let q = conversation_list::select(&org.org_id, &f);
            Plan::of(&app, counted(&app, q)).await.uses_one_of(indexes);
        }
    }
}

#[actix_web::test]
async fn auto_assignment_counts_only_the_agents_open_conversations() {
    let (app, org, _) = seeded().await;
    let q = actors::store::conversations::open_counts_query(&org.org_id, &[org.user_id.clone(), "someone".into()]);
    Plan::of(&app, built(&app, q)).await.uses_one_of(&["ix_conversations_open_load", "ix_conversations_open_assignee"]);
}

#[actix_web::test]
async fn the_queue_sweep_reads_only_queued_conversations() {
    let (app, _, _) = seeded().await;
    let q = actors::store::conversations::queue_orgs();
    Plan::of(&app, built(&app, q)).await.uses("ix_conversations_queue");
}

#[actix_web::test]
async fn the_failed_and_pending_lists_walk_their_partial_indexes_newest_first() {
    use cx_inbox::conversations::outbox::{Filter, filtered, page};
    let (app, org, _) = seeded().await;
    for (status, discarded, index) in [
        (MessageStatus::Failed, false, "ix_messages_failed_open_recent"),
        (MessageStatus::Failed, true, "ix_messages_failed_discarded"),
        (MessageStatus::Pending, false, "ix_messages_pending"),
    ] {
        let f = Filter { status, discarded, template_name: None, search: None };
        let q = page(filtered(&org.org_id, &f), 25, 25);
        Plan::of(&app, built(&app, q)).await.uses(index).in_index_order();
        let total = counted(&app, filtered(&org.org_id, &f));
        Plan::of(&app, total).await.uses_one_of(&[index, "ix_messages_failed_open"]);
    }
}

#[actix_web::test]
async fn a_rating_looks_up_one_survey_of_the_conversation() {
    let (app, _, conversation) = seeded().await;
    let q = actors::conversation::csat::survey_sent(&conversation);
    Plan::of(&app, built(&app, q)).await.uses("ix_messages_surveys");
}

#[actix_web::test]
async fn the_webhook_tail_reads_the_new_events_and_their_conversations_by_key() {
    let (app, org, _) = seeded().await;
    let q = cx_inbox::channels::api::dispatcher::tail_events(&org.org_id, "inbox", 10, 5_000);
    let plan = Plan::of(&app, built(&app, q)).await;
    plan.uses("ux_events_org_seq").in_index_order();
    let by_key = plan.lines.iter().any(|l| match plan.backend {
        DbBackend::Postgres => l.contains("conversations_pkey"),
        _ => l.contains("conversations USING") && (l.contains("PRIMARY KEY") || l.contains("(id=?)")),
    });
    assert!(by_key, "conversations are not read by key:\n{}", plan.lines.join("\n"));
}

#[actix_web::test]
async fn the_outbox_backlog_gauge_counts_only_backlogged_messages() {
    let (app, _, _) = seeded().await;
    // Pending: the status's range of the outbox index or its partial index; failed: that range
    // or the partial indexes of failed messages not discarded (discarded history is not backlog).
    let pending = cx_inbox::metrics::backlog(MessageStatus::Pending);
    Plan::of(&app, counted(&app, pending)).await.uses_one_of(&["ix_messages_due_at", "ix_messages_pending"]);
    let failed = cx_inbox::metrics::backlog(MessageStatus::Failed);
    // (SQLite, without statistics, takes the status range of the outbox index here.)
    Plan::of(&app, counted(&app, failed)).await.uses_one_of(&[
        "ix_messages_due_at",
        "ix_messages_failed_open",
        "ix_messages_failed_open_recent",
    ]);
}

/// Migration 000031 made three indexes of `messages` partial (an inbound message has no
/// idempotency key, no send schedule and usually no media); the queries that read them still
/// do, on a generic PostgreSQL plan too.
#[actix_web::test]
async fn the_partial_outbox_and_media_indexes_serve_their_queries() {
    let (app, org, _) = seeded().await;
    let q = actors::store::messages::idempotency_query(&org.org_id, "key");
    Plan::of(&app, built(&app, q)).await.uses("ux_messages_org_idempotency_key");
    let q = actors::store::messages::due_query(Utc::now(), 100);
    Plan::of(&app, built(&app, q)).await.uses("ix_messages_due_at");
    let q = actors::store::messages::media_pending_query(100);
    Plan::of(&app, built(&app, q)).await.uses("ix_messages_media");
}

#[actix_web::test]
async fn message_history_pages_walk_the_conversations_messages() {
    let (app, _, conversation) = seeded().await;
    let key = "01999999-0000-7000-8000-000000000000";
    for page in [None, Some((Page::Before, key)), Some((Page::After, key))] {
        let q = actors::store::messages::page_query(&conversation, page, 50);
        Plan::of(&app, built(&app, q)).await.uses("ix_messages_conversation").in_index_order();
    }
}

#[actix_web::test]
async fn a_socket_resuming_reads_a_range_of_the_organizations_events() {
    let (app, org, _) = seeded().await;
    let q = actors::store::events::since_query(&org.org_id, 1, 500);
    Plan::of(&app, built(&app, q)).await.uses("ux_events_org_seq").in_index_order();
}
