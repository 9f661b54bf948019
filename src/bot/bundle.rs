//! A bot config as a portable bundle, for export and import, snapshots and templates.
//!
//! Tiers: `config` is the settings and intents; `standard` adds tools and the knowledge base;
//! `full` adds media. As JSON, files travel base64-encoded; as ZIP, `bundle.json` lists them and
//! they sit beside it (`documents/…`, `media/…`). Secrets never leave: provider keys and tool
//! secrets are not exported, and preset references are dropped (presets belong to one
//! organization). Imported tools lose their `allowedHosts`, so a bundle cannot open a private
//! address in the importing organization; a tool whose URL is private is skipped with a warning.

use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::config::Settings;
use super::tools::Param;

pub const FORMAT: &str = "cx-inbox.bot/1";
/// Largest bundle accepted for import.
pub const MAX_BUNDLE_BYTES: usize = 60 * 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    Config,
    Standard,
    Full,
}

impl Tier {
    pub fn parse(s: Option<&str>, default: Tier) -> Option<Tier> {
        match s.map(str::to_lowercase).as_deref() {
            None => Some(default),
            Some("config") => Some(Tier::Config),
            Some("standard") => Some(Tier::Standard),
            Some("full") => Some(Tier::Full),
            Some(_) => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Config => "config",
            Tier::Standard => "standard",
            Tier::Full => "full",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    pub format: String,
    pub tier: String,
    pub exported_at: chrono::DateTime<chrono::Utc>,
    pub config: BundleConfig,
    #[serde(default)]
    pub intents: Vec<BundleIntent>,
    #[serde(default)]
    pub tools: Vec<BundleTool>,
    #[serde(default)]
    pub documents: Vec<BundleFile>,
    #[serde(default)]
    pub media: Vec<BundleMedia>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BundleConfig {
    pub name: String,
    pub settings: Settings,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BundleIntent {
    pub name: String,
    pub description: Option<String>,
    pub examples: Vec<String>,
    pub action: String,
    pub response: Option<String>,
    /// The tool's name (ids do not travel).
    pub tool: Option<String>,
    pub is_active: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BundleTool {
    pub name: String,
    pub description: String,
    pub method: String,
    pub url: String,
    #[schema(value_type = Object)]
    pub headers: Value,
    pub parameters: Vec<Param>,
    pub body_template: Option<String>,
    pub timeout_ms: i32,
    pub is_active: bool,
    pub agent_enabled: bool,
}

/// A file of the bundle: inline (`data`, base64) in JSON, or a path inside the ZIP.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BundleFile {
    pub name: String,
    pub mime: String,
    pub data: Option<String>,
    pub path: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BundleMedia {
    pub file: BundleFile,
    pub description: Option<String>,
    pub kind: String,
    pub tags: Vec<String>,
}

/// A bundle with its files' bytes at hand.
pub struct Loaded {
    pub bundle: Bundle,
    files: std::collections::HashMap<String, Vec<u8>>,
}

impl Loaded {
    /// The bytes of a file of the bundle.
    pub fn bytes(&self, f: &BundleFile) -> Result<Vec<u8>, String> {
        if let Some(d) = &f.data {
            return B64.decode(d).map_err(|_| format!("{}: data is not base64", f.name));
        }
        let path = f.path.as_deref().ok_or_else(|| format!("{}: no data and no path", f.name))?;
        self.files.get(path).cloned().ok_or_else(|| format!("{}: {path} is not in the archive", f.name))
    }
}

/// Reads a bundle from JSON or ZIP bytes.
pub fn read(bytes: &[u8]) -> Result<Loaded, String> {
    if bytes.starts_with(b"PK") {
        let mut archive =
            zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| format!("not a readable ZIP: {e}"))?;
        let mut files = std::collections::HashMap::new();
        let mut total = 0usize;
        for i in 0..archive.len() {
            let mut entry = archive.by_index(i).map_err(|e| format!("ZIP entry {i}: {e}"))?;
            if entry.is_dir() {
                continue;
            }
            let name = entry.name().map_err(|e| format!("ZIP entry {i}: {e}"))?.into_owned();
            let mut buf = Vec::new();
            // Bounded read: a small archive may not inflate into gigabytes.
            (&mut entry)
                .take((MAX_BUNDLE_BYTES - total) as u64 + 1)
                .read_to_end(&mut buf)
                .map_err(|e| e.to_string())?;
            total += buf.len();
            if total > MAX_BUNDLE_BYTES {
                return Err("the archive unpacks to more than 60 MB".into());
            }
            files.insert(name, buf);
        }
        let manifest = files.remove("bundle.json").ok_or("the archive has no bundle.json")?;
        let bundle = parse(&manifest)?;
        Ok(Loaded { bundle, files })
    } else {
        Ok(Loaded { bundle: parse(bytes)?, files: Default::default() })
    }
}

fn parse(bytes: &[u8]) -> Result<Bundle, String> {
    let bundle: Bundle = serde_json::from_slice(bytes).map_err(|e| format!("not a bot bundle: {e}"))?;
    if bundle.format != FORMAT {
        return Err(format!("unknown bundle format {:?} (expected {FORMAT})", bundle.format));
    }
    Ok(bundle)
}

/// Writes a ZIP: `bundle.json` plus the files, whose `data` moves out of the JSON.
pub fn zip(mut bundle: Bundle) -> Result<Vec<u8>, String> {
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut put = |dir: &str, i: usize, f: &mut BundleFile| -> Result<(), String> {
        let Some(data) = f.data.take() else { return Ok(()) };
        let bytes = B64.decode(data).map_err(|e| e.to_string())?;
        let safe: String = f
            .name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' })
            .collect();
        let path = format!("{dir}/{i:03}-{safe}");
        out.start_file(path.clone(), opts).map_err(|e| e.to_string())?;
        out.write_all(&bytes).map_err(|e| e.to_string())?;
        f.path = Some(path);
        Ok(())
    };
    for (i, d) in bundle.documents.iter_mut().enumerate() {
        put("documents", i, d)?;
    }
    for (i, m) in bundle.media.iter_mut().enumerate() {
        put("media", i, &mut m.file)?;
    }
    let manifest = serde_json::to_vec_pretty(&bundle).map_err(|e| e.to_string())?;
    out.start_file("bundle.json", opts).map_err(|e| e.to_string())?;
    out.write_all(&manifest).map_err(|e| e.to_string())?;
    Ok(out.finish().map_err(|e| e.to_string())?.into_inner())
}

pub fn encode(bytes: &[u8]) -> String {
    B64.encode(bytes)
}
