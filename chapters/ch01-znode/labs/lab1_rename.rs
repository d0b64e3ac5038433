//! # Lab 1.1: rename a znode, atomically and only if nobody changed it
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
//! Grade it: `cargo run -- lab check 1.1` (or `cargo test -p ch01-znode --test all labs::lab_1_1_`).
//! The test renames `/sanguo/weiguo/zhangliao0000000000` to `/sanguo/jin/zhangliao` twice —
//! once cleanly, once after someone else changed the node — and compares the trace with
//! `tests/snapshots/all__labs__lab_1_1_rename.snap`. Read that file: it is the answer's *effect*,
//! Stat for Stat; your job is to find the ops that produce it.

#[allow(unused_imports)] // the skeleton does not use them yet
use ch01_znode::{CreateMode, DataTree, Request};

pub fn rename_ops(tree: &DataTree, from: &str, to: &str) -> Vec<Request> {
    // LAB 1.1 ANSWER (lab start puts the //> lines here)
    //> let _ = (tree, from, to);
    //> todo!("lab 1.1: read `from`, then build the create and the versioned delete")
    let Ok((data, stat)) = tree.get_data(from) else {
        return Vec::new();
    };
    let Ok((acl, _)) = tree.get_acl(from) else {
        return Vec::new();
    };
    vec![
        Request::Create {
            path: to.to_string(),
            data: data.map(<[u8]>::to_vec),
            acl,
            mode: CreateMode::Persistent,
        },
        Request::Delete {
            path: from.to_string(),
            version: stat.version,
        },
    ]
    // LAB 1.1 END
}
