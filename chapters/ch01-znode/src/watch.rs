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
//!
//! What a watcher is finally told is a [`WatchedEvent`]: the connection's [`KeeperState`], the
//! [`EventType`] and the path. It lives here, with the event types, because this chapter's
//! shell already prints it the way zkCli's default watcher does (`WATCHER::`); chapter 2
//! delivers it and chapter 3 puts it on the wire.

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
    /// Every event type ZooKeeper defines: a value read from the wire must be one of these.
    pub const ALL: [EventType; 8] = [
        EventType::None,
        EventType::NodeCreated,
        EventType::NodeDeleted,
        EventType::NodeDataChanged,
        EventType::NodeChildrenChanged,
        EventType::DataWatchRemoved,
        EventType::ChildWatchRemoved,
        EventType::PersistentWatchRemoved,
    ];

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
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// The state of the connection when the event was raised (upstream
/// `Watcher.Event.KeeperState`). Node events from the server always carry `SyncConnected`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Hash)]
pub enum KeeperState {
    /// Deprecated upstream and never sent by a 3.x server; a client still reads it.
    Unknown,
    Disconnected,
    /// Deprecated upstream and never sent by a 3.x server; a client still reads it.
    NoSyncConnected,
    SyncConnected,
    AuthFailed,
    ConnectedReadOnly,
    SaslAuthenticated,
    Expired,
    /// 3.6+: the client closed its own session.
    Closed,
}

impl KeeperState {
    /// Every state ZooKeeper defines (`KeeperState.fromInt` reads exactly these).
    pub const ALL: [KeeperState; 9] = [
        KeeperState::Unknown,
        KeeperState::Disconnected,
        KeeperState::NoSyncConnected,
        KeeperState::SyncConnected,
        KeeperState::AuthFailed,
        KeeperState::ConnectedReadOnly,
        KeeperState::SaslAuthenticated,
        KeeperState::Expired,
        KeeperState::Closed,
    ];

    /// The value on the wire (`WatcherEvent.state`).
    pub fn code(self) -> i32 {
        match self {
            KeeperState::Unknown => -1,
            KeeperState::Disconnected => 0,
            KeeperState::NoSyncConnected => 1,
            KeeperState::SyncConnected => 3,
            KeeperState::AuthFailed => 4,
            KeeperState::ConnectedReadOnly => 5,
            KeeperState::SaslAuthenticated => 6,
            KeeperState::Expired => -112,
            KeeperState::Closed => 7,
        }
    }
}

impl fmt::Display for KeeperState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

// ANCHOR: watched_event
/// One notification (upstream `WatchedEvent`): three words, the connection state, what
/// happened, and where. It never says what the new data is: the client must read again to
/// find out, and by then the node may have changed more than once. `path` is `None` only for
/// connection-state events, which zkCli prints as `path:null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Hash)]
pub struct WatchedEvent {
    pub state: KeeperState,
    pub event_type: EventType,
    pub path: Option<String>,
}
// ANCHOR_END: watched_event

impl WatchedEvent {
    /// A node event, as the server raises it: always `SyncConnected`.
    pub fn node(event_type: EventType, path: &str) -> Self {
        WatchedEvent {
            state: KeeperState::SyncConnected,
            event_type,
            path: Some(path.to_string()),
        }
    }

    /// A connection-state event (`type:None path:null`).
    pub fn state(state: KeeperState) -> Self {
        WatchedEvent {
            state,
            event_type: EventType::None,
            path: None,
        }
    }
}

/// `WatchedEvent state:SyncConnected type:NodeDataChanged path:/a`, exactly as zkCli's default
/// watcher prints it after `WATCHER::` (`WatchedEvent.toString()` of 3.5-3.8).
impl fmt::Display for WatchedEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.as_deref().unwrap_or("null");
        write!(
            f,
            "WatchedEvent state:{} type:{} path:{}",
            self.state, self.event_type, path
        )
    }
}

/// The `mode` argument of `addWatch` (3.6+, upstream `AddWatchMode`; the number is its wire
/// value). zkCli's `addWatch` defaults to `PERSISTENT_RECURSIVE`. Chapter 2 gives the modes
/// their meaning; they are named here so chapter 1's shell can speak of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
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
}

impl fmt::Display for AddWatchMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which watches `removeWatches` / `checkWatches` address (upstream `Watcher.WatcherType`;
/// the number is its wire value; `Persistent` and `PersistentRecursive` are 3.9's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
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
    /// Every type chapter 2 models: 3.8's three, and 3.9's two persistent ones.
    pub const ALL: [WatcherType; 5] = [
        WatcherType::Children,
        WatcherType::Data,
        WatcherType::Any,
        WatcherType::Persistent,
        WatcherType::PersistentRecursive,
    ];

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
    fn every_event_type_and_keeper_state_has_a_wire_value_of_its_own() {
        // Chapter 3's codec reads a value back by its code, so no two may share one; the
        // event types are upstream's -1 and 1..=7.
        let events: Vec<i32> = EventType::ALL.iter().map(|e| e.code()).collect();
        assert_eq!(events, [-1, 1, 2, 3, 4, 5, 6, 7]);
        let mut states: Vec<i32> = KeeperState::ALL.iter().map(|s| s.code()).collect();
        states.sort_unstable();
        states.dedup();
        assert_eq!(states.len(), KeeperState::ALL.len());
    }

    #[test]
    fn a_node_event_prints_as_zkcli_prints_it() {
        // zkcli-formats.md §2: `WatchedEvent state:<KeeperState> type:<EventType> path:<path>`.
        let event = WatchedEvent::node(EventType::NodeDataChanged, "/sanguo");
        assert_eq!(
            event.to_string(),
            "WatchedEvent state:SyncConnected type:NodeDataChanged path:/sanguo"
        );
    }

    #[test]
    fn a_state_event_prints_path_null() {
        // zkcli-formats.md §2: on connect zkCli prints `type:None path:null`.
        let event = WatchedEvent::state(KeeperState::Closed);
        assert_eq!(
            event.to_string(),
            "WatchedEvent state:Closed type:None path:null"
        );
    }

    #[test]
    fn keeper_states_carry_their_wire_values() {
        // client-protocol.md §10, KeeperState table.
        assert_eq!(KeeperState::Disconnected.code(), 0);
        assert_eq!(KeeperState::SyncConnected.code(), 3);
        assert_eq!(KeeperState::Expired.code(), -112);
        assert_eq!(KeeperState::Closed.code(), 7);
    }
}
