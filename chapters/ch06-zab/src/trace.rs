//! The chapter's one event type: what a quorum peer tells the trace.
//!
//! The idea to take away: a run is a story of decisions, and each decision is one line. The
//! election's own lines come from chapter 5 unchanged ([`Note::Election`]); Zab adds the
//! moments that matter in this chapter ([`ZabNote`]): the epoch a leader proposes and who
//! promised it, how each learner is synced, when the leader is established, which ACKs
//! committed each txn, and why a server stopped leading or following. The same values feed
//! the plain and coloured text, the JSON lines and the SVG diagram.

use std::fmt;

use ch01_znode::{Epoch, SessionId, Sid, Zxid};
use ch05_election::peer::Note as ElectionNote;
use serde::Serialize;

/// `n1 n2 n3`.
fn sids(s: &[Sid]) -> String {
    let names: Vec<String> = s.iter().map(|s| format!("n{s}")).collect();
    names.join(" ")
}

// ANCHOR: zab_note
/// A Zab decision worth a line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum ZabNote {
    /// The leader heard from a quorum and proposes the next epoch.
    EpochProposed { epoch: Epoch, heard: Vec<Sid> },
    /// A quorum promised the epoch; it is the leader's currentEpoch now.
    EpochAcked { epoch: Epoch, by: Vec<Sid> },
    /// A learner's history is ahead of the leader's: it is turned away.
    LearnerAhead {
        learner: Sid,
        current: Epoch,
        last_zxid: Zxid,
    },
    /// How the leader brings a learner up to date.
    SyncLearner {
        learner: Sid,
        peer_zxid: Zxid,
        mode: &'static str,
    },
    /// How a learner is being brought up to date.
    SyncBy { mode: &'static str, zxid: Zxid },
    /// A quorum acknowledged NEWLEADER: the leader serves.
    Established { epoch: Epoch, by: Vec<Sid> },
    /// UPTODATE: the learner serves.
    UpToDate { epoch: Epoch },
    /// A quorum logged the txn: committed.
    Committed { zxid: Zxid, acks: Vec<Sid> },
    /// The leader answered a learner's REVALIDATE for a reconnecting client
    /// (upstream's `Leader.revalidateSession` traces the same words).
    Revalidated { session: SessionId, valid: bool },
    /// The server stops leading or following, and why.
    Quit { role: &'static str, why: String },
    /// Zab ended with txns appended and not yet on disk: the server votes only once they
    /// are (its vote names them).
    SyncsTail { zxids: Vec<Zxid> },
    /// A sync broke before NEWLEADER: the database it built in memory is dropped for the
    /// one on disk.
    DropsUnsaved { back_to: Zxid },
    /// The disk could not carry out a TRUNC to `zxid`: a snapshot is newer. The learner
    /// leaves this leader, and asks the next one it joins for a SNAP.
    CannotTruncate { zxid: Zxid },
    /// After a TRUNC its disk could not carry out, the learner tells the leader it has
    /// nothing (last zxid -1), so that the leader sends a SNAP.
    AsksForSnap,
    /// A packet that should not have come, dropped.
    Unexpected(String),
}
// ANCHOR_END: zab_note

impl fmt::Display for ZabNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ZabNote::EpochProposed { epoch, heard } => {
                write!(f, "heard from {}: proposes epoch {epoch}", sids(heard))
            }
            ZabNote::EpochAcked { epoch, by } => {
                write!(
                    f,
                    "epoch {epoch} acknowledged by {}: currentEpoch = {epoch}",
                    sids(by)
                )
            }
            ZabNote::LearnerAhead {
                learner,
                current,
                last_zxid,
            } => write!(
                f,
                "n{learner} is ahead of us (epoch {current}, zxid {last_zxid}): turned away"
            ),
            ZabNote::SyncLearner {
                learner,
                peer_zxid,
                mode,
            } if *peer_zxid == Zxid(-1) => {
                write!(f, "n{learner} says it has nothing (-1): syncs it by {mode}")
            }
            ZabNote::SyncLearner {
                learner,
                peer_zxid,
                mode,
            } => write!(f, "n{learner} has up to {peer_zxid}: syncs it by {mode}"),
            ZabNote::SyncBy { mode, zxid } => write!(f, "synced by {mode} {zxid}"),
            ZabNote::Established { epoch, by } => {
                write!(f, "NEWLEADER acked by {}: leads epoch {epoch}", sids(by))
            }
            ZabNote::UpToDate { epoch } => write!(f, "up to date in epoch {epoch}: serves"),
            ZabNote::Committed { zxid, acks } => {
                write!(f, "commits {zxid}: acked by {}", sids(acks))
            }
            ZabNote::Revalidated { session, valid } => {
                write!(f, "Session {session} is valid: {valid}")
            }
            ZabNote::Quit { role, why } => write!(f, "stops {role}: {why}"),
            ZabNote::SyncsTail { zxids } => {
                let zxids: Vec<String> = zxids.iter().map(Zxid::to_string).collect();
                write!(f, "waits for its disk before it votes: {}", zxids.join(" "))
            }
            ZabNote::DropsUnsaved { back_to } => write!(
                f,
                "drops the synced database it never wrote down: back to {back_to} from disk"
            ),
            ZabNote::CannotTruncate { zxid } => write!(
                f,
                "cannot cut its log back to {zxid}: a snapshot is newer; will ask for a SNAP"
            ),
            ZabNote::AsksForSnap => write!(f, "says it has nothing (-1): asks for a SNAP"),
            ZabNote::Unexpected(what) => write!(f, "drops {what}"),
        }
    }
}

// ANCHOR: note
/// One line of a quorum peer's story: the election's, or Zab's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Note {
    /// Chapter 5's election, as it tells itself.
    Election(ElectionNote),
    /// This chapter's.
    Zab(ZabNote),
}
// ANCHOR_END: note

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::Election(n) => n.fmt(f),
            Note::Zab(n) => n.fmt(f),
        }
    }
}
