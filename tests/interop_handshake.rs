//! The session handshake's rules, checked byte by byte on every server
//! under test.
//!
//! A ConnectRequest either asks for a new session (id 0) or resumes one with
//! its id and the password the server gave out. The server grants a new
//! session with a fresh id and password, resumes a session only for the
//! right password (moving it to the new connection), and refuses a client
//! that has seen a newer zxid than its own, since it would read the past
//! (upstream `ZooKeeperServer.processConnectRequest`, `reopenSession`,
//! `finishSessionInit`).

use crate::common;

use common::raw::{closed_by_server, handshake, Connect, RawSession};
use common::{servers_under_test, Server};

/// Runs `check` on each server under test (one shared server per kind).
fn on_every_server(test: &str, check: impl Fn(&Server)) {
    for kind in servers_under_test() {
        if let Some(server) = Server::shared(kind, test) {
            check(server);
        }
    }
}

#[test]
fn a_new_session_gets_an_id_a_password_and_no_read_only_flag() {
    on_every_server("new session", |server| {
        let session = RawSession::open(server);
        let granted = &session.granted;
        let kind = server.kind();
        assert_eq!(granted.protocol_version, 0, "{kind}");
        assert_eq!(
            granted.timeout_ms, 10_000,
            "{kind}: asked 10 s, within 2..20 ticks"
        );
        assert_ne!(granted.session_id, 0, "{kind}");
        assert_eq!(granted.passwd.len(), 16, "{kind}: a 16-byte password");
        assert!(
            granted.passwd.iter().any(|&b| b != 0),
            "{kind}: a password that is not all zeros"
        );
        assert_eq!(
            granted.read_only,
            Some(false),
            "{kind}: a standalone server is read-write"
        );
    });
}

#[test]
fn a_wrong_password_is_refused_though_it_drops_the_owners_connection_and_the_session_lives_on() {
    // ZooKeeper closes the session's current connection (closeSession with
    // CLIENT_RECONNECT) before reopenSession checks the password, so even a
    // refused attempt disconnects the owner; the session itself survives
    // and its owner resumes it with the right password.
    on_every_server("wrong password", |server| {
        let mut owner = RawSession::open(server);
        let thief = Connect {
            session_id: owner.granted.session_id,
            passwd: owner.granted.passwd.iter().map(|b| b ^ 0xff).collect(),
            ..Connect::default()
        };
        let kind = server.kind();
        let (mut stream, answer) = handshake(server, &thief).expect("an answer");
        // finishSessionInit(valid = false): timeout 0, session 0, which a
        // client reads as "expired", then the connection is closed.
        assert_eq!(
            (answer.timeout_ms, answer.session_id),
            (0, 0),
            "{kind}: {answer:?}"
        );
        assert_eq!(answer.passwd, [0; 16], "{kind}: 16 zero bytes");
        assert!(
            closed_by_server(&mut stream),
            "{kind} kept the refused connection open"
        );
        assert!(
            closed_by_server(&mut owner.stream),
            "{kind} kept the owner's connection open"
        );
        let (stream, resumed) = handshake(server, &resume(&owner)).expect("an answer");
        assert_eq!(
            resumed.session_id, owner.granted.session_id,
            "{kind}: the session lives on"
        );
        RawSession {
            stream,
            granted: resumed,
        }
        .assert_still_serves(&kind.to_string());
    });
}

/// A ConnectRequest resuming `session` with its id and password.
fn resume(session: &RawSession) -> Connect {
    Connect {
        session_id: session.granted.session_id,
        passwd: session.granted.passwd.clone(),
        ..Connect::default()
    }
}

#[test]
fn a_session_resumed_with_its_password_moves_to_the_new_connection() {
    on_every_server("session move", |server| {
        let mut first = RawSession::open(server);
        let kind = server.kind();
        let (stream, answer) = handshake(server, &resume(&first)).expect("an answer");
        assert_eq!(
            answer.session_id, first.granted.session_id,
            "{kind}: the same session"
        );
        assert_eq!(
            answer.passwd, first.granted.passwd,
            "{kind}: the same password"
        );
        assert!(
            closed_by_server(&mut first.stream),
            "{kind} kept the session's old connection open"
        );
        let mut moved = RawSession {
            stream,
            granted: answer,
        };
        moved.assert_still_serves(&kind.to_string());
    });
}

#[test]
fn a_client_that_has_seen_a_newer_zxid_than_the_server_is_refused() {
    on_every_server("zxid from the future", |server| {
        let from_the_future = Connect {
            last_zxid_seen: 0x7fff_0000_0000,
            ..Connect::default()
        };
        let kind = server.kind();
        let mut stream = common::raw::open(server);
        std::io::Write::write_all(&mut stream, &from_the_future.encode()).expect("send connect");
        assert!(
            closed_by_server(&mut stream),
            "{kind} answered a client that has seen zxid 0x7fff00000000"
        );
    });
}
