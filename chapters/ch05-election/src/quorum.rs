//! Who votes, and which sets of voters are enough.
//!
//! An election ends when "enough" servers agree. Enough is a *quorum*: any
//! two quorums must share at least one server, so two different leaders can
//! never both gather one. ZooKeeper makes the rule pluggable: a plain
//! majority ([`QuorumMaj`]) or groups with weights ([`QuorumHierarchical`]).
//! Observers are members that receive everything but are never counted.
//!
//! Upstream: `quorum/flexible/QuorumVerifier.java`, `QuorumMaj.java`,
//! `QuorumHierarchical.java`.

use ch01_znode::Sid;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

/// The ensemble's membership and quorum rule (ZooKeeper's `QuorumVerifier`).
pub trait QuorumVerifier: Debug + Send + Sync {
    /// The servers that vote, in sid order.
    fn voting_members(&self) -> BTreeSet<Sid>;
    /// The servers that only observe.
    fn observing_members(&self) -> BTreeSet<Sid>;
    /// A voter's weight; 0 for observers, non-members and zero-weight voters.
    /// A candidate of weight 0 can never win an election.
    fn weight(&self, sid: Sid) -> u64;
    /// Whether these acknowledging sids form a quorum. Non-voters in `acks`
    /// are ignored.
    fn contains_quorum(&self, acks: &BTreeSet<Sid>) -> bool;

    /// Every member, voters and observers.
    fn all_members(&self) -> BTreeSet<Sid> {
        let mut all = self.voting_members();
        all.extend(self.observing_members());
        all
    }
    /// Whether `sid` is a voting member (ZooKeeper's `validVoter`).
    fn is_voter(&self, sid: Sid) -> bool {
        self.voting_members().contains(&sid)
    }
}

// ANCHOR: majority
/// A strict majority of the voters: with 5 voters any 3, with 4 voters any 3.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuorumMaj {
    voters: BTreeSet<Sid>,
    observers: BTreeSet<Sid>,
}

impl QuorumMaj {
    /// Voters `voters`, observers `observers`.
    pub fn new(
        voters: impl IntoIterator<Item = Sid>,
        observers: impl IntoIterator<Item = Sid>,
    ) -> Self {
        QuorumMaj {
            voters: voters.into_iter().collect(),
            observers: observers.into_iter().collect(),
        }
    }
    /// How many voters a quorum needs: more than half.
    pub fn quorum_size(&self) -> usize {
        self.voters.len() / 2 + 1
    }
}

impl QuorumVerifier for QuorumMaj {
    fn voting_members(&self) -> BTreeSet<Sid> {
        self.voters.clone()
    }
    fn observing_members(&self) -> BTreeSet<Sid> {
        self.observers.clone()
    }
    fn weight(&self, sid: Sid) -> u64 {
        u64::from(self.voters.contains(&sid))
    }
    fn contains_quorum(&self, acks: &BTreeSet<Sid>) -> bool {
        // More than half, counting voters only.
        acks.intersection(&self.voters).count() > self.voters.len() / 2
    }
    /// Asked on every ACK a leader counts, so it looks in the set rather than copy it.
    fn is_voter(&self, sid: Sid) -> bool {
        self.voters.contains(&sid)
    }
}
// ANCHOR_END: majority

/// Groups of weighted voters: a quorum is a majority of the groups, each
/// by more than half of its weight. Lets a multi-datacenter ensemble say "a
/// majority of data centers", and lets a weight-0 voter follow but never count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuorumHierarchical {
    /// sid → (group, weight).
    members: BTreeMap<Sid, (u64, u64)>,
    observers: BTreeSet<Sid>,
}

impl QuorumHierarchical {
    /// `members` as `(sid, group, weight)`.
    pub fn new(
        members: impl IntoIterator<Item = (Sid, u64, u64)>,
        observers: impl IntoIterator<Item = Sid>,
    ) -> Self {
        QuorumHierarchical {
            members: members.into_iter().map(|(s, g, w)| (s, (g, w))).collect(),
            observers: observers.into_iter().collect(),
        }
    }

