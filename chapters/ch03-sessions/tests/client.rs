//! The async client against a scripted server on a loopback socket: the
//! server side here is ten lines of the same codec, so each test states
//! exactly what the server does and checks what the client makes of it.

use std::time::Duration;

use ch03_sessions::client::{Client, ClientConfig, ClientError};
use ch03_sessions::jute::Record;
use ch03_sessions::proto::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

const BOUND: Duration = Duration::from_secs(5);

/// The server end of one connection.
struct Peer {
    stream: TcpStream,
    decoder: FrameDecoder,
}

impl Peer {
    async fn frame(&mut self) -> Vec<u8> {
        let mut buf = [0u8; 4096];
        loop {
            if let Some(f) = self.decoder.next_frame().unwrap() {
                return f;
            }
            let n = timeout(BOUND, self.stream.read(&mut buf))
                .await
                .unwrap()
                .unwrap();
            assert!(n > 0, "client hung up");
            self.decoder.extend(&buf[..n]);
        }
    }

    async fn send(&mut self, payload: &[u8]) {
        self.stream.write_all(&encode_frame(payload)).await.unwrap();
    }

    /// Reads the ConnectRequest and answers with `timeout_ms`.
    async fn handshake(&mut self, timeout_ms: i32) -> ConnectRequest {
        let req = ConnectRequest::from_bytes(&self.frame().await).unwrap();
        let rsp = ConnectResponse {
            protocol_version: 0,
            time_out: timeout_ms,
            session_id: SessionId(0x0100_0000_0000_0042),
            passwd: vec![9; 16],
            read_only: Some(false),
        };
        self.send(&rsp.to_bytes()).await;
        req
    }

    async fn request(&mut self) -> (RequestHeader, Request) {
        decode_request(&self.frame().await).unwrap()
    }

    async fn reply(&mut self, xid: i32, zxid: i64, err: i32, body: Option<&Response>) {
        let header = ReplyHeader {
            xid,
            zxid: Zxid(zxid),
            err,
        };
        self.send(&encode_reply(&header, body)).await;
    }
}

