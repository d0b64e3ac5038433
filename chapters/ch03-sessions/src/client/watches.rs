//! [`ClientWatches`]: the watches a client believes it holds (upstream `ZKWatchManager`).
//!
//! The server keeps the real watch tables, but the client keeps its own copy, for three
//! reasons that all show in zkCli. When a connection is lost and another one made, the server
//! has forgotten the connection's watches: the client sends its copy back (`SetWatches`, with
//! the last zxid it saw, so the server fires what changed meanwhile). When an event arrives,
//! the copy says who is listening; a one-shot watch leaves the copy as it fires. And
//! `removewatches` is answered partly here: the server removes what it holds, but whether
//! there was anything to remove, and which `...WatchRemoved` events the application hears, is
//! decided by the copy.
//!
//! Everything here has one watcher, the default one (zkCli's): a table is a set of paths.

use std::collections::BTreeSet;

use ch01_znode::{EventType, WatcherType, ZkError, Zxid};

use crate::proto::{Request, SetWatches, SetWatches2};

/// What a request does to the client's tables once its answer is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Registration {
    /// `getData` with a watch: a data watch, if the node was there.
    Data(String),
    /// `exists` with a watch: a data watch on a node that is there, an exist watch on one
    /// that is not.
    Exists(String),
    /// `getChildren` with a watch.
    Child(String),
    /// `addWatch`, persistent (`recursive` false) or persistent recursive.
    Persistent { path: String, recursive: bool },
    /// `removeWatches`: take watches of `kind` off `path`; with `local`, even when the
    /// server could not be told.
    Remove {
        path: String,
        kind: WatcherType,
        local: bool,
    },
}

impl Registration {
    /// The registration a request carries, if it leaves or takes a watch.
    pub fn of(request: &Request) -> Option<Registration> {
        match request {
            Request::GetData(r) if r.watch => Some(Registration::Data(r.path.clone())),
            Request::Exists(r) if r.watch => Some(Registration::Exists(r.path.clone())),
            Request::GetChildren(r) if r.watch => Some(Registration::Child(r.path.clone())),
            Request::GetChildren2(r) if r.watch => Some(Registration::Child(r.path.clone())),
            Request::AddWatch(r) => Some(Registration::Persistent {
                path: r.path.clone(),
                recursive: r.mode == ch01_znode::AddWatchMode::PersistentRecursive,
            }),
            _ => None,
        }
    }
}

/// The five tables of `ZKWatchManager`, each a set of paths.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientWatches {
    data: BTreeSet<String>,
    exist: BTreeSet<String>,
    child: BTreeSet<String>,
    persistent: BTreeSet<String>,
    recursive: BTreeSet<String>,
}

/// The result of a request after the client's tables had their say: its code (0 for OK),
/// and the `...WatchRemoved` events a removal raises, in the order they are delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settled {
    pub rc: i32,
    pub events: Vec<EventType>,
}

