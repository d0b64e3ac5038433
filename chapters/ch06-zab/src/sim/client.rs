//! A client of the simulation: ZooKeeper's client library, reduced to what a story needs.
//!
//! The idea to take away: a client sees the ensemble through **one server at a time**. It
//! connects, sends requests in order, and gets every reply in the same order from that server,
//! which answers a write only after applying the leader's commit. If the connection ends it
//! reconnects to the next server of its list with the same session, and any request that was
//! in flight is *lost*: it may or may not have happened. The checkers read what each client
//! invoked and saw ([`HistoryEvent`]) and decide whether the ensemble kept its promises.

use std::collections::VecDeque;
use std::fmt;

use ch01_znode::{EventType, SessionId, Sid, WatchedEvent, ZkError, Zxid};
use ch03_sessions::pipeline::ServerMessage;
use ch03_sessions::proto::{self, ConnectRequest, Request, Response};
use ch04_paxos::sim::{Input, Millis, NodeId, Output};
use serde::Serialize;

use super::stream::{Arrival, Streams};
use super::{ClientFrame, ServerFrame, SimNote, SimOutput, SimTimer, Wire};

// ANCHOR: client_op
/// What a client asks, in the words of the Java client's methods.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ClientOp {
    /// Connect to the server with this id (the first, or a chosen one).
    Connect { server: Sid },
    /// `create(path, data, OPEN_ACL_UNSAFE, mode)`.
    Create {
        path: String,
        data: String,
        ephemeral: bool,
    },
    /// `setData(path, data, version)`.
    SetData {
        path: String,
        data: String,
        version: i32,
    },
    /// `getData(path, watch)`.
    GetData { path: String, watch: bool },
    /// `delete(path, version)`.
    Delete { path: String, version: i32 },
    /// `sync(path)`.
    Sync { path: String },
    /// `close()`: end the session.
    Close,
}
// ANCHOR_END: client_op

impl ClientOp {
    /// The request this op sends.
    fn request(&self) -> Option<Request> {
        let acl = proto::Acl::open_unsafe();
        Some(match self {
            ClientOp::Connect { .. } => return None,
            ClientOp::Create {
                path,
                data,
                ephemeral,
            } => Request::Create(proto::CreateRequest {
                path: path.clone(),
                data: Some(data.clone().into_bytes()),
                acl,
                flags: i32::from(*ephemeral),
            }),
            ClientOp::SetData {
                path,
                data,
                version,
            } => Request::SetData(proto::SetDataRequest {
                path: path.clone(),
                data: Some(data.clone().into_bytes()),
                version: *version,
            }),
            ClientOp::GetData { path, watch } => Request::GetData(proto::GetDataRequest {
                path: path.clone(),
                watch: *watch,
            }),
            ClientOp::Delete { path, version } => Request::Delete(proto::DeleteRequest {
                path: path.clone(),
                version: *version,
            }),
            ClientOp::Sync { path } => Request::Sync(proto::SyncRequest { path: path.clone() }),
            ClientOp::Close => Request::CloseSession,
        })
    }
}

/// How a request ended.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Answered: the reply's zxid and body.
    Ok {
        zxid: Zxid,
        #[serde(skip)]
        response: Option<Response>,
    },
    /// Answered with an error code.
    Err { zxid: Zxid, code: i32 },
    /// The connection ended first: it may or may not have happened.
    Lost,
}

// ANCHOR: history
/// What a client did and saw, with the time it happened.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HistoryEvent {
    /// A request left.
    Invoke {
        at: Millis,
        id: u64,
        session: SessionId,
        server: Sid,
        op: ClientOp,
    },
    /// Its answer came (or the connection ended).
    Complete {
        at: Millis,
        id: u64,
        outcome: Outcome,
    },
    /// A watch event arrived.
    Watch {
        at: Millis,
        session: SessionId,
        path: String,
        event: EventType,
    },
}
// ANCHOR_END: history

/// What the client does next, and when.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Script {
    steps: VecDeque<(Millis, ClientOp)>,
}

impl Script {
    /// An empty script.
    pub fn new() -> Script {
        Script::default()
    }

    /// Do `op` at `at` ms (or as soon after as the previous step is answered).
    pub fn at(mut self, at: Millis, op: ClientOp) -> Script {
        self.steps.push_back((at, op));
        self
    }
}

/// The connection in use.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Connection {
    server: Sid,
    n: u32,
    connected: bool,
}

/// A scripted ZooKeeper client.
#[derive(Clone, Debug)]
pub struct ClientNode {
    id: NodeId,
    servers: Vec<Sid>,
    script: Script,
    timeout_ms: i32,
    conn: Option<Connection>,
    conns_opened: u32,
    session: Option<(SessionId, Vec<u8>)>,
    last_zxid: Zxid,
    next_xid: i32,
    /// Requests sent and not answered: (xid, op id).
    waiting: VecDeque<(i32, u64, ClientOp)>,
    next_op: u64,
    streams: Streams<u32>,
    history: Vec<HistoryEvent>,
    now: Millis,
    closed: bool,
}

