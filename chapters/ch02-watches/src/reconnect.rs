//! Reconnecting without losing a change: `SetWatches`.
//!
//! A client that loses its connection keeps its watches in its own memory. When it reconnects
//! (to the same server or another one) it sends them all back, with the last zxid it saw. The
//! server cannot just re-register them: the node may have changed while nobody was listening,
//! and that change would never be told. So for each watch it compares the node with what the
//! client last saw and either fires the event the client missed, right now, or registers the
//! watch again.
//!
//! | list | node missing | node changed since `relative_zxid` | otherwise |
//! |---|---|---|---|
//! | data watches | fire `NodeDeleted` | `mzxid > rel`: fire `NodeDataChanged` | register |
//! | exist watches | register | node exists: fire `NodeCreated` | — |
//! | child watches | fire `NodeDeleted` | `pzxid > rel`: fire `NodeChildrenChanged` | register |
//! | persistent, persistent-recursive | register, unconditionally | | |
//!
//! Upstream: `DataTree.setWatches` (the `SetWatches` and 3.6's `SetWatches2` requests);
//! `reference/client-protocol.md` §11.

use serde::Serialize;

use crate::event::{Delivery, EventType, WatchedEvent};
use crate::mode::WatcherMode;
use crate::registry::WatchRegistry;
use crate::{SessionId, Zxid};

/// The `SetWatches2` request: the watches a reconnecting client re-sends.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Hash)]
pub struct SetWatches {
    /// The last zxid the client saw (`lastZxidSeen`).
    pub relative_zxid: Zxid,
    /// Paths with a `getData` watch (the node existed when it was set).
    pub data_watches: Vec<String>,
    /// Paths with an `exists` watch on a node that was missing when it was set.
    pub exist_watches: Vec<String>,
    pub child_watches: Vec<String>,
    pub persistent_watches: Vec<String>,
    pub persistent_recursive_watches: Vec<String>,
}

/// The two zxids of a node that `SetWatches` compares with `relative_zxid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeZxids {
    /// The last change to the node's data (`Stat.mzxid`).
    pub mzxid: Zxid,
    /// The last change to the node's children (`Stat.pzxid`).
    pub pzxid: Zxid,
}

impl WatchRegistry {
    // ANCHOR: set_watches
    /// Applies a reconnecting `session`'s `SetWatches` against the tree, seen through `node`
    /// (the node's zxids, `None` if missing). Returns the events that fire now; every other watch
    /// is registered again. Pure: the caller owns the tree and sends the deliveries.
    pub fn set_watches(
        &mut self,
        session: SessionId,
        request: &SetWatches,
        node: impl Fn(&str) -> Option<NodeZxids>,
    ) -> Vec<Delivery> {
        let rel = request.relative_zxid;
        let mut fired = Vec::new();
        let mut fire = |event_type, path: &str| {
            fired.push(Delivery {
                watcher: session,
                event: WatchedEvent::node(event_type, path),
            })
        };
        for path in &request.data_watches {
            match node(path) {
                // Deleted while the client was away.
                None => fire(EventType::NodeDeleted, path),
                // Its data changed after the last zxid the client saw.
                Some(n) if n.mzxid > rel => fire(EventType::NodeDataChanged, path),
                Some(_) => {
                    self.data_table()
                        .add_watch(path, session, WatcherMode::Standard);
                }
            }
        }
        for path in &request.exist_watches {
            match node(path) {
                // It appeared while the client was away.
                Some(_) => fire(EventType::NodeCreated, path),
                None => {
                    self.data_table()
                        .add_watch(path, session, WatcherMode::Standard);
                }
            }
        }
        for path in &request.child_watches {
            match node(path) {
                None => fire(EventType::NodeDeleted, path),
                // A child came or went after the last zxid the client saw.
                Some(n) if n.pzxid > rel => fire(EventType::NodeChildrenChanged, path),
                Some(_) => {
                    self.child_table()
                        .add_watch(path, session, WatcherMode::Standard);
                }
            }
        }
        // Persistent watches never fire on reconnect: the client asked for "from now on".
        for path in &request.persistent_watches {
            self.child_table()
                .add_watch(path, session, WatcherMode::Persistent);
            self.data_table()
                .add_watch(path, session, WatcherMode::Persistent);
        }
        for path in &request.persistent_recursive_watches {
            self.data_table()
                .add_watch(path, session, WatcherMode::PersistentRecursive);
        }
        fired
    }
    // ANCHOR_END: set_watches
}