async fn listen() -> (TcpListener, std::net::SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

async fn accept(listener: &TcpListener) -> Peer {
    let (stream, _) = timeout(BOUND, listener.accept()).await.unwrap().unwrap();
    Peer {
        stream,
        decoder: FrameDecoder::default(),
    }
}

/// Connects and asks for `/a`, which the server answers by breaking the
/// connection: the caller gets ConnectionLoss and the event channel, after
/// SyncConnected, Disconnected. Returns the client and why it was lost.
async fn get_data_loses_the_connection(addr: std::net::SocketAddr) -> (Client, String) {
    let (client, mut events) = Client::connect(addr, ClientConfig::default())
        .await
        .unwrap();
    let err = timeout(BOUND, client.get_data("/a", false))
        .await
        .unwrap()
        .unwrap_err();
    let ClientError::ConnectionLoss(why) = err else {
        panic!("expected ConnectionLoss, got {err}")
    };
    let connected = events.recv().await.unwrap();
    assert_eq!(connected, WatchedEvent::state(KeeperState::SyncConnected));
    let ev = timeout(BOUND, events.recv()).await.unwrap().unwrap();
    assert_eq!(ev, WatchedEvent::state(KeeperState::Disconnected));
    (client, why)
}

/// The handshake asks for the configured timeout with a fresh session and
/// the readOnly byte; the client keeps what the server negotiated.
#[tokio::test]
async fn the_client_asks_for_a_new_session_and_keeps_the_negotiated_timeout() {
    let (listener, addr) = listen().await;
    let server = tokio::spawn(async move {
        let mut peer = accept(&listener).await;
        peer.handshake(4_000).await
    });
    let config = ClientConfig {
        session_timeout_ms: 15_000,
        ..ClientConfig::default()
    };
    let (client, mut events) = Client::connect(addr, config).await.unwrap();
    let req = server.await.unwrap();
    assert_eq!(req.time_out, 15_000);
    assert_eq!(req.session_id, SessionId(0));
    assert_eq!(req.passwd, vec![0; 16]);
    assert_eq!(req.read_only, Some(false));
    assert_eq!(client.session_timeout_ms(), 4_000);
    assert_eq!(client.session_id(), SessionId(0x0100_0000_0000_0042));
    let first = events.recv().await.unwrap();
    assert_eq!(
        first.to_string(),
        "WatchedEvent state:SyncConnected type:None path:null"
    );
}

/// A server that answers timeout 0 says the session is gone.
#[tokio::test]
async fn a_zero_timeout_in_the_connect_response_is_session_expired() {
    let (listener, addr) = listen().await;
    tokio::spawn(async move {
        let mut peer = accept(&listener).await;
        let _ = peer.frame().await;
        peer.send(&ConnectResponse::invalid(Some(false)).to_bytes())
            .await;
        peer
    });
    let result = Client::connect(addr, ClientConfig::default()).await;
    assert_eq!(result.err(), Some(ClientError::SessionExpired));
}

/// Many requests go out before any reply comes back (pipelining), with
/// xids 1, 2, 3..., and each caller gets its own reply.
#[tokio::test]
async fn concurrent_requests_are_pipelined_and_each_caller_gets_its_reply() {
    let (listener, addr) = listen().await;
    let server = tokio::spawn(async move {
        let mut peer = accept(&listener).await;
        peer.handshake(30_000).await;
        let mut seen = Vec::new();
        for _ in 0..3 {
            seen.push(peer.request().await);
        }
        for (h, req) in &seen {
            let Request::GetData(g) = req else {
                panic!("getData expected")
            };
            let body = Response::GetData(GetDataResponse {
                data: Some(g.path.as_bytes().to_vec()),
                stat: Stat::default(),
            });
            peer.reply(h.xid, 10 + i64::from(h.xid), 0, Some(&body))
                .await;
        }
        seen.iter().map(|(h, _)| h.xid).collect::<Vec<_>>()
    });
    let (client, _events) = Client::connect(addr, ClientConfig::default())
        .await
        .unwrap();
    let (a, b, c) = tokio::join!(
        client.get_data("/a", false),
        client.get_data("/b", false),
        client.get_data("/c", false)
    );
    assert_eq!(a.unwrap().0, Some(b"/a".to_vec()));
    assert_eq!(b.unwrap().0, Some(b"/b".to_vec()));
    assert_eq!(c.unwrap().0, Some(b"/c".to_vec()));
    assert_eq!(server.await.unwrap(), vec![1, 2, 3]);
}

/// An error reply reaches the caller as the server's code.
#[tokio::test]
async fn an_error_reply_reaches_the_caller_as_its_code() {
    let (listener, addr) = listen().await;
    tokio::spawn(async move {
        let mut peer = accept(&listener).await;
        peer.handshake(30_000).await;
        let (h, _) = peer.request().await;
        peer.reply(h.xid, 5, ZkError::NoNode.code(), None).await;
        peer
    });
    let (client, _events) = Client::connect(addr, ClientConfig::default())
        .await
        .unwrap();
    let err = client.delete("/nope", -1).await.unwrap_err();
    assert_eq!(err, ClientError::Server(-101));
    assert_eq!(err.zk_error(), Some(ZkError::NoNode));
}

/// A notification (xid -1) goes to the event channel, not to a caller.
#[tokio::test]
async fn a_watch_notification_arrives_on_the_event_channel() {
    let (listener, addr) = listen().await;
    tokio::spawn(async move {
        let mut peer = accept(&listener).await;
        peer.handshake(30_000).await;
        let ev = WatchedEvent::node(EventType::NodeDataChanged, "/app");
        peer.send(&encode_notification(&ev)).await;
        peer
    });
    let (_client, mut events) = Client::connect(addr, ClientConfig::default())
        .await
        .unwrap();
    let _connected = events.recv().await.unwrap();
    let ev = timeout(BOUND, events.recv()).await.unwrap().unwrap();
    assert_eq!(
        ev.to_string(),
        "WatchedEvent state:SyncConnected type:NodeDataChanged path:/app"
    );
}

/// A notification with an event type ZooKeeper does not define ends the
/// connection, as in the Java client (`EventType.fromInt` throws inside
/// `ClientCnxn.readResponse`, and the send thread closes the socket): the
/// waiting caller gets ConnectionLoss and the event channel Disconnected.
#[tokio::test]
async fn a_notification_with_an_undefined_event_type_drops_the_connection() {
    let (listener, addr) = listen().await;
    tokio::spawn(async move {
        let mut peer = accept(&listener).await;
        peer.handshake(30_000).await;
        let _ = peer.request().await;
        let mut bad = encode_notification(&WatchedEvent::node(EventType::NodeCreated, "/a"));
        // The event type is the int right after the 16-byte reply header.
        bad[16..20].copy_from_slice(&99i32.to_be_bytes());
        peer.send(&bad).await;
        peer
    });
    let (_client, why) = get_data_loses_the_connection(addr).await;
    assert!(why.contains("invalid value 99"), "{why}");
}

/// An idle client pings after a third of the negotiated timeout
/// (here 300 ms → ping after about 100 ms), with xid -2 and opcode 11.
#[tokio::test]
async fn an_idle_client_pings_with_xid_minus_2() {
    let (listener, addr) = listen().await;
    let server = tokio::spawn(async move {
        let mut peer = accept(&listener).await;
        peer.handshake(300).await;
        let started = tokio::time::Instant::now();
        let ping = peer.request().await;
        peer.reply(-2, 0, 0, None).await;
        (ping, started.elapsed())
    });
    let (_client, _events) = Client::connect(addr, ClientConfig::default())
        .await
        .unwrap();
    let ((header, request), waited) = server.await.unwrap();
    assert_eq!(
        header,
        RequestHeader {
            xid: -2,
            r#type: 11
        }
    );
    assert_eq!(request, Request::Ping);
    // Loose bound: timers on a loaded machine run late, never early.
    assert!(waited < Duration::from_secs(2), "pinged after {waited:?}");
}

/// When the server hangs up, waiting callers get ConnectionLoss, the
/// event channel gets Disconnected, and later callers fail at once.
#[tokio::test]
async fn a_hang_up_fails_waiting_callers_with_connection_loss() {
    let (listener, addr) = listen().await;
    tokio::spawn(async move {
        let mut peer = accept(&listener).await;
        peer.handshake(30_000).await;
        let _ = peer.request().await;
        drop(peer);
    });
    let (client, _) = get_data_loses_the_connection(addr).await;
    // A request made after the loss fails at once; it never waits for a
    // reply that cannot come.
    let late = timeout(BOUND, client.get_data("/b", false)).await.unwrap();
    assert!(
        matches!(late, Err(ClientError::ConnectionLoss(_))),
        "{late:?}"
    );
}

/// A reply for the wrong xid breaks the stream: the client drops the
/// connection rather than hand a caller someone else's answer.
#[tokio::test]
async fn a_reply_out_of_order_ends_the_connection() {
    let (listener, addr) = listen().await;
    tokio::spawn(async move {
        let mut peer = accept(&listener).await;
        peer.handshake(30_000).await;
        let (h, _) = peer.request().await;
        peer.reply(h.xid + 7, 1, 0, None).await;
        peer
    });
    let (client, _events) = Client::connect(addr, ClientConfig::default())
        .await
        .unwrap();
    let err = timeout(BOUND, client.delete("/a", -1))
        .await
        .unwrap()
        .unwrap_err();
    match err {
        ClientError::ConnectionLoss(why) => assert!(why.contains("Xid out of order"), "{why}"),
        other => panic!("expected ConnectionLoss, got {other}"),
    }
}

/// A client made by `Client::start` keeps its session when its connection
/// is lost: it hears Disconnected, tries the next server with the session's
/// id, password and last zxid seen, and on the new connection sends its
/// watches (SetWatches, from that zxid) before anything else, then hears
/// SyncConnected (ClientCnxn.primeConnection, StaticHostProvider.next).
#[tokio::test]
async fn a_started_client_resumes_its_session_on_the_next_server_and_sets_its_watches_again() {
    let (first, first_addr) = listen().await;
    let (second, second_addr) = listen().await;
    let first_server = tokio::spawn(async move {
        let mut peer = accept(&first).await;
        peer.handshake(30_000).await;
        let (h, _) = peer.request().await;
        let body = Response::GetData(GetDataResponse {
            data: Some(b"x".to_vec()),
            stat: Stat::default(),
        });
        peer.reply(h.xid, 0x17, 0, Some(&body)).await;
        drop(peer);
    });
    let second_server = tokio::spawn(async move {
        let mut peer = accept(&second).await;
        let hello = peer.handshake(30_000).await;
        let (_, first_request) = peer.request().await;
        (hello, first_request, peer)
    });
    let hosts = vec![first_addr, second_addr];
    let (client, mut events) = Client::start(hosts, ClientConfig::default());
    let (data, _) = timeout(BOUND, client.get_data("/a", true))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(data.as_deref(), Some(&b"x"[..]));
    first_server.await.unwrap();
    let (hello, first_request, _peer) = timeout(BOUND, second_server).await.unwrap().unwrap();
    assert_eq!(hello.session_id, SessionId(0x0100_0000_0000_0042));
    assert_eq!(hello.passwd, vec![9; 16]);
    assert_eq!(hello.last_zxid_seen, Zxid(0x17));
    assert_eq!(
        first_request,
        Request::SetWatches(SetWatches {
            relative_zxid: Zxid(0x17),
            data_watches: vec!["/a".into()],
            exist_watches: vec![],
            child_watches: vec![],
        })
    );
    let mut told = Vec::new();
    for _ in 0..3 {
        let event = timeout(BOUND, events.recv()).await.unwrap().unwrap();
        told.push(event.to_string());
    }
    assert_eq!(
        told,
        [
            "WatchedEvent state:SyncConnected type:None path:null",
            "WatchedEvent state:Disconnected type:None path:null",
            "WatchedEvent state:SyncConnected type:None path:null",
        ]
    );
}
