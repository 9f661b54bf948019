//! The AI bot. So far: [`provider`], the client of OpenAI-compatible chat and embeddings APIs
//! that every provider preset speaks (OpenAI, and the compatible endpoints of Anthropic, Google,
//! DeepSeek, Kimi and local servers).

pub mod provider;
