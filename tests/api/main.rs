//! Integration tests: the real server on port 0, spoken to over HTTP and WebSocket, with a fake
//! Graph API. SQLite by default; a fresh PostgreSQL database per test when
//! `CX_TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod account_alerts;
mod account_health;
mod admission;
mod agents;
mod api_keys;
mod assignment;
mod auth;
mod bot;
mod burst;
mod cli;
mod cluster;
mod contacts;
mod conversation_list;
mod conversation_manage;
mod conversations;
mod dev;
mod fake_graph_accounts;
mod fake_llm;
mod health;
mod helpers;
mod invitations;
mod layers;
mod login_codes;
mod media;
mod media_send;
mod migrations;
mod outbox;
mod profile;
mod realtime;
mod replies;
mod routing;
mod smtp_sink;
mod spec;
mod tags;
mod teams;
mod tenancy;
mod ui;
mod users;
mod webhook;
mod whatsapp_accounts;
