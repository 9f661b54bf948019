//! The runtime's tables: tenants and people, channels, contacts, conversations, messages and the
//! event outbox.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000001_initial"
    }
}

fn id<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).string().not_null().primary_key().to_owned()
}
fn text<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).string().not_null().to_owned()
}
fn text_null<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).string().null().to_owned()
}
fn long_text_null<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).text().null().to_owned()
}
fn time<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().not_null().to_owned()
}
fn time_null<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().null().to_owned()
}
fn flag<T: IntoIden>(col: T, default: bool) -> ColumnDef {
    ColumnDef::new(col).boolean().not_null().default(default).to_owned()
}
fn counter<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().default(0).to_owned()
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Organizations::Table)
                .col(id(Organizations::Id))
                .col(text(Organizations::Name))
                .col(flag(Organizations::BotEnabled, true))
                .col(flag(Organizations::OnboardingCompleted, false))
                .col(counter(Organizations::EventSeq))
                .col(time(Organizations::CreatedAt))
                .col(time(Organizations::UpdatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(id(Users::Id))
                .col(text(Users::OrgId))
                .col(text(Users::Email))
                .col(text(Users::Name))
                .col(text_null(Users::PasswordHash))
                .col(text(Users::Role))
                .col(text(Users::Status))
                .col(time(Users::CreatedAt))
                .col(time(Users::UpdatedAt))
                .col(time_null(Users::DeletedAt))
                .to_owned(),
        )
        .await?;
        unique(m, "ux_users_email", Users::Table, &[Users::Email]).await?;
        index(m, "ix_users_org", Users::Table, &[Users::OrgId]).await?;

        m.create_table(
            Table::create()
                .table(RefreshTokens::Table)
                .col(id(RefreshTokens::Id))
                .col(text(RefreshTokens::UserId))
                .col(text(RefreshTokens::OrgId))
                .col(text(RefreshTokens::FamilyId))
                .col(text(RefreshTokens::TokenHash))
                .col(time(RefreshTokens::ExpiresAt))
                .col(time_null(RefreshTokens::UsedAt))
                .col(time_null(RefreshTokens::RevokedAt))
                .col(time(RefreshTokens::CreatedAt))
                .to_owned(),
        )
        .await?;
        unique(m, "ux_refresh_tokens_hash", RefreshTokens::Table, &[RefreshTokens::TokenHash]).await?;
        index(m, "ix_refresh_tokens_family", RefreshTokens::Table, &[RefreshTokens::FamilyId]).await?;

        m.create_table(
            Table::create()
                .table(ApiKeys::Table)
                .col(id(ApiKeys::Id))
                .col(text(ApiKeys::OrgId))
                .col(text(ApiKeys::Name))
                .col(text(ApiKeys::Prefix))
                .col(text(ApiKeys::KeyHash))
                .col(text(ApiKeys::Role))
                .col(text_null(ApiKeys::CreatedBy))
                .col(flag(ApiKeys::IsActive, true))
                .col(time_null(ApiKeys::LastUsedAt))
                .col(time_null(ApiKeys::ExpiresAt))
                .col(time(ApiKeys::CreatedAt))
                .col(time(ApiKeys::UpdatedAt))
                .to_owned(),
        )
        .await?;
        unique(m, "ux_api_keys_hash", ApiKeys::Table, &[ApiKeys::KeyHash]).await?;
        index(m, "ix_api_keys_org", ApiKeys::Table, &[ApiKeys::OrgId]).await?;

        m.create_table(
            Table::create()
                .table(Inboxes::Table)
                .col(id(Inboxes::Id))
                .col(text(Inboxes::OrgId))
                .col(text(Inboxes::Channel))
                .col(text(Inboxes::Name))
                .col(time(Inboxes::CreatedAt))
                .col(time(Inboxes::UpdatedAt))
                .col(time_null(Inboxes::DeletedAt))
                .to_owned(),
        )
        .await?;
        index(m, "ix_inboxes_org", Inboxes::Table, &[Inboxes::OrgId]).await?;

        m.create_table(
            Table::create()
                .table(WhatsappAccounts::Table)
                .col(id(WhatsappAccounts::Id))
                .col(text(WhatsappAccounts::OrgId))
                .col(text(WhatsappAccounts::InboxId))
                .col(text(WhatsappAccounts::WabaId))
                .col(text(WhatsappAccounts::PhoneNumberId))
                .col(text_null(WhatsappAccounts::DisplayPhoneNumber))
                .col(text_null(WhatsappAccounts::Alias))
                .col(ColumnDef::new(WhatsappAccounts::AccessTokenEnc).text().not_null())
                .col(text(WhatsappAccounts::Status))
                .col(time(WhatsappAccounts::CreatedAt))
                .col(time(WhatsappAccounts::UpdatedAt))
                .col(time_null(WhatsappAccounts::DeletedAt))
                .to_owned(),
        )
        .await?;
        index(m, "ix_whatsapp_accounts_phone", WhatsappAccounts::Table, &[WhatsappAccounts::PhoneNumberId]).await?;
        index(m, "ix_whatsapp_accounts_org", WhatsappAccounts::Table, &[WhatsappAccounts::OrgId]).await?;

        m.create_table(
            Table::create()
                .table(Contacts::Table)
                .col(id(Contacts::Id))
                .col(text(Contacts::OrgId))
                .col(text(Contacts::WaId))
                .col(text_null(Contacts::Name))
                .col(text_null(Contacts::Phone))
                .col(time(Contacts::CreatedAt))
                .col(time(Contacts::UpdatedAt))
                .to_owned(),
        )
        .await?;
        unique(m, "ux_contacts_org_wa", Contacts::Table, &[Contacts::OrgId, Contacts::WaId]).await?;

        m.create_table(
            Table::create()
                .table(Conversations::Table)
                .col(id(Conversations::Id))
                .col(text(Conversations::OrgId))
                .col(text(Conversations::InboxId))
                .col(text(Conversations::ContactId))
                .col(text(Conversations::Status))
                .col(text_null(Conversations::AssignedTo))
                .col(ColumnDef::new(Conversations::UnreadCount).integer().not_null().default(0))
                .col(time_null(Conversations::LastMessageAt))
                .col(text_null(Conversations::LastMessagePreview))
                .col(time_null(Conversations::LastInboundAt))
                .col(counter(Conversations::EventSeq))
                .col(time_null(Conversations::ClosedAt))
                .col(time(Conversations::CreatedAt))
                .col(time(Conversations::UpdatedAt))
                .to_owned(),
        )
        .await?;
        index(m, "ix_conversations_org_status", Conversations::Table, &[Conversations::OrgId, Conversations::Status])
            .await?;
        index(m, "ix_conversations_contact", Conversations::Table, &[Conversations::ContactId]).await?;

        m.create_table(
            Table::create()
                .table(Messages::Table)
                .col(id(Messages::Id))
                .col(text(Messages::OrgId))
                .col(text(Messages::ConversationId))
                .col(text(Messages::InboxId))
                .col(text(Messages::Direction))
                .col(text(Messages::MessageType))
                .col(long_text_null(Messages::Text))
                .col(long_text_null(Messages::Content))
                .col(text(Messages::Status))
                .col(text_null(Messages::ProviderMessageId))
                .col(text_null(Messages::ErrorCode))
                .col(long_text_null(Messages::ErrorMessage))
                .col(text_null(Messages::SenderId))
                .col(time(Messages::CreatedAt))
                .col(time(Messages::UpdatedAt))
                .col(time_null(Messages::SentAt))
                .col(time_null(Messages::DeliveredAt))
                .col(time_null(Messages::ReadAt))
                .to_owned(),
        )
        .await?;
        unique(m, "ux_messages_inbox_provider_id", Messages::Table, &[Messages::InboxId, Messages::ProviderMessageId])
            .await?;
        index(m, "ix_messages_conversation", Messages::Table, &[Messages::ConversationId, Messages::Id]).await?;

        m.create_table(
            Table::create()
                .table(Events::Table)
                .col(id(Events::Id))
                .col(text(Events::OrgId))
                .col(ColumnDef::new(Events::OrgSeq).big_integer().not_null())
                .col(text_null(Events::ConversationId))
                .col(ColumnDef::new(Events::Seq).big_integer().null())
                .col(text(Events::Name))
                .col(ColumnDef::new(Events::Payload).text().not_null())
                .col(time(Events::CreatedAt))
                .to_owned(),
        )
        .await?;
        unique(m, "ux_events_org_seq", Events::Table, &[Events::OrgId, Events::OrgSeq]).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Events::Table.into_iden(),
            Messages::Table.into_iden(),
            Conversations::Table.into_iden(),
            Contacts::Table.into_iden(),
            WhatsappAccounts::Table.into_iden(),
            Inboxes::Table.into_iden(),
            ApiKeys::Table.into_iden(),
            RefreshTokens::Table.into_iden(),
            Users::Table.into_iden(),
            Organizations::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

async fn index<T: Iden + Clone + 'static>(
    m: &SchemaManager<'_>,
    name: &str,
    table: T,
    cols: &[T],
) -> Result<(), DbErr> {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for c in cols {
        stmt.col(c.clone());
    }
    m.create_index(stmt.to_owned()).await
}

