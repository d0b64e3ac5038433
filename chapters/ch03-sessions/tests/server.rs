//! The tokio server as a client sees it: a session's replies leave in the order of its
//! requests, whoever writes them. The core writes a turn's replies to the socket itself when
//! nothing is queued before them, and hands the connection task only what the socket does not
//! take; every later reply must then wait behind that rest.

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use ch01_znode::{Acl, Zxid};
use ch03_sessions::client::{Client, ClientConfig};
use ch03_sessions::pipeline::{ConnId, ServerMessage};
use ch03_sessions::proto::ReplyHeader;
use ch03_sessions::server::{outbox, Clients, Outbound, OutboxReceiver, Server, ServerOptions};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

const BOUND: Duration = Duration::from_secs(30);

/// Upstream answers a session's requests in order (`FinalRequestProcessor`), and a client
/// drops its connection at a reply out of order, so every request answered right proves the
/// order held. Eight replies of a megabyte each, asked for at once, are more than a loopback
/// socket takes: the core writes part of a batch and the connection task the rest, while
/// the small replies between them come in later turns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_too_big_for_the_socket_leave_in_request_order() {
    let server = Server::start(ServerOptions::local(2000)).await.unwrap();
    let config = ClientConfig {
        max_outstanding: 64,
        ..ClientConfig::default()
    };
    let (client, _events) = Client::connect(server.local_addr(), config).await.unwrap();
    let big = vec![b'b'; 1_000_000];
    client
        .create("/big", &big, Acl::open_unsafe(), 0)
        .await
        .unwrap();
    client
        .create("/small", b"s", Acl::open_unsafe(), 0)
        .await
        .unwrap();
    let mut asked = tokio::task::JoinSet::new();
    for i in 0..16 {
        let client = client.clone();
        let path = if i % 2 == 0 { "/big" } else { "/small" };
        asked.spawn(async move { (path, client.get_data(path, false).await) });
    }
    let answered = timeout(BOUND, async {
        let mut answered = Vec::new();
        while let Some(done) = asked.join_next().await {
            let (path, reply) = done.unwrap();
            let (data, _stat) = reply.unwrap_or_else(|e| panic!("getData {path}: {e}"));
            answered.push((path, data.unwrap().len()));
        }
        answered
    })
    .await
    .expect("every reply within the bound");
    assert_eq!(answered.len(), 16);
    for (path, len) in answered {
        assert_eq!(len, if path == "/big" { big.len() } else { 1 }, "{path}");
    }
}

/// A reply with no body: 20 bytes on the wire.
fn reply(xid: i32) -> ServerMessage {
    let header = ReplyHeader {
        xid,
        zxid: Zxid(0),
        err: 0,
    };
    ServerMessage::Reply(header, None)
}

/// The core writes a batch itself only when nothing is queued before it. A batch the socket
/// takes in part leaves its rest to the connection task; once the client has read what was
/// written, the socket has room again, and the next turn's reply must still go behind the
/// rest, to the task, not straight to the socket.
#[tokio::test]
async fn a_reply_waits_behind_the_unwritten_rest_of_an_earlier_batch() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut peer = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (socket, remote) = listener.accept().await.unwrap();
    let (_reader, writer) = socket.into_split();
    let (out, mut handed) = outbox();
    let mut clients = Clients::new();
    let conn = ConnId(1);
    clients.opened(conn, remote, out, Arc::new(writer));

    // 10 MB of replies in one turn, more than a fresh loopback socket takes.
    const REPLIES: i32 = 500_000;
    for xid in 0..REPLIES {
        assert!(clients.send(conn, &reply(xid)));
    }
    assert!(clients.send_batches().is_empty());
    let Some(Outbound::Frame(rest)) = handed_now(&mut handed) else {
        panic!("the socket took the whole batch: nothing handed to the task");
    };
    let written = REPLIES as usize * 20 - rest.len();
    let mut read = vec![0; written];
    timeout(BOUND, peer.read_exact(&mut read))
        .await
        .expect("what was written arrives")
        .unwrap();

    assert!(clients.send(conn, &reply(REPLIES)));
    assert!(clients.send_batches().is_empty());
    let Some(Outbound::Frame(next)) = handed_now(&mut handed) else {
        panic!("the next reply went to the socket ahead of the earlier batch's rest");
    };
    assert_eq!(next.len(), 20);
    assert_eq!(&next[4..8], &REPLIES.to_be_bytes());
}

/// What the core has handed to the connection task's queue, without waiting for it.
fn handed_now(handed: &mut OutboxReceiver) -> Option<Outbound> {
    let mut cx = Context::from_waker(Waker::noop());
    match std::pin::pin!(handed.recv()).poll(&mut cx) {
        Poll::Ready(out) => out,
        Poll::Pending => None,
    }
}
