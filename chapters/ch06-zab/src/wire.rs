//! The core's messages as bytes on a quorum connection: [`Message`] ⇄ [`Packet`].
//!
//! The idea to take away: **a typed message says less than its packet, because the
//! connection says the rest.** The core names a connection by its [`Link`](crate::message::Link)
//! and a learner by the link's sid; on the wire the link *is* the TCP connection, so a
//! FOLLOWERINFO must carry the learner's id itself ([`LearnerInfo`]), and a learner's PING
//! answer echoes the zxid of the leader's PING it answers. A SNAP packet says only "a
//! snapshot follows": the database comes after it on the stream ([`crate::snapshot_stream`]),
//! then `BenWasHere`. Everything else maps field for field:
//!
//! | [`Message`] | [`Packet`] |
//! |---|---|
//! | `LearnerInfo` | FOLLOWERINFO / OBSERVERINFO, with our sid, protocol 0x10000, config version 0 |
//! | `LeaderInfo`, `NewLeader` | LEADERINFO (protocol 0x10000), NEWLEADER (no configuration text: no reconfig here) |
//! | `Proposal`, `Inform` | PROPOSAL, INFORM: the txn as [`crate::txn_codec`] writes it, with the leader's `TxnDigest` when it has one |
//! | `Request` | REQUEST: chapter 3's [`Forwarded`] as [`ForwardedRequest`] (a createSession carries no auth) |
//! | `Ping` / `PingReply` | PING with null data / PING with the touched sessions |
//! | `Revalidate` / `RevalidateReply` | REVALIDATE with `sessionId, timeout` / with `sessionId, valid` |
//! | `Snap` | SNAP, then the snapshot and `BenWasHere` |
//!
//! Packets the core has no word for (COMMITANDACTIVATE, INFORMANDACTIVATE: reconfiguration,
//! which this book leaves out) are refused
//! ([`WireError::Unsupported`]), and the connection ends, as it does for any bytes that are
//! not a packet.
//!
//! Upstream: `Learner.writePacket`/`readPacket`, `Learner.registerWithLeader`, `Learner.ping`,
//! `Learner.request`, `LearnerHandler.run`/`syncFollower`.

use std::fmt;
use std::sync::Arc;

use ch01_znode::{Sid, Zxid};
use ch03_sessions::jute::DecodeError;
use ch03_sessions::pipeline::{Database, Forward, Forwarded};
use ch03_sessions::proto::OpCode;
use tokio::io::AsyncRead;

use crate::message::Message;
use crate::packet::{
    DataError, ForwardedRequest, LearnerInfo, Packet, PacketError, PacketType, QuorumReader,
    ReadError, SessionTouch, PROTOCOL_VERSION,
};
use crate::snapshot_stream::{encode_snap_body, read_snap_body, SnapshotError};

// ANCHOR: to_packet
/// The packet that carries `msg` from server `me`; `ping_zxid` is the zxid of the last PING
/// received on the connection, which a PING answer echoes. A SNAP's database is not in its
/// packet: [`encode`] writes it after.
pub fn to_packet(msg: &Message, me: Sid, ping_zxid: Zxid) -> Packet {
    match msg {
        Message::LearnerInfo {
            observer,
            accepted_epoch,
        } => {
            let info = LearnerInfo {
                sid: me,
                protocol_version: PROTOCOL_VERSION,
                config_version: 0,
            };
            let accepted_epoch = *accepted_epoch;
            match observer {
                false => Packet::FollowerInfo {
                    accepted_epoch,
                    info,
                },
                true => Packet::ObserverInfo {
                    accepted_epoch,
                    info,
                },
            }
        }
        Message::LeaderInfo { epoch } => Packet::LeaderInfo {
            epoch: *epoch,
            protocol_version: PROTOCOL_VERSION,
        },
        Message::AckEpoch {
            current_epoch,
            last_zxid,
        } => Packet::AckEpoch {
            last_zxid: *last_zxid,
            current_epoch: *current_epoch,
        },
        Message::Diff { zxid } => Packet::Diff(*zxid),
        Message::Trunc { zxid } => Packet::Trunc(*zxid),
        Message::Snap { zxid, .. } => Packet::Snap(*zxid),
        Message::Proposal(entry) => Packet::Proposal(crate::txn_codec::TxnEntry::clone(entry)),
        Message::Ack(zxid) => Packet::Ack(*zxid),
        Message::Commit(zxid) => Packet::Commit(*zxid),
        Message::Inform(entry) => Packet::Inform(entry.clone()),
        Message::NewLeader { epoch } => Packet::NewLeader {
            zxid: epoch.first_zxid(),
            config: Vec::new(),
        },
        Message::UpToDate => Packet::UpToDate,
        Message::Request(forwarded) => Packet::Request(forwarded_request(forwarded)),
        Message::Ping(zxid) => Packet::Ping(*zxid),
        Message::PingReply(touched) => Packet::PingReply {
            zxid: ping_zxid,
            touches: touched
                .iter()
                .map(|&(session, timeout_ms)| SessionTouch {
                    session,
                    timeout_ms,
                })
                .collect(),
        },
        Message::Sync => Packet::Sync,
        Message::Revalidate {
            session,
            timeout_ms,
        } => Packet::Revalidate(SessionTouch {
            session: *session,
            timeout_ms: *timeout_ms,
        }),
        Message::RevalidateReply { session, valid } => Packet::RevalidateReply {
            session: *session,
            valid: *valid,
        },
    }
}
// ANCHOR_END: to_packet

