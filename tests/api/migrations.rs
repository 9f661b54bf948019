//! The migrations that repair data, run on a database that holds what they repair: tools of one
//! name, tags of one name in two cases, and one phone number live in two organizations (all
//! possible before the indexes that now forbid them), and the addresses WhatsApp contacts get in
//! the inboxes they wrote in.

use migrations::MigratorTrait;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

/// The migrations before the repairing ones.
const BEFORE_REPAIRS: u32 = 11;

async fn rows(db: &DatabaseConnection, sql: &str) -> Vec<Vec<String>> {
    let backend = db.get_database_backend();
    let result = db.query_all_raw(Statement::from_string(backend, sql.to_owned())).await.unwrap();
    result
        .iter()
        .map(|r| {
            (0..r.column_names().len())
                .map(|i| r.try_get_by_index::<Option<String>>(i).unwrap().unwrap_or_else(|| "NULL".into()))
                .collect()
        })
        .collect()
}

#[actix_web::test]
async fn duplicates_from_before_the_indexes_are_repaired_and_the_indexes_hold() {
    let dir = tempfile::tempdir().unwrap();
    let (url, pg) = match std::env::var("CX_TEST_DATABASE_URL") {
        Ok(base) => {
            let (base, url, name) = crate::helpers::create_pg_database(&base).await;
            (url, Some((base, name)))
        }
        Err(_) => (format!("sqlite://{}?mode=rwc", dir.path().join("m.db").display()), None),
    };
    let db = sea_orm::Database::connect(&url).await.unwrap();
    migrations::Migrator::up(&db, Some(BEFORE_REPAIRS)).await.unwrap();
    let at = "'2026-01-01T00:00:00+00:00'";
    let long = "t".repeat(64);
    for sql in [
        // Two tools of one name (the second with a name at the 64-character limit, twice).
        format!(
            "INSERT INTO bot_tools VALUES ('01-tool-aaaaaa', 'org1', 'lookup', 'd', 'GET', 'https://x', '{{}}', '[]', NULL, 1000, '[]', NULL, true, false, {at}, {at})"
        ),
        format!(
            "INSERT INTO bot_tools VALUES ('02-tool-bbbbbb', 'org1', 'lookup', 'd', 'GET', 'https://x', '{{}}', '[]', NULL, 1000, '[]', NULL, true, false, {at}, {at})"
        ),
        format!(
            "INSERT INTO bot_tools VALUES ('03-tool-cccccc', 'org1', '{long}', 'd', 'GET', 'https://x', '{{}}', '[]', NULL, 1000, '[]', NULL, true, false, {at}, {at})"
        ),
        format!(
            "INSERT INTO bot_tools VALUES ('04-tool-dddddd', 'org1', '{long}', 'd', 'GET', 'https://x', '{{}}', '[]', NULL, 1000, '[]', NULL, true, false, {at}, {at})"
        ),
        // Tags "VIP" and "vip".
        format!("INSERT INTO tags VALUES ('01-tag-aaaa', 'org1', 'VIP', 'gray', {at}, {at})"),
        format!("INSERT INTO tags VALUES ('02-tag-bbbb', 'org1', 'vip', 'gray', {at}, {at})"),
        // One number, live in two organizations.
        format!("INSERT INTO inboxes VALUES ('01-inbox-a', 'org1', 'whatsapp', 'A', {at}, {at}, NULL)"),
        format!("INSERT INTO inboxes VALUES ('02-inbox-b', 'org2', 'whatsapp', 'B', {at}, {at}, NULL)"),
        format!(
            "INSERT INTO whatsapp_accounts VALUES ('01-acct-a', 'org1', '01-inbox-a', 'w', '555', NULL, NULL, 'enc', 'connected', {at}, {at}, NULL)"
        ),
        format!(
            "INSERT INTO whatsapp_accounts VALUES ('02-acct-b', 'org2', '02-inbox-b', 'w', '555', NULL, NULL, 'enc', 'connected', {at}, {at}, NULL)"
        ),
    ] {
        db.execute_unprepared(&sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    migrations::Migrator::up(&db, None).await.unwrap();

    let tools = rows(&db, "SELECT name FROM bot_tools ORDER BY id").await;
    let names: Vec<&str> = tools.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(names[0], "lookup", "the oldest keeps its name");
    assert_eq!(names[1], "lookup_bbbbbb");
    assert_eq!(names[2], long);
    assert_eq!(names[3], format!("{}_dddddd", &long[..57]), "still within 64 characters");
    let tags = rows(&db, "SELECT name FROM tags ORDER BY id").await;
    assert_eq!(tags, vec![vec!["VIP".to_owned()], vec!["vip bbbb".to_owned()]]);
    let sql = "SELECT id, status, CASE WHEN deleted_at IS NULL THEN 'live' ELSE 'retired' END FROM whatsapp_accounts ORDER BY id";
    let accounts = rows(&db, sql).await;
    assert_eq!((accounts[0][1].as_str(), accounts[0][2].as_str()), ("connected", "live"), "the oldest stays live");
    assert_eq!((accounts[1][1].as_str(), accounts[1][2].as_str()), ("disconnected", "retired"));
    let inboxes = rows(&db, "SELECT id FROM inboxes WHERE deleted_at IS NULL ORDER BY id").await;
    assert_eq!(inboxes, vec![vec!["01-inbox-a".to_owned()]], "the retired account's inbox goes with it");

    // From here the database refuses new duplicates itself.
    for sql in [
        format!(
            "INSERT INTO bot_tools VALUES ('05-tool-eeeeee', 'org1', 'lookup', 'd', 'GET', 'https://x', '{{}}', '[]', NULL, 1000, '[]', NULL, true, false, {at}, {at})"
        ),
        format!("INSERT INTO tags VALUES ('03-tag-cccc', 'org1', 'Vip', 'gray', {at}, {at})"),
        format!(
            "INSERT INTO whatsapp_accounts VALUES ('03-acct-c', 'org3', '01-inbox-a', 'w', '555', NULL, NULL, 'enc', 'connected', {at}, {at}, NULL)"
        ),
    ] {
        assert!(db.execute_unprepared(&sql).await.is_err(), "{sql}");
    }
    db.close().await.ok();
    if let Some((base, name)) = pg {
        let admin = sea_orm::Database::connect(&base).await.unwrap();
        admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\"")).await.ok();
    }
}

