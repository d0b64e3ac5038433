//! A znode as the tree stores it: its path and data in one allocation, its ACL as a number.
//!
//! What a znode costs beyond its data and Stat is bookkeeping, paid once per znode, so it is
//! worth counting in words. A `Box<str>` path and a `Box<[u8]>` data are each a pointer and a
//! length (16 bytes) beside an allocation of their own, and an `Arc<[Acl]>` is 16 more. Here
//! the path's bytes and then the data's share one allocation, and the node records where the
//! data starts. The ACL list is a 4-byte number in the tree's table of lists
//! ([`AclTable`](super::acls::AclTable)), the way ZooKeeper's `ReferenceCountedACLCache`
//! hands each `DataNode` a `Long` instead of its list. A stored node is 96 bytes, 64 of
//! them the Stat.
//!
//! Readers never see this form: [`DataTree::node`](super::DataTree::node) lends them a
//! [`DataNode`](super::DataNode), with the data as a slice and the ACL as its list.

use super::acls::AclRef;
use super::Children;
use crate::stat::StatPersisted;
use std::num::NonZeroU32;

// ANCHOR: stored_node
/// One znode in the table: its path, data, ACL number, stored Stat and child names.
#[derive(Clone, Debug)]
pub(super) struct StoredNode {
    /// The full path's bytes, then the data's (none for null data).
    path_and_data: Box<[u8]>,
    /// Where the data starts in `path_and_data`, or `None` for null data. A path is never
    /// empty, so the data never starts at 0, and the `Option` costs no more than the number.
    data_at: Option<NonZeroU32>,
    pub(super) acl: AclRef,
    pub(super) stat: StatPersisted,
    pub(super) children: Children,
}
// ANCHOR_END: stored_node

impl StoredNode {
    pub(super) fn new(
        path: &str,
        data: Option<&[u8]>,
        acl: AclRef,
        stat: StatPersisted,
    ) -> StoredNode {
        let (path_and_data, data_at) = pack(path.as_bytes(), data);
        StoredNode {
            path_and_data,
            data_at,
            acl,
            stat,
            children: Children::default(),
        }
    }

    /// The path's bytes.
    pub(super) fn path_bytes(&self) -> &[u8] {
        match self.data_at {
            Some(at) => &self.path_and_data[..at.get() as usize],
            None => &self.path_and_data,
        }
    }

    /// The path: the bytes of the `&str` the node was made with.
    pub(super) fn path(&self) -> &str {
        std::str::from_utf8(self.path_bytes()).expect("a node's path was a str")
    }

    /// The data; `None` is ZooKeeper's null data, distinct from empty.
    pub(super) fn data(&self) -> Option<&[u8]> {
        let at = self.data_at?;
        Some(&self.path_and_data[at.get() as usize..])
    }

    /// New data: the allocation is made again, as long as the path and the data.
    pub(super) fn set_data(&mut self, data: Option<&[u8]>) {
        let (path_and_data, data_at) = pack(self.path_bytes(), data);
        self.path_and_data = path_and_data;
        self.data_at = data_at;
    }

    /// The bytes of the data (0 for null data), as `dataLength` counts them.
    pub(super) fn data_len(&self) -> usize {
        self.data().map_or(0, <[u8]>::len)
    }
}

/// `path` followed by `data` in one allocation, and where the data starts.
fn pack(path: &[u8], data: Option<&[u8]>) -> (Box<[u8]>, Option<NonZeroU32>) {
    let Some(data) = data else {
        return (path.into(), None);
    };
    let mut bytes = Vec::with_capacity(path.len() + data.len());
    bytes.extend_from_slice(path);
    bytes.extend_from_slice(data);
    // A jute string is at most 2³¹ - 1 bytes, and a path at least "/".
    let at = u32::try_from(path.len()).expect("a path fits in a jute string");
    let at = NonZeroU32::new(at).expect("a path is never empty");
    (bytes.into_boxed_slice(), Some(at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_node_is_the_stat_and_four_words() {
        assert_eq!(std::mem::size_of::<StatPersisted>(), 64);
        assert_eq!(std::mem::size_of::<StoredNode>(), 96);
    }

    #[test]
    fn path_and_data_share_one_allocation_and_null_stays_null() {
        let stat = StatPersisted::default();
        let mut node = StoredNode::new("/a/b", Some(b"xyz"), AclRef::default(), stat);
        assert_eq!((node.path(), node.data()), ("/a/b", Some(&b"xyz"[..])));
        assert_eq!(node.path_and_data.len(), 7);
        node.set_data(Some(b""));
        assert_eq!(
            (node.path(), node.data(), node.data_len()),
            ("/a/b", Some(&b""[..]), 0)
        );
        node.set_data(None);
        assert_eq!(
            (node.path(), node.data(), node.data_len()),
            ("/a/b", None, 0)
        );
        let node = StoredNode::new("/\u{e9}", None, AclRef::default(), stat);
        assert_eq!((node.path(), node.data()), ("/\u{e9}", None));
    }
}
