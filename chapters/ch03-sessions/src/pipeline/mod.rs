//! The request pipeline: prepare → sync → final, as a pure state machine.
//!
//! The idea to take away: a ZooKeeper server is a **pipeline of request processors**, and the
//! seams between them are where the later chapters plug in. Upstream a standalone server chains
//! `PrepRequestProcessor → SyncRequestProcessor → FinalRequestProcessor`; a leader chains
//! `Prep → Proposal → Sync → Commit → ToBeApplied → Final`. Same ends, more in the middle.
//!
//! ```text
//!  Input::Request ──► prepare ──(Txn)──► sync stage ──(commit)──► final ──► Output::Send
//!                    (judge,              standalone: commit        (apply to tree,
//!                     ACLs, zxid)         at once                    fire watches, reply
//!                                         ch06: propose, wait for    in the session's
//!                                         a majority of ACKs         order)
//!                                         ch07: append to the txn log
//! ```
//!
//! - [`prepare`] (`PrepRequestProcessor`) turns a write into a [`Txn`] with its zxid and time;
//!   session create and close are txns too, so they are ordered with everything else.
//! - The **sync stage** is `Pipeline::submit`. Standalone, it calls [`Pipeline::commit`]
//!   immediately. Chapter 6 replaces that call with "send PROPOSAL, count ACKs, call
//!   `commit` on COMMIT"; chapter 7 appends the txn to the log (and fsyncs) before the commit.
//!   Neither needs to touch prepare or final: the txn is the whole interface. One thing does
//!   grow then: once a txn can wait for a quorum, the next request is prepared before the
//!   previous one is applied, so prepare must judge against the tree *plus* the changes still
//!   in flight (upstream `PrepRequestProcessor.outstandingChanges`); standalone, every txn is
//!   applied before the next is prepared, so the tree alone is right.
//! - [`finish`] (`FinalRequestProcessor`) applies the txn (chapter 1), fires the watches it
//!   triggers (chapter 2), and answers. Each session has a FIFO of requests waiting for their
//!   turn (upstream `CommitProcessor.pendingRequests`): a read queued behind a write of the
//!   same session is answered only after that write is applied, so replies leave in request
//!   order and a client always reads its own writes.
//!
//! Nothing here does IO or reads a clock: the driver passes `now_ms` to [`Pipeline::step`] and
//! carries out the [`Output`]s (send a frame, close a connection). The tokio server and the
//! deterministic tests drive the same code.
//!
//! # Layout
//! - [`prepare`]: request → txn, with ACL checks (`PrepRequestProcessor`).
//! - [`finish`]: txn result → reply, and every read (`FinalRequestProcessor`).
//! - [`watches`]: chapter 2's watch registry in the pipeline's types.
//! - [`convert`]: the one record that still needs converting (a fired watch → `WatcherEvent`).
//! - this file: [`Pipeline`], its [`Input`]/[`Output`], connections, sessions and the
//!   per-session FIFO of waiting requests.

pub mod convert;
pub mod finish;
pub mod prepare;
pub mod watches;

use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;

use ch01_znode::{
    DataTree, Id, Request, SessionId, Sid, Txn, TxnHeader, TxnOp, WatchTrigger, ZkError, Zxid,
};

use crate::acl;
use crate::proto::{self, ConnectRequest, ConnectResponse, ReplyHeader, Response, WatcherEvent};
use crate::session::{session_password, SessionTracker};
use finish::{write_reply, ReadContext, Shape};
use prepare::{prepare, write_request};
use watches::{Notification, Watches};

/// A connection, numbered by the driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId(pub u64);

impl std::fmt::Display for ConnId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "c{}", self.0)
    }
}

