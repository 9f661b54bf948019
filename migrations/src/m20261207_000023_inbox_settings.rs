//! An inbox carries its own settings, whatever its channel: a greeting, whether its conversations
//! are auto-assigned, working hours in its time zone (replacing the organization's when
//! enabled), the CSAT survey, the bot config that answers it, and an avatar. A live-chat inbox
//! adds the widget's public `website_token`, its look, the identity-verification secret (kept
//! encrypted: the server computes the HMAC, so it cannot be hashed) and the origins allowed to
//! embed it; an API inbox adds the webhook it posts to (secret encrypted) and the token its
//! system sends with (kept hashed, shown once). `disabled_at` turns an inbox off without
//! deleting it.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000023_inbox_settings"
    }
}

#[derive(DeriveIden, Clone)]
enum Inboxes {
    Table,
    GreetingEnabled,
    GreetingMessage,
    EnableAutoAssignment,
    WorkingHoursEnabled,
    WorkingHours,
    Timezone,
    CsatSurveyEnabled,
    CsatConfig,
    BotConfigId,
    AvatarPath,
    WebsiteToken,
    WidgetSettings,
    HmacSecretEnc,
    HmacMandatory,
    AllowedOrigins,
    WebhookUrl,
    WebhookSecretEnc,
    ApiTokenHash,
    ApiTokenPrefix,
    DisabledAt,
}

fn flag(col: Inboxes, default: bool) -> ColumnDef {
    ColumnDef::new(col).boolean().not_null().default(default).to_owned()
}
fn text_null(col: Inboxes) -> ColumnDef {
    ColumnDef::new(col).string().null().to_owned()
}
fn long_text_null(col: Inboxes) -> ColumnDef {
    ColumnDef::new(col).text().null().to_owned()
}

fn columns() -> Vec<ColumnDef> {
    vec![
        flag(Inboxes::GreetingEnabled, false),
        long_text_null(Inboxes::GreetingMessage),
        flag(Inboxes::EnableAutoAssignment, true),
        flag(Inboxes::WorkingHoursEnabled, false),
        long_text_null(Inboxes::WorkingHours),
        text_null(Inboxes::Timezone),
        flag(Inboxes::CsatSurveyEnabled, false),
        long_text_null(Inboxes::CsatConfig),
        text_null(Inboxes::BotConfigId),
        text_null(Inboxes::AvatarPath),
        text_null(Inboxes::WebsiteToken),
        long_text_null(Inboxes::WidgetSettings),
        long_text_null(Inboxes::HmacSecretEnc),
        flag(Inboxes::HmacMandatory, false),
        long_text_null(Inboxes::AllowedOrigins),
        long_text_null(Inboxes::WebhookUrl),
        long_text_null(Inboxes::WebhookSecretEnc),
        text_null(Inboxes::ApiTokenHash),
        text_null(Inboxes::ApiTokenPrefix),
        ColumnDef::new(Inboxes::DisabledAt).timestamp_with_time_zone().null().to_owned(),
    ]
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        for mut col in columns() {
            m.alter_table(Table::alter().table(Inboxes::Table).add_column(&mut col).to_owned()).await?;
        }
        // Both tokens find their inbox; NULLs (other channels) never collide on either database.
        for (name, col) in
            [("ux_inboxes_website_token", Inboxes::WebsiteToken), ("ux_inboxes_api_token_hash", Inboxes::ApiTokenHash)]
        {
            m.create_index(Index::create().name(name).table(Inboxes::Table).col(col).unique().to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for name in ["ux_inboxes_api_token_hash", "ux_inboxes_website_token"] {
            m.drop_index(Index::drop().name(name).table(Inboxes::Table).to_owned()).await?;
        }
        for col in columns().into_iter().rev() {
            m.alter_table(
                Table::alter().table(Inboxes::Table).drop_column(Alias::new(col.get_column_name())).to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
