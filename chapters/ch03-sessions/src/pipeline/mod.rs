//! The request pipeline: prepare → sync → final, as a pure state machine.
//!
//! The idea to take away: a ZooKeeper server is a **pipeline of request processors**, and the
//! seams between them are where the later chapters plug in. Upstream a standalone server chains
//! `PrepRequestProcessor → SyncRequestProcessor → FinalRequestProcessor`; a leader chains
//! `Prep → Proposal → Sync → Commit → ToBeApplied → Final`; a follower forwards its writes to
//! the leader and runs only `Commit → Final` on what the leader commits. Same ends, more or
//! less in the middle.
//!
//! ```text
//!  Input::Request ──► prepare ──Output::Propose(txn)──►  the sync stage  ──Input::Commit(txn)──► final ──► Output::Send
//!                    (judge,      (leader, standalone)    standalone: at once             (apply, fire watches,
//!                     ACLs, zxid)                         ch06: PROPOSAL, a quorum of      reply in the session's
//!                 or forward ──Output::Forward──► leader  ACKs, COMMIT                     order, on the server
//!                    (learner)                            ch07: append + fsync first       the client is on)
//! ```
//!
//! - [`prepare`](mod@prepare) (`PrepRequestProcessor`) turns a write into a [`Txn`] with its zxid and time,
//!   judged against the tree **plus the changes still in flight** ([`outstanding`]): once a
//!   write can wait for a quorum, request *n+1* is prepared before request *n* is applied.
//!   Session create and close are txns too, so they are ordered with everything else.
//! - The **sync stage** is not here: the pipeline says [`Output::Propose`] and resumes on
//!   [`Input::Commit`]. The standalone wiring ([`standalone`]) commits every proposal on the
//!   spot; chapter 6's leader proposes it to its followers and commits it on a quorum of ACKs;
//!   chapter 7 logs it first. A learner (follower or observer) does not prepare at all: it
//!   says [`Output::Forward`] and waits for the leader's commit like everyone else.
//! - [`finish`] (`FinalRequestProcessor`) applies the committed txn to the [`Database`] (tree and
//!   session table), fires the watches it triggers (chapter 2), and answers. The request a txn
//!   answers is found by **(session, cxid)**, so a follower can answer a write whose zxid the
//!   leader chose. Each session has a FIFO of requests waiting for their turn (upstream
//!   `CommitProcessor.pendingRequests`): a read queued behind a write of the same session is
//!   answered only after that write is applied, so replies leave in request order and a client
//!   always reads its own writes. A `sync` waits until every write prepared before it is
//!   applied (on a learner: until the leader says so).
//!
//! Nothing here does IO or reads a clock: the driver passes `now_ms` to [`Pipeline::step`] and
//! carries out the [`Output`]s (send a frame, close a connection, get a txn committed).
//!
//! # Layout
//! - [`prepare`](mod@prepare): request → txn, with ACL checks (`PrepRequestProcessor`).
//! - [`outstanding`]: the changes prepared and not yet applied (`outstandingChanges`).
//! - [`database`]: the replicated state, tree plus sessions (`ZKDatabase`).
//! - [`finish`]: txn result → reply, and every read (`FinalRequestProcessor`).
//! - [`watches`]: chapter 2's watch registry in the pipeline's types.
//! - [`standalone`]: the standalone server's sync stage: commit every proposal at once.
//! - this file: [`Pipeline`], its [`Input`]/[`Output`], its [`Role`], connections, sessions
//!   and the per-session FIFO of waiting requests.

pub mod database;
pub mod digest_log;
pub mod finish;
pub mod outstanding;
pub mod prepare;
pub mod standalone;
pub mod watches;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::IpAddr;

use ch01_znode::{
    Epoch, Id, Request, SessionId, Sid, Txn, TxnHeader, TxnOp, WatchTrigger, ZkError, Zxid,
};

pub use database::Database;

use crate::acl;
use crate::proto::{self, ConnectRequest, ConnectResponse, ReplyHeader, Response, WatchedEvent};
use crate::session::{session_password, SessionCheck, SessionTracker};
use digest_log::DigestLog;
use finish::{write_reply, ReadContext, Shape};
use outstanding::Outstanding;
use prepare::{into_write_request, is_write, prepare, MultiWire};
use watches::{Notification, Watches};

/// A connection, numbered by the driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId(pub u64);

impl std::fmt::Display for ConnId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "c{}", self.0)
    }
}

// ANCHOR: role
/// How this server takes part in writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Alone: decides every write, and its driver commits each proposal at once.
    Standalone,
    /// The ensemble's leader: decides its own clients' writes and those its learners forward.
    Leader,
    /// A follower or an observer: forwards its clients' writes, applies the leader's commits.
    Learner,
    /// Not serving (electing a leader, or syncing with one): connections are refused.
    Stopped,
}
// ANCHOR_END: role

/// A client's request on its way from a learner to the leader (the body of Zab's REQUEST
/// packet, with the connection's identities as its `authinfo`).
#[derive(Clone, Debug, PartialEq, Hash)]
pub struct Forwarded {
    /// The client's session.
    pub session: SessionId,
    /// The client's number for the request (0 for a session's creation).
    pub cxid: i32,
    /// What to do.
    pub op: Forward,
    /// The identities the client's connection holds, for the leader's ACL checks.
    pub auth: Vec<Id>,
}

