//! Every Stat rule and every error of the tree, one test each. Each test states the rule and
//! names where ZooKeeper implements it.

use ch01_znode::{
    Acl, CreateMode, DataTree, EventType, Request, SessionId, Standalone, Stat, Txn, TxnOp,
    TxnResult, WatchTrigger, ZkError, Zxid,
};

const ALICE: SessionId = SessionId(0x100000000000001);
const BOB: SessionId = SessionId(0x100000000000002);

/// A standalone server whose clock reads 1000 ms × the zxid counter, so times are checkable.
struct Zk(Standalone);

impl Zk {
    fn new() -> Zk {
        Zk(Standalone::default())
    }

    fn run(&mut self, session: SessionId, request: Request) -> TxnResult {
        let time = (self.0.tree.last_processed_zxid().0 + 1) * 1000;
        self.0.submit(session, 0, time, &request).1.result
    }

    fn create_as(
        &mut self,
        session: SessionId,
        path: &str,
        mode: CreateMode,
    ) -> Result<String, ZkError> {
        let request = Request::Create {
            path: path.into(),
            data: Some(b"v".to_vec()),
            acl: Acl::open_unsafe(),
            mode,
        };
        match self.run(session, request) {
            TxnResult::Created { path, .. } => Ok(path),
            other => Err(other.err().expect("a failed create reports its error")),
        }
    }

    fn create(&mut self, path: &str) -> Result<String, ZkError> {
        self.create_as(ALICE, path, CreateMode::Persistent)
    }

    fn delete(&mut self, path: &str, version: i32) -> Result<(), ZkError> {
        let request = Request::Delete {
            path: path.into(),
            version,
        };
        self.run(ALICE, request).err().map_or(Ok(()), Err)
    }

    fn set(&mut self, path: &str, data: &str, version: i32) -> Result<Stat, ZkError> {
        let request = Request::SetData {
            path: path.into(),
            data: Some(data.as_bytes().to_vec()),
            version,
        };
        match self.run(ALICE, request) {
            TxnResult::DataSet { stat, .. } => Ok(stat),
            other => Err(other.err().expect("a failed set reports its error")),
        }
    }

    fn stat(&self, path: &str) -> Stat {
        self.0.tree.stat(path).expect("node exists")
    }
}

#[test]
fn a_fresh_tree_has_the_zookeeper_nodes_with_zero_stats() {
    // DataTree's constructor and addConfigNode; client-protocol.md §12.
    let tree = DataTree::new();
    assert_eq!(
        tree.paths(),
        ["/", "/zookeeper", "/zookeeper/config", "/zookeeper/quota"]
    );
    let root = tree.stat("/").unwrap();
    assert_eq!(
        (root.czxid, root.num_children, root.cversion),
        (Zxid(0), 1, -1)
    );
    assert_eq!(tree.stat("/zookeeper").unwrap().cversion, -2);
    assert_eq!(
        tree.get_data("/").unwrap().0,
        Some(&b""[..]),
        "empty, not null"
    );
}

#[test]
fn zookeeper_config_is_read_only_with_acl_version_minus_one() {
    // DataTree.addConfigNode sets READ_ACL_UNSAFE through setACL(path, acl, -1).
    let (acl, stat) = DataTree::new().get_acl("/zookeeper/config").unwrap();
    assert_eq!(acl, Acl::read_unsafe());
    assert_eq!(stat.aversion, -1);
}

#[test]
fn create_stamps_czxid_mzxid_pzxid_and_both_times_from_the_txn() {
    // DataTree.createStat.
    let mut zk = Zk::new();
    zk.create("/a").unwrap();
    let s = zk.stat("/a");
    assert_eq!((s.czxid, s.mzxid, s.pzxid), (Zxid(1), Zxid(1), Zxid(1)));
    assert_eq!((s.ctime, s.mtime), (1000, 1000));
    assert_eq!((s.version, s.cversion, s.aversion), (0, 0, 0));
    assert_eq!((s.data_length, s.num_children), (1, 0));
    assert_eq!(s.ephemeral_owner, SessionId(0));
}

#[test]
fn a_child_create_bumps_the_parents_cversion_and_pzxid_only() {
    // DataTree.createNode: parent.stat.setCversion / setPzxid; mzxid stays.
    let mut zk = Zk::new();
    zk.create("/p").unwrap();
    zk.create("/p/c").unwrap();
    let p = zk.stat("/p");
    assert_eq!(
        (p.cversion, p.pzxid, p.mzxid, p.num_children),
        (1, Zxid(2), Zxid(1), 1)
    );
    assert_eq!(p.version, 0, "a child create is not a data change");
}

