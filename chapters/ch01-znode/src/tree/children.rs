//! A znode's children: the names under it, sorted, in one pointer while there are none.
//!
//! Most znodes are leaves. An empty `BTreeSet` is still 24 bytes (root, height, length) in
//! every node; boxed behind an `Option` it is 8 bytes, a null pointer, until the first child
//! arrives. A million leaves save 16 MB that way. Names (not full paths) are kept, sorted, so
//! a listing and a snapshot walk come out in the same order on every server.
//!
//! Upstream's `DataNode` keeps a `HashSet<String>` it also creates only on the first child
//! (`DataNode.addChild`), and zkCli sorts the names for display.

use std::collections::BTreeSet;

/// What an empty [`Children`] lends its iterator: there is nothing to allocate for a leaf.
static NONE: BTreeSet<Box<str>> = BTreeSet::new();

// ANCHOR: children
/// The child names of one znode; no allocation until it has one.
// The box is the point: it makes the field 8 bytes instead of a `BTreeSet`'s 24.
#[allow(clippy::box_collection)]
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Children(Option<Box<BTreeSet<Box<str>>>>);
// ANCHOR_END: children

impl Children {
    /// The names, in order.
    pub fn iter(&self) -> std::collections::btree_set::Iter<'_, Box<str>> {
        self.0.as_deref().unwrap_or(&NONE).iter()
    }

    /// The first name after `name` in order (the first of all after `""`): a walk that holds
    /// its place by name, not by position, goes on correctly while names come and go.
    pub fn next_after(&self, name: &str) -> Option<&str> {
        use std::ops::Bound::{Excluded, Unbounded};
        let set = self.0.as_deref()?;
        set.range::<str, _>((Excluded(name), Unbounded))
            .next()
            .map(|next| &**next)
    }

    pub fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |set| set.len())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.as_ref().is_some_and(|set| set.contains(name))
    }

    /// Adds `name`; false if it was there already.
    pub fn insert(&mut self, name: &str) -> bool {
        self.0.get_or_insert_default().insert(name.into())
    }

    /// A set of `names`, given in strictly increasing order: built in one pass, without a
    /// search per name (a tree rebuilt from a snapshot adds a parent's children this way).
    pub fn from_increasing(names: Vec<Box<str>>) -> Children {
        debug_assert!(names.windows(2).all(|w| w[0] < w[1]), "increasing names");
        match names.is_empty() {
            true => Children(None),
            // `collect` sees the names are sorted and builds the B-tree bottom up.
            false => Children(Some(Box::new(names.into_iter().collect()))),
        }
    }

    /// Removes `name`; false if it was not there. The last one out frees the set, so that an
    /// empty set is always `None` (and two empty sets are equal).
    pub fn remove(&mut self, name: &str) -> bool {
        let Some(set) = self.0.as_mut() else {
            return false;
        };
        let removed = set.remove(name);
        if set.is_empty() {
            self.0 = None;
        }
        removed
    }
}

impl std::fmt::Debug for Children {
    /// As a set of names, the same whether or not one was ever allocated.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for &'a Children {
    type Item = &'a Box<str>;
    type IntoIter = std::collections::btree_set::Iter<'a, Box<str>>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leaf_costs_one_pointer() {
        assert_eq!(std::mem::size_of::<Children>(), 8);
    }

    #[test]
    fn the_last_child_out_frees_the_set() {
        let mut children = Children::default();
        assert!(children.insert("b"));
        assert!(children.insert("a"));
        assert!(!children.insert("a"));
        assert_eq!(
            children.iter().map(|n| &**n).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert!(children.remove("a"));
        assert!(!children.remove("a"));
        assert!(children.remove("b"));
        assert_eq!(children, Children::default());
        assert!(children.is_empty());
        assert_eq!(format!("{children:?}"), "{}");
    }
}
