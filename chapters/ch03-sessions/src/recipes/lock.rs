//! A distributed lock: a queue of ephemeral sequential nodes, and one watch per waiter.
//!
//! The idea to take away: **the server already orders everyone; a waiter only needs to hear
//! about the one change that can make it first.** Each process that wants the lock creates
//! `/lock/lock-` as an ephemeral sequential node and gets `/lock/lock-0000000003`. The lowest
//! number holds the lock. A waiter watches the node just before its own (its *predecessor*):
//! when that node goes (released, or its owner's session expired), the waiter looks again.
//! One release wakes one waiter.
//!
//! The tempting alternative, every waiter watching the parent's children, is correct too, and
//! much worse: every join and every release rings every waiter's doorbell, and each of them
//! re-reads the whole list to find it is still not first. That is the **herd effect**:
//! `Design::Parent` keeps it here so the root tests (and `cargo run -p ch03-sessions --example
//! recipes -- herd`) can count it.
//!
//! Two details make the predecessor design safe. The predecessor may vanish between reading the
//! list and setting the watch, so the watch is set with `exists`, which answers "no node" in that
//! case, and the waiter looks again at once. And a predecessor may go without ever holding the
//! lock (its owner gave up or died): the waiter that wakes does not assume it is now first, it
//! re-reads the list.
//!
//! Upstream: the `zookeeper-recipes-lock` artifact's `WriteLock`, and Curator's
//! `InterProcessMutex`, the one production code uses.

use ch01_znode::CreateMode;

use super::{children, create, doorbell, ensure_path, exists, sequence_of, Events, Result};
use crate::client::{Client, ClientError};
use ch01_znode::ZkError;

/// Which change a waiter asks to hear about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Design {
    /// Watch the node just before mine: one release wakes one waiter.
    Predecessor,
    /// Watch the parent's children: every change wakes every waiter (the herd).
    Parent,
}

/// A queue of ephemeral sequential nodes under `dir`, ordered by the server's numbers.
#[derive(Clone, Debug)]
pub struct Queue {
    dir: String,
    prefix: String,
    design: Design,
}

/// A place in a [`Queue`]: the node this session created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ticket {
    /// The node's full path (`/lock/lock-0000000003`).
    pub path: String,
    /// Its name under the queue's directory (`lock-0000000003`).
    pub name: String,
}

/// Where a ticket stands after a look at the queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Turn {
    /// Nobody is before it.
    First,
    /// Somebody is; a watch on `watching` will ring when that may have changed.
    Waiting {
        /// The watched node (the predecessor, or the queue's directory).
        watching: String,
    },
}

impl Queue {
    /// A queue of nodes named `<prefix><sequence>` under `dir`.
    pub fn new(dir: &str, prefix: &str, design: Design) -> Queue {
        Queue {
            dir: dir.trim_end_matches('/').to_string(),
            prefix: prefix.to_string(),
            design,
        }
    }

    /// The queue's directory.
    pub fn dir(&self) -> &str {
        &self.dir
    }

    /// The queue's members in order, first first (names under the directory).
    pub async fn members(&self, client: &Client, watch: bool) -> Result<Vec<String>> {
        let mut names = children(client, &self.dir, watch).await?;
        names.retain(|n| n.starts_with(&self.prefix) && sequence_of(n).is_some());
        names.sort_by_key(|n| sequence_of(n));
        Ok(names)
    }

    // ANCHOR: join
    /// Joins the queue: one ephemeral sequential node holding `data`. The node dies with the
    /// session, so a crashed member leaves the queue by itself.
    pub async fn join(&self, client: &Client, data: &[u8]) -> Result<Ticket> {
        ensure_path(client, &self.dir).await?;
        let base = format!("{}/{}", self.dir, self.prefix);
        let path = create(client, &base, data, CreateMode::EphemeralSequential).await?;
        let name = path[self.dir.len() + 1..].to_string();
        Ok(Ticket { path, name })
    }
    // ANCHOR_END: join

    // ANCHOR: check
    /// Looks at the queue once: first, or waiting with a watch set on what can change that.
    pub async fn check(&self, client: &Client, ticket: &Ticket) -> Result<Turn> {
        loop {
            // The herd design reads the list *with* a child watch: any join or leave rings.
            let watch_parent = self.design == Design::Parent;
            let members = self.members(client, watch_parent).await?;
            let Some(mine) = members.iter().position(|m| *m == ticket.name) else {
                // Our node is gone: our session expired, and with it our place.
                return Err(ClientError::Server(ZkError::NoNode.code()));
            };
            if mine == 0 {
                return Ok(Turn::First);
            }
            if watch_parent {
                let watching = self.dir.clone();
                return Ok(Turn::Waiting { watching });
            }
            // Watch only the node just before ours. `exists` sets the watch even if the node
            // is gone already, and says so: then look again rather than wait for nothing.
            let watching = format!("{}/{}", self.dir, members[mine - 1]);
            if exists(client, &watching, true).await?.is_some() {
                return Ok(Turn::Waiting { watching });
            }
        }
    }
    // ANCHOR_END: check

    // ANCHOR: wait_turn
    /// Waits until `ticket` is first: look, and while not first, wait for the doorbell and
    /// look again. The doorbell only says "look again"; the list decides.
    pub async fn wait_turn(
        &self,
        client: &Client,
        events: &mut Events,
        ticket: &Ticket,
    ) -> Result<()> {
        while let Turn::Waiting { .. } = self.check(client, ticket).await? {
            doorbell(events).await?;
        }
        Ok(())
    }
    // ANCHOR_END: wait_turn

    /// Leaves the queue (a lock's release, a candidate's resignation).
    pub async fn leave(&self, client: &Client, ticket: &Ticket) -> Result<()> {
        client.delete(&ticket.path, -1).await
    }
}

// ANCHOR: lock
/// A distributed lock on the directory `dir`: whoever holds its lowest node holds the lock.
#[derive(Clone, Debug)]
pub struct Lock {
    queue: Queue,
}

impl Lock {
    /// The lock at `dir`, whose waiters watch their predecessor.
    pub fn new(dir: &str) -> Lock {
        Lock::with_design(dir, Design::Predecessor)
    }

    /// The lock at `dir`, whose waiters wait as `design` says.
    pub fn with_design(dir: &str, design: Design) -> Lock {
        Lock {
            queue: Queue::new(dir, "lock-", design),
        }
    }

    /// Takes the lock, waiting as long as it takes; the ticket releases it.
    pub async fn acquire(&self, client: &Client, events: &mut Events) -> Result<Ticket> {
        let ticket = self.queue.join(client, b"").await?;
        self.queue.wait_turn(client, events, &ticket).await?;
        Ok(ticket)
    }

    /// Gives the lock back: the next waiter's doorbell rings.
    pub async fn release(&self, client: &Client, ticket: &Ticket) -> Result<()> {
        self.queue.leave(client, ticket).await
    }
}
// ANCHOR_END: lock

impl Lock {
    /// The queue underneath (to take the lock one step at a time, as the herd count does).
    pub fn queue(&self) -> &Queue {
        &self.queue
    }
}
