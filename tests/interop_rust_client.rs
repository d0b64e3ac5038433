//! `zookeeper-client`, a Rust ZooKeeper client nobody here wrote, works
//! against every server under test.
//!
//! The crate speaks the protocol its own way (it sends `create2` where zkCli
//! sends `create`, and reads the Stat that comes back), so it checks parts of
//! the wire that zkCli and kazoo do not. Each test is one behaviour, run
//! against one shared server per kind under its own path, and cites the
//! ZooKeeper rule it relies on. Every check's awaits are bounded together
//! (`common::rust_client::CHECK_TIMEOUT`).

use crate::common;

use common::rust_client::{connect, connect_with_timeout, ephemeral, on_every_server, persistent};
use common::Proxy;
use std::time::Duration;
use zookeeper_client as zk;
use zookeeper_client::{Acls, CreateMode, EventType, SessionState};

#[test]
fn create_get_set_and_delete_follow_the_version_rules() {
    // Rule: a write with an expected version succeeds only if it equals the
    // node's dataVersion (-1/None matches any); each set adds one
    // (client-protocol.md §7, upstream PrepRequestProcessor.checkAndIncVersion).
    on_every_server("create/get/set/delete", |address| async move {
        let client = connect(&address).await;
        client
            .create("/rust-crud", b"", &persistent())
            .await
            .expect("create the test root");
        let (created, _) = client
            .create("/rust-crud/node", b"v0", &persistent())
            .await
            .expect("create");
        assert_eq!(
            (created.version, created.data_length, created.num_children),
            (0, 2, 0)
        );
        assert_eq!(
            created.czxid, created.mzxid,
            "a new node was modified by its create"
        );

        let (data, stat) = client.get_data("/rust-crud/node").await.expect("get");
        assert_eq!(
            (data.as_slice(), stat),
            (&b"v0"[..], created),
            "get returns what create returned"
        );

        let set = client
            .set_data("/rust-crud/node", b"v1", Some(0))
            .await
            .expect("set at version 0");
        assert_eq!(set.version, 1);
        assert!(set.mzxid > created.mzxid, "a set has a newer zxid");
        assert_eq!(
            (set.czxid, set.ctime),
            (created.czxid, created.ctime),
            "a set keeps the creation"
        );
        assert_eq!(
            client.set_data("/rust-crud/node", b"v2", Some(0)).await,
            Err(zk::Error::BadVersion)
        );
        assert_eq!(
            client.delete("/rust-crud/node", Some(0)).await,
            Err(zk::Error::BadVersion)
        );
        client
            .delete("/rust-crud/node", Some(1))
            .await
            .expect("delete at version 1");
        assert_eq!(
            client.get_data("/rust-crud/node").await,
            Err(zk::Error::NoNode)
        );
    });
}

#[test]
fn children_are_listed_and_a_sequential_suffix_is_the_parents_cversion() {
    // Rule: the sequence number of a sequential node is the parent's
    // cversion before the create, printed as 10 digits
    // (upstream PrepRequestProcessor, `parentCVersion`).
    on_every_server("children and sequence numbers", |address| async move {
        let client = connect(&address).await;
        client
            .create("/rust-kids", b"", &persistent())
            .await
            .expect("create the parent");
        for child in ["b", "a"] {
            client
                .create(&format!("/rust-kids/{child}"), b"", &persistent())
                .await
                .expect("create a child");
        }
        let sequential = CreateMode::PersistentSequential.with_acls(Acls::anyone_all());
        let (_, sequence) = client
            .create("/rust-kids/seq-", b"", &sequential)
            .await
            .expect("create sequential");
        assert_eq!(sequence.to_string(), "0000000002", "two creates came first");

        let (mut children, stat) = client
            .get_children("/rust-kids")
            .await
            .expect("get children");
        children.sort();
        assert_eq!(children, ["a", "b", "seq-0000000002"]);
        assert_eq!((stat.num_children, stat.cversion), (3, 3));

        client
            .delete("/rust-kids/a", None)
            .await
            .expect("delete a child");
        let (_, after) = client
            .get_children("/rust-kids")
            .await
            .expect("get children");
        assert_eq!(
            (after.num_children, after.cversion),
            (2, 4),
            "a delete counts as a child change"
        );
        assert!(after.pzxid > stat.pzxid, "pZxid moves on a child delete");
    });
}