    /// Total weight per group, over `sids` (only groups with weight count).
    fn group_weights(&self, sids: impl Iterator<Item = Sid>) -> BTreeMap<u64, u64> {
        let mut weights = BTreeMap::new();
        for sid in sids {
            if let Some(&(group, weight)) = self.members.get(&sid) {
                *weights.entry(group).or_insert(0) += weight;
            }
        }
        weights
    }
}

impl QuorumVerifier for QuorumHierarchical {
    fn voting_members(&self) -> BTreeSet<Sid> {
        self.members.keys().copied().collect()
    }
    fn observing_members(&self) -> BTreeSet<Sid> {
        self.observers.clone()
    }
    fn weight(&self, sid: Sid) -> u64 {
        self.members.get(&sid).map_or(0, |&(_, w)| w)
    }
    fn contains_quorum(&self, acks: &BTreeSet<Sid>) -> bool {
        let totals = self.group_weights(self.members.keys().copied());
        // A group whose total weight is 0 takes no part (QuorumHierarchical
        // decrements numGroups for it).
        let groups = totals.values().filter(|&&w| w > 0).count();
        let acked = self.group_weights(acks.iter().copied());
        let won = acked
            .iter()
            .filter(|(g, &w)| totals[g] > 0 && w > totals[g] / 2)
            .count();
        won > groups / 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(s: &[u64]) -> BTreeSet<Sid> {
        s.iter().copied().map(Sid).collect()
    }

    /// A quorum is `count > voters/2`: 3 of 5, 2 of 3, 3 of 4. (QuorumMaj.containsQuorum)
    #[test]
    fn majority_needs_more_than_half_of_the_voters() {
        let five = QuorumMaj::new((1..=5).map(Sid), []);
        assert!(!five.contains_quorum(&set(&[1, 2])));
        assert!(five.contains_quorum(&set(&[1, 2, 3])));
        assert_eq!(five.quorum_size(), 3);
        let four = QuorumMaj::new((1..=4).map(Sid), []);
        assert!(!four.contains_quorum(&set(&[1, 2])));
        assert_eq!(four.quorum_size(), 3);
    }

    /// Observers never count towards a quorum. (election.md §1)
    #[test]
    fn observers_are_not_counted() {
        let q = QuorumMaj::new((1..=3).map(Sid), (4..=5).map(Sid));
        assert!(!q.contains_quorum(&set(&[1, 4, 5])));
        assert_eq!(q.weight(Sid(4)), 0);
        assert_eq!(q.all_members(), set(&[1, 2, 3, 4, 5]));
    }

    /// A majority of groups, each by a majority of its weight; weight 0 never
    /// counts. (QuorumHierarchical.containsQuorum)
    #[test]
    fn hierarchical_needs_a_majority_of_groups() {
        // Three data centers of two servers each; server 6 has weight 0.
        let q = QuorumHierarchical::new(
            [
                (Sid(1), 1, 1),
                (Sid(2), 1, 1),
                (Sid(3), 2, 1),
                (Sid(4), 2, 1),
                (Sid(5), 3, 1),
                (Sid(6), 3, 0),
            ],
            [],
        );
        // Groups 1 and 2 fully: a majority of groups.
        assert!(q.contains_quorum(&set(&[1, 2, 3, 4])));
        // Half of a group's weight is not more than half.
        assert!(!q.contains_quorum(&set(&[1, 3, 5])));
        // Group 3 won by server 5 alone (weight 1 of 1), group 1 fully.
        assert!(q.contains_quorum(&set(&[1, 2, 5])));
        // Server 6 weighs nothing.
        assert!(!q.contains_quorum(&set(&[1, 2, 6])));
        assert_eq!(q.weight(Sid(6)), 0);
    }
}
