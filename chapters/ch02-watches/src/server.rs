//! The tree and the registry together: a server that keeps watches.
//!
//! Reads leave watches; writes fire them. A read with `watch=true` registers the watch in the
//! same step as it reads the node, so no change can slip between "I read version 3" and "tell
//! me when it changes". A write is prepped and applied by chapter 1's [`Standalone`]; the
//! triggers `apply` reports go, in order, through the registry's trigger table, and what comes
//! out is a list of [`Delivery`]s: one event for one session. Closing a session is a write
//! too: its ephemeral nodes are deleted (which fires watches like any delete) and then its own
//! watches are forgotten.
//!
//! Upstream: the read paths of `FinalRequestProcessor` (`getData`, `exists`, `getChildren`,
//! `addWatch`, `removeWatches`), `DataTree.getData` / `statNode` / `getChildren` (which decide
//! when a watch is registered) and `ZKDatabase.processTxn`.

use ch01_znode::{Applied, DataTree, Request, Sid, Standalone, Stat, Txn};

use crate::event::Delivery;
use crate::reconnect::{NodeZxids, SetWatches};
use crate::registry::{check_path, WatchRegistry};
use crate::{SessionId, ZkError};

/// What one write did: the txn, what applying it reported, and the events it sent.
#[derive(Debug, Clone)]
pub struct Written {
    pub txn: Txn,
    pub applied: Applied,
    pub deliveries: Vec<Delivery>,
}

/// A standalone server with watches.
#[derive(Debug, Clone, Default)]
pub struct WatchServer {
    standalone: Standalone,
    watches: WatchRegistry,
    /// Sessions handed out so far; the next one is `SessionId::new(0, sessions + 1)`.
    sessions: u64,
}

impl WatchServer {
    pub fn tree(&self) -> &DataTree {
        &self.standalone.tree
    }

    pub fn watches(&self) -> &WatchRegistry {
        &self.watches
    }

    /// The registry itself, for the requests that only touch watches (`addWatch`,
    /// `removeWatches`, `checkWatches`): they need no node and change no tree.
    pub fn watches_mut(&mut self) -> &mut WatchRegistry {
        &mut self.watches
    }

    /// Opens a session with a `createSession` txn (it takes a zxid, as on ZooKeeper). Ids are
    /// `0x1`, `0x2`, … — server id 0, no clock bits — so every run prints the same ids.
    pub fn connect(&mut self, time_ms: i64) -> SessionId {
        self.sessions += 1;
        let session = SessionId::new(Sid(0), self.sessions);
        let request = Request::CreateSession { timeout_ms: 30_000 };
        self.standalone.submit(session, 0, time_ms, &request);
        session
    }

    // ANCHOR: reads
    /// `getData(path, watch)`: a missing node is `NoNode` and leaves no watch
    /// (`DataTree.getData` throws before `addWatch`).
    pub fn get_data(
        &mut self,
        session: SessionId,
        path: &str,
        watch: bool,
    ) -> Result<(Option<Vec<u8>>, Stat), ZkError> {
        check_path(path)?;
        let (data, stat) = self.standalone.tree.get_data(path)?;
        let data = data.map(<[u8]>::to_vec);
        if watch {
            self.watches.watch_data(session, path)?;
        }
        Ok((data, stat))
    }

    /// `exists(path, watch)`: the watch is left even when the node is missing — that is how a
    /// client waits for a node to appear (`DataTree.statNode` adds it before the lookup).
    pub fn exists(&mut self, session: SessionId, path: &str, watch: bool) -> Result<Stat, ZkError> {
        check_path(path)?;
        if watch {
            self.watches.watch_data(session, path)?;
        }
        self.standalone.tree.stat(path)
    }

    /// `getChildren(path, watch)`: like `getData`, no node, no watch.
    pub fn get_children(
        &mut self,
        session: SessionId,
        path: &str,
        watch: bool,
    ) -> Result<(Vec<String>, Stat), ZkError> {
        check_path(path)?;
        let (children, stat) = self.standalone.tree.get_children(path)?;
        if watch {
            self.watches.watch_children(session, path)?;
        }
        Ok((children, stat))
    }
    // ANCHOR_END: reads

    // ANCHOR: submit
    /// Preps and applies one write from `session`, then fires its triggers in order.
    pub fn submit(&mut self, session: SessionId, time_ms: i64, request: &Request) -> Written {
        let (txn, applied) = self.standalone.submit(session, 0, time_ms, request);
        let deliveries = applied
            .triggers
            .iter()
            .flat_map(|t| self.watches.trigger(&t.path, t.event))
            .collect();
        Written {
            txn,
            applied,
            deliveries,
        }
    }
    // ANCHOR_END: submit

    /// Closes `session`: its ephemerals are deleted by a `closeSession` txn (firing watches),
    /// then its own watches are dropped (`DataTree.killSession`, then `removeCnxn`).
    pub fn close_session(&mut self, session: SessionId, time_ms: i64) -> Written {
        let written = self.submit(session, time_ms, &Request::CloseSession);
        self.watches.close_session(session);
        written
    }

    /// `session`'s connection dropped but the session lives on (it may reconnect before it
    /// expires): its watches go with the connection, its ephemerals stay.
    pub fn connection_lost(&mut self, session: SessionId) {
        self.watches.close_session(session);
    }

    /// A reconnecting `session` re-sends its watches (`SetWatches2`).
    pub fn set_watches(&mut self, session: SessionId, request: &SetWatches) -> Vec<Delivery> {
        let tree = &self.standalone.tree;
        self.watches.set_watches(session, request, |path| {
            tree.stat(path).ok().map(|stat| NodeZxids {
                mzxid: stat.mzxid,
                pzxid: stat.pzxid,
            })
        })
    }
}
