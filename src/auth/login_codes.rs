//! Signing in with an emailed one-time code: six digits, stored as a hash, valid for
//! [`CODE_TTL_MINUTES`], dead after [`CODE_MAX_ATTEMPTS`] wrong guesses, and requested at most
//! [`CODE_REQUESTS_PER_WINDOW`] times per address and window. Requests look the same whether or
//! not the address has an account.

use chrono::{Duration, Utc};
use entities::login_code;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use subtle::ConstantTimeEq;

use crate::auth::sessions::{self, SignedIn, throttled};
use crate::auth::users::{live_by_email, valid_email};
use crate::domain::{Error, Result};
use crate::state::AppState;

/// How long a code lives.
pub const CODE_TTL_MINUTES: i64 = 10;
/// Wrong guesses that kill a code.
const CODE_MAX_ATTEMPTS: i32 = 5;
/// Codes one address may request per window.
const CODE_REQUESTS_PER_WINDOW: usize = 5;
const CODE_WINDOW_MINUTES: i64 = 15;

/// The subject of a sign-in code mail (the dev mailbox shows its body to its recipient only).
pub const SIGN_IN_SUBJECT: &str = "Your cx-inbox sign-in code";

/// What is stored of a login code: SHA-256 of the address and the code.
fn code_hash(email: &str, code: &str) -> String {
    crate::crypto::hash_token(&format!("{email}:{code}"))
}

/// 429 when the address has asked for too many codes lately.
async fn ensure_under_limit(state: &AppState, email: &str) -> Result<()> {
    let now = Utc::now();
    login_code::Entity::delete_many()
        .filter(login_code::Column::Email.eq(email))
        .filter(login_code::Column::CreatedAt.lt(now - Duration::days(1)))
        .exec(state.db())
        .await?;
    let window = Duration::minutes(CODE_WINDOW_MINUTES);
    let recent = login_code::Entity::find()
        .filter(login_code::Column::Email.eq(email))
        .filter(login_code::Column::CreatedAt.gt(now - window))
        .order_by_asc(login_code::Column::CreatedAt)
        .all(state.db())
        .await?;
    if recent.len() >= CODE_REQUESTS_PER_WINDOW {
        // A request is allowed again once enough of the recent ones have left the window.
        let frees = recent[recent.len() - CODE_REQUESTS_PER_WINDOW].created_at + window;
        return Err(Error::Limited {
            message: format!(
                "at most {CODE_REQUESTS_PER_WINDOW} codes per {CODE_WINDOW_MINUTES} minutes; try again later"
            ),
            retry_after: std::cmp::max((frees - now).num_seconds(), 1) as u64,
        });
    }
    Ok(())
}

/// Issues a code for `email` (400 when it is not an address, 429 over the limit). Only an
/// active user gets a mail; a new code kills the earlier ones.
pub async fn request(state: &AppState, email: &str) -> Result<()> {
    let email = valid_email(email)?;
    ensure_under_limit(state, &email).await?;
    let user = live_by_email(state.db(), &email).await?;
    let code = format!("{:06}", rand::random_range(0..1_000_000u32));
    // An unknown address gets a row too (one no code matches), so the rate limit behaves the
    // same for every address and tells nothing about which ones have accounts.
    let hash = if user.is_some() { code_hash(&email, &code) } else { "-".to_owned() };
    let now = Utc::now();
    let txn = state.rt.db.begin_write().await?;
    login_code::Entity::update_many()
        .col_expr(login_code::Column::ExpiresAt, Expr::value(now))
        .filter(login_code::Column::Email.eq(email.clone()))
        .filter(login_code::Column::UsedAt.is_null())
        .filter(login_code::Column::ExpiresAt.gt(now))
        .exec(&*txn)
        .await?;
    login_code::ActiveModel {
        id: Set(actors::new_id()),
        email: Set(email.clone()),
        code_hash: Set(hash),
        attempts: Set(0),
        expires_at: Set(now + Duration::minutes(CODE_TTL_MINUTES)),
        used_at: Set(None),
        created_at: Set(now),
    }
    .insert(&*txn)
    .await?;
    txn.commit().await?;
    if let Some(u) = user {
        send(state, u, code);
    }
    Ok(())
}

/// Mails the code after the answer, so the answer takes as long for unknown addresses; a failed
/// send is recorded in the mail log.
fn send(state: &AppState, u: entities::user::Model, code: String) {
    let mailer = state.mailer.clone();
    let body = format!(
        "Your cx-inbox sign-in code is {code}\n\nIt works once and expires in {CODE_TTL_MINUTES} minutes. \
         If you did not ask for it, you can ignore this mail.\n"
    );
    actix_web::rt::spawn(async move {
        let sent = mailer.send_with_secrets(Some(&u.org_id), &u.email, SIGN_IN_SUBJECT, &body, &[&code]).await;
        if let Err(e) = sent {
            tracing::warn!(user_id = %u.id, error = %e, "login code mail not sent");
        }
    });
}

/// Signs in with an emailed code; 401 for a wrong, used or expired one. A wrong code counts
/// against the code (and the address's sign-in throttle).
pub async fn verify(state: &AppState, email: &str, code: &str) -> Result<SignedIn> {
    let invalid = || Error::Unauthenticated("the code is wrong, used or expired".into());
    let email = email.trim().to_lowercase();
    throttled(state, &email)?;
    let now = Utc::now();
    let Some(row) = login_code::Entity::find()
        .filter(login_code::Column::Email.eq(email.clone()))
        .filter(login_code::Column::UsedAt.is_null())
        .filter(login_code::Column::ExpiresAt.gt(now))
        .filter(login_code::Column::Attempts.lt(CODE_MAX_ATTEMPTS))
        .order_by_desc(login_code::Column::CreatedAt)
        .one(state.db())
        .await?
    else {
        state.sign_in_throttle.failed(&email);
        return Err(invalid());
    };
    let presented = code_hash(&email, code.trim());
    if !bool::from(presented.as_bytes().ct_eq(row.code_hash.as_bytes())) {
        state.sign_in_throttle.failed(&email);
        login_code::Entity::update_many()
            .col_expr(login_code::Column::Attempts, Expr::col(login_code::Column::Attempts).add(1))
            .filter(login_code::Column::Id.eq(row.id.clone()))
            .exec(state.db())
            .await?;
        return Err(invalid());
    }
    // Spent only if still unspent, so two concurrent verifications cannot both win.
    let spent = login_code::Entity::update_many()
        .col_expr(login_code::Column::UsedAt, Expr::value(now))
        .filter(login_code::Column::Id.eq(row.id.clone()))
        .filter(login_code::Column::UsedAt.is_null())
        .filter(login_code::Column::Attempts.lt(CODE_MAX_ATTEMPTS))
        .exec(state.db())
        .await?;
    if spent.rows_affected != 1 {
        return Err(invalid());
    }
    state.sign_in_throttle.succeeded(&email);
    let user = live_by_email(state.db(), &email).await?.ok_or_else(invalid)?;
    sessions::start(state, user).await
}
