//! The quorum connection: one kind of record, `QuorumPacket`, back to back with nothing
//! between them.
//!
//! The idea to take away: **a packet's type says what its 8-byte zxid means and how to read
//! its data, and the stream itself says nothing else.** A learner and its leader exchange only
//! `QuorumPacket{int type, long zxid, buffer data, vector<Id> authinfo}` (`zookeeper.jute`,
//! module `org.apache.zookeeper.server.quorum`), written by jute's binary archive with no
//! length in front. So a reader cannot skip a packet it does not understand, and cannot know
//! how long one is until it has read its lengths: it decodes from the front of what it has
//! received, and the answer is a packet, "need more bytes" ([`PacketError::Incomplete`]), or
//! an error that ends the connection. Every length is checked against a limit before anything
//! is allocated for it, so a peer that claims two gigabytes of data costs an error, not memory.
//!
//! | type | num | zxid | data |
//! |---|---|---|---|
//! | REQUEST | 1 | -1 | `long sessionId, int cxid, int type`, the client's request record; authinfo = the session's ids |
//! | PROPOSAL | 2 | the txn's | `TxnHeader` + txn record (+ `TxnDigest`): [`crate::txn_codec`] |
//! | ACK | 3 | the acked zxid | null |
//! | COMMIT | 4 | the committed zxid | null |
//! | PING | 5 | leader: last proposed; learner: echoed | leader: null; learner: `long sessionId, int timeout` per touched session |
//! | REVALIDATE | 6 | -1 | learner: `long sessionId, int timeout`; leader: `long sessionId, boolean valid` |
//! | SYNC | 7 | 0 | null |
//! | INFORM | 8 | the txn's | as PROPOSAL (to observers) |
//! | COMMITANDACTIVATE | 9 | the zxid | `long designatedLeader` (reconfig) |
//! | NEWLEADER | 10 | `newEpoch << 32` | the leader's quorum config text |
//! | FOLLOWERINFO | 11 | `acceptedEpoch << 32` | [`LearnerInfo`] |
//! | UPTODATE | 12 | -1 | null |
//! | DIFF, TRUNC, SNAP | 13, 14, 15 | the sync point | null (SNAP: the snapshot follows, [`crate::snapshot_stream`]) |
//! | OBSERVERINFO | 16 | `acceptedEpoch << 32` | [`LearnerInfo`] |
//! | LEADERINFO | 17 | `newEpoch << 32` | `int` protocol version 0x10000 |
//! | ACKEPOCH | 18 | the learner's last zxid | `int` its currentEpoch, or -1 if it had accepted this epoch already |
//! | INFORMANDACTIVATE | 19 | the txn's | `long designatedLeader` + as PROPOSAL (reconfig, to observers) |
//!
//! Two layers, as in chapter 3: [`QuorumPacket`] is the record exactly as on the wire (any
//! data, any authinfo); [`Packet`] is what it means, one variant per row above with typed
//! fields (chapter 1's [`Zxid`], [`Epoch`], [`Sid`], [`SessionId`]); integers appear only where
//! the two meet. [`QuorumReader`] and [`write_packet`] move packets over a tokio stream.
//!
//! Upstream writes each payload by hand (`Learner.request`, `Learner.ping`,
//! `Learner.validateSession`, `Leader.revalidateSession`, `Learner.registerWithLeader`,
//! `LearnerHandler.run`) and names the types in `Leader`. `tests/zookeeper_bytes.rs` checks
//! every layout here against packets built with ZooKeeper's own classes. [`Packet`] keeps
//! only what upstream reads: data a type does not carry must be null (upstream would ignore
//! it), and a fixed zxid (a REQUEST's -1, a SYNC's 0) is not checked.

use std::fmt;
use std::io;

use ch01_znode::{Epoch, Id, SessionId, Sid, Zxid};
use ch03_sessions::jute::{DecodeError, Reader, Record, Writer};
use ch03_sessions::proto::{OpCode, Request, DEFAULT_MAX_BUFFER};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::txn_codec::{TxnEntry, TxnError};

// ANCHOR: limits
/// The largest packet a [`QuorumReader`] accepts unless told otherwise. Upstream checks each
/// buffer against `jute.maxbuffer` plus `zookeeper.jute.maxbuffer.extrasize` (by default
/// `jute.maxbuffer` again: `BinaryInputArchive.checkLength`), so a PROPOSAL can carry a
/// full-size setData and its header. Here the same bound holds for the whole packet, so the
/// bytes a reader buffers for one packet are bounded too.
pub const DEFAULT_MAX_PACKET_LEN: usize = 2 * DEFAULT_MAX_BUFFER;
// ANCHOR_END: limits

/// The protocol version learners and leaders announce (`LearnerInfo`, LEADERINFO): 0x10000.
pub const PROTOCOL_VERSION: i32 = 0x10000;

