//! Shared set-up of the actor tests: a migrated in-memory SQLite database with one organization.

use ::actors::Db;
use migrations::{Migrator, MigratorTrait};
use sea_orm::{ActiveModelTrait, ActiveValue::Set};

/// An empty database holding the organization `org`.
pub async fn db_with_org() -> Db {
    let db = Db::connect("sqlite::memory:", 1, std::time::Duration::from_secs(30)).await.unwrap();
    Migrator::up(&db.conn, None).await.unwrap();
    let now = chrono::Utc::now();
    entities::organization::ActiveModel {
        id: Set("org".into()),
        name: Set("Org".into()),
        bot_enabled: Set(true),
        onboarding_completed: Set(false),
        event_seq: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&db.conn)
    .await
    .unwrap();
    db
}
