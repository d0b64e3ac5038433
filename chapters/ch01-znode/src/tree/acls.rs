//! The ACL lists of a tree, each kept once and known by a number.
//!
//! Most znodes share a handful of ACL lists (a million nodes made with `OPEN_ACL_UNSAFE`
//! have one), so a node holds a 4-byte [`AclRef`] and the tree keeps each distinct list once,
//! as ZooKeeper's `ReferenceCountedACLCache` does (its nodes hold a `Long`; a snapshot
//! writes the numbered lists once, then each node's number). The lists are `Arc`s so that a
//! reader, such as prep's `ChangeRecord`, can keep one without copying it.
//!
//! Unlike upstream's cache, ours counts no references and frees no list: a tree holds as many
//! lists as it has ever seen distinct ones, each a few dozen bytes.

use crate::acl::Acl;
use std::collections::HashMap;
use std::sync::Arc;

/// A node's ACL list, by its number in the tree's [`AclTable`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct AclRef(u32);

/// Every distinct ACL list of one tree, numbered in the order first seen.
#[derive(Clone, Debug, Default)]
pub(super) struct AclTable {
    lists: Vec<Arc<[Acl]>>,
    numbers: HashMap<Arc<[Acl]>, AclRef>,
}

impl AclTable {
    /// The number of `acl`, adding it if it is new.
    pub(super) fn intern(&mut self, acl: &[Acl]) -> AclRef {
        if let Some(&number) = self.numbers.get(acl) {
            return number;
        }
        let number = AclRef(u32::try_from(self.lists.len()).expect("fewer than 2³² ACL lists"));
        let list: Arc<[Acl]> = acl.into();
        self.lists.push(list.clone());
        self.numbers.insert(list, number);
        number
    }

    /// The list numbered `acl`.
    pub(super) fn get(&self, acl: AclRef) -> &Arc<[Acl]> {
        &self.lists[acl.0 as usize]
    }
}