/// What happens to the server.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// A new connection's first frame.
    Connect {
        /// The connection.
        conn: ConnId,
        /// The client's address: its `ip` identity for ACLs.
        addr: IpAddr,
        /// The handshake record.
        request: ConnectRequest,
    },
    /// A request frame after the handshake.
    Request {
        /// The connection.
        conn: ConnId,
        /// The client's xid, echoed in the reply.
        xid: i32,
        /// The decoded request.
        request: proto::Request,
    },
    /// A request whose header was readable but whose body was not: answered with `err`
    /// (Unimplemented or MarshallingError) in its turn.
    Undecodable {
        /// The connection.
        conn: ConnId,
        /// The client's xid.
        xid: i32,
        /// The error to answer with.
        err: ZkError,
    },
    /// The connection is gone (closed by the client, the network or the driver).
    Disconnected {
        /// The connection.
        conn: ConnId,
    },
    /// Time passed: expire the sessions whose bucket is due.
    Tick,
}

/// What the server does.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    /// Write a frame to a connection.
    Send {
        /// The connection.
        conn: ConnId,
        /// The frame.
        message: ServerMessage,
    },
    /// Close a connection (after anything sent before this output).
    Close {
        /// The connection.
        conn: ConnId,
    },
    /// A txn was applied to the tree (for traces; chapter 7 logs it before this point).
    Applied(Txn),
}

/// A frame from server to client.
#[derive(Clone, Debug, PartialEq)]
pub enum ServerMessage {
    /// The handshake answer.
    Connected(ConnectResponse),
    /// An answer to a request: the header, and a body when `err == 0`.
    Reply(ReplyHeader, Option<Response>),
    /// A watch fired.
    Event(WatcherEvent),
}

impl ServerMessage {
    /// The frame's payload (without the 4-byte length).
    pub fn encode(&self) -> Vec<u8> {
        match self {
            ServerMessage::Connected(c) => {
                let mut w = crate::jute::Writer::new();
                crate::jute::Record::encode(c, &mut w);
                w.into_bytes()
            }
            ServerMessage::Reply(h, body) => proto::encode_reply(h, body.as_ref()),
            ServerMessage::Event(e) => proto::encode_notification(e),
        }
    }
}

/// Session timeout bounds, ms (`minSessionTimeout`, `maxSessionTimeout`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Lower bound.
    pub min_session_timeout_ms: i32,
    /// Upper bound.
    pub max_session_timeout_ms: i32,
}

impl Limits {
    /// Upstream's defaults for a tick: 2 and 20 ticks.
    pub fn for_tick(tick_time_ms: u32) -> Limits {
        Limits {
            min_session_timeout_ms: 2 * tick_time_ms as i32,
            max_session_timeout_ms: 20 * tick_time_ms as i32,
        }
    }
}

/// What the server knows about one connection.
#[derive(Clone, Debug)]
struct Conn {
    session: Option<SessionId>,
    /// The identities proved on this connection: `ip:<addr>`, then any `addauth`.
    ids: Vec<Id>,
    /// Whether the client sent the trailing readOnly byte (the answer mirrors it).
    read_only: Option<bool>,
}

/// A request waiting for its turn in its session's FIFO.
#[derive(Clone, Debug)]
enum Waiting {
    /// A new session's handshake, answered when its createSession txn is applied.
    Connect { conn: ConnId },
    /// A write, answered when its txn (this zxid) is applied.
    Write {
        conn: ConnId,
        xid: i32,
        shape: Shape,
        zxid: Zxid,
    },
    /// A read (or a request that can only fail), answered in its turn.
    Read {
        conn: ConnId,
        xid: i32,
        answer: Answer,
    },
}

#[derive(Clone, Debug)]
enum Answer {
    Read(proto::Request),
    Fail(ZkError),
}

/// A standalone ZooKeeper server's brain: tree, watches, sessions, and the pipeline between.
#[derive(Debug)]
pub struct Pipeline {
    tree: DataTree,
    watches: Watches,
    sessions: SessionTracker,
    limits: Limits,
    conns: BTreeMap<ConnId, Conn>,
    /// Each live session's current connection.
    owners: BTreeMap<SessionId, ConnId>,
    /// Requests waiting for their turn, per session.
    waiting: BTreeMap<SessionId, VecDeque<Waiting>>,
    /// The last zxid prepare handed out.
    last_zxid: Zxid,
}