/// What a learner forwards.
#[derive(Clone, Debug, PartialEq, Hash)]
pub enum Forward {
    /// A new session, with the id the learner chose and the timeout it negotiated.
    CreateSession {
        /// The negotiated timeout, ms.
        timeout_ms: i32,
    },
    /// A write, a closeSession or a sync, as the client sent it.
    Request(proto::Request),
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
        /// What upstream still does before it fails, done first (a setWatches sets the
        /// watches of the lists before a null one).
        partial: Option<proto::Request>,
    },
    /// The connection is gone (closed by the client, the network or the driver).
    Disconnected {
        /// The connection.
        conn: ConnId,
    },
    /// Time passed: expire the sessions whose bucket is due (leader and standalone).
    Tick,
    /// Leader: a request a learner forwarded, to be prepared like one of ours.
    Forwarded {
        /// The learner that forwarded it: the session's owner must be that learner, or the
        /// client has moved away from it ([`SessionCheck::Moved`]).
        learner: Sid,
        /// The request.
        request: Forwarded,
    },
    /// A txn is committed: apply it, and answer the request it was for if it is ours.
    Commit(Txn),
    /// Learner: the leader has committed everything that was in flight when our client's
    /// `sync` (`session`, `cxid`) reached it (Zab's SYNC packet).
    Synced {
        /// The session that asked.
        session: SessionId,
        /// Its request number.
        cxid: i32,
    },
    /// Leader: sessions a learner's clients kept alive since its last report, with their
    /// timeouts (the data of a learner's PING).
    Touched(Vec<(SessionId, i32)>),
    /// Learner: the leader's answer to an [`Output::Revalidate`]: the reconnecting client
    /// waiting for `session` is let in (`valid`) or told its session expired.
    Revalidated {
        /// The session asked about.
        session: SessionId,
        /// Whether the leader knows it alive (it has touched it if so).
        valid: bool,
    },
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
    /// A prepared txn that must be committed before anyone applies it; the pipeline resumes
    /// on [`Input::Commit`].
    Propose(Txn),
    /// A client's request for the leader (learner).
    Forward(Forwarded),
    /// Learner: a client reconnects with `session`; only the leader knows whether it is still
    /// alive. The handshake waits for [`Input::Revalidated`] (Zab's REVALIDATE).
    Revalidate {
        /// The session.
        session: SessionId,
        /// The timeout negotiated on the new connection, ms.
        timeout_ms: i32,
    },
    /// A committed txn was applied to the tree (for traces).
    Applied(Txn),
}

/// A frame from server to client.
#[derive(Clone, Debug, PartialEq, Hash)]
pub enum ServerMessage {
    /// The handshake answer.
    Connected(ConnectResponse),
    /// An answer to a request: the header, and a body when `err == 0`.
    Reply(ReplyHeader, Option<Response>),
    /// A watch fired.
    Event(WatchedEvent),
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

/// The ConnectResponse for `session`: its timeout and password, and the readOnly byte (false)
/// only if the client sent one.
fn handshake_answer(
    conn: ConnId,
    session: SessionId,
    timeout_ms: i32,
    read_only: Option<bool>,
) -> Output {
    Output::Send {
        conn,
        message: ServerMessage::Connected(ConnectResponse {
            protocol_version: 0,
            time_out: timeout_ms,
            session_id: session,
            passwd: session_password(session).to_vec(),
            read_only: read_only.map(|_| false),
        }),
    }
}

/// Session timeout bounds, ms (`minSessionTimeout`, `maxSessionTimeout`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Limits {
    /// Lower bound.
    pub min_session_timeout_ms: i32,
    /// Upper bound.
    pub max_session_timeout_ms: i32,
}

impl Limits {
    /// Upstream's defaults for a tick: 2 and 20 ticks (at most `i32::MAX` ms: a tick too
    /// long for that is refused by `zoo.cfg`'s reader, and saturates here).
    pub fn for_tick(tick_time_ms: u32) -> Limits {
        let ticks = |n: i64| i32::try_from(n * i64::from(tick_time_ms)).unwrap_or(i32::MAX);
        Limits {
            min_session_timeout_ms: ticks(2),
            max_session_timeout_ms: ticks(20),
        }
    }
}

/// The most requests a connection may send behind a handshake that waits for the leader:
/// upstream's `globalOutstandingLimit` default.
pub const HELD_BEHIND_A_HANDSHAKE: usize = 1000;

/// What the server knows about one connection.
#[derive(Clone, Debug, Hash)]
struct Conn {
    session: Option<SessionId>,
    /// The identities proved on this connection: `ip:<addr>`, then any `addauth`.
    ids: Vec<Id>,
    /// Whether the client sent the trailing readOnly byte (the answer mirrors it).
    read_only: Option<bool>,
    /// Where the client connects from (what `addauth ip` adds).
    addr: IpAddr,
    /// Requests read while the handshake waits for the leader's word on the session: answered
    /// once it is resumed, dropped with the connection if it is refused. Upstream stops reading
    /// the socket meanwhile (`disableRecv` in `processConnectRequest`, `enableRecv` in
    /// `finishSessionInit`), so a client that sends its first request without waiting for the
    /// handshake's answer is served, not cut off.
    held: Vec<(i32, proto::Request)>,
}

/// A client reconnecting with a session: its new connection and the timeout negotiated on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Reconnecting {
    conn: ConnId,
    timeout_ms: i32,
}

/// A request waiting for its turn in its session's FIFO.
#[derive(Clone, Debug, Hash)]
enum Waiting {
    /// A new session's handshake, answered when its createSession txn is applied.
    Connect { conn: ConnId },
    /// A write, answered when the txn with this session and cxid is applied.
    Write {
        conn: ConnId,
        cxid: i32,
        shape: Shape,
    },
    /// A `sync`, answered once every write prepared before it is applied: `after` is the
    /// last zxid prepared when it arrived (leader, standalone), or `None` until the leader
    /// says so (learner).
    Sync {
        conn: ConnId,
        xid: i32,
        path: Option<String>,
        after: Option<Zxid>,
    },
    /// A read (or a request that can only fail), answered in its turn.
    Read {
        conn: ConnId,
        xid: i32,
        answer: Answer,
    },
}

