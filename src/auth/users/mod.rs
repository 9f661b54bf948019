//! Users as authentication sees them: who may act, and how accounts come to be. The
//! organization's management of its people is in [`admin`] (one user) and [`bulk`] (many).

pub mod admin;
pub mod bulk;

use chrono::Utc;
use entities::enums::{Presence, Role};
use entities::{organization, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
};

use crate::auth::password;
use crate::domain::{Error, Result};

/// The organization's user with this id, unless deleted.
pub async fn active_user(db: &impl ConnectionTrait, org_id: &str, id: &str) -> Result<Option<user::Model>> {
    Ok(user::Entity::find_by_id(id.to_owned())
        .filter(user::Column::OrgId.eq(org_id))
        .filter(user::Column::DeletedAt.is_null())
        .one(db)
        .await?)
}

/// The user with this (lower-cased) email who is not deleted: addresses are unique among live
/// accounts across the platform.
pub async fn live_by_email(db: &impl ConnectionTrait, email: &str) -> Result<Option<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .filter(user::Column::DeletedAt.is_null())
        .one(db)
        .await?)
}

/// Whether the user is an ADMIN or SUPER_ADMIN.
pub fn is_admin(u: &user::Model) -> bool {
    u.role.is_admin()
}

/// The organization with this id.
pub async fn organization(db: &impl ConnectionTrait, org_id: &str) -> Result<organization::Model> {
    organization::Entity::find_by_id(org_id.to_owned()).one(db).await?.ok_or(Error::NotFound("organization"))
}

/// Marks the organization's onboarding as completed.
pub async fn complete_onboarding(db: &impl ConnectionTrait, org_id: &str) -> Result<organization::Model> {
    let mut am = organization(db, org_id).await?.into_active_model();
    am.onboarding_completed = Set(true);
    am.updated_at = Set(Utc::now());
    Ok(am.update(db).await?)
}

/// A trimmed, non-empty value of at most `max` characters, or a 400 on `field`.
pub fn required<'a>(field: &str, value: &'a str, max: usize) -> Result<&'a str> {
    let v = value.trim();
    if v.is_empty() {
        return Err(Error::invalid(field, format!("{field} is required")));
    }
    if v.chars().count() > max {
        return Err(Error::invalid(field, format!("{field} is longer than {max} characters")));
    }
    Ok(v)
}

/// Normalizes and checks an email address.
pub fn valid_email(email: &str) -> Result<String> {
    let e = required("email", email, 254)?.to_lowercase();
    let ok = match e.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !e.contains(char::is_whitespace)
        }
        None => false,
    };
    if !ok {
        return Err(Error::invalid("email", "email is not a valid address"));
    }
    Ok(e)
}

/// The password rules of registration, reported on `field`.
pub fn valid_password_as(field: &str, p: &str) -> Result<()> {
    if p.chars().count() < password::MIN_LEN {
        return Err(Error::invalid(field, format!("{field} must be at least {} characters", password::MIN_LEN)));
    }
    if p.len() > 1024 {
        return Err(Error::invalid(field, format!("{field} is too long")));
    }
    Ok(())
}

/// Argon2id of a password, off the async threads.
pub async fn hash_password(p: String) -> Result<String> {
    tokio::task::spawn_blocking(move || password::hash(&p))
        .await
        .map_err(|e| Error::Internal(e.to_string()))?
        .map_err(Error::Internal)
}

/// Whether `presented` matches the Argon2id hash `stored`, off the async threads.
pub async fn verify_password(stored: String, presented: String) -> Result<bool> {
    tokio::task::spawn_blocking(move || password::verify(&stored, &presented))
        .await
        .map_err(|e| Error::Internal(e.to_string()))
}

/// A user to create.
pub struct NewUser {
    pub org_id: String,
    /// Lower-cased and checked already.
    pub email: String,
    pub name: String,
    /// `None` for a user who sets a password later (an invitation).
    pub password_hash: Option<String>,
    pub role: Role,
    pub max_concurrent: Option<i32>,
}

/// Inserts a user, OFFLINE, in `db` (the caller's transaction); 409 when the email is taken.
pub async fn insert_user(db: &impl sea_orm::ConnectionTrait, new: NewUser) -> Result<user::Model> {
    let now = Utc::now();
    let inserted = user::ActiveModel {
        id: Set(actors::new_id()),
        org_id: Set(new.org_id),
        email: Set(new.email),
        name: Set(new.name),
        password_hash: Set(new.password_hash),
        role: Set(new.role),
        status: Set(Presence::Offline),
        max_concurrent: Set(new.max_concurrent),
        created_at: Set(now),
        updated_at: Set(now),
        deleted_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await;
    match inserted {
        Ok(u) => Ok(u),
        Err(e) if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => {
            Err(Error::Conflict("an account with this email already exists".into()))
        }
        Err(e) => Err(e.into()),
    }
}

/// Creates an organization and its first admin (registration: ADMIN; `create-admin` on the
/// command line: ADMIN or SUPER_ADMIN). `email` is checked and lower-cased, `password_hash` an Argon2id hash; 409 when a live
/// account has the email.
pub async fn register_organization(
    db: &actors::Db,
    company: String,
    name: String,
    email: String,
    password_hash: String,
    role: Role,
) -> Result<(organization::Model, user::Model)> {
    if live_by_email(&db.conn, &email).await?.is_some() {
        return Err(Error::Conflict("an account with this email already exists".into()));
    }
    let now = Utc::now();
    let txn = db.begin_write().await?;
    let org = organization::ActiveModel {
        id: Set(actors::new_id()),
        name: Set(company),
        bot_enabled: Set(true),
        onboarding_completed: Set(false),
        event_seq: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&*txn)
    .await?;
    let new =
        NewUser { org_id: org.id.clone(), email, name, password_hash: Some(password_hash), role, max_concurrent: None };
    let user = insert_user(&*txn, new).await?;
    txn.commit().await?;
    tracing::info!(org_id = %org.id, user_id = %user.id, "organization registered");
    Ok((org, user))
}
