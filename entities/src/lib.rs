//! sea-orm models of cx-inbox, one module per table, and the enums stored in them.
//!
//! Models only: queries and mutations live next to the code that runs them (`actors::store`,
//! `cx_inbox::…`) as small functions over `&impl ConnectionTrait`.

pub mod account_alert;
pub mod api_key;
pub mod bot_chunk;
pub mod bot_config;
pub mod bot_document;
pub mod bot_feedback;
pub mod bot_intent;
pub mod bot_knowledge_stat;
pub mod bot_media;
pub mod bot_preset;
pub mod bot_prompt_version;
pub mod bot_session;
pub mod bot_snapshot;
pub mod bot_template;
pub mod bot_tool;
pub mod bot_trace;
pub mod bot_usage;
pub mod campaign;
pub mod campaign_recipient;
pub mod contact;
pub mod contact_inbox;
pub mod conversation;
pub mod conversation_count;
pub mod conversation_tag;
pub mod csat_response;
pub mod enums;
pub mod event;
pub mod inbox;
pub mod invitation;
pub mod login_code;
pub mod mail;
pub mod message;
pub mod organization;
pub mod outbox_count;
pub mod refresh_token;
pub mod routing_rule;
pub mod tag;
pub mod team;
pub mod team_member;
pub mod user;
pub mod webhook_attempt;
pub mod webhook_delivery;
pub mod whatsapp_account;
pub mod whatsapp_meta_config;
pub mod whatsapp_template;
