//! One watch table, indexed both ways: by path (who must be told when this node changes?) and
//! by watcher (what must be forgotten when this session goes away?). Firing a watch looks the
//! path up, collects the watchers, and drops every one-shot registration it used: the table
//! forgets the watch at the moment it fires, so a second change finds nobody to tell.
//!
//! A recursive watch on `/a` must hear about `/a/b/c`, so a trigger also walks up the parents —
//! but only while some recursive watch exists, which keeps the common case to one lookup.
//!
//! Upstream: `server.watch.WatchManager` (3.9 shape: `watchTable`, `watch2Paths`,
//! `WatchStats`, `recursiveWatchQty`) and `server.watch.PathParentIterator`. ZooKeeper keeps
//! the watchers in `HashSet`s; we keep `BTree`s so deliveries come out in session order and
//! every trace is reproducible.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::mode::{Modes, WatcherMode};
use crate::SessionId;

/// One table of watches (ZooKeeper has two per tree: `dataWatches` and `childWatches`).
///
/// A watched path is stored once, however many watchers hold it: both indexes share one
/// `Arc<str>` (as upstream's two maps share one `String` object). Ten sessions watching the
/// same node cost one copy of its path, not eleven.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct WatchManager {
    /// path → the watchers holding any watch on it (upstream `watchTable`).
    watch_table: BTreeMap<Arc<str>, BTreeSet<SessionId>>,
    /// watcher → each path it watches and the modes it holds there (upstream `watch2Paths`).
    watch2paths: BTreeMap<SessionId, BTreeMap<Arc<str>, Modes>>,
    /// How many (watcher, path) pairs hold a recursive mode (upstream `recursiveWatchQty`).
    recursive_qty: usize,
}

impl WatchManager {
    /// Registers `mode` for `watcher` on `path`. Returns false when that exact watch was already
    /// there: registering twice is registering once.
    pub fn add_watch(&mut self, path: &str, watcher: SessionId, mode: WatcherMode) -> bool {
        let modes = self.modes(path, watcher);
        if modes.has(mode) {
            return false;
        }
        self.set_modes(path, watcher, modes, modes.with(mode));
        true
    }

    /// Does `watcher` hold a watch on `path` — in `mode`, or in any mode when `mode` is `None`?
    pub fn contains_watcher(
        &self,
        path: &str,
        watcher: SessionId,
        mode: Option<WatcherMode>,
    ) -> bool {
        let modes = self.modes(path, watcher);
        match mode {
            Some(mode) => modes.has(mode),
            None => !modes.is_empty(),
        }
    }

    /// Removes `watcher`'s watch on `path` in `mode` (every mode when `None`). Returns whether
    /// anything was removed.
    pub fn remove_watch(
        &mut self,
        path: &str,
        watcher: SessionId,
        mode: Option<WatcherMode>,
    ) -> bool {
        let old = self.modes(path, watcher);
        let new = match mode {
            Some(mode) => old.without(mode),
            None => Modes::default(),
        };
        self.set_modes(path, watcher, old, new);
        old != new
    }

    /// Forgets every watch `watcher` holds: its connection closed (upstream
    /// `removeWatcher(Watcher)`, called from `DataTree.removeCnxn`).
    pub fn remove_watcher(&mut self, watcher: SessionId) {
        let paths: Vec<(Arc<str>, Modes)> = match self.watch2paths.get(&watcher) {
            Some(paths) => paths.iter().map(|(p, m)| (p.clone(), *m)).collect(),
            None => return,
        };
        for (path, modes) in paths {
            self.set_modes(&path, watcher, modes, Modes::default());
        }
    }

    // ANCHOR: trigger
    /// Fires the watches a change to `path` reaches, and returns who must be told. A watcher
    /// is returned once however many of its watches matched. One-shot registrations on the exact
    /// path are consumed; persistent ones stay. On a parent path only a recursive watch counts.
    pub fn trigger(&mut self, path: &str) -> BTreeSet<SessionId> {
        let mut told = BTreeSet::new();
        let walk_parents = self.recursive_qty > 0;
        for (local_path, at_parent) in path_and_parents(path, walk_parents) {
            let watchers: Vec<SessionId> = match self.watch_table.get(local_path) {
                Some(watchers) => watchers.iter().copied().collect(),
                None => continue,
            };
            for watcher in watchers {
                let modes = self.modes(local_path, watcher);
                match at_parent {
                    // The changed node itself: every watch on it fires; one-shot ones are spent.
                    false => {
                        told.insert(watcher);
                        let spent = modes.without(WatcherMode::Standard);
                        self.set_modes(local_path, watcher, modes, spent);
                    }
                    // An ancestor: only a recursive watch reaches down to the change.
                    true if modes.has(WatcherMode::PersistentRecursive) => {
                        told.insert(watcher);
                    }
                    true => {}
                }
            }
        }
        told
    }
    // ANCHOR_END: trigger