#[test]
fn errors_come_back_as_zookeepers_codes() {
    // Rule: each failed write is answered with its KeeperException code
    // (client-protocol.md §9).
    on_every_server("error codes", |address| async move {
        let client = connect(&address).await;
        let ephemeral = CreateMode::Ephemeral.with_acls(Acls::anyone_all());
        client
            .create("/rust-errors", b"", &persistent())
            .await
            .expect("create the test root");
        client
            .create("/rust-errors/child", b"", &persistent())
            .await
            .expect("create a child");
        client
            .create("/rust-errors/eph", b"", &ephemeral)
            .await
            .expect("create an ephemeral");
        assert_eq!(
            client
                .create("/rust-errors", b"", &persistent())
                .await
                .map(|_| ()),
            Err(zk::Error::NodeExists)
        );
        assert_eq!(
            client
                .create("/rust-errors/missing/x", b"", &persistent())
                .await
                .map(|_| ()),
            Err(zk::Error::NoNode)
        );
        assert_eq!(
            client
                .create("/rust-errors/eph/x", b"", &persistent())
                .await
                .map(|_| ()),
            Err(zk::Error::NoChildrenForEphemerals)
        );
        assert_eq!(
            client.delete("/rust-errors", None).await,
            Err(zk::Error::NotEmpty)
        );
        assert_eq!(
            client.delete("/rust-errors/missing", None).await,
            Err(zk::Error::NoNode)
        );
    });
}

#[test]
fn an_ephemeral_node_disappears_when_its_session_closes_as_another_session_sees() {
    // Rule: closing a session deletes its ephemerals and fires their watches
    // (upstream SessionTrackerImpl / DataTree.killSession).
    on_every_server("ephemeral lifetime", |address| async move {
        let owner = connect(&address).await;
        let observer = connect(&address).await;
        let ephemeral = CreateMode::Ephemeral.with_acls(Acls::anyone_all());
        owner
            .create("/rust-ephemeral", b"", &ephemeral)
            .await
            .expect("create an ephemeral");

        let (stat, deleted) = observer
            .check_and_watch_stat("/rust-ephemeral")
            .await
            .expect("exists with a watch");
        let stat = stat.expect("the observer sees the node");
        assert_eq!(
            stat.ephemeral_owner,
            owner.session_id().0,
            "ephemeralOwner is the owner's session"
        );
        assert_ne!(
            owner.session_id(),
            observer.session_id(),
            "two sessions, two ids"
        );

        drop(owner); // the last handle: the client sends closeSession
        let event = deleted.changed().await;
        assert_eq!(
            (event.event_type, event.path.as_str()),
            (EventType::NodeDeleted, "/rust-ephemeral")
        );
        assert_eq!(observer.check_stat("/rust-ephemeral").await, Ok(None));
    });
}

#[test]
fn data_and_child_watches_fire_once_with_the_changed_path() {
    // Rule: getData sets a data watch fired by setData/delete, getChildren a
    // child watch fired by a child create/delete (client-protocol.md §10).
    on_every_server("watches", |address| async move {
        let client = connect(&address).await;
        let writer = connect(&address).await;
        client
            .create("/rust-watch", b"0", &persistent())
            .await
            .expect("create the watched node");

        let (_, _, data_watch) = client
            .get_and_watch_data("/rust-watch")
            .await
            .expect("get with a watch");
        let (children, _, child_watch) = client
            .get_and_watch_children("/rust-watch")
            .await
            .expect("children with a watch");
        assert!(children.is_empty());

        writer
            .set_data("/rust-watch", b"1", None)
            .await
            .expect("set from another session");
        let event = data_watch.changed().await;
        assert_eq!(
            (event.event_type, event.path.as_str()),
            (EventType::NodeDataChanged, "/rust-watch")
        );

        writer
            .create("/rust-watch/child", b"", &persistent())
            .await
            .expect("create a child");
        let event = child_watch.changed().await;
        assert_eq!(
            (event.event_type, event.path.as_str()),
            (EventType::NodeChildrenChanged, "/rust-watch")
        );
    });
}

#[test]
fn a_session_survives_a_cut_connection_and_a_watch_fires_for_a_change_made_meanwhile() {
    // Rule: a client that reconnects within its timeout keeps its session
    // (same id, same ephemerals) and re-sends its watches with the last zxid
    // it saw; the server fires at once each watch whose node changed since
    // (upstream ZooKeeperServer.reopenSession, DataTree.setWatches).
    on_every_server("reconnect with setWatches", |address| async move {
        let proxy = Proxy::start(&address);
        let client = connect(&proxy.address()).await;
        let writer = connect(&address).await;
        client
            .create("/rust-reconnect", b"0", &persistent())
            .await
            .expect("create");
        client
            .create("/rust-reconnect-eph", b"", &ephemeral())
            .await
            .expect("create an ephemeral");
        let (_, _, watch) = client
            .get_and_watch_data("/rust-reconnect")
            .await
            .expect("get with a watch");
        let session = client.session_id();
        let mut state = client.state_watcher();

        proxy.cut();
        assert_eq!(state.changed().await, SessionState::Disconnected);
        writer
            .set_data("/rust-reconnect", b"1", None)
            .await
            .expect("set while the client is away");
        proxy.resume();

        let event = watch.changed().await;
        assert_eq!(
            (event.event_type, event.path.as_str()),
            (EventType::NodeDataChanged, "/rust-reconnect")
        );
        assert_eq!(state.changed().await, SessionState::SyncConnected);
        assert_eq!(client.session_id(), session, "the same session");
        let stat = client
            .check_stat("/rust-reconnect-eph")
            .await
            .expect("exists");
        assert_eq!(
            stat.map(|s| s.ephemeral_owner),
            Some(session.0),
            "its ephemeral survived"
        );
    });
}

