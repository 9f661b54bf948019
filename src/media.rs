//! Where message media and avatars are kept. [`MediaStore`] is the contract (put and get bytes by key); the
//! default keeps files on local disk under the data directory, and an object store (S3) can
//! implement the same two calls.

use std::path::PathBuf;

use futures_util::future::BoxFuture;

pub trait MediaStore: Send + Sync + 'static {
    /// Stores `bytes` under `key`, replacing what was there.
    fn put(&self, key: &str, bytes: Vec<u8>) -> BoxFuture<'static, std::io::Result<()>>;
    /// The bytes stored under `key`.
    fn get(&self, key: &str) -> BoxFuture<'static, std::io::Result<Vec<u8>>>;
    /// Removes what is stored under `key`; removing a missing key is not an error.
    fn delete(&self, key: &str) -> BoxFuture<'static, std::io::Result<()>>;
}

/// Files under a directory; keys are `<org>/<message>` and may only hold `[A-Za-z0-9._-/]`.
pub struct LocalDisk {
    root: PathBuf,
}

impl LocalDisk {
    pub fn new(root: PathBuf) -> LocalDisk {
        LocalDisk { root }
    }

    fn path(&self, key: &str) -> std::io::Result<PathBuf> {
        let ok = !key.is_empty()
            && !key.contains("..")
            && !key.starts_with('/')
            && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'));
        if !ok {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "invalid media key"));
        }
        Ok(self.root.join(key))
    }
}

impl MediaStore for LocalDisk {
    fn put(&self, key: &str, bytes: Vec<u8>) -> BoxFuture<'static, std::io::Result<()>> {
        let path = self.path(key);
        Box::pin(async move {
            let path = path?;
            if let Some(dir) = path.parent() {
                tokio::fs::create_dir_all(dir).await?;
            }
            // Written aside and renamed, so a reader never sees half a file.
            let tmp = path.with_extension("part");
            tokio::fs::write(&tmp, &bytes).await?;
            tokio::fs::rename(&tmp, &path).await
        })
    }

    fn get(&self, key: &str) -> BoxFuture<'static, std::io::Result<Vec<u8>>> {
        let path = self.path(key);
        Box::pin(async move { tokio::fs::read(path?).await })
    }

    fn delete(&self, key: &str) -> BoxFuture<'static, std::io::Result<()>> {
        let path = self.path(key);
        Box::pin(async move {
            match tokio::fs::remove_file(path?).await {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                other => other,
            }
        })
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn files_round_trip_and_keys_cannot_escape_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalDisk::new(dir.path().to_owned());
        store.put("org1/msg1", b"hello".to_vec()).await.unwrap();
        assert_eq!(store.get("org1/msg1").await.unwrap(), b"hello");
        assert!(store.put("../escape", vec![]).await.is_err());
        assert!(store.get("/etc/passwd").await.is_err());
        assert!(store.get("org1/none").await.is_err());
        store.delete("org1/msg1").await.unwrap();
        assert!(store.get("org1/msg1").await.is_err());
        store.delete("org1/msg1").await.unwrap();
        assert!(store.delete("../escape").await.is_err());
    }
}
