//! What the service layer answers when it refuses: a domain error that knows nothing of HTTP.
//! Domain modules (`auth`, `bot`, `channels`, `workspace`, `simulation`) return it; the API
//! turns it into its status and error body in one `From` (in `crate::error`).

pub mod refs;

use actors::ActorError;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PrimaryKeyTrait, QueryFilter};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value the caller gave is not acceptable; `field` names it as the caller spelled it.
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// The input is not in the expected form at all (not JSON, not a multipart form).
    #[error("{0}")]
    Malformed(String),
    /// No such object in the caller's organization (another organization's object included).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The object is not in a state that allows this, or a unique value is taken.
    #[error("{0}")]
    Conflict(String),
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The caller's credentials are not good (a spent code, a revoked token).
    #[error("{0}")]
    Unauthenticated(String),
    /// A website visitor's identity could not be verified (the inbox enforces it).
    #[error("{0}")]
    IdentityUnverified(String),
    /// The object existed and is gone for good (an expired invitation).
    #[error("{0}")]
    Gone(String),
    /// Well-formed but not processable (a file that is not what it claims).
    #[error("{0}")]
    Unprocessable(String),
    /// Over a size limit.
    #[error("{0}")]
    TooLarge(String),
    /// Too many attempts; try again after `retry_after` seconds.
    #[error("{message}")]
    Limited { message: String, retry_after: u64 },
    /// Something this depends on is down or busy; trying again later is safe.
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Db(#[from] DbErr),
    /// A bug or an unexpected state: logged, never shown.
    #[error("{0}")]
    Internal(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Invalid { field: field.into(), message: message.into() }
    }

    /// The database (or a service) was busy or unreachable: nothing is wrong with the request,
    /// and the same call may work later.
    pub fn is_transient(&self) -> bool {
        fn db(e: &DbErr) -> bool {
            matches!(e, DbErr::ConnectionAcquire(_) | DbErr::Conn(_))
        }
        match self {
            Error::Unavailable(_) => true,
            Error::Db(e) => db(e),
            _ => false,
        }
    }
}

/// The runtime's answers in the domain's terms (the same words the API shows).
impl From<ActorError> for Error {
    fn from(e: ActorError) -> Self {
        match e {
            ActorError::NotFound(what) => Error::NotFound(what),
            ActorError::Conflict(reason) => Error::Conflict(reason),
            ActorError::Invalid { field, message } => Error::invalid(field, message),
            ActorError::Db(db) => Error::Db(db),
            ActorError::Stale => Error::Unavailable("the conversation changed concurrently; try again".into()),
            ActorError::Unavailable(what) => Error::Unavailable(format!("temporarily unavailable: {what}")),
            ActorError::Internal(cause) => Error::Internal(cause),
        }
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Internal(format!("json: {e}"))
    }
}

/// An entity whose rows belong to an organization, found by their string id.
pub trait Owned: EntityTrait {
    /// What a missing one is called in "… not found".
    const NOUN: &'static str;
    fn org_column() -> Self::Column;
}

macro_rules! owned {
    ($($m:ident => $noun:literal),* $(,)?) => {
        $(impl Owned for entities::$m::Entity {
            const NOUN: &'static str = $noun;
            fn org_column() -> Self::Column {
                entities::$m::Column::OrgId
            }
        })*
    };
}

owned! {
    team => "team",
    tag => "tag",
    bot_tool => "tool",
    bot_preset => "preset",
    bot_media => "media",
    bot_intent => "intent",
    bot_document => "document",
    bot_config => "bot config",
    bot_snapshot => "snapshot",
    bot_prompt_version => "prompt version",
    bot_trace => "trace",
    routing_rule => "routing rule",
    api_key => "API key",
    invitation => "invitation",
    whatsapp_account => "WhatsApp account",
}

/// The object `id` of the organization: another organization's is as missing as one that never
/// existed (`NotFound`, a 404 for the object of the path; see `refs` for ids a body names).
pub async fn find_in_org<E>(db: &impl ConnectionTrait, org_id: &str, id: &str) -> Result<E::Model>
where
    E: Owned,
    <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<String>,
{
    E::find_by_id(id.to_owned()).filter(E::org_column().eq(org_id)).one(db).await?.ok_or(Error::NotFound(E::NOUN))
}
