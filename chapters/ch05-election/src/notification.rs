//! The one message of the election: a notification, byte for byte as
//! ZooKeeper 3.5+ sends it on the election port.
//!
//! A notification says "I am in state `state`, in election round
//! `election_epoch`, and I vote for `leader`, whose last logged zxid is `zxid`
//! and whose epoch is `peer_epoch`". A server sends one to every voter each
//! time its vote changes, and answers stragglers with its current vote.
//!
//! ```text
//! offset  0  int   state          LOOKING=0 FOLLOWING=1 LEADING=2 OBSERVING=3
//!         4  long  leader         proposed leader's sid
//!        12  long  zxid           its last logged zxid
//!        20  long  electionEpoch  the sender's round (logical clock)
//!        28  long  peerEpoch      the proposed leader's currentEpoch
//!        36  int   version        2
//!        40  int   configLength   L
//!        44  L bytes config       the sender's membership as text (we send L=0)
//! ```
//!
//! Older servers sent shorter messages, which are still understood: 28 bytes
//! (no peerEpoch: it is taken from `zxid >> 32`) and 40 bytes (3.4.x: read
//! as version 0, even when 3.4.6+ wrote version 1 in the last 4 bytes, as
//! upstream does); a version below 2 has no config. Anything shorter than 28 bytes, cut short
//! inside a field, or with an impossible state or config length is
//! rejected: the caller drops it and traces why.
//!
//! Upstream: `FastLeaderElection.buildMsg` and `Messenger.WorkerReceiver.run`.

use crate::vote::{Round, ServerState, Vote};
use ch01_znode::{Epoch, Sid, Zxid};
use serde::Serialize;
use std::fmt;

/// The notification format we send (`Notification.CURRENTVERSION`).
pub const CURRENT_VERSION: i32 = 2;

// ANCHOR: notification
/// A vote as it travels between servers.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Notification {
    /// The sender's state.
    pub state: ServerState,
    /// The vote: proposed leader, its zxid and its epoch.
    pub vote: Vote,
    /// The sender's election round (ZooKeeper's `logicalclock`, sent as
    /// `electionEpoch`); a FOLLOWING/LEADING sender puts the round that
    /// elected its leader.
    pub election_epoch: Round,
    /// The message format version (2 since 3.5).
    pub version: i32,
    /// The sender's quorum configuration as text; empty from us.
    #[serde(skip)]
    pub config: Vec<u8>,
}
// ANCHOR_END: notification

/// Why a notification could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Fewer than 28 bytes: no generation of the protocol sends that.
    Short { len: usize },
    /// A field runs past the end of the message.
    Truncated { len: usize },
    /// The state number is not 0..=3.
    UnknownState(i32),
    /// `configLength` is negative or longer than the message.
    BadConfigLength(i32),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Short { len } => write!(f, "short notification ({len} bytes < 28)"),
            DecodeError::Truncated { len } => {
                write!(f, "partial / malformed notification ({len} bytes)")
            }
            DecodeError::UnknownState(s) => write!(f, "unknown server state {s}"),
            DecodeError::BadConfigLength(l) => write!(f, "invalid configLength {l}"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Reads big-endian fields off a byte slice, failing instead of panicking.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let end = self.pos + N;
        let bytes = self.buf.get(self.pos..end).ok_or(DecodeError::Truncated {
            len: self.buf.len(),
        })?;
        self.pos = end;
        Ok(bytes.try_into().expect("slice has N bytes"))
    }
    fn int(&mut self) -> Result<i32, DecodeError> {
        self.take().map(i32::from_be_bytes)
    }
    fn long(&mut self) -> Result<i64, DecodeError> {
        self.take().map(i64::from_be_bytes)
    }
}

impl Notification {
    /// A version-2 notification with an empty config.
    pub fn new(state: ServerState, vote: Vote, election_epoch: Round) -> Self {
        Notification {
            state,
            vote,
            election_epoch,
            version: CURRENT_VERSION,
            config: Vec::new(),
        }
    }

