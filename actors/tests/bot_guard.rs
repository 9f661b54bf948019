//! The bot never talks over a human: a bot reply is sent only while the conversation is still
//! the bot's and in the epoch the bot turn started in.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};

use ::actors::channel::{ChannelSender, OutboundRequest, SendError, SendReceipt};
use ::actors::conversation::{BotReply, Inbound, InboundMessage, ReturnToBot, Takeover};
use ::actors::inbox::ResolveConversation;
use ::actors::{Runtime, RuntimeConfig, store};
use futures_util::future::BoxFuture;

/// Records what would have gone to WhatsApp.
#[derive(Default, Clone)]
struct FakeChannel(Arc<Mutex<Vec<OutboundRequest>>>);

impl ChannelSender for FakeChannel {
    fn send(&self, req: OutboundRequest) -> BoxFuture<'static, Result<SendReceipt, SendError>> {
        let mut sent = self.0.lock().unwrap();
        sent.push(req);
        let id = format!("wamid.bot{}", sent.len());
        Box::pin(async move { Ok(SendReceipt { provider_message_id: id }) })
    }
}

async fn setup() -> (Runtime, FakeChannel, String) {
    let db = common::db_with_org().await;
    let channel = FakeChannel::default();
    let rt = Runtime::start(db, Arc::new(channel.clone()), RuntimeConfig::default(), None);
    let resolve = ResolveConversation { wa_id: "15550001".into(), profile_name: Some("C".into()), closed: None };
    let conv = rt.ask_inbox("org", "inbox", resolve).await.unwrap();
    let message = InboundMessage {
        provider_message_id: "wamid.in1".into(),
        message_type: "text".into(),
        text: Some("hello bot".into()),
        content: None,
        sent_at: chrono::Utc::now(),
        media_id: None,
        profile_name: Some("C".into()),
        stored_media: None,
    };
    rt.ask_conversation("org", &conv, Inbound { org_id: "org".into(), message }).await.unwrap();
    (rt, channel, conv)
}

fn reply(epoch: i64, text: &str) -> BotReply {
    BotReply { org_id: "org".into(), epoch, text: text.into() }
}

#[actix::test]
async fn a_bot_reply_in_flight_when_a_human_takes_over_is_never_sent() {
    let (rt, channel, conv) = setup().await;
    let epoch = store::conversations::get(&rt.db.conn, "org", &conv).await.unwrap().unwrap().bot_epoch;
    let addr = rt.conversation("org", &conv);

    let first = addr.send(reply(epoch, "Hi! How can I help?")).await.unwrap().unwrap();
    assert!(first.is_some(), "the bot answers while it has the conversation");
    assert_eq!(channel.0.lock().unwrap().len(), 1);

    // The takeover reaches the actor while the bot's next turn is still being computed; its
    // reply arrives after.
    let takeover = addr.send(Takeover { org_id: "org".into(), user_id: "agent".into() });
    let late = addr.send(reply(epoch, "Let me check that for you"));
    let taken = takeover.await.unwrap().unwrap();
    assert_eq!(taken.status, "HUMAN_HANDLING");
    assert!(late.await.unwrap().unwrap().is_none(), "the reply of a turn from before the takeover is dropped");
    assert_eq!(channel.0.lock().unwrap().len(), 1, "nothing more reached WhatsApp");

    // Back to the bot: a new epoch. A stale turn still cannot speak; a new one can.
    rt.ask_conversation("org", &conv, ReturnToBot { org_id: "org".into(), handoff_summary: None }).await.unwrap();
    let now_epoch = store::conversations::get(&rt.db.conn, "org", &conv).await.unwrap().unwrap().bot_epoch;
    assert_eq!(now_epoch, epoch + 1);
    assert!(addr.send(reply(epoch, "stale")).await.unwrap().unwrap().is_none());
    assert!(addr.send(reply(now_epoch, "Back with you")).await.unwrap().unwrap().is_some());
    let texts: Vec<_> = channel.0.lock().unwrap().iter().map(|r| format!("{:?}", r.content)).collect();
    assert_eq!(texts.len(), 2);
    assert!(texts[1].contains("Back with you"));
}
