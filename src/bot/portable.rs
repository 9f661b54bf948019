//! A bot as a portable bundle (see [`super::bundle`] for the format): built from a config at a
//! tier (config, standard with tools and knowledge, full with media), imported as a new draft
//! config with its tools, documents and media, and the intents a snapshot restores.

use chrono::Utc;
use entities::{bot_config, bot_document, bot_intent, bot_media, bot_tool};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::bundle::{self, Bundle, BundleConfig, BundleFile, BundleIntent, BundleMedia, BundleTool, Tier};
use super::config::Settings;
use super::tools;
use crate::domain::{Error, Result};
use crate::state::AppState;

/// What an import brought: the new config and how many of each part came along.
pub struct ImportReport {
    pub config: bot_config::Model,
    pub intents: usize,
    pub tools: usize,
    pub documents: usize,
    pub media: usize,
    /// What did not come along, and why.
    pub warnings: Vec<String>,
}

/// The bundle of a config at `tier`.
pub async fn build(state: &AppState, c: &bot_config::Model, tier: Tier) -> Result<Bundle> {
    let db = state.db();
    let tools = bot_tool::Entity::find().filter(bot_tool::Column::OrgId.eq(c.org_id.clone())).all(db).await?;
    let intents = bot_intent::Entity::find()
        .filter(bot_intent::Column::ConfigId.eq(c.id.clone()))
        .order_by_asc(bot_intent::Column::Position)
        .all(db)
        .await?;
    let tool_name =
        |id: &Option<String>| id.as_ref().and_then(|id| tools.iter().find(|t| &t.id == id)).map(|t| t.name.clone());
    let mut settings = Settings::of(c);
    settings.preset_id = None;
    let mut b = Bundle {
        format: bundle::FORMAT.into(),
        tier: tier.as_str().into(),
        exported_at: Utc::now(),
        config: BundleConfig { name: c.name.clone(), settings },
        intents: intents
            .iter()
            .map(|i| BundleIntent {
                name: i.name.clone(),
                description: i.description.clone(),
                examples: serde_json::from_str(&i.examples).unwrap_or_default(),
                action: i.action.clone(),
                response: i.response.clone(),
                tool: tool_name(&i.tool_id),
                is_active: i.is_active,
            })
            .collect(),
        tools: vec![],
        documents: vec![],
        media: vec![],
    };
    if tier >= Tier::Standard {
        b.tools = tools
            .iter()
            .map(|t| BundleTool {
                name: t.name.clone(),
                description: t.description.clone(),
                method: t.method.clone(),
                url: t.url.clone(),
                headers: serde_json::from_str(&t.headers).unwrap_or_default(),
                parameters: tools::params_of(t),
                body_template: t.body_template.clone(),
                timeout_ms: t.timeout_ms,
                is_active: t.is_active,
                agent_enabled: t.agent_enabled,
            })
            .collect();
        let docs = bot_document::Entity::find()
            .filter(bot_document::Column::OrgId.eq(c.org_id.clone()))
            .order_by_asc(bot_document::Column::CreatedAt)
            .all(db)
            .await?;
        for d in docs {
            let bytes =
                state.media.get(&d.path).await.map_err(|e| Error::Internal(format!("reading {}: {e}", d.name)))?;
            b.documents.push(BundleFile { name: d.name, mime: d.mime, data: Some(bundle::encode(&bytes)), path: None });
        }
    }
    if tier >= Tier::Full {
        let media = bot_media::Entity::find().filter(bot_media::Column::OrgId.eq(c.org_id.clone())).all(db).await?;
        for m in media {
            let bytes =
                state.media.get(&m.path).await.map_err(|e| Error::Internal(format!("reading {}: {e}", m.name)))?;
            b.media.push(BundleMedia {
                file: BundleFile { name: m.name, mime: m.mime, data: Some(bundle::encode(&bytes)), path: None },
                description: m.description,
                kind: m.kind,
                tags: serde_json::from_str(&m.tags).unwrap_or_default(),
            });
        }
    }
    Ok(b)
}

