//! The handshake: the first frame each way, with no header.
//!
//! `ConnectRequest` and `ConnectResponse` are ordinary jute records followed
//! by one byte that is **not** part of the record: `readOnly`. Newer clients
//! (the Java client since 3.4, kazoo) always send it, very old clients don't,
//! so a server must accept its absence, and answers with the trailing byte
//! only when the client sent one (`ZooKeeperServer.finishSessionInit`, the
//! `isOldClient` check). We model "absent" as `read_only: None`.

use ch01_znode::{SessionId, Zxid};

use crate::jute::{DecodeError, Reader, Record, Writer};

/// The client's first frame (`ConnectRequest` + the optional readOnly byte).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ConnectRequest {
    /// Always 0.
    pub protocol_version: i32,
    /// The highest zxid this client has seen; 0 for a fresh client.
    pub last_zxid_seen: Zxid,
    /// The session timeout the client asks for, in ms.
    pub time_out: i32,
    /// 0 for a new session, else the session being resumed.
    pub session_id: SessionId,
    /// 16 zero bytes for a new session, else the server-given password.
    pub passwd: Vec<u8>,
    /// `Some(true)`: "a read-only server will do". `None`: an old client
    /// that did not send the byte.
    pub read_only: Option<bool>,
}

/// The server's first frame (`ConnectResponse` + the optional readOnly byte).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ConnectResponse {
    /// Always 0.
    pub protocol_version: i32,
    /// The negotiated timeout in ms; 0 means "your session is gone".
    pub time_out: i32,
    /// The session id; 0 when the session is invalid.
    pub session_id: SessionId,
    /// 16 bytes the client must present to resume the session.
    pub passwd: Vec<u8>,
    /// `Some(true)` if this server is read-only; `None` for an old client.
    pub read_only: Option<bool>,
}

/// Writes the trailing readOnly byte only when there is one to send: an
/// old client's `None` leaves the frame as it was before 3.4.
fn write_trailing_flag(w: &mut Writer, flag: Option<bool>) {
    if let Some(flag) = flag {
        w.write_bool(flag);
    }
}

/// Reads the trailing readOnly byte if there is one.
fn read_trailing_flag(r: &mut Reader<'_>, what: &'static str) -> Result<Option<bool>, DecodeError> {
    if r.remaining() == 0 {
        Ok(None)
    } else {
        r.read_bool(what).map(Some)
    }
}

impl Record for ConnectRequest {
    fn encode(&self, w: &mut Writer) {
        self.protocol_version.encode(w);
        self.last_zxid_seen.encode(w);
        self.time_out.encode(w);
        self.session_id.encode(w);
        self.passwd.encode(w);
        write_trailing_flag(w, self.read_only);
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(ConnectRequest {
            protocol_version: r.field("ConnectRequest.protocolVersion")?,
            last_zxid_seen: r.field("ConnectRequest.lastZxidSeen")?,
            time_out: r.field("ConnectRequest.timeOut")?,
            session_id: r.field("ConnectRequest.sessionId")?,
            passwd: r.field("ConnectRequest.passwd")?,
            read_only: read_trailing_flag(r, "ConnectRequest.readOnly")?,
        })
    }
}

impl Record for ConnectResponse {
    fn encode(&self, w: &mut Writer) {
        self.protocol_version.encode(w);
        self.time_out.encode(w);
        self.session_id.encode(w);
        self.passwd.encode(w);
        write_trailing_flag(w, self.read_only);
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(ConnectResponse {
            protocol_version: r.field("ConnectResponse.protocolVersion")?,
            time_out: r.field("ConnectResponse.timeOut")?,
            session_id: r.field("ConnectResponse.sessionId")?,
            passwd: r.field("ConnectResponse.passwd")?,
            read_only: read_trailing_flag(r, "ConnectResponse.readOnly")?,
        })
    }
}

impl ConnectRequest {
    /// What a client with no session yet sends first, as zkCli 3.8 does: nothing seen, no
    /// session, a zeroed password, and the readOnly flag false.
    pub fn new_session(time_out_ms: i32) -> ConnectRequest {
        ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: Zxid(0),
            time_out: time_out_ms,
            session_id: SessionId(0),
            passwd: vec![0; 16],
            read_only: Some(false),
        }
    }
}

impl ConnectResponse {
    /// The answer to a reconnect for an unknown, expired or wrongly
    /// authenticated session: timeout 0, id 0, 16 zero bytes. The client
    /// reads timeout 0 as "session expired".
    pub fn invalid(read_only: Option<bool>) -> ConnectResponse {
        ConnectResponse {
            protocol_version: 0,
            time_out: 0,
            session_id: SessionId(0),
            passwd: vec![0; 16],
            read_only: read_only.map(|_| false),
        }
    }
}
