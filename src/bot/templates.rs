//! Bot templates the platform (a SUPER_ADMIN) publishes: a bundle with a name and a unique slug,
//! made from an export or from an organization's current config, and imported by organizations
//! as a new draft config once published.

use chrono::Utc;
use entities::bot_template;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use super::bundle::{self, Bundle, Tier};
use crate::domain::{Error, Result};
use crate::state::AppState;

async fn check(db: &DatabaseConnection, t: &bot_template::Model) -> Result<()> {
    if t.name.trim().is_empty() || t.name.chars().count() > 100 {
        return Err(Error::invalid("name", "name is required and at most 100 characters"));
    }
    let slug_ok = !t.slug.is_empty()
        && t.slug.len() <= 60
        && t.slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !slug_ok {
        return Err(Error::invalid("slug", "slug is 1-60 characters of a-z, 0-9 and -"));
    }
    let taken = bot_template::Entity::find()
        .filter(bot_template::Column::Slug.eq(t.slug.clone()))
        .filter(bot_template::Column::Id.ne(t.id.clone()))
        .one(db)
        .await?;
    if taken.is_some() {
        return Err(Error::Conflict(format!("the slug {:?} is taken", t.slug)));
    }
    Ok(())
}

fn new_template(name: String, slug: String, data: &Bundle) -> Result<bot_template::Model> {
    let now = Utc::now();
    Ok(bot_template::Model {
        id: actors::new_id(),
        name,
        slug,
        description: None,
        category: None,
        data: serde_json::to_string(data)?,
        published: false,
        created_at: now,
        updated_at: now,
    })
}

/// Every template, or only the published ones, by name.
pub async fn list(db: &DatabaseConnection, published_only: bool) -> Result<Vec<bot_template::Model>> {
    let mut q = bot_template::Entity::find();
    if published_only {
        q = q.filter(bot_template::Column::Published.eq(true));
    }
    Ok(q.order_by_asc(bot_template::Column::Name).all(db).await?)
}

/// A template's fields as a client gives them; `None` keeps one, `Some(None)` clears the
/// description or the category.
#[derive(Default)]
pub struct Fields {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub description: Option<Option<String>>,
    pub category: Option<Option<String>>,
    /// A bot export.
    pub data: Option<Bundle>,
    pub published: Option<bool>,
}

/// Creates a template from an export (unpublished unless asked).
pub async fn create(db: &DatabaseConnection, f: Fields) -> Result<bot_template::Model> {
    let data = f.data.ok_or_else(|| Error::invalid("data", "data (a bot export) is required"))?;
    if data.format != bundle::FORMAT {
        return Err(Error::invalid("data", format!("data must be a {} export", bundle::FORMAT)));
    }
    data.config.settings.validate()?;
    let mut t = new_template(f.name.unwrap_or_default().trim().to_owned(), f.slug.unwrap_or_default(), &data)?;
    t.description = f.description.flatten();
    t.category = f.category.flatten();
    t.published = f.published.unwrap_or(false);
    check(db, &t).await?;
    Ok(bot_template::ActiveModel::from(t).insert(db).await?)
}

/// Makes an unpublished template of an organization's current config (settings, intents,
/// tools, knowledge).
pub async fn from_config(
    state: &AppState,
    org_id: &str,
    name: Option<String>,
    slug: Option<String>,
) -> Result<bot_template::Model> {
    let c = super::config::current(state.db(), org_id, None).await?;
    let data = super::portable::build(state, &c, Tier::Standard).await?;
    let t = new_template(name.unwrap_or_else(|| c.name.clone()).trim().to_owned(), slug.unwrap_or_default(), &data)?;
    check(state.db(), &t).await?;
    Ok(bot_template::ActiveModel::from(t).insert(state.db()).await?)
}

/// One template.
pub async fn get(db: &DatabaseConnection, id: &str) -> Result<bot_template::Model> {
    bot_template::Entity::find_by_id(id.to_owned()).one(db).await?.ok_or(Error::NotFound("template"))
}

/// Changes a template.
pub async fn update(db: &DatabaseConnection, id: &str, f: Fields) -> Result<bot_template::Model> {
    let mut t = get(db, id).await?;
    if let Some(n) = f.name {
        t.name = n.trim().to_owned();
    }
    if let Some(s) = f.slug {
        t.slug = s;
    }
    if let Some(d) = f.description {
        t.description = d;
    }
    if let Some(c) = f.category {
        t.category = c;
    }
    if let Some(p) = f.published {
        t.published = p;
    }
    if let Some(d) = f.data {
        d.config.settings.validate()?;
        t.data = serde_json::to_string(&d)?;
    }
    t.updated_at = Utc::now();
    check(db, &t).await?;
    Ok(bot_template::ActiveModel::from(t).reset_all().update(db).await?)
}

/// Deletes a template; configs imported from it stay.
pub async fn delete(db: &DatabaseConnection, id: &str) -> Result<()> {
    let t = get(db, id).await?;
    bot_template::Entity::delete_by_id(t.id).exec(db).await?;
    Ok(())
}

/// Imports a published template as a new draft config of the organization.
pub async fn import(
    state: &AppState,
    org_id: &str,
    id: &str,
    by: Option<String>,
) -> Result<super::portable::ImportReport> {
    let t = get(state.db(), id).await?;
    if !t.published {
        return Err(Error::NotFound("template"));
    }
    let loaded = bundle::read(t.data.as_bytes()).map_err(Error::Internal)?;
    super::portable::import_bundle(state, org_id, by, loaded, Some(t.name.clone()), false).await
}
