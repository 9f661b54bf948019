//! Reading multipart forms, the one way every upload endpoint does it: files and text fields,
//! each with its limit. A file past its limit is a 413 naming it, a text field past its limit a
//! 400 on that field; the rest of an oversized body is read and dropped up to `drain` bytes, so
//! the client sees the answer instead of a reset connection.

use std::collections::HashMap;

use futures_util::StreamExt;

use crate::error::{ApiError, ApiResult};

pub struct UploadedFile {
    pub bytes: Vec<u8>,
    /// The part's content type, else guessed from the file name.
    pub mime: String,
    pub filename: Option<String>,
}

#[derive(Default)]
pub struct Form {
    pub files: HashMap<String, UploadedFile>,
    pub fields: HashMap<String, String>,
}

impl Form {
    /// A text field, trimmed; `None` when absent or blank.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(|s| s.trim()).filter(|s| !s.is_empty())
    }

    /// The non-empty file `name`, or a 400 on that field.
    pub fn file(&mut self, name: &str) -> ApiResult<UploadedFile> {
        let file = self.files.remove(name).filter(|f| !f.bytes.is_empty());
        file.ok_or_else(|| ApiError::validation(name, format!("a non-empty {name} file is required")))
    }
}

#[derive(Clone, Copy)]
pub struct Limits {
    /// Bytes per file.
    pub file: usize,
    /// Bytes per text field.
    pub field: usize,
    /// Parts with these names are files even when the client sent no file name.
    pub files: &'static [&'static str],
    /// Bytes read in all before the connection is given up on.
    pub drain: usize,
}

impl Limits {
    /// The file parts `files` (and any part with a file name) of up to `file` bytes each; text
    /// fields of up to 64 KiB; a body of up to twice `file`.
    pub fn files(files: &'static [&'static str], file: usize) -> Limits {
        Limits { file, field: 64 * 1024, files, drain: 2 * file }
    }
}

/// Reads the whole form within `limits`.
pub async fn read(mut form: actix_multipart::Multipart, limits: Limits) -> ApiResult<Form> {
    let mut out = Form::default();
    let mut total = 0usize;
    let mut refused: Option<ApiError> = None;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|e| ApiError::BadRequest(format!("invalid multipart body: {e}")))?;
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field.content_disposition().and_then(|d| d.get_filename()).map(str::to_owned);
        let mime = field.content_type().map(|m| m.essence_str().to_owned());
        let is_file = filename.is_some() || limits.files.contains(&name.as_str());
        let limit = if is_file { limits.file } else { limits.field };
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("invalid multipart body: {e}")))?;
            total += chunk.len();
            if total > limits.drain {
                return Err(refused.unwrap_or_else(|| too_large(&name, limits.file)));
            }
            if refused.is_some() {
                continue;
            }
            if bytes.len() + chunk.len() > limit {
                refused = Some(if is_file {
                    too_large(&name, limit)
                } else {
                    ApiError::validation(name.clone(), format!("{name} is at most {limit} bytes"))
                });
                bytes = Vec::new();
                continue;
            }
            bytes.extend_from_slice(&chunk);
        }
        if refused.is_some() {
            continue;
        }
        if is_file {
            let mime =
                mime.unwrap_or_else(|| crate::media::guess_mime(filename.as_deref().unwrap_or_default()).to_owned());
            out.files.insert(name, UploadedFile { bytes, mime, filename });
        } else {
            out.fields.insert(name, String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    match refused {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

fn too_large(name: &str, limit: usize) -> ApiError {
    let size = if limit >= 1024 * 1024 { format!("{} MB", limit / (1024 * 1024)) } else { format!("{limit} bytes") };
    ApiError::TooLarge(format!("{name} is larger than {size}"))
}
