//! The live-chat channel's sender. There is no provider to call: the visitor's socket gets the
//! message from the event bus (`VisitorHub`), so a send is accepted at once and its receipt is
//! our own message id. The message becomes `sent` in the same actor turn; the visitor's acks
//! (`ApplyStatus` by that id) later make it `delivered` and `read`.

use actors::channel::{ChannelSender, OutboundRequest, SendError, SendReceipt};
use futures_util::future::BoxFuture;

#[derive(Clone, Copy, Debug, Default)]
pub struct LivechatSender;

impl ChannelSender for LivechatSender {
    fn send(&self, req: OutboundRequest) -> BoxFuture<'static, Result<SendReceipt, SendError>> {
        Box::pin(async move {
            // Every outbox send names its message; without one there is nothing to ack later.
            match req.message_id {
                Some(id) => Ok(SendReceipt { provider_message_id: id }),
                None => Err(SendError {
                    code: "no_message_id".into(),
                    message: "a live-chat message is delivered by its id, and this send had none".into(),
                    transient: false,
                }),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use actors::channel::OutboundContent;
    use entities::enums::Channel;

    use super::*;

    #[tokio::test]
    async fn the_receipt_is_our_message_id() {
        let req = OutboundRequest {
            org_id: "org".into(),
            inbox_id: "inbox".into(),
            conversation_id: "c".into(),
            channel: Channel::Livechat,
            to: String::new(),
            content: OutboundContent::Text { body: "hi".into() },
            message_id: Some("m1".into()),
            reply_to: None,
            bulk: false,
        };
        let receipt = LivechatSender.send(req.clone()).await.map(|r| r.provider_message_id);
        assert_eq!(receipt.ok().as_deref(), Some("m1"));
        let refused = LivechatSender.send(OutboundRequest { message_id: None, ..req }).await;
        assert!(refused.is_err_and(|e| !e.transient));
    }
}
