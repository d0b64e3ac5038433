//! The ACL lists of a tree, each kept once, known by a number, and dropped when no node
//! uses it any more.
//!
//! Most znodes share a handful of ACL lists (a million nodes made with `OPEN_ACL_UNSAFE`
//! have one), so a node holds a 4-byte [`AclRef`] and the tree keeps each distinct list once,
//! as ZooKeeper's `ReferenceCountedACLCache` does (its nodes hold a `Long`). The lists are
//! `Arc`s so that a reader, such as prep's `ChangeRecord`, can keep one without copying it.
//!
//! Each list counts the nodes that use it, as upstream's cache does: a node created or
//! restored from a snapshot counts one more for its list, a setACL moves its count from the
//! old list to the new, and a deleted node counts one fewer. A list at zero is dropped
//! (`removeUsage`), so a client that gives each of a million nodes a list of its own and
//! deletes them leaves nothing behind. Its number is used again by the next new list; the
//! number of a list in use never changes. Snapshots do not write these numbers: they number
//! the lists afresh as they walk the nodes, as ZooKeeper's snapshot holds only the lists its
//! nodes use (its cache drops the rest on load, `purgeUnused`).

use crate::acl::Acl;
use std::collections::HashMap;
use std::sync::Arc;

/// A node's ACL list, by its number in the tree's [`AclTable`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct AclRef(u32);

/// Every ACL list some node of one tree uses, with how many do.
#[derive(Clone, Debug, Default)]
pub(super) struct AclTable {
    /// By number: the list and its users, or `None` for a number free to use again.
    lists: Vec<Option<(Arc<[Acl]>, u32)>>,
    numbers: HashMap<Arc<[Acl]>, AclRef>,
    /// Numbers whose list was dropped.
    free: Vec<AclRef>,
}

impl AclTable {
    /// The number of `acl` for one more node that uses it, adding the list if it is new
    /// (`convertAcls`, `addUsage`).
    pub(super) fn intern(&mut self, acl: &[Acl]) -> AclRef {
        if let Some(&number) = self.numbers.get(acl) {
            self.use_again(number);
            return number;
        }
        let list: Arc<[Acl]> = acl.into();
        let number = match self.free.pop() {
            Some(number) => number,
            None => {
                let next = u32::try_from(self.lists.len()).expect("fewer than 2³² ACL lists");
                self.lists.push(None);
                AclRef(next)
            }
        };
        self.lists[number.0 as usize] = Some((list.clone(), 1));
        self.numbers.insert(list, number);
        number
    }

    /// One more node uses the list numbered `acl`.
    pub(super) fn use_again(&mut self, acl: AclRef) {
        self.entry(acl).1 += 1;
    }

    /// One node fewer uses the list numbered `acl`; the last one out drops it
    /// (`removeUsage`).
    pub(super) fn release(&mut self, acl: AclRef) {
        let (list, users) = self.entry(acl);
        *users -= 1;
        if *users > 0 {
            return;
        }
        let list = list.clone();
        self.numbers.remove(&list);
        self.lists[acl.0 as usize] = None;
        self.free.push(acl);
    }

    /// The list numbered `acl`.
    pub(super) fn get(&self, acl: AclRef) -> &Arc<[Acl]> {
        let entry = self.lists[acl.0 as usize].as_ref();
        &entry.expect("a node's ACL number names a list in use").0
    }

    /// How many lists some node uses.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.numbers.len()
    }

    fn entry(&mut self, acl: AclRef) -> &mut (Arc<[Acl]>, u32) {
        (self.lists[acl.0 as usize].as_mut()).expect("a node's ACL number names a list in use")
    }
}

#[cfg(test)]
mod tests {
    use super::super::{DataTree, TreeBuilder};
    use super::*;
    use crate::{EphemeralOwner, SessionId, StatPersisted, Txn, TxnOp, Zxid};

    fn txn(zxid: i64, op: TxnOp) -> Txn {
        Txn {
            zxid: Zxid(zxid),
            time_ms: zxid,
            session: SessionId(1),
            cxid: zxid as i32,
            op,
        }
    }

    /// A list of its own for `user`, as a client that sets a fresh digest ACL on each node.
    fn own(user: i64) -> Vec<Acl> {
        vec![Acl::new(31, "digest", &format!("u{user}:x"))]
    }