#[test]
fn a_child_delete_bumps_visible_cversion_and_pzxid() {
    // DataTree.deleteNode moves pzxid; DataNode.copyStat derives cversion = 2×creates − children.
    let mut zk = Zk::new();
    zk.create("/p").unwrap();
    zk.create("/p/c").unwrap();
    zk.delete("/p/c", -1).unwrap();
    let p = zk.stat("/p");
    assert_eq!((p.cversion, p.pzxid, p.num_children), (2, Zxid(3), 0));
    assert_eq!(
        zk.0.tree.node("/p").unwrap().stat.cversion,
        1,
        "stored: creates only"
    );
}

#[test]
fn set_data_bumps_version_mzxid_mtime_and_data_length() {
    // DataTree.setData with the version prep decided.
    let mut zk = Zk::new();
    zk.create("/a").unwrap();
    let s = zk.set("/a", "hello", -1).unwrap();
    assert_eq!(
        (s.version, s.mzxid, s.mtime, s.data_length),
        (1, Zxid(2), 2000, 5)
    );
    assert_eq!((s.czxid, s.ctime, s.pzxid), (Zxid(1), 1000, Zxid(1)));
}

#[test]
fn set_acl_bumps_aclversion_and_nothing_else() {
    // DataTree.setACL; PrepRequestProcessor checks the version against aversion.
    let mut zk = Zk::new();
    zk.create("/a").unwrap();
    let before = zk.stat("/a");
    let result = zk.run(
        ALICE,
        Request::SetAcl {
            path: "/a".into(),
            acl: Acl::read_unsafe(),
            version: 0,
        },
    );
    let TxnResult::AclSet { stat, .. } = result else {
        panic!("setACL failed: {result:?}")
    };
    assert_eq!(stat.aversion, 1);
    assert_eq!(
        Stat {
            aversion: 0,
            ..stat
        },
        before
    );
    let stale = Request::SetAcl {
        path: "/a".into(),
        acl: Acl::open_unsafe(),
        version: 0,
    };
    assert_eq!(zk.run(ALICE, stale).err(), Some(ZkError::BadVersion));
}

#[test]
fn sequential_suffix_is_the_parents_stored_cversion_in_ten_digits() {
    // pRequest2TxnCreate: path + String.format("%010d", parentCVersion).
    let mut zk = Zk::new();
    zk.create("/q").unwrap();
    let seq = CreateMode::PersistentSequential;
    assert_eq!(
        zk.create_as(ALICE, "/q/x-", seq).unwrap(),
        "/q/x-0000000000"
    );
    zk.delete("/q/x-0000000000", -1).unwrap();
    // A delete does not move the stored cversion, so the next suffix is 1, not 2.
    assert_eq!(
        zk.create_as(ALICE, "/q/x-", seq).unwrap(),
        "/q/x-0000000001"
    );
    assert_eq!(zk.create_as(ALICE, "/q/", seq).unwrap(), "/q/0000000002");
}

#[test]
fn ephemeral_nodes_record_their_owner_and_cannot_have_children() {
    // pRequest2TxnCreate: EphemeralType NORMAL parent → NoChildrenForEphemerals.
    let mut zk = Zk::new();
    zk.create_as(BOB, "/e", CreateMode::Ephemeral).unwrap();
    assert_eq!(zk.stat("/e").ephemeral_owner, BOB);
    assert_eq!(zk.create("/e/c"), Err(ZkError::NoChildrenForEphemerals));
}

#[test]
fn closing_a_session_deletes_its_ephemerals_and_only_those() {
    // PrepRequestProcessor closeSession lists them; DataTree.killSession deletes them.
    let mut zk = Zk::new();
    zk.create("/g").unwrap();
    zk.create_as(BOB, "/g/bob", CreateMode::EphemeralSequential)
        .unwrap();
    zk.create_as(ALICE, "/g/alice", CreateMode::Ephemeral)
        .unwrap();
    let (txn, applied) = zk.0.submit(BOB, 0, 9000, &Request::CloseSession);
    assert_eq!(
        txn.op,
        TxnOp::CloseSession {
            paths_to_delete: vec!["/g/bob0000000000".into()]
        }
    );
    assert_eq!(
        applied.triggers,
        [
            WatchTrigger::new("/g/bob0000000000", EventType::NodeDeleted),
            WatchTrigger::new("/g", EventType::NodeChildrenChanged),
        ]
    );
    assert_eq!(zk.0.tree.get_children("/g").unwrap().0, ["alice"]);
    assert_eq!(zk.stat("/g").pzxid, txn.zxid);
    assert!(zk.0.tree.ephemerals(BOB).is_empty());
}

