//! The server's limits from zoo.cfg hold for every server under test.
//!
//! `maxClientCnxns` caps the connections one client address may hold, so one
//! misbehaving host cannot use up a server (upstream
//! `NIOServerCnxnFactory`, "Too many connections from ... - max is N"): the
//! connection over the cap is closed at once, the others keep working, and
//! a freed slot can be used again.
//!
//! Two limits are checked on Keeper alone, because ZooKeeper cannot run the
//! same check: `jute.maxbuffer` set in zoo.cfg (ZooKeeper reads it only as
//! the JVM property `-Djute.maxbuffer`), and a client that never reads its
//! replies (Keeper bounds each connection's outbound queue and drops that
//! connection; ZooKeeper buffers for it in its heap).

use crate::common;

use common::raw::{
    closed_by_server, connect_request, get_data, open, request, set_data, RawSession, ERR_OK,
    OP_GET_DATA, OP_SET_DATA,
};
use common::{servers_under_test, wait_until, Server, ServerKind};
use std::io::Write;
use std::time::Duration;

const MAX_CLIENT_CNXNS: usize = 3;

/// Opens a session, retrying for a moment: the server frees a slot (of a
/// `ruok` probe, of a closed session) a little after the socket closes.
fn open_session(server: &Server) -> RawSession {
    wait_until(Duration::from_secs(5), "a free connection slot", || {
        RawSession::try_open(server).ok()
    })
    .unwrap_or_else(|why| panic!("{}: {why}\n{}", server.kind(), server.log()))
}

#[test]
fn one_address_gets_at_most_max_client_cnxns_connections_and_a_freed_slot_is_reused() {
    const TEST: &str = "maxClientCnxns";
    for kind in servers_under_test() {
        let cap = MAX_CLIENT_CNXNS.to_string();
        let Some(server) = Server::start_with_or_skip(kind, TEST, &[("maxClientCnxns", &cap)])
        else {
            continue;
        };
        let mut sessions: Vec<RawSession> = (0..MAX_CLIENT_CNXNS)
            .map(|_| open_session(&server))
            .collect();

        let mut one_too_many = open(&server);
        // The server may close before or after reading this.
        let _ = one_too_many.write_all(&connect_request());
        assert!(
            closed_by_server(&mut one_too_many),
            "{kind} accepted connection {} from one address with maxClientCnxns={MAX_CLIENT_CNXNS}",
            MAX_CLIENT_CNXNS + 1
        );
        for session in &mut sessions {
            session.assert_still_serves(&kind.to_string());
        }

        drop(sessions.pop()); // closeSession, then the socket closes
        sessions.push(open_session(&server));
        for session in &mut sessions {
            session.assert_still_serves(&kind.to_string());
        }
    }
}

#[test]
fn keeper_closes_a_frame_over_the_jute_maxbuffer_of_its_zoo_cfg_and_takes_one_under_it() {
    // NIOServerCnxn.readLength: "Len error" for a length over jute.maxbuffer.
    const TEST: &str = "jute.maxbuffer from zoo.cfg";
    let Some(server) =
        Server::start_with_or_skip(ServerKind::Keeper, TEST, &[("jute.maxbuffer", "4096")])
    else {
        return;
    };
    let mut healthy = RawSession::open(&server);
    let mut over = RawSession::open(&server);
    over.stream
        .write_all(&4097i32.to_be_bytes())
        .expect("send a length");
    assert!(closed_by_server(&mut over.stream), "a 4097-byte frame");
    let mut under = RawSession::open(&server);
    assert_eq!(
        under.ask(1, OP_SET_DATA, &set_data(b"/zookeeper", &[b'x'; 3000])),
        (1, ERR_OK),
        "a 3000-byte value fits"
    );
    healthy.assert_still_serves("Keeper");
}

