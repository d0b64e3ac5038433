//! A client of the simulation: ZooKeeper's client library, reduced to what a story needs.
//!
//! The idea to take away: a client sees the ensemble through **one server at a time**. It
//! connects, sends requests in order, and gets every reply in the same order from that server,
//! which answers a write only after applying the leader's commit. If the connection ends it
//! reconnects to the next server of its list with the same session, and any request that was
//! in flight is *lost*: it may or may not have happened. The checkers read what each client
//! invoked and saw ([`HistoryEvent`]) and decide whether the ensemble kept its promises.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;

use ch01_znode::{EventType, SessionId, Sid, WatchedEvent, ZkError, Zxid};
use ch03_sessions::pipeline::ServerMessage;
use ch03_sessions::proto::{self, ConnectRequest, Request, Response};
use ch04_paxos::sim::{Input, Millis, NodeId, Output, Rng};
use serde::Serialize;

use super::stream::{Arrival, Streams};
use super::{ClientFrame, ServerFrame, SimNote, SimOutput, SimTimer, Wire};

// ANCHOR: client_op
/// What a client asks, in the words of the Java client's methods.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Hash)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ClientOp {
    /// Connect to the server with this id (the first, or a chosen one).
    Connect { server: Sid },
    /// Connect to `server` with `session`'s id and password, as another process of the same
    /// client may do: the session moves there, and whoever held it before is left with a
    /// connection the ensemble no longer routes the session through.
    Resume { server: Sid, session: SessionId },
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
            ClientOp::Connect { .. } | ClientOp::Resume { .. } => return None,
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
            ClientOp::Sync { path } => Request::Sync(proto::SyncRequest {
                path: Some(path.clone()),
            }),
            ClientOp::Close => Request::CloseSession,
        })
    }
}

/// How a request ended.
#[derive(Clone, Debug, PartialEq, Serialize, Hash)]
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
#[derive(Clone, Debug, PartialEq, Serialize, Hash)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HistoryEvent {
    /// A request left, on connection `conn` (the client's count), numbered `xid`: with the
    /// session, the `cxid` of the txn it becomes.
    Invoke {
        at: Millis,
        id: u64,
        session: SessionId,
        server: Sid,
        conn: u32,
        xid: i32,
        op: ClientOp,
    },
    /// Its answer came (or the connection ended).
    Complete {
        at: Millis,
        id: u64,
        outcome: Outcome,
    },
    /// A watch event arrived on connection `conn`.
    Watch {
        at: Millis,
        session: SessionId,
        conn: u32,
        path: String,
        event: EventType,
    },
    /// The handshake on connection `conn` succeeded: a new session, or the same one resumed.
    Connected {
        at: Millis,
        session: SessionId,
        server: Sid,
        conn: u32,
    },
    /// Connection `conn` ended (the server closed it, it broke, or it timed out).
    Disconnected { at: Millis, conn: u32, why: String },
    /// The server said the session is gone (a handshake answered with timeout 0).
    Expired { at: Millis, session: SessionId },
    /// Something a correct server never does, as the client saw it (a reply out of order).
    Anomaly { at: Millis, text: String },
}
// ANCHOR_END: history

/// What the client does next, and when.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
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

// ANCHOR: random_work
/// The keys random clients share: few, so that their writes collide.
pub const KEYS: [&str; 3] = ["/k0", "/k1", "/k2"];
/// The keys random clients create as ephemeral nodes.
pub const EPHEMERAL_KEYS: [&str; 2] = ["/e0", "/e1"];
/// At most this many requests in flight at once on a connection.
const MAX_IN_FLIGHT: usize = 3;
/// Keep-alive ticks (a third of the session timeout apart) of silence that end a connection:
/// two thirds of the timeout, the Java client's `readTimeout`.
const READ_TIMEOUT_TICKS: u32 = 2;

