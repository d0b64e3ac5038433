//! ZooKeeper's wire by hand: frames and the few jute records the tests
//! need, so a test can send what no client library would (client-protocol.md
//! §1-§5).

use super::Server;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// How long a server may take to close or answer; it needs milliseconds.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

/// Opcodes and error codes used below (client-protocol.md §5, §9).
pub const OP_GET_DATA: i32 = 4;
pub const OP_CLOSE_SESSION: i32 = -11;
pub const ERR_OK: i32 = 0;
pub const ERR_NO_NODE: i32 = -101;
pub const ERR_UNIMPLEMENTED: i32 = -6;

pub fn frame(body: &[u8]) -> Vec<u8> {
    let length = i32::try_from(body.len()).expect("a small frame");
    [&length.to_be_bytes()[..], body].concat()
}

pub fn jute_string(bytes: &[u8]) -> Vec<u8> {
    let length = i32::try_from(bytes.len()).expect("a short string");
    [&length.to_be_bytes()[..], bytes].concat()
}

/// ConnectRequest: protocolVersion, lastZxidSeen, timeOut, sessionId,
/// passwd (16 zero bytes), readOnly.
pub fn connect_request() -> Vec<u8> {
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
pub fn request(xid: i32, op: i32, record: &[u8]) -> Vec<u8> {
    frame(&[&xid.to_be_bytes()[..], &op.to_be_bytes()[..], record].concat())
}

/// GetDataRequest: path, watch=false.
pub fn get_data(path: &[u8]) -> Vec<u8> {
    [jute_string(path), vec![0]].concat()
}

pub fn open(server: &Server) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", server.port())).expect("connect");
    stream
        .set_read_timeout(Some(ANSWER_TIMEOUT))
        .expect("timeout");
    stream
}

pub fn read_frame(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut length = [0; 4];
    stream.read_exact(&mut length)?;
    let mut body = vec![0; usize::try_from(i32::from_be_bytes(length)).expect("a sane length")];
    stream.read_exact(&mut body)?;
    Ok(body)
}

/// A raw session: handshake done, ready for requests.
pub struct RawSession {
    pub stream: TcpStream,
}

impl RawSession {
    pub fn open(server: &Server) -> RawSession {
        RawSession::try_open(server).expect("a session")
    }

    /// Connects and completes the handshake, or says why not.
    pub fn try_open(server: &Server) -> Result<RawSession, String> {
        let mut stream = open(server);
        stream
            .write_all(&connect_request())
            .map_err(|e| format!("send connect: {e}"))?;
        let response = read_frame(&mut stream).map_err(|e| format!("no ConnectResponse: {e}"))?;
        let session_id = i64::from_be_bytes(response[8..16].try_into().expect("8 bytes"));
        if session_id == 0 {
            return Err("no session granted".into());
        }
        Ok(RawSession { stream })
    }

    /// Sends one request and returns the reply header's (xid, err).
    pub fn ask(&mut self, xid: i32, op: i32, record: &[u8]) -> (i32, i32) {
        self.stream
            .write_all(&request(xid, op, record))
            .expect("send");
        let reply = read_frame(&mut self.stream).expect("a reply");
        let xid = i32::from_be_bytes(reply[0..4].try_into().expect("4 bytes"));
        let err = i32::from_be_bytes(reply[12..16].try_into().expect("4 bytes"));
        (xid, err)
    }

    /// The session still answers: getData of / succeeds.
    pub fn assert_still_serves(&mut self, kind: &str) {
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
pub fn closed_by_server(stream: &mut TcpStream) -> bool {
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