/// The bytes that carry `msg` (see [`to_packet`]): its packet, and after a SNAP the snapshot
/// and `BenWasHere`.
pub fn encode(msg: &Message, me: Sid, ping_zxid: Zxid) -> Vec<u8> {
    let mut bytes = to_packet(msg, me, ping_zxid).encode();
    if let Message::Snap { db, .. } = msg {
        bytes.extend(encode_snap_body(&db.tree, &db.sessions));
    }
    bytes
}

/// Appends the bytes that carry `msg` ([`encode`]) to `out`: a batch of packets for one
/// connection.
pub fn encode_into(msg: &Message, me: Sid, ping_zxid: Zxid, out: &mut Vec<u8>) {
    match msg {
        Message::Snap { .. } => out.extend(encode(msg, me, ping_zxid)),
        msg => to_packet(msg, me, ping_zxid).to_raw().write_to(out),
    }
}

/// A chapter 3 forwarded request as upstream's REQUEST data. A createSession goes with a
/// null authinfo, as upstream submits it before the session has any.
fn forwarded_request(f: &Forwarded) -> ForwardedRequest {
    match &f.op {
        Forward::CreateSession { timeout_ms } => {
            ForwardedRequest::create_session(f.session, *timeout_ms)
        }
        Forward::Request(request) => {
            ForwardedRequest::new(f.session, f.cxid, request, f.auth.clone())
        }
    }
}

/// Why bytes on a quorum connection are not a message the core can take. Any of them ends
/// the connection.
#[derive(Debug)]
pub enum WireError {
    /// Not a packet: the stream failed or closed mid-packet, an unknown type, a length over
    /// the limit, bytes that break jute's rules.
    Packet(ReadError<PacketError>),
    /// A packet whose data does not fit its type.
    Data(DataError),
    /// A REQUEST whose client request does not decode.
    Request(DecodeError),
    /// The snapshot after a SNAP is not one.
    Snapshot(ReadError<SnapshotError>),
    /// A packet of a kind the core does not speak (reconfiguration).
    Unsupported(PacketType),
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Packet(e) => e.fmt(f),
            WireError::Data(e) => e.fmt(f),
            WireError::Request(e) => write!(f, "REQUEST: {e}"),
            WireError::Snapshot(e) => write!(f, "the snapshot after SNAP: {e}"),
            WireError::Unsupported(kind) => write!(f, "{kind} is not supported here"),
        }
    }
}

impl std::error::Error for WireError {}

/// A message read from a quorum connection, with the learner's introduction if it was one.
#[derive(Clone, Debug, PartialEq)]
pub struct Received {
    /// What the core gets.
    pub msg: Message,
    /// The `LearnerInfo` of a FOLLOWERINFO or OBSERVERINFO: who is on the other end.
    pub learner: Option<LearnerInfo>,
}

/// What a packet says to the core, or that a snapshot follows it.
enum Meaning {
    Message(Message, Option<LearnerInfo>),
    SnapFollows(Zxid),
}