macro_rules! packet_types {
    ($($(#[$m:meta])* $name:ident = $code:literal, $word:literal;)*) => {
        /// A packet's type, with upstream's number (`Leader.REQUEST` …).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum PacketType { $($(#[$m])* $name = $code,)* }

        impl PacketType {
            /// Every type, in number order.
            pub const ALL: &'static [PacketType] = &[$(PacketType::$name),*];

            /// The type with this number, if Zab has one.
            pub fn from_code(code: i32) -> Option<PacketType> {
                match code { $($code => Some(PacketType::$name),)* _ => None }
            }

            /// Upstream's name for it (`LearnerHandler.packetToString`).
            pub fn name(self) -> &'static str {
                match self { $(PacketType::$name => $word,)* }
            }
        }
    };
}

packet_types! {
    /// A client's write (or sync, or createSession), forwarded by a learner.
    Request = 1, "REQUEST";
    /// A txn the leader asks followers to log.
    Proposal = 2, "PROPOSAL";
    /// A follower logged a proposal (or, in the sync phase, NEWLEADER and UPTODATE).
    Ack = 3, "ACK";
    /// A quorum logged the proposal: apply it.
    Commit = 4, "COMMIT";
    /// Liveness both ways; learners answer with the sessions their clients touched.
    Ping = 5, "PING";
    /// A learner asks whether a reconnecting client's session is still alive.
    Revalidate = 6, "REVALIDATE";
    /// The answer to a forwarded `sync`.
    Sync = 7, "SYNC";
    /// A committed txn, sent to observers (which never see proposals).
    Inform = 8, "INFORM";
    /// COMMIT of a reconfig, naming the leader of the new configuration.
    CommitAndActivate = 9, "COMMITANDACTIVATE";
    /// The end of synchronization: the leader's new epoch and configuration.
    NewLeader = 10, "NEWLEADER";
    /// A follower introduces itself to the leader.
    FollowerInfo = 11, "FOLLOWERINFO";
    /// Synchronization is over: serve clients.
    UpToDate = 12, "UPTODATE";
    /// Synchronize by the proposals that follow.
    Diff = 13, "DIFF";
    /// Cut the log back to this zxid.
    Trunc = 14, "TRUNC";
    /// Replace the database with the snapshot that follows.
    Snap = 15, "SNAP";
    /// An observer introduces itself to the leader.
    ObserverInfo = 16, "OBSERVERINFO";
    /// The epoch the leader proposes.
    LeaderInfo = 17, "LEADERINFO";
    /// A learner accepts the epoch and tells where its history ends.
    AckEpoch = 18, "ACKEPOCH";
    /// INFORM of a reconfig, naming the leader of the new configuration.
    InformAndActivate = 19, "INFORMANDACTIVATE";
}

impl PacketType {
    /// The wire number.
    pub fn code(self) -> i32 {
        self as i32
    }
}

impl fmt::Display for PacketType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

// ANCHOR: quorum_packet
/// The jute record `QuorumPacket`, field for field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuorumPacket {
    /// `type`.
    pub kind: PacketType,
    pub zxid: Zxid,
    /// `buffer data`; `None` is jute's null (length -1), not the same as empty.
    pub data: Option<Vec<u8>>,
    /// `vector<Id> authinfo`; `None` is a null vector.
    pub authinfo: Option<Vec<Id>>,
}
// ANCHOR_END: quorum_packet

/// Why bytes are not a packet (yet).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PacketError {
    /// Not an error on a stream: the bytes so far begin a packet, and at least `needed` more
    /// must arrive before it is whole. (In a buffer that is all there is, it is truncated.)
    Incomplete { needed: usize },
    /// A length says the packet is at least `len` bytes, over the reader's `max` (refused
    /// before anything is allocated for it).
    TooLarge { len: usize, max: usize },
    /// A type number no Zab packet has (refused as soon as its four bytes arrive).
    UnknownType { code: i32 },
    /// Bytes that break jute's rules: a negative length, a null where a string must be.
    Malformed(DecodeError),
}

impl PacketError {
    /// True when more bytes may still make a packet.
    pub fn is_incomplete(&self) -> bool {
        matches!(self, PacketError::Incomplete { .. })
    }
}

impl fmt::Display for PacketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PacketError::Incomplete { needed } => {
                write!(f, "incomplete packet: at least {needed} more bytes needed")
            }
            PacketError::TooLarge { len, max } => {
                write!(f, "packet of at least {len} bytes, over the limit of {max}")
            }
            PacketError::UnknownType { code } => write!(f, "unknown packet type {code}"),
            PacketError::Malformed(e) => write!(f, "malformed packet: {e}"),
        }
    }
}

impl std::error::Error for PacketError {}

impl From<Shortfall> for PacketError {
    fn from(s: Shortfall) -> PacketError {
        match s {
            Shortfall::Incomplete { needed } => PacketError::Incomplete { needed },
            Shortfall::TooLarge { len, max } => PacketError::TooLarge { len, max },
            Shortfall::Invalid(e) => PacketError::Malformed(e),
        }
    }
}

// ANCHOR: bounded
/// How decoding one item (a packet, a snapshot node) from the front of a buffer fell short.
pub(crate) enum Shortfall {
    Incomplete { needed: usize },
    TooLarge { len: usize, max: usize },
    Invalid(DecodeError),
}

/// Decodes one item of at most `max_len` bytes from the front of `buf`, which may hold only
/// part of it, and says how many bytes it took. `decode` reads with chapter 3's [`Reader`],
/// which fails on a length longer than what is left; here that means "not arrived yet",
/// unless the item would then be longer than `max_len`. Only the first `max_len` bytes are
/// ever looked at, so an item cannot be longer than that.
pub(crate) fn decode_bounded<T>(
    buf: &[u8],
    max_len: usize,
    decode: impl FnOnce(&mut Reader<'_>) -> Result<T, DecodeError>,
) -> Result<(T, usize), Shortfall> {
    let window = &buf[..buf.len().min(max_len)];
    let mut r = Reader::new(window);
    let missing = match decode(&mut r) {
        Ok(item) => return Ok((item, r.position())),
        Err(DecodeError::Truncated {
            needed, remaining, ..
        }) => needed.saturating_sub(remaining).max(1),
        // A claimed length (or element count: each element takes a byte at least).
        Err(DecodeError::LengthTooLarge { len, remaining, .. }) => {
            (len as usize).saturating_sub(remaining).max(1)
        }
        Err(other) => return Err(Shortfall::Invalid(other)),
    };
    let len = window.len() + missing;
    if len > max_len {
        Err(Shortfall::TooLarge { len, max: max_len })
    } else {
        Err(Shortfall::Incomplete { needed: missing })
    }
}
// ANCHOR_END: bounded

impl QuorumPacket {
    /// A packet with no authinfo (only REQUEST carries any).
    pub fn new(kind: PacketType, zxid: Zxid, data: Option<Vec<u8>>) -> QuorumPacket {
        QuorumPacket {
            kind,
            zxid,
            data,
            authinfo: None,
        }
    }

    /// The bytes `BinaryOutputArchive.writeRecord` writes: no length in front.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        self.write(&mut w);
        w.into_bytes()
    }

    /// Appends the packet's bytes to `out` (a batch of packets for one connection).
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let mut w = Writer::appending(std::mem::take(out));
        self.write(&mut w);
        *out = w.into_bytes();
    }

    /// Appends the bytes of a packet with no authinfo and this `data`, without building it:
    /// a PROPOSAL's data, encoded once, goes to every follower.
    pub fn write_parts(kind: PacketType, zxid: Zxid, data: Option<&[u8]>, out: &mut Vec<u8>) {
        let mut w = Writer::appending(std::mem::take(out));
        w.write_int(kind.code());
        w.write_long(zxid.0);
        w.write_buffer(data);
        w.write_len(None);
        *out = w.into_bytes();
    }

    /// Appends the packet.
    pub fn write(&self, w: &mut Writer) {
        w.write_int(self.kind.code());
        w.write_long(self.zxid.0);
        w.write_buffer(self.data.as_deref());
        match &self.authinfo {
            None => w.write_len(None),
            Some(ids) => ids.encode(w),
        }
    }

    // ANCHOR: decode_packet
    /// Reads the packet at the front of `buf` and says how many bytes it took. Any prefix of
    /// a packet is [`PacketError::Incomplete`]; a packet over `max_len` bytes is
    /// [`PacketError::TooLarge`] as soon as a length says so.
    pub fn decode(buf: &[u8], max_len: usize) -> Result<(QuorumPacket, usize), PacketError> {
        if let Some(code) = buf.first_chunk::<4>().map(|b| i32::from_be_bytes(*b)) {
            if PacketType::from_code(code).is_none() {
                return Err(PacketError::UnknownType { code });
            }
        }
        let decoded = decode_bounded(buf, max_len, |r| {
            let code = r.read_int("QuorumPacket.type")?;
            let kind = PacketType::from_code(code).ok_or(DecodeError::InvalidValue {
                what: "QuorumPacket.type",
                value: code.into(),
            })?;
            let zxid = Zxid(r.read_long("QuorumPacket.zxid")?);
            let data = r.read_buffer("QuorumPacket.data")?;
            let authinfo = match r.read_len("QuorumPacket.authinfo")? {
                None => None,
                Some(count) => Some(
                    (0..count)
                        .map(|_| r.field::<Id>("QuorumPacket.authinfo"))
                        .collect::<Result<Vec<Id>, DecodeError>>()?,
                ),
            };
            Ok(QuorumPacket {
                kind,
                zxid,
                data,
                authinfo,
            })
        });
        Ok(decoded?)
    }
    // ANCHOR_END: decode_packet
}

