//! What a leader and its learners say to each other: Zab's packets, as the core speaks them.
//!
//! The idea to take away: Zab is a conversation on **one TCP connection per learner**, and
//! everything it guarantees leans on that connection delivering in order or not at all. A
//! learner opens the connection ([`Link`]), introduces itself (FOLLOWERINFO), and from then on
//! every packet of that connection follows the three phases: the leader's new epoch is agreed
//! (LEADERINFO, ACKEPOCH), the learner's history is made equal to the leader's (DIFF, TRUNC or
//! SNAP, then NEWLEADER, its ACK, and UPTODATE), and writes flow (REQUEST, PROPOSAL, ACK,
//! COMMIT, INFORM to observers, PING, SYNC). If the connection breaks, none of it is resumed:
//! the learner goes back to electing, and a new connection starts from FOLLOWERINFO.
//!
//! The packet numbers and the fields are ZooKeeper's (`Leader.java`'s constants, `QuorumPacket`
//! in `zookeeper.jute`); the codec that lays them out in bytes is [`crate::packet`]. Here a
//! packet is typed: a PROPOSAL carries chapter 1's [`Txn`](ch01_znode::Txn), a REQUEST chapter 3's
//! [`Forwarded`], a SNAP the whole [`Database`].

use std::fmt;
use std::sync::Arc;

use ch01_znode::{Epoch, SessionId, Sid, Zxid};
use ch03_sessions::pipeline::{Database, Forward, Forwarded};
use serde::Serialize;

use crate::txn_codec::TxnEntry;

// ANCHOR: link
/// One learner's connection to its leader: the learner's id and its own count of the
/// connections it has opened. A packet of an older connection is a packet of a closed socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Link {
    /// The learner that opened the connection.
    pub learner: Sid,
    /// Its number among the learner's connections, counted up from the learner's start time
    /// (ms), so that a restarted learner never reuses the number of one its previous life opened.
    pub n: u32,
}
// ANCHOR_END: link

impl fmt::Display for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}#{}", self.learner, self.n)
    }
}

// ANCHOR: message
/// A Zab packet (upstream `QuorumPacket`, with its `type` as the variant).
#[derive(Clone, Debug, PartialEq, Hash)]
pub enum Message {
    /// 11 / 16, learner → leader: "I am here, and this is the highest epoch I have accepted".
    /// zxid = `acceptedEpoch << 32`; data = `LearnerInfo`.
    LearnerInfo {
        /// OBSERVERINFO (16) rather than FOLLOWERINFO (11).
        observer: bool,
        /// The learner's `acceptedEpoch` file.
        accepted_epoch: Epoch,
    },
    /// 17, leader → learner: the epoch this leader will lead (zxid = `epoch << 32`).
    LeaderInfo {
        /// The new epoch.
        epoch: Epoch,
    },
    /// 18, learner → leader: "I accept it; here is how far my history goes". `None` is the
    /// `-1` of a learner that had already accepted this epoch.
    AckEpoch {
        /// The learner's `currentEpoch`, or `None`.
        current_epoch: Option<Epoch>,
        /// Its last logged zxid.
        last_zxid: Zxid,
    },
    /// 13: the learner's log is a prefix of the leader's; the txns it lacks follow.
    Diff {
        /// The leader's last committed zxid.
        zxid: Zxid,
    },
    /// 14: the learner has txns the leader does not: cut the log back to `zxid`.
    Trunc {
        /// Where to cut.
        zxid: Zxid,
    },
    /// 15: the learner is too far behind for a diff: here is the whole database.
    Snap {
        /// The zxid of the snapshot.
        zxid: Zxid,
        /// Sessions and tree.
        db: Box<Database>,
    },
    /// 2, leader → follower: log this txn (with the leader's tree digest after it, which the
    /// follower logs too) and acknowledge it. Shared: the leader sends the one txn to every
    /// follower and to its own disk, and keeps it until it commits.
    Proposal(Arc<TxnEntry>),
    /// 3, follower → leader: "I have logged the txn at this zxid". An ACK of `epoch << 32`
    /// answers NEWLEADER (and, after UPTODATE, says the learner is serving).
    Ack(Zxid),
    /// 4, leader → follower: a quorum has logged it; apply it.
    Commit(Zxid),
    /// 8, leader → observer: a committed txn, to apply at once (observers never ACK).
    Inform(TxnEntry),
    /// 10, leader → learner: the end of the sync; zxid = `epoch << 32`.
    NewLeader {
        /// The new epoch.
        epoch: Epoch,
    },
    /// 12, leader → learner: a quorum is synced; start serving clients.
    UpToDate,
    /// 1, learner → leader: a client's write (or sync, or new session) to decide.
    Request(Forwarded),
    /// 5, leader → learner: "still here"; zxid = the last proposed.
    Ping(Zxid),
    /// 5, learner → leader: the answer, with the sessions its clients kept alive.
    PingReply(Vec<(SessionId, i32)>),
    /// 7, leader → learner: the learner's oldest forwarded `sync` may be answered.
    Sync,
    /// 6, learner → leader: a client reconnects to the learner with this session; is it
    /// alive? (The timeout is the one the learner negotiated.)
    Revalidate {
        /// The session.
        session: SessionId,
        /// Its timeout on the new connection, ms.
        timeout_ms: i32,
    },
    /// 6, leader → learner: the answer; a valid session has been touched.
    RevalidateReply {
        /// The session.
        session: SessionId,
        /// Alive, or gone (or closing).
        valid: bool,
    },
}
// ANCHOR_END: message

