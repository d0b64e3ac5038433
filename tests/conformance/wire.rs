//! One raw session on one server, and the outcome of each request as a line of text with the
//! volatile fields masked, so two servers' transcripts compare with `==`.
//!
//! What is masked, and why it may differ between two correct servers: session ids and
//! passwords (random), zxids (each server counts its own history: only "zero or not" is kept),
//! times (`ctime`, `mtime`), and a Stat's `ephemeralOwner` (a session id: only "owned or not").
//! Everything else (error codes, paths, data, versions, child counts, ACLs, event types, which
//! frames come and whether the connection stays open) must be the same byte for byte.

use ch03_sessions::jute::{Reader, Record};
use ch03_sessions::proto::{self, OpCode, OpResult, ReplyHeader, Response, Stat, Zxid};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// How long a server may take to answer; both need milliseconds. A request that gets no
/// answer at all costs this much, so cases avoid needing it.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(3);

/// The error code after which ZooKeeper closes the connection, unless it refused a TTL in
/// one of the `CREATES` ops (TTLs disabled): that is answered and the connection kept.
const UNIMPLEMENTED: i32 = -6;
const CREATES: [i32; 5] = [1, 14, 15, 19, 21];

/// A raw connection with a session.
pub struct Session {
    stream: TcpStream,
}

impl Session {
    /// Connects and sends a ConnectRequest for a new 30 s session; the masked handshake
    /// answer is returned with it.
    pub fn open(address: &str) -> (Session, String) {
        let stream = TcpStream::connect(address).unwrap_or_else(|e| panic!("{address}: {e}"));
        stream
            .set_read_timeout(Some(ANSWER_TIMEOUT))
            .expect("timeout");
        let mut session = Session { stream };
        let connect = proto::ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: Zxid(0),
            time_out: 30_000,
            session_id: proto::SessionId(0),
            passwd: vec![0; 16],
            read_only: Some(false),
        };
        session.send_frame(&connect.to_bytes());
        let answer = match session.read_frame() {
            Ok(Some(body)) => match proto::ConnectResponse::from_bytes(&body) {
                Ok(r) => format!(
                    "connected timeout={} version={}",
                    r.time_out, r.protocol_version
                ),
                Err(e) => format!("undecodable handshake answer ({e}): {}", proto::hex(&body)),
            },
            Ok(None) => "closed".to_string(),
            Err(e) => format!("no handshake answer ({e})"),
        };
        (session, answer)
    }

    fn send_frame(&mut self, body: &[u8]) {
        let length = i32::try_from(body.len()).expect("a test frame fits an i32");
        // A server that already closed may refuse the write: the read says so.
        let _ = self
            .stream
            .write_all(&[&length.to_be_bytes()[..], body].concat());
    }

    /// The next frame's body; `None` when the server closed the connection.
    fn read_frame(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        let mut length = [0u8; 4];
        match self.stream.read_exact(&mut length) {
            Ok(()) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset
                ) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(e),
        }
        let length = i32::from_be_bytes(length);
        let mut body = vec![0u8; usize::try_from(length).unwrap_or(0).min(1 << 24)];
        self.stream.read_exact(&mut body)?;
        Ok(Some(body))
    }

    /// Sends one request (`xid`, `op`, then `body` as is) and returns what came back, masked:
    /// any watch events first, then the reply, `closed`, or `no answer`.
    pub fn ask(&mut self, xid: i32, op: i32, body: &[u8]) -> String {
        let mut frame = Vec::with_capacity(8 + body.len());
        frame.extend(xid.to_be_bytes());
        frame.extend(op.to_be_bytes());
        frame.extend(body);
        self.send_frame(&frame);
        self.answer(xid, op)
    }

    /// Sends `bytes` as they are (a frame of the caller's making, length and all) and reads
    /// the answer as [`Session::ask`] does.
    pub fn ask_raw(&mut self, xid: i32, op: i32, bytes: &[u8]) -> String {
        // A server that already closed may refuse the write: the read says so.
        let _ = self.stream.write_all(bytes);
        self.answer(xid, op)
    }

    /// ZooKeeper closes the connection after answering Unimplemented, but from another
    /// thread, so a request sent right behind may still be answered: the close is waited for
    /// here (both servers close), which makes the next request's outcome certain.
    fn closed_after_unimplemented(&mut self) -> String {
        match self.read_frame() {
            Ok(Some(frame)) => format!("then frame {}", proto::hex(&frame)),
            Ok(None) => "then closed".to_string(),
            Err(_) => "still open".to_string(),
        }
    }

    fn answer(&mut self, xid: i32, op: i32) -> String {
        let mut seen = Vec::new();
        loop {
            match self.read_frame() {
                Ok(Some(reply)) => {
                    let header = ReplyHeader::from_bytes(&reply);
                    match header {
                        Ok(h) if h.xid == -1 => seen.push(event(&reply)),
                        Ok(h) if h.xid == xid => {
                            seen.push(masked_reply(op, &h, &reply[16..]));
                            if h.err == UNIMPLEMENTED && !CREATES.contains(&op) {
                                seen.push(self.closed_after_unimplemented());
                            }
                            break;
                        }
                        _ => seen.push(unexpected(&reply, op, xid)),
                    }
                }
                Ok(None) => {
                    seen.push("closed".to_string());
                    break;
                }
                Err(_) => {
                    seen.push("no answer".to_string());
                    break;
                }
            }
        }
        seen.join(" ; ")
    }
}

