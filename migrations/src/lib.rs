//! Schema migrations, identical on SQLite and PostgreSQL. One file per migration, all listed in
//! [`Migrator`]; the server runs them at start-up and `cx-inbox migrate` runs them alone.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_initial;
mod m20261122_000002_one_open_conversation;
mod m20261122_000003_outbox;
mod m20261122_000004_tags_contacts;
mod m20261122_000005_conversation_fields;
mod m20261122_000006_media;
mod m20261122_000007_reactions;
mod m20261122_000008_simulated;
mod m20261122_000009_bot_epoch;
mod m20261122_000010_people_routing;
mod m20261122_000011_bot;
mod m20261129_000012_message_bot_epoch;
mod m20261129_000013_bot_tool_names;
mod m20261129_000014_contact_profile_name;
mod m20261129_000015_unique_live_phone_number;
mod m20261129_000016_tag_names_any_case;
mod m20261129_000017_reusable_user_email;
mod m20261129_000018_sessions_valid_after;
mod m20261202_000019_answered_through;
mod m20261207_000020_templates;
mod m20261207_000021_account_alerts;
mod m20261207_000022_campaigns;
mod m20261207_000023_inbox_settings;
mod m20261207_000024_contact_channels;
mod m20261207_000025_events_by_conversation;
mod m20261207_000026_webhook_deliveries;
mod m20261207_000027_csat;
mod m20261208_000028_flat_costs;
mod m20261208_000029_knowledge_fts;
mod m20261209_000030_bucket_counts;
mod m20261210_000031_lean_message_indexes;

pub struct Migrator;

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_initial::Migration),
            Box::new(m20261122_000002_one_open_conversation::Migration),
            Box::new(m20261122_000003_outbox::Migration),
            Box::new(m20261122_000004_tags_contacts::Migration),
            Box::new(m20261122_000005_conversation_fields::Migration),
            Box::new(m20261122_000006_media::Migration),
            Box::new(m20261122_000007_reactions::Migration),
            Box::new(m20261122_000008_simulated::Migration),
            Box::new(m20261122_000009_bot_epoch::Migration),
            Box::new(m20261122_000010_people_routing::Migration),
            Box::new(m20261122_000011_bot::Migration),
            Box::new(m20261129_000012_message_bot_epoch::Migration),
            Box::new(m20261129_000013_bot_tool_names::Migration),
            Box::new(m20261129_000014_contact_profile_name::Migration),
            Box::new(m20261129_000015_unique_live_phone_number::Migration),
            Box::new(m20261129_000016_tag_names_any_case::Migration),
            Box::new(m20261129_000017_reusable_user_email::Migration),
            Box::new(m20261129_000018_sessions_valid_after::Migration),
            Box::new(m20261202_000019_answered_through::Migration),
            Box::new(m20261207_000020_templates::Migration),
            Box::new(m20261207_000021_account_alerts::Migration),
            Box::new(m20261207_000022_campaigns::Migration),
            Box::new(m20261207_000023_inbox_settings::Migration),
            Box::new(m20261207_000024_contact_channels::Migration),
            Box::new(m20261207_000025_events_by_conversation::Migration),
            Box::new(m20261207_000026_webhook_deliveries::Migration),
            Box::new(m20261207_000027_csat::Migration),
            Box::new(m20261208_000028_flat_costs::Migration),
            Box::new(m20261208_000029_knowledge_fts::Migration),
            Box::new(m20261209_000030_bucket_counts::Migration),
            Box::new(m20261210_000031_lean_message_indexes::Migration),
        ]
    }
}
