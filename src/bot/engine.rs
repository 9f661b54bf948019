//! The bot pipeline, shared by conversation turns, `/bot-config/test` and the sandbox:
//! explicit requests for a human, intents, retrieval from the knowledge base, the prompt, the
//! model's structured decision (reply / hand off / call a tool, up to three tool rounds), and the
//! trace, usage and session it leaves. Failures never leave the customer in silence: a model that
//! cannot be reached or read, or a spent monthly limit, hands the conversation to humans (or,
//! with hand-off off, sends the fallback message).

use std::sync::Arc;
use std::time::{Duration, Instant};

use actors::admission::{Admission, Pass};
use actors::bot::{BotEngine, TurnOutcome, TurnRequest};
use entities::enums::{ConversationStatus, Direction};
use entities::{bot_config, bot_intent, bot_tool, message};
use futures_util::future::BoxFuture;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::config::{self, Settings};
use super::decision::{self, Decision};
use super::knowledge::{self, Hit};
use super::provider::{ChatMessage, ChatRequest, Provider, Usage};
use super::record::{self, Step, Trace};
use super::{settings, tools};
use crate::crypto::SecretBox;
use crate::domain::{Error, Result};

/// Cheap to clone: connections and clients are shared.
#[derive(Clone)]
pub struct Engine {
    /// Reads.
    pub db: DatabaseConnection,
    /// Writes go through its write transactions (on SQLite they queue on the process's writer
    /// lock instead of holding a pool connection in SQLite's busy wait).
    store: actors::Db,
    /// A bot turn passes admission to the database for each phase that uses it, and gives the
    /// pass back while the model thinks.
    admission: Arc<Admission>,
    pub secrets: SecretBox,
    http: reqwest::Client,
    /// Bot turns a month per organization unless its settings say otherwise.
    pub default_turn_limit: i64,
    /// Provider hosts allowed although private or loopback (`CX_LLM_PRIVATE_HOSTS`).
    pub private_hosts: Vec<String>,
    /// Knowledge retrieval, with the vectors of small knowledge bases in memory.
    pub knowledge: Arc<knowledge::Retriever>,
}

/// One run of the pipeline.
pub struct RunInput {
    pub org_id: String,
    pub conversation_id: Option<String>,
    pub config: bot_config::Model,
    /// The conversation so far, oldest first; the last entry is what the customer just wrote.
    pub history: Vec<ChatMessage>,
    /// What an agent handed back to the bot.
    pub context: Option<String>,
    /// `TURN`, `SANDBOX` or `TEST`.
    pub kind: &'static str,
    /// Whether the caller already holds admission to the database (an API request). A bot
    /// turn does not: it passes admission phase by phase.
    pub admitted: bool,
    /// Also ask the model for a category (auto-categorize, conversation without one).
    pub categorize: bool,
}

/// What the pipeline decided.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", tag = "action")]
pub enum Final {
    #[serde(rename = "reply")]
    Reply { text: String, sources: Vec<String> },
    #[serde(rename = "handoff")]
    Handoff { reason: String, summary: Option<String>, text: Option<String> },
}

#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunOutput {
    pub trace_id: String,
    pub decision: Final,
    pub category: Option<String>,
    /// The passages retrieved for the question.
    pub chunks: Vec<Hit>,
    pub model: Option<String>,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub duration_ms: u64,
    /// Tools called, with their results.
    #[schema(value_type = Vec<Object>)]
    pub tool_calls: Vec<Value>,
}

const MAX_TOOL_ROUNDS: usize = 3;

