//! The tree and the registry together: real txns from chapter 1's tree fire the watches
//! (`reference/client-protocol.md` §10; upstream `DataTree` + `FinalRequestProcessor`).

use ch01_znode::{Acl, CreateMode, Request};
use ch02_watches::server::WatchServer;
use ch02_watches::{EventType, SessionId, ZkError};

fn create(path: &str, mode: CreateMode) -> Request {
    Request::Create {
        path: path.to_string(),
        data: Some(b"x".to_vec()),
        acl: Acl::open_unsafe(),
        mode,
    }
}

fn set(path: &str, data: &str) -> Request {
    Request::SetData {
        path: path.to_string(),
        data: Some(data.as_bytes().to_vec()),
        version: -1,
    }
}

fn delete(path: &str) -> Request {
    Request::Delete {
        path: path.to_string(),
        version: -1,
    }
}

/// Submits `request` from `session` and lists the events it sent as `session type path`.
fn told(server: &mut WatchServer, session: SessionId, request: &Request) -> Vec<String> {
    server
        .submit(session, 0, request)
        .deliveries
        .into_iter()
        .map(|d| {
            let path = d.event.path.unwrap_or_default();
            format!("{} {} {}", d.watcher, d.event.event_type, path)
        })
        .collect()
}

fn two_clients() -> (WatchServer, SessionId, SessionId) {
    let mut server = WatchServer::default();
    let a = server.connect(0);
    let b = server.connect(0);
    server.submit(a, 0, &create("/sanguo", CreateMode::Persistent));
    (server, a, b)
}

#[test]
fn the_seeds_get_w_demo_fires_once() {
    // The seed: B `get -w /sanguo`, A `set /sanguo "xishi"` → B hears NodeDataChanged; a
    // second set tells nobody ("注册一次，只能监听一次").
    let (mut server, a, b) = two_clients();
    server.get_data(b, "/sanguo", true).unwrap();
    assert_eq!(
        told(&mut server, a, &set("/sanguo", "xishi")),
        ["0x2 NodeDataChanged /sanguo"]
    );
    assert!(told(&mut server, a, &set("/sanguo", "xishi2")).is_empty());
}

#[test]
fn the_seeds_ls_w_demo_fires_on_a_child_create() {
    // The seed: B `ls -w /sanguo`, A `create /sanguo/jin` → B hears NodeChildrenChanged.
    let (mut server, a, b) = two_clients();
    server.get_children(b, "/sanguo", true).unwrap();
    assert_eq!(
        told(
            &mut server,
            a,
            &create("/sanguo/jin", CreateMode::Persistent)
        ),
        ["0x2 NodeChildrenChanged /sanguo"]
    );
    assert!(told(&mut server, a, &delete("/sanguo/jin")).is_empty());
}

#[test]
fn get_data_on_a_missing_node_leaves_no_watch() {
    // DataTree.getData throws NoNode before dataWatches.addWatch.
    let (mut server, a, b) = two_clients();
    assert_eq!(
        server.get_data(b, "/nope", true).map(|_| ()),
        Err(ZkError::NoNode)
    );
    assert_eq!(
        server.get_children(b, "/nope", true).map(|_| ()),
        Err(ZkError::NoNode)
    );
    assert!(told(&mut server, a, &create("/nope", CreateMode::Persistent)).is_empty());
}

#[test]
fn exists_on_a_missing_node_watches_for_its_creation() {
    // DataTree.statNode adds the watch before the lookup; create fires NodeCreated (§10).
    let (mut server, a, b) = two_clients();
    assert_eq!(
        server.exists(b, "/later", true).map(|_| ()),
        Err(ZkError::NoNode)
    );
    assert_eq!(
        told(&mut server, a, &create("/later", CreateMode::Persistent)),
        ["0x2 NodeCreated /later"]
    );
}

#[test]
fn a_failed_write_fires_nothing() {
    // An error txn changes nothing in the tree, so it reports no trigger.
    let (mut server, a, b) = two_clients();
    server.get_children(b, "/sanguo", true).unwrap();
    assert!(told(&mut server, a, &create("/sanguo", CreateMode::Persistent)).is_empty());
    assert_eq!(server.watches().size(), 1, "the watch is still waiting");
}

