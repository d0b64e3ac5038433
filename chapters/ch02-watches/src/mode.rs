//! The kinds of watch. A standard watch (from `getData`, `exists`, `getChildren` with
//! `watch=true`) is one-shot; `addWatch` (3.6+) adds the two persistent modes, which stay until
//! removed. `removeWatches` / `checkWatches` name what to remove with a [`WatcherType`].
//!
//! Upstream: `server.watch.WatcherMode`, `ZooDefs.AddWatchModes`, `Watcher.WatcherType`, and
//! 3.9's `WatchStats` (the set of modes one watcher holds on one path).

use std::fmt;

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

/// The `mode` argument of `addWatch` (upstream `AddWatchMode`; the number is its wire value).
/// zkCli's `addWatch` defaults to `PERSISTENT_RECURSIVE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AddWatchMode {
    Persistent,
    PersistentRecursive,
}

impl AddWatchMode {
    /// Both modes (`ZooDefs.AddWatchModes`).
    pub const ALL: [AddWatchMode; 2] =
        [AddWatchMode::Persistent, AddWatchMode::PersistentRecursive];

    /// The value on the wire (`AddWatchRequest.mode`).
    pub fn code(self) -> i32 {
        match self {
            AddWatchMode::Persistent => 0,
            AddWatchMode::PersistentRecursive => 1,
        }
    }

    /// The name zkCli accepts after `-m` (case-insensitive) and prints in its usage.
    pub fn name(self) -> &'static str {
        match self {
            AddWatchMode::Persistent => "PERSISTENT",
            AddWatchMode::PersistentRecursive => "PERSISTENT_RECURSIVE",
        }
    }

    /// Parses zkCli's `-m` value the way `AddWatchMode.valueOf(s.toUpperCase())` does.
    pub fn parse(s: &str) -> Option<Self> {
        AddWatchMode::ALL
            .into_iter()
            .find(|m| m.name() == s.to_uppercase())
    }

    pub fn watcher_mode(self) -> WatcherMode {
        match self {
            AddWatchMode::Persistent => WatcherMode::Persistent,
            AddWatchMode::PersistentRecursive => WatcherMode::PersistentRecursive,
        }
    }
}

impl fmt::Display for AddWatchMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which watches `removeWatches` / `checkWatches` address (upstream `Watcher.WatcherType`;
/// the number is its wire value; `Persistent` and `PersistentRecursive` are 3.9's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum WatcherType {
    /// The one-shot child watch left by `getChildren`.
    Children,
    /// The one-shot data watch left by `getData` or `exists`.
    Data,
    /// Every watch this session holds on the path, persistent ones included.
    Any,
    Persistent,
    PersistentRecursive,
}

impl WatcherType {
    /// The value on the wire (`RemoveWatchesRequest.type`).
    pub fn code(self) -> i32 {
        match self {
            WatcherType::Children => 1,
            WatcherType::Data => 2,
            WatcherType::Any => 3,
            WatcherType::Persistent => 4,
            WatcherType::PersistentRecursive => 5,
        }
    }
}

impl fmt::Display for WatcherType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// The modes one watcher holds on one path in one table (upstream 3.9 `WatchStats`). A set, so
/// registering the same mode twice changes nothing: that is the dedup rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
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
    fn add_watch_modes_parse_like_zkcli() {
        // AddWatchCommand: `AddWatchMode.valueOf(value.toUpperCase())`.
        assert_eq!(
            AddWatchMode::parse("persistent"),
            Some(AddWatchMode::Persistent)
        );
        assert_eq!(
            AddWatchMode::parse("PERSISTENT_RECURSIVE"),
            Some(AddWatchMode::PersistentRecursive)
        );
        assert_eq!(AddWatchMode::parse("foo"), None);
    }

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

    #[test]
    fn wire_values_match_zookeeper() {
        // client-protocol.md §10 WatcherType table; ZooDefs.AddWatchModes.
        assert_eq!(WatcherType::Children.code(), 1);
        assert_eq!(WatcherType::Data.code(), 2);
        assert_eq!(WatcherType::Any.code(), 3);
        assert_eq!(AddWatchMode::Persistent.code(), 0);
        assert_eq!(AddWatchMode::PersistentRecursive.code(), 1);
    }
}
