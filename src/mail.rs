//! Outgoing email (invitations, login codes). [`Mailer::send`] records every mail in the `mails`
//! table. With `CX_SMTP_URL` set it is sent through SMTP (lettre over rustls); without, it is
//! only kept there and logged: the dev mailbox (`GET /api/v1/dev/mailbox`), so a first run works
//! with no mail server.

use std::time::Duration;

use chrono::Utc;
use entities::enums::MailStatus;
use entities::mail;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use sea_orm::{ActiveModelTrait, DatabaseConnection, DbErr, IntoActiveModel};

use crate::config::Config;
use crate::domain::Error;

/// How long one SMTP conversation may take before the send counts as failed.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// Sends (or keeps) mail and records it.
#[derive(Clone)]
pub struct Mailer {
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
    db: DatabaseConnection,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The recipient is not an address a mail can go to.
    #[error("{0} is not a deliverable email address")]
    Address(String),
    /// The SMTP server refused or could not be reached; the mail is recorded as failed.
    #[error("the mail could not be sent: {0}")]
    Send(String),
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

impl From<MailError> for Error {
    fn from(e: MailError) -> Self {
        match e {
            MailError::Address(_) => Error::invalid("email", e.to_string()),
            MailError::Send(cause) => {
                tracing::warn!(%cause, "mail not sent");
                Error::Unavailable("the email could not be sent; try again later".into())
            }
            MailError::Db(db) => Error::Db(db),
        }
    }
}

/// Why the mail configuration is unusable (reported at startup).
#[derive(Debug, thiserror::Error)]
pub enum MailConfigError {
    #[error("CX_MAIL_FROM is not a mailbox (`Name <address>` or `address`): {0}")]
    From(String),
    #[error("CX_SMTP_URL is not usable: {0}")]
    Url(String),
}

/// Whether `address` is one lettre can send to.
pub fn deliverable(address: &str) -> bool {
    address.parse::<Address>().is_ok()
}

impl Mailer {
    pub fn new(config: &Config, db: DatabaseConnection) -> Result<Mailer, MailConfigError> {
        let from: Mailbox = config.mail_from.parse().map_err(|e| MailConfigError::From(format!("{e}")))?;
        let smtp = match config.smtp_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            Some(url) => {
                let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| MailConfigError::Url(e.to_string()))?;
                Some(builder.timeout(Some(SMTP_TIMEOUT)).build())
            }
            // Said by `serve` after the address (see `main`), not here in the middle of start-up.
            None => None,
        };
        Ok(Mailer { smtp, from, db })
    }

    /// Whether mail is only kept (no SMTP server configured): the dev mailbox is on.
    pub fn is_dev(&self) -> bool {
        self.smtp.is_none()
    }

    /// Sends a plain-text mail and records it. A failed send is recorded too, then reported.
    pub async fn send(
        &self,
        org_id: Option<&str>,
        to: &str,
        subject: &str,
        body: &str,
    ) -> Result<mail::Model, MailError> {
        self.send_with_secrets(org_id, to, subject, body, &[]).await
    }

    /// [`Mailer::send`] for a mail that carries `secrets` (an invitation token, a login code):
    /// when it goes out through SMTP they are blanked in the recorded copy, so the mail log never
    /// holds a usable credential. The dev mailbox keeps them: it is how they are delivered there.
    pub async fn send_with_secrets(
        &self,
        org_id: Option<&str>,
        to: &str,
        subject: &str,
        body: &str,
        secrets: &[&str],
    ) -> Result<mail::Model, MailError> {
        let address: Address = to.parse().map_err(|_| MailError::Address(to.to_owned()))?;
        let (transport, status, error) = match &self.smtp {
            None => {
                // Not the body: it may hold an invitation token or a sign-in code.
                tracing::info!(to, subject, "dev mailbox: mail kept, not sent (no CX_SMTP_URL)");
                ("dev", MailStatus::Kept, None)
            }
            Some(smtp) => {
                let message = Message::builder()
                    .from(self.from.clone())
                    .to(Mailbox::new(None, address))
                    .subject(subject)
                    .header(ContentType::TEXT_PLAIN)
                    .body(body.to_owned())
                    .map_err(|e| MailError::Send(e.to_string()))?;
                match smtp.send(message).await {
                    Ok(_) => {
                        tracing::info!(to, subject, "mail sent");
                        ("smtp", MailStatus::Sent, None)
                    }
                    Err(e) => ("smtp", MailStatus::Failed, Some(e.to_string())),
                }
            }
        };
        let recorded = match transport {
            "dev" => body.to_owned(),
            _ => secrets.iter().filter(|s| !s.is_empty()).fold(body.to_owned(), |b, s| b.replace(s, "[redacted]")),
        };
        let row = mail::Model {
            id: actors::new_id(),
            org_id: org_id.map(str::to_owned),
            to_address: to.to_owned(),
            subject: subject.to_owned(),
            body: recorded,
            transport: transport.into(),
            status,
            error: error.clone(),
            created_at: Utc::now(),
        };
        let row = row.into_active_model().reset_all().insert(&self.db).await?;
        match error {
            Some(e) => Err(MailError::Send(e)),
            None => Ok(row),
        }
    }
}

/// Mail the dev mailbox kept, newest first: every organization's (`org_id` `None`, for a
/// SUPER_ADMIN) or one's, optionally only to `to`; at most `limit` (1 to 200). A sign-in code is
/// a credential, so one meant for someone other than `reader` shows as a placeholder.
pub async fn kept(
    db: &DatabaseConnection,
    org_id: Option<&str>,
    to: Option<&str>,
    limit: u64,
    reader: Option<&str>,
) -> Result<Vec<mail::Model>, Error> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
    if !(1..=200).contains(&limit) {
        return Err(Error::invalid("limit", "limit must be 1 to 200"));
    }
    let mut query = mail::Entity::find().filter(mail::Column::Status.eq(MailStatus::Kept));
    if let Some(org_id) = org_id {
        query = query.filter(mail::Column::OrgId.eq(org_id));
    }
    if let Some(to) = to.map(str::trim).filter(|t| !t.is_empty()) {
        query = query.filter(mail::Column::ToAddress.eq(to.to_lowercase()));
    }
    let mails =
        query.order_by_desc(mail::Column::CreatedAt).order_by_desc(mail::Column::Id).limit(limit).all(db).await?;
    Ok(mails
        .into_iter()
        .map(|mut m| {
            if m.subject == crate::auth::login_codes::SIGN_IN_SUBJECT && reader != Some(m.to_address.as_str()) {
                m.body = "[a sign-in code: only its recipient sees it]".into();
            }
            m
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_the_way_lettre_sends_them() {
        assert!(deliverable("ann@example.com"));
        assert!(!deliverable("ann@"));
        assert!(!deliverable("not an address"));
    }
}
