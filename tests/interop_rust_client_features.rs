//! Beyond the basics, with `zookeeper-client`: ACLs, container nodes,
//! multi (write and read), persistent watches, and the introspection calls
//! (sync, whoAmI, getAllChildrenNumber, getEphemerals), on every server
//! under test.
//!
//! These are the parts of the protocol that ZooKeeper added after 3.4 and
//! that recipe libraries (Curator-style locks, caches, leader latches) lean
//! on. Each test is one behaviour and cites the upstream rule; the real
//! ZooKeeper 3.8 runs every test too, so an expectation that disagrees with
//! it fails there first.

use crate::common;

use common::rust_client::{connect, ephemeral, on_every_server, persistent};
use zookeeper_client as zk;
use zookeeper_client::{
    Acl, Acls, AddWatchMode, AuthId, AuthUser, Client, CreateMode, EventType, MultiReadResult,
    MultiWriteResult, Permission,
};

/// `digest` ids store `user:base64(sha1("user:password"))`; this is Alice's
/// for the password `secret` (upstream DigestAuthenticationProvider).
const ALICE_DIGEST: &str = "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=";

async fn connect_as_alice(address: &str) -> Client {
    let client = connect(address).await;
    client
        .auth("digest", b"alice:secret")
        .await
        .expect("addauth digest");
    client
}

#[test]
fn a_digest_acl_keeps_other_sessions_out_and_lets_its_user_in() {
    // Rule: `auth` in an ACL stands for the creator's authenticated ids; a
    // request whose session holds none of the ACL's ids with the needed
    // permission gets NoAuth (upstream PrepRequestProcessor.fixupACL,
    // ZooKeeperServer.checkACL).
    on_every_server("digest ACL", |address| async move {
        let alice = connect_as_alice(&address).await;
        let private = CreateMode::Persistent.with_acls(Acls::creator_all());
        alice
            .create("/rust-acl", b"secret plans", &private)
            .await
            .expect("create as alice");

        let (acl, _) = alice.get_acl("/rust-acl").await.expect("getAcl as alice");
        assert_eq!(
            acl,
            [Acl::new(
                Permission::ALL,
                AuthId::new("digest", ALICE_DIGEST)
            )]
        );

        let stranger = connect(&address).await;
        assert_eq!(stranger.get_data("/rust-acl").await, Err(zk::Error::NoAuth));
        assert_eq!(
            stranger.set_data("/rust-acl", b"x", None).await,
            Err(zk::Error::NoAuth)
        );
        assert_eq!(
            stranger
                .create("/rust-acl/child", b"", &persistent())
                .await
                .map(|_| ()),
            Err(zk::Error::NoAuth),
            "creating a child needs CREATE on the parent"
        );

        let alice_again = connect_as_alice(&address).await;
        let (data, _) = alice_again
            .get_data("/rust-acl")
            .await
            .expect("read in another session as alice");
        assert_eq!(data, b"secret plans");

        // DELETE is checked on the parent, and / lets anyone delete.
        stranger
            .delete("/rust-acl", None)
            .await
            .expect("the parent's ACL rules a delete");
    });
}

#[test]
fn a_world_readable_node_can_be_read_but_not_written_by_others() {
    // Rule: permissions are checked per operation: READ for getData, WRITE
    // for setData (upstream FinalRequestProcessor, PrepRequestProcessor).
    on_every_server("world:anyone read-only", |address| async move {
        let owner = connect(&address).await;
        let read_only = CreateMode::Persistent.with_acls(Acls::anyone_read());
        owner
            .create("/rust-read-only", b"notice", &read_only)
            .await
            .expect("create");
        let other = connect(&address).await;
        assert_eq!(
            other.get_data("/rust-read-only").await.map(|(d, _)| d),
            Ok(b"notice".to_vec())
        );
        assert_eq!(
            other.set_data("/rust-read-only", b"x", None).await,
            Err(zk::Error::NoAuth)
        );
    });
}