impl ClientWatches {
    /// Whether there is nothing to set again after a reconnect.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
            && self.exist.is_empty()
            && self.child.is_empty()
            && self.persistent.is_empty()
            && self.recursive.is_empty()
    }

    /// Applies a request's registration once its answer (`rc`, 0 for OK) is in
    /// (`WatchRegistration.register`, `ZKWatchManager.removeWatcher`).
    pub fn settle(&mut self, registration: Registration, rc: i32) -> Settled {
        let ok = rc == 0;
        let unchanged = Settled { rc, events: vec![] };
        match registration {
            Registration::Data(path) if ok => self.data.insert(path),
            Registration::Exists(path) if ok => self.data.insert(path),
            Registration::Exists(path) if rc == ZkError::NoNode.code() => self.exist.insert(path),
            Registration::Child(path) if ok => self.child.insert(path),
            Registration::Persistent { path, recursive } if ok => match recursive {
                true => self.recursive.insert(path),
                false => self.persistent.insert(path),
            },
            Registration::Remove { path, kind, local } => {
                return self.remove(&path, kind, local, rc);
            }
            _ => false,
        };
        unchanged
    }

    /// `removeWatcher`: the client must hold a watch of that kind, and (unless `local`) the
    /// server must have agreed; then the watches go and each kind removed is told once.
    fn remove(&mut self, path: &str, kind: WatcherType, local: bool, rc: i32) -> Settled {
        let no_watcher = Settled {
            rc: ZkError::NoWatcher.code(),
            events: vec![],
        };
        let has = |set: &BTreeSet<String>| set.contains(path);
        let persistent = has(&self.persistent) || has(&self.recursive);
        let held = match kind {
            WatcherType::Children => has(&self.child) || persistent,
            WatcherType::Data => has(&self.data) || has(&self.exist) || persistent,
            _ => has(&self.child) || has(&self.data) || has(&self.exist) || persistent,
        };
        if !held {
            return no_watcher;
        }
        if rc != 0 && !local {
            return Settled { rc, events: vec![] };
        }
        let (child, data, gone) = match kind {
            WatcherType::Children => (self.child.remove(path), false, false),
            WatcherType::Data => (
                false,
                self.data.remove(path) | self.exist.remove(path),
                false,
            ),
            _ => (
                self.child.remove(path),
                self.data.remove(path) | self.exist.remove(path),
                self.persistent.remove(path) | self.recursive.remove(path),
            ),
        };
        let events: Vec<EventType> = [
            (child, EventType::ChildWatchRemoved),
            (data, EventType::DataWatchRemoved),
            (gone, EventType::PersistentWatchRemoved),
        ]
        .into_iter()
        .filter_map(|(removed, event)| removed.then_some(event))
        .collect();
        match events.is_empty() {
            true => no_watcher,
            false => Settled { rc: 0, events },
        }
    }

    // ANCHOR: materialize
    /// `ZKWatchManager.materialize`: whether anyone hears an event on `path` (one-shot
    /// watches leave as they fire). A connection event is always heard by the default
    /// watcher.
    pub fn materialize(&mut self, event: EventType, path: &str) -> bool {
        let take = |set: &mut BTreeSet<String>| set.remove(path);
        let heard = match event {
            EventType::NodeDataChanged | EventType::NodeCreated => {
                take(&mut self.data) | take(&mut self.exist)
            }
            EventType::NodeChildrenChanged => take(&mut self.child),
            EventType::NodeDeleted => {
                take(&mut self.data) | take(&mut self.exist) | take(&mut self.child)
            }
            _ => return true,
        };
        // Persistent watches stay; a recursive one hears its whole subtree.
        heard || self.persistent.contains(path) || self.recursive_above(path)
    }
    // ANCHOR_END: materialize

    /// A recursive watch on `path` or on any of its ancestors.
    fn recursive_above(&self, path: &str) -> bool {
        let mut p = path;
        loop {
            if self.recursive.contains(p) {
                return true;
            }
            match p.rfind('/') {
                Some(0) if p != "/" => p = "/",
                Some(i) if i > 0 => p = &p[..i],
                _ => return false,
            }
        }
    }

    /// What a new connection sends back: the old `SetWatches` (101) when there are no
    /// persistent watches, for older servers, else `SetWatches2` (105); nothing if there are
    /// no watches at all.
    pub fn set_watches(&self, relative_zxid: Zxid) -> Option<Request> {
        let list = |set: &BTreeSet<String>| set.iter().cloned().collect::<Vec<_>>();
        if self.is_empty() {
            None
        } else if self.persistent.is_empty() && self.recursive.is_empty() {
            Some(Request::SetWatches(SetWatches {
                relative_zxid,
                data_watches: list(&self.data),
                exist_watches: list(&self.exist),
                child_watches: list(&self.child),
            }))
        } else {
            Some(Request::SetWatches2(SetWatches2 {
                relative_zxid,
                data_watches: list(&self.data),
                exist_watches: list(&self.exist),
                child_watches: list(&self.child),
                persistent_watches: list(&self.persistent),
                persistent_recursive_watches: list(&self.recursive),
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_NODE: i32 = -101;

    fn remove(path: &str, kind: WatcherType, local: bool) -> Registration {
        Registration::Remove {
            path: path.into(),
            kind,
            local,
        }
    }

    /// ExistsWatchRegistration: a missing node leaves an exist watch, which hears its
    /// creation once.
    #[test]
    fn exists_on_a_missing_node_leaves_an_exist_watch_that_fires_once() {
        let mut w = ClientWatches::default();
        w.settle(Registration::Exists("/a".into()), NO_NODE);
        assert!(w.materialize(EventType::NodeCreated, "/a"));
        assert!(!w.materialize(EventType::NodeDataChanged, "/a"));
    }

    /// A failed getData leaves no watch; a child watch does not hear data changes.
    #[test]
    fn only_a_successful_read_registers() {
        let mut w = ClientWatches::default();
        w.settle(Registration::Data("/a".into()), NO_NODE);
        w.settle(Registration::Child("/b".into()), 0);
        assert!(!w.materialize(EventType::NodeDataChanged, "/a"));
        assert!(!w.materialize(EventType::NodeDataChanged, "/b"));
        assert!(w.materialize(EventType::NodeChildrenChanged, "/b"));
    }

    /// addPersistentWatches: a recursive watch hears the subtree, and stays.
    #[test]
    fn a_recursive_watch_hears_descendants_and_stays() {
        let mut w = ClientWatches::default();
        let reg = Registration::Persistent {
            path: "/a".into(),
            recursive: true,
        };
        w.settle(reg, 0);
        assert!(w.materialize(EventType::NodeCreated, "/a/b/c"));
        assert!(w.materialize(EventType::NodeDeleted, "/a/b/c"));
        assert!(!w.materialize(EventType::NodeCreated, "/ab"));
        assert!(w.materialize(EventType::None, "/x"));
    }

    /// removeWatcher: nothing held is NoWatcher whatever the server said; a refusal by the
    /// server stands unless the removal is local; each kind removed is told once, child
    /// before data before persistent.
    #[test]
    fn removing_checks_the_client_copy_and_tells_each_kind_removed() {
        let mut w = ClientWatches::default();
        let settled = w.settle(remove("/a", WatcherType::Any, false), 0);
        assert_eq!(settled.rc, ZkError::NoWatcher.code());
        w.settle(Registration::Data("/a".into()), 0);
        w.settle(Registration::Child("/a".into()), 0);
        let refused = w.settle(remove("/a", WatcherType::Data, false), NO_NODE);
        assert_eq!(refused.rc, NO_NODE);
        let removed = w.settle(remove("/a", WatcherType::Any, true), -4);
        let told = vec![EventType::ChildWatchRemoved, EventType::DataWatchRemoved];
        assert_eq!(
            removed,
            Settled {
                rc: 0,
                events: told
            }
        );
        assert!(w.is_empty());
    }

    /// A persistent watch counts as held for `-c` and `-d`, but only `-a` removes it (3.8's
    /// client answers NoWatcher to the other two).
    #[test]
    fn only_any_removes_a_persistent_watch() {
        let mut w = ClientWatches::default();
        let reg = Registration::Persistent {
            path: "/p".into(),
            recursive: false,
        };
        w.settle(reg, 0);
        let data = w.settle(remove("/p", WatcherType::Data, false), 0);
        assert_eq!(data.rc, ZkError::NoWatcher.code());
        let any = w.settle(remove("/p", WatcherType::Any, false), 0);
        assert_eq!(any.events, vec![EventType::PersistentWatchRemoved]);
    }

    /// ClientCnxn.primeConnection: the old SetWatches unless persistent watches are held.
    #[test]
    fn a_reconnect_sends_setwatches_2_only_for_persistent_watches() {
        let mut w = ClientWatches::default();
        assert_eq!(w.set_watches(Zxid(5)), None);
        w.settle(Registration::Exists("/e".into()), NO_NODE);
        assert!(
            matches!(w.set_watches(Zxid(5)), Some(Request::SetWatches(s)) if s.exist_watches == ["/e"])
        );
        let reg = Registration::Persistent {
            path: "/p".into(),
            recursive: true,
        };
        w.settle(reg, 0);
        assert!(matches!(
            w.set_watches(Zxid(5)),
            Some(Request::SetWatches2(s)) if s.persistent_recursive_watches == ["/p"]
        ));
    }
}