#[actix_web::test]
async fn whatsapp_contacts_get_their_address_in_each_inbox_and_contacts_without_whatsapp_fit() {
    let dir = tempfile::tempdir().unwrap();
    let (url, pg) = match std::env::var("CX_TEST_DATABASE_URL") {
        Ok(base) => {
            let (base, url, name) = crate::helpers::create_pg_database(&base).await;
            (url, Some((base, name)))
        }
        Err(_) => (format!("sqlite://{}?mode=rwc", dir.path().join("m.db").display()), None),
    };
    let db = sea_orm::Database::connect(&url).await.unwrap();
    // Up to the inbox settings, before contacts had channels.
    migrations::Migrator::up(&db, Some(23)).await.unwrap();
    let at = "'2026-01-01T00:00:00+00:00'";
    let later = "'2026-02-01T00:00:00+00:00'";
    for sql in [
        format!(
            "INSERT INTO inboxes (id, org_id, channel, name, created_at, updated_at) VALUES ('in-a', 'org1', 'whatsapp', 'A', {at}, {at})"
        ),
        format!(
            "INSERT INTO inboxes (id, org_id, channel, name, created_at, updated_at) VALUES ('in-b', 'org1', 'whatsapp', 'B', {at}, {at})"
        ),
        format!(
            "INSERT INTO contacts (id, org_id, wa_id, created_at, updated_at) VALUES ('c-1', 'org1', '6281', {at}, {at})"
        ),
        format!(
            "INSERT INTO contacts (id, org_id, wa_id, created_at, updated_at) VALUES ('c-2', 'org1', '6282', {at}, {at})"
        ),
        // c-1 wrote in both inboxes, twice in A; c-2 never wrote.
        format!(
            "INSERT INTO conversations (id, org_id, inbox_id, contact_id, status, created_at, updated_at) VALUES ('v-1', 'org1', 'in-a', 'c-1', 'CLOSED', {at}, {at})"
        ),
        format!(
            "INSERT INTO conversations (id, org_id, inbox_id, contact_id, status, created_at, updated_at) VALUES ('v-2', 'org1', 'in-a', 'c-1', 'OPEN', {later}, {later})"
        ),
        format!(
            "INSERT INTO conversations (id, org_id, inbox_id, contact_id, status, created_at, updated_at) VALUES ('v-3', 'org1', 'in-b', 'c-1', 'OPEN', {later}, {later})"
        ),
    ] {
        db.execute_unprepared(&sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    migrations::Migrator::up(&db, None).await.unwrap();

    let links = rows(&db, "SELECT contact_id, inbox_id, source_id FROM contact_inboxes ORDER BY inbox_id").await;
    assert_eq!(
        links,
        vec![vec!["c-1".to_owned(), "in-a".into(), "6281".into()], vec!["c-1".into(), "in-b".into(), "6281".into()]]
    );
    // Customers without WhatsApp share the empty WhatsApp id; a WhatsApp id stays unique, and so
    // does a verified identifier.
    for sql in [
        format!(
            "INSERT INTO contacts (id, org_id, wa_id, identifier, created_at, updated_at) VALUES ('c-3', 'org1', '', 'user-7', {at}, {at})"
        ),
        format!(
            "INSERT INTO contacts (id, org_id, wa_id, created_at, updated_at) VALUES ('c-4', 'org1', '', {at}, {at})"
        ),
        format!(
            "INSERT INTO contacts (id, org_id, wa_id, identifier, created_at, updated_at) VALUES ('c-5', 'org2', '', 'user-7', {at}, {at})"
        ),
    ] {
        db.execute_unprepared(&sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    for sql in [
        format!(
            "INSERT INTO contacts (id, org_id, wa_id, created_at, updated_at) VALUES ('c-6', 'org1', '6281', {at}, {at})"
        ),
        format!(
            "INSERT INTO contacts (id, org_id, wa_id, identifier, created_at, updated_at) VALUES ('c-7', 'org1', '', 'user-7', {at}, {at})"
        ),
        format!("INSERT INTO contact_inboxes VALUES ('x', 'org1', 'c-2', 'in-a', '6281', {at})"),
    ] {
        assert!(db.execute_unprepared(&sql).await.is_err(), "{sql}");
    }
    db.close().await.ok();
    if let Some((base, name)) = pg {
        let admin = sea_orm::Database::connect(&base).await.unwrap();
        admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\"")).await.ok();
    }
}

/// The indexes of `m20261208_000028_flat_costs`.
const FLAT_COST_INDEXES: [&str; 12] = [
    "ix_conversations_org_recent",
    "ix_conversations_org_id",
    "ix_conversations_open_recent",
    "ix_conversations_open_assignee",
    "ix_conversations_open_load",
    "ix_conversations_open_waiting",
    "ix_conversations_queue",
    "ix_messages_failed_open",
    "ix_messages_failed_open_recent",
    "ix_messages_failed_discarded",
    "ix_messages_pending",
    "ix_messages_surveys",
];

#[actix_web::test]
async fn the_flat_cost_indexes_come_and_go_with_their_migration() {
    let dir = tempfile::tempdir().unwrap();
    let (url, pg) = match std::env::var("CX_TEST_DATABASE_URL") {
        Ok(base) => {
            let (base, url, name) = crate::helpers::create_pg_database(&base).await;
            (url, Some((base, name)))
        }
        Err(_) => (format!("sqlite://{}?mode=rwc", dir.path().join("m.db").display()), None),
    };
    let db = sea_orm::Database::connect(&url).await.unwrap();
    let listed = FLAT_COST_INDEXES.map(|n| format!("'{n}'")).join(", ");
    let sql = match pg {
        Some(_) => format!("SELECT indexname::text FROM pg_indexes WHERE indexname IN ({listed}) ORDER BY 1"),
        None => format!("SELECT name FROM sqlite_master WHERE type = 'index' AND name IN ({listed}) ORDER BY 1"),
    };
    let mut all: Vec<Vec<String>> = FLAT_COST_INDEXES.iter().map(|n| vec![(*n).to_owned()]).collect();
    all.sort();

    migrations::Migrator::up(&db, None).await.unwrap();
    assert_eq!(rows(&db, &sql).await, all);
    // Down to just before this migration, however many came after it.
    let steps = {
        use migrations::MigratorTrait;
        migrations::Migrator::migrations().iter().rev().position(|m| m.name() == "m20261208_000028_flat_costs").unwrap()
            + 1
    };
    migrations::Migrator::down(&db, Some(steps as u32)).await.unwrap();
    assert_eq!(rows(&db, &sql).await, Vec::<Vec<String>>::new(), "down drops them");
    migrations::Migrator::up(&db, None).await.unwrap();
    assert_eq!(rows(&db, &sql).await, all, "and up makes them again");

    db.close().await.ok();
    if let Some((base, name)) = pg {
        let admin = sea_orm::Database::connect(&base).await.unwrap();
        admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\"")).await.ok();
    }
}