#[test]
fn containers_and_ttl_nodes_show_ephemeral_owner_zero() {
    // DataNode.getClientEphemeralOwner hides the EphemeralType markers.
    let mut zk = Zk(Standalone::new(DataTree::new().with_extended_types()));
    zk.create_as(ALICE, "/c", CreateMode::Container).unwrap();
    zk.create_as(ALICE, "/t", CreateMode::PersistentWithTtl(5000))
        .unwrap();
    assert_eq!(zk.stat("/c").ephemeral_owner, SessionId(0));
    assert_eq!(zk.stat("/t").ephemeral_owner, SessionId(0));
    assert_eq!(zk.0.tree.node("/c").unwrap().stat.ephemeral_owner, i64::MIN);
    assert_eq!(
        zk.create("/c/child"),
        Ok("/c/child".into()),
        "containers may have children"
    );
}

#[test]
fn a_sequential_container_is_a_container_named_with_the_parents_counter() {
    // pRequest2TxnCreate: createContainer honours the sequential flag, and its
    // CreateContainerTxn makes a container whatever the name.
    let mut zk = Zk::new();
    zk.create("/p").unwrap();
    zk.create("/p/a").unwrap();
    let seq = CreateMode::ContainerSequential;
    assert_eq!(
        zk.create_as(ALICE, "/p/c-", seq),
        Ok("/p/c-0000000001".into())
    );
    let stored = zk.0.tree.node("/p/c-0000000001").unwrap().stat;
    assert_eq!(stored.ephemeral_owner, i64::MIN);
    assert_eq!(zk.stat("/p/c-0000000001").ephemeral_owner, SessionId(0));
    assert_eq!(zk.stat("/p").cversion, 2);
}

#[test]
fn ttl_nodes_are_unimplemented_unless_extended_types_are_on() {
    // validateCreateRequest: createMode.isTTL() && !extendedEphemeralTypesEnabled().
    let mut zk = Zk::new();
    let ttl = CreateMode::PersistentWithTtl(5000);
    assert_eq!(zk.create_as(ALICE, "/t", ttl), Err(ZkError::Unimplemented));
    let mut zk = Zk(Standalone::new(DataTree::new().with_extended_types()));
    let bad = CreateMode::PersistentWithTtl(0);
    assert_eq!(zk.create_as(ALICE, "/t", bad), Err(ZkError::BadArguments));
}

#[test]
fn create_errors_come_in_upstreams_order() {
    // pRequest2TxnCreate: slash → parent exists → suffix → path valid → exists → ephemeral parent.
    let mut zk = Zk::new();
    assert_eq!(zk.create("a"), Err(ZkError::BadArguments));
    assert_eq!(zk.create("/no/such"), Err(ZkError::NoNode));
    assert_eq!(
        zk.create("/no/"),
        Err(ZkError::NoNode),
        "the parent is looked up first"
    );
    zk.create("/a").unwrap();
    assert_eq!(zk.create("/a/"), Err(ZkError::BadArguments));
    assert_eq!(zk.create("/a"), Err(ZkError::NodeExists));
    assert_eq!(
        zk.create("/"),
        Err(ZkError::NodeExists),
        "\"/\" is a valid path that exists"
    );
    let no_acl = Request::Create {
        path: "/b".into(),
        data: None,
        acl: vec![],
        mode: CreateMode::Persistent,
    };
    assert_eq!(zk.run(ALICE, no_acl).err(), Some(ZkError::InvalidAcl));
}

#[test]
fn delete_checks_existence_then_version_then_children() {
    // The delete case of pRequest2Txn.
    let mut zk = Zk::new();
    assert_eq!(zk.delete("/x", -1), Err(ZkError::NoNode));
    zk.create("/a").unwrap();
    zk.create("/a/b").unwrap();
    assert_eq!(
        zk.delete("/a", 7),
        Err(ZkError::BadVersion),
        "version before NotEmpty"
    );
    assert_eq!(zk.delete("/a", 0), Err(ZkError::NotEmpty));
    assert_eq!(zk.delete("/a/b", 0), Ok(()));
    assert_eq!(zk.delete("/a", 0), Ok(()));
}

