//! The live-chat widget: the website's visitors write from an iframe on the business's site.
//! `sender` delivers agents' and the bot's messages (through the visitor's socket, so nothing
//! to call).

mod sender;

pub use sender::LivechatSender;
