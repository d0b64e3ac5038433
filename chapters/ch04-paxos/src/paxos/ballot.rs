//! Ballots and values: what Paxos orders and what it chooses.
//!
//! A ballot (Lamport's "proposal number") is a pair `(round, node)`. Ordering by round first and
//! node id second makes ballots totally ordered *and* unique per proposer: two proposers can both
//! be in round 3, but `3.1 < 3.2`, so no ballot is ever used by two proposers with two values.
//! ZooKeeper's Zab uses the same trick for epochs and zxids: a proposer's identity is folded into
//! the number that orders its proposals.

use std::fmt;

use serde::Serialize;

use crate::sim::NodeId;

// ANCHOR: ballot
/// A ballot number: compared by `round`, then by `node` (the derived `Ord` uses field order).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Ballot {
    /// Which attempt this is; a proposer that needs a new ballot picks a round above all it saw.
    pub round: u64,
    /// The proposer that owns the ballot, so equal rounds never collide.
    pub node: NodeId,
}
// ANCHOR_END: ballot

impl Ballot {
    /// The ballot below every real one: "promised nothing yet".
    pub const ZERO: Ballot = Ballot { round: 0, node: 0 };

    /// Ballot `round.node`.
    pub fn new(round: u64, node: NodeId) -> Self {
        Ballot { round, node }
    }
}

impl fmt::Display for Ballot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.round, self.node)
    }
}

/// A value a proposer wants chosen. Single-decree Paxos chooses exactly one.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Value(pub String);

impl Value {
    /// A value from text.
    pub fn new(v: impl Into<String>) -> Self {
        Value(v.into())
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ballots_order_by_round_then_by_node() {
        assert!(Ballot::new(1, 2) < Ballot::new(2, 1), "a higher round wins whatever the node");
        assert!(Ballot::new(3, 1) < Ballot::new(3, 2), "equal rounds: the higher node id wins");
        assert!(Ballot::ZERO < Ballot::new(1, 1));
        assert_eq!(Ballot::new(3, 2).to_string(), "3.2");
    }
}
