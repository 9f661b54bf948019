//! A small client for OpenAI-compatible APIs: chat completions (optionally with a JSON answer),
//! embeddings and the model list. Transient failures (429, 5xx, timeouts, connection errors) are
//! retried with backoff, honouring `Retry-After` up to a bound; anything else fails at once with
//! the provider's reason. Token usage comes back with every chat answer so it can be recorded.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The providers the product knows, each with the base URL of its OpenAI-compatible API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProviderKind {
    Openai,
    Anthropic,
    Google,
    Deepseek,
    Kimi,
    /// A server on the operator's own machines (Ollama, vLLM, llama.cpp).
    Local,
}

impl ProviderKind {
    pub fn parse(s: &str) -> Option<ProviderKind> {
        serde_json::from_value(Value::String(s.trim().to_uppercase())).ok()
    }

    /// Where the provider's OpenAI-compatible API lives, unless a preset says otherwise.
    pub fn default_base_url(self) -> &'static str {
        match self {
            ProviderKind::Openai => "https://api.openai.com/v1",
            ProviderKind::Anthropic => "https://api.anthropic.com/v1",
            ProviderKind::Google => "https://generativelanguage.googleapis.com/v1beta/openai",
            ProviderKind::Deepseek => "https://api.deepseek.com/v1",
            ProviderKind::Kimi => "https://api.moonshot.ai/v1",
            ProviderKind::Local => "http://127.0.0.1:11434/v1",
        }
    }
}

/// One chat message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant`.
    pub role: String,
    pub content: String,
}

impl ChatMessage {
    pub fn new(role: &str, content: impl Into<String>) -> ChatMessage {
        ChatMessage { role: role.into(), content: content.into() }
    }
}

#[derive(Clone, Debug)]
pub struct ChatRequest {
    pub model: String,
    pub messages: Vec<ChatMessage>,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    /// Ask for a JSON object as the answer (`response_format: json_object`).
    pub json: bool,
}

/// Tokens a call used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ChatAnswer {
    pub content: String,
    pub model: String,
    pub usage: Usage,
    /// Attempts it took (1 when the first one answered).
    pub attempts: u32,
}

/// A piece of a streamed answer.
#[derive(Clone, Debug, PartialEq)]
pub enum StreamPiece {
    Text(String),
    /// The tokens of the whole call, sent by the provider at the end (`stream_options.include_usage`).
    Usage(Usage),
}

/// The longest answer read from a provider; a bigger one is refused rather than held in memory.
const MAX_ANSWER_BYTES: usize = 8 << 20;

/// Splits a server-sent-events byte stream into lines. Bytes are kept until their line ends, so
/// a character split across two network chunks arrives whole.
#[derive(Default)]
struct SseLines {
    pending: Vec<u8>,
    /// How far `pending` is known to hold no line end (each byte is looked at once).
    scanned: usize,
}

impl SseLines {
    /// Adds a chunk and answers the lines it completed; `None` once a single line grows past
    /// [`MAX_ANSWER_BYTES`].
    fn push(&mut self, chunk: &[u8]) -> Option<Vec<String>> {
        self.pending.extend_from_slice(chunk);
        let mut lines = vec![];
        let mut start = 0;
        for i in self.scanned..self.pending.len() {
            if self.pending[i] == b'\n' {
                lines.push(String::from_utf8_lossy(&self.pending[start..=i]).trim().to_owned());
                start = i + 1;
            }
        }
        self.pending.drain(..start);
        self.scanned = self.pending.len();
        (self.pending.len() <= MAX_ANSWER_BYTES).then_some(lines)
    }
}

/// The reason behind a transport error, outermost to innermost ("error sending request" alone
/// does not say that the address was refused or the name did not resolve).
pub(crate) fn reason(e: &reqwest::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.dedup();
    parts.join(": ")
}

/// Why a call failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProviderErrorKind {
    /// The key was refused (401/403).
    Unauthorized,
    /// Still rate limited after the retries.
    RateLimited,
    /// 5xx, timeouts or no connection, after the retries.
    Unavailable,
    /// The provider refused the request itself (other 4xx: unknown model, bad parameters).
    Rejected,
    /// A 2xx answer that is not what the API promises.
    BadResponse,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ProviderError {
    pub kind: ProviderErrorKind,
    pub message: String,
}

impl ProviderError {
    fn new(kind: ProviderErrorKind, message: impl Into<String>) -> ProviderError {
        ProviderError { kind, message: message.into() }
    }
    fn transient(&self) -> bool {
        matches!(self.kind, ProviderErrorKind::RateLimited | ProviderErrorKind::Unavailable)
    }
}

