//! Bad bytes on the client port: every server under test answers them as
//! ZooKeeper 3.8 does, and a session that was already open keeps working.
//!
//! A server faces whatever reaches its port: a port scanner, an HTTP probe,
//! a client with a bug. ZooKeeper's rule (client-protocol.md §1; upstream
//! `NIOServerCnxn.readLength`, `ZooKeeperServer.processPacket`) is to close
//! a connection whose framing it cannot trust, and to answer a well-framed
//! request it cannot serve with an error under the request's xid (and,
//! for an opcode it does not know, to close the connection after that
//! answer). Strings are decoded as Java does, bad bytes becoming U+FFFD, so
//! a path that is not UTF-8 is an ordinary missing or invalid path. Either
//! way the server stays up for everyone else. These tests speak the wire by
//! hand (frames, jute records) so they can send what no client library
//! would, and each one first opens a healthy session that must still answer
//! afterwards.

use crate::common;

use common::raw::{
    closed_by_server, connect_request, frame, get_data, jute_string, open, read_frame,
    reply_header, request, RawSession, ERR_BAD_ARGUMENTS, ERR_MARSHALLING, ERR_NO_NODE,
    ERR_UNIMPLEMENTED, OP_CREATE, OP_GET_DATA,
};
use common::{servers_under_test, Server};
use std::io::Write;
use std::net::Shutdown;

/// Sends `bytes` on a fresh connection and requires the server to close it
/// while a session opened beforehand keeps working.
fn closes_the_connection_on(test: &str, bytes: &[u8], then_half_close: bool) {
    for kind in servers_under_test() {
        let Some(server) = Server::shared(kind, test) else {
            continue;
        };
        let mut healthy = RawSession::open(server);
        let mut bad = open(server);
        bad.write_all(bytes).expect("send the bad bytes");
        if then_half_close {
            bad.shutdown(Shutdown::Write).expect("half close");
        }
        assert!(
            closed_by_server(&mut bad),
            "{kind} did not close the connection ({test})\n{}",
            server.log()
        );
        healthy.assert_still_serves(&kind.to_string());
    }
}

#[test]
fn garbage_before_the_connect_request_closes_the_connection() {
    // "GET " read as a frame length is about 1.2 GB, over jute.maxbuffer.
    closes_the_connection_on("an HTTP probe", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", false);
}

#[test]
fn a_negative_frame_length_closes_the_connection() {
    closes_the_connection_on(
        "a negative length",
        &[0xff, 0xff, 0xff, 0xfe, 1, 2, 3, 4],
        false,
    );
}

#[test]
fn a_frame_longer_than_jute_maxbuffer_closes_the_connection() {
    let two_mib = 2 * 1024 * 1024i32;
    closes_the_connection_on("an oversized length", &two_mib.to_be_bytes(), false);
}

#[test]
fn a_connection_that_ends_inside_a_frame_is_closed() {
    let connect = connect_request();
    closes_the_connection_on(
        "a truncated connect request",
        &connect[..connect.len() / 2],
        true,
    );
}

#[test]
fn a_connect_request_too_short_for_its_fields_closes_the_connection() {
    closes_the_connection_on("a short connect body", &frame(&[0, 0, 0, 0, 0, 0]), false);
}

#[test]
fn an_unknown_opcode_is_answered_unimplemented_under_its_xid_then_the_connection_closes() {
    // Upstream ZooKeeperServer.submitRequestNow hands an unknown type to
    // UnimplementedRequestProcessor: a reply with Unimplemented, then
    // sendCloseSession, which drops the connection.
    for kind in servers_under_test() {
        let Some(server) = Server::shared(kind, "unknown opcode") else {
            continue;
        };
        let mut healthy = RawSession::open(server);
        let mut confused = RawSession::open(server);
        assert_eq!(confused.ask(7, 999, &[]), (7, ERR_UNIMPLEMENTED), "{kind}");
        assert!(
            closed_by_server(&mut confused.stream),
            "{kind} kept the connection open"
        );
        healthy.assert_still_serves(&kind.to_string());
    }
}

#[test]
fn a_path_that_is_not_utf8_is_answered_as_zookeeper_does() {
    for kind in servers_under_test() {
        let Some(server) = Server::shared(kind, "invalid UTF-8 path") else {
            continue;
        };
        let mut session = RawSession::open(server);
        assert_eq!(
            session.ask(8, OP_GET_DATA, &get_data(b"/caf\xe9")),
            (8, ERR_NO_NODE),
            "{kind}"
        );
        session.assert_still_serves(&kind.to_string());
    }
}

#[test]
fn a_create_of_a_path_that_is_not_utf8_is_bad_arguments() {
    // The path reads as "/caf\u{fffd}", and PathUtils.validatePath refuses
    // U+FFFD (PrepRequestProcessor: BadArguments).
    for kind in servers_under_test() {
        let Some(server) = Server::shared(kind, "invalid UTF-8 create") else {
            continue;
        };
        let mut session = RawSession::open(server);
        let open_acl = [
            &1i32.to_be_bytes()[..],
            &31i32.to_be_bytes(),
            &jute_string(b"world"),
            &jute_string(b"anyone"),
        ]
        .concat();
        let create = [
            jute_string(b"/caf\xe9"),
            jute_string(b""),
            open_acl,
            0i32.to_be_bytes().to_vec(),
        ]
        .concat();
        assert_eq!(
            session.ask(10, OP_CREATE, &create),
            (10, ERR_BAD_ARGUMENTS),
            "{kind}"
        );
        session.assert_still_serves(&kind.to_string());
    }
}

/// Sends `bytes` inside an open session and requires the server to close
/// that connection while another session keeps working.
fn closes_a_session_on(test: &str, bytes: &[u8]) {
    for kind in servers_under_test() {
        let Some(server) = Server::shared(kind, test) else {
            continue;
        };
        let mut healthy = RawSession::open(server);
        let mut bad = RawSession::open(server);
        bad.stream.write_all(bytes).expect("send the bad bytes");
        assert!(
            closed_by_server(&mut bad.stream),
            "{kind} did not close the connection ({test})"
        );
        healthy.assert_still_serves(&kind.to_string());
    }
}

#[test]
fn a_negative_frame_length_after_the_handshake_closes_the_connection() {
    // NIOServerCnxn.readLength checks every frame, not only the first.
    closes_a_session_on("a negative length in a session", &(-5i32).to_be_bytes());
}

#[test]
fn a_frame_too_short_for_a_request_header_closes_the_connection() {
    // ZooKeeperServer.processPacket cannot read the RequestHeader: an
    // IOException, and NIOServerCnxn.doIO closes the connection.
    closes_a_session_on("a frame shorter than a header", &frame(&[0, 0, 0]));
}

#[test]
fn a_body_shorter_than_its_fields_claim_is_answered_as_zookeeper_does() {
    // The header is fine, so the request is answered under its xid; the
    // body (a create whose path claims 1000 bytes, then ends) is not
    // (PrepRequestProcessor: MarshallingError), and the session goes on.
    for kind in servers_under_test() {
        let Some(server) = Server::shared(kind, "a short body") else {
            continue;
        };
        let mut session = RawSession::open(server);
        session
            .stream
            .write_all(&request(9, OP_CREATE, &[0, 0, 3, 232, b'/', b'a']))
            .expect("send");
        let reply =
            read_frame(&mut session.stream).unwrap_or_else(|e| panic!("{kind}: no reply: {e}"));
        assert_eq!(reply_header(&reply), (9, ERR_MARSHALLING), "{kind}");
        session.assert_still_serves(&kind.to_string());
    }
}