/// A frame that answers nothing we asked. ZooKeeper answers a createSession sent inside a
/// session with a whole ConnectResponse (a new session id and password: masked); a reply to
/// another xid (two requests in one write) is shown masked as a reply of the same op.
fn unexpected(frame: &[u8], op: i32, xid: i32) -> String {
    if let Ok(r) = proto::ConnectResponse::from_bytes(frame) {
        if r.to_bytes() == frame {
            return format!(
                "connect answer timeout={} version={} read_only={:?}",
                r.time_out, r.protocol_version, r.read_only
            );
        }
    }
    match ReplyHeader::from_bytes(frame) {
        Ok(h) if h.xid != proto::request::PING_XID => format!(
            "reply to xid {:+}: {}",
            h.xid - xid,
            masked_reply(op, &h, &frame[16..])
        ),
        _ => format!("unexpected frame {}", proto::hex(frame)),
    }
}

fn event(frame: &[u8]) -> String {
    let mut r = Reader::new(&frame[16..]);
    match proto::WatchedEvent::decode(&mut r) {
        Ok(e) => format!("event {e:?}"),
        Err(_) => format!("event {}", proto::hex(frame)),
    }
}

/// The reply with its volatile fields masked. The body is decoded with chapter 3's records
/// only when encoding the decoded value gives back exactly the bytes received; otherwise the
/// raw bytes are shown, so a lenient decoder cannot hide a difference.
fn masked_reply(op: i32, header: &ReplyHeader, body: &[u8]) -> String {
    let zxid = if header.zxid.0 == 0 { "0" } else { "z" };
    let head = format!("err={} zxid={zxid}", header.err);
    if body.is_empty() {
        return head;
    }
    let decoded = OpCode::from_code(op).and_then(|code| {
        let mut r = Reader::new(body);
        let response = proto::decode_response(code, header, &mut r).ok()??;
        let exact = proto::encode_reply(header, Some(&response))[16..] == *body;
        exact.then_some(response)
    });
    match decoded {
        Some(response) => format!("{head} {:?}", mask(response)),
        None => format!("{head} raw {}", proto::hex(body)),
    }
}

fn mask(response: Response) -> Response {
    match response {
        Response::Create2(mut r) => {
            r.stat = mask_stat(r.stat);
            Response::Create2(r)
        }
        Response::Exists(r) => Response::Exists(proto::ExistsResponse {
            stat: mask_stat(r.stat),
        }),
        Response::GetData(mut r) => {
            r.stat = mask_stat(r.stat);
            Response::GetData(r)
        }
        Response::SetData(r) => Response::SetData(proto::SetDataResponse {
            stat: mask_stat(r.stat),
        }),
        Response::GetAcl(mut r) => {
            r.stat = mask_stat(r.stat);
            Response::GetAcl(r)
        }
        Response::SetAcl(r) => Response::SetAcl(proto::SetAclResponse {
            stat: mask_stat(r.stat),
        }),
        Response::GetChildren2(mut r) => {
            r.children.sort();
            r.stat = mask_stat(r.stat);
            Response::GetChildren2(r)
        }
        // Children come in hash order on ZooKeeper: the order is not part of the answer.
        Response::GetChildren(mut r) => {
            r.children.sort();
            Response::GetChildren(r)
        }
        Response::Multi(mut r) => {
            for result in &mut r.results {
                match result {
                    OpResult::Create2(c) => c.stat = mask_stat(c.stat),
                    OpResult::SetData(s) => s.stat = mask_stat(s.stat),
                    OpResult::GetData(d) => d.stat = mask_stat(d.stat),
                    OpResult::GetChildren(c) => c.children.sort(),
                    _ => {}
                }
            }
            Response::Multi(r)
        }
        other => other,
    }
}

fn mask_stat(stat: Stat) -> Stat {
    let some = |z: Zxid| Zxid(i64::from(z.0 != 0));
    Stat {
        czxid: some(stat.czxid),
        mzxid: some(stat.mzxid),
        pzxid: some(stat.pzxid),
        ctime: 0,
        mtime: 0,
        ephemeral_owner: proto::SessionId(i64::from(stat.ephemeral_owner.0 != 0)),
        ..stat
    }
}