    /// The modes `watcher` holds on `path` (empty when none).
    pub fn modes(&self, path: &str, watcher: SessionId) -> Modes {
        self.watch2paths
            .get(&watcher)
            .and_then(|paths| paths.get(path))
            .copied()
            .unwrap_or_default()
    }

    /// Every (path, modes) `watcher` holds, in path order.
    pub fn watches_of(&self, watcher: SessionId) -> impl Iterator<Item = (&str, Modes)> {
        self.watch2paths
            .get(&watcher)
            .into_iter()
            .flat_map(|paths| paths.iter().map(|(p, m)| (&**p, *m)))
    }

    /// Every (watcher, path, modes), in session then path order.
    pub fn all(&self) -> impl Iterator<Item = (SessionId, &str, Modes)> {
        self.watch2paths
            .iter()
            .flat_map(|(watcher, paths)| paths.iter().map(move |(p, m)| (*watcher, &**p, *m)))
    }

    /// The watchers on `path`, in session order.
    pub fn watchers_of(&self, path: &str) -> impl Iterator<Item = SessionId> + '_ {
        self.watch_table.get(path).into_iter().flatten().copied()
    }

    /// How many (watcher, path) pairs are registered (upstream `size()` counts the same).
    pub fn size(&self) -> usize {
        self.watch_table.values().map(BTreeSet::len).sum()
    }

    /// Replaces `old` by `new` for (`watcher`, `path`), keeping both indexes and the recursive
    /// count in step. The one place the two maps change, so they cannot drift apart.
    fn set_modes(&mut self, path: &str, watcher: SessionId, old: Modes, new: Modes) {
        if old == new {
            return;
        }
        match (
            old.has(WatcherMode::PersistentRecursive),
            new.has(WatcherMode::PersistentRecursive),
        ) {
            (true, false) => self.recursive_qty -= 1,
            (false, true) => self.recursive_qty += 1,
            _ => {}
        }
        let paths = self.watch2paths.entry(watcher).or_default();
        if new.is_empty() {
            paths.remove(path);
            if paths.is_empty() {
                self.watch2paths.remove(&watcher);
            }
            if let Some(watchers) = self.watch_table.get_mut(path) {
                watchers.remove(&watcher);
                if watchers.is_empty() {
                    self.watch_table.remove(path);
                }
            }
        } else {
            // The path's one shared copy: the table's key if anyone watches it already.
            let shared = match self.watch_table.get_key_value(path) {
                Some((key, _)) => key.clone(),
                None => Arc::from(path),
            };
            paths.insert(shared.clone(), new);
            self.watch_table.entry(shared).or_default().insert(watcher);
        }
    }
}

