//! The order of frames on one connection, as ZooKeeper 3.8 sends them, on
//! every server under test.
//!
//! ZooKeeper promises a client sees a watch event before it sees the data
//! that fired it: when a session's own write fires one of its watches, the
//! notification (xid -1) is sent before the write's reply (upstream
//! `DataTree` triggers watches while applying the txn, before
//! `FinalRequestProcessor` sends the reply; client-protocol.md §10). And a
//! session's pipelined replies come back in request order.

use crate::common;

use common::raw::{
    get_data, jute_string, read_frame, request, set_data, RawSession, OP_GET_DATA, OP_SET_DATA,
};
use common::{servers_under_test, Server};
use std::io::Write;

const OP_CREATE: i32 = 1;
/// The xid of a watch notification.
const NOTIFICATION_XID: i32 = -1;
/// NodeDataChanged (client-protocol.md §10).
const NODE_DATA_CHANGED: i32 = 3;

/// CreateRequest: path, data, acl = [world:anyone cdrwa], flags = 0.
fn create(path: &[u8], data: &[u8]) -> Vec<u8> {
    let mut record = jute_string(path);
    record.extend(jute_string(data));
    record.extend(1i32.to_be_bytes());
    record.extend(31i32.to_be_bytes());
    record.extend(jute_string(b"world"));
    record.extend(jute_string(b"anyone"));
    record.extend(0i32.to_be_bytes());
    record
}

/// GetDataRequest with watch = true.
fn get_data_watching(path: &[u8]) -> Vec<u8> {
    [jute_string(path), vec![1]].concat()
}

fn int_at(frame: &[u8], at: usize) -> i32 {
    i32::from_be_bytes(frame[at..at + 4].try_into().expect("4 bytes"))
}

#[test]
fn a_watch_fired_by_the_sessions_own_write_arrives_before_the_writes_reply() {
    for kind in servers_under_test() {
        let Some(server) = Server::shared(kind, "event before reply") else {
            continue;
        };
        let mut session = RawSession::open(server);
        assert_eq!(
            session.ask(1, OP_CREATE, &create(b"/order", b"0")),
            (1, 0),
            "{kind}"
        );
        assert_eq!(
            session.ask(2, OP_GET_DATA, &get_data_watching(b"/order")),
            (2, 0),
            "{kind}"
        );
        session
            .stream
            .write_all(&request(3, OP_SET_DATA, &set_data(b"/order", b"1")))
            .expect("send setData");

        let first = read_frame(&mut session.stream).expect("a frame");
        assert_eq!(
            int_at(&first, 0),
            NOTIFICATION_XID,
            "{kind}: the event comes first"
        );
        // WatcherEvent after the reply header: type, state, path.
        assert_eq!(int_at(&first, 16), NODE_DATA_CHANGED, "{kind}");
        let second = read_frame(&mut session.stream).expect("a frame");
        assert_eq!(
            (int_at(&second, 0), int_at(&second, 12)),
            (3, 0),
            "{kind}: then the reply"
        );
    }
}

#[test]
fn pipelined_requests_are_answered_in_the_order_sent() {
    for kind in servers_under_test() {
        let Some(server) = Server::shared(kind, "pipelined replies") else {
            continue;
        };
        let mut session = RawSession::open(server);
        // Reads and failing reads mixed, all sent before any reply is read.
        let requests: Vec<u8> = (10..40)
            .flat_map(|xid| {
                let path: &[u8] = if xid % 3 == 0 { b"/missing" } else { b"/" };
                request(xid, OP_GET_DATA, &get_data(path))
            })
            .collect();
        session
            .stream
            .write_all(&requests)
            .expect("send 30 requests");
        let xids: Vec<i32> = (10..40)
            .map(|_| int_at(&read_frame(&mut session.stream).expect("a reply"), 0))
            .collect();
        assert_eq!(xids, (10..40).collect::<Vec<_>>(), "{kind}");
    }
}
