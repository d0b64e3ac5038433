//! Recipes: what people build on ZooKeeper, written against chapter 3's [`Client`].
//!
//! The idea to take away: **ZooKeeper offers no lock, no election and no barrier; it offers
//! three node properties and a doorbell, and every recipe is a rule about how to combine them.**
//!
//! - an **ephemeral** node lives exactly as long as its session: "this znode exists" means
//!   "that process is alive" (membership, lock holders, the leader);
//! - a **sequential** node gets a number the server hands out in order: a queue without a
//!   coordinator (who is first, who is next);
//! - a **version** on every node turns `setData` into compare-and-set: a counter without a lock;
//! - a **watch** is a one-shot doorbell: it says *look again*, never what changed.
//!
//! The course lists the use cases (统一命名服务, 统一配置管理, 统一集群管理, 服务器动态上下线,
//! 软负载均衡); each module here is one of them, plus the two classics every ZooKeeper text
//! adds, the lock and the barrier. None needs anything but the client: they run unchanged against
//! `keeper server` and against a real ZooKeeper, and the root package's `tests/recipes.rs`
//! checks each one on both.
//!
//! Every recipe takes the client and its event channel (`Client::start` or `Client::connect`
//! hand out both): the client for requests, the channel to wait for the doorbell. A client is
//! meant to run one recipe at a time, as its single default watcher would in the Java client.
//!
//! # Layout
//! - [`lock`]: a queue of ephemeral sequential nodes; the distributed lock, in two designs
//!   (watch your predecessor, or watch the parent and meet the herd).
//! - [`election`]: the same queue, whose head is the leader and says who it is.
//! - [`naming`]: names that resolve to the addresses of live servers (统一命名服务), and
//!   unique names from a sequential node.
//! - [`balance`]: soft load balancing (软负载均衡): live servers with visit counters, the least
//!   visited takes the next client, counted with versioned writes.
//! - [`config`]: configuration push (统一配置管理): read with a watch, re-read when told.
//! - [`barrier`]: a double barrier: nobody starts before all have arrived, nobody leaves
//!   before all are done.
//! - [`demo`]: each recipe's story, as `cargo run -p ch03-sessions --example recipes` tells it
//!   and the root tests pin it.
//!
//! # How ZooKeeper does it
//! Upstream ships some of these as separate artifacts (`zookeeper-recipes-lock`,
//! `-election`, `-queue`: `WriteLock`, `LeaderElectionSupport`), and Apache Curator holds the
//! production versions (`InterProcessMutex`, `LeaderLatch`, `DistributedDoubleBarrier`), with
//! the cases this workbook leaves out: a create whose reply was lost (Curator puts a GUID in the
//! node name to find it again), retries on ConnectionLoss, and re-entrancy.

pub mod balance;
pub mod barrier;
pub mod config;
pub mod demo;
pub mod election;
pub mod lock;
pub mod naming;

use ch01_znode::{Acl, CreateMode, Stat, ZkError};
use tokio::sync::mpsc;

use crate::client::{Client, ClientError};
use crate::proto::{
    EventType, ExistsRequest, GetChildrenRequest, KeeperState, Request, Response, WatchedEvent,
};

/// The event channel a [`Client`] hands out: the one default watcher of its session.
pub type Events = mpsc::Receiver<WatchedEvent>;

/// What a recipe returns: a client error as the server or the connection reported it.
pub type Result<T> = std::result::Result<T, ClientError>;

/// Whether `result` failed with the server error `code`.
fn is<T>(result: &Result<T>, code: ZkError) -> bool {
    matches!(result, Err(e) if e.zk_error() == Some(code))
}

