//! The agent web UI, built from `web/` by Vite and embedded in the binary (a release build carries
//! the files; a debug build reads `web/dist` from disk, so a rebuilt UI shows without recompiling).
//! Every GET outside the API answers the file at that path or, for any other path, `index.html`,
//! so a deep link such as `/conversations/<id>` reloads into the same screen. Hashed assets are
//! cached for a year; `index.html` never, so a new build is picked up at the next load.

use actix_web::http::Method;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use rust_embed::RustEmbed;

use crate::error::ApiError;

#[derive(RustEmbed)]
#[folder = "web/dist"]
struct Assets;

/// Path prefixes that never fall back to the app: an unknown path there is the API's JSON 404.
/// `/messages` and `/v1/` are the classic (Cekat-style) Messages API.
const NOT_THE_APP: [&str; 6] = ["/api/", "/webhooks/", "/internal/", "/widget/", "/messages/", "/v1/"];

/// The default service: the UI for browser paths, the JSON 404 for everything else.
pub async fn serve(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let path = req.path();
    let api_like =
        path == "/api" || path == "/messages" || path == "/metrics" || NOT_THE_APP.iter().any(|p| path.starts_with(p));
    if api_like || !(req.method() == Method::GET || req.method() == Method::HEAD) {
        return Err(ApiError::NotFound(if path.starts_with("/api/") { "route" } else { "page" }));
    }
    let wanted = path.trim_start_matches('/');
    if !wanted.is_empty()
        && let Some(file) = Assets::get(wanted)
    {
        let immutable = wanted.starts_with("assets/");
        return Ok(respond(&req, file, immutable));
    }
    // A missing file under /assets/ is a stale reference, not a screen: say so instead of
    // answering HTML where the browser expects a script.
    if wanted.starts_with("assets/") {
        return Err(ApiError::NotFound("file"));
    }
    match Assets::get("index.html") {
        Some(index) => Ok(respond(&req, index, false)),
        None => Ok(HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("The web UI was not built into this binary: run `npm ci && npm run build` in web/ and rebuild.")),
    }
}

fn respond(req: &HttpRequest, file: rust_embed::EmbeddedFile, immutable: bool) -> HttpResponse {
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
    let cache = if immutable { "public, max-age=31536000, immutable" } else { "no-cache" };
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut res = if fresh { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    res.insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::ETAG, etag))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")));
    if fresh {
        return res.finish();
    }
    res.content_type(file.metadata.mimetype());
    if req.method() == Method::HEAD {
        return res.finish();
    }
    res.body(file.data.into_owned())
}

/// A file of the widget's build (`widget.js`, `widget.html`), with its cache policy: the
/// loader is cached briefly (its name is fixed), the page never (it names hashed assets).
/// `None` when the widget was not built into this binary.
pub fn widget_file(req: &HttpRequest, name: &str) -> Option<HttpResponse> {
    let file = Assets::get(name)?;
    let mut res = respond(req, file, false);
    if name.ends_with(".js") {
        res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8"));
    }
    Some(res)
}
