//! Sessions across connections, and one client's bad manners against everyone else, on a
//! real `keeper server` process.

mod support;

use ch01_znode::SessionId;
use ch03_sessions::jute::{Reader, Record, Writer};
use ch03_sessions::proto::{self, ConnectRequest, ConnectResponse, Request};
use support::{KeeperProcess, RawClient};

fn create_ephemeral(path: &str) -> Request {
    Request::Create(proto::CreateRequest {
        path: path.into(),
        data: Some(b"here".to_vec()),
        acl: proto::Acl::open_unsafe(),
        flags: 1,
    })
}

fn resume(
    server: &KeeperProcess,
    previous: &ConnectResponse,
    last_zxid_seen: i64,
) -> (RawClient, Option<ConnectResponse>) {
    let mut client = RawClient::connect(server.addr);
    let request = ConnectRequest {
        protocol_version: 0,
        last_zxid_seen: ch01_znode::Zxid(last_zxid_seen),
        time_out: 30_000,
        session_id: previous.session_id,
        passwd: previous.passwd.clone(),
        read_only: Some(false),
    };
    let mut w = Writer::new();
    request.encode(&mut w);
    client.send_frame(&w.into_bytes());
    let response = client
        .read_frame()
        .map(|frame| ConnectResponse::decode(&mut Reader::new(&frame)).expect("decodes"));
    (client, response)
}

#[test]
fn a_client_that_reconnects_in_time_keeps_its_session_and_ephemerals() {
    // ZooKeeperServer.reopenSession: the right password and a live session resume it.
    let server = KeeperProcess::start("");
    let (mut first, opened) = RawClient::handshake(server.addr, 30_000);
    first.send_request(1, &create_ephemeral("/me"));
    assert_eq!(first.read_header().expect("reply").err, 0);
    drop(first);
    let (mut second, resumed) = resume(&server, &opened, 2);
    let resumed = resumed.expect("a ConnectResponse");
    assert_eq!(resumed.session_id, opened.session_id);
    assert_eq!(resumed.passwd, opened.passwd);
    let exists = Request::Exists(proto::ExistsRequest {
        path: "/me".into(),
        watch: false,
    });
    second.send_request(2, &exists);
    assert_eq!(
        second.read_header().expect("reply").err,
        0,
        "the ephemeral is still there"
    );
}

#[test]
fn a_wrong_password_gets_the_expired_answer() {
    // client-protocol.md §3: timeOut=0, sessionId=0 and 16 zero bytes, then close.
    let server = KeeperProcess::start("");
    let (_first, mut opened) = RawClient::handshake(server.addr, 30_000);
    opened.passwd = vec![7; 16];
    let (mut second, refused) = resume(&server, &opened, 1);
    let refused = refused.expect("a ConnectResponse");
    assert_eq!((refused.time_out, refused.session_id), (0, SessionId(0)));
    assert_eq!(refused.passwd, vec![0; 16]);
    assert!(second.is_closed_by_server());
}

#[test]
fn a_client_that_has_seen_a_later_zxid_is_refused_without_an_answer() {
    // ZooKeeperServer.processConnectRequest: the client is ahead of this server, so it must
    // try another one; the server closes without a ConnectResponse.
    let server = KeeperProcess::start("");
    let (_first, opened) = RawClient::handshake(server.addr, 30_000);
    let (_, answer) = resume(&server, &opened, 99);
    assert_eq!(answer, None);
}

#[test]
fn a_client_that_never_reads_does_not_stall_the_others() {
    // Each connection has a bounded outbound queue; the core never waits on one client.
    let server = KeeperProcess::start("");
    let (mut hog, _) = RawClient::handshake(server.addr, 30_000);
    let (mut polite, _) = RawClient::handshake(server.addr, 30_000);
    let get = |path: &str| {
        Request::GetData(proto::GetDataRequest {
            path: path.into(),
            watch: false,
        })
    };
    // A big node makes each reply big, so the hog's socket and queue fill fast.
    let mut setter = Writer::new();
    proto::RequestHeader { xid: 1, r#type: 5 }.encode(&mut setter);
    proto::SetDataRequest {
        path: "/zookeeper".into(),
        data: Some(vec![b'x'; 500_000]),
        version: -1,
    }
    .encode(&mut setter);
    polite.send_frame(&setter.into_bytes());
    assert_eq!(polite.read_header().expect("reply").err, 0);
    let request = proto::encode_frame(&proto::encode_request(1, &get("/zookeeper")));
    let burst: Vec<u8> = request
        .iter()
        .copied()
        .cycle()
        .take(request.len() * 100)
        .collect();
    hog.stream.set_nonblocking(true).expect("nonblocking");
    // 20 bursts of 100 requests for 500 kB each: far more than the hog's queue may hold.
    let mut unsent: Vec<u8> = Vec::new();
    for xid in 2..22 {
        // Keep pushing whole requests and never read a reply; a full socket takes only part
        // of them, and the rest waits in `unsent` so every frame arrives intact.
        unsent.extend_from_slice(&burst);
        if let Ok(n) = std::io::Write::write(&mut hog.stream, &unsent) {
            unsent.drain(..n);
        }
        let exists = Request::Exists(proto::ExistsRequest {
            path: "/".into(),
            watch: false,
        });
        polite.send_request(xid, &exists);
        let header = polite.read_header().expect("the polite client is answered");
        assert_eq!((header.xid, header.err), (xid, 0));
    }
    hog.stream.set_nonblocking(false).expect("blocking");
    assert!(
        hog.is_closed_by_server(),
        "the hog's full queue got it disconnected"
    );
}
