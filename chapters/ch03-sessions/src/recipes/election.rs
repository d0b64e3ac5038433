//! Leader election: the lock's queue, whose head is the leader and says who it is.
//!
//! The idea to take away: **a leader is just the holder of a lock nobody releases on purpose.**
//! Each candidate joins a queue of ephemeral sequential nodes under `/election`, with its name
//! as the node's data; the lowest node leads. Everyone else watches its predecessor, exactly as
//! a lock waiter does, so when the leader's process dies (its session expires, its node goes)
//! only the next candidate wakes, finds itself first, and leads. Anyone who wants to know who
//! leads reads the first node's data.
//!
//! This is not how ZooKeeper's own servers pick a leader (that is chapter 5's
//! FastLeaderElection, among servers that cannot rely on a ZooKeeper yet); it is how the
//! *applications* around ZooKeeper do it: an HBase master, a Kafka controller (before KRaft).
//!
//! Upstream: `zookeeper-recipes-election`'s `LeaderElectionSupport`; Curator's `LeaderLatch`.

use super::lock::{Design, Queue, Ticket, Turn};
use super::{Events, Result};
use crate::client::Client;

// ANCHOR: election
/// An election among the candidates that join under `dir`.
#[derive(Clone, Debug)]
pub struct Election {
    queue: Queue,
}

/// One candidate's place in the election.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidacy {
    /// The candidate's node.
    pub ticket: Ticket,
    /// The name it announced.
    pub name: String,
}

impl Election {
    /// The election at `dir`.
    pub fn new(dir: &str) -> Election {
        Election {
            queue: Queue::new(dir, "n_", Design::Predecessor),
        }
    }

    /// Stands for election under `name`: one ephemeral sequential node holding the name.
    pub async fn volunteer(&self, client: &Client, name: &str) -> Result<Candidacy> {
        let ticket = self.queue.join(client, name.as_bytes()).await?;
        let name = name.to_string();
        Ok(Candidacy { ticket, name })
    }

    /// Whether `candidacy` leads now; if not, a watch on its predecessor is set and the next
    /// node event is worth a new look.
    pub async fn leads(&self, client: &Client, candidacy: &Candidacy) -> Result<bool> {
        let turn = self.queue.check(client, &candidacy.ticket).await?;
        Ok(turn == Turn::First)
    }

    /// Waits until `candidacy` leads.
    pub async fn wait_to_lead(
        &self,
        client: &Client,
        events: &mut Events,
        candidacy: &Candidacy,
    ) -> Result<()> {
        self.queue
            .wait_turn(client, events, &candidacy.ticket)
            .await
    }

    /// Who leads now: the name in the first node, if anyone stands.
    pub async fn leader(&self, client: &Client) -> Result<Option<String>> {
        for first in self.queue.members(client, false).await? {
            let path = format!("{}/{first}", self.queue.dir());
            match client.get_data(&path, false).await {
                Ok((data, _)) => {
                    return Ok(Some(
                        String::from_utf8_lossy(&data.unwrap_or_default()).into(),
                    ))
                }
                // It went between the two reads: the next one is the leader now.
                Err(e) if e.zk_error() == Some(ch01_znode::ZkError::NoNode) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    /// Steps down: the next candidate's doorbell rings.
    pub async fn resign(&self, client: &Client, candidacy: &Candidacy) -> Result<()> {
        self.queue.leave(client, &candidacy.ticket).await
    }
}
// ANCHOR_END: election
