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
pub const OP_CREATE: i32 = 1;
pub const OP_GET_DATA: i32 = 4;
pub const OP_CLOSE_SESSION: i32 = -11;
pub const ERR_OK: i32 = 0;
pub const ERR_MARSHALLING: i32 = -5;
pub const ERR_BAD_ARGUMENTS: i32 = -8;
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

/// A ConnectRequest: protocolVersion 0, then these fields, then
/// readOnly=false.
pub struct Connect {
    pub last_zxid_seen: i64,
    pub timeout_ms: i32,
    /// 0 asks for a new session; an id (with its password) resumes one.
    pub session_id: i64,
    pub passwd: Vec<u8>,
}

impl Default for Connect {
    fn default() -> Connect {
        Connect {
            last_zxid_seen: 0,
            timeout_ms: 10_000,
            session_id: 0,
            passwd: vec![0; 16],
        }
    }
}

impl Connect {
    pub fn encode(&self) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend(0i32.to_be_bytes());
        body.extend(self.last_zxid_seen.to_be_bytes());
        body.extend(self.timeout_ms.to_be_bytes());
        body.extend(self.session_id.to_be_bytes());
        body.extend(jute_string(&self.passwd));
        body.push(0);
        frame(&body)
    }
}

/// A request for a new session.
pub fn connect_request() -> Vec<u8> {
    Connect::default().encode()
}

/// A ConnectResponse: protocolVersion, timeOut, sessionId, passwd, and the
/// readOnly flag (absent from servers older than 3.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectResponse {
    pub protocol_version: i32,
    pub timeout_ms: i32,
    pub session_id: i64,
    pub passwd: Vec<u8>,
    pub read_only: Option<bool>,
}

impl ConnectResponse {
    pub fn parse(body: &[u8]) -> ConnectResponse {
        let int = |at: usize| i32::from_be_bytes(body[at..at + 4].try_into().expect("4 bytes"));
        let passwd_len = usize::try_from(int(16)).expect("a password length");
        let passwd = body[20..20 + passwd_len].to_vec();
        ConnectResponse {
            protocol_version: int(0),
            timeout_ms: int(4),
            session_id: i64::from_be_bytes(body[8..16].try_into().expect("8 bytes")),
            passwd,
            read_only: body.get(20 + passwd_len).map(|&b| b != 0),
        }
    }
}

/// Sends `connect` on a fresh connection and reads the ConnectResponse.
pub fn handshake(
    server: &Server,
    connect: &Connect,
) -> Result<(TcpStream, ConnectResponse), String> {
    let mut stream = open(server);
    stream
        .write_all(&connect.encode())
        .map_err(|e| format!("send connect: {e}"))?;
    let response = read_frame(&mut stream).map_err(|e| format!("no ConnectResponse: {e}"))?;
    Ok((stream, ConnectResponse::parse(&response)))
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

/// A reply frame's (xid, err): its ReplyHeader is xid, zxid, err.
pub fn reply_header(reply: &[u8]) -> (i32, i32) {
    let xid = i32::from_be_bytes(reply[0..4].try_into().expect("4 bytes"));
    let err = i32::from_be_bytes(reply[12..16].try_into().expect("4 bytes"));
    (xid, err)
}

/// A raw session: handshake done, ready for requests.
pub struct RawSession {
    pub stream: TcpStream,
    /// What the server answered to the ConnectRequest.
    pub granted: ConnectResponse,
}

impl RawSession {
    pub fn open(server: &Server) -> RawSession {
        RawSession::try_open(server).expect("a session")
    }

    /// Connects and completes the handshake, or says why not.
    pub fn try_open(server: &Server) -> Result<RawSession, String> {
        let (stream, granted) = handshake(server, &Connect::default())?;
        if granted.session_id == 0 {
            return Err("no session granted".into());
        }
        Ok(RawSession { stream, granted })
    }

    /// Sends one request and returns the reply header's (xid, err).
    pub fn ask(&mut self, xid: i32, op: i32, record: &[u8]) -> (i32, i32) {
        self.try_ask(xid, op, record)
            .unwrap_or_else(|why| panic!("{why}"))
    }

    pub fn try_ask(&mut self, xid: i32, op: i32, record: &[u8]) -> Result<(i32, i32), String> {
        let no_reply = |e| format!("no reply to opcode {op} (xid {xid}): {e}");
        self.stream
            .write_all(&request(xid, op, record))
            .map_err(no_reply)?;
        let reply = read_frame(&mut self.stream).map_err(no_reply)?;
        Ok(reply_header(&reply))
    }

    /// The session still answers: getData of / succeeds.
    pub fn assert_still_serves(&mut self, kind: &str) {
        assert_eq!(
            self.try_ask(100, OP_GET_DATA, &get_data(b"/"))
                .unwrap_or_else(|why| panic!("{kind}: {why}")),
            (100, ERR_OK),
            "{kind}: the session stopped working"
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
