//! The WhatsApp side of an inbox, for surfaces that treat a number as just another inbox:
//! creating one by connecting its number with the inbox's settings, and its template sync and
//! health, which only a WhatsApp inbox has.

use entities::enums::Channel;

use super::manage::{self, Created, InboxInput};
use crate::channels::whatsapp::accounts::{self, Credentials};
use crate::channels::whatsapp::health::{self, AccountHealth};
use crate::channels::whatsapp::templates::sync::{self, SyncReport};
use crate::domain::{Error, Result};
use crate::state::AppState;

/// Connects a number (its credentials checked with Meta) and gives its new inbox `input`'s
/// settings. The settings are checked before Meta is asked, so a refused field connects nothing.
pub async fn connect(state: &AppState, org_id: &str, c: Credentials<'_>, input: InboxInput) -> Result<Created> {
    manage::check(state, org_id, Channel::Whatsapp, input.clone()).await?;
    let account = accounts::connect(state, org_id, c).await?;
    let inbox = manage::update(state, org_id, &account.inbox_id, input).await?;
    Ok(Created { inbox, api_token: None })
}

/// The connected account behind a WhatsApp inbox; any other inbox is refused with `why`.
async fn account_of(state: &AppState, org_id: &str, id: &str, why: &str) -> Result<String> {
    let inbox = manage::get(state, org_id, id).await?;
    match inbox.account {
        Some(a) if inbox.model.channel == Channel::Whatsapp => Ok(a.id),
        _ => Err(Error::Unprocessable(why.to_owned())),
    }
}

/// Reads the templates of the inbox's WhatsApp Business Account from Meta and reconciles them.
pub async fn sync_templates(state: &AppState, org_id: &str, id: &str) -> Result<SyncReport> {
    let why = "Template sync is only available for WhatsApp channels";
    let account = account_of(state, org_id, id, why).await?;
    sync::sync(state, org_id, Some(&account)).await
}

/// The health of the inbox's number (Meta's figures, reused for a minute).
pub async fn health(state: &AppState, org_id: &str, id: &str) -> Result<AccountHealth> {
    let why = "Health status is only available for WhatsApp channels";
    let account = account_of(state, org_id, id, why).await?;
    health::health(state, org_id, &account, false).await
}
