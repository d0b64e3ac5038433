//! The server's watch tables: chapter 2's registry, spoken to in the pipeline's types.
//!
//! Chapter 2's [`WatchRegistry`] keys watches by session and fires them from a path and an
//! event type. The pipeline hands it the triggers chapter 1's `apply` reports and gets back
//! who must hear what, which this adapter hands on as notifications addressed to sessions (the
//! event is the notification record itself). Chapter 2 speaks chapter 1's `SessionId` and `ZkError`, so they pass
//! through as they are.

use ch01_znode::{DataTree, SessionId, WatchTrigger, ZkError};
use ch02_watches::{
    AddWatchMode, Delivery, NodeZxids, SetWatches, WatchKind, WatchRegistry, WatchedEvent,
    WatcherType,
};

/// A notification on its way to a session.
pub type Notification = (SessionId, WatchedEvent);

/// The watch tables of a server.
#[derive(Clone, Debug, Default, Hash)]
pub struct Watches {
    registry: WatchRegistry,
}

fn notifications(deliveries: Vec<Delivery>) -> Vec<Notification> {
    deliveries
        .into_iter()
        .map(|d| (d.watcher, d.event))
        .collect()
}

impl Watches {
    /// `getData`/`exists` with `watch=true`.
    pub fn watch_data(&mut self, session: SessionId, path: &str) -> Result<(), ZkError> {
        self.registry.watch_data(session, path).map(drop)
    }

    /// `getChildren` with `watch=true`.
    pub fn watch_children(&mut self, session: SessionId, path: &str) -> Result<(), ZkError> {
        self.registry.watch_children(session, path).map(drop)
    }

    /// `addWatch`.
    pub fn add_watch(
        &mut self,
        session: SessionId,
        path: &str,
        mode: AddWatchMode,
    ) -> Result<(), ZkError> {
        self.registry.add_watch(session, path, mode)
    }

    /// `checkWatches`.
    pub fn check_watches(
        &self,
        session: SessionId,
        path: &str,
        kind: WatcherType,
    ) -> Result<(), ZkError> {
        self.registry.check_watches(session, path, kind)
    }

    /// `removeWatches`.
    pub fn remove_watches(
        &mut self,
        session: SessionId,
        path: &str,
        kind: WatcherType,
    ) -> Result<(), ZkError> {
        self.registry.remove_watches(session, path, kind).map(drop)
    }

    /// Fires one trigger from the tree.
    pub fn trigger(&mut self, trigger: &WatchTrigger) -> Vec<Notification> {
        notifications(self.registry.trigger(&trigger.path, trigger.event))
    }

    /// A reconnecting client's `SetWatches`: fires what it missed, re-arms the rest.
    pub fn set_watches(
        &mut self,
        session: SessionId,
        request: &SetWatches,
        tree: &DataTree,
    ) -> Vec<Notification> {
        let fired = self.registry.set_watches(session, request, |path| {
            tree.node(path).map(|n| NodeZxids {
                mzxid: n.stat.mzxid,
                pzxid: n.stat.pzxid,
            })
        });
        notifications(fired)
    }

    /// The session's connection is gone: its watches go with it.
    pub fn close_session(&mut self, session: SessionId) {
        self.registry.close_session(session);
    }

    /// The data table's watches, one per (session, path), in session then path order: what
    /// `wchc`, `wchp` and `wchs` list. A persistent watch is in the data table too (upstream
    /// `DataTree.addWatch`), so it is listed; a child watch alone is not.
    pub fn data_watches(&self) -> Vec<(SessionId, String)> {
        let data = self.registry.all_watches().into_iter().filter(|w| {
            matches!(
                w.kind,
                WatchKind::Data | WatchKind::Persistent | WatchKind::PersistentRecursive
            )
        });
        let mut pairs: Vec<(SessionId, String)> = data.map(|w| (w.session, w.path)).collect();
        pairs.dedup();
        pairs
    }

    /// How many watches are registered.
    pub fn size(&self) -> usize {
        self.registry.size()
    }
}