// ANCHOR: from_packet
fn meaning(packet: Packet) -> Result<Meaning, WireError> {
    let msg = match packet {
        Packet::FollowerInfo {
            accepted_epoch,
            info,
        } => {
            let msg = Message::LearnerInfo {
                observer: false,
                accepted_epoch,
            };
            return Ok(Meaning::Message(msg, Some(info)));
        }
        Packet::ObserverInfo {
            accepted_epoch,
            info,
        } => {
            let msg = Message::LearnerInfo {
                observer: true,
                accepted_epoch,
            };
            return Ok(Meaning::Message(msg, Some(info)));
        }
        Packet::Snap(zxid) => return Ok(Meaning::SnapFollows(zxid)),
        Packet::LeaderInfo { epoch, .. } => Message::LeaderInfo { epoch },
        Packet::AckEpoch {
            last_zxid,
            current_epoch,
        } => Message::AckEpoch {
            current_epoch,
            last_zxid,
        },
        Packet::Diff(zxid) => Message::Diff { zxid },
        Packet::Trunc(zxid) => Message::Trunc { zxid },
        Packet::Proposal(entry) => Message::Proposal(Arc::new(entry)),
        Packet::Ack(zxid) => Message::Ack(zxid),
        Packet::Commit(zxid) => Message::Commit(zxid),
        Packet::Inform(entry) => Message::Inform(entry),
        Packet::NewLeader { zxid, .. } => Message::NewLeader {
            epoch: zxid.epoch(),
        },
        Packet::UpToDate => Message::UpToDate,
        Packet::Request(request) => Message::Request(forwarded(request)?),
        Packet::Ping(zxid) => Message::Ping(zxid),
        Packet::PingReply { touches, .. } => Message::PingReply(
            touches
                .into_iter()
                .map(|t| (t.session, t.timeout_ms))
                .collect(),
        ),
        Packet::Sync => Message::Sync,
        Packet::Revalidate(touch) => Message::Revalidate {
            session: touch.session,
            timeout_ms: touch.timeout_ms,
        },
        Packet::RevalidateReply { session, valid } => Message::RevalidateReply { session, valid },
        Packet::CommitAndActivate { .. } => {
            return Err(WireError::Unsupported(PacketType::CommitAndActivate))
        }
        Packet::InformAndActivate { .. } => {
            return Err(WireError::Unsupported(PacketType::InformAndActivate))
        }
    };
    Ok(Meaning::Message(msg, None))
}
// ANCHOR_END: from_packet

/// A REQUEST's data as chapter 3's forwarded request.
fn forwarded(request: ForwardedRequest) -> Result<Forwarded, WireError> {
    let op = match request.op {
        OpCode::CreateSession => Forward::CreateSession {
            timeout_ms: request.session_timeout_ms().ok_or(WireError::Request(
                DecodeError::UnexpectedNull {
                    what: "CreateSession timeout",
                },
            ))?,
        },
        _ => Forward::Request(request.request().map_err(WireError::Request)?),
    };
    Ok(Forwarded {
        session: request.session,
        cxid: request.cxid,
        op,
        auth: request.auth.unwrap_or_default(),
    })
}

