//! What a watcher is told: a [`WatchedEvent`] is three words — the connection state, what
//! happened, and the path it happened to. It never says what the new data is: the client must
//! read again to find out, and by then the node may have changed more than once.
//!
//! The names and numbers are ZooKeeper's `Watcher.Event.EventType` (chapter 1's [`EventType`],
//! which its tree already reports) and `Watcher.Event.KeeperState`; `Display` prints the event exactly as zkCli's default watcher
//! does (`WatchedEvent.toString()` of 3.5-3.8).

use std::fmt;

use serde::Serialize;

pub use ch01_znode::EventType;

use crate::SessionId;

/// The state of the connection when the event was raised (upstream `KeeperState`). Node events
/// from the server always carry `SyncConnected`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum KeeperState {
    Disconnected,
    SyncConnected,
    AuthFailed,
    ConnectedReadOnly,
    SaslAuthenticated,
    Expired,
    /// 3.6+: the client closed its own session.
    Closed,
}

impl KeeperState {
    /// The value on the wire (`WatcherEvent.state`).
    pub fn code(self) -> i32 {
        match self {
            KeeperState::Disconnected => 0,
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
/// One notification (upstream `WatchedEvent`). `path` is `None` only for connection-state
/// events, which zkCli prints as `path:null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

/// An event on its way to one watcher: what the server writes to that session's connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    pub watcher: SessionId,
    pub event: WatchedEvent,
}

#[cfg(test)]
mod tests {
    use super::*;

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
