//! The watch registry: what a server remembers about who wants to hear about what, and the
//! trigger table that turns one applied change into the events it owes.
//!
//! There are two tables, because there are two questions a client can ask to be woken for:
//! "tell me when this node's data changes, or it appears or goes" (a **data watch**, left by
//! `getData` and `exists`) and "tell me when this node's list of children changes" (a **child
//! watch**, left by `getChildren`). Each change a transaction makes is reported by the tree as a
//! trigger `(path, EventType)`, and each trigger reads one row of the table below.
//!
//! | trigger from the tree | data watches on `path` | child watches on `path` |
//! |---|---|---|
//! | `NodeCreated` | fire | — |
//! | `NodeDeleted` | fire | fire (a watcher in both hears once) |
//! | `NodeDataChanged` | fire | — |
//! | `NodeChildrenChanged` (on the parent) | — | fire |
//!
//! `addWatch` watches are kept in the same tables: a `PERSISTENT` watch sits in both tables,
//! so it hears everything a data watch and a child watch would, and is never spent. A
//! `PERSISTENT_RECURSIVE` watch sits in the data table only, which is why it hears about
//! creations, deletions and data changes anywhere below it but never `NodeChildrenChanged`.
//!
//! Upstream: the `dataWatches` / `childWatches` fields of `server.DataTree` and the
//! `triggerWatch` calls in its `createNode`, `deleteNode` and `setData`; `addWatch`,
//! `containsWatcher`, `removeWatch` and `removeCnxn` there; `FinalRequestProcessor` answers
//! `NoWatcher` when nothing matched. We follow 3.9's rules for mixing modes on one path (a
//! watcher may hold a one-shot and a persistent watch on the same path, and `removeWatches`
//! with `Data`/`Children` only removes one-shot watches): 3.8 kept one mode per path and could
//! drop half of a persistent watch (ZOOKEEPER-4466, ZOOKEEPER-4471).

use std::collections::BTreeSet;

use crate::event::{Delivery, EventType, WatchedEvent};
use crate::manager::WatchManager;
use crate::mode::{AddWatchMode, WatcherMode, WatcherType};
use crate::{validate_path, SessionId, ZkError};

/// Which table a watch lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Table {
    /// `dataWatches`: from `getData` and `exists`, and every `addWatch`.
    Data,
    /// `childWatches`: from `getChildren`, and `addWatch -m PERSISTENT`.
    Child,
}

/// A watch as a client thinks of it: the four kinds zkCli can leave and `removewatches` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum WatchKind {
    /// One-shot, from `get -w` or `stat -w`.
    Data,
    /// One-shot, from `ls -w`.
    Child,
    /// `addWatch -m PERSISTENT`.
    Persistent,
    /// `addWatch` (zkCli's default mode).
    PersistentRecursive,
}

impl std::fmt::Display for WatchKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WatchKind::Data => "data watch",
            WatchKind::Child => "child watch",
            WatchKind::Persistent => "persistent watch",
            WatchKind::PersistentRecursive => "persistent recursive watch",
        })
    }
}

/// One registered watch: whose, where, what kind.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Watch {
    pub session: SessionId,
    pub path: String,
    pub kind: WatchKind,
}

/// Every watch a server holds, for every session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct WatchRegistry {
    data_watches: WatchManager,
    child_watches: WatchManager,
}

impl WatchRegistry {
    /// The one-shot data watch `getData(path, watch=true)` or `exists(path, watch=true)` leaves.
    /// `exists` leaves it even when the node is missing: that is how a client waits for a node
    /// to appear. Returns false if the session already had it (it will still hear once).
    pub fn watch_data(&mut self, session: SessionId, path: &str) -> Result<bool, ZkError> {
        Ok(self
            .data_watches
            .add_watch(path, session, WatcherMode::Standard))
    }

    /// The one-shot child watch `getChildren(path, watch=true)` leaves.
    pub fn watch_children(&mut self, session: SessionId, path: &str) -> Result<bool, ZkError> {
        Ok(self
            .child_watches
            .add_watch(path, session, WatcherMode::Standard))
    }

    // ANCHOR: add_watch
    /// `addWatch(path, mode)` (3.6+). Needs no node at `path`. A persistent watch goes in both
    /// tables; a recursive one in the data table only, so it never hears `NodeChildrenChanged`.
    pub fn add_watch(
        &mut self,
        session: SessionId,
        path: &str,
        mode: AddWatchMode,
    ) -> Result<(), ZkError> {
        let mode = WatcherMode::from(mode);
        self.data_watches.add_watch(path, session, mode);
        if mode == WatcherMode::Persistent {
            self.child_watches.add_watch(path, session, mode);
        }
        Ok(())
    }
    // ANCHOR_END: add_watch

