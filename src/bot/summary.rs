//! The recent-messages summary of a conversation: what an agent reads when the bot hands over,
//! and what is handed back to the bot when no model writes one.

use entities::enums::{ConversationStatus, Direction};

/// Builds a summary from the newest messages, oldest first: who the customer is, what was said
/// on each side, and what the customer asked last.
pub fn summarize(contact: Option<&str>, status: ConversationStatus, messages: &[entities::message::Model]) -> String {
    let mut out = format!("Conversation with {} ({}).", contact.unwrap_or("the customer"), status);
    let visible: Vec<_> = messages.iter().filter(|m| !m.hidden).collect();
    if visible.is_empty() {
        out.push_str(" No messages yet.");
        return out;
    }
    out.push_str("\nRecent messages:");
    for m in &visible {
        let who = if m.direction == Direction::Inbound { "Customer" } else { "Agent" };
        let text = m.text.clone().unwrap_or_else(|| format!("[{}]", m.message_type));
        let text: String = text.chars().take(200).collect();
        out.push_str(&format!("\n- {who}: {text}"));
    }
    if let Some(last) = visible.iter().rev().find(|m| m.direction == Direction::Inbound) {
        let waiting = visible.last().is_some_and(|m| m.id == last.id);
        if waiting && let Some(t) = &last.text {
            out.push_str(&format!("\nWaiting on a reply to: {}", t.chars().take(200).collect::<String>()));
        }
    }
    out
}
