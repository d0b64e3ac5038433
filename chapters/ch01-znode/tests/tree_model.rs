//! Property test: the packed tree (paths and data in one allocation, ACL numbers, child names
//! in runs) answers every read as a plain `BTreeMap<String, Node>` does, over random
//! creates, deletes, setData and setACL.
//!
//! The model holds each node by full path and nothing else: children are the paths one level
//! below, sorted. Names are drawn short, long and non-ASCII so that the child runs split,
//! join and empty (`tree/children.rs`). Upstream's semantics: `DataTree.createNode`,
//! `deleteNode`, `setData`, `setACL`.

use ch01_znode::path::split_parent;
use ch01_znode::{Acl, CreateMode, DataTree, Request, SessionId, Standalone, TreeBuilder};
use proptest::prelude::*;
use std::collections::BTreeMap;

const ALICE: SessionId = SessionId(0x100000000000001);

/// A node as the model keeps it.
#[derive(Clone, Debug, PartialEq)]
struct Node {
    data: Option<Vec<u8>>,
    acl: Vec<Acl>,
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-d]{1,2}",
        3 => "n[0-9]{1,4}",
        1 => "[a-f]{60,130}",
        1 => "[a-z\u{e9}\u{4e2d}]{1,12}",
    ]
}

fn path() -> impl Strategy<Value = String> {
    let parent = prop::sample::select(vec!["", "/a", "/b", "/a/b"]);
    (parent, name()).prop_map(|(parent, name)| format!("{parent}/{name}"))
}

fn data() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop::option::of(prop::collection::vec(any::<u8>(), 0..40))
}

fn acl() -> impl Strategy<Value = Vec<Acl>> {
    prop_oneof![
        Just(Acl::open_unsafe()),
        Just(Acl::read_unsafe()),
        Just(vec![])
    ]
}

fn request() -> impl Strategy<Value = Request> {
    let mode = CreateMode::Persistent;
    prop_oneof![
        // The fixed parents first, so that most drawn paths have one.
        2 => prop::sample::select(vec!["/a", "/b", "/a/b"]).prop_map(move |p| Request::Create {
            path: p.to_string(), data: None, acl: Acl::open_unsafe(), mode,
        }),
        6 => (path(), data(), acl().prop_filter("a create needs an ACL", |a| !a.is_empty()))
            .prop_map(move |(path, data, acl)| Request::Create {
            path, data, acl, mode,
        }),
        3 => path().prop_map(|path| Request::Delete { path, version: -1 }),
        2 => (path(), data()).prop_map(|(path, data)| Request::SetData {
            path, data, version: -1,
        }),
        1 => (path(), acl()).prop_map(|(path, acl)| Request::SetAcl {
            path, acl, version: -1,
        }),
    ]
}

/// The request applied to the model, as ZooKeeper would; false if it fails.
fn apply(model: &mut BTreeMap<String, Node>, request: &Request) -> bool {
    let has_children = |model: &BTreeMap<String, Node>, path: &str| {
        let prefix = format!("{path}/");
        model
            .range(prefix.clone()..)
            .next()
            .is_some_and(|(p, _)| p.starts_with(&prefix))
    };
    match request {
        Request::Create {
            path, data, acl, ..
        } => {
            let parent = split_parent(path).map(|(parent, _)| parent);
            if model.contains_key(path) || !parent.is_some_and(|p| model.contains_key(p)) {
                return false;
            }
            let node = Node {
                data: data.clone(),
                acl: acl.clone(),
            };
            model.insert(path.clone(), node);
        }
        Request::Delete { path, .. } => {
            if !model.contains_key(path) || has_children(model, path) {
                return false;
            }
            model.remove(path);
        }
        Request::SetData { path, data, .. } => match model.get_mut(path) {
            Some(node) => node.data = data.clone(),
            None => return false,
        },
        Request::SetAcl { path, acl, .. } => match model.get_mut(path) {
            // ZooKeeper refuses an empty ACL list (InvalidACL).
            Some(node) if !acl.is_empty() => node.acl = acl.clone(),
            _ => return false,
        },
        _ => unreachable!("not drawn"),
    }
    true
}

/// The model's child names of `path`, sorted.
fn children(model: &BTreeMap<String, Node>, path: &str) -> Vec<String> {
    (model.keys())
        .filter_map(|p| split_parent(p).filter(|(parent, _)| *parent == path))
        .map(|(_, name)| name.to_string())
        .collect()
}

fn check(tree: &DataTree, model: &BTreeMap<String, Node>) -> Result<(), TestCaseError> {
    prop_assert!(tree.paths().iter().eq(model.keys()));
    for (path, node) in model {
        let (data, stat) = tree.get_data(path).unwrap();
        prop_assert_eq!(data, node.data.as_deref(), "data of {}", path);
        prop_assert_eq!(
            tree.get_acl(path).unwrap().0,
            node.acl.clone(),
            "ACL of {}",
            path
        );
        let (names, _) = tree.get_children(path).unwrap();
        let expected = children(model, path);
        prop_assert_eq!(&names, &expected, "children of {}", path);
        prop_assert_eq!(stat.num_children as usize, expected.len());
        prop_assert_eq!(
            stat.data_length as usize,
            node.data.as_ref().map_or(0, Vec::len)
        );
    }
    prop_assert_eq!(tree.digest(), tree.recomputed_digest());
    // The walk: parents first, children in name order, every node once.
    let walked: Vec<String> = tree.walk().map(|(path, _)| path).collect();
    prop_assert_eq!(walked.len(), model.len());
    let mut builder = TreeBuilder::new(false);
    for (path, node) in tree.walk() {
        builder.add(&path, node.data, node.acl, node.stat).unwrap();
    }
    let rebuilt = builder.finish(tree.last_processed_zxid()).unwrap();
    prop_assert!(rebuilt == *tree, "the tree rebuilt from its walk differs");
    prop_assert_eq!(rebuilt.digest(), tree.digest());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn the_packed_tree_answers_as_a_map_of_paths_does(
        requests in prop::collection::vec(request(), 1..150)
    ) {
        let mut server = Standalone::default();
        let mut model: BTreeMap<String, Node> = server
            .tree
            .walk()
            .map(|(path, n)| (path, Node { data: n.data.map(<[u8]>::to_vec), acl: n.acl.to_vec() }))
            .collect();
        for (i, request) in requests.iter().enumerate() {
            // The built-in nodes are the server's own; the drawn paths never reach them.
            let applied_ok = apply(&mut model, request);
            let (_, applied) = server.submit(ALICE, i as i32, 1000 + i as i64, request);
            prop_assert_eq!(applied.result.err().is_none(), applied_ok, "{:?}", request);
        }
        check(&server.tree, &model)?;
    }
}
