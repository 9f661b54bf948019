//! Enums stored as strings. Each has `as_str` (the stored and API form) and `parse`, and is a
//! sea-orm active enum, so a column can be typed with it while the stored values stay the same.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, EnumIter, DeriveActiveEnum)]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
        pub enum $name {
            $(#[serde(rename = $text)] #[sea_orm(string_value = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored and API form.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the stored and API form; `None` for anything else.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum!(
    /// What a user may do. "admin only" in the API means `Admin` or `SuperAdmin`.
    Role { SuperAdmin => "SUPER_ADMIN", Admin => "ADMIN", Agent => "AGENT" }
);

impl Role {
    pub fn is_admin(self) -> bool {
        matches!(self, Role::Admin | Role::SuperAdmin)
    }
}

string_enum!(
    /// An agent's presence.
    Presence { Online => "ONLINE", Away => "AWAY", Busy => "BUSY", Offline => "OFFLINE" }
);

string_enum!(
    /// How auto-assignment picks among a team's available agents.
    AssignStrategy { LeastLoaded => "LEAST_LOADED", RoundRobin => "ROUND_ROBIN" }
);

string_enum!(
    /// A member's role in a team.
    TeamRole { Lead => "LEAD", Member => "MEMBER" }
);

string_enum!(
    /// Where a conversation stands; the transitions are in `actors::conversation::state`.
    ConversationStatus {
        BotHandling => "BOT_HANDLING",
        HumanHandling => "HUMAN_HANDLING",
        Open => "OPEN",
        WaitingForCustomer => "WAITING_FOR_CUSTOMER",
        Closed => "CLOSED",
    }
);

string_enum!(
    /// Which way a message went; `system` is a timeline entry (assignment moves and the like).
    Direction { Inbound => "inbound", Outbound => "outbound", System => "system" }
);

string_enum!(
    /// Delivery state. Inbound messages are `received`; outbound ones go
    /// `pending` -> `sent` -> `delivered` -> `read`, or end `failed`.
    MessageStatus {
        Received => "received",
        Pending => "pending",
        Sent => "sent",
        Delivered => "delivered",
        Read => "read",
        Failed => "failed",
    }
);

impl MessageStatus {
    /// Rank along the delivery path, so a late `delivered` never overwrites `read`.
    pub fn rank(self) -> u8 {
        match self {
            MessageStatus::Received | MessageStatus::Pending => 0,
            MessageStatus::Sent => 1,
            MessageStatus::Delivered => 2,
            MessageStatus::Read => 3,
            MessageStatus::Failed => 4,
        }
    }
}

string_enum!(
    /// The kind of an inbox.
    Channel { Whatsapp => "whatsapp", Livechat => "livechat", Api => "api" }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_round_trips_through_its_text() {
        for s in ConversationStatus::ALL {
            assert_eq!(ConversationStatus::parse(s.as_str()), Some(*s));
        }
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(*r));
        }
        assert_eq!(Role::parse("admin"), None);
    }

    #[test]
    fn serde_uses_the_stored_form() {
        let json = serde_json::to_string(&ConversationStatus::HumanHandling).unwrap_or_default();
        assert_eq!(json, "\"HUMAN_HANDLING\"");
    }
}

string_enum!(
    /// Where an invitation stands (a PENDING one past its expiry is shown as EXPIRED, never
    /// stored so).
    InvitationStatus { Pending => "PENDING", Accepted => "ACCEPTED", Revoked => "REVOKED" }
);

string_enum!(
    /// A bot config: drafts, and the organization's one active config.
    ConfigStatus { Draft => "DRAFT", Active => "ACTIVE" }
);

string_enum!(
    /// A knowledge document's processing.
    DocumentStatus { Processing => "PROCESSING", Ready => "READY", Failed => "FAILED" }
);

string_enum!(
    /// A connected WhatsApp number: checked with Meta, connected while Meta could not be asked,
    /// or disconnected by an admin.
    AccountStatus { Connected => "connected", Unverified => "unverified", Disconnected => "disconnected" }
);

string_enum!(
    /// A mail: kept in the dev mailbox, sent through SMTP, or failed to send.
    MailStatus { Kept => "kept", Sent => "sent", Failed => "failed" }
);

string_enum!(
    /// A WhatsApp template's category, as Meta names it.
    TemplateCategory { Marketing => "MARKETING", Utility => "UTILITY", Authentication => "AUTHENTICATION" }
);

string_enum!(
    /// Where a WhatsApp template stands: a local draft, Meta's review and enforcement states,
    /// or removed (kept for the messages that used it).
    TemplateStatus {
        Draft => "DRAFT",
        Pending => "PENDING",
        Approved => "APPROVED",
        Rejected => "REJECTED",
        Paused => "PAUSED",
        Disabled => "DISABLED",
        InAppeal => "IN_APPEAL",
        Removed => "REMOVED",
    }
);

string_enum!(
    /// Where a campaign stands.
    CampaignStatus {
        Scheduled => "SCHEDULED",
        Running => "RUNNING",
        Paused => "PAUSED",
        Completed => "COMPLETED",
        Cancelled => "CANCELLED",
    }
);

string_enum!(
    /// Where one recipient of a campaign stands; follows their message, then their reply.
    RecipientStatus {
        Pending => "PENDING",
        Sent => "SENT",
        Delivered => "DELIVERED",
        Read => "READ",
        Failed => "FAILED",
        Replied => "REPLIED",
    }
);