    // ANCHOR: encode
    /// The 44 + L bytes ZooKeeper's `buildMsg` writes: every id and epoch
    /// becomes the Java `long` it is upstream here, and only here.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(44 + self.config.len());
        out.extend((self.state as i32).to_be_bytes());
        out.extend((self.vote.leader.0 as i64).to_be_bytes());
        out.extend(self.vote.zxid.0.to_be_bytes());
        out.extend(self.election_epoch.0.to_be_bytes());
        out.extend(self.vote.peer_epoch.0.to_be_bytes());
        out.extend(CURRENT_VERSION.to_be_bytes());
        out.extend((self.config.len() as i32).to_be_bytes());
        out.extend(&self.config);
        out
    }
    // ANCHOR_END: encode

    /// Reads any generation of the notification, as `WorkerReceiver` does.
    pub fn decode(buf: &[u8]) -> Result<Notification, DecodeError> {
        let len = buf.len();
        if len < 28 {
            return Err(DecodeError::Short { len });
        }
        let mut r = Reader { buf, pos: 0 };
        let state = r.int()?;
        let leader = Sid(r.long()? as u64);
        let zxid = Zxid(r.long()?);
        let election_epoch = Round(r.long()?);
        let (peer_epoch, version) = match len {
            // Before ZOOKEEPER-107 there was no peerEpoch.
            28 => (zxid.epoch(), 0),
            // 3.4.0 - 3.4.5: peerEpoch but no version.
            40 => (Epoch(r.long()?), 0),
            _ => (Epoch(r.long()?), r.int()?),
        };
        let mut config = Vec::new();
        if version > 1 {
            let config_len = r.int()?;
            if config_len < 0 || config_len as usize > len {
                return Err(DecodeError::BadConfigLength(config_len));
            }
            let end = r.pos + config_len as usize;
            config = buf
                .get(r.pos..end)
                .ok_or(DecodeError::Truncated { len })?
                .to_vec();
        }
        let state = ServerState::from_wire(state).ok_or(DecodeError::UnknownState(state))?;
        Ok(Notification {
            state,
            vote: Vote {
                leader,
                zxid,
                peer_epoch,
            },
            election_epoch,
            version,
            config,
        })
    }
}