#[test]
fn a_session_kept_away_past_its_timeout_expires_and_its_ephemerals_are_deleted() {
    // Rule: the session tracker expires a session silent for its timeout;
    // expiry deletes its ephemerals (firing their watches) and the client's
    // late reconnect is answered "expired" (upstream SessionTrackerImpl,
    // ZooKeeperServer.reopenSession).
    on_every_server("session expiry", |address| async move {
        let proxy = Proxy::start(&address);
        // A short timeout, so the test waits little for the expiry, but not
        // the shortest the server allows (two ticks): the client gives up on
        // a connection silent for 3/5 of it, and a loaded machine can stall
        // the server for the 600 ms that would leave.
        let session_timeout = Duration::from_millis(4 * common::TICK_TIME_MS);
        let client = connect_with_timeout(&proxy.address(), session_timeout).await;
        let observer = connect(&address).await;
        client
            .create("/rust-expiry", b"", &ephemeral())
            .await
            .expect("create an ephemeral");
        let (stat, deleted) = observer
            .check_and_watch_stat("/rust-expiry")
            .await
            .expect("exists with a watch");
        assert!(stat.is_some());
        let mut state = client.state_watcher();

        proxy.cut();
        let event = deleted.changed().await;
        assert_eq!(
            (event.event_type, event.path.as_str()),
            (EventType::NodeDeleted, "/rust-expiry")
        );
        proxy.resume();
        let mut last = state.changed().await;
        while !last.is_terminated() {
            last = state.changed().await;
        }
        assert_eq!(last, SessionState::Expired);
    });
}

#[test]
fn the_server_bounds_each_session_timeout_between_2_and_20_ticks() {
    // Rule: the negotiated timeout is the requested one clamped to
    // [minSessionTimeout, maxSessionTimeout], by default 2 and 20 ticks
    // (upstream ZooKeeperServer.processConnectRequest).
    on_every_server("timeout negotiation", |address| async move {
        let tick = Duration::from_millis(common::TICK_TIME_MS);
        for (asked, granted) in [
            (2 * tick - Duration::from_millis(1), 2 * tick),
            (4 * tick, 4 * tick),
            (Duration::from_secs(600), 20 * tick),
        ] {
            let client = connect_with_timeout(&address, asked).await;
            assert_eq!(client.session_timeout(), granted, "asked for {asked:?}");
        }
    });
}

#[test]
fn pipelined_requests_of_one_session_are_answered_in_the_order_sent() {
    // Rule: a session's requests are processed and answered in the order
    // they were sent, so 100 pipelined sequential creates get consecutive
    // sequence numbers in that order (upstream CommitProcessor keeps
    // per-session order; client-protocol.md §3).
    on_every_server("pipelining", |address| async move {
        let client = connect(&address).await;
        client
            .create("/rust-pipeline", b"", &persistent())
            .await
            .expect("create the parent");
        let sequential = CreateMode::PersistentSequential.with_acls(Acls::anyone_all());
        // zookeeper-client sends each request when the method is called, so
        // all 100 are on the wire before the first reply is read.
        let pending: Vec<_> = (0..100)
            .map(|_| client.create("/rust-pipeline/n-", b"", &sequential))
            .collect();
        let mut sequences = Vec::new();
        for reply in pending {
            let (_, sequence) = reply.await.expect("a pipelined create");
            sequences.push(sequence.into_i64());
        }
        assert_eq!(sequences, (0..100).collect::<Vec<i64>>());
    });
}

#[test]
fn a_node_holds_close_to_a_mebibyte_of_data() {
    // Rule: a znode's data may be up to jute.maxbuffer (just under 1 MiB,
    // upstream BinaryInputArchive.maxBuffer) including the request's header
    // and path; the frame both ways must carry it whole.
    on_every_server("large data", |address| async move {
        let client = connect(&address).await;
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        client
            .create("/rust-large", &data, &persistent())
            .await
            .expect("create with ~1 MB");
        let (read, stat) = client.get_data("/rust-large").await.expect("get");
        assert_eq!(stat.data_length, 1_000_000);
        assert!(read == data, "the data came back changed");
    });
}
