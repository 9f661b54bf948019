//! One sender for the runtime, many channels behind it: each outbound message goes to the
//! sender of its inbox's channel. A channel without a sender yet refuses for good
//! (`channel_unavailable`), so its messages fail visibly instead of being retried forever.

use std::collections::HashMap;
use std::sync::Arc;

use actors::channel::{ChannelSender, OutboundRequest, SendError, SendReceipt};
use entities::enums::Channel;
use futures_util::future::BoxFuture;

/// Dispatches each send to the sender of `req.channel`.
#[derive(Clone, Default)]
pub struct ChannelRouter {
    /// One sender per channel that can send today.
    senders: HashMap<Channel, Arc<dyn ChannelSender>>,
}

impl ChannelRouter {
    /// Sends `channel`'s messages through `sender`.
    pub fn with(mut self, channel: Channel, sender: Arc<dyn ChannelSender>) -> ChannelRouter {
        self.senders.insert(channel, sender);
        self
    }
}

impl ChannelSender for ChannelRouter {
    fn send(&self, req: OutboundRequest) -> BoxFuture<'static, Result<SendReceipt, SendError>> {
        match self.senders.get(&req.channel) {
            Some(sender) => sender.send(req),
            None => {
                let channel = req.channel;
                Box::pin(async move {
                    Err(SendError {
                        code: "channel_unavailable".into(),
                        message: format!("messages cannot be sent on {channel} inboxes yet"),
                        transient: false,
                    })
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use actors::channel::OutboundContent;

    use super::*;

    /// Answers with its own name and remembers the conversations it was given.
    struct Named {
        name: &'static str,
        seen: Mutex<Vec<String>>,
    }

    impl ChannelSender for Named {
        fn send(&self, req: OutboundRequest) -> BoxFuture<'static, Result<SendReceipt, SendError>> {
            if let Ok(mut seen) = self.seen.lock() {
                seen.push(req.conversation_id.clone());
            }
            let id = format!("{}:{}", self.name, req.conversation_id);
            Box::pin(async move { Ok(SendReceipt { provider_message_id: id }) })
        }
    }

    fn request(channel: Channel, conversation_id: &str) -> OutboundRequest {
        OutboundRequest {
            org_id: "org".into(),
            inbox_id: "inbox".into(),
            conversation_id: conversation_id.into(),
            channel,
            to: "customer".into(),
            content: OutboundContent::Text { body: "hi".into() },
            message_id: None,
            reply_to: None,
            bulk: false,
        }
    }

    #[tokio::test]
    async fn router_sends_each_channel_to_its_sender() {
        let whatsapp = Arc::new(Named { name: "whatsapp", seen: Mutex::default() });
        let livechat = Arc::new(Named { name: "livechat", seen: Mutex::default() });
        let router = ChannelRouter::default()
            .with(Channel::Whatsapp, whatsapp.clone())
            .with(Channel::Livechat, livechat.clone());

        let sent = router.send(request(Channel::Whatsapp, "c1")).await.map(|r| r.provider_message_id);
        assert_eq!(sent.ok().as_deref(), Some("whatsapp:c1"));
        let sent = router.send(request(Channel::Livechat, "c2")).await.map(|r| r.provider_message_id);
        assert_eq!(sent.ok().as_deref(), Some("livechat:c2"));
        assert_eq!(whatsapp.seen.lock().map(|s| s.clone()).unwrap_or_default(), vec!["c1"]);
        assert_eq!(livechat.seen.lock().map(|s| s.clone()).unwrap_or_default(), vec!["c2"]);

        // A channel with no sender refuses for good, naming why.
        match router.send(request(Channel::Api, "c3")).await {
            Err(e) => {
                assert_eq!((e.code.as_str(), e.transient), ("channel_unavailable", false));
                assert!(e.message.contains("api"), "{}", e.message);
            }
            Ok(r) => panic!("sent on a channel without a sender: {}", r.provider_message_id),
        }
    }
}
