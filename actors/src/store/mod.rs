//! Queries and mutations of the runtime, as small functions over `&impl ConnectionTrait` so the
//! same code runs inside a transaction or on the pool.

pub mod contacts;
pub mod conversation_list;
pub mod conversations;
pub mod events;
pub mod inboxes;
pub mod literal;
pub mod messages;
pub mod tags;
pub mod text;

/// The SQL text of bind parameter `n` (1-based) on this backend, for statements written by hand.
pub fn placeholder(backend: sea_orm::DbBackend, n: usize) -> String {
    match backend {
        sea_orm::DbBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    }
}