// ---- what the packets mean ----------------------------------------------------------------

// ANCHOR: learner_info
/// `LearnerInfo`: the data of FOLLOWERINFO and OBSERVERINFO, a learner introducing itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LearnerInfo {
    /// `serverid`: the learner's myid.
    pub sid: Sid,
    /// `protocolVersion`: [`PROTOCOL_VERSION`].
    pub protocol_version: i32,
    /// `configVersion`: the version of the quorum configuration the learner has.
    pub config_version: i64,
}
// ANCHOR_END: learner_info

/// One session a learner's clients kept alive (PING reply), or one it asks about
/// (REVALIDATE): the session and its timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionTouch {
    pub session: SessionId,
    pub timeout_ms: i32,
}

// ANCHOR: forwarded_request
/// A client's request as a learner forwards it in a REQUEST (`Learner.request`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForwardedRequest {
    pub session: SessionId,
    /// The client's xid for it: the reply will be matched on (session, cxid).
    pub cxid: i32,
    /// The request's type.
    pub op: OpCode,
    /// The request record exactly as the client sent it, without its header: the leader
    /// decodes it by `op` ([`ForwardedRequest::request`]).
    pub body: Vec<u8>,
    /// The ids the session has authenticated as (`authinfo`); `None` (a null vector) for a
    /// createSession, which upstream forwards before the session has any.
    pub auth: Option<Vec<Id>>,
}
// ANCHOR_END: forwarded_request

impl ForwardedRequest {
    /// A client request, with the ids its session authenticated as.
    pub fn new(session: SessionId, cxid: i32, request: &Request, auth: Vec<Id>) -> Self {
        let mut body = Writer::new();
        request.encode_body(&mut body);
        ForwardedRequest {
            session,
            cxid,
            op: request.op_code(),
            body: body.into_bytes(),
            auth: Some(auth),
        }
    }

    /// A new session, as `ZooKeeperServer.createSession` submits it: cxid 0, the timeout as
    /// the body's only `int`, no auth.
    pub fn create_session(session: SessionId, timeout_ms: i32) -> Self {
        ForwardedRequest {
            session,
            cxid: 0,
            op: OpCode::CreateSession,
            body: timeout_ms.to_be_bytes().to_vec(),
            auth: None,
        }
    }

    /// The client request in `body` (every op a client may send; not createSession).
    pub fn request(&self) -> Result<Request, DecodeError> {
        Request::decode_body(self.op.code(), &mut Reader::new(&self.body))
    }

    /// The timeout a forwarded createSession asks for.
    pub fn session_timeout_ms(&self) -> Option<i32> {
        match self.op {
            OpCode::CreateSession => Reader::new(&self.body).read_int("timeout").ok(),
            _ => None,
        }
    }
}