impl Engine {
    pub fn new(
        store: actors::Db,
        admission: Arc<Admission>,
        secrets: SecretBox,
        timeout: Duration,
        default_turn_limit: i64,
        private_hosts: Vec<String>,
        exhaustive_vectors: usize,
    ) -> std::result::Result<Engine, reqwest::Error> {
        // Every connection re-checks its addresses (the guard in `provider_for` checks the URL
        // when the client is made; this closes the gap between that check and each call), and
        // a redirect could lead to an address literal, which no resolver sees: none is followed.
        let http = crate::http_client::builder(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(std::sync::Arc::new(tools::GuardedResolver::new(private_hosts.clone())))
            .build()?;
        let knowledge = Arc::new(knowledge::Retriever::new(exhaustive_vectors));
        Ok(Engine {
            db: store.conn.clone(),
            store,
            admission,
            secrets,
            http,
            default_turn_limit,
            private_hosts,
            knowledge,
        })
    }

    /// A provider client for a resolved endpoint. Base URLs are set by organization admins, so
    /// they pass the same guard as tools: no private, loopback or link-local target unless the
    /// operator allows the host (`CX_LLM_PRIVATE_HOSTS`, e.g. for a LOCAL model server).
    pub async fn provider(&self, endpoint: &config::Endpoint) -> Result<Provider> {
        self.provider_for(&endpoint.base_url, endpoint.api_key.clone()).await
    }

    pub async fn provider_for(&self, base_url: &str, api_key: Option<String>) -> Result<Provider> {
        let url = reqwest::Url::parse(base_url).map_err(|_| Error::invalid("baseUrl", "baseUrl is not a valid URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::invalid("baseUrl", "baseUrl must be an http(s) URL"));
        }
        // A host name is checked by the client's resolver at every connection; only an address
        // literal, which no resolver sees, is checked here (no DNS lookup on the turn's path).
        let host = url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
        if host.parse::<std::net::IpAddr>().is_err() {
            return Ok(Provider::with_client(self.http.clone(), base_url, api_key));
        }
        tools::guard(&url, &self.private_hosts).await.map_err(|e| Error::invalid("baseUrl", e.to_string()))?;
        Ok(Provider::with_client(self.http.clone(), base_url, api_key))
    }

    /// One question to the model of `endpoint`, answered as a JSON object (empty when the answer
    /// holds none); the call counts against the organization's usage. The one-shot calls
    /// (summaries, classification, tool parameters) all go through here.
    pub async fn ask_json(
        &self,
        org_id: &str,
        endpoint: &config::Endpoint,
        prompt: String,
        temperature: f32,
        max_tokens: u32,
    ) -> Result<serde_json::Map<String, serde_json::Value>> {
        let req = ChatRequest {
            model: endpoint.model.clone(),
            messages: vec![ChatMessage::new("user", prompt)],
            temperature: Some(temperature),
            max_tokens: Some(max_tokens),
            json: true,
        };
        let answer = self
            .provider(endpoint)
            .await?
            .chat(&req)
            .await
            .map_err(|e| Error::Unavailable(format!("the model could not answer: {e}")))?;
        self.add_usage(org_id, answer.usage, 1).await?;
        Ok(decision::object_of(&answer.content).unwrap_or_default())
    }

    /// A summary of the conversation written by the active config's model, for the agent who
    /// takes it over or the bot it is handed back to; `None` without an active config or when the
    /// model cannot answer (callers fall back to the recent-messages summary).
    pub async fn model_summary(&self, org_id: &str, conversation_id: &str) -> Option<String> {
        let c = config::active(&self.db, org_id).await.ok()??;
        let endpoint = config::endpoint(&self.db, &self.secrets, &c).await.ok()?;
        let transcript = transcript(&self.db, conversation_id, 30, ("user", "assistant")).await.ok()?;
        let prompt = format!(
            "Summarize this customer conversation for the colleague who takes it over: who the customer is, \
             what they want, what was already said or done, what is pending. At most five sentences. \
             Answer with one JSON object {{\"summary\": \"…\"}}.\n\nConversation:\n{transcript}"
        );
        let object = self.ask_json(org_id, &endpoint, prompt, 0.2, 300).await.ok()?;
        object.get("summary")?.as_str().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
    }

    /// The organization's monthly turn limit, and the turns used this month.
    pub async fn turn_budget(&self, org_id: &str) -> Result<(i64, i64)> {
        let limit = settings::load(&self.db, org_id).await?.monthly_turn_limit.unwrap_or(self.default_turn_limit);
        let used =
            record::usage_of(&self.db, org_id, &record::month_of(chrono::Utc::now())).await?.map_or(0, |u| u.turns);
        Ok((limit, used))
    }

    /// Runs the pipeline and stores its trace and usage.
    pub async fn run(&self, input: RunInput) -> Result<RunOutput> {
        let mut phase = Phase::new((!input.admitted).then_some(&*self.admission));
        phase.enter().await;
        let started = Instant::now();
        let trace_id = actors::new_id();
        let settings = Settings::of(&input.config);
        let mode = settings::load(&self.db, &input.org_id).await?.mode;
        let query =
            input.history.iter().rev().take_while(|m| m.role == "user").map(|m| m.content.as_str()).collect::<Vec<_>>();
        let query = query.into_iter().rev().collect::<Vec<_>>().join("\n");
        let mut steps = Vec::new();
        let mut usage = Usage::default();
        let mut calls = 0i64;
        let mut tool_calls = Vec::new();
        let mut chunks = Vec::new();
        let mut category = None;
        let mut error = None;
        let mut model_name = None;

        let decided: Final = 'decide: {
            // 1. A customer who asks for a person gets one, without a model call.
            if mode.handoff_enabled && mode.handoff_on_request && asks_for_human(&query) {
                steps.push(step("guard", Instant::now(), json!({"rule": "customer asked for a human"})));
                break 'decide Final::Handoff {
                    reason: "the customer asked for a human".into(),
                    summary: None,
                    text: settings.handoff_message.clone(),
                };
            }
            // 2. Intents with a fixed action.
            let t = Instant::now();
            let intents = bot_intent::Entity::find()
                .filter(bot_intent::Column::ConfigId.eq(input.config.id.clone()))
                .filter(bot_intent::Column::IsActive.eq(true))
                .order_by_asc(bot_intent::Column::Position)
                .all(&self.db)
                .await?;
            if let Some(intent) = intents.iter().find(|i| intent_matches(i, &query)) {
                steps.push(step(
                    "intent",
                    t,
                    json!({"intentId": intent.id, "name": intent.name, "action": intent.action}),
                ));
                match intent.action.as_str() {
                    "REPLY" if intent.response.is_some() => {
                        break 'decide Final::Reply {
                            text: intent.response.clone().unwrap_or_default(),
                            sources: vec![],
                        };
                    }
                    "HANDOFF" if mode.handoff_enabled => {
                        break 'decide Final::Handoff {
                            reason: format!("intent \"{}\"", intent.name),
                            summary: None,
                            text: intent.response.clone().or(settings.handoff_message.clone()),
                        };
                    }
                    _ => {}
                }
            }
            // 3. Retrieval.
            let t = Instant::now();
            let endpoint = config::endpoint(&self.db, &self.secrets, &input.config).await?;
            let provider = match self.provider(&endpoint).await {
                Ok(p) => p,
                Err(e) => {
                    steps.push(step("guard", t, json!({"refused": endpoint.base_url, "reason": e.to_string()})));
                    error = Some(e.to_string());
                    break 'decide failure(&settings, &mode, format!("the bot's model could not be called: {e}"));
                }
            };
            let tools = bot_tool::Entity::find()
                .filter(bot_tool::Column::OrgId.eq(input.org_id.clone()))
                .filter(bot_tool::Column::IsActive.eq(true))
                .all(&self.db)
                .await?;
            let query_vector = match &settings.embedding_model {
                Some(model) if !query.is_empty() => {
                    calls += 1;
                    // The database pass is given back while the provider is called.
                    phase.leave();
                    let vector = match provider.embed(model, std::slice::from_ref(&query)).await {
                        Ok(mut v) => v.pop(),
                        Err(e) => {
                            tracing::warn!(error = %e, "query embedding failed; keyword retrieval only");
                            None
                        }
                    };
                    phase.enter().await;
                    vector
                }
                _ => None,
            };
            let found = self
                .knowledge
                .retrieve(&self.db, &input.org_id, &query, query_vector.as_deref(), settings.top_k as usize)
                .await?;
            phase.leave();
            chunks = found.hits;
            steps.push(step(
                "retrieval",
                t,
                json!({"query": query, "candidates": found.candidates, "hits": chunks.iter().map(|h| json!({"chunkId": h.chunk_id, "score": h.score})).collect::<Vec<_>>()}),
            ));
            if mode.knowledge_only && chunks.is_empty() && mode.handoff_enabled {
                break 'decide Final::Handoff {
                    reason: "nothing in the knowledge base answers this".into(),
                    summary: None,
                    text: settings.handoff_message.clone(),
                };
            }
            // 4. The prompt and the model, with tool rounds.
            let system =
                system_prompt(&settings, &mode, &intents, &chunks, &tools, input.context.as_deref(), input.categorize);
            let mut messages = vec![ChatMessage::new("system", system)];
            messages.extend(input.history.iter().cloned());
            model_name = Some(endpoint.model.clone());
            let mut rounds = 0;
            loop {
                let t = Instant::now();
                let req = ChatRequest {
                    model: endpoint.model.clone(),
                    messages: messages.clone(),
                    temperature: Some(settings.temperature),
                    max_tokens: Some(settings.max_tokens),
                    json: true,
                };
                calls += 1;
                let answer = match provider.chat(&req).await {
                    Ok(a) => a,
                    Err(e) => {
                        steps.push(step("model", t, json!({"error": e.message, "kind": format!("{:?}", e.kind)})));
                        error = Some(e.message.clone());
                        break 'decide failure(
                            &settings,
                            &mode,
                            format!("the bot's model could not answer: {}", e.message),
                        );
                    }
                };
                usage.prompt_tokens += answer.usage.prompt_tokens;
                usage.completion_tokens += answer.usage.completion_tokens;
                steps.push(step(
                    "model",
                    t,
                    json!({"model": answer.model, "attempts": answer.attempts, "promptTokens": answer.usage.prompt_tokens, "completionTokens": answer.usage.completion_tokens, "answer": answer.content}),
                ));
                if input.categorize && category.is_none() {
                    category = decision::category_of(&answer.content);
                }
                match decision::parse(&answer.content) {
                    Ok(Decision::Reply { text, sources }) => break 'decide Final::Reply { text, sources },
                    Ok(Decision::Handoff { reason, summary, text }) if mode.handoff_enabled => {
                        break 'decide Final::Handoff {
                            reason,
                            summary,
                            text: text.or(settings.handoff_message.clone()),
                        };
                    }
                    Ok(Decision::Handoff { .. }) => {
                        break 'decide Final::Reply { text: settings.fallback_message.clone(), sources: vec![] };
                    }
                    Ok(Decision::Tool { name, arguments }) => {
                        rounds += 1;
                        let t = Instant::now();
                        let result = match tools.iter().find(|tool| tool.name == name) {
                            Some(tool) if rounds <= MAX_TOOL_ROUNDS => {
                                let args = arguments.as_object().cloned().unwrap_or_default();
                                serde_json::to_value(tools::call(&self.secrets, tool, &args).await).unwrap_or_default()
                            }
                            Some(_) => json!({"ok": false, "error": "too many tool calls in one turn; answer now"}),
                            None => json!({"ok": false, "error": format!("there is no tool named {name:?}")}),
                        };
                        let call = json!({"tool": name, "arguments": arguments, "result": result});
                        steps.push(step("tool", t, call.clone()));
                        tool_calls.push(call);
                        if rounds > MAX_TOOL_ROUNDS + 1 {
                            break 'decide failure(
                                &settings,
                                &mode,
                                "the bot kept calling tools without answering".into(),
                            );
                        }
                        messages.push(ChatMessage::new("assistant", answer.content.clone()));
                        messages.push(ChatMessage::new(
                            "user",
                            format!("Result of tool {name}: {result}\nNow decide again with the same JSON format."),
                        ));
                    }
                    Err(e) => {
                        error = Some(e.to_string());
                        break 'decide failure(&settings, &mode, "the bot's answer could not be read".into());
                    }
                }
            }
        };

        let (decision_name, output) = match &decided {
            Final::Reply { text, .. } => ("REPLY", Some(text.clone())),
            Final::Handoff { reason, .. } => ("HANDOFF", Some(reason.clone())),
        };
        steps.push(step("decision", Instant::now(), serde_json::to_value(&decided).unwrap_or_default()));
        let duration_ms = started.elapsed().as_millis() as u64;
        let chunk_ids: Vec<String> = chunks.iter().map(|h| h.chunk_id.clone()).collect();
        phase.enter().await;
        let txn = self.store.begin_write().await?;
        record::save_trace(
            &*txn,
            Trace {
                id: trace_id.clone(),
                org_id: input.org_id.clone(),
                conversation_id: input.conversation_id.clone(),
                config_id: Some(input.config.id.clone()),
                kind: input.kind,
                input: query,
                decision: decision_name,
                output,
                steps,
                chunk_ids,
                model: model_name.clone(),
                usage,
                duration_ms,
                error,
            },
        )
        .await?;
        // A turn was counted when it was reserved (`turn`); only the calls and tokens add here.
        record::add_usage(&*txn, &input.org_id, usage, calls, 0).await?;
        txn.commit().await?;
        drop(phase);
        Ok(RunOutput {
            trace_id,
            decision: decided,
            category,
            chunks,
            model: model_name,
            prompt_tokens: usage.prompt_tokens,
            completion_tokens: usage.completion_tokens,
            duration_ms,
            tool_calls,
        })
    }

    /// A conversation turn: what the actor asked for, or silence when there is nothing to do.
    async fn turn_of(&self, req: TurnRequest) -> Result<TurnOutcome> {
        let mut phase = Phase::new(Some(&*self.admission));
        phase.enter().await;
        let org = settings::org(&self.db, &req.org_id).await?;
        let Some(conv) = actors::store::conversations::get(&self.db, &req.org_id, &req.conversation_id).await? else {
            return Ok(TurnOutcome::Silent);
        };
        if conv.status != ConversationStatus::BotHandling || conv.bot_epoch != req.epoch || !conv.awaiting_reply {
            return Ok(TurnOutcome::Silent);
        }
        // Switched off, the bot pauses: its conversations wait, and `reprocess-pending` answers
        // them once it is back on.
        if !org.bot_enabled {
            return Ok(TurnOutcome::Silent);
        }
        // Never set up (a new organization's bot is on, but has no config): nothing will ever
        // answer, so humans take the conversation instead of leaving the customer in silence.
        let Some(config) = config::answering(&self.db, &req.org_id, &conv.inbox_id).await? else {
            return Ok(TurnOutcome::Handoff {
                reason: "no bot is set up (the organization has no active bot config)".into(),
                summary: None,
                text: None,
                trace_id: None,
                category: None,
            });
        };
        let s = Settings::of(&config);
        let (history, answered) = turn_history(&self.db, &conv, s.history_limit.max(1) as u64).await?;
        if history.last().is_none_or(|m| m.role != "user") {
            return Ok(TurnOutcome::Silent);
        }
        let org_settings = settings::of(&org);
        let (limit, _) = self.turn_budget(&req.org_id).await?;
        // The turn is counted here, before the model is asked, so conversations answered at the
        // same time cannot go past the limit together.
        if !self.reserve_turn(&req.org_id, limit).await? {
            let reason = format!("the organization's monthly bot limit of {limit} turns is reached");
            self.session_turn(&req.org_id, &conv.id, req.epoch, Some(&reason)).await?;
            return Ok(TurnOutcome::Handoff {
                reason,
                summary: None,
                text: s.handoff_message.clone(),
                trace_id: None,
                category: None,
            });
        }
        phase.leave(); // `run` passes admission itself, phase by phase
        let out = self
            .run(RunInput {
                org_id: req.org_id.clone(),
                conversation_id: Some(conv.id.clone()),
                config,
                history,
                context: conv.handoff_summary.clone(),
                kind: "TURN",
                admitted: false,
                categorize: org_settings.auto_categorize && conv.category.is_none(),
            })
            .await?;
        let handoff = match &out.decision {
            Final::Handoff { reason, .. } => Some(reason.as_str()),
            Final::Reply { .. } => None,
        };
        phase.enter().await;
        self.session_turn(&req.org_id, &conv.id, req.epoch, handoff).await?;
        Ok(match out.decision {
            Final::Reply { text, .. } => {
                TurnOutcome::Reply { text, trace_id: Some(out.trace_id), category: out.category, answered }
            }
            Final::Handoff { reason, summary, text } => {
                let summary = match summary {
                    Some(s) => Some(s),
                    None => Some(self.summary_of(&req.org_id, &conv).await?),
                };
                TurnOutcome::Handoff { reason, summary, text, trace_id: Some(out.trace_id), category: out.category }
            }
        })
    }

    /// Adds usage to the organization's month, in a write transaction of its own.
    pub async fn add_usage(&self, org_id: &str, usage: Usage, calls: i64) -> Result<()> {
        let txn = self.store.begin_write().await?;
        record::add_usage(&*txn, org_id, usage, calls, 0).await?;
        Ok(txn.commit().await?)
    }

    async fn reserve_turn(&self, org_id: &str, limit: i64) -> Result<bool> {
        let txn = self.store.begin_write().await?;
        let taken = record::reserve_turn(&*txn, org_id, limit).await?;
        txn.commit().await?;
        Ok(taken)
    }

    async fn session_turn(&self, org_id: &str, conversation_id: &str, epoch: i64, handoff: Option<&str>) -> Result<()> {
        let txn = self.store.begin_write().await?;
        record::session_turn(&*txn, org_id, conversation_id, epoch, handoff).await?;
        Ok(txn.commit().await?)
    }

    /// The recent-messages summary an agent reads when the bot hands over.
    async fn summary_of(&self, org_id: &str, conv: &entities::conversation::Model) -> Result<String> {
        let contact = actors::store::contacts::get(&self.db, org_id, &conv.contact_id).await?;
        let messages = actors::store::messages::page(&self.db, &conv.id, None, 20).await?;
        let name = contact.as_ref().map(|c| c.display_name());
        Ok(super::summary::summarize(name.as_deref(), ConversationStatus::BotHandling, &messages))
    }
}

