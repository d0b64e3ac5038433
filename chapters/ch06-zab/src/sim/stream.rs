//! TCP, as much of it as Zab relies on: each connection delivers in order or breaks.
//!
//! The idea to take away: Zab does not cope with a lost or reordered packet inside a
//! connection, and does not have to: TCP gives it a stream that is in order and complete, or
//! that ends. The simulator's network loses, duplicates and reorders single messages, so the
//! adapter numbers every message of a connection and turns the network's faults into what TCP
//! would make of them: a duplicate is dropped, a gap (a loss, or an overtaking message) breaks
//! the connection, and both ends hear that it is closed. An end that closed a connection
//! reads nothing more from it: a late packet of a closed socket is not the first packet of a
//! new one (connections are numbered, and a number is never used twice).

use std::collections::{BTreeMap, BTreeSet};

/// What to do with an arriving message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrival {
    /// The next one: deliver it.
    InOrder,
    /// Seen before (the network duplicated it): drop it quietly.
    Duplicate,
    /// Something before it never arrived: the connection is broken.
    Gap,
    /// This end closed the connection: the socket is gone, and nothing more is read from it.
    Closed,
}

/// Sequence numbers for every connection of one node, keyed by `K` (ordered, so that equal
/// tables print alike: a model checker tells states apart by what they print).
#[derive(Clone, Debug, Hash)]
pub struct Streams<K> {
    next_out: BTreeMap<K, u64>,
    next_in: BTreeMap<K, u64>,
    /// The connections this end closed. Each is closed for good: a connection's key is never
    /// reused (a learner counts its connections from its start time, a client its own).
    closed: BTreeSet<K>,
}

impl<K> Default for Streams<K> {
    fn default() -> Self {
        Streams {
            next_out: BTreeMap::new(),
            next_in: BTreeMap::new(),
            closed: BTreeSet::new(),
        }
    }
}

impl<K: Ord + Copy> Streams<K> {
    /// The number for the next message sent on `key`.
    pub fn send(&mut self, key: K) -> u64 {
        let n = self.next_out.entry(key).or_insert(0);
        *n += 1;
        *n
    }

    /// Judges message `seq` arriving on `key`.
    pub fn receive(&mut self, key: K, seq: u64) -> Arrival {
        if self.closed.contains(&key) {
            return Arrival::Closed;
        }
        let expected = self.next_in.entry(key).or_insert(1);
        match seq.cmp(expected) {
            std::cmp::Ordering::Equal => {
                *expected += 1;
                Arrival::InOrder
            }
            std::cmp::Ordering::Less => Arrival::Duplicate,
            std::cmp::Ordering::Greater => Arrival::Gap,
        }
    }

    /// This end closed the connection (or heard that the other did): what arrives on it
    /// later is dropped.
    pub fn close(&mut self, key: K) {
        self.next_out.remove(&key);
        self.next_in.remove(&key);
        self.closed.insert(key);
    }

    /// Whether this end closed `key`: whatever arrives on it is read by no one.
    pub fn is_closed(&self, key: K) -> bool {
        self.closed.contains(&key)
    }

    /// Whether anything was sent or received on `key` (a known connection).
    pub fn knows(&self, key: K) -> bool {
        self.next_out.contains_key(&key) || self.next_in.contains_key(&key)
    }

    /// Every connection this end has had: open, or closed by it since.
    pub fn every(&self) -> BTreeSet<K> {
        let open = self.next_out.keys().chain(self.next_in.keys());
        open.chain(&self.closed).copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_delivers_in_order_drops_duplicates_and_breaks_on_a_gap() {
        let mut s: Streams<u8> = Streams::default();
        assert_eq!(s.receive(1, 1), Arrival::InOrder);
        assert_eq!(s.receive(1, 1), Arrival::Duplicate);
        assert_eq!(s.receive(1, 3), Arrival::Gap);
        assert_eq!((s.send(2), s.send(2)), (1, 2));
    }

    #[test]
    fn a_closed_connection_reads_nothing_more_not_even_a_first_packet() {
        let mut s: Streams<u8> = Streams::default();
        assert_eq!(s.receive(1, 1), Arrival::InOrder);
        s.close(1);
        assert!(s.is_closed(1) && !s.knows(1));
        assert_eq!(s.receive(1, 2), Arrival::Closed, "a late packet");
        // Under the old rule a closed key started over, so a late first packet (a handshake
        // sent before the close) was read as a new connection's.
        s.close(2);
        assert_eq!(s.receive(2, 1), Arrival::Closed, "a late first packet");
        assert_eq!(s.receive(3, 1), Arrival::InOrder, "another connection");
    }
}
