//! Between the wire's records and the tree's types.
//!
//! The codec ([`crate::proto`]) carries chapter 1's own `Stat`, `Acl`, `Zxid` and `SessionId`,
//! so most records need no conversion at all; what is left is the watch registry's event
//! (chapter 2) as the notification record.

use ch02_watches::WatchedEvent;

use crate::proto;

/// A fired watch as the notification record (state is always SyncConnected for node events).
pub fn event_to_wire(event: &WatchedEvent) -> proto::WatcherEvent {
    proto::WatcherEvent {
        r#type: event.event_type.code(),
        state: event.state.code(),
        path: event.path.clone().unwrap_or_default(),
    }
}
