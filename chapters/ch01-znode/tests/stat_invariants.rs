//! Property test: random sequences of writes keep every Stat invariant, and replaying the
//! txns they produced rebuilds the identical tree.

use ch01_znode::path::split_parent;
use ch01_znode::{Acl, CreateMode, DataTree, EventType, Request, SessionId, Standalone, Txn, Zxid};
use proptest::prelude::*;
use std::collections::HashMap;

const PATHS: &[&str] = &[
    "/a",
    "/b",
    "/a/x",
    "/a/y",
    "/a/x/z",
    "/b/q-",
    "/zookeeper/u",
];
const SESSIONS: [SessionId; 2] = [SessionId(0x100000000000001), SessionId(0x100000000000002)];

fn path() -> impl Strategy<Value = String> {
    prop::sample::select(PATHS).prop_map(str::to_string)
}

fn version() -> impl Strategy<Value = i32> {
    prop_oneof![3 => Just(-1), 1 => 0..3i32]
}

fn data() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop::option::of(prop::collection::vec(any::<u8>(), 0..6))
}

fn single() -> impl Strategy<Value = Request> {
    let mode = prop::sample::select(vec![
        CreateMode::Persistent,
        CreateMode::Ephemeral,
        CreateMode::PersistentSequential,
        CreateMode::EphemeralSequential,
        CreateMode::Container,
        CreateMode::ContainerSequential,
    ]);
    prop_oneof![
        4 => (path(), data(), mode).prop_map(|(path, data, mode)| Request::Create {
            path, data, acl: Acl::open_unsafe(), mode
        }),
        2 => (path(), version()).prop_map(|(path, version)| Request::Delete { path, version }),
        2 => (path(), data(), version()).prop_map(|(path, data, version)| Request::SetData {
            path, data, version
        }),
        1 => (path(), version()).prop_map(|(path, version)| Request::SetAcl {
            path, acl: Acl::read_unsafe(), version
        }),
    ]
}

fn request() -> impl Strategy<Value = (usize, Request)> {
    let req = prop_oneof![
        8 => single(),
        1 => Just(Request::CloseSession),
        2 => prop::collection::vec(single(), 0..4).prop_map(Request::Multi),
    ];
    (0..2usize, req)
}

/// What the invariants are checked against, kept from the triggers alone.
#[derive(Default)]
struct Model {
    /// path → (client cversion, pzxid) expected.
    children_changes: HashMap<String, (i32, Zxid)>,
    /// path → number of setData applied since its create.
    data_versions: HashMap<String, i32>,
}

fn check(tree: &DataTree, model: &Model) -> Result<(), TestCaseError> {
    let paths = tree.paths();
    for path in &paths {
        let stat = tree.stat(path).unwrap();
        let (data, _) = tree.get_data(path).unwrap();
        let children = paths
            .iter()
            .filter(|p| split_parent(p).is_some_and(|(parent, _)| parent == path))
            .count();
        prop_assert_eq!(
            stat.num_children as usize,
            children,
            "numChildren of {}",
            path
        );
        prop_assert_eq!(
            stat.data_length as usize,
            data.map_or(0, <[u8]>::len),
            "{}",
            path
        );
        prop_assert!(
            stat.mzxid >= stat.czxid && stat.pzxid >= stat.czxid,
            "{}",
            path
        );
        if let Some((cversion, pzxid)) = model.children_changes.get(path) {
            prop_assert_eq!(stat.cversion, *cversion, "cversion of {}", path);
            prop_assert_eq!(stat.pzxid, *pzxid, "pZxid of {}", path);
        }
        if let Some(v) = model.data_versions.get(path) {
            prop_assert_eq!(stat.version, *v, "dataVersion of {}", path);
        }
        if stat.ephemeral_owner != SessionId::NONE {
            prop_assert_eq!(stat.num_children, 0, "ephemeral {} has children", path);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn stat_invariants_hold_and_replay_is_exact(requests in prop::collection::vec(request(), 1..40)) {
        let mut server = Standalone::default();
        let mut model = Model::default();
        // Built-in nodes start with their own cversion and a pzxid of 0.
        for p in server.tree.paths() {
            let s = server.tree.stat(&p).unwrap();
            model.children_changes.insert(p, (s.cversion, s.pzxid));
        }
        let mut log: Vec<Txn> = Vec::new();
        for (i, (who, request)) in requests.iter().enumerate() {
            let (txn, applied) = server.submit(SESSIONS[*who], 0, 1000 * i as i64, request);
            for t in &applied.triggers {
                match t.event {
                    EventType::NodeCreated => {
                        model.children_changes.insert(t.path.clone(), (0, txn.zxid));
                        model.data_versions.insert(t.path.clone(), 0);
                    }
                    EventType::NodeDeleted => {
                        model.children_changes.remove(&t.path);
                        model.data_versions.remove(&t.path);
                    }
                    EventType::NodeDataChanged => {
                        *model.data_versions.get_mut(&t.path).unwrap() += 1;
                    }
                    EventType::NodeChildrenChanged => {
                        let entry = model.children_changes.get_mut(&t.path).unwrap();
                        entry.0 += 1;
                        entry.1 = txn.zxid;
                    }
                    other => prop_assert!(false, "unexpected trigger {:?}", other),
                }
            }
            log.push(txn);
            check(&server.tree, &model)?;
        }
        let mut replica = DataTree::new();
        for txn in &log {
            replica.apply(txn);
        }
        prop_assert_eq!(&replica, &server.tree, "replaying the log rebuilds the tree");
        for p in replica.paths() {
            prop_assert_eq!(replica.stat(&p).unwrap(), server.tree.stat(&p).unwrap());
        }
    }
}