/// Replaces a config's intents with a bundle's, resolving tool names in the organization. An
/// intent the API would refuse is left out; the answer says which and why.
pub async fn put_intents(
    db: &impl ConnectionTrait,
    c: &bot_config::Model,
    intents: &[BundleIntent],
) -> Result<Vec<String>> {
    bot_intent::Entity::delete_many().filter(bot_intent::Column::ConfigId.eq(c.id.clone())).exec(db).await?;
    let tools = bot_tool::Entity::find().filter(bot_tool::Column::OrgId.eq(c.org_id.clone())).all(db).await?;
    let now = Utc::now();
    let mut warnings = vec![];
    let mut position = 0;
    for i in intents {
        let tool_id = i.tool.as_ref().and_then(|n| tools.iter().find(|t| &t.name == n)).map(|t| t.id.clone());
        let intent = bot_intent::Model {
            id: actors::new_id(),
            org_id: c.org_id.clone(),
            config_id: c.id.clone(),
            name: i.name.clone(),
            description: i.description.clone(),
            examples: serde_json::to_string(&i.examples).unwrap_or_default(),
            // A TOOL intent whose tool did not come along answers from knowledge instead.
            action: if i.action == "TOOL" && tool_id.is_none() { "ANSWER".into() } else { i.action.clone() },
            response: i.response.clone(),
            tool_id,
            position,
            is_active: i.is_active,
            created_at: now,
            updated_at: now,
        };
        if let Err(e) = crate::bot::intents::check_fields(&intent) {
            warnings.push(format!("intent {:?}: {e}; skipped", i.name));
            continue;
        }
        bot_intent::ActiveModel::from(intent).insert(db).await?;
        position += 1;
    }
    Ok(warnings)
}

/// Creates a draft config (activated with `activate`) from a bundle, with its tools, documents
/// and media.
pub async fn import_bundle(
    state: &AppState,
    org_id: &str,
    by: Option<String>,
    loaded: bundle::Loaded,
    name: Option<String>,
    activate: bool,
) -> Result<ImportReport> {
    let b = &loaded.bundle;
    let mut warnings = Vec::new();
    let mut settings = b.config.settings.clone();
    settings.preset_id = None;
    settings.validate()?;
    if settings.provider != "LOCAL" || settings.base_url.is_some() {
        warnings.push("provider keys are not exported: set the API key of the imported config".into());
    }
    // Tools first, so intents can name them.
    let mut taken: Vec<String> = bot_tool::Entity::find()
        .filter(bot_tool::Column::OrgId.eq(org_id))
        .all(state.db())
        .await?
        .into_iter()
        .map(|t| t.name)
        .collect();
    let mut tools_added = 0;
    for t in &b.tools {
        if taken.contains(&t.name) {
            warnings.push(format!("tool {}: the organization already has a tool of that name; kept its own", t.name));
            continue;
        }
        let now = Utc::now();
        let tool = bot_tool::Model {
            id: actors::new_id(),
            org_id: org_id.to_owned(),
            name: t.name.clone(),
            description: t.description.clone(),
            method: t.method.clone(),
            url: t.url.clone(),
            headers: t.headers.to_string(),
            parameters: serde_json::to_string(&t.parameters).unwrap_or_else(|_| "[]".into()),
            body_template: t.body_template.clone(),
            timeout_ms: t.timeout_ms.clamp(100, 30_000),
            allowed_hosts: "[]".into(),
            secret: None,
            is_active: t.is_active,
            agent_enabled: t.agent_enabled,
            created_at: now,
            updated_at: now,
        };
        // The same checks as the API (allowed hosts do not travel, so a private target is refused).
        if let Err(e) = crate::bot::tools::check_fields(&tool) {
            warnings.push(format!("tool {:?}: {e}; skipped", t.name));
            continue;
        }
        bot_tool::ActiveModel::from(tool).insert(state.db()).await?;
        taken.push(t.name.clone());
        tools_added += 1;
    }
    let name = name.unwrap_or_else(|| format!("{} (imported)", b.config.name)).chars().take(100).collect();
    let txn = state.rt.db.begin_write().await?;
    let c = super::configs::insert(&*txn, org_id, name, &settings, None, by).await?;
    let skipped = put_intents(&*txn, &c, &b.intents).await?;
    let intents = b.intents.len() - skipped.len();
    warnings.extend(skipped);
    txn.commit().await?;
    let mut documents = 0;
    for d in &b.documents {
        match loaded.bytes(d) {
            Ok(bytes) if bytes.len() <= crate::bot::knowledge::MAX_DOCUMENT_BYTES => {
                crate::bot::documents::add(state, org_id, d.name.clone(), d.mime.clone(), bytes).await?;
                documents += 1;
            }
            Ok(_) => warnings.push(format!("document {}: larger than 10 MB; skipped", d.name)),
            Err(e) => warnings.push(format!("document {e}; skipped")),
        }
    }
    let mut media = 0;
    for m in &b.media {
        match loaded.bytes(&m.file) {
            Ok(bytes) => {
                crate::bot::media::add(
                    state,
                    org_id,
                    &m.file.name,
                    &m.file.mime,
                    &m.kind,
                    m.description.clone(),
                    &m.tags,
                    bytes,
                )
                .await?;
                media += 1;
            }
            Err(e) => warnings.push(format!("media {e}; skipped")),
        }
    }
    let c = if activate { super::configs::make_active(state, org_id, &c.id).await? } else { c };
    Ok(ImportReport { config: c, intents, tools: tools_added, documents, media, warnings })
}

