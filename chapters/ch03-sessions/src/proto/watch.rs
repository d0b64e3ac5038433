//! Watches on the wire: the notification frame and the small integer codes
//! that travel with watches.
//!
//! A notification's body (`WatcherEvent` in `zookeeper.jute`: `int type;
//! int state; ustring path`) is chapter 1's [`WatchedEvent`], given its wire
//! order here as chapter 1's `Stat` is in [`super::records`]. Its
//! [`EventType`] and [`KeeperState`] are integers only inside this codec: a
//! code ZooKeeper does not define is a decode error, as it is for the Java
//! client (`WatchedEvent(WatcherEvent)` calls `fromInt`, which throws, and
//! `ClientCnxn` drops the connection). Chapter 2's [`WatcherType`] (the
//! watches checkWatches/removeWatches name) and [`AddWatchMode`] (addWatch's
//! mode) travel the same way: a request with an undefined one is a body the
//! server cannot read, answered MarshallingError, which is what ZooKeeper 3.8
//! answers (its `FinalRequestProcessor` calls `WatcherType.fromInt` /
//! `WatcherMode.fromZooDef`, and any exception there is MarshallingError).

pub use ch01_znode::{EventType, KeeperState, WatchedEvent};
pub use ch02_watches::{AddWatchMode, WatcherType};

use crate::impl_jute_record;
use crate::jute::{DecodeError, Reader, Record, Writer};

/// The watcher types a 3.8 server reads (`WatcherType.fromInt`). Chapter 2
/// also knows 3.9's `Persistent` (4) and `PersistentRecursive` (5); to 3.8
/// they are undefined, and it answers MarshallingError, so this codec reads
/// them as undefined too.
pub const WATCHER_TYPES_3_8: [WatcherType; 3] =
    [WatcherType::Children, WatcherType::Data, WatcherType::Any];

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
code_record!(WatcherType, WATCHER_TYPES_3_8);
code_record!(AddWatchMode, AddWatchMode::ALL);

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