impl BotEngine for Engine {
    fn turn(&self, req: TurnRequest) -> BoxFuture<'static, TurnOutcome> {
        let engine = self.clone();
        Box::pin(async move {
            let conversation_id = req.conversation_id.clone();
            let started = std::time::Instant::now();
            let result = engine.turn_of(req).await;
            metrics::histogram!("cx_bot_turn_seconds").record(started.elapsed().as_secs_f64());
            let outcome = match &result {
                Ok(TurnOutcome::Reply { .. }) => "reply",
                Ok(TurnOutcome::Handoff { .. }) => "handoff",
                Ok(TurnOutcome::Silent) => "silent",
                Ok(_) => "other",
                Err(e) if e.is_transient() => "retry",
                Err(_) => "failed",
            };
            metrics::counter!("cx_bot_turns_total", "outcome" => outcome).increment(1);
            match result {
                Ok(outcome) => outcome,
                // The database was busy or unreachable: nothing is wrong with the turn itself.
                Err(e) if e.is_transient() => TurnOutcome::Retry { reason: e.to_string() },
                Err(e) => {
                    // Something on our side failed: humans take it rather than the customer waiting on silence.
                    tracing::warn!(%conversation_id, error = %e, "bot turn failed");
                    TurnOutcome::Handoff {
                        reason: "the bot failed to answer".into(),
                        summary: None,
                        text: None,
                        trace_id: None,
                        category: None,
                    }
                }
            }
        })
    }

    fn replied(&self, org_id: &str, trace_id: &str, message_id: &str) {
        use sea_orm::sea_query::Expr;
        let (db, org_id, trace_id, message_id) =
            (self.db.clone(), org_id.to_owned(), trace_id.to_owned(), message_id.to_owned());
        actix::spawn(async move {
            let res = entities::bot_trace::Entity::update_many()
                .col_expr(entities::bot_trace::Column::MessageId, Expr::value(message_id))
                .filter(entities::bot_trace::Column::Id.eq(trace_id))
                .filter(entities::bot_trace::Column::OrgId.eq(org_id))
                .exec(&db)
                .await;
            if let Err(e) = res {
                tracing::warn!(error = %e, "trace not linked to its reply");
            }
        });
    }
}

