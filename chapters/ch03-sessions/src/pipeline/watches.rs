//! The server's watch tables: chapter 2's registry, spoken to in the pipeline's types.
//!
//! Chapter 2's [`WatchRegistry`] keys watches by session and fires them from a path and an
//! event type. The pipeline hands it the triggers chapter 1's `apply` reports and gets back
//! who must hear what, which this adapter turns into ready-to-send notification records
//! addressed to sessions. (Chapter 2 names its own `SessionId`/`Zxid`/`ZkError` until it
//! re-exports chapter 1's; the conversions below are written so they keep compiling when the
//! types become the same.)

use ch01_znode::{DataTree, SessionId, WatchTrigger, ZkError};
use ch02_watches::{
    AddWatchMode, Delivery, EventType, NodeZxids, SetWatches, WatchRegistry, WatcherType,
};

use super::convert::event_to_wire;
use crate::proto::WatcherEvent;

/// A notification on its way to a session.
pub type Notification = (SessionId, WatcherEvent);

/// The watch tables of a server.
#[derive(Debug, Default)]
pub struct Watches {
    registry: WatchRegistry,
}

/// Chapter 2's session id for ours.
fn sid(session: SessionId) -> ch02_watches::SessionId {
    ch02_watches::SessionId(session.0)
}

/// Chapter 2's error as ours, matched by name (the two enums share ZooKeeper's names).
fn zk(err: ch02_watches::ZkError) -> ZkError {
    let name = format!("{err:?}");
    ZkError::ALL
        .iter()
        .copied()
        .find(|e| format!("{e:?}") == name)
        .unwrap_or(ZkError::BadArguments)
}

fn notifications(deliveries: Vec<Delivery>) -> Vec<Notification> {
    deliveries
        .into_iter()
        .map(|d| (SessionId(d.watcher.0), event_to_wire(&d.event)))
        .collect()
}

impl Watches {
    /// `getData`/`exists` with `watch=true`.
    pub fn watch_data(&mut self, session: SessionId, path: &str) -> Result<(), ZkError> {
        self.registry
            .watch_data(sid(session), path)
            .map(drop)
            .map_err(zk)
    }

    /// `getChildren` with `watch=true`.
    pub fn watch_children(&mut self, session: SessionId, path: &str) -> Result<(), ZkError> {
        self.registry
            .watch_children(sid(session), path)
            .map(drop)
            .map_err(zk)
    }

    /// `addWatch` with its wire mode (0 persistent, 1 persistent recursive).
    pub fn add_watch(&mut self, session: SessionId, path: &str, mode: i32) -> Result<(), ZkError> {
        let mode = match mode {
            0 => AddWatchMode::Persistent,
            1 => AddWatchMode::PersistentRecursive,
            _ => return Err(ZkError::BadArguments),
        };
        self.registry
            .add_watch(sid(session), path, mode)
            .map_err(zk)
    }

    /// `checkWatches` with its wire watcher type.
    pub fn check_watches(&self, session: SessionId, path: &str, kind: i32) -> Result<(), ZkError> {
        let kind = watcher_type(kind)?;
        self.registry
            .check_watches(sid(session), path, kind)
            .map_err(zk)
    }

    /// `removeWatches` with its wire watcher type.
    pub fn remove_watches(
        &mut self,
        session: SessionId,
        path: &str,
        kind: i32,
    ) -> Result<(), ZkError> {
        let kind = watcher_type(kind)?;
        self.registry
            .remove_watches(sid(session), path, kind)
            .map(drop)
            .map_err(zk)
    }

    /// Fires one trigger from the tree.
    pub fn trigger(&mut self, trigger: &WatchTrigger) -> Vec<Notification> {
        let event = match trigger.event.code() {
            1 => EventType::NodeCreated,
            2 => EventType::NodeDeleted,
            3 => EventType::NodeDataChanged,
            _ => EventType::NodeChildrenChanged,
        };
        notifications(self.registry.trigger(&trigger.path, event))
    }

    /// A reconnecting client's `SetWatches`: fires what it missed, re-arms the rest.
    pub fn set_watches(
        &mut self,
        session: SessionId,
        request: &SetWatches,
        tree: &DataTree,
    ) -> Vec<Notification> {
        let fired = self.registry.set_watches(sid(session), request, |path| {
            tree.node(path).map(|n| NodeZxids {
                mzxid: n.stat.mzxid,
                pzxid: n.stat.pzxid,
            })
        });
        notifications(fired)
    }

    /// The session's connection is gone: its watches go with it.
    pub fn close_session(&mut self, session: SessionId) {
        self.registry.close_session(sid(session));
    }

    /// How many watches are registered.
    pub fn size(&self) -> usize {
        self.registry.size()
    }
}

/// The wire's watcher type, or BadArguments for a number ZooKeeper does not define.
fn watcher_type(code: i32) -> Result<WatcherType, ZkError> {
    match code {
        1 => Ok(WatcherType::Children),
        2 => Ok(WatcherType::Data),
        3 => Ok(WatcherType::Any),
        _ => Err(ZkError::BadArguments),
    }
}
