//! The API channel's sender. There is no provider to call: a message is `sent` once it is in
//! the durable queue (committed, with its `message.created` event), and the webhook dispatcher
//! delivers it from the event log. Its provider id is our own id, so the receiver's status
//! reports (`POST /api/v1/api-channel/messages/{id}/status`) find it.

use actors::channel::{ChannelSender, OutboundRequest, SendError, SendReceipt};
use futures_util::future::BoxFuture;

pub struct ApiChannelSender;

impl ChannelSender for ApiChannelSender {
    fn send(&self, req: OutboundRequest) -> BoxFuture<'static, Result<SendReceipt, SendError>> {
        Box::pin(async move {
            match req.message_id {
                Some(id) => Ok(SendReceipt { provider_message_id: id }),
                None => Err(SendError {
                    code: "no_message_id".into(),
                    message: "an API channel message is sent by its own id".into(),
                    transient: false,
                }),
            }
        })
    }
}
