//! Reading multipart uploads: files and text fields, with a size limit per file.

use std::collections::HashMap;

use futures_util::StreamExt;

use crate::error::{ApiError, ApiResult};

pub struct UploadedFile {
    pub bytes: Vec<u8>,
    pub mime: String,
    pub filename: Option<String>,
}

#[derive(Default)]
pub struct Form {
    pub files: HashMap<String, UploadedFile>,
    pub fields: HashMap<String, String>,
}

impl Form {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(|s| s.trim()).filter(|s| !s.is_empty())
    }
}

/// Reads the whole form; a file past `limit` bytes, or a form past twice that, is a 413.
pub async fn read(mut form: actix_multipart::Multipart, limit: usize) -> ApiResult<Form> {
    let mut out = Form::default();
    let mut total = 0usize;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|e| ApiError::BadRequest(format!("invalid multipart body: {e}")))?;
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field.content_disposition().and_then(|d| d.get_filename()).map(str::to_owned);
        let mime = field.content_type().map(|m| m.essence_str().to_owned());
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("invalid multipart body: {e}")))?;
            total += chunk.len();
            if bytes.len() + chunk.len() > limit || total > 2 * limit {
                return Err(ApiError::TooLarge(format!("{name} is larger than {} MB", limit / (1024 * 1024))));
            }
            bytes.extend_from_slice(&chunk);
        }
        if filename.is_some() {
            let mime = mime.unwrap_or_else(|| guess_mime(filename.as_deref().unwrap_or_default()).to_owned());
            out.files.insert(name, UploadedFile { bytes, mime, filename });
        } else {
            out.fields.insert(name, String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    Ok(out)
}

/// A MIME type from a file name, for clients that send `application/octet-stream`.
pub fn guess_mime(name: &str) -> &'static str {
    let lower = name.to_lowercase();
    let ext = lower.rsplit('.').next().unwrap_or_default();
    match ext {
        "txt" => "text/plain",
        "md" | "markdown" => "text/markdown",
        "html" | "htm" => "text/html",
        "csv" => "text/csv",
        "pdf" => "application/pdf",
        "json" => "application/json",
        "zip" => "application/zip",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "mp4" => "video/mp4",
        "3gp" => "video/3gpp",
        _ => "application/octet-stream",
    }
}