impl Pipeline {
    /// A server with a fresh tree, started at `now_ms` (which seeds session ids).
    pub fn new(tick_time_ms: u32, limits: Limits, server_id: Sid, now_ms: u64) -> Pipeline {
        Pipeline {
            tree: DataTree::new(),
            watches: Watches::default(),
            sessions: SessionTracker::new(tick_time_ms, server_id, now_ms),
            limits,
            conns: BTreeMap::new(),
            owners: BTreeMap::new(),
            waiting: BTreeMap::new(),
            last_zxid: Zxid(0),
        }
    }

    /// Session ids from now on start from this clock value instead of the start time (for
    /// replayable traces).
    pub fn seed_session_ids(&mut self, server_id: Sid, clock_ms: u64) {
        self.sessions.seed_ids(server_id, clock_ms);
    }

    /// The tree (for 4lw counts and tests).
    pub fn tree(&self) -> &DataTree {
        &self.tree
    }

    /// The watch registry.
    pub fn watches(&self) -> &Watches {
        &self.watches
    }

    /// The session tracker.
    pub fn sessions(&self) -> &SessionTracker {
        &self.sessions
    }

    /// The session a connection holds, if any.
    pub fn session_of(&self, conn: ConnId) -> Option<SessionId> {
        self.conns.get(&conn).and_then(|c| c.session)
    }

    /// Requests accepted and not answered yet (`Outstanding:` in `srvr`).
    pub fn outstanding(&self) -> usize {
        self.waiting.values().map(VecDeque::len).sum()
    }

    // ANCHOR: step
    /// Feeds one input; returns what to do, in order.
    pub fn step(&mut self, now_ms: u64, input: Input) -> Vec<Output> {
        match input {
            Input::Connect {
                conn,
                addr,
                request,
            } => self.connect(now_ms, conn, addr, request),
            Input::Request { conn, xid, request } => self.request(now_ms, conn, xid, request),
            Input::Undecodable { conn, xid, err } => {
                self.answer_in_turn(now_ms, conn, xid, Answer::Fail(err))
            }
            Input::Disconnected { conn } => {
                self.disconnected(conn);
                Vec::new()
            }
            Input::Tick => self.expire(now_ms),
        }
    }
    // ANCHOR_END: step

    // ANCHOR: connect
    /// `ZooKeeperServer.processConnectRequest`: a new session is a txn; a resumed one needs
    /// its password and must still be alive.
    fn connect(
        &mut self,
        now_ms: u64,
        conn: ConnId,
        addr: IpAddr,
        request: ConnectRequest,
    ) -> Vec<Output> {
        // A client that has seen a later zxid than ours would travel back in time: refuse.
        if request.last_zxid_seen > self.tree.last_processed_zxid() {
            return vec![Output::Close { conn }];
        }
        let timeout_ms = request.time_out.clamp(
            self.limits.min_session_timeout_ms,
            self.limits.max_session_timeout_ms,
        );
        self.conns.insert(
            conn,
            Conn {
                session: None,
                ids: vec![Id {
                    scheme: "ip".into(),
                    id: addr.to_string(),
                }],
                read_only: request.read_only,
            },
        );
        match request.session_id {
            SessionId(0) => {
                let session = self.sessions.create_session(timeout_ms, now_ms);
                self.attach(conn, session);
                // The handshake is no numbered request: its txn has cxid 0, as upstream's.
                let request = Request::CreateSession { timeout_ms };
                let txn = self.prepare_txn(now_ms, session, 0, &request);
                self.submit(txn, Some(Waiting::Connect { conn }))
            }
            id => self.reconnect(now_ms, conn, id, timeout_ms, &request.passwd),
        }
    }
    // ANCHOR_END: connect