#[test]
fn a_container_node_can_have_children_and_shows_no_ephemeral_owner() {
    // Rule: a container is stored with a special ephemeralOwner
    // (EphemeralType.CONTAINER_EPHEMERAL_OWNER) but clients are shown 0
    // (upstream DataNode.copyStat, getClientEphemeralOwner); unlike an
    // ephemeral it may have children.
    on_every_server("container", |address| async move {
        let client = connect(&address).await;
        let container = CreateMode::Container.with_acls(Acls::anyone_all());
        let (created, _) = client
            .create("/rust-container", b"", &container)
            .await
            .expect("createContainer");
        assert_eq!(created.ephemeral_owner, 0);
        client
            .create("/rust-container/child", b"", &persistent())
            .await
            .expect("a child");
        let stat = client
            .check_stat("/rust-container")
            .await
            .expect("exists")
            .expect("still there");
        assert_eq!((stat.ephemeral_owner, stat.num_children), (0, 1));
    });
}

#[test]
fn a_multi_applies_every_op_or_none_and_says_which_one_failed() {
    // Rule: a multi is atomic: if one op fails, none is applied and the
    // reply names the failing op (upstream PrepRequestProcessor multi,
    // MultiResponse).
    on_every_server("multi write", |address| async move {
        let client = connect(&address).await;
        client
            .create("/rust-multi", b"v0", &persistent())
            .await
            .expect("create");

        let mut failing = client.new_multi_writer();
        failing
            .add_create("/rust-multi/new", b"", &persistent())
            .expect("op");
        failing.add_check_version("/rust-multi", 7).expect("op");
        failing
            .add_set_data("/rust-multi", b"v1", None)
            .expect("op");
        let failed = failing.commit().await;
        assert_eq!(
            failed,
            Err(zk::MultiWriteError::OperationFailed {
                index: 1,
                source: zk::Error::BadVersion
            })
        );
        assert_eq!(
            client.check_stat("/rust-multi/new").await,
            Ok(None),
            "the create was rolled back"
        );

        let mut passing = client.new_multi_writer();
        passing.add_check_version("/rust-multi", 0).expect("op");
        passing
            .add_create("/rust-multi/new", b"", &persistent())
            .expect("op");
        passing
            .add_set_data("/rust-multi", b"v1", None)
            .expect("op");
        passing.add_delete("/rust-multi/new", None).expect("op");
        let results = passing.commit().await.expect("every op applies");
        assert_eq!(results.len(), 4);
        assert_eq!(results[0], MultiWriteResult::Check);
        let MultiWriteResult::Create { path, .. } = &results[1] else {
            panic!("second result is a create: {:?}", results[1]);
        };
        assert_eq!(path, "/rust-multi/new");
        let MultiWriteResult::SetData { stat: set } = &results[2] else {
            panic!("third result is a setData: {:?}", results[2]);
        };
        assert_eq!(set.version, 1);
        assert_eq!(results[3], MultiWriteResult::Delete);
        // The set (mZxid) and the child create and delete (pZxid) are one txn.
        let (_, after) = client.get_data("/rust-multi").await.expect("get");
        assert_eq!(after.mzxid, after.pzxid, "one multi, one zxid");
        assert_eq!((after.cversion, after.num_children), (2, 0));
    });
}

#[test]
fn a_multi_read_answers_each_read_or_its_error() {
    // Rule: multiRead (opcode 22) runs getData/getChildren ops side by side;
    // a failing read is an error result, not a failed request (upstream
    // FinalRequestProcessor, OpCode.multiRead, 3.6+).
    on_every_server("multi read", |address| async move {
        let client = connect(&address).await;
        client
            .create("/rust-multi-read", b"top", &persistent())
            .await
            .expect("create");
        client
            .create("/rust-multi-read/a", b"", &persistent())
            .await
            .expect("create");
        let mut reader = client.new_multi_reader();
        reader.add_get_data("/rust-multi-read").expect("op");
        reader.add_get_children("/rust-multi-read").expect("op");
        reader.add_get_data("/rust-multi-read/missing").expect("op");
        let results = reader.commit().await.expect("a multi read");
        assert!(
            matches!(&results[..], [
                MultiReadResult::Data { data, stat },
                MultiReadResult::Children { children },
                MultiReadResult::Error { err: zk::Error::NoNode },
            ] if data == b"top" && stat.num_children == 1 && children == &["a"]),
            "{results:?}"
        );
    });
}

