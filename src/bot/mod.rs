//! The AI bot. So far: [`provider`], the client of OpenAI-compatible chat and embeddings APIs
//! that every provider preset speaks (OpenAI, and the compatible endpoints of Anthropic, Google,
//! DeepSeek, Kimi and local servers), and [`decision`], the structured decision a turn reads from
//! the model's answer (reply, hand off, call a tool).

pub mod decision;
pub mod provider;