#[test]
fn keeper_drops_a_client_that_never_reads_and_keeps_serving_the_others() {
    // Each connection has a bounded outbound queue; the core never waits
    // on one client (chapters/ch03-sessions/src/server/mod.rs).
    const TEST: &str = "a client that never reads";
    let Some(server) = Server::start_or_skip(ServerKind::Keeper, TEST) else {
        return;
    };
    let mut polite = RawSession::open(&server);
    // A big value makes every reply big, so the hog's queue fills fast.
    let big = vec![b'x'; 500_000];
    assert_eq!(
        polite.ask(1, OP_SET_DATA, &set_data(b"/zookeeper", &big)),
        (1, ERR_OK)
    );
    let mut hog = RawSession::open(&server);
    let burst: Vec<u8> = (0..100)
        .flat_map(|xid| request(xid, OP_GET_DATA, &get_data(b"/zookeeper")))
        .collect();
    hog.stream.set_nonblocking(true).expect("nonblocking");
    // Keep pushing whole requests, never reading a reply, and check the
    // polite client is answered meanwhile, until the server reports it drops
    // the hog. (Nothing on the hog's socket shows it yet: the server still
    // flushes what it queued, which the hog reads below.) A full socket
    // takes only part of a burst; the rest waits in `unsent` so every frame
    // arrives intact.
    let mut unsent: Vec<u8> = Vec::new();
    let mut xid = 1;
    let dropped = wait_until(
        Duration::from_secs(30),
        "the server to drop the hog",
        || {
            if server.log().contains("it is not reading its replies") {
                return Some(());
            }
            xid += 1;
            assert_eq!(
                polite.ask(xid, OP_GET_DATA, &get_data(b"/")),
                (xid, ERR_OK),
                "the polite client is answered"
            );
            if unsent.len() < burst.len() {
                unsent.extend_from_slice(&burst);
            }
            if let Ok(n) = hog.stream.write(&unsent) {
                unsent.drain(..n);
            }
            None
        },
    );
    if let Err(why) = dropped {
        panic!("{why}\n{}", server.log());
    }
    hog.stream.set_nonblocking(false).expect("blocking");
    // Read what was sent before the close: the stream ends (EOF or reset).
    let ended = std::io::Read::read_to_end(&mut hog.stream, &mut Vec::new());
    assert!(
        ended.is_ok()
            || matches!(
                ended.as_ref().map_err(std::io::Error::kind),
                Err(std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted)
            ),
        "the hog's full queue got it disconnected: {ended:?}"
    );
}

#[test]
fn a_frame_just_under_the_default_jute_maxbuffer_is_served_and_the_connection_serves_on() {
    // BinaryInputArchive.maxBuffer: 0xfffff by default; a frame up to it is read whole. A
    // connection's read buffer grows for it and is given back once it is served.
    const TEST: &str = "a frame just under jute.maxbuffer";
    const MAX_BUFFER: usize = 0xfffff;
    // setData's frame: xid and type (8), the path (4 + 10), the value (4 + n), version (4).
    let value = vec![b'x'; MAX_BUFFER - 30];
    for kind in servers_under_test() {
        let Some(server) = Server::start_or_skip(kind, TEST) else {
            continue;
        };
        let mut session = RawSession::open(&server);
        let record = set_data(b"/zookeeper", &value);
        assert_eq!(request(1, OP_SET_DATA, &record).len(), MAX_BUFFER + 4);
        assert_eq!(
            session.ask(1, OP_SET_DATA, &record),
            (1, ERR_OK),
            "{kind}: a {MAX_BUFFER}-byte frame"
        );
        assert_eq!(
            session.ask(2, OP_SET_DATA, &set_data(b"/zookeeper", b"small")),
            (2, ERR_OK),
            "{kind}: the next, small frame on the same connection"
        );
    }
}

#[test]
fn two_hundred_connections_holding_half_a_frame_do_not_starve_the_others() {
    // Each connection's bytes wait in that connection's own buffer until its frame is whole
    // (NIOServerCnxn reads into the connection's incomingBuffer); nobody waits for them.
    const TEST: &str = "connections holding half a frame";
    let half = |frame: Vec<u8>| frame[..frame.len() / 2].to_vec();
    for kind in servers_under_test() {
        let Some(server) = Server::start_with_or_skip(kind, TEST, &[("maxClientCnxns", "0")])
        else {
            continue;
        };
        let (mut stalled, mut stalled_sessions) = (Vec::new(), Vec::new());
        for i in 0..200 {
            if i % 2 == 0 {
                // Half a ConnectRequest on a new connection.
                let mut stream = open(&server);
                stream
                    .write_all(&half(connect_request()))
                    .expect("half a connect");
                stalled.push(stream);
            } else {
                // Half a request on an open session.
                let mut session = RawSession::open(&server);
                session
                    .stream
                    .write_all(&half(request(1, OP_GET_DATA, &get_data(b"/zookeeper"))))
                    .expect("half a request");
                stalled_sessions.push(session);
            }
        }
        let mut newcomer = RawSession::open(&server);
        newcomer.assert_still_serves(&kind.to_string());
        drop((stalled, stalled_sessions));
    }
}
