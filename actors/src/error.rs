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
    Db(#[from] DbErr),
    /// The actor stopped between lookup and delivery; the caller may retry.
    #[error("actor unavailable: {0}")]
    Unavailable(String),
    /// The conversation changed underneath this actor (another node wrote it); reload and retry.
    #[error("the conversation changed concurrently")]
    Stale,
    #[error("{0}")]
    Internal(String),
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
