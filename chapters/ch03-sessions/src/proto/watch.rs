//! Watches on the wire: the notification frame and the small integer codes
//! that travel with watches.
//!
//! A notification's body (`WatcherEvent` in `zookeeper.jute`: `int type;
//! int state; ustring path`) is chapter 1's [`WatchedEvent`], given its wire
//! order here as chapter 1's `Stat` is in [`super::records`]. Its
//! [`EventType`] and [`KeeperState`] are integers only inside this codec: a
//! code ZooKeeper does not define is a decode error, as it is for the Java
//! client (`WatchedEvent(WatcherEvent)` calls `fromInt`, which throws, and
//! `ClientCnxn` drops the connection). [`WatcherType`] names the watches of
//! checkWatches/removeWatches, [`AddWatchMode`] the mode of addWatch.

use std::fmt;

pub use ch01_znode::{EventType, KeeperState, WatchedEvent};

use crate::impl_jute_record;
use crate::jute::{DecodeError, Reader, Record, Writer};

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
    /// `Watcher.WatcherType`, for checkWatches and removeWatches.
    WatcherType { Children = 1, Data = 2, Any = 3 }
}

code_enum! {
    /// `AddWatchMode`, for addWatch (3.6+).
    AddWatchMode { Persistent = 0, PersistentRecursive = 1 }
}

/// Gives an enum with ZooKeeper's integer values (its `code()`) a jute `int`
/// form. Reading accepts exactly the values in `$known`; any other int is
/// [`DecodeError::InvalidValue`], where upstream's `fromInt` throws.
macro_rules! code_record {
    ($name:ty, $known:expr) => {
        impl Record for $name {
            fn encode(&self, w: &mut Writer) {
                w.write_int(self.code())
            }
            fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                let code = r.read_int("")?;
                $known.into_iter().find(|known| known.code() == code).ok_or(
                    DecodeError::InvalidValue {
                        what: "",
                        value: code.into(),
                    },
                )
            }
        }

        #[cfg(test)]
        impl crate::jute::arb::Arb for $name {
            fn arb() -> proptest::strategy::BoxedStrategy<Self> {
                use proptest::strategy::Strategy;
                proptest::sample::select($known.to_vec()).boxed()
            }
        }
    };
}

code_record!(EventType, EventType::ALL);
code_record!(KeeperState, KeeperState::ALL);

// ANCHOR: watcher_event
// `WatcherEvent`: the body of a notification (reply xid -1). The path is a
// jute `ustring`, so a null one reads as `None`, as in Java (`path:null`).
impl_jute_record!(WatchedEvent {
    event_type: EventType,
    state: KeeperState,
    path: Option<String>,
});
// ANCHOR_END: watcher_event

/// The xid of a watch notification frame.
pub const NOTIFICATION_XID: i32 = -1;