    // ANCHOR: fire
    /// Fires the watches one trigger from the tree reaches and returns the events to send, in
    /// order: data-table watchers first, then child-table ones, each in session order.
    pub fn trigger(&mut self, path: &str, event_type: EventType) -> Vec<Delivery> {
        let told: Vec<SessionId> = match event_type {
            // A creation and a data change concern the node's own data watches (and recursive
            // watches above it).
            EventType::NodeCreated | EventType::NodeDataChanged => {
                self.data_watches.trigger(path).into_iter().collect()
            }
            // A deletion ends both kinds of interest in the node; a session that held both
            // must hear it once (DataTree.deleteNode passes the data watchers as `suppress`).
            EventType::NodeDeleted => {
                let data: BTreeSet<SessionId> = self.data_watches.trigger(path);
                let child = self.child_watches.trigger(path);
                let child_only = child.into_iter().filter(|s| !data.contains(s));
                data.iter().copied().chain(child_only).collect()
            }
            // A child came or went: the parent's child watches fire.
            EventType::NodeChildrenChanged => {
                self.child_watches.trigger(path).into_iter().collect()
            }
            // The other types are raised on the client, never by a change to the tree.
            EventType::None
            | EventType::DataWatchRemoved
            | EventType::ChildWatchRemoved
            | EventType::PersistentWatchRemoved => Vec::new(),
        };
        told.into_iter()
            .map(|watcher| Delivery {
                watcher,
                event: WatchedEvent::node(event_type, path),
            })
            .collect()
    }
    // ANCHOR_END: fire

    /// `checkWatches`: `Ok` if `session` holds a watch of `watcher_type` on `path`, else
    /// `NoWatcher`.
    pub fn check_watches(
        &self,
        session: SessionId,
        path: &str,
        watcher_type: WatcherType,
    ) -> Result<(), ZkError> {
        let held = match watcher_type {
            WatcherType::Children => {
                self.child_watches
                    .contains_watcher(path, session, Some(WatcherMode::Standard))
            }
            WatcherType::Data => {
                self.data_watches
                    .contains_watcher(path, session, Some(WatcherMode::Standard))
            }
            WatcherType::Persistent => {
                self.data_watches
                    .contains_watcher(path, session, Some(WatcherMode::Persistent))
            }
            WatcherType::PersistentRecursive => self.data_watches.contains_watcher(
                path,
                session,
                Some(WatcherMode::PersistentRecursive),
            ),
            WatcherType::Any => {
                self.child_watches.contains_watcher(path, session, None)
                    || self.data_watches.contains_watcher(path, session, None)
            }
        };
        held.then_some(()).ok_or(ZkError::NoWatcher)
    }

    // ANCHOR: remove_watches
    /// `removeWatches`: drops `session`'s watches of `watcher_type` on `path` and returns the
    /// client-local events the removal raises (`DataWatchRemoved`, `ChildWatchRemoved`,
    /// `PersistentWatchRemoved`), or `NoWatcher` when there was nothing to remove.
    pub fn remove_watches(
        &mut self,
        session: SessionId,
        path: &str,
        watcher_type: WatcherType,
    ) -> Result<Vec<EventType>, ZkError> {
        let before = self.held(session, path);
        let standard = Some(WatcherMode::Standard);
        let removed = match watcher_type {
            WatcherType::Children => self.child_watches.remove_watch(path, session, standard),
            WatcherType::Data => self.data_watches.remove_watch(path, session, standard),
            WatcherType::Persistent => {
                let mode = Some(WatcherMode::Persistent);
                let child = self.child_watches.remove_watch(path, session, mode);
                self.data_watches.remove_watch(path, session, mode) || child
            }
            WatcherType::PersistentRecursive => {
                let mode = Some(WatcherMode::PersistentRecursive);
                self.data_watches.remove_watch(path, session, mode)
            }
            WatcherType::Any => {
                let child = self.child_watches.remove_watch(path, session, None);
                self.data_watches.remove_watch(path, session, None) || child
            }
        };
        match removed {
            true => Ok(before.removed_since(self.held(session, path))),
            false => Err(ZkError::NoWatcher),
        }
    }
    // ANCHOR_END: remove_watches