/// `path` and then, when `with_parents`, each ancestor up to `/`, flagged `true` for ancestors
/// (upstream `PathParentIterator.forAll` / `forPathOnly` and `atParentPath()`).
pub fn path_and_parents(path: &str, with_parents: bool) -> impl Iterator<Item = (&str, bool)> {
    let mut next = Some(path);
    let mut at_parent = false;
    std::iter::from_fn(move || {
        let current = next?;
        next = match (with_parents, current) {
            (false, _) | (_, "/") => None,
            (true, _) => match current.rfind('/') {
                Some(0) => Some("/"),
                Some(i) => Some(&current[..i]),
                None => None,
            },
        };
        let item = (current, at_parent);
        at_parent = true;
        Some(item)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: SessionId = SessionId(0x1);
    const B: SessionId = SessionId(0x2);

    #[test]
    fn parents_are_walked_up_to_the_root() {
        // PathParentIterator.forAll("/a/b") yields /a/b, /a, / with atParentPath after the first.
        let walked: Vec<_> = path_and_parents("/a/b", true).collect();
        assert_eq!(walked, vec![("/a/b", false), ("/a", true), ("/", true)]);
        assert_eq!(
            path_and_parents("/", true).collect::<Vec<_>>(),
            vec![("/", false)]
        );
        assert_eq!(
            path_and_parents("/a/b", false).collect::<Vec<_>>(),
            vec![("/a/b", false)]
        );
    }

    #[test]
    fn a_standard_watch_fires_once_and_is_gone() {
        // WatchManager.triggerWatch removes STANDARD registrations on the exact path.
        let mut table = WatchManager::default();
        table.add_watch("/x", A, WatcherMode::Standard);
        assert_eq!(table.trigger("/x"), BTreeSet::from([A]));
        assert_eq!(table.trigger("/x"), BTreeSet::new());
        assert_eq!(table.size(), 0);
        assert_eq!(
            table,
            WatchManager::default(),
            "no empty entries are left behind"
        );
    }

    #[test]
    fn registering_twice_is_registering_once() {
        // client-protocol.md §10: a connection that set the same watch twice gets one event.
        let mut table = WatchManager::default();
        assert!(table.add_watch("/x", A, WatcherMode::Standard));
        assert!(!table.add_watch("/x", A, WatcherMode::Standard));
        assert_eq!(table.size(), 1);
        assert_eq!(table.trigger("/x"), BTreeSet::from([A]));
        assert_eq!(table.trigger("/x"), BTreeSet::new());
    }

    #[test]
    fn a_persistent_watch_stays_after_firing() {
        // WatcherMode.PERSISTENT: triggerWatch only removes STANDARD.
        let mut table = WatchManager::default();
        table.add_watch("/x", A, WatcherMode::Persistent);
        assert_eq!(table.trigger("/x"), BTreeSet::from([A]));
        assert_eq!(table.trigger("/x"), BTreeSet::from([A]));
    }

    #[test]
    fn a_standard_and_a_persistent_watch_on_one_path_fire_one_event_and_keep_the_persistent() {
        // 3.9 WatchStats (ZOOKEEPER-4466): both modes are held; firing spends only STANDARD.
        let mut table = WatchManager::default();
        table.add_watch("/x", A, WatcherMode::Persistent);
        table.add_watch("/x", A, WatcherMode::Standard);
        assert_eq!(table.trigger("/x"), BTreeSet::from([A]));
        assert_eq!(
            table.modes("/x", A).iter().collect::<Vec<_>>(),
            vec![WatcherMode::Persistent]
        );
    }

    #[test]
    fn only_a_recursive_watch_hears_a_descendant() {
        // PathParentIterator + triggerWatch: at a parent path only PERSISTENT_RECURSIVE counts.
        let mut table = WatchManager::default();
        table.add_watch("/a", A, WatcherMode::PersistentRecursive);
        table.add_watch("/a", B, WatcherMode::Standard);
        assert_eq!(table.trigger("/a/b/c"), BTreeSet::from([A]));
        assert!(table.contains_watcher("/a", B, Some(WatcherMode::Standard)));
    }

    #[test]
    fn the_root_recursive_watch_hears_everything() {
        // PathParentIterator ends at "/".
        let mut table = WatchManager::default();
        table.add_watch("/", A, WatcherMode::PersistentRecursive);
        assert_eq!(table.trigger("/zookeeper/config"), BTreeSet::from([A]));
    }

    #[test]
    fn closing_a_session_forgets_all_its_watches() {
        // DataTree.removeCnxn -> WatchManager.removeWatcher(watcher).
        let mut table = WatchManager::default();
        table.add_watch("/x", A, WatcherMode::Standard);
        table.add_watch("/y", A, WatcherMode::PersistentRecursive);
        table.add_watch("/x", B, WatcherMode::Standard);
        table.remove_watcher(A);
        assert_eq!(table.watches_of(A).count(), 0);
        assert_eq!(table.watchers_of("/x").collect::<Vec<_>>(), vec![B]);
        assert_eq!(table.trigger("/y/z"), BTreeSet::new());
        assert_eq!(table.recursive_qty, 0);
    }

    #[test]
    fn removing_one_mode_keeps_the_others() {
        // WatchManager.removeWatcher(path, watcher, mode) removes just that mode.
        let mut table = WatchManager::default();
        table.add_watch("/x", A, WatcherMode::Standard);
        table.add_watch("/x", A, WatcherMode::PersistentRecursive);
        assert!(table.remove_watch("/x", A, Some(WatcherMode::PersistentRecursive)));
        assert!(!table.remove_watch("/x", A, Some(WatcherMode::PersistentRecursive)));
        assert_eq!(table.recursive_qty, 0);
        assert!(table.contains_watcher("/x", A, None));
        assert!(table.remove_watch("/x", A, None));
        assert!(!table.contains_watcher("/x", A, None));
        assert_eq!(table, WatchManager::default());
    }
}
