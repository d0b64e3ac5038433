//! TCP, as much of it as Zab relies on: each connection delivers in order or breaks.
//!
//! The idea to take away: Zab does not cope with a lost or reordered packet inside a
//! connection, and does not have to: TCP gives it a stream that is in order and complete, or
//! that ends. The simulator's network loses, duplicates and reorders single messages, so the
//! adapter numbers every message of a connection and turns the network's faults into what TCP
//! would make of them: a duplicate is dropped, a gap (a loss, or an overtaking message) breaks
//! the connection, and both ends hear that it is closed.

use std::collections::BTreeMap;

/// What to do with an arriving message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrival {
    /// The next one: deliver it.
    InOrder,
    /// Seen before (the network duplicated it): drop it quietly.
    Duplicate,
    /// Something before it never arrived: the connection is broken.
    Gap,
}

/// Sequence numbers for every connection of one node, keyed by `K` (ordered, so that equal
/// tables print alike: a model checker tells states apart by what they print).
#[derive(Clone, Debug)]
pub struct Streams<K> {
    next_out: BTreeMap<K, u64>,
    next_in: BTreeMap<K, u64>,
}

impl<K> Default for Streams<K> {
    fn default() -> Self {
        Streams {
            next_out: BTreeMap::new(),
            next_in: BTreeMap::new(),
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

    /// The connection is gone: a new one with the same key starts from 1.
    pub fn close(&mut self, key: K) {
        self.next_out.remove(&key);
        self.next_in.remove(&key);
    }

    /// Whether anything was sent or received on `key` (a known connection).
    pub fn knows(&self, key: K) -> bool {
        self.next_out.contains_key(&key) || self.next_in.contains_key(&key)
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
        s.close(1);
        assert_eq!(
            s.receive(1, 1),
            Arrival::InOrder,
            "a new connection starts over"
        );
        assert_eq!((s.send(2), s.send(2)), (1, 2));
    }
}