// ANCHOR: read_message
/// The next message on a quorum connection, or `None` when the peer closed it between
/// packets. After a SNAP it reads the snapshot that follows; `extended_types` is how the
/// reader's tree reads ephemeral owners (see [`ch01_znode::DataTree::with_extended_types`]).
pub async fn read_message<R: AsyncRead + Unpin>(
    reader: &mut QuorumReader<R>,
    extended_types: bool,
) -> Result<Option<Received>, WireError> {
    let Some(raw) = reader.read_packet().await.map_err(WireError::Packet)? else {
        return Ok(None);
    };
    let packet = Packet::from_raw(&raw).map_err(WireError::Data)?;
    let (msg, learner) = match meaning(packet)? {
        Meaning::Message(msg, learner) => (msg, learner),
        Meaning::SnapFollows(zxid) => {
            let snapshot = read_snap_body(reader, extended_types, zxid)
                .await
                .map_err(WireError::Snapshot)?;
            let db = Database {
                tree: snapshot.tree,
                sessions: snapshot.sessions,
            };
            let msg = Message::Snap {
                zxid,
                db: Box::new(db),
            };
            (msg, None)
        }
    };
    Ok(Some(Received { msg, learner }))
}
// ANCHOR_END: read_message

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arb;
    use crate::txn_codec::TxnEntry;
    use ch01_znode::{Epoch, Id, SessionId, TxnHeader, TxnOp};
    use ch03_sessions::proto::{self, Request, SyncRequest};
    use proptest::prelude::*;

    const ME: Sid = Sid(2);

    fn txn(zxid: i64) -> ch01_znode::Txn {
        TxnHeader {
            session: SessionId(0x100000000000001),
            cxid: 4,
            zxid: Zxid(zxid),
            time_ms: 1000,
        }
        .txn(TxnOp::Delete { path: "/a".into() })
    }

    /// `msg` through bytes and back, read as a stream reader reads it.
    fn round_trip(msg: &Message, extended_types: bool) -> Received {
        let bytes = encode(msg, ME, Zxid(0x100000007));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut reader = QuorumReader::new(&bytes[..]);
            let received = read_message(&mut reader, extended_types).await.unwrap();
            assert!(
                read_message(&mut reader, extended_types)
                    .await
                    .unwrap()
                    .is_none(),
                "{msg}: nothing after it"
            );
            received.expect("one message")
        })
    }

    #[test]
    fn every_message_the_core_sends_reads_back_as_itself() {
        let auth = vec![Id {
            scheme: "digest".into(),
            id: "u:x".into(),
        }];
        let messages = [
            Message::LeaderInfo { epoch: Epoch(3) },
            Message::AckEpoch {
                current_epoch: Some(Epoch(2)),
                last_zxid: Zxid(0x200000004),
            },
            Message::AckEpoch {
                current_epoch: None,
                last_zxid: Zxid(0),
            },
            Message::Diff { zxid: Zxid(5) },
            Message::Trunc { zxid: Zxid(6) },
            Message::Proposal(Arc::new(TxnEntry::new(txn(0x300000001)))),
            Message::Ack(Zxid(0x300000001)),
            Message::Commit(Zxid(0x300000001)),
            Message::Inform(TxnEntry::new(txn(0x300000002))),
            Message::NewLeader { epoch: Epoch(3) },
            Message::UpToDate,
            Message::Request(Forwarded {
                session: SessionId(9),
                cxid: 12,
                op: Forward::Request(Request::Sync(SyncRequest {
                    path: Some("/".into()),
                })),
                auth: auth.clone(),
            }),
            Message::Request(Forwarded {
                session: SessionId(9),
                cxid: 13,
                op: Forward::Request(proto::Request::CloseSession),
                auth,
            }),
            Message::Request(Forwarded {
                session: SessionId(9),
                cxid: 0,
                op: Forward::CreateSession { timeout_ms: 4000 },
                auth: vec![],
            }),
            Message::Ping(Zxid(0x300000002)),
            Message::PingReply(vec![(SessionId(9), 4000), (SessionId(10), 6000)]),
            Message::Sync,
            Message::Revalidate {
                session: SessionId(9),
                timeout_ms: 4000,
            },
            Message::RevalidateReply {
                session: SessionId(9),
                valid: true,
            },
            Message::RevalidateReply {
                session: SessionId(10),
                valid: false,
            },
        ];
        for msg in messages {
            let received = round_trip(&msg, false);
            assert_eq!(received.msg, msg);
            assert_eq!(received.learner, None, "{msg}");
        }
    }

    /// FOLLOWERINFO carries the learner's own id, which the core leaves to the link
    /// (`Learner.registerWithLeader`: `LearnerInfo{serverid, protocolVersion, configVersion}`).
    #[test]
    fn a_learner_introduces_itself_with_its_sid() {
        for observer in [false, true] {
            let msg = Message::LearnerInfo {
                observer,
                accepted_epoch: Epoch(4),
            };
            let received = round_trip(&msg, false);
            assert_eq!(received.msg, msg);
            let info = received.learner.expect("an introduction");
            assert_eq!(
                (info.sid, info.protocol_version, info.config_version),
                (ME, 0x10000, 0)
            );
        }
    }

    /// A learner's PING answer echoes the zxid of the leader's PING (`Learner.ping`), and a
    /// createSession is forwarded with a null authinfo (`ZooKeeperServer.createSession`).
    #[test]
    fn what_the_connection_knows_goes_into_the_packet() {
        let reply = to_packet(&Message::PingReply(vec![]), ME, Zxid(0x500000003));
        assert_eq!(
            reply,
            Packet::PingReply {
                zxid: Zxid(0x500000003),
                touches: vec![]
            }
        );
        let create = Message::Request(Forwarded {
            session: SessionId(9),
            cxid: 0,
            op: Forward::CreateSession { timeout_ms: 4000 },
            auth: vec![Id {
                scheme: "ip".into(),
                id: "127.0.0.1".into(),
            }],
        });
        let Packet::Request(request) = to_packet(&create, ME, Zxid(0)) else {
            panic!("a REQUEST");
        };
        assert_eq!(request.auth, None);
    }

    #[test]
    fn packets_the_core_has_no_word_for_are_refused() {
        let bytes = Packet::CommitAndActivate {
            zxid: Zxid(0x100000001),
            designated_leader: ME,
        }
        .encode();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let e = runtime
            .block_on(read_message(&mut QuorumReader::new(&bytes[..]), false))
            .unwrap_err();
        assert_eq!(e.to_string(), "COMMITANDACTIVATE is not supported here");
    }

    proptest! {
        /// SNAP, then the whole database, then `BenWasHere`, read back as one message
        /// (`LearnerHandler.syncFollower`, `Learner.syncWithLeader`).
        #[test]
        fn a_snap_carries_the_whole_database(tree in arb::tree(), sessions in arb::sessions()) {
            let zxid = tree.last_processed_zxid();
            let db = Database { tree, sessions };
            let msg = Message::Snap { zxid, db: Box::new(db) };
            prop_assert_eq!(round_trip(&msg, true).msg, msg);
        }
    }
}