impl ClientNode {
    /// Client `k` (node `CLIENT_BASE + k`, shown as `ck`) of the ensemble `servers`.
    pub fn new(k: u64, servers: Vec<Sid>, script: Script) -> ClientNode {
        ClientNode {
            id: ch04_paxos::sim::CLIENT_BASE + k,
            servers,
            script,
            timeout_ms: 30_000,
            conn: None,
            conns_opened: 0,
            session: None,
            last_zxid: Zxid(0),
            next_xid: 1,
            waiting: VecDeque::new(),
            next_op: 0,
            streams: Streams::default(),
            history: Vec::new(),
            now: 0,
            closed: false,
        }
    }

    /// The simulator's node id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// Everything it did and saw.
    pub fn history(&self) -> &[HistoryEvent] {
        &self.history
    }

    /// The session it holds, once connected.
    pub fn session(&self) -> Option<SessionId> {
        self.session.as_ref().map(|(s, _)| *s)
    }

    /// A client that crashed comes back with nothing (it never does in these stories).
    pub fn recover(&self) -> ClientNode {
        ClientNode::new(
            self.id - ch04_paxos::sim::CLIENT_BASE,
            self.servers.clone(),
            Script::new(),
        )
    }

    /// The word on its lifeline: the server it talks to.
    pub fn status(&self) -> String {
        match &self.conn {
            Some(c) if c.connected => format!("on n{}", c.server),
            Some(c) => format!("connecting n{}", c.server),
            None => String::new(),
        }
    }

    /// The simulator's clock.
    pub fn set_clock(&mut self, now: Millis) {
        self.now = now;
    }

    /// One simulator input.
    pub fn step(&mut self, input: Input<Wire, SimTimer>) -> Vec<SimOutput> {
        match input {
            Input::Start => self.schedule_next(),
            Input::Timeout(SimTimer::ClientStep) => self.next_step(),
            Input::Timeout(SimTimer::ClientPing) => self.ping(),
            Input::Receive {
                msg: Wire::ToClient { conn, seq, frame },
                ..
            } => self.receive(conn, seq, frame),
            _ => Vec::new(),
        }
    }

    fn note(&self, text: String) -> SimOutput {
        Output::Note(SimNote::Client { text })
    }

    /// Arms the timer for the next scripted step, if its turn has come (nothing waiting).
    fn schedule_next(&mut self) -> Vec<SimOutput> {
        match self.script.steps.front() {
            Some((at, _)) if self.waiting.is_empty() => vec![Output::SetTimer {
                timer: SimTimer::ClientStep,
                after_ms: at.saturating_sub(self.now),
            }],
            _ => Vec::new(),
        }
    }

    fn next_step(&mut self) -> Vec<SimOutput> {
        let Some((_, op)) = self.script.steps.pop_front() else {
            return Vec::new();
        };
        let mut out = match op {
            ClientOp::Connect { server } => self.connect(server),
            op => self.invoke(op),
        };
        out.extend(self.schedule_next());
        out
    }

    fn send(&mut self, frame: ClientFrame) -> Vec<SimOutput> {
        let Some(c) = &self.conn else {
            return Vec::new();
        };
        let (server, n) = (c.server, c.n);
        let seq = self.streams.send(n);
        vec![Output::Send {
            to: server.0,
            msg: Wire::ToServer {
                conn: n,
                seq,
                frame,
            },
        }]
    }

