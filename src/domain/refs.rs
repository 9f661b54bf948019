//! Ids a request body names. Each must be an object of the caller's organization: an id that
//! names nothing, or another organization's object, is a 400 on the field that holds it (a
//! configuration that pointed at another organization's object would leak it, or break later).
//! The object in the path, by contrast, is a 404 (see each handler).

use entities::{
    bot_config, bot_preset, bot_tool, conversation, message, organization, routing_rule, tag, team, user,
    whatsapp_account,
};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter};

use super::{Error, Result};

/// The kinds of object a body may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Team,
    /// A user who is not deleted.
    User,
    Tag,
    Tool,
    Preset,
    Config,
    Conversation,
    Message,
    WhatsappAccount,
    RoutingRule,
    Organization,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::Team => "team",
            Kind::User => "user",
            Kind::Tag => "tag",
            Kind::Tool => "tool",
            Kind::Preset => "provider preset",
            Kind::Config => "bot config",
            Kind::Conversation => "conversation",
            Kind::Message => "message",
            Kind::WhatsappAccount => "WhatsApp account",
            Kind::RoutingRule => "routing rule",
            Kind::Organization => "organization",
        }
    }
}

/// How many of `ids` are objects of `kind` in `org_id` (each id counted once).
async fn count(db: &impl ConnectionTrait, org_id: &str, kind: Kind, ids: &[String]) -> std::result::Result<u64, DbErr> {
    let ids: Vec<String> = {
        let mut v = ids.to_vec();
        v.sort_unstable();
        v.dedup();
        v
    };
    macro_rules! owned {
        ($m:ident) => {
            $m::Entity::find().filter($m::Column::Id.is_in(ids)).filter($m::Column::OrgId.eq(org_id)).count(db).await
        };
    }
    match kind {
        Kind::Team => owned!(team),
        Kind::Tag => owned!(tag),
        Kind::Tool => owned!(bot_tool),
        Kind::Preset => owned!(bot_preset),
        Kind::Config => owned!(bot_config),
        Kind::Conversation => owned!(conversation),
        Kind::Message => owned!(message),
        Kind::WhatsappAccount => owned!(whatsapp_account),
        Kind::RoutingRule => owned!(routing_rule),
        Kind::User => {
            user::Entity::find()
                .filter(user::Column::Id.is_in(ids))
                .filter(user::Column::OrgId.eq(org_id))
                .filter(user::Column::DeletedAt.is_null())
                .count(db)
                .await
        }
        // Only a SUPER_ADMIN's routes name organizations, and they may name any.
        Kind::Organization => organization::Entity::find().filter(organization::Column::Id.is_in(ids)).count(db).await,
    }
}

/// `id`, held by `field`, must name an object of `kind` in the caller's organization.
pub async fn require(db: &impl ConnectionTrait, org_id: &str, field: &str, kind: Kind, id: &str) -> Result<()> {
    require_all(db, org_id, field, kind, std::slice::from_ref(&id.to_owned())).await
}

/// [`require`] for an optional field: nothing to check when it is absent.
pub async fn require_opt(
    db: &impl ConnectionTrait,
    org_id: &str,
    field: &str,
    kind: Kind,
    id: Option<&str>,
) -> Result<()> {
    match id {
        Some(id) => require(db, org_id, field, kind, id).await,
        None => Ok(()),
    }
}

/// Every one of `ids`, held by `field`, must name an object of `kind` in the organization.
pub async fn require_all(
    db: &impl ConnectionTrait,
    org_id: &str,
    field: &str,
    kind: Kind,
    ids: &[String],
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let distinct = {
        let mut v = ids.to_vec();
        v.sort_unstable();
        v.dedup();
        v.len() as u64
    };
    if count(db, org_id, kind, ids).await? == distinct {
        return Ok(());
    }
    let noun = kind.noun();
    let message = if ids.len() == 1 {
        format!("{field} names no {noun} of this organization")
    } else {
        format!("{field} holds ids that name no {noun} of this organization")
    };
    Err(Error::invalid(field, message))
}
