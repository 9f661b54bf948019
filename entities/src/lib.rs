//! sea-orm models of cx-inbox, one module per table, and the enums stored in them.
//!
//! Models only: queries and mutations live next to the code that runs them (`actors::store`,
//! `cx_inbox::…`) as small functions over `&impl ConnectionTrait`.

pub mod api_key;
pub mod contact;
pub mod conversation;
pub mod conversation_tag;
pub mod enums;
pub mod event;
pub mod inbox;
pub mod message;
pub mod organization;
pub mod refresh_token;
pub mod tag;
pub mod user;
pub mod whatsapp_account;
