//! The node table: every znode, found by its full path in one hash probe.
//!
//! ZooKeeper keeps its znodes in a `ConcurrentHashMap<String, DataNode>` (`NodeHashMapImpl`):
//! a flat map from full path to node, so a read never walks the tree. We do the same, with one
//! change for memory. A hash table runs between half and seven-eighths full, so its empty
//! slots are a real part of what a znode costs: a `HashMap<Box<str>, Box<DataNode>>` slot is
//! 24 bytes (the key's pointer and length, the node's pointer), which at a million znodes
//! (2²¹ slots) is some 50 bytes per node. Here the path lives in the boxed [`Entry`] beside its
//! node and a slot is one 8-byte pointer, about 18 bytes per node at a million. A lookup
//! hashes the path, then compares it with the path each candidate entry holds.
//!
//! `hashbrown::HashTable` is the table `std::collections::HashMap` is built on, without the
//! key/value split: we say how to hash an entry (by its path) and how to recognise one.
//!
//! The hash is aHash rather than std's SipHash: a recovery hashes a million paths to insert
//! them and again to walk the tree for its start-up snapshot, and SipHash spent more
//! instructions on that than the inserts themselves. Like std's, its keys are random per
//! table, so paths chosen by clients still cannot be made to collide on purpose.

use super::DataNode;
use ahash::RandomState;
use hashbrown::HashTable;

/// One znode and its full path, boxed: what a slot of the table points to.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    path: Box<str>,
    node: DataNode,
}

// ANCHOR: node_table
/// Every znode by full path (`NodeHashMapImpl`).
#[derive(Clone, Default)]
pub(super) struct NodeTable {
    entries: HashTable<Box<Entry>>,
    /// Random per table, as `HashMap`'s: paths chosen by clients cannot be made to collide.
    hasher: RandomState,
}
// ANCHOR_END: node_table

impl NodeTable {
    fn hash(hasher: &RandomState, path: &str) -> u64 {
        hasher.hash_one(path)
    }

    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(super) fn get(&self, path: &str) -> Option<&DataNode> {
        let hash = Self::hash(&self.hasher, path);
        let entry = self.entries.find(hash, |e| *e.path == *path)?;
        Some(&entry.node)
    }

    pub(super) fn get_mut(&mut self, path: &str) -> Option<&mut DataNode> {
        let hash = Self::hash(&self.hasher, path);
        let entry = self.entries.find_mut(hash, |e| *e.path == *path)?;
        Some(&mut entry.node)
    }

    pub(super) fn contains_key(&self, path: &str) -> bool {
        self.get(path).is_some()
    }

    /// Adds the node at `path`, keeping the path as given; false (and the table unchanged) if
    /// there is one already.
    pub(super) fn insert(&mut self, path: Box<str>, node: DataNode) -> bool {
        let NodeTable { entries, hasher } = self;
        let hash = Self::hash(hasher, &path);
        match entries.entry(hash, |e| e.path == path, |e| Self::hash(hasher, &e.path)) {
            hashbrown::hash_table::Entry::Occupied(_) => false,
            hashbrown::hash_table::Entry::Vacant(slot) => {
                slot.insert(Box::new(Entry { path, node }));
                true
            }
        }
    }

    /// Adds the node at `path`, which the caller knows the table lacks: a snapshot's
    /// nodes, each new to its parent's child set. It skips the search for an equal path
    /// that [`NodeTable::insert`] makes first, a probe per node of a million-node load.
    pub(super) fn insert_new(&mut self, path: Box<str>, node: DataNode) {
        debug_assert!(!self.contains_key(&path), "{path} inserted twice");
        let NodeTable { entries, hasher } = self;
        let hash = Self::hash(hasher, &path);
        entries.insert_unique(hash, Box::new(Entry { path, node }), |e| {
            Self::hash(hasher, &e.path)
        });
    }

    pub(super) fn remove(&mut self, path: &str) -> Option<DataNode> {
        let hash = Self::hash(&self.hasher, path);
        let found = self.entries.find_entry(hash, |e| *e.path == *path).ok()?;
        let (entry, _) = found.remove();
        Some(entry.node)
    }

    /// Room for `additional` more nodes without growing.
    pub(super) fn reserve(&mut self, additional: usize) {
        let NodeTable { entries, hasher } = self;
        entries.reserve(additional, |e| Self::hash(hasher, &e.path));
    }

    /// Every node with its path, in no particular order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&str, &DataNode)> {
        self.entries.iter().map(|e| (&*e.path, &e.node))
    }
}

impl PartialEq for NodeTable {
    /// The same paths with equal nodes, whatever order each table keeps them in.
    fn eq(&self, other: &NodeTable) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .all(|(path, node)| other.get(path) == Some(node))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stat::StatPersisted;

    fn node() -> DataNode {
        DataNode::new(None, Vec::new().into(), StatPersisted::default())
    }

    #[test]
    fn a_slot_is_one_pointer() {
        assert_eq!(std::mem::size_of::<Box<Entry>>(), 8);
    }

    #[test]
    fn nodes_are_found_by_path_and_added_once() {
        let mut table = NodeTable::default();
        assert!(table.insert("/a".into(), node()));
        assert!(!table.insert("/a".into(), node()));
        assert!(table.contains_key("/a"));
        assert!(!table.contains_key("/b"));
        assert_eq!(table.len(), 1);
        table.insert_new("/b".into(), node());
        assert!(!table.insert("/b".into(), node()));
        assert_eq!(table.len(), 2);
        assert_eq!(table.remove("/b"), Some(node()));
        assert_eq!(table.remove("/a"), Some(node()));
        assert_eq!(table.remove("/a"), None);
        assert!(table.is_empty());
    }
}