    fn create(tree: &mut DataTree, zxid: i64, path: &str, acl: Vec<Acl>) {
        let op = TxnOp::Create {
            path: path.into(),
            data: None,
            acl,
            owner: EphemeralOwner::None,
            parent_cversion: -1,
        };
        assert_eq!(tree.apply(&txn(zxid, op)).result.err(), None, "{path}");
    }

    /// A list no node uses is dropped, as ZooKeeper's `ReferenceCountedACLCache.removeUsage`
    /// drops one when its count falls to zero: nodes created each with a list of its own,
    /// then deleted, leave the table as it was.
    #[test]
    fn a_list_no_node_uses_any_more_is_freed() {
        let mut tree = DataTree::new();
        let before = tree.acls.len();
        for i in 1..=1000 {
            create(&mut tree, i, &format!("/n{i}"), own(i));
        }
        assert_eq!(tree.acls.len(), before + 1000);
        for i in 1..=1000 {
            let delete = TxnOp::Delete {
                path: format!("/n{i}"),
            };
            assert_eq!(tree.apply(&txn(1000 + i, delete)).result.err(), None);
        }
        assert_eq!(tree.acls.len(), before);
    }

    /// setACL moves a node's count from its old list to its new one (`DataTree.setACL`:
    /// `removeUsage`, then `convertAcls`); a list set again on its only node keeps its
    /// number, and a list still used by another node stays.
    #[test]
    fn set_acl_moves_the_count_and_a_shared_list_stays() {
        let mut tree = DataTree::new();
        create(&mut tree, 1, "/a", own(1));
        create(&mut tree, 2, "/b", own(1));
        let number = |tree: &DataTree, path: &str| tree.nodes.get(path).unwrap().acl();
        let shared = number(&tree, "/a");
        let set = |path: &str, acl: Vec<Acl>, version| TxnOp::SetAcl {
            path: path.into(),
            acl,
            version,
        };
        assert_eq!(tree.apply(&txn(3, set("/a", own(2), 1))).result.err(), None);
        assert_eq!(**tree.acls.get(shared), own(1)[..], "/b still uses it");
        let fresh = number(&tree, "/a");
        assert_eq!(tree.apply(&txn(4, set("/a", own(2), 2))).result.err(), None);
        assert_eq!(number(&tree, "/a"), fresh);
        let before = tree.acls.len();
        assert_eq!(tree.apply(&txn(5, set("/b", own(2), 1))).result.err(), None);
        assert_eq!(tree.acls.len(), before - 1, "own(1) was dropped");
        let missing = tree.apply(&txn(6, set("/nope", own(3), 1)));
        assert_eq!(missing.result.err(), Some(crate::ZkError::NoNode));
        assert_eq!(tree.acls.len(), before - 1, "a failed setACL keeps nothing");
    }

    /// A tree restored from its nodes counts each node's list as a created one does, so
    /// deleting the restored nodes frees their lists too; a dropped list's number goes to
    /// the next new list, and the numbers of the lists in use stay as they were.
    #[test]
    fn a_restored_tree_counts_its_nodes_and_numbers_are_reused() {
        let mut tree = DataTree::new();
        for i in 1..=3 {
            create(&mut tree, i, &format!("/n{i}"), own(i / 2));
        }
        let mut builder = TreeBuilder::new(false);
        for (path, node) in tree.walk() {
            let stat: StatPersisted = node.stat;
            builder.add(&path, node.data, node.acl, stat).unwrap();
        }
        let mut restored = builder.finish(Zxid(3)).unwrap();
        assert_eq!(restored, tree);
        assert_eq!(restored.acls.len(), tree.acls.len());
        for (zxid, i) in [(4, 1), (5, 3)] {
            let delete = TxnOp::Delete {
                path: format!("/n{i}"),
            };
            assert_eq!(restored.apply(&txn(zxid, delete)).result.err(), None);
        }
        let kept = restored.nodes.get("/n2").unwrap().acl();
        assert_eq!(restored.acls.len(), tree.acls.len() - 1, "own(0) is gone");
        create(&mut restored, 6, "/n6", own(6));
        assert_eq!(restored.nodes.get("/n2").unwrap().acl(), kept);
        assert!(
            restored.acls.lists.iter().all(Option::is_some),
            "a number reused"
        );
    }
}