/// Creates `path` and any missing parent as empty persistent nodes; nodes that exist already
/// are fine (another process may be creating the same path right now).
pub async fn ensure_path(client: &Client, path: &str) -> Result<()> {
    let mut at = String::new();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        at.push('/');
        at.push_str(part);
        let created = client
            .create(&at, b"", Acl::open_unsafe(), CreateMode::Persistent.flag())
            .await;
        if !is(&created, ZkError::NodeExists) {
            created?;
        }
    }
    Ok(())
}

/// Creates `path` with `data` in `mode` (open ACL); returns the path the server chose.
pub async fn create(client: &Client, path: &str, data: &[u8], mode: CreateMode) -> Result<String> {
    client
        .create(path, data, Acl::open_unsafe(), mode.flag())
        .await
}

/// The names of `path`'s children, sorted (the server sends them in no particular order);
/// with `watch`, a child watch is left on `path`.
pub async fn children(client: &Client, path: &str, watch: bool) -> Result<Vec<String>> {
    let request = Request::GetChildren(GetChildrenRequest {
        path: path.into(),
        watch,
    });
    match client.request(request).await? {
        Response::GetChildren(r) => {
            let mut names = r.children;
            names.sort();
            Ok(names)
        }
        _ => Err(ClientError::Server(ZkError::MarshallingError.code())),
    }
}

/// `exists`: the node's Stat, or `None`; with `watch`, a watch is left either way (it fires
/// `NodeCreated` for a missing node, `NodeDeleted`/`NodeDataChanged` for a present one).
pub async fn exists(client: &Client, path: &str, watch: bool) -> Result<Option<Stat>> {
    let request = Request::Exists(ExistsRequest {
        path: path.into(),
        watch,
    });
    match client.request(request).await {
        Ok(Response::Exists(r)) => Ok(Some(r.stat)),
        Ok(_) => Err(ClientError::Server(ZkError::MarshallingError.code())),
        Err(e) if e.zk_error() == Some(ZkError::NoNode) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Deletes `path` whatever its version; a node already gone is fine.
pub async fn delete_if_present(client: &Client, path: &str) -> Result<()> {
    let deleted = client.delete(path, -1).await;
    if is(&deleted, ZkError::NoNode) {
        return Ok(());
    }
    deleted
}

/// Deletes `path` and everything under it (zkCli's `deleteall`), deepest first.
pub async fn delete_all(client: &Client, path: &str) -> Result<()> {
    let mut stack = vec![path.to_string()];
    let mut order = Vec::new();
    while let Some(at) = stack.pop() {
        match children(client, &at, false).await {
            Ok(names) => stack.extend(names.iter().map(|n| format!("{at}/{n}"))),
            Err(e) if e.zk_error() == Some(ZkError::NoNode) => continue,
            Err(e) => return Err(e),
        }
        order.push(at);
    }
    for at in order.iter().rev() {
        delete_if_present(client, at).await?;
    }
    Ok(())
}

// ANCHOR: doorbell
/// Waits for the next node event: the doorbell of whatever watch this client left. Connection
/// news is not a node event: `Disconnected` and `SyncConnected` are skipped (a client made by
/// `Client::start` reconnects and re-registers its watches by itself), while a session that
/// ends (expired, closed, refused) ends the wait with an error, because every ephemeral node
/// the recipe relied on is gone with it.
pub async fn doorbell(events: &mut Events) -> Result<WatchedEvent> {
    loop {
        let event = events
            .recv()
            .await
            .ok_or_else(|| ClientError::ConnectionLoss("the client is gone".into()))?;
        match event.state {
            KeeperState::Expired | KeeperState::Closed | KeeperState::AuthFailed => {
                return Err(ClientError::SessionExpired)
            }
            _ if event.event_type == EventType::None => continue,
            _ => return Ok(event),
        }
    }
}
// ANCHOR_END: doorbell

/// The sequence number the server appended to a sequential node's name (its last ten digits).
pub fn sequence_of(name: &str) -> Option<u64> {
    let digits = name.get(name.len().checked_sub(10)?..)?;
    digits
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| digits.parse().ok())?
}
