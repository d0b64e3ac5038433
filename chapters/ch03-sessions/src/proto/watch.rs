//! The small integer codes that travel with watches: [`EventType`] and
//! [`KeeperState`] inside a [`WatcherEvent`], [`WatcherType`] in
//! checkWatches/removeWatches, [`AddWatchMode`] in addWatch.
//!
//! They stay `i32` inside the records (an unknown value is still a valid
//! record), and these enums name the values ZooKeeper defines
//! (`Watcher.Event.EventType`, `Watcher.Event.KeeperState`,
//! `Watcher.WatcherType`, `AddWatchMode`).

use std::fmt;

use ch01_znode::Zxid;

use super::records::{ReplyHeader, WatcherEvent};

macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $code:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($variant = $code),* }

        impl $name {
            /// The value for a wire code, if ZooKeeper defines one.
            pub fn from_code(code: i32) -> Option<$name> {
                match code { $($code => Some($name::$variant),)* _ => None }
            }
            /// The wire code.
            pub fn code(self) -> i32 { self as i32 }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self { $($name::$variant => f.write_str(stringify!($variant)),)* }
            }
        }
    };
}

code_enum! {
    /// `Watcher.Event.EventType`.
    EventType {
        None = -1,
        NodeCreated = 1,
        NodeDeleted = 2,
        NodeDataChanged = 3,
        NodeChildrenChanged = 4,
        DataWatchRemoved = 5,
        ChildWatchRemoved = 6,
        PersistentWatchRemoved = 7,
    }
}

code_enum! {
    /// `Watcher.Event.KeeperState`.
    KeeperState {
        Unknown = -1,
        Disconnected = 0,
        NoSyncConnected = 1,
        SyncConnected = 3,
        AuthFailed = 4,
        ConnectedReadOnly = 5,
        SaslAuthenticated = 6,
        Expired = -112,
        Closed = 7,
    }
}

code_enum! {
    /// `Watcher.WatcherType`, for checkWatches and removeWatches.
    WatcherType { Children = 1, Data = 2, Any = 3 }
}

code_enum! {
    /// `AddWatchMode`, for addWatch (3.6+).
    AddWatchMode { Persistent = 0, PersistentRecursive = 1 }
}

/// The xid of a watch notification frame.
pub const NOTIFICATION_XID: i32 = -1;

impl WatcherEvent {
    /// A node event as the server sends it: state is always SyncConnected.
    pub fn node_event(event: EventType, path: impl Into<String>) -> WatcherEvent {
        WatcherEvent {
            r#type: event.code(),
            state: KeeperState::SyncConnected.code(),
            path: path.into(),
        }
    }

    /// The header a notification travels under: xid -1, zxid -1, err 0
    /// (3.5–3.8 always send zxid -1 here).
    pub fn reply_header() -> ReplyHeader {
        ReplyHeader {
            xid: NOTIFICATION_XID,
            zxid: Zxid(-1),
            err: 0,
        }
    }
}

/// What a client hands its watcher (`WatchedEvent`): a node event from the
/// server, or a connection-state change the client raises itself, which has
/// no path (zkCli prints `path:null`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchedEvent {
    /// An [`EventType`] code.
    pub event_type: i32,
    /// A [`KeeperState`] code.
    pub state: i32,
    pub path: Option<String>,
}

impl WatchedEvent {
    /// A connection-state change: type None, no path.
    pub fn state_change(state: KeeperState) -> WatchedEvent {
        WatchedEvent {
            event_type: EventType::None.code(),
            state: state.code(),
            path: None,
        }
    }
}

impl From<WatcherEvent> for WatchedEvent {
    fn from(e: WatcherEvent) -> Self {
        WatchedEvent {
            event_type: e.r#type,
            state: e.state,
            path: Some(e.path),
        }
    }
}

/// `WatchedEvent state:SyncConnected type:NodeDataChanged path:/a`, the
/// text zkCli prints after `WATCHER::` (`WatchedEvent.toString`).
impl fmt::Display for WatchedEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = KeeperState::from_code(self.state)
            .map_or_else(|| self.state.to_string(), |s| s.to_string());
        let kind = EventType::from_code(self.event_type)
            .map_or_else(|| self.event_type.to_string(), |t| t.to_string());
        let path = self.path.as_deref().unwrap_or("null");
        write!(f, "WatchedEvent state:{state} type:{kind} path:{path}")
    }
}

impl fmt::Display for WatcherEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        WatchedEvent::from(self.clone()).fmt(f)
    }
}