#[derive(Clone, Debug, Hash)]
enum Answer {
    Read(proto::Request),
    Fail(ZkError),
    /// Do the request's part, send what it fires, then answer the error.
    PartThenFail(proto::Request, ZkError),
}

/// A ZooKeeper server's brain: database, watches, sessions, and the pipeline between.
#[derive(Clone, Debug, Hash)]
pub struct Pipeline {
    role: Role,
    /// This server: the owner of the sessions its own clients hold.
    me: Sid,
    db: Database,
    watches: Watches,
    /// Leases (expired by the leader or a standalone server only) and the id generator.
    sessions: SessionTracker,
    limits: Limits,
    conns: BTreeMap<ConnId, Conn>,
    /// Each live session's current connection.
    owners: BTreeMap<SessionId, ConnId>,
    /// Requests waiting for their turn, per session.
    waiting: BTreeMap<SessionId, VecDeque<Waiting>>,
    /// Sessions with a `sync` somewhere in their queue.
    syncing: BTreeSet<SessionId>,
    /// Changes prepared and not yet applied.
    outstanding: Outstanding,
    /// The last zxid prepare handed out.
    last_zxid: Zxid,
    /// Learner: the sessions that spoke since the last report, with their timeouts.
    touched: BTreeMap<SessionId, i32>,
    /// Learner: reconnecting clients waiting for the leader's word on their session
    /// (upstream `Learner.pendingRevalidations`).
    revalidating: BTreeMap<SessionId, Reconnecting>,
    /// The tree digest every 128th zxid, for `hash`.
    digests: DigestLog,
}

impl Pipeline {
    /// A standalone server with a fresh database, started at `now_ms` (which seeds session
    /// ids). Its driver must commit every [`Output::Propose`] ([`standalone`] does).
    pub fn new(tick_time_ms: u32, limits: Limits, server_id: Sid, now_ms: u64) -> Pipeline {
        Pipeline {
            role: Role::Standalone,
            me: server_id,
            db: Database::default(),
            watches: Watches::default(),
            sessions: SessionTracker::new(tick_time_ms, server_id, now_ms),
            limits,
            conns: BTreeMap::new(),
            owners: BTreeMap::new(),
            waiting: BTreeMap::new(),
            syncing: BTreeSet::new(),
            outstanding: Outstanding::default(),
            last_zxid: Zxid(0),
            touched: BTreeMap::new(),
            revalidating: BTreeMap::new(),
            digests: DigestLog::default(),
        }
    }

    /// A member of an ensemble: not serving until it leads or learns.
    pub fn for_quorum(tick_time_ms: u32, limits: Limits, server_id: Sid, now_ms: u64) -> Pipeline {
        Pipeline {
            role: Role::Stopped,
            ..Pipeline::new(tick_time_ms, limits, server_id, now_ms)
        }
    }

    /// Session ids from now on start from this clock value instead of the start time (for
    /// replayable traces).
    pub fn seed_session_ids(&mut self, server_id: Sid, clock_ms: u64) {
        self.sessions.seed_ids(server_id, clock_ms);
    }

    /// How this server takes part in writes now.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The replicated state.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// The tree (for 4lw counts and tests).
    pub fn tree(&self) -> &ch01_znode::DataTree {
        &self.db.tree
    }

    /// The watch registry.
    pub fn watches(&self) -> &Watches {
        &self.watches
    }

    /// The digest history `hash` prints.
    pub fn digests(&self) -> &DigestLog {
        &self.digests
    }

    /// The session tracker.
    pub fn sessions(&self) -> &SessionTracker {
        &self.sessions
    }

    /// The session a connection holds, if any.
    pub fn session_of(&self, conn: ConnId) -> Option<SessionId> {
        self.conns.get(&conn).and_then(|c| c.session)
    }

    /// The tree digest after the txn at `zxid`, prepared here and not applied yet: what its
    /// log record carries as its `TxnDigest` (`None` for an error txn, or one not prepared
    /// here).
    pub fn txn_digest(&self, zxid: Zxid) -> Option<u64> {
        self.outstanding.digest_of(zxid)
    }

    /// Requests accepted and not answered yet (`Outstanding:` in `srvr`).
    pub fn outstanding(&self) -> usize {
        self.waiting.values().map(VecDeque::len).sum()
    }

    // ANCHOR: roles
    /// Start leading in `epoch`: zxids continue from `epoch << 32`, and every session of the
    /// database gets a fresh lease, since nobody tracked them while there was no leader
    /// (upstream `LeaderZooKeeperServer.createSessionTracker`).
    pub fn lead(&mut self, epoch: Epoch, now_ms: u64) {
        self.role = Role::Leader;
        self.last_zxid = epoch.first_zxid();
        self.outstanding.clear();
        self.sessions.reset(&self.db.sessions, now_ms);
    }

    /// Start serving as a follower or observer: writes go to the leader.
    pub fn learn(&mut self, now_ms: u64) {
        self.role = Role::Learner;
        self.outstanding.clear();
        self.sessions.reset(&self.db.sessions, now_ms);
    }

    /// Stop serving (the leader is gone, or this server lost its quorum): every client is
    /// disconnected and reconnects elsewhere with its session, and nothing in flight is kept
    /// (upstream `ZooKeeperServer.shutdown` closes every connection).
    pub fn stop(&mut self) -> Vec<Output> {
        self.role = Role::Stopped;
        self.outstanding.clear();
        self.touched.clear();
        self.revalidating.clear();
        self.waiting.clear();
        self.syncing.clear();
        self.owners.clear();
        self.watches = Watches::default();
        let conns = std::mem::take(&mut self.conns);
        conns
            .into_keys()
            .map(|conn| Output::Close { conn })
            .collect()
    }

