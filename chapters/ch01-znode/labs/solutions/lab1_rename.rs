//! A solution to lab 1 (the CI runs the lab's snapshot against it, so the snapshot is known to
//! be reachable). Look only once you have tried.

use ch01_znode::{CreateMode, DataTree, Request};

pub fn rename_ops(tree: &DataTree, from: &str, to: &str) -> Vec<Request> {
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
}