/// The config's snapshots, newest first.
pub async fn snapshots(db: &impl ConnectionTrait, config_id: &str) -> Result<Vec<entities::bot_snapshot::Model>> {
    use entities::bot_snapshot;
    Ok(bot_snapshot::Entity::find()
        .filter(bot_snapshot::Column::ConfigId.eq(config_id))
        .order_by_desc(bot_snapshot::Column::CreatedAt)
        .all(db)
        .await?)
}

/// Saves the config's settings and intents as a snapshot (name default: its time).
pub async fn take_snapshot(
    state: &AppState,
    c: &bot_config::Model,
    name: Option<String>,
    by: Option<String>,
) -> Result<entities::bot_snapshot::Model> {
    use entities::bot_snapshot;
    use sea_orm::ActiveValue::Set;
    let data = build(state, c, Tier::Config).await?;
    let name = name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    let name = name.unwrap_or_else(|| format!("Snapshot {}", Utc::now().format("%Y-%m-%d %H:%M")));
    Ok(bot_snapshot::ActiveModel {
        id: Set(actors::new_id()),
        org_id: Set(c.org_id.clone()),
        config_id: Set(c.id.clone()),
        name: Set(name.chars().take(100).collect()),
        data: Set(serde_json::to_string(&data)?),
        created_by: Set(by),
        created_at: Set(Utc::now()),
    }
    .insert(state.db())
    .await?)
}

/// Puts the config back as the snapshot has it: settings (a changed prompt becomes a new prompt
/// version) and intents; the provider key and preset stay as they are.
pub async fn restore_snapshot(
    state: &AppState,
    org_id: &str,
    id: &str,
    by: Option<String>,
) -> Result<bot_config::Model> {
    use entities::bot_snapshot;
    let s = crate::domain::find_in_org::<bot_snapshot::Entity>(state.db(), org_id, id).await?;
    let b: Bundle = serde_json::from_str(&s.data).map_err(|e| Error::Internal(format!("snapshot unreadable: {e}")))?;
    let c = super::config::get(state.db(), org_id, &s.config_id).await?;
    let mut settings = b.config.settings.clone();
    settings.preset_id = Settings::of(&c).preset_id;
    let txn = state.rt.db.begin_write().await?;
    let c = super::configs::save_settings(&*txn, c, &settings, by, |_| {}).await?;
    for skipped in put_intents(&*txn, &c, &b.intents).await? {
        tracing::warn!(snapshot_id = %s.id, "restore: {skipped}");
    }
    txn.commit().await?;
    Ok(c)
}

/// Deletes a snapshot.
pub async fn delete_snapshot(db: &sea_orm::DatabaseConnection, org_id: &str, id: &str) -> Result<()> {
    use entities::bot_snapshot;
    let s = crate::domain::find_in_org::<bot_snapshot::Entity>(db, org_id, id).await?;
    bot_snapshot::Entity::delete_by_id(s.id).exec(db).await?;
    Ok(())
}
