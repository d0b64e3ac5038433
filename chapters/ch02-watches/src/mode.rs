//! The kinds of watch. A standard watch (from `getData`, `exists`, `getChildren` with
//! `watch=true`) is one-shot; `addWatch` (3.6+) adds the two persistent modes, which stay until
//! removed. `removeWatches` / `checkWatches` name what to remove with a [`WatcherType`]. The
//! `addWatch` modes and the watcher types are chapter 1's (its shell names them); this module
//! adds what a server does with them.
//!
//! Upstream: `server.watch.WatcherMode`, `ZooDefs.AddWatchModes`, `Watcher.WatcherType`, and
//! 3.9's `WatchStats` (the set of modes one watcher holds on one path).

use serde::Serialize;

/// How a registered watch behaves when it fires (upstream `WatcherMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum WatcherMode {
    /// Fires once, for the exact path, then is gone.
    Standard,
    /// Fires for the exact path every time, until removed.
    Persistent,
    /// Fires for the path and every node below it, until removed; never for
    /// `NodeChildrenChanged`.
    PersistentRecursive,
}

impl WatcherMode {
    pub fn is_persistent(self) -> bool {
        !matches!(self, WatcherMode::Standard)
    }

    pub fn is_recursive(self) -> bool {
        matches!(self, WatcherMode::PersistentRecursive)
    }

    fn bit(self) -> u8 {
        match self {
            WatcherMode::Standard => 1,
            WatcherMode::Persistent => 2,
            WatcherMode::PersistentRecursive => 4,
        }
    }
}

pub use ch01_znode::watch::{AddWatchMode, WatcherType};

impl From<AddWatchMode> for WatcherMode {
    /// The registry mode an `addWatch` mode asks for.
    fn from(mode: AddWatchMode) -> WatcherMode {
        match mode {
            AddWatchMode::Persistent => WatcherMode::Persistent,
            AddWatchMode::PersistentRecursive => WatcherMode::PersistentRecursive,
        }
    }
}

/// The modes one watcher holds on one path in one table (upstream 3.9 `WatchStats`). A set, so
/// registering the same mode twice changes nothing: that is the dedup rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Modes(u8);

impl Modes {
    pub fn with(self, mode: WatcherMode) -> Modes {
        Modes(self.0 | mode.bit())
    }

    pub fn without(self, mode: WatcherMode) -> Modes {
        Modes(self.0 & !mode.bit())
    }

    pub fn has(self, mode: WatcherMode) -> bool {
        self.0 & mode.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The modes held, in the order `Standard`, `Persistent`, `PersistentRecursive`.
    pub fn iter(self) -> impl Iterator<Item = WatcherMode> {
        [
            WatcherMode::Standard,
            WatcherMode::Persistent,
            WatcherMode::PersistentRecursive,
        ]
        .into_iter()
        .filter(move |m| self.has(*m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_a_set() {
        // WatchStats.addMode returns the same stats when the mode is already held.
        let once = Modes::default().with(WatcherMode::Standard);
        assert_eq!(once.with(WatcherMode::Standard), once);
        let both = once.with(WatcherMode::Persistent);
        assert_eq!(
            both.iter().collect::<Vec<_>>(),
            vec![WatcherMode::Standard, WatcherMode::Persistent]
        );
        assert!(both
            .without(WatcherMode::Standard)
            .has(WatcherMode::Persistent));
        assert!(Modes::default().is_empty());
    }
}
