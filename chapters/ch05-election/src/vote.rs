//! A vote, and the one rule that says which of two votes is better.
//!
//! Every server starts an election by voting for itself, and switches only
//! to a *better* vote. "Better" is a total order on `(peer epoch, zxid, sid)`
//! compared in that order: the candidate that has seen the most recent epoch
//! wins, then the one with the longest log, and only when both tie does the
//! larger server id break the tie. Because every server applies the same
//! order to the same candidates, they all drift towards the same vote.
//!
//! Upstream: `FastLeaderElection.totalOrderPredicate` and `Vote.java`.

use ch01_znode::{Epoch, Sid, Zxid};
use serde::Serialize;
use std::cmp::Ordering;
use std::fmt;

/// The sid an observer proposes when it starts looking: `Long.MIN_VALUE` on
/// the wire. It is nobody, so it loses to every real candidate.
pub const NO_CANDIDATE: Sid = Sid(i64::MIN as u64);

/// An election round: ZooKeeper's `logicalclock`, which a notification
/// carries as `electionEpoch`. A server enters the next round each time it
/// starts looking and jumps to any later round it hears of; only votes of
/// the same round are counted together.
///
/// Not a leader [`Epoch`], whatever upstream's field name says: a round
/// counts elections, not leaders, lives in memory only (a restarted server
/// counts from 1 again), and never becomes part of a zxid.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Round(pub i64);

impl Round {
    /// The round a server enters when it starts looking again.
    pub fn next(self) -> Round {
        Round(self.0 + 1)
    }
}

impl fmt::Display for Round {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What a server is doing, with ZooKeeper's numbers on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ServerState {
    /// Electing: no leader known.
    Looking = 0,
    /// Elected someone else and follows it; votes in elections and on writes.
    Following = 1,
    /// Elected itself.
    Leading = 2,
    /// Learns the leader like a follower but never votes.
    Observing = 3,
}

impl ServerState {
    /// The state a wire number stands for, if any.
    pub fn from_wire(n: i32) -> Option<ServerState> {
        match n {
            0 => Some(ServerState::Looking),
            1 => Some(ServerState::Following),
            2 => Some(ServerState::Leading),
            3 => Some(ServerState::Observing),
            _ => None,
        }
    }
    /// The word `zkServer.sh status` prints after `Mode:` (`None` while looking:
    /// a looking server does not serve, so the script cannot reach it).
    pub fn mode(self) -> Option<&'static str> {
        match self {
            ServerState::Looking => None,
            ServerState::Following => Some("follower"),
            ServerState::Leading => Some("leader"),
            ServerState::Observing => Some("observer"),
        }
    }
}

impl fmt::Display for ServerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ServerState::Looking => "LOOKING",
            ServerState::Following => "FOLLOWING",
            ServerState::Leading => "LEADING",
            ServerState::Observing => "OBSERVING",
        })
    }
}

// ANCHOR: vote
/// A proposal: "`leader` should lead; it has seen epoch `peer_epoch` and
/// logged up to `zxid`".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Vote {
    /// The proposed leader.
    pub leader: Sid,
    /// The proposed leader's last *logged* zxid (committed or not).
    pub zxid: Zxid,
    /// The proposed leader's `currentEpoch` (not `zxid >> 32`).
    pub peer_epoch: Epoch,
}
// ANCHOR_END: vote

impl Vote {
    /// The vote an observer starts with: nobody, which every real vote beats.
    /// Sid, zxid and epoch are all `Long.MIN_VALUE` on the wire, as upstream's
    /// `getInitId`, `getInitLastLoggedZxid` and `getPeerEpoch` give a non-voter.
    pub const NOBODY: Vote = Vote {
        leader: NO_CANDIDATE,
        zxid: Zxid(i64::MIN),
        peer_epoch: Epoch(i64::MIN),
    };
}

impl fmt::Display for Vote {
    /// `n3 (epoch 0, zxid 0x0)`: who, and why they would be a good leader.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.leader == NO_CANDIDATE {
            return f.write_str("nobody");
        }
        write!(
            f,
            "n{} (epoch {}, zxid {})",
            self.leader, self.peer_epoch, self.zxid
        )
    }
}

