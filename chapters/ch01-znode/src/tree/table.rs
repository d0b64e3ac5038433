//! The node table: every znode, found by its full path in one hash probe.
//!
//! ZooKeeper keeps its znodes in a `ConcurrentHashMap<String, DataNode>` (`NodeHashMapImpl`):
//! a flat map from full path to node, so a read never walks the tree. We do the same, with one
//! change for memory. A hash table runs between half and seven-eighths full, so its empty
//! slots are a real part of what a znode costs: a `HashMap<Box<str>, Box<DataNode>>` slot is
//! 24 bytes (the key's pointer and length, the node's pointer), which at a million znodes
//! (2²¹ slots) is some 50 bytes per node. Here the path lives in the node's own allocation
//! ([`StoredNode`]) and a slot is that node's 8-byte pointer, about 18 bytes per node at a million. A
//! lookup hashes the path, then compares it with the path each candidate node holds.
//!
//! `hashbrown::HashTable` is the table `std::collections::HashMap` is built on, without the
//! key/value split: we say how to hash an entry (by its path) and how to recognise one.
//!
//! The hash is aHash rather than std's SipHash: a recovery hashes a million paths to insert
//! them and again to walk the tree for its start-up snapshot, and SipHash spent more
//! instructions on that than the inserts themselves. Like std's, its keys are random per
//! table, so paths chosen by clients still cannot be made to collide on purpose.

use super::node::StoredNode;
use ahash::RandomState;
use hashbrown::HashTable;

// ANCHOR: node_table
/// Every znode by full path (`NodeHashMapImpl`).
#[derive(Clone, Default)]
pub(super) struct NodeTable {
    /// Each node holds its own path ([`StoredNode`]), which is what a slot is found by.
    entries: HashTable<StoredNode>,
    /// Random per table, as `HashMap`'s: paths chosen by clients cannot be made to collide.
    hasher: RandomState,
}
// ANCHOR_END: node_table

impl NodeTable {
    fn hash(hasher: &RandomState, path: &[u8]) -> u64 {
        hasher.hash_one(path)
    }

    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(super) fn get(&self, path: &str) -> Option<&StoredNode> {
        let path = path.as_bytes();
        let hash = Self::hash(&self.hasher, path);
        let node = self.entries.find(hash, |n| n.path_bytes() == path)?;
        Some(node)
    }

    pub(super) fn get_mut(&mut self, path: &str) -> Option<&mut StoredNode> {
        let path = path.as_bytes();
        let hash = Self::hash(&self.hasher, path);
        let node = self.entries.find_mut(hash, |n| n.path_bytes() == path)?;
        Some(node)
    }

    pub(super) fn contains_key(&self, path: &str) -> bool {
        self.get(path).is_some()
    }

    /// Adds `node` at the path it holds; false (and the table unchanged) if there is one
    /// already.
    pub(super) fn insert(&mut self, node: StoredNode) -> bool {
        let NodeTable { entries, hasher } = self;
        let path = node.path_bytes();
        let hash = Self::hash(hasher, path);
        let same = |n: &StoredNode| n.path_bytes() == path;
        let rehash = |n: &StoredNode| Self::hash(hasher, n.path_bytes());
        match entries.entry(hash, same, rehash) {
            hashbrown::hash_table::Entry::Occupied(_) => false,
            hashbrown::hash_table::Entry::Vacant(slot) => {
                slot.insert(node);
                true
            }
        }
    }

    /// Adds `node`, whose path the caller knows the table lacks: a snapshot's nodes, each new
    /// to its parent's child set. It skips the search for an equal path that
    /// [`NodeTable::insert`] makes first, a probe per node of a million-node load.
    pub(super) fn insert_new(&mut self, node: StoredNode) {
        debug_assert!(
            !self.contains_key(node.path()),
            "{} inserted twice",
            node.path()
        );
        let NodeTable { entries, hasher } = self;
        let hash = Self::hash(hasher, node.path_bytes());
        entries.insert_unique(hash, node, |n| Self::hash(hasher, n.path_bytes()));
    }

    pub(super) fn remove(&mut self, path: &str) -> Option<StoredNode> {
        let path = path.as_bytes();
        let hash = Self::hash(&self.hasher, path);
        let found = self
            .entries
            .find_entry(hash, |n| n.path_bytes() == path)
            .ok()?;
        let (node, _) = found.remove();
        Some(node)
    }

    /// Room for `additional` more nodes without growing.
    pub(super) fn reserve(&mut self, additional: usize) {
        let NodeTable { entries, hasher } = self;
        entries.reserve(additional, |n| Self::hash(hasher, n.path_bytes()));
    }

    /// Every node, in no particular order.
    pub(super) fn iter(&self) -> impl Iterator<Item = &StoredNode> {
        self.entries.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stat::StatPersisted;

    fn node(path: &str) -> StoredNode {
        StoredNode::new(path, None, Default::default(), StatPersisted::default())
    }

    #[test]
    fn a_slot_is_one_pointer() {
        assert_eq!(std::mem::size_of::<StoredNode>(), 8);
    }

    #[test]
    fn nodes_are_found_by_path_and_added_once() {
        let mut table = NodeTable::default();
        assert!(table.insert(node("/a")));
        assert!(!table.insert(node("/a")));
        assert!(table.contains_key("/a"));
        assert!(!table.contains_key("/b"));
        assert_eq!(table.len(), 1);
        table.insert_new(node("/b"));
        assert!(!table.insert(node("/b")));
        assert_eq!(table.len(), 2);
        assert_eq!(
            table.remove("/b").map(|n| n.path().to_string()),
            Some("/b".into())
        );
        assert_eq!(
            table.remove("/a").map(|n| n.path().to_string()),
            Some("/a".into())
        );
        assert!(table.remove("/a").is_none());
        assert!(table.is_empty());
    }
}