impl fmt::Display for Notification {
    /// `LOOKING, round 1: vote n3 (epoch 0, zxid 0x0)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.state {
            ServerState::Looking => "vote",
            _ => "leader",
        };
        write!(
            f,
            "{}, round {}: {what} {}",
            self.state, self.election_epoch, self.vote
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Notification {
        Notification::new(
            ServerState::Following,
            Vote {
                leader: Sid(3),
                zxid: Zxid(0x1_0000_0002),
                peer_epoch: Epoch(1),
            },
            Round(7),
        )
    }

    /// The v2 layout: state, leader, zxid, electionEpoch, peerEpoch, version,
    /// configLength, config. (FastLeaderElection.buildMsg)
    #[test]
    fn encodes_zookeeper_v2_layout() {
        let bytes = sample().encode();
        let expected: Vec<u8> = [
            &1i32.to_be_bytes()[..],
            &3i64.to_be_bytes(),
            &0x1_0000_0002i64.to_be_bytes(),
            &7i64.to_be_bytes(),
            &1i64.to_be_bytes(),
            &2i32.to_be_bytes(),
            &0i32.to_be_bytes(),
        ]
        .concat();
        assert_eq!(bytes, expected);
        assert_eq!(bytes.len(), 44);
    }

    #[test]
    fn decode_reads_back_what_encode_wrote() {
        let mut n = sample();
        n.config = b"server.1=127.0.0.1:2888:3888:participant\nversion=0".to_vec();
        assert_eq!(Notification::decode(&n.encode()), Ok(n));
    }

    /// Messages under 28 bytes are ignored. (WorkerReceiver: "Got a short response")
    #[test]
    fn rejects_messages_shorter_than_28_bytes() {
        assert_eq!(
            Notification::decode(&[0; 27]),
            Err(DecodeError::Short { len: 27 })
        );
    }

    /// A 28-byte message predates peerEpoch: it is zxid >> 32. (WorkerReceiver backCompatibility28)
    #[test]
    fn a_28_byte_message_takes_peer_epoch_from_the_zxid() {
        let bytes = &sample().encode()[..28];
        let n = Notification::decode(bytes).unwrap();
        assert_eq!((n.vote.peer_epoch, n.version), (Epoch(1), 0));
        assert_eq!(n.election_epoch, Round(7));
    }

    /// A 40-byte message has peerEpoch but no version. (WorkerReceiver backCompatibility40)
    #[test]
    fn a_40_byte_message_has_version_0() {
        // 3.4.0-3.4.5 wrote 36 bytes into a 40-byte buffer.
        let mut bytes = sample().encode()[..36].to_vec();
        bytes.extend([0xde, 0xad, 0xbe, 0xef]);
        let n = Notification::decode(&bytes).unwrap();
        assert_eq!((n.vote.peer_epoch, n.version), (Epoch(1), 0));
    }

    /// 3.4.6+ sends version 1 in exactly 40 bytes, which the 40-byte rule
    /// also catches: upstream reads it as version 0 too. (FastLeaderElection.buildMsg
    /// without config, WorkerReceiver backCompatibility40)
    #[test]
    fn a_version_1_message_is_40_bytes_and_read_as_version_0() {
        let mut bytes = sample().encode()[..36].to_vec();
        bytes.extend(1i32.to_be_bytes());
        let n = Notification::decode(&bytes).unwrap();
        assert_eq!(
            (n.vote.peer_epoch, n.version, n.config.len()),
            (Epoch(1), 0, 0)
        );
    }

    /// A version-1 message longer than 40 bytes has no config field.
    /// (WorkerReceiver: only version > 0x1 reads configLength)
    #[test]
    fn a_longer_version_1_message_has_no_config() {
        let mut bytes = sample().encode()[..36].to_vec();
        bytes.extend(1i32.to_be_bytes());
        bytes.extend([0; 4]);
        let n = Notification::decode(&bytes).unwrap();
        assert_eq!((n.version, n.config.len()), (1, 0));
    }

    /// A field cut short is a malformed message, not a panic. (BufferUnderflowException)
    #[test]
    fn rejects_a_message_cut_inside_a_field() {
        let bytes = sample().encode();
        assert_eq!(
            Notification::decode(&bytes[..33]),
            Err(DecodeError::Truncated { len: 33 })
        );
        assert_eq!(
            Notification::decode(&bytes[..42]),
            Err(DecodeError::Truncated { len: 42 })
        );
    }

    /// configLength < 0 or > capacity is rejected before allocating. (WorkerReceiver)
    #[test]
    fn rejects_an_impossible_config_length() {
        let mut bytes = sample().encode();
        bytes[40..44].copy_from_slice(&(-1i32).to_be_bytes());
        assert_eq!(
            Notification::decode(&bytes),
            Err(DecodeError::BadConfigLength(-1))
        );
        bytes[40..44].copy_from_slice(&1000i32.to_be_bytes());
        assert_eq!(
            Notification::decode(&bytes),
            Err(DecodeError::BadConfigLength(1000))
        );
        bytes[40..44].copy_from_slice(&10i32.to_be_bytes());
        assert_eq!(
            Notification::decode(&bytes),
            Err(DecodeError::Truncated { len: 44 })
        );
    }

    /// A state outside 0..=3 is dropped. (WorkerReceiver: `default: continue`)
    #[test]
    fn rejects_an_unknown_state() {
        let mut bytes = sample().encode();
        bytes[0..4].copy_from_slice(&9i32.to_be_bytes());
        assert_eq!(
            Notification::decode(&bytes),
            Err(DecodeError::UnknownState(9))
        );
    }

    /// An observer's "nobody" vote is Long.MIN_VALUE on the wire. (FastLeaderElection.getInitId)
    #[test]
    fn nobody_travels_as_long_min_value() {
        let n = Notification::new(ServerState::Looking, Vote::NOBODY, Round(1));
        let bytes = n.encode();
        assert_eq!(bytes[4..12], i64::MIN.to_be_bytes());
        assert_eq!(Notification::decode(&bytes).unwrap().vote, Vote::NOBODY);
    }

    #[test]
    fn displays_state_round_and_vote() {
        assert_eq!(
            sample().to_string(),
            "FOLLOWING, round 7: leader n3 (epoch 1, zxid 0x100000002)"
        );
    }
}
