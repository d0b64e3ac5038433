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
pub const OP_SET_DATA: i32 = 5;
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
    handshake_at(server.port(), connect)
}

/// [`handshake`] with the server on this port of 127.0.0.1 (a member of an ensemble).
pub fn handshake_at(port: u16, connect: &Connect) -> Result<(TcpStream, ConnectResponse), String> {
    let mut stream = open_at(port);
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

/// SetDataRequest: path, data, version -1.
pub fn set_data(path: &[u8], data: &[u8]) -> Vec<u8> {
    [
        jute_string(path),
        jute_string(data),
        (-1i32).to_be_bytes().to_vec(),
    ]
    .concat()
}

/// GetDataRequest: path, watch=false.
pub fn get_data(path: &[u8]) -> Vec<u8> {
    [jute_string(path), vec![0]].concat()
}

pub fn open(server: &Server) -> TcpStream {
    open_at(server.port())
}

pub fn open_at(port: u16) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
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
        RawSession::try_open_at(server.port(), &Connect::default())
    }

    /// Sends `connect` to the server on `port` and completes the handshake, or says why not
    /// (a resumed session refused counts as not granted).
    pub fn try_open_at(port: u16, connect: &Connect) -> Result<RawSession, String> {
        let (stream, granted) = handshake_at(port, connect)?;
        if granted.session_id == 0 || granted.timeout_ms == 0 {
            return Err("no session granted".into());
        }
        Ok(RawSession { stream, granted })
    }

    /// A second connection to the server on `port` with this session's id and password:
    /// the session moves there (the leader revalidates it) before this returns.
    pub fn move_to(&self, port: u16) -> Result<RawSession, String> {
        let connect = Connect {
            session_id: self.granted.session_id,
            passwd: self.granted.passwd.clone(),
            timeout_ms: self.granted.timeout_ms,
            ..Connect::default()
        };
        let moved = RawSession::try_open_at(port, &connect)?;
        match moved.granted.session_id == self.granted.session_id {
            true => Ok(moved),
            false => Err(format!("a new session {:#x}", moved.granted.session_id)),
        }
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

/// A session opened on the server at `from` moves to the server at `to` (a second connection
/// with its id and password); then its first connection, still open, is used again. Upstream's
/// leader checks each request's session against its owner, the server that revalidated it
/// last (`SessionTrackerImpl.checkSession(sessionId, owner)`): a follower still serves reads
/// on the old connection (it checks no owner), but a write it forwards fails with
/// SessionMoved, and a SessionMovedException is answered by closing the connection
/// (`FinalRequestProcessor` → `sendCloseSession`), not with the code -118. A leader checks
/// reads too, so there the first read closes it. The session itself goes on at `to`.
pub fn check_a_moved_sessions_old_connection(
    from: u16,
    to: u16,
    from_leads: bool,
) -> Result<(), String> {
    let mut old = RawSession::try_open_at(from, &Connect::default())?;
    old.try_ask(1, OP_GET_DATA, &get_data(b"/"))?;
    let mut moved = old.move_to(to)?;
    let session = old.granted.session_id;
    // A follower serves the read and closes at the write; a leader closes at the read.
    if !from_leads {
        let read = old.try_ask(2, OP_GET_DATA, &get_data(b"/"))?;
        if read != (2, ERR_OK) {
            return Err(format!("the old connection's read: {read:?}"));
        }
    }
    let (what, last) = match from_leads {
        true => ("read", request(3, OP_GET_DATA, &get_data(b"/"))),
        false => ("write", request(3, OP_SET_DATA, &set_data(b"/", b"stale"))),
    };
    old.stream
        .write_all(&last)
        .map_err(|e| format!("send the {what}: {e}"))?;
    if !closed_by_server(&mut old.stream) {
        return Err(format!(
            "session {session:#x}: the old connection's {what} was answered, not closed"
        ));
    }
    match moved.try_ask(1, OP_SET_DATA, &set_data(b"/", b"moved"))? {
        (1, ERR_OK) => Ok(()),
        other => Err(format!("the write where the session is now: {other:?}")),
    }
}

/// A session opened on the server at `from` reconnects to the server at `to` with a request
/// sent right behind its ConnectRequest, before any answer. Upstream reads nothing more from
/// the socket while the handshake waits (a follower asks its leader whether the session is
/// alive: `processConnectRequest`'s `disableRecv`) and reads on once it is answered
/// (`finishSessionInit`'s `enableRecv`): the handshake answer comes first, then the reply.
pub fn check_a_request_sent_behind_a_reconnect(from: u16, to: u16) -> Result<(), String> {
    let first = RawSession::try_open_at(from, &Connect::default())?;
    let connect = Connect {
        session_id: first.granted.session_id,
        passwd: first.granted.passwd.clone(),
        timeout_ms: first.granted.timeout_ms,
        ..Connect::default()
    };
    check_a_request_sent_behind(to, &connect, first.granted.session_id)
}

/// `connect` sent to the server on `port` with a getData request right behind it, before any
/// answer: the handshake is answered (with `session`, or a new session when it is 0), then the
/// request. A new session waits for its createSession txn, which a follower forwards to the
/// leader, so a request sent with it waits behind it too.
pub fn check_a_request_sent_behind(
    port: u16,
    connect: &Connect,
    session: i64,
) -> Result<(), String> {
    let mut stream = open_at(port);
    let both = [connect.encode(), request(1, OP_GET_DATA, &get_data(b"/"))].concat();
    stream
        .write_all(&both)
        .map_err(|e| format!("send the handshake and the request: {e}"))?;
    let answer = read_frame(&mut stream).map_err(|e| format!("no ConnectResponse: {e}"))?;
    let granted = ConnectResponse::parse(&answer);
    let resumed = session == 0 || granted.session_id == session;
    if granted.session_id == 0 || granted.timeout_ms == 0 || !resumed {
        return Err(format!("no session granted, or another: {granted:?}"));
    }
    match read_frame(&mut stream).map(|reply| reply_header(&reply)) {
        Ok((1, ERR_OK)) => Ok(()),
        Ok(other) => Err(format!("the request behind the handshake: {other:?}")),
        Err(e) => Err(format!("no reply to the request behind the handshake: {e}")),
    }
}