#[test]
fn the_built_in_nodes_cannot_be_deleted() {
    // getParentPathAndValidate: isSpecialPath → BadArguments.
    let mut zk = Zk::new();
    for path in ["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"] {
        assert_eq!(zk.delete(path, -1), Err(ZkError::BadArguments), "{path}");
    }
}

#[test]
fn set_data_needs_a_node_and_a_matching_version() {
    let mut zk = Zk::new();
    assert_eq!(zk.set("/x", "d", -1), Err(ZkError::NoNode));
    assert_eq!(zk.set("bad", "d", -1), Err(ZkError::BadArguments));
    zk.create("/a").unwrap();
    assert_eq!(zk.set("/a", "d", 1), Err(ZkError::BadVersion));
    assert_eq!(zk.set("/a", "d", 0).unwrap().version, 1);
}

#[test]
fn a_failed_write_still_takes_a_zxid_as_an_error_txn() {
    // PrepRequestProcessor.pRequestHelper: on KeeperException the txn becomes ErrorTxn.
    let mut zk = Zk::new();
    zk.create("/a").unwrap();
    let (txn, applied) = zk.0.submit(
        ALICE,
        0,
        0,
        &Request::Delete {
            path: "/x".into(),
            version: -1,
        },
    );
    assert_eq!(txn.zxid, Zxid(2));
    assert_eq!(txn.op, TxnOp::Error { code: -101 });
    assert!(applied.triggers.is_empty());
    assert_eq!(zk.0.tree.last_processed_zxid(), Zxid(2));
    zk.create("/b").unwrap();
    assert_eq!(zk.stat("/b").czxid, Zxid(3));
}

#[test]
fn null_data_differs_from_empty_data() {
    let mut zk = Zk::new();
    let create = |path: &str, data: Option<Vec<u8>>| Request::Create {
        path: path.into(),
        data,
        acl: Acl::open_unsafe(),
        mode: CreateMode::Persistent,
    };
    zk.run(ALICE, create("/null", None));
    zk.run(ALICE, create("/empty", Some(vec![])));
    assert_eq!(zk.0.tree.get_data("/null").unwrap().0, None);
    assert_eq!(zk.0.tree.get_data("/empty").unwrap().0, Some(&b""[..]));
    assert_eq!(zk.stat("/null").data_length, 0);
}

#[test]
fn a_multi_is_one_zxid_and_sees_its_own_earlier_ops() {
    // multi: every sub-op at the same zxid; prep uses pending ChangeRecords.
    let mut zk = Zk::new();
    zk.create("/a").unwrap();
    zk.create("/a/b").unwrap();
    let ops = vec![
        Request::Delete {
            path: "/a/b".into(),
            version: -1,
        },
        Request::Delete {
            path: "/a".into(),
            version: -1,
        },
    ];
    let result = zk.run(ALICE, Request::Multi(ops));
    assert_eq!(result.err(), None, "{result:?}");
    assert_eq!(
        zk.0.tree.paths(),
        ["/", "/zookeeper", "/zookeeper/config", "/zookeeper/quota"]
    );
    assert_eq!(zk.0.tree.stat("/").unwrap().pzxid, Zxid(3));
}

#[test]
fn a_failed_multi_applies_nothing_and_reports_ok_error_and_inconsistency() {
    // DataTree.processTxn multi: earlier ops 0, the failing op its code, later ops -2.
    let mut zk = Zk::new();
    let before = zk.0.tree.clone();
    let ops = vec![
        Request::Create {
            path: "/x".into(),
            data: None,
            acl: Acl::open_unsafe(),
            mode: CreateMode::Persistent,
        },
        Request::Check {
            path: "/x".into(),
            version: 5,
        },
        Request::Delete {
            path: "/x".into(),
            version: -1,
        },
    ];
    let (_, applied) = zk.0.submit(ALICE, 0, 0, &Request::Multi(ops));
    assert_eq!(
        applied.result,
        TxnResult::Multi(vec![
            TxnResult::Error { code: 0 },
            TxnResult::Error { code: -103 },
            TxnResult::Error { code: -2 },
        ])
    );
    assert!(applied.triggers.is_empty());
    assert_eq!(zk.0.tree.paths(), before.paths());
}