/// A client that makes its work up as it goes, from its own seed: random requests on a few
/// shared keys, against random servers, sometimes several in flight at once. The seed is given
/// when it is built, so a run of the simulator stays fixed by the simulator's seed.
#[derive(Clone, Debug, Hash)]
pub struct RandomWork {
    rng: Rng,
    /// When to connect first.
    start_ms: Millis,
    /// Requests still to make.
    ops_left: u32,
    /// Versions last read or written, per key: what a conditional write bets on.
    versions: BTreeMap<&'static str, i32>,
    /// Writes made so far: every value written is unique (`c<k>.<n>`).
    writes: u32,
}

impl RandomWork {
    /// `ops` requests, starting at `start_ms`, drawn from `seed`.
    pub fn new(seed: u64, start_ms: Millis, ops: u32) -> RandomWork {
        RandomWork {
            rng: Rng::new(seed),
            start_ms,
            ops_left: ops,
            versions: BTreeMap::new(),
            writes: 0,
        }
    }

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.rng.between(0, from.len() as u64 - 1) as usize]
    }

    /// The next requests (a `sync` comes with the read it is for).
    fn next_ops(&mut self, client: u64) -> Vec<ClientOp> {
        self.ops_left = self.ops_left.saturating_sub(1);
        let any_key = |w: &mut RandomWork| {
            if w.rng.chance(0.75) {
                w.pick(&KEYS)
            } else {
                w.pick(&EPHEMERAL_KEYS)
            }
        };
        let roll = self.rng.between(0, 99);
        let mut value = || {
            self.writes += 1;
            format!("c{client}.{}", self.writes)
        };
        let data = value();
        match roll {
            0..=16 => {
                let ephemeral = self.rng.chance(0.3);
                let path = match ephemeral {
                    true => self.pick(&EPHEMERAL_KEYS),
                    false => self.pick(&KEYS),
                };
                vec![ClientOp::Create {
                    path: path.into(),
                    data,
                    ephemeral,
                }]
            }
            17..=46 => {
                let path = any_key(self);
                // Half of the writes are conditional, on the version last seen (or a guess).
                let version = match self.rng.chance(0.5) {
                    true => -1,
                    false => match self.versions.get(path) {
                        Some(v) if self.rng.chance(0.8) => *v,
                        _ => self.rng.between(0, 3) as i32,
                    },
                };
                vec![ClientOp::SetData {
                    path: path.into(),
                    data,
                    version,
                }]
            }
            47..=71 => vec![ClientOp::GetData {
                path: any_key(self).into(),
                watch: self.rng.chance(0.5),
            }],
            72..=83 => {
                let path = any_key(self);
                vec![
                    ClientOp::Sync { path: path.into() },
                    ClientOp::GetData {
                        path: path.into(),
                        watch: false,
                    },
                ]
            }
            84..=95 => {
                let path = any_key(self);
                let version = match self.versions.get(path) {
                    Some(v) if self.rng.chance(0.5) => *v,
                    _ => -1,
                };
                vec![ClientOp::Delete {
                    path: path.into(),
                    version,
                }]
            }
            _ => vec![ClientOp::Close],
        }
    }

    /// What an answer says about a key's version.
    fn saw(&mut self, op: &ClientOp, response: Option<&Response>) {
        let path = match op {
            ClientOp::GetData { path, .. } | ClientOp::SetData { path, .. } => path,
            _ => return,
        };
        let Some(key) = KEYS.iter().chain(&EPHEMERAL_KEYS).find(|k| *k == path) else {
            return;
        };
        let version = match response {
            Some(Response::GetData(r)) => r.stat.version,
            Some(Response::SetData(r)) => r.stat.version,
            _ => return,
        };
        self.versions.insert(key, version);
    }
}
// ANCHOR_END: random_work

/// The connection in use.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Connection {
    server: Sid,
    n: u32,
    connected: bool,
}

