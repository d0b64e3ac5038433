//! Configuration push (统一配置管理): read with a watch, re-read when told.
//!
//! The idea to take away: **a watch carries no data, so a subscriber always re-reads, and it
//! re-registers in the same read.** Every client of a configuration reads its znode with a
//! watch; an operator writes a new value; the server rings each subscriber once; each reads the
//! node again (setting the next watch in the same request, so no change can slip between).
//! Two quick writes may ring only once: the subscriber then reads the latest value and never
//! sees the one in between. For a configuration that is exactly right: nobody wants the old
//! value, only the current one.
//!
//! A subscription also survives a missing node: `exists` with a watch rings `NodeCreated`, so a
//! client may start before the operator has written anything.

use super::{doorbell, exists, Events, Result};
use crate::client::Client;
use ch01_znode::ZkError;

// ANCHOR: config
/// A subscription to the configuration held in one znode.
#[derive(Clone, Debug)]
pub struct Subscription {
    path: String,
}

impl Subscription {
    /// Subscribes to `path`.
    pub fn new(path: &str) -> Subscription {
        Subscription {
            path: path.to_string(),
        }
    }

    /// The value now (`None` while the node does not exist), leaving a watch for the next
    /// change either way.
    pub async fn read(&self, client: &Client) -> Result<Option<Vec<u8>>> {
        loop {
            match client.get_data(&self.path, true).await {
                Ok((data, _)) => return Ok(Some(data.unwrap_or_default())),
                Err(e) if e.zk_error() == Some(ZkError::NoNode) => {
                    // No node, no data watch: leave an exists watch, which rings on creation.
                    // If the node appeared in between, read it after all.
                    if exists(client, &self.path, true).await?.is_none() {
                        return Ok(None);
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Waits for the doorbell on this path, then reads the value it announced (or a later one).
    pub async fn next(&self, client: &Client, events: &mut Events) -> Result<Option<Vec<u8>>> {
        loop {
            let event = doorbell(events).await?;
            if event.path.as_deref() == Some(self.path.as_str()) {
                return self.read(client).await;
            }
        }
    }
}
// ANCHOR_END: config
