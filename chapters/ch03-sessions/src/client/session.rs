//! [`ClientSession`]: the client's side of the protocol, with no sockets.
//!
//! What a client must remember is small: the next xid, the opcode (and a
//! waiter) of each request still unanswered, in the order they were sent,
//! and the highest zxid it has seen. Replies come back in request order
//! (one TCP stream, one server thread per session), so matching a reply is
//! popping the front of a queue and checking its xid; a mismatch means the
//! stream can no longer be trusted ("Xid out of order" in `ClientCnxn`).
//!
//! The waiter `W` is whatever the driver needs to wake the caller (a
//! oneshot sender in [`super::connection`], a plain tag in tests).

use std::collections::VecDeque;

use ch01_znode::{SessionId, Zxid};

use crate::jute::{DecodeError, Record};
use crate::proto::request::AUTH_XID;
use crate::proto::{
    decode_response, decode_server_frame, encode_request, AuthPacket, ConnectRequest,
    ConnectResponse, OpCode, Request, Response, ServerFrame, WatchedEvent,
};

/// `ClientCnxn`'s xid for pings.
pub const PING_XID: i32 = crate::proto::request::PING_XID;

/// What one server frame meant to the client.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming<W> {
    /// The answer to a request: its waiter, the server's zxid, and the
    /// body, or the error code when `err != 0`.
    Reply {
        waiter: W,
        zxid: Zxid,
        result: Result<Response, i32>,
    },
    /// A watch fired.
    Event(WatchedEvent),
    /// A ping came back.
    Pong,
    /// The answer to the oldest auth packet: 0, or -115 AuthFailed.
    Auth { waiter: Option<W>, err: i32 },
}

/// The ways the server's byte stream can stop making sense.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProtocolError {
    /// A reply whose xid is not the oldest unanswered request's.
    XidOutOfOrder { expected: Option<i32>, got: i32 },
    /// A frame that does not decode.
    Decode(DecodeError),
    /// A reply body of another shape than the request calls for.
    UnexpectedResponse { op: OpCode },
}

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProtocolError::XidOutOfOrder { expected, got } => {
                write!(f, "Xid out of order. Got Xid {got} expected {expected:?}")
            }
            ProtocolError::Decode(e) => write!(f, "undecodable frame: {e}"),
            ProtocolError::UnexpectedResponse { op } => {
                write!(f, "a reply body that does not answer {op}")
            }
        }
    }
}

/// The client half of one session's conversation.
#[derive(Debug)]
pub struct ClientSession<W> {
    next_xid: i32,
    pending: VecDeque<(i32, OpCode, W)>,
    /// Auth packets all use xid -4, outside the ordered queue.
    pending_auth: VecDeque<W>,
    /// Once the connection is gone nothing more is accepted, so no caller
    /// can slip a request in after the waiters were failed.
    lost: bool,
    last_zxid: Zxid,
    session_id: SessionId,
    /// The password the server gave the session, presented again on every reconnect.
    passwd: Vec<u8>,
}

impl<W> Default for ClientSession<W> {
    fn default() -> Self {
        ClientSession {
            next_xid: 1,
            pending: VecDeque::new(),
            pending_auth: VecDeque::new(),
            lost: false,
            last_zxid: Zxid(0),
            session_id: SessionId(0),
            passwd: vec![0; 16],
        }
    }
}

impl<W> ClientSession<W> {
    /// A fresh client: xids start at 1, nothing seen yet.
    pub fn new() -> Self {
        ClientSession::default()
    }

