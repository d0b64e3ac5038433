//! The server's limits from zoo.cfg hold for every server under test.
//!
//! `maxClientCnxns` caps the connections one client address may hold, so one
//! misbehaving host cannot use up a server (upstream
//! `NIOServerCnxnFactory`, "Too many connections from ... - max is N"): the
//! connection over the cap is closed at once, the others keep working, and
//! a freed slot can be used again.

mod common;

use common::raw::{closed_by_server, connect_request, open, RawSession};
use common::{servers_under_test, wait_until, Server};
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