    /// Starts from a database recovered from disk (a standalone server restarting): zxids
    /// continue after its last txn, and each session in it gets a fresh lease from `now_ms`
    /// (upstream tracks the snapshot's sessions anew at start-up). New session ids come
    /// from the clock as always, and also after every recovered one, so a clock set back
    /// cannot hand out a live session's id again.
    pub fn restore(&mut self, db: Database, now_ms: u64) {
        self.last_zxid = db.last_processed_zxid();
        self.sessions.reset(&db.sessions, now_ms);
        if let Some(newest) = db.sessions.keys().max() {
            self.sessions.ids_after(*newest);
        }
        self.db = db;
        self.outstanding.clear();
    }

    /// Replaces the database (a follower that received a snapshot from its leader).
    pub fn replace_database(&mut self, db: Database) {
        self.db = db;
        self.outstanding.clear();
    }

    /// Learner: the sessions its clients kept alive since the last call, with their timeouts
    /// (what a learner's PING reply carries to the leader).
    pub fn take_touched(&mut self) -> Vec<(SessionId, i32)> {
        std::mem::take(&mut self.touched).into_iter().collect()
    }
    // ANCHOR_END: roles

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
            Input::Undecodable {
                conn,
                xid,
                err,
                partial,
            } => {
                let answer = match partial {
                    Some(request) => Answer::PartThenFail(request, err),
                    None => Answer::Fail(err),
                };
                self.answer_in_turn(conn, Waiting::Read { conn, xid, answer })
            }
            Input::Disconnected { conn } => {
                self.disconnected(conn);
                Vec::new()
            }
            Input::Tick => self.expire(now_ms),
            Input::Forwarded { learner, request } => self.forwarded(now_ms, learner, request),
            Input::Commit(txn) => self.commit(now_ms, txn),
            Input::Synced { session, cxid } => self.synced(session, cxid),
            Input::Touched(sessions) => {
                for (session, _) in sessions {
                    self.sessions.touch(session, now_ms);
                }
                Vec::new()
            }
            Input::Revalidated { session, valid } => self.revalidated(now_ms, session, valid),
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
        // Not serving, or a client that has seen a later zxid than ours (it would travel back
        // in time): refuse.
        if self.role == Role::Stopped || request.last_zxid_seen > self.db.last_processed_zxid() {
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
                addr,
                held: Vec::new(),
            },
        );
        match request.session_id {
            SessionId(0) => {
                let session = self.sessions.create_session(timeout_ms, now_ms);
                self.attach(conn, session);
                self.wait(session, Waiting::Connect { conn });
                // The handshake is no numbered request: its txn has cxid 0, as upstream's.
                let op = Forward::CreateSession { timeout_ms };
                self.decide(now_ms, session, 0, op)
            }
            id => self.reconnect(now_ms, conn, id, timeout_ms, &request.passwd),
        }
    }
    // ANCHOR_END: connect

    /// A client resuming its session, maybe on another connection (`reopenSession`). The
    /// password is checked here; whether the session is alive is known only to the server
    /// that expires sessions: a leader or a standalone server answers from its own table, a
    /// learner asks the leader and answers when it replies ([`Output::Revalidate`]).
    fn reconnect(
        &mut self,
        now_ms: u64,
        conn: ConnId,
        session: SessionId,
        timeout_ms: i32,
        passwd: &[u8],
    ) -> Vec<Output> {
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
            self.waiting.remove(&session);
            out.push(Output::Close { conn: old });
        }
        if passwd != session_password(session) {
            out.extend(self.refuse_session(conn));
            return out;
        }
        let reconnecting = Reconnecting { conn, timeout_ms };
        if self.role == Role::Learner {
            // Our copy of the session table may be stale (our leader may be gone and we do
            // not know it yet): only the leader's word lets the client in
            // (`LearnerZooKeeperServer.revalidateSession`, `Learner.validateSession`).
            // An earlier attempt still waiting for the same session is dropped.
            if let Some(older) = self.revalidating.insert(session, reconnecting) {
                if older.conn != conn && self.conns.remove(&older.conn).is_some() {
                    out.push(Output::Close { conn: older.conn });
                }
            }
            out.push(Output::Revalidate {
                session,
                timeout_ms,
            });
            return out;
        }
        let alive = self.db.sessions.contains_key(&session) && self.sessions.check(session).is_ok();
        match alive {
            true => out.extend(self.resume(now_ms, session, reconnecting)),
            false => out.extend(self.refuse_session(conn)),
        }
        out
    }

    /// Learner: the leader's answer for a reconnecting client (`Learner.revalidate`, then
    /// `finishSessionInit`). A client that left meanwhile is not answered.
    fn revalidated(&mut self, now_ms: u64, session: SessionId, valid: bool) -> Vec<Output> {
        let Some(reconnecting) = self.revalidating.remove(&session) else {
            return Vec::new();
        };
        if !self.conns.contains_key(&reconnecting.conn) {
            return Vec::new();
        }
        if !valid {
            return self.refuse_session(reconnecting.conn);
        }
        // The session may be newer than our table's last reset: track it from now on.
        self.sessions
            .track(session, reconnecting.timeout_ms, now_ms);
        self.resume(now_ms, session, reconnecting)
    }

    /// The session is alive: it moves to this connection, with the timeout negotiated here.
    fn resume(&mut self, now_ms: u64, session: SessionId, to: Reconnecting) -> Vec<Output> {
        let Reconnecting { conn, timeout_ms } = to;
        let read_only = self.conns[&conn].read_only;
        self.attach(conn, session);
        self.sessions.set_timeout(session, timeout_ms, now_ms);
        // A leader's own client from now on (`LeaderZooKeeperServer.revalidateSession`).
        if self.role == Role::Leader {
            self.sessions.set_owner(session, self.me);
        }
        self.note_touch(session, timeout_ms);
        let mut out = vec![handshake_answer(conn, session, timeout_ms, read_only)];
        let held = self
            .conns
            .get_mut(&conn)
            .map(|c| std::mem::take(&mut c.held));
        for (xid, request) in held.unwrap_or_default() {
            out.extend(self.request(now_ms, conn, xid, request));
        }
        out
    }

    /// A wrong password or a dead session: the invalid handshake answer (zkCli's "Session
    /// expired"), then the connection closes.
    fn refuse_session(&mut self, conn: ConnId) -> Vec<Output> {
        let read_only = self.conns.remove(&conn).and_then(|c| c.read_only);
        vec![
            Output::Send {
                conn,
                message: ServerMessage::Connected(ConnectResponse::invalid(read_only)),
            },
            Output::Close { conn },
        ]
    }

    /// Leader: a learner asks whether a reconnecting client's session is alive (REVALIDATE).
    /// It is if this leader tracks it and it is not closing; then it is touched with the
    /// timeout the learner negotiated, and it becomes `learner`'s: a request for it that
    /// another server passes on from now on finds it moved (`LearnerMaster.revalidateSession`,
    /// `checkIfValidGlobalSession`, `setOwner`).
    pub fn revalidate(
        &mut self,
        now_ms: u64,
        session: SessionId,
        timeout_ms: i32,
        learner: Sid,
    ) -> bool {
        self.db.sessions.contains_key(&session)
            && self.sessions.set_timeout(session, timeout_ms, now_ms)
            && self.sessions.set_owner(session, learner)
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
            if self.revalidating.values().any(|r| r.conn == conn) {
                if let Some(c) = self.conns.get_mut(&conn) {
                    // Upstream leaves them in the socket, and TCP holds the client back; here
                    // they are read, so a client that floods is cut off instead.
                    if c.held.len() >= HELD_BEHIND_A_HANDSHAKE {
                        self.revalidating.retain(|_, r| r.conn != conn);
                        self.conns.remove(&conn);
                        return vec![Output::Close { conn }];
                    }
                    c.held.push((xid, request));
                }
                return Vec::new();
            }
            // No handshake on this connection (or its session moved away): nothing to answer.
            return vec![Output::Close { conn }];
        };
        if !self.sessions.touch(session, now_ms) {
            return vec![
                self.reply(conn, xid, Err(ZkError::SessionExpired), None),
                Output::Close { conn },
            ];
        }
        if let Some(timeout_ms) = self.sessions.get(session).map(|s| s.timeout_ms) {
            self.note_touch(session, timeout_ms);
        }
        match request {
            proto::Request::Auth(auth) => self.auth(conn, xid, &auth),
            proto::Request::Sasl(token) => self.sasl(conn, xid, &token),
            // A leader checks a read's session as a write's: the client moved away from it.
            proto::Request::Sync(_) if self.moved_from_here(session) => self.moved_read(conn, xid),
            proto::Request::Sync(sync) => self.sync(conn, xid, session, sync.path),
            proto::Request::CreateSession { timeout_ms } => {
                self.create_session_again(now_ms, conn, session, timeout_ms)
            }
            proto::Request::DeleteContainer { path } => match self.container_to_delete(&path) {
                Ok(()) => {
                    let delete = proto::DeleteRequest { path, version: -1 };
                    self.write(now_ms, conn, xid, session, proto::Request::Delete(delete))
                }
                Err(err) => self.answer_in_turn(
                    conn,
                    Waiting::Read {
                        conn,
                        xid,
                        answer: Answer::Fail(err),
                    },
                ),
            },
            proto::Request::CloseSession => {
                self.sessions.set_closing(session);
                self.write(now_ms, conn, xid, session, proto::Request::CloseSession)
            }
            other if is_write(&other) => self.write(now_ms, conn, xid, session, other),
            _ if self.moved_from_here(session) => self.moved_read(conn, xid),
            read => self.answer_in_turn(
                conn,
                Waiting::Read {
                    conn,
                    xid,
                    answer: Answer::Read(read),
                },
            ),
        }
    }

    /// Leader: whether its own client's session has moved to a learner since (upstream's
    /// prep checks the session of every request, reads and pings included, against
    /// `ServerCnxn.me`). A learner serves reads without asking anyone, as upstream's
    /// `FollowerRequestProcessor` does.
    fn moved_from_here(&mut self, session: SessionId) -> bool {
        self.role == Role::Leader
            && self.sessions.check_owner(session, self.me) == Err(SessionCheck::Moved)
    }

    /// A read on a connection whose session moved away: it fails in its turn, which closes
    /// the connection ([`Pipeline::moved_away`]).
    fn moved_read(&mut self, conn: ConnId, xid: i32) -> Vec<Output> {
        let answer = Answer::Fail(ZkError::SessionMoved);
        self.answer_in_turn(conn, Waiting::Read { conn, xid, answer })
    }

    /// SessionMoved is not answered: the connection is closed, as upstream's final stage
    /// does (`cnxn.sendCloseSession()`): the client must not keep using a connection the
    /// ensemble no longer routes its session through (ZOOKEEPER-710). The session lives on
    /// where it moved; this connection's watches go with it.
    fn moved_away(&mut self, conn: ConnId) -> Vec<Output> {
        self.disconnected(conn);
        vec![Output::Close { conn }]
    }

    /// createSession (-10) on a connection that has a session: upstream's prep tracks the
    /// session again with the body's first int as its timeout (the ConnectRequest's
    /// `protocolVersion`, 0, when a client sends a whole one), and its final stage answers
    /// with a ConnectResponse for the session it already has. With a timeout of 0 the
    /// session expires at the next tick, and its connection with it.
    fn create_session_again(
        &mut self,
        now_ms: u64,
        conn: ConnId,
        session: SessionId,
        timeout_ms: i32,
    ) -> Vec<Output> {
        let Some(current) = self.sessions.get(session).map(|s| s.timeout_ms) else {
            return vec![Output::Close { conn }];
        };
        let read_only = self.conns.get(&conn).and_then(|c| c.read_only);
        self.sessions.set_timeout(session, timeout_ms, now_ms);
        vec![handshake_answer(conn, session, current, read_only)]
    }

    /// deleteContainer (20) from a client: upstream's checks, in its order
    /// (`PrepRequestProcessor`, case deleteContainer). The path needs a slash, no NUL and not
    /// to be a system path (BadArguments); the node must exist (NoNode), have no children
    /// (NotEmpty) and not be an ephemeral (BadVersion: only a container, or with TTLs
    /// disabled any persistent node, may go). Then it is a delete. Upstream checks no ACL
    /// here; the delete it becomes here still needs DELETE on the parent.
    fn container_to_delete(&self, path: &str) -> Result<(), ZkError> {
        let system = ["/zookeeper", "/zookeeper/quota", "/zookeeper/config"];
        if !path.contains('/') || path.contains('\0') || system.contains(&path) {
            return Err(ZkError::BadArguments);
        }
        let stat = self.db.tree.stat(path)?;
        if stat.num_children > 0 {
            return Err(ZkError::NotEmpty);
        }
        if stat.ephemeral_owner.0 > 0 {
            return Err(ZkError::BadVersion);
        }
        Ok(())
    }

    /// A learner remembers who spoke, for its next report to the leader.
    fn note_touch(&mut self, session: SessionId, timeout_ms: i32) {
        if self.role == Role::Learner {
            self.touched.insert(session, timeout_ms);
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
        let Some(c) = self.conns.get_mut(&conn) else {
            return Vec::new();
        };
        // A null scheme names no provider: AuthFailed, as for an unknown one.
        let scheme = auth.scheme.as_deref().unwrap_or_default();
        match acl::authenticate(scheme, auth.auth.as_deref(), c.addr) {
            Ok(id) => {
                if !c.ids.contains(&id) {
                    c.ids.push(id);
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

    /// `sasl` (102) on a server without SASL: upstream `ZooKeeperServer.processSasl` answers
    /// at once, outside the session's order, OK with a null token (its connection has no SASL
    /// server to ask); a null client token makes it throw before answering, and the
    /// connection is closed.
    fn sasl(&mut self, conn: ConnId, xid: i32, token: &proto::SaslToken) -> Vec<Output> {
        if token.token.is_none() {
            return vec![Output::Close { conn }];
        }
        let header = ReplyHeader {
            xid,
            zxid: Zxid(0),
            err: 0,
        };
        let answer = proto::Response::Sasl(proto::SaslToken { token: None });
        vec![Output::Send {
            conn,
            message: ServerMessage::Reply(header, Some(answer)),
        }]
    }

    fn write(
        &mut self,
        now_ms: u64,
        conn: ConnId,
        xid: i32,
        session: SessionId,
        request: proto::Request,
    ) -> Vec<Output> {
        let shape = Shape::of(&request);
        self.wait(
            session,
            Waiting::Write {
                conn,
                cxid: xid,
                shape,
            },
        );
        self.decide(now_ms, session, xid, Forward::Request(request))
    }

    /// Queues `waiting` at the end of its session's FIFO.
    fn wait(&mut self, session: SessionId, waiting: Waiting) {
        self.waiting.entry(session).or_default().push_back(waiting);
    }

    // ANCHOR: decide
    /// Where a write goes: a leader or standalone server prepares and proposes it, a learner
    /// forwards it to the leader. Either way its answer waits for [`Input::Commit`].
    fn decide(&mut self, now_ms: u64, session: SessionId, cxid: i32, op: Forward) -> Vec<Output> {
        if self.role == Role::Learner {
            let auth = self.ids_of(session);
            return vec![Output::Forward(Forwarded {
                session,
                cxid,
                op,
                auth,
            })];
        }
        let ids = self.ids_of(session);
        let txn = self.prepare_txn(now_ms, session, cxid, &ids, op, self.me);
        vec![Output::Propose(txn)]
    }
    // ANCHOR_END: decide

    /// Leader: a learner's client's request. A sync never comes here (the leader's Zab
    /// answers it); a new session is tracked from now on, as upstream's leader does when it
    /// sees the createSession.
    fn forwarded(&mut self, now_ms: u64, learner: Sid, f: Forwarded) -> Vec<Output> {
        if self.role != Role::Leader {
            return Vec::new();
        }
        match &f.op {
            // The session is the learner's: its client is connected there.
            Forward::CreateSession { timeout_ms } => {
                self.sessions.track(f.session, *timeout_ms, now_ms);
                self.sessions.set_owner(f.session, learner);
            }
            Forward::Request(proto::Request::CloseSession) => self.sessions.set_closing(f.session),
            Forward::Request(_) => {}
        }
        let txn = self.prepare_txn(now_ms, f.session, f.cxid, &f.auth, f.op, learner);
        vec![Output::Propose(txn)]
    }

    /// The identities of the session's current connection.
    fn ids_of(&self, session: SessionId) -> Vec<Id> {
        self.owners
            .get(&session)
            .and_then(|conn| self.conns.get(conn))
            .map(|c| c.ids.clone())
            .unwrap_or_default()
    }

    /// The prepare stage for one write: the next zxid, the txn, and its change records kept
    /// until it is applied. Every write but closeSession needs a live session that `owner`
    /// (the server its client is on) holds, as upstream's `PrepRequestProcessor.pRequest2Txn`
    /// checks with `sessionTracker.checkSession(sessionId, owner)`.
    fn prepare_txn(
        &mut self,
        now_ms: u64,
        session: SessionId,
        cxid: i32,
        ids: &[Id],
        op: Forward,
        owner: Sid,
    ) -> Txn {
        self.last_zxid = self.last_zxid.next();
        let hdr = TxnHeader {
            session,
            cxid,
            zxid: self.last_zxid,
            time_ms: now_ms as i64,
        };
        let wire = match &op {
            Forward::Request(r) => MultiWire::of(r),
            Forward::CreateSession { .. } => MultiWire::default(),
        };
        let checked = match &op {
            Forward::Request(proto::Request::CloseSession) | Forward::CreateSession { .. } => {
                Ok(())
            }
            Forward::Request(_) => self.sessions.check_owner(session, owner),
        };
        // `checkSession`: a session that is gone or closing writes nothing (a request
        // forwarded just before its session expired would leave an orphan ephemeral), nor does
        // one whose client has moved to another server since it sent this; there the server
        // it came through closes the connection instead of answering.
        let refusal = match checked {
            Ok(()) => None,
            Err(SessionCheck::Moved) => Some(ZkError::SessionMoved),
            Err(_) => Some(ZkError::SessionExpired),
        };
        if let (Some(err), Forward::Request(r)) = (refusal, &op) {
            if let Some(txn) = prepare::refused_by_session(hdr, r, err) {
                return txn;
            }
        }
        let request = match op {
            Forward::CreateSession { timeout_ms } => Ok(Request::CreateSession { timeout_ms }),
            Forward::Request(proto::Request::CloseSession) => Ok(Request::CloseSession),
            Forward::Request(r) => into_write_request(r).unwrap_or(Err(ZkError::MarshallingError)),
        };
        match request {
            Ok(request) => {
                let view = self.outstanding.over(&self.db.tree);
                let (txn, changes) = wire.finish(prepare(&view, hdr, ids, &request));
                self.outstanding.add_digested(&self.db.tree, &txn, changes);
                txn
            }
            Err(err) => prepare::refused(hdr, err),
        }
    }

    // ANCHOR: commit
    /// The final stage for a committed txn: apply, fire watches, then answer the session's
    /// requests that were waiting for it, in order. The request is found by its session and
    /// cxid: on a follower the leader chose the zxid, the client only knows its cxid.
    fn commit(&mut self, now_ms: u64, txn: Txn) -> Vec<Output> {
        let applied = self.db.apply(&txn);
        self.digests.applied(txn.zxid, self.db.tree.digest());
        self.outstanding.applied(txn.zxid);
        let mut out = vec![Output::Applied(txn.clone())];
        for trigger in &applied.triggers {
            out.extend(self.fire(trigger));
        }
        let session = txn.session;
        if let TxnOp::CreateSession { timeout_ms } = txn.op {
            self.sessions.track(session, timeout_ms, now_ms);
        }
        // Answer the request this txn was for (if a client of ours sent it) ...
        let head_is_this = match self.waiting.get(&session).and_then(VecDeque::front) {
            Some(Waiting::Write { cxid, .. }) => *cxid == txn.cxid,
            Some(Waiting::Connect { .. }) => matches!(txn.op, TxnOp::CreateSession { .. }),
            _ => false,
        };
        if head_is_this {
            let head = self.waiting.get_mut(&session).and_then(VecDeque::pop_front);
            match head {
                Some(Waiting::Write { conn, .. }) if finish::moved(&applied.result) => {
                    out.extend(self.moved_away(conn));
                }
                Some(Waiting::Write { conn, cxid, shape }) => {
                    let result = write_reply(&shape, &applied.result);
                    out.push(self.reply(conn, cxid, result, Some(&txn)));
                }
                Some(Waiting::Connect { conn }) => out.push(self.connected(conn, &txn)),
                _ => {}
            }
        }
        // ... then the reads queued behind it, and any sync this txn was the last wait of.
        out.extend(self.drain(session));
        for other in self.syncing.clone() {
            out.extend(self.drain(other));
        }
        if matches!(txn.op, TxnOp::CloseSession { .. }) {
            out.extend(self.forget_session(session));
        }
        out
    }
    // ANCHOR_END: commit

    /// `sync`: wait for every write prepared before it. A learner asks the leader; a leader
    /// or standalone server knows what it has prepared.
    fn sync(
        &mut self,
        conn: ConnId,
        xid: i32,
        session: SessionId,
        path: Option<String>,
    ) -> Vec<Output> {
        let after = match self.role {
            Role::Learner => None,
            _ => Some(self.last_zxid),
        };
        let mut out = Vec::new();
        if self.role == Role::Learner {
            let auth = self.ids_of(session);
            out.push(Output::Forward(Forwarded {
                session,
                cxid: xid,
                op: Forward::Request(proto::Request::Sync(proto::SyncRequest {
                    path: path.clone(),
                })),
                auth,
            }));
        }
        self.syncing.insert(session);
        out.extend(self.answer_in_turn(
            conn,
            Waiting::Sync {
                conn,
                xid,
                path,
                after,
            },
        ));
        out
    }

    /// Learner: the leader answered a forwarded sync; it is due once its turn comes.
    fn synced(&mut self, session: SessionId, cxid: i32) -> Vec<Output> {
        let queue = self.waiting.get_mut(&session);
        let waiting = queue.and_then(|q| {
            q.iter_mut()
                .find(|w| matches!(w, Waiting::Sync { xid, after: None, .. } if *xid == cxid))
        });
        // Every commit the leader sent before its SYNC has been applied already.
        let applied = self.db.last_processed_zxid();
        if let Some(Waiting::Sync { after, .. }) = waiting {
            *after = Some(applied);
        }
        self.drain(session)
    }

    fn connected(&self, conn: ConnId, txn: &Txn) -> Output {
        let timeout_ms = match txn.op {
            TxnOp::CreateSession { timeout_ms } => timeout_ms,
            _ => 0,
        };
        let read_only = self.conns.get(&conn).and_then(|c| c.read_only);
        handshake_answer(conn, txn.session, timeout_ms, read_only)
    }

    /// A closed or expired session: its connection closes, its watches and queue go.
    fn forget_session(&mut self, session: SessionId) -> Vec<Output> {
        self.sessions.remove(session);
        self.touched.remove(&session);
        self.watches.close_session(session);
        self.waiting.remove(&session);
        self.syncing.remove(&session);
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

    /// A read or sync is answered now if nothing of its session is waiting, else queued.
    fn answer_in_turn(&mut self, conn: ConnId, waiting: Waiting) -> Vec<Output> {
        let Some(session) = self.session_of(conn) else {
            return vec![Output::Close { conn }];
        };
        self.wait(session, waiting);
        self.drain(session)
    }

    /// Whether the head of a session's queue can be answered now.
    fn head_is_due(&self, session: SessionId) -> bool {
        match self.waiting.get(&session).and_then(VecDeque::front) {
            Some(Waiting::Read { .. }) => true,
            Some(Waiting::Sync { after, .. }) => {
                after.is_some_and(|z| z <= self.db.last_processed_zxid())
            }
            _ => false,
        }
    }

    /// Answers the reads and due syncs at the head of a session's queue, up to the next
    /// write (or sync still waiting).
    fn drain(&mut self, session: SessionId) -> Vec<Output> {
        let mut out = Vec::new();
        while self.head_is_due(session) {
            let head = self.waiting.get_mut(&session).and_then(VecDeque::pop_front);
            match head {
                Some(Waiting::Read { conn, xid, answer }) => {
                    out.extend(self.read(session, conn, xid, answer));
                }
                Some(Waiting::Sync {
                    conn, xid, path, ..
                }) => {
                    let body = Response::Sync(proto::SyncResponse { path });
                    out.push(self.reply(conn, xid, Ok(body), None));
                }
                _ => unreachable!("head_is_due saw a read or a due sync"),
            }
        }
        let queue = self.waiting.get(&session);
        if !queue.is_some_and(|q| q.iter().any(|w| matches!(w, Waiting::Sync { .. }))) {
            self.syncing.remove(&session);
        }
        if queue.is_some_and(VecDeque::is_empty) {
            self.waiting.remove(&session);
        }
        out
    }

    fn read(&mut self, session: SessionId, conn: ConnId, xid: i32, answer: Answer) -> Vec<Output> {
        let answer_err = match &answer {
            Answer::PartThenFail(_, err) => Some(*err),
            _ => None,
        };
        let request = match answer {
            // An opcode the server does not know: upstream's UnimplementedRequestProcessor
            // answers Unimplemented, then closes the connection (sendCloseSession).
            Answer::Fail(ZkError::Unimplemented) => {
                return vec![
                    self.reply(conn, xid, Err(ZkError::Unimplemented), None),
                    Output::Close { conn },
                ]
            }
            Answer::Fail(ZkError::SessionMoved) => return self.moved_away(conn),
            Answer::Fail(err) => return vec![self.reply(conn, xid, Err(err), None)],
            Answer::Read(proto::Request::Ping) => {
                return vec![self.reply(conn, xid, Ok(Response::Empty), None)]
            }
            Answer::Read(request) | Answer::PartThenFail(request, _) => request,
        };
        let ids = self
            .conns
            .get(&conn)
            .map(|c| c.ids.clone())
            .unwrap_or_default();
        let outcome = ReadContext {
            tree: &self.db.tree,
            watches: &mut self.watches,
            session,
            ids: &ids,
        }
        .read(&request);
        let mut out = self.deliver(outcome.fired);
        let failed = match answer_err {
            Some(err) => {
                out.push(self.reply(conn, xid, Err(err), None));
                return out;
            }
            None => outcome.failed,
        };
        out.push(match failed {
            Some(err) => self.reply_failed(conn, xid, err, outcome.result.ok()),
            None => self.reply(conn, xid, outcome.result, None),
        });
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
        let zxid = finish::reply_zxid(txn, &self.db.tree);
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

    /// A read that failed after its answer was begun: the code with the body built so far.
    fn reply_failed(&self, conn: ConnId, xid: i32, err: ZkError, body: Option<Response>) -> Output {
        let zxid = finish::reply_zxid(None, &self.db.tree);
        let header = ReplyHeader {
            xid,
            zxid,
            err: err.code(),
        };
        Output::Send {
            conn,
            message: ServerMessage::Reply(header, body),
        }
    }

    /// The connection went away; its session lives on until it expires or is resumed, but
    /// its watches die with the connection (`DataTree.removeCnxn`).
    fn disconnected(&mut self, conn: ConnId) {
        let Some(c) = self.conns.remove(&conn) else {
            return;
        };
        self.revalidating.retain(|_, waiting| waiting.conn != conn);
        if let Some(session) = c.session {
            if self.owners.get(&session) == Some(&conn) {
                self.owners.remove(&session);
                self.watches.close_session(session);
                // Requests still waiting have nobody to answer to.
                self.waiting.remove(&session);
                self.syncing.remove(&session);
            }
        }
    }

    // ANCHOR: expire
    /// The session tracker's tick: every session whose bucket is due is closed by a
    /// closeSession txn, like a client's close, so its ephemerals go in log order. Only a
    /// leader (or a standalone server) expires sessions: a learner's clients are kept alive
    /// by the leader, which hears of them in the learner's pings.
    fn expire(&mut self, now_ms: u64) -> Vec<Output> {
        if !matches!(self.role, Role::Leader | Role::Standalone) {
            return Vec::new();
        }
        let mut out = Vec::new();
        for session in self.sessions.expire(now_ms) {
            // The tracker's own request: cxid 0, as upstream's expirer.
            let op = Forward::Request(proto::Request::CloseSession);
            out.extend(self.decide(now_ms, session, 0, op));
        }
        out
    }
    // ANCHOR_END: expire

    /// When the driver should send the next [`Input::Tick`].
    pub fn next_tick_ms(&self) -> u64 {
        self.sessions.next_expiration_ms()
    }
}
