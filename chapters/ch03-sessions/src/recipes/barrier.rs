//! A double barrier: nobody starts before all have arrived, nobody leaves before all are done.
//!
//! The idea to take away: **wait for a condition on a count by watching one node that stands
//! for it.** Each of `size` processes enters by creating an ephemeral child of the barrier's
//! directory, after leaving an `exists` watch on `dir/ready`. The one whose child makes the
//! count reach `size` creates `ready`, and that one create rings every waiter at once (they all
//! asked about the same node, which is the point: they all have to go). Leaving is the mirror
//! image: each deletes its child, then waits, one watch at a time, until no child is left; the
//! last one out removes `ready`.
//!
//! The children are ephemeral, so a process that crashes inside the barrier does not hold the
//! others forever on the way out. (On the way in it does: a barrier of five waits for five.)
//! Upstream: the ZooKeeper recipes page's "Double Barriers"; Curator's `DistributedDoubleBarrier`.

use ch01_znode::{CreateMode, ZkError};

use super::{children, create, delete_if_present, doorbell, ensure_path, exists, Events, Result};
use crate::client::Client;

/// The node whose existence means "everyone has arrived".
const READY: &str = "ready";

// ANCHOR: barrier
/// A barrier for `size` processes at `dir`.
#[derive(Clone, Debug)]
pub struct Barrier {
    dir: String,
    size: usize,
}

impl Barrier {
    /// The barrier at `dir` for `size` processes.
    pub fn new(dir: &str, size: usize) -> Barrier {
        Barrier {
            dir: dir.trim_end_matches('/').to_string(),
            size,
        }
    }

    /// How many processes it waits for.
    pub fn size(&self) -> usize {
        self.size
    }

    fn ready(&self) -> String {
        format!("{}/{READY}", self.dir)
    }

    /// The processes inside now.
    async fn inside(&self, client: &Client) -> Result<Vec<String>> {
        let mut names = children(client, &self.dir, false).await?;
        names.retain(|n| n != READY);
        Ok(names)
    }

    /// Enters as `name` and returns once all `size` processes have entered.
    pub async fn enter(&self, client: &Client, events: &mut Events, name: &str) -> Result<()> {
        ensure_path(client, &self.dir).await?;
        // Watch `ready` *before* joining: if the last one arrives right after us, its create
        // rings our doorbell; set afterwards, the watch could come too late.
        let mut ready = exists(client, &self.ready(), true).await?.is_some();
        create(
            client,
            &format!("{}/{name}", self.dir),
            b"",
            CreateMode::Ephemeral,
        )
        .await?;
        if !ready && self.inside(client).await?.len() >= self.size {
            let made = create(client, &self.ready(), b"", CreateMode::Persistent).await;
            match made {
                Err(e) if e.zk_error() != Some(ZkError::NodeExists) => return Err(e),
                _ => ready = true,
            }
        }
        while !ready {
            doorbell(events).await?;
            ready = exists(client, &self.ready(), true).await?.is_some();
        }
        Ok(())
    }

    /// Leaves as `name` and returns once every process has left.
    pub async fn leave(&self, client: &Client, events: &mut Events, name: &str) -> Result<()> {
        delete_if_present(client, &format!("{}/{name}", self.dir)).await?;
        loop {
            let Some(other) = self.inside(client).await?.into_iter().next() else {
                // The last one out takes the sign down, so the directory can be used again.
                return delete_if_present(client, &self.ready()).await;
            };
            // Wait for one of those still inside; when it goes, look at the rest.
            if exists(client, &format!("{}/{other}", self.dir), true)
                .await?
                .is_some()
            {
                doorbell(events).await?;
            }
        }
    }
}
// ANCHOR_END: barrier