impl Message {
    /// ZooKeeper's name for the packet type (`LearnerHandler.packetToString`).
    pub fn name(&self) -> &'static str {
        match self {
            Message::LearnerInfo {
                observer: false, ..
            } => "FOLLOWERINFO",
            Message::LearnerInfo { observer: true, .. } => "OBSERVERINFO",
            Message::LeaderInfo { .. } => "LEADERINFO",
            Message::AckEpoch { .. } => "ACKEPOCH",
            Message::Diff { .. } => "DIFF",
            Message::Trunc { .. } => "TRUNC",
            Message::Snap { .. } => "SNAP",
            Message::Proposal(_) => "PROPOSAL",
            Message::Ack(_) => "ACK",
            Message::Commit(_) => "COMMIT",
            Message::Inform(_) => "INFORM",
            Message::NewLeader { .. } => "NEWLEADER",
            Message::UpToDate => "UPTODATE",
            Message::Request(_) => "REQUEST",
            Message::Ping(_) | Message::PingReply(_) => "PING",
            Message::Sync => "SYNC",
            Message::Revalidate { .. } | Message::RevalidateReply { .. } => "REVALIDATE",
        }
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.name();
        match self {
            Message::LearnerInfo { accepted_epoch, .. } => {
                write!(f, "{name} acceptedEpoch {accepted_epoch}")
            }
            Message::LeaderInfo { epoch } | Message::NewLeader { epoch } => {
                write!(f, "{name} epoch {epoch}")
            }
            Message::AckEpoch {
                current_epoch,
                last_zxid,
            } => match current_epoch {
                Some(e) => write!(f, "{name} currentEpoch {e}, last zxid {last_zxid}"),
                None => write!(f, "{name} (epoch already accepted), last zxid {last_zxid}"),
            },
            Message::Diff { zxid } | Message::Trunc { zxid } => write!(f, "{name} {zxid}"),
            Message::Snap { zxid, db } => write!(
                f,
                "{name} {zxid} ({} znodes, {} sessions)",
                db.tree.node_count(),
                db.sessions.len()
            ),
            Message::Proposal(entry) => write!(f, "{name} {}", entry.txn),
            Message::Inform(TxnEntry { txn, .. }) => write!(f, "{name} {txn}"),
            Message::Ack(zxid) | Message::Commit(zxid) | Message::Ping(zxid) => {
                write!(f, "{name} {zxid}")
            }
            Message::UpToDate | Message::Sync => f.write_str(name),
            Message::Request(r) => {
                write!(f, "{name} session {} cxid {}: ", r.session, r.cxid)?;
                match &r.op {
                    Forward::CreateSession { timeout_ms } => {
                        write!(f, "createSession timeout={timeout_ms}ms")
                    }
                    Forward::Request(request) => write!(f, "{}", request.op_code()),
                }
            }
            Message::Revalidate {
                session,
                timeout_ms,
            } => write!(f, "{name} session {session} timeout={timeout_ms}ms"),
            Message::RevalidateReply { session, valid } => {
                let answer = if *valid { "valid" } else { "invalid" };
                write!(f, "{name} session {session}: {answer}")
            }
            Message::PingReply(touched) if touched.is_empty() => f.write_str(name),
            Message::PingReply(touched) => {
                let ids: Vec<String> = touched.iter().map(|(s, _)| s.to_string()).collect();
                write!(f, "{name} touches {}", ids.join(" "))
            }
        }
    }
}

impl Serialize for Message {
    /// As the trace prints it: JSON readers get the packet name and the same words.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Message", 2)?;
        st.serialize_field("type", self.name())?;
        st.serialize_field("text", &self.to_string())?;
        st.end()
    }
}