#[test]
fn triggers_follow_datatrees_table() {
    // client-protocol.md §10: create → NodeCreated + parent NodeChildrenChanged; setData →
    // NodeDataChanged; delete → NodeDeleted + parent NodeChildrenChanged; setACL → nothing.
    let mut zk = Zk::new();
    let mut triggers = |request: Request| zk.0.submit(ALICE, 0, 0, &request).1.triggers;
    let t = |p: &str, e| WatchTrigger::new(p, e);
    let create = Request::Create {
        path: "/a".into(),
        data: None,
        acl: Acl::open_unsafe(),
        mode: CreateMode::Persistent,
    };
    assert_eq!(
        triggers(create),
        [
            t("/a", EventType::NodeCreated),
            t("/", EventType::NodeChildrenChanged)
        ]
    );
    let set = Request::SetData {
        path: "/a".into(),
        data: None,
        version: -1,
    };
    assert_eq!(triggers(set), [t("/a", EventType::NodeDataChanged)]);
    let acl = Request::SetAcl {
        path: "/a".into(),
        acl: Acl::open_unsafe(),
        version: -1,
    };
    assert_eq!(triggers(acl), []);
    let delete = Request::Delete {
        path: "/a".into(),
        version: -1,
    };
    assert_eq!(
        triggers(delete),
        [
            t("/a", EventType::NodeDeleted),
            t("/", EventType::NodeChildrenChanged)
        ]
    );
}

#[test]
fn all_children_number_counts_descendants_not_the_node() {
    let mut zk = Zk::new();
    zk.create("/a").unwrap();
    zk.create("/a/b").unwrap();
    zk.create("/a/b/c").unwrap();
    assert_eq!(zk.0.tree.get_all_children_number("/a"), Ok(2));
    assert_eq!(zk.0.tree.get_all_children_number("/"), Ok(6));
}

#[test]
fn a_multi_may_hold_only_create_delete_set_data_and_check() {
    // MultiOperationRecord decodes only those op types; anything else does not unmarshal.
    let mut zk = Zk::new();
    let ops = vec![
        Request::Create {
            path: "/a".into(),
            data: None,
            acl: Acl::open_unsafe(),
            mode: CreateMode::Persistent,
        },
        Request::CloseSession,
    ];
    let result = zk.run(ALICE, Request::Multi(ops));
    assert_eq!(result.err(), Some(ZkError::MarshallingError));
    assert!(zk.0.tree.node("/a").is_none(), "nothing applied");
}

#[test]
fn an_empty_multi_is_allowed_and_takes_a_zxid() {
    let mut zk = Zk::new();
    let (txn, applied) = zk.0.submit(ALICE, 0, 0, &Request::Multi(vec![]));
    assert_eq!(
        (txn.zxid, applied.result),
        (Zxid(1), TxnResult::Multi(vec![]))
    );
}

/// A fuzzy snapshot can hold a child created after its parent was written out. Replaying that
/// create fails with NODEEXISTS and still moves the parent's cversion and pzxid to what the
/// txn says, never backwards (`DataTree.processTxn` → `setCversionPzxid`).
#[test]
fn a_replayed_create_of_an_existing_node_still_moves_its_parents_cversion() {
    fn create(zxid: i64, path: &str, parent_cversion: i32) -> Txn {
        Txn {
            zxid: Zxid(zxid),
            time_ms: zxid * 1000,
            session: ALICE,
            cxid: zxid as i32,
            op: TxnOp::Create {
                path: path.into(),
                data: None,
                acl: Acl::open_unsafe(),
                owner: ch01_znode::EphemeralOwner::None,
                parent_cversion,
            },
        }
    }
    let mut tree = DataTree::new();
    tree.apply(&create(1, "/p", 1));
    tree.apply(&create(2, "/p/c", 1));
    let replayed = tree.apply(&create(5, "/p/c", 3));
    assert_eq!(replayed.result.err(), Some(ZkError::NodeExists));
    // The stored cversion counts creates (the client's Stat shows creates + deletes).
    let parent = tree.node("/p").unwrap().stat;
    assert_eq!((parent.cversion, parent.pzxid), (3, Zxid(5)));
    assert_eq!(tree.digest(), tree.recomputed_digest());

    // An older create replayed again leaves the parent where it is.
    tree.apply(&create(2, "/p/c", 1));
    let parent = tree.node("/p").unwrap().stat;
    assert_eq!((parent.cversion, parent.pzxid), (3, Zxid(5)));
}