/// The last `limit` customer and outbound messages as chat history, oldest first.
/// The last `limit` messages as `role: text` lines, the customer's and ours named by `names`.
pub async fn transcript(
    db: &DatabaseConnection,
    conversation_id: &str,
    limit: u64,
    names: (&str, &str),
) -> Result<String> {
    let history = history(db, conversation_id, limit).await?;
    let lines: Vec<String> = history
        .iter()
        .map(|m| format!("{}: {}", if m.role == "user" { names.0 } else { names.1 }, m.content))
        .collect();
    Ok(lines.join("\n"))
}

pub async fn history(db: &DatabaseConnection, conversation_id: &str, limit: u64) -> Result<Vec<ChatMessage>> {
    Ok(recent(db, conversation_id, limit).await?.iter().map(chat_message).collect())
}

/// A bot turn's history, and the newest customer message in it (what the turn answers). The
/// customer's messages after the one a bot reply already answered (`answered_through`: they
/// came in while that turn ran) go last, after that reply: they are what this turn is for.
async fn turn_history(
    db: &DatabaseConnection,
    conv: &entities::conversation::Model,
    limit: u64,
) -> Result<(Vec<ChatMessage>, Option<String>)> {
    let rows = recent(db, &conv.id, limit).await?;
    let newest = rows.iter().rev().find(|m| m.direction == Direction::Inbound).map(|m| m.id.clone());
    let answered = conv.answered_through.as_deref().and_then(|id| rows.iter().position(|m| m.id == id));
    let (mut before, mut pending) = (Vec::with_capacity(rows.len()), Vec::new());
    for (i, m) in rows.iter().enumerate() {
        if answered.is_some_and(|a| i > a) && m.direction == Direction::Inbound {
            pending.push(chat_message(m));
        } else {
            before.push(chat_message(m));
        }
    }
    before.append(&mut pending);
    Ok((before, newest))
}