    /// A client resuming its session, maybe on another connection (`reopenSession`).
    fn reconnect(
        &mut self,
        now_ms: u64,
        conn: ConnId,
        session: SessionId,
        timeout_ms: i32,
        passwd: &[u8],
    ) -> Vec<Output> {
        let read_only = self.conns[&conn].read_only;
        let mut out = Vec::new();
        // The session's current connection (if still open) is closed first, and its watches
        // go with it; the client re-sends them with SetWatches. Upstream does this before it
        // checks the password, so even a refused attempt disconnects the owner (the session
        // itself lives on).
        if let Some(old) = self
            .owners
            .get(&session)
            .copied()
            .filter(|old| *old != conn)
        {
            if let Some(c) = self.conns.get_mut(&old) {
                c.session = None;
            }
            self.owners.remove(&session);
            self.watches.close_session(session);
            out.push(Output::Close { conn: old });
        }
        let valid = passwd == session_password(session) && self.sessions.check(session).is_ok();
        if !valid {
            self.conns.remove(&conn);
            let invalid = ConnectResponse::invalid(read_only);
            out.push(Output::Send {
                conn,
                message: ServerMessage::Connected(invalid),
            });
            out.push(Output::Close { conn });
            return out;
        }
        self.attach(conn, session);
        self.sessions.set_timeout(session, timeout_ms, now_ms);
        out.push(Output::Send {
            conn,
            message: ServerMessage::Connected(ConnectResponse {
                protocol_version: 0,
                time_out: timeout_ms,
                session_id: session,
                passwd: session_password(session).to_vec(),
                read_only: read_only.map(|_| false),
            }),
        });
        out
    }