/// A ZooKeeper client: scripted, or making up random work.
#[derive(Clone, Debug, Hash)]
pub struct ClientNode {
    id: NodeId,
    servers: Vec<Sid>,
    script: Script,
    random: Option<RandomWork>,
    timeout_ms: i32,
    conn: Option<Connection>,
    conns_opened: u32,
    session: Option<(SessionId, Vec<u8>)>,
    last_zxid: Zxid,
    next_xid: i32,
    /// Requests sent and not answered: (xid, op id, op).
    waiting: VecDeque<(i32, u64, ClientOp)>,
    next_op: u64,
    streams: Streams<u32>,
    history: Vec<HistoryEvent>,
    now: Millis,
    /// Keep-alive ticks since the server last said anything on this connection.
    silent_ticks: u32,
    closed: bool,
}

impl ClientNode {
    /// Client `k` (node `CLIENT_BASE + k`, shown as `ck`) of the ensemble `servers`.
    pub fn new(k: u64, servers: Vec<Sid>, script: Script) -> ClientNode {
        ClientNode {
            id: ch04_paxos::sim::CLIENT_BASE + k,
            servers,
            script,
            random: None,
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
            silent_ticks: 0,
            closed: false,
        }
    }

    /// Client `k` doing `work`, asking for sessions of `timeout_ms`.
    pub fn random(k: u64, servers: Vec<Sid>, work: RandomWork, timeout_ms: i32) -> ClientNode {
        ClientNode {
            random: Some(work),
            timeout_ms,
            ..ClientNode::new(k, servers, Script::new())
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

    /// Whether a frame on connection `conn` would still reach it: only its current
    /// connection's do. It never goes back to a connection it left (a reconnect opens a new
    /// number), so a frame on any other is ignored whenever it arrives.
    pub fn listens_on(&self, conn: u32) -> bool {
        self.conn.as_ref().is_some_and(|c| c.n == conn)
    }

    /// The server and number of the connection it uses (or is opening), if any.
    pub fn connection(&self) -> Option<(Sid, u32)> {
        self.conn.as_ref().map(|c| (c.server, c.n))
    }

    /// How many connections it has opened (a reconnect opens a new one).
    pub fn connections_opened(&self) -> u32 {
        self.conns_opened
    }

    /// Whether it has nothing left to do and nothing in flight.
    pub fn is_done(&self) -> bool {
        let work_left = match &self.random {
            Some(w) => w.ops_left > 0,
            None => !self.script.steps.is_empty(),
        };
        !work_left && self.waiting.is_empty()
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
            Input::Start => match &self.random {
                Some(w) => vec![step_timer(w.start_ms)],
                None => self.schedule_next(),
            },
            Input::Timeout(SimTimer::ClientStep) if self.random.is_some() => self.random_step(),
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
        if let Some(w) = &mut self.random {
            // Think a little before the next request.
            return match self.waiting.is_empty() && w.ops_left > 0 {
                true => vec![step_timer(w.rng.between(0, 100))],
                false => Vec::new(),
            };
        }
        match self.script.steps.front() {
            Some((at, _)) if self.waiting.is_empty() => {
                vec![step_timer(at.saturating_sub(self.now))]
            }
            _ => Vec::new(),
        }
    }

    fn next_step(&mut self) -> Vec<SimOutput> {
        let Some((_, op)) = self.script.steps.pop_front() else {
            return Vec::new();
        };
        let mut out = match op {
            ClientOp::Connect { server } => self.connect(server),
            ClientOp::Resume { server, session } => {
                let passwd = ch03_sessions::session::session_password(session).to_vec();
                self.session = Some((session, passwd));
                self.connect(server)
            }
            op => self.invoke(op),
        };
        out.extend(self.schedule_next());
        out
    }

    // ANCHOR: random_step
    /// A random client's turn: connect if it has no connection, else make its next requests,
    /// and sometimes go on without waiting for their answers (they are pipelined).
    fn random_step(&mut self) -> Vec<SimOutput> {
        let Some(w) = &mut self.random else {
            return Vec::new();
        };
        let Some(conn) = &self.conn else {
            let server = w.pick(&self.servers);
            return self.connect(server);
        };
        if !conn.connected || w.ops_left == 0 || self.session.is_none() {
            return Vec::new();
        }
        let ops = w.next_ops(self.id - ch04_paxos::sim::CLIENT_BASE);
        let closing = ops.contains(&ClientOp::Close);
        let mut out = Vec::new();
        for op in ops {
            out.extend(self.invoke(op));
        }
        let w = self.random.as_mut().expect("checked");
        if !closing && self.waiting.len() < MAX_IN_FLIGHT && w.rng.chance(0.3) {
            out.push(step_timer(w.rng.between(0, 5)));
        }
        out
    }
    // ANCHOR_END: random_step

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
    /// Opens a connection to `server`: a new session, or the one we hold. If the handshake is
    /// not answered within the session timeout shared out over the servers, the client gives
    /// up on that server (the Java client's `connectTimeout`).
    fn connect(&mut self, server: Sid) -> Vec<SimOutput> {
        self.conns_opened += 1;
        self.closed = false;
        self.silent_ticks = 0;
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
        let mut out = self.send(ClientFrame::Connect(request));
        out.push(Output::SetTimer {
            timer: SimTimer::ClientPing,
            after_ms: (self.timeout_ms as Millis / self.servers.len().max(1) as Millis).max(1),
        });
        out
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
            conn: c.n,
            xid,
            op: op.clone(),
        });
        self.waiting.push_back((xid, id, op));
        self.send(ClientFrame::Request { xid, request })
    }

