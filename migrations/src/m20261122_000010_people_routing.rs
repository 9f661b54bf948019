//! People and routing: teams and their members, routing rules, invitations, email login codes,
//! the mail log (the dev mailbox), presence and capacity fields on users, the team and queue
//! fields on conversations, and the organization's routing settings.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000010_people_routing"
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
fn int_null<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).integer().null().to_owned()
}

#[derive(DeriveIden, Clone)]
enum Users {
    Table,
    AvatarPath,
    MaxConcurrent,
    StatusChangedAt,
    LastSeenAt,
    LastAssignedAt,
}

#[derive(DeriveIden, Clone)]
enum Organizations {
    Table,
    RoutingSettings,
}

#[derive(DeriveIden, Clone)]
enum Conversations {
    Table,
    OrgId,
    TeamId,
    QueuedAt,
    AwaitingSince,
    NoticeMarker,
    AssignedTo,
}

#[derive(DeriveIden, Clone)]
enum Teams {
    Table,
    Id,
    OrgId,
    Name,
    Description,
    Strategy,
    MaxOpenPerAgent,
    Schedule,
    IsActive,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[derive(DeriveIden, Clone)]
enum TeamMembers {
    Table,
    TeamId,
    UserId,
    OrgId,
    Role,
    CreatedAt,
}

#[derive(DeriveIden, Clone)]
enum RoutingRules {
    Table,
    Id,
    OrgId,
    Name,
    TeamId,
    MatchType,
    Conditions,
    Priority,
    IsActive,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone)]
enum Invitations {
    Table,
    Id,
    OrgId,
    Email,
    Name,
    Role,
    TeamId,
    UserId,
    TokenHash,
    Status,
    InvitedBy,
    ExpiresAt,
    AcceptedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone)]
enum LoginCodes {
    Table,
    Id,
    Email,
    CodeHash,
    Attempts,
    ExpiresAt,
    UsedAt,
    CreatedAt,
}

