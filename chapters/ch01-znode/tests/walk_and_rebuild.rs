//! A tree written out as a list of nodes (a snapshot's order) and read back is the same tree,
//! and a list that is not a tree written parents first is refused. Upstream:
//! `DataTree.serializeNode` and `DataTree.deserialize`. Trees rebuilt in different orders
//! also hash alike, as a model checker needs of one state reached by two paths.

use ch01_znode::{
    Acl, CreateMode, DataTree, Request, RestoreError, SessionId, Standalone, StatPersisted,
    TreeBuilder, Zxid,
};

const ALICE: SessionId = SessionId(0x100000000000001);

fn create(server: &mut Standalone, path: &str, mode: CreateMode, acl: Vec<Acl>) {
    let request = Request::Create {
        path: path.into(),
        data: Some(path.as_bytes().to_vec()),
        acl,
        mode,
    };
    server.submit(ALICE, 0, 1000, &request);
}

fn sample() -> DataTree {
    let mut server = Standalone::default();
    let open = Acl::open_unsafe;
    create(&mut server, "/b", CreateMode::Persistent, open());
    create(
        &mut server,
        "/a",
        CreateMode::Persistent,
        Acl::read_unsafe(),
    );
    create(&mut server, "/a/y", CreateMode::Ephemeral, open());
    create(&mut server, "/a/x", CreateMode::Persistent, open());
    create(&mut server, "/a/x/1", CreateMode::Persistent, open());
    server.tree
}

fn rebuild(nodes: &[(String, ch01_znode::DataNode)]) -> Result<TreeBuilder, RestoreError> {
    let mut builder = TreeBuilder::new(false);
    for (path, node) in nodes {
        builder.add(path, node.data, node.acl, node.stat)?;
    }
    Ok(builder)
}

#[test]
fn the_walk_visits_each_parent_before_its_children_in_name_order() {
    let tree = sample();
    let paths: Vec<String> = tree.walk().map(|(path, _)| path).collect();
    assert_eq!(
        paths,
        [
            "/",
            "/a",
            "/a/x",
            "/a/x/1",
            "/a/y",
            "/b",
            "/zookeeper",
            "/zookeeper/config",
            "/zookeeper/quota"
        ]
    );
}

#[test]
fn rebuilding_from_the_walk_gives_the_same_tree_children_and_ephemerals_included() {
    let tree = sample();
    let nodes: Vec<_> = tree.walk().collect();
    let rebuilt = rebuild(&nodes)
        .unwrap()
        .finish(tree.last_processed_zxid())
        .unwrap();
    assert_eq!(rebuilt, tree);
    assert_eq!(rebuilt.ephemerals(ALICE), ["/a/y"]);
    assert_eq!(rebuilt.get_children("/a").unwrap().0, ["x", "y"]);
    let acl = rebuilt.node("/a").unwrap().acl;
    assert_eq!(**acl, Acl::read_unsafe()[..]);
}

#[test]
fn a_list_that_is_not_a_tree_written_parents_first_is_refused() {
    let tree = sample();
    let nodes: Vec<_> = tree.walk().collect();
    let refused = |nodes: &[(String, ch01_znode::DataNode)]| rebuild(nodes).err();
    let path = |p: &str| p.to_string();

    assert_eq!(
        refused(&nodes[1..]),
        Some(RestoreError::RootNotFirst { path: path("/a") })
    );
    let child_first = [nodes[0].clone(), nodes[2].clone()];
    assert_eq!(
        refused(&child_first),
        Some(RestoreError::NoParent { path: path("/a/x") })
    );
    let twice = [nodes[0].clone(), nodes[1].clone(), nodes[1].clone()];
    assert_eq!(
        refused(&twice),
        Some(RestoreError::Duplicate { path: path("/a") })
    );
    let root_again = [nodes[0].clone(), nodes[0].clone()];
    assert_eq!(
        refused(&root_again),
        Some(RestoreError::RootNotFirst { path: path("/") })
    );

    let mut builder = TreeBuilder::new(false);
    builder
        .add("/", None, &[], StatPersisted::default())
        .unwrap();
    assert_eq!(
        builder.add("/a/", None, &[], StatPersisted::default()),
        Err(RestoreError::BadPath { path: path("/a/") })
    );
    assert_eq!(
        TreeBuilder::new(false).finish(Zxid(5)).err(),
        Some(RestoreError::Empty)
    );
}