#[test]
fn a_multi_fires_each_sub_op() {
    // §10: multi — each sub-op fires as above, in order.
    let (mut server, a, b) = two_clients();
    server.get_data(b, "/sanguo", true).unwrap();
    server.get_children(b, "/sanguo", true).unwrap();
    let multi = Request::Multi(vec![
        create("/sanguo/wei", CreateMode::Persistent),
        set("/sanguo", "new"),
    ]);
    assert_eq!(
        told(&mut server, a, &multi),
        [
            "0x2 NodeChildrenChanged /sanguo",
            "0x2 NodeDataChanged /sanguo"
        ]
    );
}

#[test]
fn closing_a_session_deletes_its_ephemerals_and_fires_their_watches() {
    // §10: session close — one delete per ephemeral, as above; then the session's own
    // watches are dropped (DataTree.killSession, removeCnxn).
    let (mut server, a, b) = two_clients();
    server
        .submit(a, 0, &create("/sanguo/zhouyu", CreateMode::Ephemeral))
        .applied
        .result
        .err()
        .map_or(Ok(()), Err)
        .unwrap();
    server.get_children(b, "/sanguo", true).unwrap();
    server.get_data(a, "/sanguo", true).unwrap();
    let closed = server.close_session(a, 0);
    let told: Vec<_> = closed
        .deliveries
        .iter()
        .map(|d| (d.watcher, d.event.event_type))
        .collect();
    assert_eq!(told, [(b, EventType::NodeChildrenChanged)]);
    assert_eq!(
        server.watches().size(),
        0,
        "a's data watch went with its session"
    );
}

#[test]
fn a_watch_on_a_malformed_path_is_bad_arguments() {
    // The server validates the path of every request and answers BadArguments.
    let (mut server, _a, b) = two_clients();
    assert_eq!(
        server.get_data(b, "sanguo", true).map(|_| ()),
        Err(ZkError::BadArguments)
    );
    assert_eq!(
        server.exists(b, "/a/", true).map(|_| ()),
        Err(ZkError::BadArguments)
    );
    assert_eq!(server.watches().size(), 0);
}

#[test]
fn set_watches_on_reconnect_fires_what_the_client_missed() {
    // client-protocol.md §11: B saw zxid 0x3; /sanguo changed at a later zxid, so its data
    // watch fires NodeDataChanged at once; /other did not, so its watch is registered again.
    let (mut server, a, b) = two_clients();
    server.submit(a, 0, &create("/other", CreateMode::Persistent));
    let seen = server.tree().stat("/other").unwrap().mzxid;
    server.submit(a, 0, &set("/sanguo", "changed while B was away"));
    let request = ch02_watches::SetWatches {
        relative_zxid: seen,
        data_watches: vec!["/sanguo".into(), "/other".into()],
        ..Default::default()
    };
    let fired: Vec<_> = server
        .set_watches(b, &request)
        .into_iter()
        .map(|d| {
            (
                d.watcher,
                d.event.event_type,
                d.event.path.unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        fired,
        [(b, EventType::NodeDataChanged, "/sanguo".to_string())]
    );
    assert_eq!(
        told(&mut server, a, &set("/other", "now")),
        ["0x2 NodeDataChanged /other"]
    );
}

#[test]
fn a_lost_connection_drops_the_watches_but_keeps_the_ephemerals() {
    // DataTree.removeCnxn runs when the socket closes; the session (and its ephemerals) lives
    // until it expires or is closed. The client re-sends its watches with SetWatches.
    let (mut server, a, b) = two_clients();
    server.submit(b, 0, &create("/sanguo/b", CreateMode::Ephemeral));
    server.get_data(b, "/sanguo", true).unwrap();
    server.connection_lost(b);
    assert!(told(&mut server, a, &set("/sanguo", "unheard")).is_empty());
    assert!(server.tree().stat("/sanguo/b").is_ok());
}