/// The last `limit` customer and outbound messages, oldest first.
async fn recent(db: &DatabaseConnection, conversation_id: &str, limit: u64) -> Result<Vec<message::Model>> {
    let mut rows = message::Entity::find()
        .filter(message::Column::ConversationId.eq(conversation_id))
        .filter(message::Column::Direction.ne(Direction::System.as_str()))
        .filter(message::Column::DiscardedAt.is_null())
        .order_by_desc(message::Column::CreatedAt)
        .order_by_desc(message::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    rows.reverse();
    Ok(rows)
}

fn chat_message(m: &message::Model) -> ChatMessage {
    let role = if m.direction == Direction::Inbound { "user" } else { "assistant" };
    ChatMessage::new(role, m.text.clone().unwrap_or_else(|| format!("[{}]", m.message_type)))
}

fn step(kind: &'static str, since: Instant, detail: Value) -> Step {
    Step { kind, duration_ms: since.elapsed().as_millis() as u64, detail }
}

/// What a failed run turns into: a hand-off, or the fallback message when hand-off is off.
fn failure(settings: &Settings, mode: &settings::BotMode, reason: String) -> Final {
    if mode.handoff_enabled {
        Final::Handoff { reason, summary: None, text: settings.handoff_message.clone() }
    } else {
        Final::Reply { text: settings.fallback_message.clone(), sources: vec![] }
    }
}

/// A customer asking for a person, in English or Spanish.
pub fn asks_for_human(text: &str) -> bool {
    let t = knowledge::terms(text).join(" ");
    let asks = ["talk", "speak", "hablar", "want", "quiero", "need", "necesito", "connect", "pasame", "contact"]
        .iter()
        .any(|w| t.contains(w));
    let person = ["human", "person", "agent", "representative", "operator", "humano", "persona", "agente", "asesor"]
        .iter()
        .any(|w| t.split(' ').any(|x| x == *w || x == format!("{w}s")));
    asks && person
}

/// An intent matches when every word of one of its examples is in the message.
fn intent_matches(intent: &bot_intent::Model, text: &str) -> bool {
    let words = knowledge::terms(text);
    let examples: Vec<String> = serde_json::from_str(&intent.examples).unwrap_or_default();
    examples.iter().any(|e| {
        let need = knowledge::terms(e);
        !need.is_empty() && need.iter().all(|w| words.contains(w))
    })
}

fn system_prompt(
    s: &Settings,
    mode: &settings::BotMode,
    intents: &[bot_intent::Model],
    chunks: &[Hit],
    tools: &[bot_tool::Model],
    context: Option<&str>,
    categorize: bool,
) -> String {
    let mut p = s.system_prompt.trim().to_owned();
    if let Some(c) = context {
        p.push_str(&format!("\n\nAn agent handed this conversation back to you with this note:\n{c}"));
    }
    if !chunks.is_empty() {
        p.push_str("\n\nKnowledge (cite the ids you use in \"sources\"):");
        for h in chunks {
            p.push_str(&format!("\n[{}] {}", h.chunk_id, h.text));
        }
    }
    let intents: Vec<_> = intents.iter().filter(|i| i.action == "ANSWER" || i.action == "TOOL").collect();
    if !intents.is_empty() {
        p.push_str("\n\nKnown intents:");
        for i in intents {
            p.push_str(&format!("\n- {}: {}", i.name, i.description.clone().unwrap_or_default()));
        }
    }
    if !tools.is_empty() {
        p.push_str("\n\nTools you may call:");
        for t in tools {
            let params = serde_json::to_string(&tools::params_of(t)).unwrap_or_default();
            p.push_str(&format!("\n- {}: {} Parameters: {params}", t.name, t.description));
        }
    }
    p.push_str(
        "\n\nAnswer with one JSON object and nothing else:\n\
         {\"action\":\"reply\",\"text\":\"…\",\"sources\":[\"knowledge ids used\"]}",
    );
    if mode.handoff_enabled {
        p.push_str("\nor {\"action\":\"handoff\",\"reason\":\"why\",\"summary\":\"what the human needs to know\"}");
    }
    if !tools.is_empty() {
        p.push_str("\nor {\"action\":\"tool\",\"tool\":\"name\",\"arguments\":{…}}");
    }
    if categorize {
        let cats = if s.categories.is_empty() { "a short category".to_owned() } else { s.categories.join(", ") };
        p.push_str(&format!("\nAlso add \"category\": one of {cats}, for what the conversation is about."));
    }
    p
}

/// The organization's active config, or a clear error for the endpoints that need one.
pub async fn require_config(db: &DatabaseConnection, org_id: &str) -> Result<bot_config::Model> {
    config::active(db, org_id)
        .await?
        .ok_or_else(|| Error::Conflict("the organization has no active bot config: create one and activate it".into()))
}

/// The database pass of one bot run: held while the run reads or writes, given back while it
/// waits for the model or a tool, so a slow provider never holds the database's capacity. A run
/// inside an API request (already admitted) has no gate.
struct Phase<'a> {
    gate: Option<&'a Admission>,
    pass: Option<Pass>,
}

impl<'a> Phase<'a> {
    fn new(gate: Option<&'a Admission>) -> Phase<'a> {
        Phase { gate, pass: None }
    }

    async fn enter(&mut self) {
        if let (Some(gate), None) = (self.gate, &self.pass) {
            self.pass = Some(gate.background().await);
        }
    }

    fn leave(&mut self) {
        self.pass = None;
    }
}