/// A way to order two votes. ZooKeeper's is [`zookeeper_order`]; the lab
/// plugs in another one to see how the outcome changes.
pub type VoteOrder = fn(&Vote, &Vote) -> Ordering;

// ANCHOR: order
/// ZooKeeper's vote order: higher peer epoch, then higher zxid, then higher
/// sid. `Ordering::Greater` means `a` is the better leader.
///
/// Epoch first: a server that saw a later leader knows of transactions the
/// others may not. Zxid second: the longest log holds every committed
/// transaction (any committed txn is on a quorum, and quorums overlap). Sid
/// last: an arbitrary but agreed tie-break so that equal servers converge.
pub fn zookeeper_order(a: &Vote, b: &Vote) -> Ordering {
    (a.peer_epoch, a.zxid, a.leader).cmp(&(b.peer_epoch, b.zxid, b.leader))
}
// ANCHOR_END: order

/// Which field told `new` and `cur` apart, and which way: the trace says
/// why a server switched its vote ("higher sid" under ZooKeeper's order).
pub fn why_better(new: &Vote, cur: &Vote) -> &'static str {
    use Ordering::*;
    match (
        new.peer_epoch.cmp(&cur.peer_epoch),
        new.zxid.cmp(&cur.zxid),
        new.leader.cmp(&cur.leader),
    ) {
        (Greater, _, _) => "higher epoch",
        (Less, _, _) => "lower epoch",
        (Equal, Greater, _) => "higher zxid",
        (Equal, Less, _) => "lower zxid",
        (Equal, Equal, Greater) => "higher sid",
        (Equal, Equal, _) => "lower sid",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vote for server `leader`, with its zxid and peer epoch.
    fn v(leader: u64, zxid: i64, peer_epoch: i64) -> Vote {
        Vote {
            leader: Sid(leader),
            zxid: Zxid(zxid),
            peer_epoch: Epoch(peer_epoch),
        }
    }

    /// A higher epoch wins even against a longer log. (election.md §4, priority 1)
    #[test]
    fn higher_epoch_beats_higher_zxid_and_sid() {
        assert_eq!(
            zookeeper_order(&v(1, 5, 2), &v(9, 900, 1)),
            Ordering::Greater
        );
    }

    /// With equal epochs the longer log wins. (election.md §4, priority 2)
    #[test]
    fn equal_epochs_compare_zxid() {
        assert_eq!(zookeeper_order(&v(1, 7, 1), &v(9, 6, 1)), Ordering::Greater);
    }

    /// With equal epoch and zxid, the larger sid wins. (election.md §4, priority 3)
    #[test]
    fn equal_epoch_and_zxid_larger_sid_wins() {
        assert_eq!(zookeeper_order(&v(3, 0, 0), &v(2, 0, 0)), Ordering::Greater);
        assert_eq!(zookeeper_order(&v(2, 0, 0), &v(3, 0, 0)), Ordering::Less);
    }

    /// An observer's initial vote loses to every real vote. (FastLeaderElection.getInitId)
    #[test]
    fn nobody_loses_to_every_real_vote() {
        assert_eq!(zookeeper_order(&Vote::NOBODY, &v(1, 0, 0)), Ordering::Less);
        assert_eq!(Vote::NOBODY.to_string(), "nobody");
    }

    #[test]
    fn why_better_names_the_deciding_field() {
        assert_eq!(why_better(&v(1, 0, 2), &v(2, 0, 1)), "higher epoch");
        assert_eq!(why_better(&v(1, 9, 1), &v(2, 0, 1)), "higher zxid");
        assert_eq!(why_better(&v(3, 0, 0), &v(2, 0, 0)), "higher sid");
        // Under another order (the lab's), the reason may point the other way.
        assert_eq!(why_better(&v(1, 0, 0), &v(2, 0, 0)), "lower sid");
    }
}