#[derive(DeriveIden, Clone)]
enum Mails {
    Table,
    Id,
    OrgId,
    ToAddress,
    Subject,
    Body,
    Transport,
    Status,
    Error,
    CreatedAt,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for mut col in [
            text_null(Users::AvatarPath),
            int_null(Users::MaxConcurrent),
            time_null(Users::StatusChangedAt),
            time_null(Users::LastSeenAt),
            time_null(Users::LastAssignedAt),
        ] {
            m.alter_table(Table::alter().table(Users::Table).add_column(&mut col).to_owned()).await?;
        }
        m.alter_table(
            Table::alter()
                .table(Organizations::Table)
                .add_column(long_text_null(Organizations::RoutingSettings))
                .to_owned(),
        )
        .await?;
        for mut col in [
            text_null(Conversations::TeamId),
            time_null(Conversations::QueuedAt),
            time_null(Conversations::AwaitingSince),
            text_null(Conversations::NoticeMarker),
        ] {
            m.alter_table(Table::alter().table(Conversations::Table).add_column(&mut col).to_owned()).await?;
        }
        m.create_index(
            Index::create()
                .name("ix_conversations_assignee")
                .table(Conversations::Table)
                .col(Conversations::OrgId)
                .col(Conversations::AssignedTo)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Teams::Table)
                .col(id(Teams::Id))
                .col(text(Teams::OrgId))
                .col(text(Teams::Name))
                .col(long_text_null(Teams::Description))
                .col(text(Teams::Strategy))
                .col(int_null(Teams::MaxOpenPerAgent))
                .col(long_text_null(Teams::Schedule))
                .col(ColumnDef::new(Teams::IsActive).boolean().not_null().default(true))
                .col(time(Teams::CreatedAt))
                .col(time(Teams::UpdatedAt))
                .col(time_null(Teams::DeletedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_teams_org").table(Teams::Table).col(Teams::OrgId).to_owned()).await?;

        m.create_table(
            Table::create()
                .table(TeamMembers::Table)
                .col(text(TeamMembers::TeamId))
                .col(text(TeamMembers::UserId))
                .col(text(TeamMembers::OrgId))
                .col(text(TeamMembers::Role))
                .col(time(TeamMembers::CreatedAt))
                .primary_key(Index::create().col(TeamMembers::TeamId).col(TeamMembers::UserId))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_team_members_user").table(TeamMembers::Table).col(TeamMembers::UserId).to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(RoutingRules::Table)
                .col(id(RoutingRules::Id))
                .col(text(RoutingRules::OrgId))
                .col(text(RoutingRules::Name))
                .col(text(RoutingRules::TeamId))
                .col(text(RoutingRules::MatchType))
                .col(ColumnDef::new(RoutingRules::Conditions).text().not_null())
                .col(ColumnDef::new(RoutingRules::Priority).integer().not_null())
                .col(ColumnDef::new(RoutingRules::IsActive).boolean().not_null().default(true))
                .col(time(RoutingRules::CreatedAt))
                .col(time(RoutingRules::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_routing_rules_org")
                .table(RoutingRules::Table)
                .col(RoutingRules::OrgId)
                .col(RoutingRules::Priority)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Invitations::Table)
                .col(id(Invitations::Id))
                .col(text(Invitations::OrgId))
                .col(text(Invitations::Email))
                .col(text_null(Invitations::Name))
                .col(text(Invitations::Role))
                .col(text_null(Invitations::TeamId))
                .col(text_null(Invitations::UserId))
                .col(text(Invitations::TokenHash))
                .col(text(Invitations::Status))
                .col(text_null(Invitations::InvitedBy))
                .col(time(Invitations::ExpiresAt))
                .col(time_null(Invitations::AcceptedAt))
                .col(time(Invitations::CreatedAt))
                .col(time(Invitations::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_invitations_token")
                .table(Invitations::Table)
                .col(Invitations::TokenHash)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_invitations_org_email")
                .table(Invitations::Table)
                .col(Invitations::OrgId)
                .col(Invitations::Email)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(LoginCodes::Table)
                .col(id(LoginCodes::Id))
                .col(text(LoginCodes::Email))
                .col(text(LoginCodes::CodeHash))
                .col(ColumnDef::new(LoginCodes::Attempts).integer().not_null().default(0))
                .col(time(LoginCodes::ExpiresAt))
                .col(time_null(LoginCodes::UsedAt))
                .col(time(LoginCodes::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_login_codes_email").table(LoginCodes::Table).col(LoginCodes::Email).to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Mails::Table)
                .col(id(Mails::Id))
                .col(text_null(Mails::OrgId))
                .col(text(Mails::ToAddress))
                .col(text(Mails::Subject))
                .col(ColumnDef::new(Mails::Body).text().not_null())
                .col(text(Mails::Transport))
                .col(text(Mails::Status))
                .col(long_text_null(Mails::Error))
                .col(time(Mails::CreatedAt))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Mails::Table.into_iden(),
            LoginCodes::Table.into_iden(),
            Invitations::Table.into_iden(),
            RoutingRules::Table.into_iden(),
            TeamMembers::Table.into_iden(),
            Teams::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        m.drop_index(Index::drop().name("ix_conversations_assignee").table(Conversations::Table).to_owned()).await?;
        for col in
            [Conversations::TeamId, Conversations::QueuedAt, Conversations::AwaitingSince, Conversations::NoticeMarker]
        {
            m.alter_table(Table::alter().table(Conversations::Table).drop_column(col).to_owned()).await?;
        }
        m.alter_table(
            Table::alter().table(Organizations::Table).drop_column(Organizations::RoutingSettings).to_owned(),
        )
        .await?;
        for col in
            [Users::AvatarPath, Users::MaxConcurrent, Users::StatusChangedAt, Users::LastSeenAt, Users::LastAssignedAt]
        {
            m.alter_table(Table::alter().table(Users::Table).drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}
