//! The recent past: the last few hundred txns this server applied (upstream `committedLog`).
//!
//! The idea to take away: to bring a learner up to date, a leader would rather send the txns
//! it lacks than its whole database. So every server keeps its most recent txns in memory,
//! and a learner whose last zxid falls in that window gets a DIFF; one before it gets a SNAP.
//! The window survives elections: a new leader starts with the history it applied as a
//! follower (and, after a restart, with the tail of its log).

use std::collections::VecDeque;

use ch01_znode::Zxid;

use crate::txn_codec::TxnEntry;

/// Upstream's default and minimum `zookeeper.commitLogCount`.
pub const COMMIT_LOG_COUNT: usize = 500;

// ANCHOR: history
/// The last `capacity` txns applied, oldest first, each with the tree digest after it when
/// it has one: a DIFF sends them as PROPOSALs, digest included, as upstream's `committedLog`
/// holds the serialized request (`ZKDatabase.addCommittedProposal`).
#[derive(Clone, Debug, PartialEq, Hash)]
pub struct History {
    txns: VecDeque<TxnEntry>,
    capacity: usize,
}

impl History {
    /// An empty window of `capacity` txns (at least one).
    pub fn new(capacity: usize) -> History {
        History {
            txns: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    /// One more applied txn; the oldest falls out when the window is full.
    pub fn push(&mut self, txn: TxnEntry) {
        if self
            .txns
            .back()
            .is_some_and(|last| last.txn.zxid >= txn.txn.zxid)
        {
            // A txn replayed over a snapshot that already had it: nothing new.
            return;
        }
        if self.txns.len() == self.capacity {
            self.txns.pop_front();
        }
        self.txns.push_back(txn);
    }

    /// Forget everything (the database was replaced by a snapshot).
    pub fn clear(&mut self) {
        self.txns.clear();
    }

    /// `(minCommittedLog, maxCommittedLog)`; both `last` when the window is empty.
    pub fn bounds(&self, last: Zxid) -> (Zxid, Zxid) {
        match (self.txns.front(), self.txns.back()) {
            (Some(first), Some(newest)) => (first.txn.zxid, newest.txn.zxid),
            _ => (last, last),
        }
    }
    // ANCHOR_END: history

    /// Whether the txn at `zxid` is in the window.
    pub fn contains(&self, zxid: Zxid) -> bool {
        self.txns
            .binary_search_by_key(&zxid, |t| t.txn.zxid)
            .is_ok()
    }

    /// The first zxid in the window after `zxid`.
    pub fn first_after(&self, zxid: Zxid) -> Option<Zxid> {
        self.txns.iter().map(|t| t.txn.zxid).find(|z| *z > zxid)
    }

    /// The last zxid in the window before `zxid`.
    pub fn last_before(&self, zxid: Zxid) -> Option<Zxid> {
        self.txns
            .iter()
            .rev()
            .map(|t| t.txn.zxid)
            .find(|z| *z < zxid)
    }

    /// Every txn in the window after `zxid`, oldest first.
    pub fn after(&self, zxid: Zxid) -> Vec<TxnEntry> {
        self.txns
            .iter()
            .filter(|t| t.txn.zxid > zxid)
            .cloned()
            .collect()
    }

    /// How many txns the window holds.
    pub fn len(&self) -> usize {
        self.txns.len()
    }

    /// Whether the window is empty.
    pub fn is_empty(&self) -> bool {
        self.txns.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ch01_znode::TxnOp;

    fn txn(zxid: i64) -> TxnEntry {
        TxnEntry::new(crate::arb::txn_at(zxid, TxnOp::Error { code: 0 }))
    }

    #[test]
    fn the_window_keeps_the_newest_txns() {
        // ZKDatabase.addCommittedProposal drops the oldest past commitLogCount.
        let mut h = History::new(2);
        for z in 1..=3 {
            h.push(txn(z));
        }
        assert_eq!(h.bounds(Zxid(9)), (Zxid(2), Zxid(3)));
        assert!(!h.contains(Zxid(1)) && h.contains(Zxid(2)));
        assert_eq!(h.after(Zxid(2)).len(), 1);
        assert_eq!(h.first_after(Zxid(2)), Some(Zxid(3)));
        assert_eq!(h.last_before(Zxid(3)), Some(Zxid(2)));
    }

    #[test]
    fn an_empty_window_spans_only_the_last_zxid() {
        // LearnerHandler: minCommittedLog = maxCommittedLog = lastProcessedZxid when empty.
        assert_eq!(History::new(5).bounds(Zxid(7)), (Zxid(7), Zxid(7)));
    }
}
