//! The live-chat widget: a website's visitors write from an iframe on the business's site.
//! `visitors` says who a visitor is (website token, signed visitor token, verified identity,
//! allowed origins); `messages` is what a visitor writes and reads; `socket` is the live
//! stream (`VisitorHub` on the event bus, a `VisitorSession` per socket); `view` is what a
//! visitor may see; `sender` delivers the business's answers (through the socket, so nothing
//! to call); `limits` are the per-visitor and per-IP rate limits.

mod limits;
pub mod messages;
mod sender;
pub mod socket;
pub mod token;
pub mod view;
pub mod visitors;

use std::sync::Arc;

use actix::{Actor, Addr};

pub use sender::LivechatSender;
pub use visitors::{Visitor, WidgetInbox};

/// The widget's node-local parts, kept in the app state.
pub struct Widget {
    /// Fans the bus's events out to this node's visitor sockets.
    pub hub: Addr<socket::VisitorHub>,
    /// Public names of agents and bots, shared by the hub and the REST answers.
    pub names: Arc<view::Names>,
    /// Write limits per visitor and per IP.
    pub limits: limits::Limits,
}

impl Widget {
    /// Starts the hub on the current arbiter.
    pub fn start(rt: &actors::Runtime, per_visitor: u32, per_ip: u32) -> Widget {
        let names = Arc::new(view::Names::default());
        let hub = socket::VisitorHub::new(rt, names.clone()).start();
        Widget { hub, names, limits: limits::Limits::new(per_visitor, per_ip) }
    }
}
