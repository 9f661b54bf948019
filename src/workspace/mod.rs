//! The organization's workspace: what admins set up for everyone (tags today; teams and routing
//! settings move here from their handlers). Functions take the runtime or a connection and
//! answer a [`crate::domain::Error`].

pub mod routing;
pub mod rules;
pub mod tags;
pub mod teams;
