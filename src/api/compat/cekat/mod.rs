//! The Cekat-style compatible API (seed 001): its envelope and error shape, and its routes.

pub mod envelope;
pub mod messages;
