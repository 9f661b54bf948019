//! What the runtime can answer besides success. The HTTP layer maps each to a status.

use sea_orm::DbErr;

#[derive(Debug, thiserror::Error)]
pub enum ActorError {
    /// The object does not exist (or belongs to another organization).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request is valid but the current state forbids it (invalid transition, closed, …).
    #[error("{0}")]
    Conflict(String),
    /// The request names something invalid.
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("database error: {0}")]
    Db(DbErr),
    /// The actor stopped between lookup and delivery; the caller may retry.
    #[error("actor unavailable: {0}")]
    Unavailable(String),
    /// The conversation changed underneath this actor (another node wrote it); reload and retry.
    #[error("the conversation changed concurrently")]
    Stale,
    #[error("{0}")]
    Internal(String),
}

impl From<DbErr> for ActorError {
    /// A transaction the database aborted to break a deadlock or a serialization conflict
    /// committed nothing: it is [`ActorError::Stale`], which the runtime runs again on a freshly
    /// loaded state (and answers "try again" if it keeps happening). On PostgreSQL two writes
    /// can take the same counter rows (`conversation_counts`, `outbox_counts`) in opposite orders.
    fn from(e: DbErr) -> Self {
        if aborted_to_retry(&e) { ActorError::Stale } else { ActorError::Db(e) }
    }
}

/// Whether `e` is PostgreSQL's deadlock (`40P01`) or serialization failure (`40001`).
pub fn aborted_to_retry(e: &DbErr) -> bool {
    crate::db::database_error(e).is_some_and(|db| matches!(db.code().as_deref(), Some("40P01" | "40001")))
}

impl From<actix::MailboxError> for ActorError {
    fn from(e: actix::MailboxError) -> Self {
        ActorError::Unavailable(e.to_string())
    }
}

impl From<serde_json::Error> for ActorError {
    fn from(e: serde_json::Error) -> Self {
        ActorError::Internal(format!("serialization: {e}"))
    }
}