    fn attach(&mut self, conn: ConnId, session: SessionId) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.session = Some(session);
        }
        self.owners.insert(session, conn);
    }

    /// A request after the handshake: it touches the session, then takes its path.
    fn request(
        &mut self,
        now_ms: u64,
        conn: ConnId,
        xid: i32,
        request: proto::Request,
    ) -> Vec<Output> {
        let Some(session) = self.session_of(conn) else {
            // No handshake on this connection (or its session moved away): nothing to answer.
            return vec![Output::Close { conn }];
        };
        if !self.sessions.touch(session, now_ms) {
            return vec![
                self.reply(conn, xid, Err(ZkError::SessionExpired), None),
                Output::Close { conn },
            ];
        }
        match request {
            proto::Request::Auth(auth) => self.auth(conn, xid, &auth),
            proto::Request::CloseSession => {
                self.sessions.set_closing(session);
                self.write(now_ms, conn, xid, session, &proto::Request::CloseSession)
            }
            ref other if write_request(other).is_some() => {
                self.write(now_ms, conn, xid, session, other)
            }
            read => self.answer_in_turn(now_ms, conn, xid, Answer::Read(read)),
        }
    }

    /// `addauth`: answered at once with xid -4, outside the session's order (as upstream,
    /// which handles auth packets before they enter the pipeline).
    fn auth(&mut self, conn: ConnId, xid: i32, auth: &proto::AuthPacket) -> Vec<Output> {
        let header = |err: i32| ReplyHeader {
            xid,
            zxid: Zxid(0),
            err,
        };
        match acl::authenticate(&auth.scheme, &auth.auth) {
            Ok(id) => {
                if let Some(c) = self.conns.get_mut(&conn) {
                    if !c.ids.contains(&id) {
                        c.ids.push(id);
                    }
                }
                vec![Output::Send {
                    conn,
                    message: ServerMessage::Reply(header(0), None),
                }]
            }
            Err(e) => vec![
                Output::Send {
                    conn,
                    message: ServerMessage::Reply(header(e.code()), None),
                },
                Output::Close { conn },
            ],
        }
    }

    fn write(
        &mut self,
        now_ms: u64,
        conn: ConnId,
        xid: i32,
        session: SessionId,
        request: &proto::Request,
    ) -> Vec<Output> {
        let shape = Shape::of(request);
        let txn = match write_request(request).expect("only writes come here") {
            Ok(request) => self.prepare_txn(now_ms, session, xid, &request),
            Err(err) => prepare::refused(self.next_header(now_ms, session, xid), err),
        };
        let waiting = Waiting::Write {
            conn,
            xid,
            shape,
            zxid: txn.zxid,
        };
        self.submit(txn, Some(waiting))
    }

    fn next_header(&mut self, now_ms: u64, session: SessionId, cxid: i32) -> TxnHeader {
        self.last_zxid = self.last_zxid.next();
        TxnHeader {
            session,
            cxid,
            zxid: self.last_zxid,
            time_ms: now_ms as i64,
        }
    }

    /// The prepare stage for one write.
    fn prepare_txn(
        &mut self,
        now_ms: u64,
        session: SessionId,
        cxid: i32,
        request: &Request,
    ) -> Txn {
        let hdr = self.next_header(now_ms, session, cxid);
        let ids = self
            .owners
            .get(&session)
            .and_then(|conn| self.conns.get(conn))
            .map(|c| c.ids.clone())
            .unwrap_or_default();
        prepare(&self.tree, hdr, &ids, request)
    }

    // ANCHOR: submit
    /// The sync stage. Standalone: commit at once. (Chapter 6 proposes the txn here and
    /// commits on a quorum of ACKs; chapter 7 appends it to the txn log first.)
    fn submit(&mut self, txn: Txn, waiting: Option<Waiting>) -> Vec<Output> {
        if let Some(w) = waiting {
            self.waiting.entry(txn.session).or_default().push_back(w);
        }
        self.commit(txn)
    }
    // ANCHOR_END: submit

    // ANCHOR: commit
    /// The final stage for a committed txn: apply, fire watches, then answer the session's
    /// requests that were waiting for it, in order.
    pub fn commit(&mut self, txn: Txn) -> Vec<Output> {
        let applied = self.tree.apply(&txn);
        let mut out = vec![Output::Applied(txn.clone())];
        for trigger in &applied.triggers {
            out.extend(self.fire(trigger));
        }
        let session = txn.session;
        let closed = matches!(txn.op, TxnOp::CloseSession { .. });
        // Answer the write this txn was for (if a client of ours sent it) ...
        let head_is_this = match self.waiting.get(&session).and_then(VecDeque::front) {
            Some(Waiting::Write { zxid, .. }) => *zxid == txn.zxid,
            Some(Waiting::Connect { .. }) => matches!(txn.op, TxnOp::CreateSession { .. }),
            _ => false,
        };
        if head_is_this {
            let head = self.waiting.get_mut(&session).and_then(VecDeque::pop_front);
            match head {
                Some(Waiting::Write {
                    conn, xid, shape, ..
                }) => {
                    let result = write_reply(&shape, &applied.result);
                    out.push(self.reply(conn, xid, result, Some(&txn)));
                }
                Some(Waiting::Connect { conn }) => out.push(self.connected(conn, &txn)),
                _ => {}
            }
        }
        // ... then the reads queued behind it.
        out.extend(self.drain_reads(session));
        if closed {
            out.extend(self.forget_session(session));
        }
        out
    }
    // ANCHOR_END: commit

    fn connected(&self, conn: ConnId, txn: &Txn) -> Output {
        let timeout_ms = match txn.op {
            TxnOp::CreateSession { timeout_ms } => timeout_ms,
            _ => 0,
        };
        let read_only = self.conns.get(&conn).and_then(|c| c.read_only);
        Output::Send {
            conn,
            message: ServerMessage::Connected(ConnectResponse {
                protocol_version: 0,
                time_out: timeout_ms,
                session_id: txn.session,
                passwd: session_password(txn.session).to_vec(),
                read_only: read_only.map(|_| false),
            }),
        }
    }

    /// A closed or expired session: its connection closes, its watches and queue go.
    fn forget_session(&mut self, session: SessionId) -> Vec<Output> {
        self.sessions.remove(session);
        self.watches.close_session(session);
        self.waiting.remove(&session);
        match self.owners.remove(&session) {
            Some(conn) => {
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.session = None;
                }
                vec![Output::Close { conn }]
            }
            None => Vec::new(),
        }
    }

    /// One trigger from the tree, delivered to every watcher it reaches.
    fn fire(&mut self, trigger: &WatchTrigger) -> Vec<Output> {
        let notifications = self.watches.trigger(trigger);
        self.deliver(notifications)
    }

    /// Notifications go to each session's current connection; a session with none (its
    /// connection dropped) has no watches left to hear them anyway.
    fn deliver(&self, notifications: Vec<Notification>) -> Vec<Output> {
        notifications
            .into_iter()
            .filter_map(|(session, event)| {
                let conn = *self.owners.get(&session)?;
                Some(Output::Send {
                    conn,
                    message: ServerMessage::Event(event),
                })
            })
            .collect()
    }

    /// A read is answered now if nothing of its session is waiting, else queued.
    fn answer_in_turn(
        &mut self,
        _now_ms: u64,
        conn: ConnId,
        xid: i32,
        answer: Answer,
    ) -> Vec<Output> {
        let Some(session) = self.session_of(conn) else {
            return vec![Output::Close { conn }];
        };
        let queue = self.waiting.entry(session).or_default();
        queue.push_back(Waiting::Read { conn, xid, answer });
        self.drain_reads(session)
    }

    /// Answers the reads at the head of a session's queue, up to the next write.
    fn drain_reads(&mut self, session: SessionId) -> Vec<Output> {
        let mut out = Vec::new();
        while let Some(Waiting::Read { .. }) = self.waiting.get(&session).and_then(VecDeque::front)
        {
            let Some(Waiting::Read { conn, xid, answer }) =
                self.waiting.get_mut(&session).and_then(VecDeque::pop_front)
            else {
                unreachable!("the head was just seen to be a read");
            };
            out.extend(self.read(session, conn, xid, answer));
        }
        if self.waiting.get(&session).is_some_and(VecDeque::is_empty) {
            self.waiting.remove(&session);
        }
        out
    }

    fn read(&mut self, session: SessionId, conn: ConnId, xid: i32, answer: Answer) -> Vec<Output> {
        let request = match answer {
            // An opcode the server does not know: upstream's UnimplementedRequestProcessor
            // answers Unimplemented, then closes the connection (sendCloseSession).
            Answer::Fail(ZkError::Unimplemented) => {
                return vec![
                    self.reply(conn, xid, Err(ZkError::Unimplemented), None),
                    Output::Close { conn },
                ]
            }
            Answer::Fail(err) => return vec![self.reply(conn, xid, Err(err), None)],
            Answer::Read(proto::Request::Ping) => {
                return vec![self.reply(conn, xid, Ok(Response::Empty), None)]
            }
            Answer::Read(request) => request,
        };
        let ids = self
            .conns
            .get(&conn)
            .map(|c| c.ids.clone())
            .unwrap_or_default();
        let outcome = ReadContext {
            tree: &self.tree,
            watches: &mut self.watches,
            session,
            ids: &ids,
        }
        .read(&request);
        let mut out = self.deliver(outcome.fired);
        out.push(self.reply(conn, xid, outcome.result, None));
        out
    }

    /// A reply frame: the xid echoed, the zxid of the write (or the tree's last for a read).
    fn reply(
        &self,
        conn: ConnId,
        xid: i32,
        result: Result<Response, ZkError>,
        txn: Option<&Txn>,
    ) -> Output {
        let zxid = finish::reply_zxid(txn, &self.tree);
        let (err, body) = match result {
            Ok(Response::Empty) => (0, None),
            Ok(body) => (0, Some(body)),
            Err(e) => (e.code(), None),
        };
        Output::Send {
            conn,
            message: ServerMessage::Reply(ReplyHeader { xid, zxid, err }, body),
        }
    }

    /// The connection went away; its session lives on until it expires or is resumed, but
    /// its watches die with the connection (`DataTree.removeCnxn`).
    fn disconnected(&mut self, conn: ConnId) {
        let Some(c) = self.conns.remove(&conn) else {
            return;
        };
        if let Some(session) = c.session {
            if self.owners.get(&session) == Some(&conn) {
                self.owners.remove(&session);
                self.watches.close_session(session);
                // Requests still waiting have nobody to answer to.
                self.waiting.remove(&session);
            }
        }
    }

    // ANCHOR: expire
    /// The session tracker's tick: every session whose bucket is due is closed by a
    /// closeSession txn, like a client's close, so its ephemerals go in log order.
    fn expire(&mut self, now_ms: u64) -> Vec<Output> {
        let mut out = Vec::new();
        for session in self.sessions.expire(now_ms) {
            // The tracker's own request: cxid 0, as upstream's expirer.
            let txn = self.prepare_txn(now_ms, session, 0, &Request::CloseSession);
            out.extend(self.submit(txn, None));
        }
        out
    }
    // ANCHOR_END: expire

    /// When the driver should send the next [`Input::Tick`].
    pub fn next_tick_ms(&self) -> u64 {
        self.sessions.next_expiration_ms()
    }
}
