//! Channels: how messages come in from and go out to customers. One folder per provider.

pub mod whatsapp;
