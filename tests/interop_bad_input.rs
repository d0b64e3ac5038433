//! Bad bytes on the client port: every server under test answers them as
//! ZooKeeper 3.8 does, and a session that was already open keeps working.
//!
//! A server faces whatever reaches its port: a port scanner, an HTTP probe,
//! a client with a bug. ZooKeeper's rule (client-protocol.md §1; upstream
//! `NIOServerCnxn.readLength`, `ZooKeeperServer.processPacket`) is to close
//! a connection whose framing it cannot trust, and to answer a well-framed
//! request it cannot serve with an error under the request's xid. Either
//! way the server stays up for everyone else. These tests speak the wire by
//! hand (frames, jute records) so they can send what no client library
//! would, and each one first opens a healthy session that must still answer
//! afterwards.

mod common;

use common::{servers_under_test, Server};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

/// How long a server may take to close or answer; it needs milliseconds.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

/// Opcodes and error codes used below (client-protocol.md §5, §9).
const OP_GET_DATA: i32 = 4;
const OP_CLOSE_SESSION: i32 = -11;
const ERR_OK: i32 = 0;
const ERR_NO_NODE: i32 = -101;
const ERR_UNIMPLEMENTED: i32 = -6;

fn frame(body: &[u8]) -> Vec<u8> {
    let length = i32::try_from(body.len()).expect("a small frame");
    [&length.to_be_bytes()[..], body].concat()
}

fn jute_string(bytes: &[u8]) -> Vec<u8> {
    let length = i32::try_from(bytes.len()).expect("a short string");
    [&length.to_be_bytes()[..], bytes].concat()
}

/// ConnectRequest: protocolVersion, lastZxidSeen, timeOut, sessionId,
/// passwd (16 zero bytes), readOnly.
fn connect_request() -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(0i32.to_be_bytes());
    body.extend(0i64.to_be_bytes());
    body.extend(10_000i32.to_be_bytes());
    body.extend(0i64.to_be_bytes());
    body.extend(jute_string(&[0; 16]));
    body.push(0);
    frame(&body)
}

/// RequestHeader (xid, type) followed by `record`.
fn request(xid: i32, op: i32, record: &[u8]) -> Vec<u8> {
    frame(&[&xid.to_be_bytes()[..], &op.to_be_bytes()[..], record].concat())
}

/// GetDataRequest: path, watch=false.
fn get_data(path: &[u8]) -> Vec<u8> {
    [jute_string(path), vec![0]].concat()
}

fn open(server: &Server) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", server.port())).expect("connect");
    stream
        .set_read_timeout(Some(ANSWER_TIMEOUT))
        .expect("timeout");
    stream
}

fn read_frame(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut length = [0; 4];
    stream.read_exact(&mut length)?;
    let mut body = vec![0; usize::try_from(i32::from_be_bytes(length)).expect("a sane length")];
    stream.read_exact(&mut body)?;
    Ok(body)
}

/// A raw session: handshake done, ready for requests.
struct RawSession {
    stream: TcpStream,
}

impl RawSession {
    fn open(server: &Server) -> RawSession {
        let mut stream = open(server);
        stream.write_all(&connect_request()).expect("send connect");
        let response = read_frame(&mut stream).expect("a ConnectResponse");
        let session_id = i64::from_be_bytes(response[8..16].try_into().expect("8 bytes"));
        assert_ne!(session_id, 0, "a session was granted");
        RawSession { stream }
    }

    /// Sends one request and returns the reply header's (xid, err).
    fn ask(&mut self, xid: i32, op: i32, record: &[u8]) -> (i32, i32) {
        self.stream
            .write_all(&request(xid, op, record))
            .expect("send");
        let reply = read_frame(&mut self.stream).expect("a reply");
        let xid = i32::from_be_bytes(reply[0..4].try_into().expect("4 bytes"));
        let err = i32::from_be_bytes(reply[12..16].try_into().expect("4 bytes"));
        (xid, err)
    }

    /// The session still answers: getData of / succeeds.
    fn assert_still_serves(&mut self, kind: &str) {
        assert_eq!(
            self.ask(100, OP_GET_DATA, &get_data(b"/")),
            (100, ERR_OK),
            "{kind}: the session opened before the bad input stopped working"
        );
    }
}

impl Drop for RawSession {
    fn drop(&mut self) {
        let _ = self.stream.write_all(&request(101, OP_CLOSE_SESSION, &[]));
    }
}

/// Whether the server closed `stream` (EOF or reset) instead of answering.
fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut buf = [0; 64];
    match stream.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => matches!(
            e.kind(),
            ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted
        ),
    }
}

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
