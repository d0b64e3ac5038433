//! A znode as the tree stores it: its fields, path and data in one allocation, its ACL as a
//! number.
//!
//! What a znode costs beyond its data and Stat is bookkeeping, paid once per znode, so it is
//! worth counting in words. A `Box<str>` path and a `Box<[u8]>` data are each a pointer and a
//! length (16 bytes) beside an allocation of their own, and an `Arc<[Acl]>` is 16 more. Here
//! a node is one [`Block`]: a pointer to one allocation that holds the node's fields, the
//! lengths of its path and data (4 bytes each), then the path's bytes and the data's. The
//! ACL list is a 4-byte number in the tree's table of lists
//! ([`AclTable`](super::acls::AclTable)), the way ZooKeeper's `ReferenceCountedACLCache`
//! hands each `DataNode` a `Long` instead of its list. A node's head is 88 bytes, 64 of them
//! the Stat.
//!
//! Readers never see this form: [`DataTree::node`](super::DataTree::node) lends them a
//! [`DataNode`](super::DataNode), with the data as a slice and the ACL as its list.

use super::acls::AclRef;
use super::block::Block;
use super::Children;
use crate::stat::StatPersisted;

// ANCHOR: stored_node
/// One znode in the table: a pointer to its fields, then its path and data
/// ([`Block`]).
pub(super) type StoredNode = Block<NodeFields>;

/// What a znode holds besides its path and data, changed in place through the node.
#[derive(Clone, Debug)]
pub(super) struct NodeFields {
    pub(super) stat: StatPersisted,
    pub(super) acl: AclRef,
    pub(super) children: Children,
}
// ANCHOR_END: stored_node

impl StoredNode {
    /// A node with no children yet.
    pub(super) fn new(
        path: &str,
        data: Option<&[u8]>,
        acl: AclRef,
        stat: StatPersisted,
    ) -> StoredNode {
        let fields = NodeFields {
            stat,
            acl,
            children: Children::default(),
        };
        Block::allocate(fields, path.as_bytes(), data)
    }

    /// The path: the bytes of the `&str` the node was made with.
    pub(super) fn path(&self) -> &str {
        std::str::from_utf8(self.path_bytes()).expect("a node's path was a str")
    }

    /// The bytes of the data (0 for null data), as `dataLength` counts them.
    pub(super) fn data_len(&self) -> usize {
        self.data().map_or(0, <[u8]>::len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_node_is_one_pointer_to_the_stat_and_three_words() {
        assert_eq!(std::mem::size_of::<StatPersisted>(), 64);
        assert_eq!(std::mem::size_of::<StoredNode>(), 8);
        // The Stat, the child set's pointer and the ACL number: 76 bytes, padded to a
        // multiple of 8. The block's two lengths make its head 88; the path and data follow.
        let node = StoredNode::new("/a/b", Some(b"xyz"), AclRef::default(), Default::default());
        assert_eq!(std::mem::size_of_val(&*node), 80);
    }

    #[test]
    fn path_and_data_share_one_allocation_and_null_stays_null() {
        let stat = StatPersisted::default();
        let mut node = StoredNode::new("/a/b", Some(b"xyz"), AclRef::default(), stat);
        assert_eq!((node.path(), node.data()), ("/a/b", Some(&b"xyz"[..])));
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