    /// The handshake frame asking for `timeout_ms`: for a new session, or (once the server
    /// gave one) to resume this session on a new connection, with its password and the last
    /// zxid seen, so no server that is behind it accepts it.
    pub fn connect_request(&self, timeout_ms: i32) -> Vec<u8> {
        ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: self.last_zxid,
            time_out: timeout_ms,
            session_id: self.session_id,
            passwd: self.passwd.clone(),
            read_only: Some(false),
        }
        .to_bytes()
    }

    /// Reads the server's handshake answer. A timeout of 0 means the
    /// session is gone (expired or unknown).
    pub fn accept_connect_response(
        &mut self,
        payload: &[u8],
    ) -> Result<ConnectResponse, ProtocolError> {
        let rsp = ConnectResponse::from_bytes(payload).map_err(ProtocolError::Decode)?;
        if rsp.time_out > 0 {
            self.session_id = rsp.session_id;
            self.passwd = rsp.passwd.clone();
        }
        Ok(rsp)
    }

    /// The session the server gave (0 before the first handshake).
    pub fn session_id(&self) -> SessionId {
        self.session_id
    }

    /// A new connection carries the session on: requests are accepted again (xids go on
    /// from where they were).
    pub fn resume(&mut self) {
        self.lost = false;
    }

    /// Takes the next xid: 1, 2, ... wrapping back to 1 after `i32::MAX`
    /// (negative xids are reserved for pings, auth, notifications).
    fn take_xid(&mut self) -> i32 {
        let xid = self.next_xid;
        self.next_xid = if xid == i32::MAX { 1 } else { xid + 1 };
        xid
    }

    /// Assigns the next xid to `request`, remembers it with `waiter`, and
    /// returns the frame payload to send; after [`ClientSession::lose`] it
    /// hands the waiter back instead.
    pub fn send(&mut self, request: &Request, waiter: W) -> Result<Vec<u8>, W> {
        if self.lost {
            return Err(waiter);
        }
        let xid = self.take_xid();
        self.pending.push_back((xid, request.op_code(), waiter));
        Ok(encode_request(xid, request))
    }

    /// An auth packet (xid -4); its answer comes back as [`Incoming::Auth`].
    pub fn send_auth(&mut self, packet: AuthPacket, waiter: W) -> Result<Vec<u8>, W> {
        if self.lost {
            return Err(waiter);
        }
        self.pending_auth.push_back(waiter);
        Ok(encode_request(AUTH_XID, &Request::Auth(packet)))
    }

    /// The ping frame (xid -2, opcode 11, no body).
    pub fn ping() -> Vec<u8> {
        encode_request(PING_XID, &Request::Ping)
    }

    /// How many requests await their reply.
    pub fn outstanding(&self) -> usize {
        self.pending.len()
    }

    /// The highest zxid any reply carried.
    pub fn last_zxid(&self) -> Zxid {
        self.last_zxid
    }

    /// The connection is gone: refuses further requests and gives back
    /// every waiter still pending, to be failed with ConnectionLoss.
    pub fn lose(&mut self) -> Vec<W> {
        self.lost = true;
        let requests = self.pending.drain(..).map(|(_, _, w)| w);
        requests.chain(self.pending_auth.drain(..)).collect()
    }

    // ANCHOR: receive
    /// Makes sense of one server frame.
    pub fn receive(&mut self, payload: &[u8]) -> Result<Incoming<W>, ProtocolError> {
        let (frame, mut body) = decode_server_frame(payload).map_err(ProtocolError::Decode)?;
        let header = match frame {
            ServerFrame::Notification(event) => return Ok(Incoming::Event(event)),
            ServerFrame::Ping(_) => return Ok(Incoming::Pong),
            ServerFrame::Auth(h) => {
                let waiter = self.pending_auth.pop_front();
                return Ok(Incoming::Auth { waiter, err: h.err });
            }
            ServerFrame::Reply(h) => h,
        };
        // Replies come in request order: the answer must be the oldest
        // outstanding request's (ClientCnxn.readResponse).
        let expected = self.pending.front().map(|(xid, _, _)| *xid);
        if expected != Some(header.xid) {
            return Err(ProtocolError::XidOutOfOrder {
                expected,
                got: header.xid,
            });
        }
        let (_, op, waiter) = self.pending.pop_front().expect("front checked above");
        if header.zxid > self.last_zxid {
            self.last_zxid = header.zxid;
        }
        let result = match decode_response(op, &header, &mut body) {
            Ok(Some(rsp)) => Ok(rsp),
            Ok(None) => Err(header.err),
            Err(e) => return Err(ProtocolError::Decode(e)),
        };
        Ok(Incoming::Reply {
            waiter,
            zxid: header.zxid,
            result,
        })
    }
    // ANCHOR_END: receive
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{
        decode_request, encode_notification, encode_reply, EventType, ExistsRequest, ReplyHeader,
        SyncRequest, SyncResponse,
    };

    fn reply(xid: i32, zxid: i64, err: i32, body: Option<&Response>) -> Vec<u8> {
        encode_reply(
            &ReplyHeader {
                xid,
                zxid: Zxid(zxid),
                err,
            },
            body,
        )
    }

    /// xids start at 1 and go up by one (ClientCnxn.getXid).
    #[test]
    fn requests_get_xids_1_2_3_in_order() {
        let mut s = ClientSession::new();
        let sync = Request::Sync(SyncRequest {
            path: Some("/".into()),
        });
        let xids: Vec<i32> = (0..3)
            .map(|i| decode_request(&s.send(&sync, i).unwrap()).unwrap().0.xid)
            .collect();
        assert_eq!(xids, [1, 2, 3]);
        assert_eq!(s.outstanding(), 3);
    }

    #[test]
    fn the_xid_wraps_from_i32_max_back_to_1() {
        let mut s = ClientSession::<()>::new();
        s.next_xid = i32::MAX;
        assert_eq!(s.take_xid(), i32::MAX);
        assert_eq!(s.take_xid(), 1);
    }

    /// A reply is matched to the oldest request and decoded by its opcode;
    /// the zxid it carries becomes lastZxidSeen.
    #[test]
    fn a_reply_is_decoded_by_the_opcode_of_the_oldest_request() {
        let mut s = ClientSession::new();
        s.send(
            &Request::Sync(SyncRequest {
                path: Some("/a".into()),
            }),
            "sync",
        )
        .unwrap();
        let body = Response::Sync(SyncResponse {
            path: Some("/a".into()),
        });
        let got = s.receive(&reply(1, 7, 0, Some(&body))).unwrap();
        assert_eq!(
            got,
            Incoming::Reply {
                waiter: "sync",
                zxid: Zxid(7),
                result: Ok(body)
            }
        );
        assert_eq!(s.last_zxid(), Zxid(7));
    }

    #[test]
    fn an_error_reply_gives_the_code() {
        let mut s = ClientSession::new();
        let exists = Request::Exists(ExistsRequest {
            path: "/nope".into(),
            watch: false,
        });
        s.send(&exists, ()).unwrap();
        let got = s.receive(&reply(1, 3, -101, None)).unwrap();
        assert!(matches!(
            got,
            Incoming::Reply {
                result: Err(-101),
                ..
            }
        ));
    }

    /// ClientCnxn.readResponse: a reply for any xid but the oldest
    /// outstanding one is "Xid out of order" and ends the connection.
    #[test]
    fn a_reply_out_of_order_is_a_protocol_error() {
        let mut s = ClientSession::new();
        let sync = Request::Sync(SyncRequest {
            path: Some("/".into()),
        });
        s.send(&sync, 1).unwrap();
        s.send(&sync, 2).unwrap();
        assert_eq!(
            s.receive(&reply(2, 1, 0, None)),
            Err(ProtocolError::XidOutOfOrder {
                expected: Some(1),
                got: 2
            })
        );
    }

    /// Once the connection is lost, every waiter comes back (to be failed)
    /// and a later request is refused at once rather than left waiting
    /// for a reply that cannot come.
    #[test]
    fn after_the_connection_is_lost_requests_are_handed_back() {
        let mut s = ClientSession::new();
        let sync = Request::Sync(SyncRequest {
            path: Some("/".into()),
        });
        s.send(&sync, "a").unwrap();
        let auth = AuthPacket {
            r#type: 0,
            scheme: Some("digest".into()),
            auth: Some(b"u:p".to_vec()),
        };
        s.send_auth(auth.clone(), "auth").unwrap();
        assert_eq!(s.lose(), vec!["a", "auth"]);
        assert_eq!(s.send(&sync, "late"), Err("late"));
        assert_eq!(s.send_auth(auth, "late auth"), Err("late auth"));
        assert_eq!(s.outstanding(), 0);
    }

    /// A session the server gave is resumed with its id, its password and the
    /// last zxid seen (ClientCnxn.primeConnection), and takes requests again
    /// once resumed, with xids going on.
    #[test]
    fn a_lost_session_reconnects_with_its_id_password_and_last_zxid() {
        let mut s = ClientSession::new();
        let given = ConnectResponse {
            protocol_version: 0,
            time_out: 4000,
            session_id: SessionId(0x42),
            passwd: vec![7; 16],
            read_only: Some(false),
        };
        s.accept_connect_response(&given.to_bytes()).unwrap();
        let sync = Request::Sync(SyncRequest {
            path: Some("/".into()),
        });
        s.send(&sync, "a").unwrap();
        let body = Response::Sync(SyncResponse {
            path: Some("/".into()),
        });
        s.receive(&reply(1, 9, 0, Some(&body))).unwrap();
        assert_eq!(s.lose(), Vec::<&str>::new());
        let hello = ConnectRequest::from_bytes(&s.connect_request(4000)).unwrap();
        assert_eq!(
            (hello.session_id, hello.passwd, hello.last_zxid_seen),
            (SessionId(0x42), vec![7; 16], Zxid(9))
        );
        s.resume();
        let frame = s.send(&sync, "b").unwrap();
        assert_eq!(decode_request(&frame).unwrap().0.xid, 2);
    }

    #[test]
    fn notifications_and_pongs_need_no_pending_request() {
        let mut s = ClientSession::<()>::new();
        let ev = WatchedEvent::node(EventType::NodeDeleted, "/a");
        assert_eq!(
            s.receive(&encode_notification(&ev)).unwrap(),
            Incoming::Event(ev)
        );
        assert_eq!(s.receive(&reply(-2, 5, 0, None)).unwrap(), Incoming::Pong);
        assert_eq!(
            s.receive(&reply(-4, 0, -115, None)).unwrap(),
            Incoming::Auth {
                waiter: None,
                err: -115
            }
        );
    }
}