    // ANCHOR: ping
    /// The keep-alive timer. A handshake still unanswered has timed out; a connection on
    /// which the server has said nothing for two thirds of the session timeout is given up
    /// (the Java client's `readTimeout`); otherwise a PING keeps the session alive.
    ///
    /// The silence is counted in ticks, a third of the timeout apart, not read from the clock:
    /// nothing heard since the tick before last is two thirds of the timeout. So the rule
    /// holds under the model checker too, whose clock never moves, where a tick is any moment
    /// it picks while the server cannot answer.
    fn ping(&mut self) -> Vec<SimOutput> {
        let Some(conn) = &self.conn else {
            return Vec::new();
        };
        if !conn.connected {
            return self.lost("no answer to the handshake");
        }
        if self.closed {
            return Vec::new();
        }
        if self.silent_ticks >= READ_TIMEOUT_TICKS {
            return self.lost("the server went silent");
        }
        self.silent_ticks += 1;
        let mut out = self.send(ClientFrame::Request {
            xid: -2,
            request: Request::Ping,
        });
        out.push(self.ping_timer());
        out
    }
    // ANCHOR_END: ping

    /// Idle clients ping at a third of their timeout, as the Java client does: two ticks are its
    /// read timeout.
    fn ping_timer(&self) -> SimOutput {
        Output::SetTimer {
            timer: SimTimer::ClientPing,
            after_ms: (self.timeout_ms / 3) as Millis,
        }
    }

    fn receive(&mut self, conn: u32, seq: u64, frame: ServerFrame) -> Vec<SimOutput> {
        if !self.listens_on(conn) {
            return Vec::new();
        }
        if frame == ServerFrame::Close {
            return self.lost("the server closed the connection");
        }
        match self.streams.receive(conn, seq) {
            Arrival::InOrder => {}
            Arrival::Duplicate | Arrival::Closed => return Vec::new(),
            Arrival::Gap => return self.lost("the connection broke"),
        }
        self.silent_ticks = 0;
        let ServerFrame::Message(message) = frame else {
            return Vec::new();
        };
        match message {
            ServerMessage::Connected(c) => self.connected(c),
            ServerMessage::Reply(h, body) => self.reply(h, body),
            ServerMessage::Event(e) => self.event(conn, e),
        }
    }