#[derive(Clone, Debug)]
pub struct Provider {
    http: reqwest::Client,
    base_url: String,
    api_key: Option<String>,
    /// Retries after the first attempt, for transient failures.
    retries: u32,
    /// First retry delay; doubles per retry.
    backoff: Duration,
}

/// The longest `Retry-After` honoured; a longer one fails the call instead of stalling a turn.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(5);

impl Provider {
    pub fn new(base_url: &str, api_key: Option<String>, timeout: Duration) -> Result<Provider, reqwest::Error> {
        let http = crate::http_client::builder(timeout).build()?;
        Ok(Provider::with_client(http, base_url, api_key))
    }

    /// A client for `base_url` over an existing HTTP client (which carries the timeouts).
    pub fn with_client(http: reqwest::Client, base_url: &str, api_key: Option<String>) -> Provider {
        Provider {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key: api_key.filter(|k| !k.is_empty()),
            retries: 2,
            backoff: Duration::from_millis(250),
        }
    }

    /// Sets how often and how soon transient failures are retried.
    pub fn with_retries(mut self, retries: u32, backoff: Duration) -> Provider {
        self.retries = retries;
        self.backoff = backoff;
        self
    }

    /// One chat completion.
    pub async fn chat(&self, req: &ChatRequest) -> Result<ChatAnswer, ProviderError> {
        let mut body = json!({ "model": req.model, "messages": req.messages });
        if let Some(t) = req.temperature {
            body["temperature"] = json!(t);
        }
        if let Some(m) = req.max_tokens {
            body["max_tokens"] = json!(m);
        }
        if req.json {
            body["response_format"] = json!({ "type": "json_object" });
        }
        let (answer, attempts) = self.call(reqwest::Method::POST, "/chat/completions", Some(&body)).await?;
        let content = answer["choices"][0]["message"]["content"]
            .as_str()
            .ok_or_else(|| {
                ProviderError::new(ProviderErrorKind::BadResponse, "the answer has no choices[0].message.content")
            })?
            .to_owned();
        let usage = Usage {
            prompt_tokens: answer["usage"]["prompt_tokens"].as_u64().unwrap_or(0),
            completion_tokens: answer["usage"]["completion_tokens"].as_u64().unwrap_or(0),
        };
        let model = answer["model"].as_str().unwrap_or(&req.model).to_owned();
        Ok(ChatAnswer { content, model, usage, attempts })
    }

    /// A streamed chat completion: the text arrives in pieces on the receiver, as the provider
    /// sends them (server-sent events); an error ends the stream. Not retried: a stream that
    /// failed halfway cannot be taken back.
    pub async fn chat_stream(
        &self,
        req: &ChatRequest,
    ) -> Result<tokio::sync::mpsc::Receiver<Result<StreamPiece, ProviderError>>, ProviderError> {
        let mut body = json!({
            "model": req.model,
            "messages": req.messages,
            "stream": true,
            "stream_options": { "include_usage": true },
        });
        if let Some(t) = req.temperature {
            body["temperature"] = json!(t);
        }
        if let Some(m) = req.max_tokens {
            body["max_tokens"] = json!(m);
        }
        let send = |body: &Value| {
            let mut http = self.http.post(format!("{}/chat/completions", self.base_url)).json(body);
            if let Some(key) = &self.api_key {
                http = http.bearer_auth(key);
            }
            async move {
                http.send().await.map_err(|e| {
                    let msg = format!("could not reach the provider: {}", reason(&e));
                    ProviderError::new(ProviderErrorKind::Unavailable, msg)
                })
            }
        };
        let mut res = send(&body).await?;
        // Some OpenAI-compatible servers refuse the usage option: asked again without it, the
        // suggestion still comes (its tokens then go unrecorded).
        if res.status() == reqwest::StatusCode::BAD_REQUEST {
            if let Some(o) = body.as_object_mut() {
                o.remove("stream_options");
            }
            res = send(&body).await?;
        }
        let status = res.status();
        if !status.is_success() {
            let kind = match status.as_u16() {
                401 | 403 => ProviderErrorKind::Unauthorized,
                429 => ProviderErrorKind::RateLimited,
                408 | 500..=599 => ProviderErrorKind::Unavailable,
                _ => ProviderErrorKind::Rejected,
            };
            return Err(ProviderError::new(kind, format!("provider answered {status}")));
        }
        let (tx, rx) = tokio::sync::mpsc::channel(32);
        tokio::spawn(async move {
            let mut lines = SseLines::default();
            // Usage is reported once, at the end: some servers repeat a running total on every
            // chunk, and the last one is the call's.
            let mut usage = None;
            let finish = |usage: Option<Usage>, tx: tokio::sync::mpsc::Sender<_>| async move {
                if let Some(u) = usage {
                    let _ = tx.send(Ok(StreamPiece::Usage(u))).await;
                }
            };
            loop {
                let chunk = match res.chunk().await {
                    Ok(Some(c)) => c,
                    Ok(None) => return finish(usage, tx).await,
                    Err(e) => {
                        let msg = format!("the stream broke off: {e}");
                        let _ = tx.send(Err(ProviderError::new(ProviderErrorKind::Unavailable, msg))).await;
                        return;
                    }
                };
                let Some(complete) = lines.push(&chunk) else {
                    let msg = "the stream sent a line longer than the answer limit";
                    let _ = tx.send(Err(ProviderError::new(ProviderErrorKind::BadResponse, msg))).await;
                    return;
                };
                for line in complete {
                    let Some(data) = line.strip_prefix("data:").map(str::trim) else { continue };
                    if data == "[DONE]" {
                        return finish(usage, tx).await;
                    }
                    let Ok(v) = serde_json::from_str::<Value>(data) else { continue };
                    if v["usage"].is_object() {
                        usage = Some(Usage {
                            prompt_tokens: v["usage"]["prompt_tokens"].as_u64().unwrap_or(0),
                            completion_tokens: v["usage"]["completion_tokens"].as_u64().unwrap_or(0),
                        });
                    }
                    if let Some(p) = v["choices"][0]["delta"]["content"].as_str().filter(|p| !p.is_empty())
                        && tx.send(Ok(StreamPiece::Text(p.to_owned()))).await.is_err()
                    {
                        return; // the client went away
                    }
                }
            }
        });
        Ok(rx)
    }

