//! Channels: how messages come in from and go out to customers. One folder per provider, and
//! the router that sends each outbound message through its inbox's channel.

pub mod api;
pub mod livechat;
mod router;
pub mod whatsapp;

pub use router::ChannelRouter;
