//! What a byte codec cannot see: packets that are well formed one by one and impossible
//! together.
//!
//! The idea to take away: **TCP gives Zab order, and order is checkable.** On one quorum
//! connection the leader's zxids only go forward: proposals in zxid order, commits in zxid
//! order, and, once NEWLEADER has closed the sync, every new proposal and commit belongs to
//! the epoch the leader announced in LEADERINFO; nothing ever names a later epoch than that.
//! A follower's ACKs go forward too, and its ACK of NEWLEADER names the leader's epoch. A
//! packet that breaks this is not a message to act on but a sign that the other end is
//! broken, stale or hostile: the connection is dropped (and reported), exactly as for bytes
//! that are not a packet. The core then sees the connection end, and does what it does when
//! a connection ends: a learner elects again, a leader forgets that learner.
//!
//! One [`Guard`] watches one connection from our end, in both directions: what we sent tells
//! a leader's guard the epoch it announced.
//!
//! Upstream warns about some of these (`Follower.processPacket`: "Got zxid 0x… expected
//! 0x…"; `Leader.waitForNewLeaderAck`: "NEWLEADER ACK from sid … is from a different
//! epoch") and carries on; here they end the connection, which costs a resync at most.

use ch01_znode::{Epoch, Zxid};

use crate::message::Message;
use crate::txn_codec::TxnEntry;

/// Which end of the connection we are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    /// We follow (or observe): the packets come from a leader.
    Learner,
    /// We lead: the packets come from a learner.
    Leader,
}

/// The order one quorum connection has shown so far.
#[derive(Clone, Debug)]
pub struct Guard {
    end: End,
    /// The epoch of the LEADERINFO on this connection.
    epoch: Option<Epoch>,
    /// NEWLEADER has come (learner end): the sync is over.
    synced: bool,
    last_proposal: Option<Zxid>,
    last_commit: Option<Zxid>,
    last_ack: Option<Zxid>,
}

impl Guard {
    /// The guard of a connection to our leader.
    pub fn learner() -> Guard {
        Guard::new(End::Learner)
    }

    /// The guard of a learner's connection to us.
    pub fn leader() -> Guard {
        Guard::new(End::Leader)
    }

    fn new(end: End) -> Guard {
        Guard {
            end,
            epoch: None,
            synced: false,
            last_proposal: None,
            last_commit: None,
            last_ack: None,
        }
    }

    /// We sent `msg` on the connection.
    pub fn sent(&mut self, msg: &Message) {
        if let (End::Leader, Message::LeaderInfo { epoch }) = (self.end, msg) {
            self.epoch = Some(*epoch);
        }
    }

    // ANCHOR: received
    /// `msg` arrived on the connection; `Err` says why the connection must be dropped.
    pub fn received(&mut self, msg: &Message) -> Result<(), String> {
        match (self.end, msg) {
            (End::Learner, Message::LeaderInfo { epoch }) => self.epoch = Some(*epoch),
            (End::Learner, Message::NewLeader { epoch }) => {
                self.synced = Some(*epoch) == self.epoch;
            }
            (End::Learner, Message::Proposal(entry)) => {
                self.new_epoch_only(msg, entry.txn.zxid)?;
                Self::forward(msg, entry.txn.zxid, &mut self.last_proposal)?;
            }
            (End::Learner, Message::Inform(TxnEntry { txn, .. })) => {
                self.new_epoch_only(msg, txn.zxid)?;
                Self::forward(msg, txn.zxid, &mut self.last_proposal)?;
            }
            (End::Learner, Message::Commit(zxid)) => {
                self.new_epoch_only(msg, *zxid)?;
                Self::forward(msg, *zxid, &mut self.last_commit)?;
            }
            (
                End::Learner,
                Message::Diff { zxid } | Message::Trunc { zxid } | Message::Snap { zxid, .. },
            )
            | (End::Learner, Message::Ping(zxid)) => self.not_after(msg, *zxid)?,
            // An ACK of `epoch << 32` answers NEWLEADER (or UPTODATE): our epoch, no other.
            (End::Leader, Message::Ack(zxid)) if zxid.counter() == 0 => match self.epoch {
                Some(epoch) if zxid.epoch() != epoch => {
                    return Err(format!(
                        "stale epoch: ACK {zxid} is for epoch {}, not ours ({epoch})",
                        zxid.epoch()
                    ))
                }
                _ => {}
            },
            (End::Leader, Message::Ack(zxid)) => {
                self.not_after(msg, *zxid)?;
                Self::forward(msg, *zxid, &mut self.last_ack)?;
            }
            _ => {}
        }
        Ok(())
    }
    // ANCHOR_END: received

    /// Zxids of one kind only go forward on a connection.
    fn forward(msg: &Message, zxid: Zxid, last: &mut Option<Zxid>) -> Result<(), String> {
        if let Some(before) = *last {
            if zxid <= before {
                return Err(format!(
                    "zxid going backwards: {} {zxid} after {before}",
                    msg.name()
                ));
            }
        }
        *last = Some(zxid);
        Ok(())
    }

