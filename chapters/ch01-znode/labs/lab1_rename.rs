//! # Lab 1: rename a znode, atomically and only if nobody changed it
//!
//! ZooKeeper has no rename. A client builds one from a multi: create the node under its new
//! name with the old node's data and ACL, and delete the old node — both at one zxid, or
//! neither. And because another client may change the node between your read and your write,
//! the delete must name the version you read: if the node changed, the whole multi fails
//! with BadVersion and nothing happens.
//!
//! Write `rename_ops`: given the tree (read it with `tree.get_data` and `tree.get_acl`), return
//! the ops of that multi for a node `from` without children.
//!
//! Grade it: `cargo test -p ch01-znode --test lab1 -- --ignored`. The test renames
//! `/sanguo/weiguo/zhangliao0000000000` to `/sanguo/jin/zhangliao` twice — once cleanly, once
//! after someone else changed the node — and compares the trace with
//! `tests/snapshots/lab1__lab1_rename.snap`. Read that file: it is the answer's *effect*, Stat
//! for Stat; your job is to find the ops that produce it.

use ch01_znode::{DataTree, Request};

pub fn rename_ops(tree: &DataTree, from: &str, to: &str) -> Vec<Request> {
    // Your code here: read `from`, then build the create and the delete.
    let _ = (tree, from, to);
    Vec::new()
}