#[test]
fn children_in_any_order_rebuild_the_same_tree_and_a_name_listed_again_is_refused_where_it_is() {
    // Upstream writes a node's children in hash-set order, not by name, and interleaves them
    // with their own subtrees: the builder must take any parents-first order.
    let tree = sample();
    let by_path = |paths: &[&str]| -> Vec<(String, ch01_znode::DataNode)> {
        let node = |p: &str| tree.node(p).expect("in the sample");
        paths.iter().map(|p| (p.to_string(), node(p))).collect()
    };
    let shuffled = by_path(&[
        "/",
        "/zookeeper",
        "/zookeeper/quota",
        "/b",
        "/a",
        "/a/y",
        "/a/x",
        "/a/x/1",
        "/zookeeper/config",
    ]);
    let rebuilt = rebuild(&shuffled).unwrap();
    let rebuilt = rebuilt.finish(tree.last_processed_zxid()).unwrap();
    assert_eq!(rebuilt, tree);
    assert_eq!(
        rebuilt.get_children("/").unwrap().0,
        ["a", "b", "zookeeper"]
    );

    let refused = |paths: &[&str]| rebuild(&by_path(paths)).err();
    let duplicate = |p: &str| {
        Some(RestoreError::Duplicate {
            path: p.to_string(),
        })
    };
    // Right after itself, and again after another parent's children came in between.
    assert_eq!(refused(&["/", "/a", "/a/x", "/a/x"]), duplicate("/a/x"));
    assert_eq!(
        refused(&["/", "/a", "/a/x", "/b", "/a/x"]),
        duplicate("/a/x")
    );
    assert_eq!(refused(&["/", "/a", "/b", "/a"]), duplicate("/a"));
}

#[test]
fn a_tree_hashes_alike_whatever_order_its_nodes_came_in_and_apart_after_one_change() {
    // A model checker tells states apart by their hash: one tree reached by two paths must be
    // one state, whatever order its hash table keeps, and two trees one Stat apart two.
    let hash = |tree: &DataTree| {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        std::hash::Hash::hash(tree, &mut hasher);
        std::hash::Hasher::finish(&hasher)
    };
    let tree = sample();
    let in_order = |paths: &[&str]| {
        let nodes: Vec<_> = paths
            .iter()
            .map(|p| (p.to_string(), tree.node(p).expect("in the sample")))
            .collect();
        rebuild(&nodes)
            .unwrap()
            .finish(tree.last_processed_zxid())
            .unwrap()
    };
    let walked: Vec<String> = tree.walk().map(|(path, _)| path).collect();
    let walked: Vec<&str> = walked.iter().map(String::as_str).collect();
    let mut backwards = vec![
        "/",
        "/zookeeper",
        "/zookeeper/quota",
        "/zookeeper/config",
        "/b",
    ];
    backwards.extend(["/a", "/a/y", "/a/x", "/a/x/1"]);
    let (first, second) = (in_order(&walked), in_order(&backwards));
    assert_eq!(first, second);
    assert_eq!(format!("{first:?}"), format!("{second:?}"));
    assert_eq!(hash(&first), hash(&second));
    assert_eq!(hash(&first), hash(&tree));

    let mut server = Standalone::default();
    server.tree = tree.clone();
    let set = Request::SetData {
        path: "/b".into(),
        data: Some(b"/b".to_vec()),
        version: -1,
    };
    server.submit(ALICE, 0, 1000, &set);
    assert_ne!(
        server.tree, tree,
        "a setData of the same bytes still moves the Stat"
    );
    assert_ne!(hash(&server.tree), hash(&tree));
}
