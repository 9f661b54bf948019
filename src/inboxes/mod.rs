//! Inboxes as channels: a WhatsApp number, a live-chat widget or an API channel, each with the
//! settings every channel shares (greeting, auto-assignment, working hours, CSAT, bot config)
//! and its own (the widget's token, look, identity secret and origins; the API channel's
//! webhook and token). `manage` creates, lists, changes and deletes them; `settings` checks the
//! JSON settings; `tokens` makes their secrets; `whatsapp` connects a number as an inbox and
//! answers what only a WhatsApp inbox has (template sync, health); `avatar` keeps its image.

pub mod avatar;
mod manage;
mod settings;
mod tokens;
pub mod whatsapp;

pub use manage::{
    Created, Inbox, InboxInput, Listed, Secret, bot, create, defaults, delete, delete_with_conversations, get, list,
    list_with_bot, rotate, update,
};
pub use settings::{CsatConfig, SurveyRule, WidgetSettings, parse_channel};
pub use tokens::API_TOKEN_PREFIX;