    fn connected(&mut self, c: proto::ConnectResponse) -> Vec<SimOutput> {
        if c.time_out == 0 {
            let mut out = vec![self.note("session expired".into())];
            if let Some(session) = self.session() {
                self.history.push(HistoryEvent::Expired {
                    at: self.now,
                    session,
                });
            }
            self.session = None;
            // A random client starts over with a new session; the server closes this one.
            if self.random.is_some() {
                out.extend(self.lost("the session expired"));
            }
            return out;
        }
        self.session = Some((c.session_id, c.passwd));
        self.timeout_ms = c.time_out;
        let Some(conn) = &mut self.conn else {
            return Vec::new();
        };
        conn.connected = true;
        // The answer starts the ticks (the next is a third of the timeout away): heard at the
        // first beat, as a frame read the moment a tick fires. So with nothing heard after it
        // the client gives up two thirds of the timeout later, not a whole timeout.
        self.silent_ticks = 1;
        self.history.push(HistoryEvent::Connected {
            at: self.now,
            session: c.session_id,
            server: conn.server,
            conn: conn.n,
        });
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
            let text = format!("reply to xid {} that nobody waits for", h.xid);
            return self.anomaly(text);
        };
        if xid != h.xid {
            let text = format!("reply xid {} out of order (expected {xid})", h.xid);
            return self.anomaly(text);
        }
        if let Some(w) = &mut self.random {
            w.saw(&op, body.as_ref().filter(|_| h.err == 0));
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
            self.session = None;
        }
        self.schedule_next()
    }

    fn anomaly(&mut self, text: String) -> Vec<SimOutput> {
        self.history.push(HistoryEvent::Anomaly {
            at: self.now,
            text: text.clone(),
        });
        vec![self.note(text)]
    }

    fn event(&mut self, conn: u32, e: WatchedEvent) -> Vec<SimOutput> {
        if let Some(session) = self.session() {
            self.history.push(HistoryEvent::Watch {
                at: self.now,
                session,
                conn,
                path: e.path.clone().unwrap_or_default(),
                event: e.event_type,
            });
        }
        Vec::new()
    }

    // ANCHOR: lost
    /// The connection ended: what was in flight is lost (it may or may not have happened),
    /// and the client moves to another server with the same session: a scripted client to
    /// the next of its list at once, a random one to a random server after a pause.
    fn lost(&mut self, why: &str) -> Vec<SimOutput> {
        let Some(old) = self.conn.take() else {
            return Vec::new();
        };
        self.streams.close(old.n);
        self.history.push(HistoryEvent::Disconnected {
            at: self.now,
            conn: old.n,
            why: why.to_string(),
        });
        let mut closing = false;
        for (_, id, op) in std::mem::take(&mut self.waiting) {
            closing |= op == ClientOp::Close;
            self.history.push(HistoryEvent::Complete {
                at: self.now,
                id,
                outcome: Outcome::Lost,
            });
        }
        if closing {
            // `close()` ends the handle's session whether or not its answer comes (the Java
            // client is CLOSED at once): resuming it elsewhere would let the close, still on
            // its way to the leader, land after requests sent later.
            self.session = None;
            self.closed = self.random.is_none();
        }
        let mut out = vec![self.note(format!("{why}: reconnects"))];
        if let Some(w) = &mut self.random {
            out.push(step_timer(w.rng.between(0, 300)));
            return out;
        }
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

/// The client's next turn, `after_ms` from now.
fn step_timer(after_ms: Millis) -> SimOutput {
    Output::SetTimer {
        timer: SimTimer::ClientStep,
        after_ms,
    }
}

impl fmt::Display for ClientOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientOp::Connect { server } => write!(f, "connect n{server}"),
            ClientOp::Resume { server, session } => write!(f, "resume {session} on n{server}"),
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
