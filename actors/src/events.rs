//! Events as agents receive them. Names are `noun.verb` in the past tense. An event is built once,
//! after its row committed, with its wire JSON already rendered so fan-out to many sockets copies
//! a pointer, not a document.

use serde::Serialize;

/// The event names the runtime emits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventName {
    MessageCreated,
    MessageUpdated,
    ConversationCreated,
    ConversationUpdated,
    ConversationAssigned,
    ConversationStatusChanged,
    ConversationRated,
    ContactUpdated,
    TagCreated,
    TagUpdated,
    TagDeleted,
    AgentPresenceChanged,
    AgentIdleDetected,
    AgentRemoved,
    TemplateStatusChanged,
    TemplateQualityChanged,
    TemplateCategoryChanged,
    CampaignProgress,
    ConversationsRemoved,
    ApiKeyRevoked,
    AccountAlert,
}

impl EventName {
    pub fn as_str(self) -> &'static str {
        match self {
            EventName::MessageCreated => "message.created",
            EventName::MessageUpdated => "message.updated",
            EventName::ConversationCreated => "conversation.created",
            EventName::ConversationUpdated => "conversation.updated",
            EventName::ConversationAssigned => "conversation.assigned",
            EventName::ConversationStatusChanged => "conversation.status_changed",
            EventName::ConversationRated => "conversation.rated",
            EventName::ContactUpdated => "contact.updated",
            EventName::TagCreated => "tag.created",
            EventName::TagUpdated => "tag.updated",
            EventName::TagDeleted => "tag.deleted",
            EventName::AgentPresenceChanged => "agent.presence_changed",
            EventName::AgentIdleDetected => "agent.idle_detected",
            EventName::AgentRemoved => "agent.removed",
            EventName::TemplateStatusChanged => "template.status_changed",
            EventName::TemplateQualityChanged => "template.quality_changed",
            EventName::TemplateCategoryChanged => "template.category_changed",
            EventName::CampaignProgress => "campaign.progress",
            EventName::ConversationsRemoved => "conversations.removed",
            EventName::ApiKeyRevoked => "api_key.revoked",
            EventName::AccountAlert => "account.alert",
        }
    }
}

/// A committed event.
#[derive(Debug)]
pub struct Event {
    pub org_id: String,
    /// Position in the organization's stream; what cursors point at.
    pub org_seq: i64,
    pub conversation_id: Option<String>,
    /// Position in the conversation's stream.
    pub seq: Option<i64>,
    pub name: String,
    /// `{"event", "conversationId", "seq", "cursor", "data"}` as sent on the socket.
    pub wire: bytestring::ByteString,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Wire<'a> {
    event: &'a str,
    conversation_id: Option<&'a str>,
    seq: Option<i64>,
    cursor: String,
    data: Option<&'a serde_json::value::RawValue>,
}

impl Event {
    /// Builds an event from its stored parts; `payload` is the JSON text of its data.
    pub fn from_parts(
        org_id: String,
        org_seq: i64,
        conversation_id: Option<String>,
        seq: Option<i64>,
        name: String,
        payload: &str,
    ) -> Event {
        let raw = serde_json::value::RawValue::from_string(payload.to_owned()).ok();
        let wire = serde_json::to_string(&Wire {
            event: &name,
            conversation_id: conversation_id.as_deref(),
            seq,
            cursor: Cursor(org_seq).encode(),
            data: raw.as_deref(),
        })
        .unwrap_or_default();
        Event { org_id, org_seq, conversation_id, seq, name, wire: wire.into() }
    }

    /// Rebuilds an event another node rendered.
    pub fn from_wire(
        org_id: String,
        org_seq: i64,
        conversation_id: Option<String>,
        seq: Option<i64>,
        name: String,
        wire: String,
    ) -> Event {
        Event { org_id, org_seq, conversation_id, seq, name, wire: wire.into() }
    }

    /// An ephemeral frame (typing): `org_seq` 0, no cursor, never stored. `wire` is
    /// `{"event", "conversationId", "data"}`.
    pub fn ephemeral(org_id: String, conversation_id: String, name: &str, data: serde_json::Value) -> Event {
        let wire = serde_json::json!({"event": name, "conversationId": conversation_id, "data": data}).to_string();
        Event {
            org_id,
            org_seq: 0,
            conversation_id: Some(conversation_id),
            seq: None,
            name: name.to_owned(),
            wire: wire.into(),
        }
    }

    /// Whether this is an ephemeral frame rather than a stored event.
    pub fn is_ephemeral(&self) -> bool {
        self.org_seq == 0
    }

    pub fn from_row(row: entities::event::Model) -> Event {
        Event::from_parts(row.org_id, row.org_seq, row.conversation_id, row.seq, row.name, &row.payload)
    }
}

/// An opaque position in an organization's event stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor(pub i64);

impl Cursor {
    const PREFIX: &'static str = "ev1.";

    pub fn encode(self) -> String {
        format!("{}{:x}", Self::PREFIX, self.0)
    }

    pub fn decode(s: &str) -> Option<Cursor> {
        let hex = s.strip_prefix(Self::PREFIX)?;
        i64::from_str_radix(hex, 16).ok().filter(|n| *n >= 0).map(Cursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        for n in [0, 1, 255, i64::MAX] {
            assert_eq!(Cursor::decode(&Cursor(n).encode()), Some(Cursor(n)));
        }
        assert_eq!(Cursor::decode("12"), None);
        assert_eq!(Cursor::decode("ev1.zz"), None);
        assert_eq!(Cursor::decode("ev1.-1"), None);
    }

    #[test]
    fn wire_form_embeds_the_data_verbatim() {
        let e = Event::from_parts("o".into(), 10, Some("c".into()), Some(3), "message.created".into(), r#"{"id":"m"}"#);
        let v: serde_json::Value = serde_json::from_str(&e.wire).unwrap_or_default();
        assert_eq!(v["event"], "message.created");
        assert_eq!(v["conversationId"], "c");
        assert_eq!(v["seq"], 3);
        assert_eq!(v["cursor"], Cursor(10).encode());
        assert_eq!(v["data"]["id"], "m");
    }
}
