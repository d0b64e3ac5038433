//! Zxids, epochs, server ids and session ids: the numbers every change is stamped with.
//!
//! A **zxid** ("ZooKeeper transaction id") names one committed change. Its high 32 bits are
//! the *epoch* (which leader proposed it) and its low 32 bits a *counter* the leader bumps for
//! every proposal, so comparing zxids as plain integers orders every change ever made. A
//! standalone server stays in epoch 0: its zxids read `0x1`, `0x2`, … In an ensemble the
//! first leader's first change is `0x100000001`.
//!
//! An **epoch** ([`Epoch`]) counts leaders: each new leader of an ensemble takes a larger one,
//! and it is the high half of every zxid that leader hands out. A standalone server lives in
//! epoch 0.
//!
//! A **server id** ([`Sid`]) is the number in a server's `myid` file and its `server.N=` line.
//!
//! A **session id** names the client session that made a change. ZooKeeper puts the id of the
//! server that created the session in the top byte, so ids never collide across servers.
//!
//! These four are the book's whole vocabulary of identities: every later chapter (watches,
//! sessions, the election, Zab, the log) uses these types and no copies of them.
//!
//! Both print the way ZooKeeper prints them: `0x` and lowercase hex with no leading zeros
//! (Java's `Long.toHexString`, which shows negative numbers as 16 hex digits).

use serde::{Deserialize, Serialize};
use std::fmt;

// ANCHOR: zxid
/// A ZooKeeper transaction id: `epoch << 32 | counter`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Zxid(pub i64);

impl Zxid {
    /// The zxid of the built-in nodes (`/`, `/zookeeper`, …): they predate every txn.
    pub const ZERO: Zxid = Zxid(0);

    /// Builds a zxid from a leader epoch and a counter within that epoch
    /// (`ZxidUtils.makeZxid`).
    pub fn new(epoch: Epoch, counter: u32) -> Zxid {
        Zxid((epoch.0 << 32) | counter as i64)
    }

    /// The leader epoch that proposed this change: the high 32 bits (`ZxidUtils.getEpochFromZxid`,
    /// an arithmetic shift, so the "no zxid" value -1 is in epoch -1).
    pub fn epoch(self) -> Epoch {
        Epoch(self.0 >> 32)
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

// ANCHOR: epoch
/// A leader epoch: the `acceptedEpoch` and `currentEpoch` files, the `peerEpoch` of a vote, and
/// the high half of a zxid. A 64-bit long upstream; only its low 32 bits fit in a zxid.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Epoch(pub i64);
// ANCHOR_END: epoch

impl Epoch {
    /// The epoch after this one: what a new leader proposes.
    pub fn next(self) -> Epoch {
        Epoch(self.0 + 1)
    }

    /// The zxid that opens this epoch, `epoch << 32` (counter 0: no txn has it).
    pub fn first_zxid(self) -> Zxid {
        Zxid::new(self, 0)
    }
}

impl fmt::Display for Epoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

// ANCHOR: sid
/// A server id: the number in `dataDir/myid` and in `server.N=` lines (a Java long upstream,
/// never negative in a valid configuration).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Sid(pub u64);
// ANCHOR_END: sid

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for Zxid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `{:x}` on an i64 prints two's complement, exactly like Long.toHexString.
        write!(f, "0x{:x}", self.0)
    }
}

/// The id of a client session (`ephemeralOwner` of the nodes it owns).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionId(pub i64);

impl SessionId {
    /// "No session": the ephemeralOwner of every non-ephemeral node.
    pub const NONE: SessionId = SessionId(0);

    /// The `n`-th session created by server `server`, the shape of ids `SessionTrackerImpl`
    /// hands out (server id in the top byte), minus its clock bits so that runs are repeatable.
    pub fn new(server: Sid, n: u64) -> SessionId {
        SessionId(((server.0 << 56) | (n & 0x00ff_ffff_ffff_ffff)) as i64)
    }

    /// The server that created this session (the top byte).
    pub fn server_id(self) -> Sid {
        Sid((self.0 as u64) >> 56)
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:x}", self.0)
    }
}

/// Zxids and session ids are 64-bit: JSON carries them as ZooKeeper prints them (`"0x1"`), a
/// string no JSON reader rounds. Reading accepts that string or a plain integer.
macro_rules! serde_as_hex {
    ($ty:ident) => {
        impl Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$ty, D::Error> {
                #[derive(Deserialize)]
                #[serde(untagged)]
                enum Form {
                    Number(i64),
                    Text(String),
                }
                match Form::deserialize(d)? {
                    Form::Number(n) => Ok($ty(n)),
                    Form::Text(t) => parse_hex(&t).map($ty).ok_or_else(|| {
                        serde::de::Error::custom(format!("not a 0x.. number: {t:?}"))
                    }),
                }
            }
        }
    };
}

serde_as_hex!(Zxid);
serde_as_hex!(SessionId);

/// `0x1f` (Java's `Long.toHexString`, so up to 16 digits, two's complement) or a decimal.
pub fn parse_hex(text: &str) -> Option<i64> {
    match text.strip_prefix("0x") {
        Some(hex) if !hex.is_empty() && hex.len() <= 16 => {
            u64::from_str_radix(hex, 16).ok().map(|n| n as i64)
        }
        Some(_) => None,
        None => text.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zxid_splits_into_epoch_and_counter() {
        let z = Zxid::new(Epoch(1), 2);
        assert_eq!(z.0, 0x1_0000_0002);
        assert_eq!((z.epoch(), z.counter()), (Epoch(1), 2));
        assert_eq!(z.next(), Zxid::new(Epoch(1), 3));
        assert_eq!(Epoch(1).next().first_zxid(), Zxid(0x2_0000_0000));
        assert_eq!(
            Zxid(-1).epoch(),
            Epoch(-1),
            "getEpochFromZxid shifts arithmetically"
        );
    }

    #[test]
    fn zxids_print_as_java_long_to_hex_string() {
        assert_eq!(Zxid(0).to_string(), "0x0");
        assert_eq!(Zxid(0x1_0000_0002).to_string(), "0x100000002");
        assert_eq!(Zxid(-1).to_string(), "0xffffffffffffffff");
    }

    #[test]
    fn zxids_and_session_ids_travel_in_json_as_hex_strings() {
        let z = Zxid(0x1_0000_0002);
        assert_eq!(serde_json::to_string(&z).unwrap(), r#""0x100000002""#);
        assert_eq!(serde_json::from_str::<Zxid>(r#""0x100000002""#).unwrap(), z);
        assert_eq!(serde_json::from_str::<Zxid>("4294967298").unwrap(), z);
        let minus_one: SessionId = serde_json::from_str(r#""0xffffffffffffffff""#).unwrap();
        assert_eq!(minus_one, SessionId(-1));
        assert!(serde_json::from_str::<Zxid>(r#""0x""#).is_err());
    }

    #[test]
    fn a_session_id_carries_its_server_in_the_top_byte() {
        let s = SessionId::new(Sid(1), 5);
        assert_eq!(s.to_string(), "0x100000000000005");
        assert_eq!(s.server_id(), Sid(1));
    }
}