// ANCHOR: packet
/// What a packet says: one variant per packet type and direction, with typed fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Packet {
    /// REQUEST, learner → leader.
    Request(ForwardedRequest),
    /// PROPOSAL, leader → follower: log this txn (the packet's zxid is the txn's).
    Proposal(TxnEntry),
    /// ACK, follower → leader.
    Ack(Zxid),
    /// COMMIT, leader → follower.
    Commit(Zxid),
    /// PING, leader → learner, with the last zxid the leader proposed.
    Ping(Zxid),
    /// PING, learner → leader: the leader's zxid echoed, and the sessions touched since the
    /// last ping (possibly none, but never a null buffer).
    PingReply {
        zxid: Zxid,
        touches: Vec<SessionTouch>,
    },
    /// REVALIDATE, learner → leader: is this reconnecting client's session alive?
    Revalidate(SessionTouch),
    /// REVALIDATE, leader → learner.
    RevalidateReply { session: SessionId, valid: bool },
    /// SYNC, leader → learner: the answer to a forwarded `sync`.
    Sync,
    /// INFORM, leader → observer: a committed txn.
    Inform(TxnEntry),
    /// COMMITANDACTIVATE, leader → follower.
    CommitAndActivate { zxid: Zxid, designated_leader: Sid },
    /// NEWLEADER, leader → learner; `zxid` is `newEpoch << 32`, `config` the quorum config text.
    NewLeader { zxid: Zxid, config: Vec<u8> },
    /// FOLLOWERINFO, follower → leader.
    FollowerInfo {
        accepted_epoch: Epoch,
        info: LearnerInfo,
    },
    /// UPTODATE, leader → learner.
    UpToDate,
    /// DIFF, leader → learner.
    Diff(Zxid),
    /// TRUNC, leader → learner.
    Trunc(Zxid),
    /// SNAP, leader → learner, with the leader's last processed zxid.
    Snap(Zxid),
    /// OBSERVERINFO, observer → leader.
    ObserverInfo {
        accepted_epoch: Epoch,
        info: LearnerInfo,
    },
    /// LEADERINFO, leader → learner: the epoch it proposes.
    LeaderInfo { epoch: Epoch, protocol_version: i32 },
    /// ACKEPOCH, learner → leader; `current_epoch` is `None` (-1 on the wire) when the
    /// learner had already accepted this epoch, so its ack does not count.
    AckEpoch {
        last_zxid: Zxid,
        current_epoch: Option<Epoch>,
    },
    /// INFORMANDACTIVATE, leader → observer.
    InformAndActivate {
        designated_leader: Sid,
        entry: TxnEntry,
    },
}
// ANCHOR_END: packet

/// Why a packet's data does not say what its type calls for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataError {
    /// The data does not have the type's layout: too short, null where the type carries data,
    /// present where it carries none, or a value out of range.
    Layout {
        kind: PacketType,
        cause: DecodeError,
    },
    /// Bytes left over after the type's layout.
    Trailing { kind: PacketType, count: usize },
    /// A PROPOSAL, INFORM or INFORMANDACTIVATE whose txn does not decode.
    Txn { kind: PacketType, cause: TxnError },
    /// A PROPOSAL, INFORM or INFORMANDACTIVATE whose zxid is not its txn's.
    ZxidMismatch {
        kind: PacketType,
        packet: Zxid,
        txn: Zxid,
    },
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataError::Layout { kind, cause } => write!(f, "{kind}: {cause}"),
            DataError::Trailing { kind, count } => {
                write!(f, "{kind}: {count} bytes after the data")
            }
            DataError::Txn { kind, cause } => write!(f, "{kind}: {cause}"),
            DataError::ZxidMismatch { kind, packet, txn } => {
                write!(f, "{kind} {packet} carries the txn of {txn}")
            }
        }
    }
}

impl std::error::Error for DataError {}

/// The fixed zxid of REQUEST, REVALIDATE and UPTODATE.
const NO_ZXID: Zxid = Zxid(-1);

/// A server id as a jute `long`. Ids are Java longs upstream, so none is above `i64::MAX`.
fn write_sid(w: &mut Writer, sid: Sid) {
    w.write_long(sid.0 as i64);
}

fn read_sid(r: &mut Reader<'_>, what: &'static str) -> Result<Sid, DecodeError> {
    let id = r.read_long(what)?;
    u64::try_from(id)
        .map(Sid)
        .map_err(|_| DecodeError::InvalidValue { what, value: id })
}

fn write_learner_info(w: &mut Writer, info: &LearnerInfo) {
    write_sid(w, info.sid);
    w.write_int(info.protocol_version);
    w.write_long(info.config_version);
}

fn read_learner_info(r: &mut Reader<'_>) -> Result<LearnerInfo, DecodeError> {
    Ok(LearnerInfo {
        sid: read_sid(r, "LearnerInfo.serverid")?,
        protocol_version: r.read_int("LearnerInfo.protocolVersion")?,
        config_version: r.read_long("LearnerInfo.configVersion")?,
    })
}

/// Builds a payload with a jute writer.
fn data(write: impl FnOnce(&mut Writer)) -> Option<Vec<u8>> {
    let mut w = Writer::new();
    write(&mut w);
    Some(w.into_bytes())
}

impl Packet {
    // ANCHOR: to_raw
    /// The record to send.
    pub fn to_raw(&self) -> QuorumPacket {
        use PacketType as T;
        let (kind, zxid, data) = match self {
            Packet::Request(request) => {
                return QuorumPacket {
                    kind: T::Request,
                    zxid: NO_ZXID,
                    data: data(|w| {
                        w.write_long(request.session.0);
                        w.write_int(request.cxid);
                        w.write_int(request.op.code());
                        w.write_raw(&request.body);
                    }),
                    authinfo: request.auth.clone(),
                }
            }
            Packet::Proposal(entry) => (T::Proposal, entry.txn.zxid, Some(entry.encode())),
            Packet::Ack(zxid) => (T::Ack, *zxid, None),
            Packet::Commit(zxid) => (T::Commit, *zxid, None),
            Packet::Ping(zxid) => (T::Ping, *zxid, None),
            Packet::PingReply { zxid, touches } => (
                T::Ping,
                *zxid,
                data(|w| {
                    for touch in touches {
                        w.write_long(touch.session.0);
                        w.write_int(touch.timeout_ms);
                    }
                }),
            ),
            Packet::Revalidate(touch) => (
                T::Revalidate,
                NO_ZXID,
                data(|w| {
                    w.write_long(touch.session.0);
                    w.write_int(touch.timeout_ms);
                }),
            ),
            Packet::RevalidateReply { session, valid } => (
                T::Revalidate,
                NO_ZXID,
                data(|w| {
                    w.write_long(session.0);
                    w.write_bool(*valid);
                }),
            ),
            Packet::Sync => (T::Sync, Zxid::ZERO, None),
            Packet::Inform(entry) => (T::Inform, entry.txn.zxid, Some(entry.encode())),
            Packet::CommitAndActivate {
                zxid,
                designated_leader,
            } => (
                T::CommitAndActivate,
                *zxid,
                data(|w| write_sid(w, *designated_leader)),
            ),
            Packet::NewLeader { zxid, config } => (T::NewLeader, *zxid, Some(config.clone())),
            Packet::FollowerInfo {
                accepted_epoch,
                info,
            } => (
                T::FollowerInfo,
                accepted_epoch.first_zxid(),
                data(|w| write_learner_info(w, info)),
            ),
            Packet::UpToDate => (T::UpToDate, NO_ZXID, None),
            Packet::Diff(zxid) => (T::Diff, *zxid, None),
            Packet::Trunc(zxid) => (T::Trunc, *zxid, None),
            Packet::Snap(zxid) => (T::Snap, *zxid, None),
            Packet::ObserverInfo {
                accepted_epoch,
                info,
            } => (
                T::ObserverInfo,
                accepted_epoch.first_zxid(),
                data(|w| write_learner_info(w, info)),
            ),
            Packet::LeaderInfo {
                epoch,
                protocol_version,
            } => (
                T::LeaderInfo,
                epoch.first_zxid(),
                data(|w| w.write_int(*protocol_version)),
            ),
            Packet::AckEpoch {
                last_zxid,
                current_epoch,
            } => (
                T::AckEpoch,
                *last_zxid,
                // Upstream casts the long epoch to an int: `(int) self.getCurrentEpoch()`.
                data(|w| w.write_int(current_epoch.map_or(-1, |e| e.0 as i32))),
            ),
            Packet::InformAndActivate {
                designated_leader,
                entry,
            } => (
                T::InformAndActivate,
                entry.txn.zxid,
                data(|w| {
                    write_sid(w, *designated_leader);
                    entry.write(w);
                }),
            ),
        };
        QuorumPacket::new(kind, zxid, data)
    }
    // ANCHOR_END: to_raw

