//! Watch triggers: what a change tells the watchers.
//!
//! Applying a txn reports, for every node it touched, *which event* a watcher on that path
//! should hear. The table is `DataTree`'s (client-protocol.md §10):
//!
//! | change to `/p/c` | `/p/c` hears | `/p` hears |
//! |---|---|---|
//! | create | NodeCreated | NodeChildrenChanged |
//! | delete | NodeDeleted | NodeChildrenChanged |
//! | setData | NodeDataChanged | — |
//! | setACL | — | — |
//!
//! This chapter only *reports* triggers; chapter 2 keeps the registry of who watches what and
//! delivers them (a NodeDeleted reaches both the data and the child watchers of the path).

use serde::{Deserialize, Serialize};
use std::fmt;

/// `Watcher.Event.EventType`, with ZooKeeper's wire values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    None,
    NodeCreated,
    NodeDeleted,
    NodeDataChanged,
    NodeChildrenChanged,
    DataWatchRemoved,
    ChildWatchRemoved,
    PersistentWatchRemoved,
}

impl EventType {
    /// The integer in a WatcherEvent on the wire.
    pub fn code(self) -> i32 {
        match self {
            EventType::None => -1,
            EventType::NodeCreated => 1,
            EventType::NodeDeleted => 2,
            EventType::NodeDataChanged => 3,
            EventType::NodeChildrenChanged => 4,
            EventType::DataWatchRemoved => 5,
            EventType::ChildWatchRemoved => 6,
            EventType::PersistentWatchRemoved => 7,
        }
    }

    /// The event type a wire value names, if ZooKeeper defines one (the inverse of
    /// [`EventType::code`], for a client reading a WatcherEvent).
    pub fn from_code(code: i32) -> Option<EventType> {
        [
            EventType::None,
            EventType::NodeCreated,
            EventType::NodeDeleted,
            EventType::NodeDataChanged,
            EventType::NodeChildrenChanged,
            EventType::DataWatchRemoved,
            EventType::ChildWatchRemoved,
            EventType::PersistentWatchRemoved,
        ]
        .into_iter()
        .find(|event| event.code() == code)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// The `mode` argument of `addWatch` (3.6+, upstream `AddWatchMode`; the number is its wire
/// value). zkCli's `addWatch` defaults to `PERSISTENT_RECURSIVE`. Chapter 2 gives the modes
/// their meaning; they are named here so chapter 1's shell can speak of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AddWatchMode {
    Persistent,
    PersistentRecursive,
}

impl AddWatchMode {
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
        [AddWatchMode::Persistent, AddWatchMode::PersistentRecursive]
            .into_iter()
            .find(|m| m.name() == s.to_uppercase())
    }
}

impl fmt::Display for AddWatchMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which watches `removeWatches` / `checkWatches` address (upstream `Watcher.WatcherType`;
/// the number is its wire value; `Persistent` and `PersistentRecursive` are 3.9's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

// ANCHOR: trigger
/// One watch trigger produced by applying a txn: `event` happened at `path`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WatchTrigger {
    pub path: String,
    pub event: EventType,
}
// ANCHOR_END: trigger

impl WatchTrigger {
    pub fn new(path: &str, event: EventType) -> WatchTrigger {
        WatchTrigger {
            path: path.to_string(),
            event,
        }
    }
}

impl fmt::Display for WatchTrigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.event, self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_carry_zookeepers_wire_values() {
        assert_eq!(EventType::NodeCreated.code(), 1);
        assert_eq!(EventType::NodeDeleted.code(), 2);
        assert_eq!(EventType::NodeDataChanged.code(), 3);
        assert_eq!(EventType::NodeChildrenChanged.code(), 4);
        assert_eq!(EventType::None.code(), -1);
    }

    #[test]
    fn a_wire_value_reads_back_as_its_event_type_and_an_unknown_one_as_none() {
        for code in -1..=7 {
            let event = EventType::from_code(code);
            assert_eq!(event.map(EventType::code), (code != 0).then_some(code));
        }
        assert_eq!(EventType::from_code(8), None);
        assert_eq!(EventType::from_code(-2), None);
    }

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
    fn watch_kinds_carry_zookeepers_wire_values() {
        // client-protocol.md §10 WatcherType table; ZooDefs.AddWatchModes.
        assert_eq!(WatcherType::Children.code(), 1);
        assert_eq!(WatcherType::Data.code(), 2);
        assert_eq!(WatcherType::Any.code(), 3);
        assert_eq!(AddWatchMode::Persistent.code(), 0);
        assert_eq!(AddWatchMode::PersistentRecursive.code(), 1);
    }
}
