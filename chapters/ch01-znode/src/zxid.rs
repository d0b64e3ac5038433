//! Zxids and session ids: the two 64-bit numbers every change is stamped with.
//!
//! A **zxid** ("ZooKeeper transaction id") names one committed change. Its high 32 bits are
//! the *epoch* (which leader proposed it) and its low 32 bits a *counter* the leader bumps for
//! every proposal, so comparing zxids as plain integers orders every change ever made. A
//! standalone server stays in epoch 0: its zxids read `0x1`, `0x2`, … In an ensemble the
//! first leader's first change is `0x100000001`.
//!
//! A **session id** names the client session that made a change. ZooKeeper puts the id of the
//! server that created the session in the top byte, so ids never collide across servers.
//!
//! Both print the way ZooKeeper prints them: `0x` and lowercase hex with no leading zeros
//! (Java's `Long.toHexString`, which shows negative numbers as 16 hex digits).

use serde::{Deserialize, Serialize};
use std::fmt;

// ANCHOR: zxid
/// A ZooKeeper transaction id: `epoch << 32 | counter`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Zxid(pub i64);

impl Zxid {
    /// The zxid of the built-in nodes (`/`, `/zookeeper`, …): they predate every txn.
    pub const ZERO: Zxid = Zxid(0);

    /// Builds a zxid from a leader epoch and a counter within that epoch.
    pub fn new(epoch: u32, counter: u32) -> Zxid {
        Zxid(((epoch as i64) << 32) | counter as i64)
    }

    /// The leader epoch that proposed this change (the high 32 bits).
    pub fn epoch(self) -> u32 {
        ((self.0 as u64) >> 32) as u32
    }

    /// The position of this change within its epoch (the low 32 bits).
    pub fn counter(self) -> u32 {
        self.0 as u32
    }

    /// The next zxid in the same epoch.
    pub fn next(self) -> Zxid {
        Zxid::new(self.epoch(), self.counter().wrapping_add(1))
    }
}
// ANCHOR_END: zxid

impl fmt::Display for Zxid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `{:x}` on an i64 prints two's complement, exactly like Long.toHexString.
        write!(f, "0x{:x}", self.0)
    }
}

/// The id of a client session (`ephemeralOwner` of the nodes it owns).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct SessionId(pub i64);

impl SessionId {
    /// "No session": the ephemeralOwner of every non-ephemeral node.
    pub const NONE: SessionId = SessionId(0);

    /// The `n`-th session created by server `server_id` (top byte = server id), the shape of
    /// ids `SessionTrackerImpl` hands out, minus its clock bits so that runs are repeatable.
    pub fn new(server_id: u8, n: u64) -> SessionId {
        SessionId((((server_id as u64) << 56) | (n & 0x00ff_ffff_ffff_ffff)) as i64)
    }

    /// The server that created this session (the top byte).
    pub fn server_id(self) -> u8 {
        ((self.0 as u64) >> 56) as u8
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zxid_splits_into_epoch_and_counter() {
        let z = Zxid::new(1, 2);
        assert_eq!(z.0, 0x1_0000_0002);
        assert_eq!((z.epoch(), z.counter()), (1, 2));
        assert_eq!(z.next(), Zxid::new(1, 3));
    }

    #[test]
    fn zxids_print_as_java_long_to_hex_string() {
        assert_eq!(Zxid(0).to_string(), "0x0");
        assert_eq!(Zxid(0x1_0000_0002).to_string(), "0x100000002");
        assert_eq!(Zxid(-1).to_string(), "0xffffffffffffffff");
    }

    #[test]
    fn a_session_id_carries_its_server_in_the_top_byte() {
        let s = SessionId::new(1, 5);
        assert_eq!(s.to_string(), "0x100000000000005");
        assert_eq!(s.server_id(), 1);
    }
}