    /// The bytes to send.
    pub fn encode(&self) -> Vec<u8> {
        self.to_raw().encode()
    }

    // ANCHOR: from_raw
    /// What a received record says.
    pub fn from_raw(packet: &QuorumPacket) -> Result<Packet, DataError> {
        use PacketType as T;
        let kind = packet.kind;
        let zxid = packet.zxid;
        let none = || expect_no_data(packet);
        let read = |what: &'static str| DataReader::new(packet, what);
        Ok(match kind {
            T::Request => {
                let mut r = read("REQUEST data")?;
                let session = SessionId(r.long("sessionId")?);
                let cxid = r.int("cxid")?;
                let code = r.int("type")?;
                let op = OpCode::parse(code).map_err(|cause| DataError::Layout { kind, cause })?;
                Packet::Request(ForwardedRequest {
                    session,
                    cxid,
                    op,
                    body: r.rest(),
                    auth: packet.authinfo.clone(),
                })
            }
            T::Proposal => Packet::Proposal(read_txn(packet, read("PROPOSAL data")?.rest())?),
            T::Ack => {
                none()?;
                Packet::Ack(zxid)
            }
            T::Commit => {
                none()?;
                Packet::Commit(zxid)
            }
            T::Ping if packet.data.is_none() => Packet::Ping(zxid),
            T::Ping => {
                let mut r = read("PING data")?;
                let mut touches = Vec::new();
                while !r.is_empty() {
                    touches.push(r.touch()?);
                }
                Packet::PingReply { zxid, touches }
            }
            T::Revalidate => {
                let mut r = read("REVALIDATE data")?;
                // The learner's question is 12 bytes; the leader's answer 9.
                let packet = if r.len() == 9 {
                    Packet::RevalidateReply {
                        session: SessionId(r.long("sessionId")?),
                        valid: r.bool("valid")?,
                    }
                } else {
                    Packet::Revalidate(r.touch()?)
                };
                r.end()?;
                packet
            }
            T::Sync => {
                none()?;
                Packet::Sync
            }
            T::Inform => Packet::Inform(read_txn(packet, read("INFORM data")?.rest())?),
            T::CommitAndActivate => {
                let mut r = read("COMMITANDACTIVATE data")?;
                let designated_leader = r.sid("designatedLeader")?;
                r.end()?;
                Packet::CommitAndActivate {
                    zxid,
                    designated_leader,
                }
            }
            T::NewLeader => Packet::NewLeader {
                zxid,
                config: read("NEWLEADER data")?.rest(),
            },
            T::FollowerInfo | T::ObserverInfo => {
                let mut r = read("LearnerInfo")?;
                let info = r.learner_info()?;
                r.end()?;
                let accepted_epoch = zxid.epoch();
                match kind {
                    T::FollowerInfo => Packet::FollowerInfo {
                        accepted_epoch,
                        info,
                    },
                    _ => Packet::ObserverInfo {
                        accepted_epoch,
                        info,
                    },
                }
            }
            T::UpToDate => {
                none()?;
                Packet::UpToDate
            }
            T::Diff => {
                none()?;
                Packet::Diff(zxid)
            }
            T::Trunc => {
                none()?;
                Packet::Trunc(zxid)
            }
            T::Snap => {
                none()?;
                Packet::Snap(zxid)
            }
            T::LeaderInfo => {
                let mut r = read("LEADERINFO data")?;
                let protocol_version = r.int("protocolVersion")?;
                r.end()?;
                Packet::LeaderInfo {
                    epoch: zxid.epoch(),
                    protocol_version,
                }
            }
            T::AckEpoch => {
                let mut r = read("ACKEPOCH data")?;
                let epoch = r.int("currentEpoch")?;
                r.end()?;
                let current_epoch = match epoch {
                    -1 => None,
                    e if e >= 0 => Some(Epoch(e.into())),
                    bad => return Err(r.invalid("currentEpoch", bad.into())),
                };
                Packet::AckEpoch {
                    last_zxid: zxid,
                    current_epoch,
                }
            }
            T::InformAndActivate => {
                let mut r = read("INFORMANDACTIVATE data")?;
                let designated_leader = r.sid("designatedLeader")?;
                Packet::InformAndActivate {
                    designated_leader,
                    entry: read_txn(packet, r.rest())?,
                }
            }
        })
    }
    // ANCHOR_END: from_raw

    /// Reads one packet from the front of `buf` (see [`QuorumPacket::decode`]) and what it
    /// says; the outer error is the record's, the inner one its data's.
    pub fn decode(
        buf: &[u8],
        max_len: usize,
    ) -> Result<(Result<Packet, DataError>, usize), PacketError> {
        let (raw, used) = QuorumPacket::decode(buf, max_len)?;
        Ok((Packet::from_raw(&raw), used))
    }
}

