//! Bad bytes against a real `keeper server`: each gets a clear error or a closed connection,
//! never a panic, and a session opened beforehand keeps working through all of them.

mod support;

use ch03_sessions::jute::{Record, Writer};
use ch03_sessions::proto::{self, Request};
use support::{KeeperProcess, RawClient};

/// A bystander session that must keep working whatever the others send.
struct Bystander {
    client: RawClient,
    next_xid: i32,
}

impl Bystander {
    fn open(server: &KeeperProcess) -> Bystander {
        let (client, response) = RawClient::handshake(server.addr, 30_000);
        assert_ne!(response.session_id.0, 0);
        Bystander {
            client,
            next_xid: 1,
        }
    }

    /// An exists on `/` answers OK: the server and this session are fine.
    fn still_served(&mut self) {
        self.next_xid += 1;
        let exists = Request::Exists(proto::ExistsRequest {
            path: "/".into(),
            watch: false,
        });
        self.client.send_request(self.next_xid, &exists);
        let header = self
            .client
            .read_header()
            .expect("the bystander is answered");
        assert_eq!((header.xid, header.err), (self.next_xid, 0));
    }
}

/// A request frame built by hand: header, then raw body bytes.
fn raw_request(xid: i32, op: i32, body: &[u8]) -> Vec<u8> {
    let mut w = Writer::new();
    proto::RequestHeader { xid, r#type: op }.encode(&mut w);
    w.write_raw(body);
    w.into_bytes()
}

#[test]
fn garbage_before_the_connect_request_closes_the_connection() {
    let server = KeeperProcess::start("");
    let mut bystander = Bystander::open(&server);
    let mut bad = RawClient::connect(server.addr);
    bad.send_frame(b"\x01\x02not a connect request");
    assert!(bad.is_closed_by_server());
    bystander.still_served();
}

#[test]
fn a_negative_length_closes_the_connection() {
    let server = KeeperProcess::start("");
    let mut bystander = Bystander::open(&server);
    let (mut bad, _) = RawClient::handshake(server.addr, 30_000);
    bad.send_raw(&(-5i32).to_be_bytes());
    assert!(bad.is_closed_by_server());
    bystander.still_served();
}

#[test]
fn a_frame_over_jute_maxbuffer_closes_the_connection() {
    // NIOServerCnxn.readLength: "Len error" for a length over jute.maxbuffer.
    let server = KeeperProcess::start("jute.maxbuffer=4096\n");
    let mut bystander = Bystander::open(&server);
    let (mut bad, _) = RawClient::handshake(server.addr, 30_000);
    bad.send_raw(&4097i32.to_be_bytes());
    assert!(bad.is_closed_by_server());
    // An announced length the size of the limit is still fine.
    let (mut ok, _) = RawClient::handshake(server.addr, 30_000);
    let set = Request::SetData(proto::SetDataRequest {
        path: "/zookeeper".into(),
        data: Some(vec![b'x'; 3000]),
        version: -1,
    });
    ok.send_request(1, &set);
    assert!(ok.read_header().is_some());
    bystander.still_served();
}

#[test]
fn a_truncated_frame_then_hang_up_leaves_the_server_serving() {
    let server = KeeperProcess::start("");
    let mut bystander = Bystander::open(&server);
    let (mut bad, _) = RawClient::handshake(server.addr, 30_000);
    bad.send_raw(&100i32.to_be_bytes());
    bad.send_raw(b"only a few bytes");
    drop(bad);
    bystander.still_served();
}

#[test]
fn an_unknown_opcode_is_answered_unimplemented_then_the_connection_closes() {
    // ZooKeeperServer hands unknown types to the UnimplementedRequestProcessor: it answers
    // -6 under the request's xid, then closes the connection (sendCloseSession).
    let server = KeeperProcess::start("");
    let mut bystander = Bystander::open(&server);
    let (mut c, _) = RawClient::handshake(server.addr, 30_000);
    c.send_frame(&raw_request(1, 999, b""));
    let header = c.read_header().expect("an answer");
    assert_eq!((header.xid, header.err), (1, -6));
    assert!(c.is_closed_by_server());
    bystander.still_served();
}

#[test]
fn a_path_that_is_not_utf8_is_looked_up_as_java_decodes_it() {
    // BinaryInputArchive.readString replaces malformed bytes with U+FFFD, so ZooKeeper 3.8
    // answers NoNode for a path no node has.
    let server = KeeperProcess::start("");
    let mut bystander = Bystander::open(&server);
    let (mut c, _) = RawClient::handshake(server.addr, 30_000);
    // getData: ustring path (length 3, bytes ff fe fd) + boolean watch.
    let body = [0, 0, 0, 3, 0xff, 0xfe, 0xfd, 0];
    c.send_frame(&raw_request(1, 4, &body));
    let header = c.read_header().expect("an answer");
    assert_eq!((header.xid, header.err), (1, -101), "NoNode");
    bystander.still_served();
}

#[test]
fn a_body_longer_than_its_frame_is_a_marshalling_error() {
    let server = KeeperProcess::start("");
    let (mut c, _) = RawClient::handshake(server.addr, 30_000);
    // create: path claims 1000 bytes but the frame ends after 2.
    c.send_frame(&raw_request(1, 1, &[0, 0, 3, 232, b'/', b'a']));
    let header = c.read_header().expect("an answer");
    assert_eq!((header.xid, header.err), (1, -5));
}

#[test]
fn a_frame_too_short_for_a_header_closes_the_connection() {
    let server = KeeperProcess::start("");
    let mut bystander = Bystander::open(&server);
    let (mut c, _) = RawClient::handshake(server.addr, 30_000);
    c.send_frame(&[0, 0, 0]);
    assert!(c.is_closed_by_server());
    bystander.still_served();
}

#[test]
fn more_than_max_client_cnxns_from_one_address_are_refused() {
    let server = KeeperProcess::start("maxClientCnxns=2\n");
    let (_a, ra) = RawClient::handshake(server.addr, 30_000);
    let (_b, rb) = RawClient::handshake(server.addr, 30_000);
    assert!(ra.session_id.0 != 0 && rb.session_id.0 != 0);
    let mut third = RawClient::connect(server.addr);
    assert!(
        third.is_closed_by_server(),
        "a third connection is dropped at accept"
    );
}