    /// The session's connection closed — because the session ended, or just the socket: forget
    /// all its watches (`DataTree.removeCnxn`). A client that reconnects to a live session sends
    /// them back with `SetWatches`.
    pub fn close_session(&mut self, session: SessionId) {
        self.data_watches.remove_watcher(session);
        self.child_watches.remove_watcher(session);
    }

    /// Every watch `session` holds, as (table, path, mode), data table first, in path order.
    /// This is what a client re-sends in `SetWatches` after a reconnect.
    pub fn watches_of(&self, session: SessionId) -> Vec<(Table, String, WatcherMode)> {
        let tables = [
            (Table::Data, &self.data_watches),
            (Table::Child, &self.child_watches),
        ];
        tables
            .into_iter()
            .flat_map(|(table, manager)| {
                manager.watches_of(session).flat_map(move |(path, modes)| {
                    modes
                        .iter()
                        .map(move |mode| (table, path.to_string(), mode))
                })
            })
            .collect()
    }

    /// Every watch, as clients see them (a persistent watch once, though it sits in both
    /// tables), ordered by session, then path. Comparing two of these shows what a step added
    /// and what it spent.
    pub fn all_watches(&self) -> BTreeSet<Watch> {
        let data = self.data_watches.all().map(|(session, path, modes)| {
            let kinds = modes.iter().map(|mode| match mode {
                WatcherMode::Standard => WatchKind::Data,
                WatcherMode::Persistent => WatchKind::Persistent,
                WatcherMode::PersistentRecursive => WatchKind::PersistentRecursive,
            });
            kinds
                .map(move |kind| (session, path, kind))
                .collect::<Vec<_>>()
        });
        let child = self.child_watches.all().map(|(session, path, modes)| {
            let one_shot = modes.has(WatcherMode::Standard).then_some(WatchKind::Child);
            one_shot
                .map(|kind| (session, path, kind))
                .into_iter()
                .collect()
        });
        data.chain(child)
            .flatten()
            .map(|(session, path, kind)| Watch {
                session,
                path: path.to_string(),
                kind,
            })
            .collect()
    }

    /// The sessions with any watch on `path`, in session order.
    pub fn watchers_of(&self, path: &str) -> Vec<SessionId> {
        let all: BTreeSet<SessionId> = self
            .data_watches
            .watchers_of(path)
            .chain(self.child_watches.watchers_of(path))
            .collect();
        all.into_iter().collect()
    }

    /// Total (watcher, path) registrations over both tables (what `wchs` counts).
    pub fn size(&self) -> usize {
        self.data_watches.size() + self.child_watches.size()
    }

    pub(crate) fn data_table(&mut self) -> &mut WatchManager {
        &mut self.data_watches
    }

    pub(crate) fn child_table(&mut self) -> &mut WatchManager {
        &mut self.child_watches
    }

    fn held(&self, session: SessionId, path: &str) -> Held {
        let data = self.data_watches.modes(path, session);
        let child = self.child_watches.modes(path, session);
        Held {
            data: data.has(WatcherMode::Standard),
            child: child.has(WatcherMode::Standard),
            persistent: data.has(WatcherMode::Persistent),
            recursive: data.has(WatcherMode::PersistentRecursive),
        }
    }
}

/// What kinds of watch a session holds on one path, as the client sees them: which removal
/// events a `removeWatches` raises (client `ZKWatchManager.removeWatcher`).
#[derive(Debug, Clone, Copy)]
struct Held {
    data: bool,
    child: bool,
    persistent: bool,
    recursive: bool,
}

impl Held {
    /// The removal events for what `self` had and `after` no longer has, in the order zkCli
    /// 3.8 prints them: data, child, persistent.
    fn removed_since(self, after: Held) -> Vec<EventType> {
        [
            (self.data && !after.data, EventType::DataWatchRemoved),
            (self.child && !after.child, EventType::ChildWatchRemoved),
            (
                (self.persistent && !after.persistent) || (self.recursive && !after.recursive),
                EventType::PersistentWatchRemoved,
            ),
        ]
        .into_iter()
        .filter_map(|(gone, event)| gone.then_some(event))
        .collect()
    }
}

/// A malformed path is refused with `BadArguments` by the reads of chapter 2's server (and by
/// the Java client before it sends anything). The registry itself takes any path, as
/// upstream's `WatchManager` does: a 3.8 server validates no path of a read or a watch op
/// (only a NUL in exists/getData/getChildren), so a watch on `rel` or `/a/` is left, and
/// nothing ever fires it.
pub(crate) fn check_path(path: &str) -> Result<(), ZkError> {
    validate_path(path).map_err(|_| ZkError::BadArguments)
}