    /// Nothing names an epoch after the one the leader announced.
    fn not_after(&self, msg: &Message, zxid: Zxid) -> Result<(), String> {
        match self.epoch {
            Some(epoch) if zxid.epoch() > epoch => Err(format!(
                "{} {zxid} is from epoch {}, after this leader's epoch {epoch}",
                msg.name(),
                zxid.epoch()
            )),
            _ => Ok(()),
        }
    }

    /// After NEWLEADER, proposals and commits are the leader's own: its epoch exactly.
    fn new_epoch_only(&self, msg: &Message, zxid: Zxid) -> Result<(), String> {
        self.not_after(msg, zxid)?;
        match self.epoch {
            Some(epoch) if self.synced && zxid.epoch() < epoch => Err(format!(
                "stale epoch: {} {zxid} is from epoch {}, before this leader's epoch {epoch}",
                msg.name(),
                zxid.epoch()
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ch01_znode::{SessionId, Txn, TxnHeader, TxnOp};
    use std::sync::Arc;

    fn proposal(zxid: i64) -> Message {
        Message::Proposal(Arc::new(TxnEntry::new(txn(zxid))))
    }

    fn txn(zxid: i64) -> Txn {
        TxnHeader {
            session: SessionId(1),
            cxid: 1,
            zxid: Zxid(zxid),
            time_ms: 0,
        }
        .txn(TxnOp::Delete { path: "/a".into() })
    }

    /// A learner synced by DIFF sees older epochs' txns, then NEWLEADER, then the new
    /// epoch's proposals, all in zxid order (zab.md §5, `LearnerHandler.syncFollower`).
    #[test]
    fn a_leaders_ordinary_stream_passes() {
        let mut g = Guard::learner();
        for msg in [
            Message::LeaderInfo { epoch: Epoch(3) },
            Message::Diff {
                zxid: Zxid(0x200000002),
            },
            proposal(0x100000005),
            Message::Commit(Zxid(0x100000005)),
            proposal(0x200000002),
            Message::Commit(Zxid(0x200000002)),
            Message::NewLeader { epoch: Epoch(3) },
            Message::UpToDate,
            Message::Ping(Zxid(0x300000000)),
            proposal(0x300000001),
            proposal(0x300000002),
            Message::Commit(Zxid(0x300000001)),
            Message::Commit(Zxid(0x300000002)),
        ] {
            assert_eq!(g.received(&msg), Ok(()), "{msg}");
        }
    }

    #[test]
    fn a_learner_drops_a_leader_whose_zxids_go_backwards() {
        let mut g = Guard::learner();
        g.received(&Message::LeaderInfo { epoch: Epoch(1) })
            .unwrap();
        g.received(&proposal(0x100000002)).unwrap();
        assert_eq!(
            g.received(&proposal(0x100000001)),
            Err("zxid going backwards: PROPOSAL 0x100000001 after 0x100000002".into())
        );
        g.received(&Message::Commit(Zxid(0x100000002))).unwrap();
        assert!(g.received(&Message::Commit(Zxid(0x100000002))).is_err());
    }

    #[test]
    fn a_learner_drops_a_leader_that_sends_another_epochs_proposals() {
        let mut g = Guard::learner();
        g.received(&Message::LeaderInfo { epoch: Epoch(2) })
            .unwrap();
        assert_eq!(
            g.received(&proposal(0x300000001)),
            Err("PROPOSAL 0x300000001 is from epoch 3, after this leader's epoch 2".to_string())
        );
        let mut g = Guard::learner();
        g.received(&Message::LeaderInfo { epoch: Epoch(2) })
            .unwrap();
        g.received(&Message::NewLeader { epoch: Epoch(2) }).unwrap();
        assert_eq!(
            g.received(&Message::Commit(Zxid(0x100000009))),
            Err(
                "stale epoch: COMMIT 0x100000009 is from epoch 1, before this leader's epoch 2"
                    .to_string()
            )
        );
    }

    #[test]
    fn a_leader_drops_a_learner_with_a_stale_or_backward_ack() {
        let mut g = Guard::leader();
        g.sent(&Message::LeaderInfo { epoch: Epoch(4) });
        assert_eq!(
            g.received(&Message::Ack(Zxid(0x300000000))),
            Err("stale epoch: ACK 0x300000000 is for epoch 3, not ours (4)".into())
        );
        g.received(&Message::Ack(Zxid(0x400000000))).unwrap();
        g.received(&Message::Ack(Zxid(0x200000007))).unwrap();
        g.received(&Message::Ack(Zxid(0x400000001))).unwrap();
        assert!(g.received(&Message::Ack(Zxid(0x400000001))).is_err());
        assert!(g.received(&Message::Ack(Zxid(0x500000001))).is_err());
    }
}