/// Types that carry no data must carry a null buffer.
fn expect_no_data(packet: &QuorumPacket) -> Result<(), DataError> {
    match &packet.data {
        None => Ok(()),
        Some(bytes) => Err(DataError::Layout {
            kind: packet.kind,
            cause: DecodeError::InvalidValue {
                what: "data (null expected): length",
                value: bytes.len() as i64,
            },
        }),
    }
}

/// A txn whose header must carry the packet's own zxid.
fn read_txn(packet: &QuorumPacket, bytes: Vec<u8>) -> Result<TxnEntry, DataError> {
    let kind = packet.kind;
    let entry = TxnEntry::decode(&bytes).map_err(|cause| DataError::Txn { kind, cause })?;
    if entry.txn.zxid != packet.zxid {
        return Err(DataError::ZxidMismatch {
            kind,
            packet: packet.zxid,
            txn: entry.txn.zxid,
        });
    }
    Ok(entry)
}

/// Reads a packet's data field by field, naming the packet type in every error.
struct DataReader<'a> {
    kind: PacketType,
    r: Reader<'a>,
}

impl<'a> DataReader<'a> {
    /// The data of `packet`, which must not be null.
    fn new(packet: &'a QuorumPacket, what: &'static str) -> Result<Self, DataError> {
        let kind = packet.kind;
        match &packet.data {
            Some(bytes) => Ok(DataReader {
                kind,
                r: Reader::new(bytes),
            }),
            None => Err(DataError::Layout {
                kind,
                cause: DecodeError::UnexpectedNull { what },
            }),
        }
    }

    fn layout(&self, cause: DecodeError) -> DataError {
        DataError::Layout {
            kind: self.kind,
            cause,
        }
    }

    fn invalid(&self, what: &'static str, value: i64) -> DataError {
        self.layout(DecodeError::InvalidValue { what, value })
    }

    fn len(&self) -> usize {
        self.r.remaining()
    }

    fn is_empty(&self) -> bool {
        self.r.remaining() == 0
    }

    fn int(&mut self, what: &'static str) -> Result<i32, DataError> {
        self.r.read_int(what).map_err(|e| self.layout(e))
    }

    fn long(&mut self, what: &'static str) -> Result<i64, DataError> {
        self.r.read_long(what).map_err(|e| self.layout(e))
    }

    fn bool(&mut self, what: &'static str) -> Result<bool, DataError> {
        self.r.read_bool(what).map_err(|e| self.layout(e))
    }

    fn sid(&mut self, what: &'static str) -> Result<Sid, DataError> {
        read_sid(&mut self.r, what).map_err(|e| self.layout(e))
    }

    fn learner_info(&mut self) -> Result<LearnerInfo, DataError> {
        read_learner_info(&mut self.r).map_err(|e| self.layout(e))
    }

    fn touch(&mut self) -> Result<SessionTouch, DataError> {
        Ok(SessionTouch {
            session: SessionId(self.long("sessionId")?),
            timeout_ms: self.int("timeout")?,
        })
    }

    /// Everything not read yet.
    fn rest(self) -> Vec<u8> {
        self.r.rest().to_vec()
    }

    /// The data must end here.
    fn end(&self) -> Result<(), DataError> {
        match self.r.remaining() {
            0 => Ok(()),
            count => Err(DataError::Trailing {
                kind: self.kind,
                count,
            }),
        }
    }
}

// ---- over a tokio stream ------------------------------------------------------------------

// ANCHOR: read_error
/// Why a stream did not yield the next item; `E` says what was wrong with its bytes.
#[derive(Debug)]
pub enum ReadError<E> {
    /// The stream failed.
    Io(io::Error),
    /// The peer closed the connection in the middle of an item, after `buffered` of its bytes.
    Closed { buffered: usize },
    /// The bytes are not what was expected: drop the connection.
    Invalid(E),
}
// ANCHOR_END: read_error

impl<E: fmt::Display> fmt::Display for ReadError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "quorum connection: {e}"),
            ReadError::Closed { buffered } => write!(
                f,
                "quorum connection closed in the middle of an item, after {buffered} of its bytes"
            ),
            ReadError::Invalid(e) => e.fmt(f),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for ReadError<E> {}

impl<E> From<io::Error> for ReadError<E> {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// The least a [`QuorumReader`] asks the stream for at a time.
const READ_CHUNK: usize = 8 * 1024;

// ANCHOR: quorum_reader
/// Reads packets from a byte stream, keeping what arrived past the end of one for the next
/// (or for the snapshot that follows a SNAP: [`crate::snapshot_stream::read_snap_body`]).
pub struct QuorumReader<R> {
    stream: R,
    /// Received: `buf[start..]` is not decoded yet (less than one item's limit plus one
    /// read).
    buf: Vec<u8>,
    /// Where the undecoded bytes begin. Decoding a packet only moves this past it; the
    /// bytes left are moved to the front once per read ([`QuorumReader::fill`]), not once
    /// per packet: a read of a group commit's 64 PROPOSALs would otherwise move the rest
    /// of the batch 64 times.
    start: usize,
    max_len: usize,
}

impl<R: AsyncRead + Unpin> QuorumReader<R> {
    /// A reader refusing packets over [`DEFAULT_MAX_PACKET_LEN`].
    pub fn new(stream: R) -> Self {
        QuorumReader::with_max_len(stream, DEFAULT_MAX_PACKET_LEN)
    }

    /// A reader refusing packets (and snapshot items) over `max_len` bytes.
    pub fn with_max_len(stream: R, max_len: usize) -> Self {
        QuorumReader {
            stream,
            buf: Vec::new(),
            start: 0,
            max_len,
        }
    }

    /// The limit on one packet (and one snapshot item).
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// The next packet, or `None` when the peer closed the connection between packets.
    pub async fn read_packet(&mut self) -> Result<Option<QuorumPacket>, ReadError<PacketError>> {
        loop {
            match QuorumPacket::decode(self.buffered(), self.max_len) {
                Ok((packet, used)) => {
                    self.consume(used);
                    return Ok(Some(packet));
                }
                Err(PacketError::Incomplete { needed }) => {
                    if !self.fill(needed).await? {
                        return match self.buffered().len() {
                            0 => Ok(None),
                            buffered => Err(ReadError::Closed { buffered }),
                        };
                    }
                }
                Err(invalid) => return Err(ReadError::Invalid(invalid)),
            }
        }
    }