#[test]
fn a_persistent_watch_sees_every_change_to_its_node_and_stays() {
    // Rule: addWatch PERSISTENT is a data, exists and child watch that is
    // not removed when it fires (upstream WatchManager, AddWatchMode).
    on_every_server("persistent watch", |address| async move {
        let client = connect(&address).await;
        let writer = connect(&address).await;
        let mut watch = client
            .watch("/rust-persistent", AddWatchMode::Persistent)
            .await
            .expect("addWatch");
        writer
            .create("/rust-persistent", b"", &persistent())
            .await
            .expect("create");
        writer
            .set_data("/rust-persistent", b"1", None)
            .await
            .expect("set");
        writer
            .set_data("/rust-persistent", b"2", None)
            .await
            .expect("set again");
        writer
            .create("/rust-persistent/child", b"", &persistent())
            .await
            .expect("create a child");
        writer
            .delete("/rust-persistent/child", None)
            .await
            .expect("delete the child");
        writer
            .delete("/rust-persistent", None)
            .await
            .expect("delete");
        let mut seen = Vec::new();
        for _ in 0..6 {
            let event = watch.changed().await;
            seen.push((event.event_type, event.path));
        }
        let node = "/rust-persistent".to_string();
        assert_eq!(
            seen,
            [
                (EventType::NodeCreated, node.clone()),
                (EventType::NodeDataChanged, node.clone()),
                (EventType::NodeDataChanged, node.clone()),
                (EventType::NodeChildrenChanged, node.clone()),
                (EventType::NodeChildrenChanged, node.clone()),
                (EventType::NodeDeleted, node),
            ]
        );
    });
}

#[test]
fn a_recursive_watch_sees_the_subtree_but_never_a_children_change() {
    // Rule: PERSISTENT_RECURSIVE fires NodeCreated, NodeDataChanged and
    // NodeDeleted for the node and every descendant, never
    // NodeChildrenChanged (upstream WatchManager; real-zookeeper.md).
    on_every_server("recursive watch", |address| async move {
        let client = connect(&address).await;
        let writer = connect(&address).await;
        writer
            .create("/rust-recursive", b"", &persistent())
            .await
            .expect("create");
        let mut watch = client
            .watch("/rust-recursive", AddWatchMode::PersistentRecursive)
            .await
            .expect("addWatch");
        writer
            .create("/rust-recursive/a", b"", &persistent())
            .await
            .expect("create a child");
        writer
            .create("/rust-recursive/a/b", b"", &persistent())
            .await
            .expect("create a grandchild");
        writer
            .set_data("/rust-recursive/a/b", b"1", None)
            .await
            .expect("set");
        writer
            .delete("/rust-recursive/a/b", None)
            .await
            .expect("delete");
        let mut seen = Vec::new();
        for _ in 0..4 {
            let event = watch.changed().await;
            seen.push((event.event_type, event.path));
        }
        assert_eq!(
            seen,
            [
                (EventType::NodeCreated, "/rust-recursive/a".to_string()),
                (EventType::NodeCreated, "/rust-recursive/a/b".to_string()),
                (
                    EventType::NodeDataChanged,
                    "/rust-recursive/a/b".to_string()
                ),
                (EventType::NodeDeleted, "/rust-recursive/a/b".to_string()),
            ]
        );
    });
}

#[test]
fn sync_whoami_and_the_counting_calls_answer_like_zookeeper() {
    // Rule: whoAmI lists the session's auth ids (ip for every client);
    // getAllChildrenNumber counts all descendants; getEphemerals lists the
    // session's own ephemerals under a path (upstream FinalRequestProcessor,
    // 3.6+).
    on_every_server("introspection", |address| async move {
        let client = connect(&address).await;
        client.sync("/").await.expect("sync");
        assert_eq!(
            client.list_auth_users().await,
            Ok(vec![AuthUser::new("ip", "127.0.0.1")])
        );

        client
            .create("/rust-count", b"", &persistent())
            .await
            .expect("create");
        client
            .create("/rust-count/a", b"", &persistent())
            .await
            .expect("create");
        client
            .create("/rust-count/a/x", b"", &persistent())
            .await
            .expect("create");
        client
            .create("/rust-count/b", b"", &ephemeral())
            .await
            .expect("create");
        assert_eq!(client.count_descendants_number("/rust-count").await, Ok(3));

        let other = connect(&address).await;
        other
            .create("/rust-count/theirs", b"", &ephemeral())
            .await
            .expect("create");
        assert_eq!(
            client.list_ephemerals("/rust-count").await,
            Ok(vec!["/rust-count/b".to_string()])
        );
    });
}