    // ANCHOR: connect
    /// Opens a connection to `server`: a new session, or the one we hold.
    fn connect(&mut self, server: Sid) -> Vec<SimOutput> {
        self.conns_opened += 1;
        self.conn = Some(Connection {
            server,
            n: self.conns_opened,
            connected: false,
        });
        let (session_id, passwd) = self.session.clone().unwrap_or((SessionId(0), vec![0; 16]));
        let request = ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: self.last_zxid,
            time_out: self.timeout_ms,
            session_id,
            passwd,
            read_only: Some(false),
        };
        self.send(ClientFrame::Connect(request))
    }
    // ANCHOR_END: connect

    fn invoke(&mut self, op: ClientOp) -> Vec<SimOutput> {
        let Some(request) = op.request() else {
            return Vec::new();
        };
        let (Some(session), Some(c)) = (self.session(), self.conn.clone()) else {
            return vec![self.note(format!("cannot {op:?}: not connected"))];
        };
        let xid = self.next_xid;
        self.next_xid += 1;
        let id = self.next_op;
        self.next_op += 1;
        self.history.push(HistoryEvent::Invoke {
            at: self.now,
            id,
            session,
            server: c.server,
            op: op.clone(),
        });
        self.waiting.push_back((xid, id, op));
        self.send(ClientFrame::Request { xid, request })
    }

    fn ping(&mut self) -> Vec<SimOutput> {
        if self.closed || !self.conn.as_ref().is_some_and(|c| c.connected) {
            return Vec::new();
        }
        let mut out = self.send(ClientFrame::Request {
            xid: -2,
            request: Request::Ping,
        });
        out.push(self.ping_timer());
        out
    }

    /// Idle clients ping at a third of their timeout, as the Java client does.
    fn ping_timer(&self) -> SimOutput {
        Output::SetTimer {
            timer: SimTimer::ClientPing,
            after_ms: (self.timeout_ms / 3) as Millis,
        }
    }

    fn receive(&mut self, conn: u32, seq: u64, frame: ServerFrame) -> Vec<SimOutput> {
        let current = self.conn.as_ref().is_some_and(|c| c.n == conn);
        if !current {
            return Vec::new();
        }
        if frame == ServerFrame::Close {
            return self.lost("the server closed the connection");
        }
        match self.streams.receive(conn, seq) {
            Arrival::InOrder => {}
            Arrival::Duplicate => return Vec::new(),
            Arrival::Gap => return self.lost("the connection broke"),
        }
        let ServerFrame::Message(message) = frame else {
            return Vec::new();
        };
        match message {
            ServerMessage::Connected(c) => self.connected(c),
            ServerMessage::Reply(h, body) => self.reply(h, body),
            ServerMessage::Event(e) => self.event(e),
        }
    }

    fn connected(&mut self, c: proto::ConnectResponse) -> Vec<SimOutput> {
        if c.time_out == 0 {
            self.session = None;
            return vec![self.note("session expired".into())];
        }
        self.session = Some((c.session_id, c.passwd));
        self.timeout_ms = c.time_out;
        if let Some(conn) = &mut self.conn {
            conn.connected = true;
        }
        let mut out = vec![self.ping_timer()];
        out.extend(self.schedule_next());
        out
    }

    fn reply(&mut self, h: proto::ReplyHeader, body: Option<Response>) -> Vec<SimOutput> {
        if h.xid == -2 {
            return Vec::new();
        }
        self.last_zxid = self.last_zxid.max(h.zxid);
        let Some((xid, id, op)) = self.waiting.pop_front() else {
            return vec![self.note(format!("reply to xid {} that nobody waits for", h.xid))];
        };
        if xid != h.xid {
            return vec![self.note(format!("reply xid {} out of order (expected {xid})", h.xid))];
        }
        let outcome = match h.err {
            0 => Outcome::Ok {
                zxid: h.zxid,
                response: body,
            },
            code => Outcome::Err { zxid: h.zxid, code },
        };
        self.history.push(HistoryEvent::Complete {
            at: self.now,
            id,
            outcome,
        });
        if op == ClientOp::Close {
            self.closed = true;
            self.conn = None;
        }
        self.schedule_next()
    }

    fn event(&mut self, e: WatchedEvent) -> Vec<SimOutput> {
        if let Some(session) = self.session() {
            self.history.push(HistoryEvent::Watch {
                at: self.now,
                session,
                path: e.path.clone().unwrap_or_default(),
                event: e.event_type,
            });
        }
        Vec::new()
    }

    // ANCHOR: lost
    /// The connection ended: what was in flight is lost (it may or may not have happened),
    /// and the client moves to the next server of its list with the same session.
    fn lost(&mut self, why: &str) -> Vec<SimOutput> {
        let Some(old) = self.conn.take() else {
            return Vec::new();
        };
        self.streams.close(old.n);
        for (_, id, _) in std::mem::take(&mut self.waiting) {
            self.history.push(HistoryEvent::Complete {
                at: self.now,
                id,
                outcome: Outcome::Lost,
            });
        }
        let mut out = vec![self.note(format!("{why}: reconnects"))];
        if self.closed {
            return out;
        }
        let next = self
            .servers
            .iter()
            .position(|s| *s == old.server)
            .map_or(0, |i| (i + 1) % self.servers.len());
        let server = self.servers[next];
        out.extend(self.connect(server));
        out
    }
    // ANCHOR_END: lost
}

impl fmt::Display for ClientOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientOp::Connect { server } => write!(f, "connect n{server}"),
            ClientOp::Create { path, data, .. } => write!(f, "create {path} {data:?}"),
            ClientOp::SetData {
                path,
                data,
                version,
            } => write!(f, "set {path} {data:?} version={version}"),
            ClientOp::GetData { path, .. } => write!(f, "get {path}"),
            ClientOp::Delete { path, .. } => write!(f, "delete {path}"),
            ClientOp::Sync { path } => write!(f, "sync {path}"),
            ClientOp::Close => f.write_str("close"),
        }
    }
}

/// `NoNode` and friends, for notes.
pub fn error_name(code: i32) -> String {
    ZkError::from_code(code).map_or(code.to_string(), |e| format!("{e:?}"))
}