    /// Reads at least one more byte into the buffer, making room for `needed`; false at the
    /// end of the stream.
    pub(crate) async fn fill(&mut self, needed: usize) -> io::Result<bool> {
        self.buf.drain(..self.start);
        self.start = 0;
        // `needed` is bounded by max_len (decode_bounded refuses longer items).
        self.buf.reserve(needed.max(READ_CHUNK));
        Ok(self.stream.read_buf(&mut self.buf).await? > 0)
    }

    /// Bytes received and not decoded yet.
    pub(crate) fn buffered(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// Drops the first `n` buffered bytes: they were decoded.
    pub(crate) fn consume(&mut self, n: usize) {
        assert!(
            n <= self.buf.len() - self.start,
            "consumed more than was buffered"
        );
        self.start += n;
    }

    /// The stream back, with the bytes received but not decoded.
    pub fn into_parts(mut self) -> (R, Vec<u8>) {
        self.buf.drain(..self.start);
        (self.stream, self.buf)
    }
}
// ANCHOR_END: quorum_reader

/// Writes one packet. Like upstream's `BufferedOutputStream` users, the caller decides when
/// to flush (a SNAP, its snapshot and `BenWasHere` go out together).
pub async fn write_packet<W: AsyncWrite + Unpin>(
    w: &mut W,
    packet: &QuorumPacket,
) -> io::Result<()> {
    w.write_all(&packet.encode()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arb;
    use ch01_znode::{Acl, TxnHeader, TxnOp};
    use ch03_sessions::proto::CreateRequest;
    use proptest::prelude::*;

    const MAX: usize = DEFAULT_MAX_PACKET_LEN;

    fn proposal() -> TxnEntry {
        let header = TxnHeader {
            session: SessionId(0x100000000000001),
            cxid: 3,
            zxid: Zxid(0x100000001),
            time_ms: 1000,
        };
        TxnEntry::new(header.txn(TxnOp::Delete { path: "/a".into() }))
    }

    #[test]
    fn every_type_has_upstreams_number_and_name() {
        let numbers: Vec<i32> = PacketType::ALL.iter().map(|t| t.code()).collect();
        assert_eq!(numbers, (1..=19).collect::<Vec<_>>());
        assert_eq!(PacketType::from_code(18), Some(PacketType::AckEpoch));
        assert_eq!(PacketType::from_code(0), None);
        assert_eq!(
            PacketType::InformAndActivate.to_string(),
            "INFORMANDACTIVATE"
        );
    }

    #[test]
    fn a_packet_is_type_zxid_data_authinfo_with_no_length_in_front() {
        let packet = QuorumPacket::new(PacketType::Ack, Zxid(0x100000002), None);
        let mut expected = vec![0, 0, 0, 3];
        expected.extend(0x100000002_i64.to_be_bytes());
        expected.extend((-1_i32).to_be_bytes()); // null data
        expected.extend((-1_i32).to_be_bytes()); // null authinfo
        assert_eq!(packet.encode(), expected);
        assert_eq!(QuorumPacket::decode(&expected, MAX), Ok((packet, 20)));
    }

    #[test]
    fn an_unknown_type_is_refused_from_its_first_four_bytes() {
        assert_eq!(
            QuorumPacket::decode(&[0, 0, 0, 20], MAX),
            Err(PacketError::UnknownType { code: 20 })
        );
        assert_eq!(
            QuorumPacket::decode(&[0, 0, 0], MAX),
            Err(PacketError::Incomplete { needed: 1 })
        );
    }

    #[test]
    fn a_huge_data_length_is_refused_before_its_bytes_arrive() {
        let mut bytes = QuorumPacket::new(PacketType::Proposal, Zxid(1), None).encode();
        bytes.truncate(12);
        bytes.extend(i32::MAX.to_be_bytes());
        match QuorumPacket::decode(&bytes, MAX) {
            Err(PacketError::TooLarge { len, max }) => {
                assert!(len > max, "{len} > {max}");
            }
            other => panic!("{other:?}"),
        }
        let mut short = bytes.clone();
        short[12..16].copy_from_slice(&1000_i32.to_be_bytes());
        assert_eq!(
            QuorumPacket::decode(&short, MAX),
            Err(PacketError::Incomplete { needed: 1000 })
        );
        assert_eq!(
            QuorumPacket::decode(&short, 500),
            Err(PacketError::TooLarge {
                len: 1016,
                max: 500
            })
        );
        short[12..16].copy_from_slice(&(-2_i32).to_be_bytes());
        assert!(matches!(
            QuorumPacket::decode(&short, MAX),
            Err(PacketError::Malformed(DecodeError::NegativeLength { .. }))
        ));
    }

    #[test]
    fn a_request_carries_session_cxid_type_then_the_clients_record() {
        let create = Request::Create(CreateRequest {
            path: "/a".into(),
            data: Some(b"v".to_vec()),
            acl: Acl::open_unsafe(),
            flags: 0,
        });
        let ip = Id {
            scheme: "ip".into(),
            id: "127.0.0.1".into(),
        };
        let forwarded = ForwardedRequest::new(SessionId(5), 9, &create, vec![ip]);
        let raw = Packet::Request(forwarded.clone()).to_raw();
        let data = raw.data.as_deref().unwrap();
        assert_eq!(&data[..8], &5_i64.to_be_bytes());
        assert_eq!(&data[8..12], &9_i32.to_be_bytes());
        assert_eq!(&data[12..16], &1_i32.to_be_bytes());
        assert_eq!(raw.zxid, Zxid(-1));
        assert_eq!(
            Packet::from_raw(&raw),
            Ok(Packet::Request(forwarded.clone()))
        );
        assert_eq!(forwarded.request(), Ok(create));

        let session = ForwardedRequest::create_session(SessionId(6), 30_000);
        assert_eq!(session.session_timeout_ms(), Some(30_000));
        let raw = Packet::Request(session).to_raw();
        assert_eq!(raw.data.as_ref().map(Vec::len), Some(20));
        assert_eq!(raw.authinfo, None);
    }

    #[test]
    fn ping_and_revalidate_are_told_apart_by_their_data() {
        let touch = SessionTouch {
            session: SessionId(7),
            timeout_ms: 4000,
        };
        let cases = [
            (Packet::Ping(Zxid(9)), None),
            (
                Packet::PingReply {
                    zxid: Zxid(9),
                    touches: vec![],
                },
                Some(0),
            ),
            (
                Packet::PingReply {
                    zxid: Zxid(9),
                    touches: vec![touch, touch],
                },
                Some(24),
            ),
            (Packet::Revalidate(touch), Some(12)),
            (
                Packet::RevalidateReply {
                    session: SessionId(7),
                    valid: true,
                },
                Some(9),
            ),
        ];
        for (packet, len) in cases {
            let raw = packet.to_raw();
            assert_eq!(raw.data.as_ref().map(Vec::len), len, "{packet:?}");
            assert_eq!(Packet::from_raw(&raw), Ok(packet));
        }
    }

    #[test]
    fn a_proposal_must_carry_the_txn_of_its_own_zxid() {
        let mut raw = Packet::Proposal(proposal()).to_raw();
        assert_eq!(raw.zxid, Zxid(0x100000001));
        raw.zxid = Zxid(0x100000002);
        assert_eq!(
            Packet::from_raw(&raw),
            Err(DataError::ZxidMismatch {
                kind: PacketType::Proposal,
                packet: Zxid(0x100000002),
                txn: Zxid(0x100000001)
            })
        );
    }

    #[test]
    fn data_a_type_does_not_carry_must_be_null_and_data_it_does_must_fit() {
        let mut ack = Packet::Ack(Zxid(1)).to_raw();
        ack.data = Some(vec![]);
        assert!(matches!(
            Packet::from_raw(&ack),
            Err(DataError::Layout { .. })
        ));
        let mut epoch = Packet::AckEpoch {
            last_zxid: Zxid(1),
            current_epoch: None,
        }
        .to_raw();
        epoch.data = Some(vec![0, 0, 0, 1, 0]);
        assert_eq!(
            Packet::from_raw(&epoch),
            Err(DataError::Trailing {
                kind: PacketType::AckEpoch,
                count: 1
            })
        );
        epoch.data = Some((-2_i32).to_be_bytes().to_vec());
        assert!(matches!(
            Packet::from_raw(&epoch),
            Err(DataError::Layout { .. })
        ));
        let mut info = Packet::LeaderInfo {
            epoch: Epoch(2),
            protocol_version: PROTOCOL_VERSION,
        }
        .to_raw();
        info.data = None;
        assert!(matches!(
            Packet::from_raw(&info),
            Err(DataError::Layout { .. })
        ));
    }

    #[tokio::test]
    async fn packets_cross_a_stream_back_to_back_and_a_cut_one_is_reported() {
        let packets = [
            Packet::Snap(Zxid(0x200000000)),
            Packet::Proposal(proposal()),
            Packet::UpToDate,
        ];
        let (mut tx, rx) = tokio::io::duplex(7); // a tiny pipe: packets arrive in pieces
        let writer = tokio::spawn(async move {
            for packet in packets {
                write_packet(&mut tx, &packet.to_raw()).await.unwrap();
            }
            tx.write_all(&[0, 0, 0, 3, 0]).await.unwrap(); // the start of an ACK, then EOF
        });
        let mut reader = QuorumReader::new(rx);
        for expected in [
            Packet::Snap(Zxid(0x200000000)),
            Packet::Proposal(proposal()),
            Packet::UpToDate,
        ] {
            let raw = reader.read_packet().await.unwrap().unwrap();
            assert_eq!(Packet::from_raw(&raw), Ok(expected));
        }
        writer.await.unwrap();
        assert!(matches!(
            reader.read_packet().await,
            Err(ReadError::Closed { buffered: 5 })
        ));
    }

    #[tokio::test]
    async fn a_stream_closed_between_packets_ends_cleanly() {
        let bytes = Packet::Sync.encode();
        let mut reader = QuorumReader::new(&bytes[..]);
        assert!(reader.read_packet().await.unwrap().is_some());
        assert!(reader.read_packet().await.unwrap().is_none());
    }

    proptest! {
        #[test]
        fn every_record_reads_back_with_its_length(packet in arb::quorum_packet()) {
            let bytes = packet.encode();
            prop_assert_eq!(QuorumPacket::decode(&bytes, MAX), Ok((packet, bytes.len())));
        }

        #[test]
        fn every_proper_prefix_of_a_packet_is_incomplete_never_malformed(
            packet in arb::quorum_packet(),
            cut in any::<proptest::sample::Index>(),
        ) {
            let bytes = packet.encode();
            let prefix = &bytes[..cut.index(bytes.len())];
            let decoded = QuorumPacket::decode(prefix, MAX);
            prop_assert!(
                matches!(decoded, Err(PacketError::Incomplete { needed }) if needed >= 1),
                "{:?}", decoded
            );
        }

        #[test]
        fn every_packet_means_what_it_was_built_to_mean(packet in arb::packet()) {
            let bytes = packet.encode();
            let (decoded, used) = Packet::decode(&bytes, MAX).unwrap();
            prop_assert_eq!(used, bytes.len());
            prop_assert_eq!(decoded, Ok(packet));
        }

        #[test]
        fn random_bytes_are_a_packet_or_an_error_never_a_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..64),
            max in 0usize..64,
        ) {
            if let Ok((raw, used)) = QuorumPacket::decode(&bytes, max) {
                prop_assert!(used <= max);
                let _ = Packet::from_raw(&raw);
            }
        }

        #[test]
        fn random_data_under_any_type_is_a_meaning_or_an_error_never_a_panic(
            code in 1i32..=19,
            zxid in any::<i64>(),
            data in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..48)),
        ) {
            let kind = PacketType::from_code(code).unwrap();
            let _ = Packet::from_raw(&QuorumPacket::new(kind, Zxid(zxid), data));
        }
    }
}