    /// Embeddings of `inputs`, in their order.
    pub async fn embed(&self, model: &str, inputs: &[String]) -> Result<Vec<Vec<f32>>, ProviderError> {
        let body = json!({ "model": model, "input": inputs });
        let (answer, _) = self.call(reqwest::Method::POST, "/embeddings", Some(&body)).await?;
        let mut rows: Vec<(u64, Vec<f32>)> = answer["data"]
            .as_array()
            .ok_or_else(|| ProviderError::new(ProviderErrorKind::BadResponse, "the answer has no data array"))?
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let vector = d["embedding"]
                    .as_array()
                    .map(|v| v.iter().filter_map(|x| x.as_f64()).map(|x| x as f32).collect())
                    .unwrap_or_default();
                (d["index"].as_u64().unwrap_or(i as u64), vector)
            })
            .collect();
        if rows.len() != inputs.len() || rows.iter().any(|(_, v)| v.is_empty()) {
            return Err(ProviderError::new(ProviderErrorKind::BadResponse, "one embedding per input was expected"));
        }
        rows.sort_by_key(|(i, _)| *i);
        Ok(rows.into_iter().map(|(_, v)| v).collect())
    }

    /// The model ids the key may use.
    pub async fn models(&self) -> Result<Vec<String>, ProviderError> {
        let (answer, _) = self.call(reqwest::Method::GET, "/models", None).await?;
        let mut ids: Vec<String> = answer["data"]
            .as_array()
            .ok_or_else(|| ProviderError::new(ProviderErrorKind::BadResponse, "the answer has no data array"))?
            .iter()
            .filter_map(|m| m["id"].as_str().map(str::to_owned))
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// Sends one request, retrying transient failures; returns the JSON answer and the attempts.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(Value, u32), ProviderError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (result, retry_after) = self.once(method.clone(), path, body).await;
            match result {
                Ok(v) => return Ok((v, attempt)),
                Err(e) if e.transient() && attempt <= self.retries => {
                    let wait = retry_after.unwrap_or(self.backoff * 2u32.saturating_pow(attempt - 1));
                    if wait > MAX_RETRY_AFTER {
                        return Err(e);
                    }
                    tracing::info!(%path, attempt, error = %e.message, "provider call failed; retrying");
                    tokio::time::sleep(wait).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn once(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (Result<Value, ProviderError>, Option<Duration>) {
        let mut req = self.http.request(method, format!("{}{path}", self.base_url));
        if let Some(key) = &self.api_key {
            req = req.bearer_auth(key);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let mut res = match req.send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => {
                return (Err(ProviderError::new(ProviderErrorKind::Unavailable, "the provider timed out")), None);
            }
            Err(e) => {
                let msg = format!("could not reach the provider: {}", reason(&e));
                return (Err(ProviderError::new(ProviderErrorKind::Unavailable, msg)), None);
            }
        };
        let status = res.status();
        let retry_after = res
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let mut bytes = Vec::new();
        loop {
            match res.chunk().await {
                Ok(Some(c)) if bytes.len() + c.len() > MAX_ANSWER_BYTES => {
                    let msg = format!("the provider's answer is larger than {} MiB", MAX_ANSWER_BYTES >> 20);
                    return (Err(ProviderError::new(ProviderErrorKind::BadResponse, msg)), None);
                }
                Ok(Some(c)) => bytes.extend_from_slice(&c),
                Ok(None) => break,
                Err(e) => {
                    let msg = format!("the provider's answer broke off: {}", reason(&e));
                    return (Err(ProviderError::new(ProviderErrorKind::Unavailable, msg)), None);
                }
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        let json: Option<Value> = serde_json::from_str(&text).ok();
        if status.is_success() {
            return match json {
                Some(v) => (Ok(v), None),
                None => (Err(ProviderError::new(ProviderErrorKind::BadResponse, "the answer is not JSON")), None),
            };
        }
        let reason = json
            .as_ref()
            .and_then(|v| v["error"]["message"].as_str().or(v["error"].as_str()).map(str::to_owned))
            .unwrap_or_else(|| text.chars().take(200).collect());
        let kind = match status.as_u16() {
            401 | 403 => ProviderErrorKind::Unauthorized,
            429 => ProviderErrorKind::RateLimited,
            408 | 500..=599 => ProviderErrorKind::Unavailable,
            _ => ProviderErrorKind::Rejected,
        };
        (Err(ProviderError::new(kind, format!("provider answered {status}: {reason}"))), retry_after)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::{Arc, Mutex};

    use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

    use super::*;

    /// What the fake saw: path, JSON body, Authorization header.
    type Seen = Arc<Mutex<Vec<(String, Value, Option<String>)>>>;

    /// A fake provider answering each request with the next scripted (status, body), then 200s.
    struct Fake {
        url: String,
        seen: Seen,
        _handle: actix_web::dev::ServerHandle,
    }

    async fn fake(script: Vec<(u16, Value)>) -> Fake {
        let script = Arc::new(Mutex::new(script));
        let seen: Seen = Arc::default();
        let (s, k) = (script.clone(), seen.clone());
        let server = HttpServer::new(move || {
            let (s, k) = (s.clone(), k.clone());
            App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let (s, k) = (s.clone(), k.clone());
                async move {
                    let auth = req.headers().get("authorization").map(|v| v.to_str().unwrap().to_owned());
                    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    k.lock().unwrap().push((req.path().to_owned(), json, auth));
                    let next = {
                        let mut s = s.lock().unwrap();
                        if s.is_empty() { None } else { Some(s.remove(0)) }
                    };
                    let (status, body) = next.unwrap_or((200, json!({})));
                    let mut res = HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
                    if status == 429 {
                        res.insert_header(("retry-after", "0"));
                    }
                    res.json(body)
                }
            }))
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Fake { url: format!("http://127.0.0.1:{port}/v1"), seen, _handle: handle }
    }

    fn answer(text: &str) -> Value {
        json!({"model": "m-1", "choices": [{"message": {"role": "assistant", "content": text}}], "usage": {"prompt_tokens": 12, "completion_tokens": 3}})
    }

    fn request() -> ChatRequest {
        ChatRequest {
            model: "m-1".into(),
            messages: vec![ChatMessage::new("system", "be brief"), ChatMessage::new("user", "hi")],
            temperature: Some(0.2),
            max_tokens: None,
            json: true,
        }
    }

    #[test]
    fn stream_lines_keep_characters_split_across_chunks_whole() {
        let mut lines = SseLines::default();
        assert_eq!(lines.push(b"data: caf\xc3").unwrap(), Vec::<String>::new());
        assert_eq!(lines.push(b"\xa9\n\ndata: [DO").unwrap(), vec!["data: caf\u{e9}".to_owned(), String::new()]);
        assert_eq!(lines.push(b"NE]\r\n").unwrap(), vec!["data: [DONE]".to_owned()]);
        assert!(lines.push(&vec![b'x'; MAX_ANSWER_BYTES + 1]).is_none());
    }

    #[actix_web::test]
    async fn a_chat_answer_carries_its_text_and_usage_and_the_request_is_openai_shaped() {
        let f = fake(vec![(200, answer("hello!"))]).await;
        let p = Provider::new(&f.url, Some("sk-test".into()), Duration::from_secs(5)).unwrap();
        let a = p.chat(&request()).await.unwrap();
        assert_eq!(a.content, "hello!");
        assert_eq!(a.usage, Usage { prompt_tokens: 12, completion_tokens: 3 });
        assert_eq!(a.attempts, 1);
        let seen = f.seen.lock().unwrap();
        assert_eq!(seen[0].0, "/v1/chat/completions");
        assert_eq!(seen[0].1["messages"][1]["content"], "hi");
        assert_eq!(seen[0].1["response_format"]["type"], "json_object");
        assert_eq!(seen[0].2.as_deref(), Some("Bearer sk-test"));
    }

    #[actix_web::test]
    async fn transient_failures_are_retried_and_permanent_ones_are_not() {
        let f = fake(vec![(500, json!({"error": {"message": "boom"}})), (429, json!({})), (200, answer("ok"))]).await;
        let p = Provider::new(&f.url, None, Duration::from_secs(5)).unwrap().with_retries(2, Duration::from_millis(10));
        let a = p.chat(&request()).await.unwrap();
        assert_eq!((a.content.as_str(), a.attempts), ("ok", 3));

        let f = fake(vec![(401, json!({"error": {"message": "bad key"}}))]).await;
        let p = Provider::new(&f.url, Some("nope".into()), Duration::from_secs(5))
            .unwrap()
            .with_retries(2, Duration::from_millis(10));
        let e = p.chat(&request()).await.unwrap_err();
        assert_eq!(e.kind, ProviderErrorKind::Unauthorized);
        assert!(e.message.contains("bad key"), "{e}");
        assert_eq!(f.seen.lock().unwrap().len(), 1, "a refused key is not retried");

        let f = fake(vec![(503, json!({})), (503, json!({})), (503, json!({}))]).await;
        let p = Provider::new(&f.url, None, Duration::from_secs(5)).unwrap().with_retries(2, Duration::from_millis(10));
        assert_eq!(p.chat(&request()).await.unwrap_err().kind, ProviderErrorKind::Unavailable);
        assert_eq!(f.seen.lock().unwrap().len(), 3, "the first attempt and two retries");

        let f = fake(vec![(400, json!({"error": {"message": "unknown model"}}))]).await;
        let p = Provider::new(&f.url, None, Duration::from_secs(5)).unwrap();
        assert_eq!(p.chat(&request()).await.unwrap_err().kind, ProviderErrorKind::Rejected);
    }

    #[actix_web::test]
    async fn a_malformed_answer_and_an_unreachable_provider_are_errors_not_panics() {
        let f = fake(vec![(200, json!({"choices": []}))]).await;
        let p = Provider::new(&f.url, None, Duration::from_secs(5)).unwrap();
        assert_eq!(p.chat(&request()).await.unwrap_err().kind, ProviderErrorKind::BadResponse);
        let p =
            Provider::new("http://127.0.0.1:9", None, Duration::from_secs(2)).unwrap().with_retries(0, Duration::ZERO);
        assert_eq!(p.chat(&request()).await.unwrap_err().kind, ProviderErrorKind::Unavailable);
    }

    #[actix_web::test]
    async fn embeddings_come_back_in_input_order_and_models_sorted() {
        let f = fake(vec![
            (200, json!({"data": [{"index": 1, "embedding": [0.5, 0.5]}, {"index": 0, "embedding": [1.0, 0.0]}]})),
            (200, json!({"data": [{"id": "zeta"}, {"id": "alpha"}]})),
        ])
        .await;
        let p = Provider::new(&f.url, None, Duration::from_secs(5)).unwrap();
        let v = p.embed("e-1", &["a".into(), "b".into()]).await.unwrap();
        assert_eq!(v, vec![vec![1.0, 0.0], vec![0.5, 0.5]]);
        assert_eq!(p.models().await.unwrap(), vec!["alpha", "zeta"]);
    }

    #[test]
    fn provider_names_parse_and_have_base_urls() {
        assert_eq!(ProviderKind::parse("openai"), Some(ProviderKind::Openai));
        assert_eq!(ProviderKind::parse("LOCAL"), Some(ProviderKind::Local));
        assert_eq!(ProviderKind::parse("skynet"), None);
        assert!(ProviderKind::Deepseek.default_base_url().starts_with("https://"));
    }
}