async fn unique<T: Iden + Clone + 'static>(
    m: &SchemaManager<'_>,
    name: &str,
    table: T,
    cols: &[T],
) -> Result<(), DbErr> {
    let mut stmt = Index::create();
    stmt.name(name).table(table).unique();
    for c in cols {
        stmt.col(c.clone());
    }
    m.create_index(stmt.to_owned()).await
}

#[derive(DeriveIden, Clone)]
enum Organizations {
    Table,
    Id,
    Name,
    BotEnabled,
    OnboardingCompleted,
    EventSeq,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone)]
enum Users {
    Table,
    Id,
    OrgId,
    Email,
    Name,
    PasswordHash,
    Role,
    Status,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[derive(DeriveIden, Clone)]
enum RefreshTokens {
    Table,
    Id,
    UserId,
    OrgId,
    FamilyId,
    TokenHash,
    ExpiresAt,
    UsedAt,
    RevokedAt,
    CreatedAt,
}

#[derive(DeriveIden, Clone)]
enum ApiKeys {
    Table,
    Id,
    OrgId,
    Name,
    Prefix,
    KeyHash,
    Role,
    CreatedBy,
    IsActive,
    LastUsedAt,
    ExpiresAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone)]
enum Inboxes {
    Table,
    Id,
    OrgId,
    Channel,
    Name,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[derive(DeriveIden, Clone)]
enum WhatsappAccounts {
    Table,
    Id,
    OrgId,
    InboxId,
    WabaId,
    PhoneNumberId,
    DisplayPhoneNumber,
    Alias,
    AccessTokenEnc,
    Status,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[derive(DeriveIden, Clone)]
enum Contacts {
    Table,
    Id,
    OrgId,
    WaId,
    Name,
    Phone,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone)]
enum Conversations {
    Table,
    Id,
    OrgId,
    InboxId,
    ContactId,
    Status,
    AssignedTo,
    UnreadCount,
    LastMessageAt,
    LastMessagePreview,
    LastInboundAt,
    EventSeq,
    ClosedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone)]
enum Messages {
    Table,
    Id,
    OrgId,
    ConversationId,
    InboxId,
    Direction,
    MessageType,
    Text,
    Content,
    Status,
    ProviderMessageId,
    ErrorCode,
    ErrorMessage,
    SenderId,
    CreatedAt,
    UpdatedAt,
    SentAt,
    DeliveredAt,
    ReadAt,
}

#[derive(DeriveIden, Clone)]
enum Events {
    Table,
    Id,
    OrgId,
    OrgSeq,
    ConversationId,
    Seq,
    Name,
    Payload,
    CreatedAt,
}
