//! What the clients saw, checked against what ZooKeeper promises them.
//!
//! The idea to take away: **every write reply carries its zxid, and the zxids are the order
//! of the writes.** A linearizability checker usually has to search for an order of the
//! operations that explains every answer, and may run out of time doing so. Here the order is
//! given: the committed sequence of txns (the witness) places every write that happened, the
//! ones whose answer was lost included, and each answer names its own place in it. So the
//! check is a replay with no search and no budget: walk the committed txns in order through
//! the specification ([`super::model`]), and ask of each request whether its answer is the
//! one the specification gives at its place, and whether its place respects real time. A
//! history the witness cannot explain is rejected; where there is no witness (a run that never
//! settled) the verdict is [`Verdict::Unknown`], never ok.
//!
//! What ZooKeeper promises, and what is checked here (and only that):
//! - **writes are linearizable** ([`WRITES`]): each write's effect and answer are those of the
//!   specification at its zxid, and a write that finished before another began has the smaller
//!   zxid; no txn appears that no client asked for.
//! - **no acknowledged write is lost** ([`LOST`]): a write answered with a zxid is in the
//!   committed sequence at that zxid.
//! - **versioned CAS** ([`CAS`]): `setData`/`delete` with a version succeed exactly when the
//!   node is at that version.
//! - **per-session FIFO** ([`FIFO`]): answers come in request order; a session's writes take
//!   effect in the order sent, and none is skipped on a connection while a later one is kept.
//! - **read-your-writes** ([`RYW`]): a client never reads a state older than one it has seen,
//!   its own writes included (ZooKeeper's "single system image").
//! - **reads return a committed state** ([`READS`]): a read answered at zxid Z returns the
//!   state after the txn Z, and never a write begun after the read ended. Plain reads are
//!   *not* required to be fresh: a lagging follower may serve an old state.
//! - **`sync` then read is linearizable** ([`SYNC_READ`]): a `sync` and the read after it see
//!   every write of the same epoch that finished before the `sync` began. A leader that has
//!   not yet noticed it lost its quorum answers a `sync` at once, as upstream's does
//!   (`Leader.processSync`; making it a quorum operation is ZOOKEEPER-1675, not in 3.8), so a
//!   write the next epoch's leader finished meanwhile may be missing.
//! - **a watch fires before its client sees the new data** ([`WATCH`]): after `getData(watch)`
//!   answered at Z, the first change of the node after Z is announced (with the right event
//!   type) on that connection before any answer at that change or later; no event comes for
//!   nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use ch01_znode::{Epoch, EventType, SessionId, Txn, TxnOp, ZkError, Zxid};
use ch03_sessions::proto::Response;
use ch04_paxos::sim::Millis;

use super::model::{is_write, Change, Effect, Namespace};
use crate::sim::{ClientOp, HistoryEvent, Outcome};

/// Writes are linearizable.
pub const WRITES: &str = "writes linearizable";
/// No acknowledged write is lost.
pub const LOST: &str = "no acknowledged write lost";
/// Conditional writes succeed only at the version they name.
pub const CAS: &str = "versioned CAS";
/// Per-session FIFO.
pub const FIFO: &str = "per-session FIFO";
/// Read-your-writes, and a client's view never goes back.
pub const RYW: &str = "read-your-writes";
/// A read returns the committed state it names.
pub const READS: &str = "reads return a committed state";
/// `sync` then read is linearizable.
pub const SYNC_READ: &str = "sync then read linearizable";
/// A watch fires before its client sees the new data.
pub const WATCH: &str = "watch before new data";

/// One broken promise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Which promise (one of this module's constants).
    pub check: &'static str,
    /// What happened.
    pub text: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.check, self.text)
    }
}

/// The checker's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every promise kept.
    Ok,
    /// Promises broken.
    Violations(Vec<Finding>),
    /// Not decided, and why: never reported as ok.
    Unknown(String),
}

/// One client's history: its number and what it did and saw, in order.
pub type ClientHistory = (u64, Vec<HistoryEvent>);

/// Checks every client's history against the committed sequence `committed` (the txns every
/// server ended with, in zxid order), or says it cannot without one.
pub fn check(clients: &[ClientHistory], committed: Option<&[Txn]>) -> Verdict {
    let Some(committed) = committed else {
        return Verdict::Unknown("no committed sequence to serve as witness".into());
    };
    let findings = Checker::new(clients).run(committed);
    match findings.is_empty() {
        true => Verdict::Ok,
        false => Verdict::Violations(findings),
    }
}

/// A request, with its answer and, once the witness is read, its place.
#[derive(Clone, Debug)]
struct Op<'a> {
    client: u64,
    session: SessionId,
    conn: u32,
    xid: i32,
    op: &'a ClientOp,
    invoked_at: Millis,
    /// When and how it was answered (`None`: lost, or never answered).
    answer: Option<(Millis, &'a Outcome)>,
    /// The zxid of its txn in the committed sequence, if it took effect.
    effect: Option<Zxid>,
    /// For a read right after a `sync` on the same connection: that sync.
    after_sync: Option<usize>,
}

impl Op<'_> {
    /// The zxid its answer carries, if it was answered.
    fn answered_zxid(&self) -> Option<Zxid> {
        match self.answer? {
            (_, Outcome::Ok { zxid, .. } | Outcome::Err { zxid, .. }) => Some(*zxid),
            (_, Outcome::Lost) => None,
        }
    }

    fn answered_at(&self) -> Option<Millis> {
        self.answered_zxid().and(self.answer.map(|(at, _)| at))
    }

    /// Whether `txn`, a SessionMoved error, may be this request's: its connection broke before
    /// the answer came, so the client may have resumed the session on another server before
    /// the leader prepared the request. (An answer that came back on the connection it was
    /// sent on rules that out.)
    fn may_have_moved(&self, txn: &Txn) -> bool {
        let moved = matches!(txn.op, TxnOp::Error { code } if code == ZkError::SessionMoved.code());
        moved && matches!(self.answer, Some((_, Outcome::Lost)))
    }

    /// Answered with an error that no txn carries (the session was unknown where it asked).
    fn refused_without_txn(&self) -> bool {
        matches!(self.answer, Some((_, Outcome::Err { code, .. }))
            if *code == ZkError::SessionExpired.code() || *code == ZkError::SessionMoved.code())
    }

    fn describe(&self) -> String {
        let answer = match self.answer {
            Some((at, Outcome::Ok { zxid, .. })) => format!("ok {zxid} at {at}ms"),
            Some((at, Outcome::Err { zxid, code })) => {
                format!("{} {zxid} at {at}ms", crate::sim::client::error_name(*code))
            }
            Some((at, Outcome::Lost)) => format!("lost at {at}ms"),
            None => "unanswered".into(),
        };
        format!(
            "c{} `{}` (session {} xid {}, invoked at {}ms, {answer})",
            self.client, self.op, self.session, self.xid, self.invoked_at
        )
    }
}

struct Checker<'a> {
    clients: &'a [ClientHistory],
    ops: Vec<Op<'a>>,
    by_request: HashMap<(SessionId, i32), usize>,
    /// Each client's ops by its own op id.
    by_id: HashMap<(u64, u64), usize>,
    findings: Vec<Finding>,
}

impl<'a> Checker<'a> {
    fn new(clients: &'a [ClientHistory]) -> Checker<'a> {
        let mut c = Checker {
            clients,
            ops: Vec::new(),
            by_request: HashMap::new(),
            by_id: HashMap::new(),
            findings: Vec::new(),
        };
        for (client, events) in clients {
            let mut last_on_conn: HashMap<u32, usize> = HashMap::new();
            for e in events {
                match e {
                    HistoryEvent::Invoke {
                        at,
                        id,
                        session,
                        conn,
                        xid,
                        op,
                        ..
                    } => {
                        let index = c.ops.len();
                        let after_sync = last_on_conn
                            .get(conn)
                            .copied()
                            .filter(|&i| matches!(c.ops[i].op, ClientOp::Sync { .. }))
                            .filter(|_| matches!(op, ClientOp::GetData { .. }));
                        c.ops.push(Op {
                            client: *client,
                            session: *session,
                            conn: *conn,
                            xid: *xid,
                            op,
                            invoked_at: *at,
                            answer: None,
                            effect: None,
                            after_sync,
                        });
                        last_on_conn.insert(*conn, index);
                        c.by_request.insert((*session, *xid), index);
                        c.by_id.insert((*client, *id), index);
                    }
                    HistoryEvent::Complete { at, id, outcome } => {
                        if let Some(&i) = c.by_id.get(&(*client, *id)) {
                            c.ops[i].answer = Some((*at, outcome));
                        }
                    }
                    _ => {}
                }
            }
        }
        c
    }

    fn find(&mut self, check: &'static str, text: String) {
        self.findings.push(Finding { check, text });
    }

    fn run(mut self, committed: &[Txn]) -> Vec<Finding> {
        let changes = self.replay(committed);
        self.acknowledged_writes_are_kept();
        self.real_time();
        self.fifo();
        self.never_back_in_time();
        self.watches(&changes);
        self.findings
    }

    // ANCHOR: replay
    /// Walks the witness: each committed txn is matched to the request it answers (by session
    /// and cxid), the specification says what that request should do there, and the txn and
    /// the answer must say the same. Reads are checked against the state at the zxid they
    /// were answered at. Returns every change of every node, for the watch check.
    fn replay(&mut self, committed: &[Txn]) -> BTreeMap<String, Vec<(Zxid, Change)>> {
        let mut ns = Namespace::default();
        let mut changes: BTreeMap<String, Vec<(Zxid, Change)>> = BTreeMap::new();
        let mut reads: BTreeMap<Zxid, Vec<usize>> = BTreeMap::new();
        for (i, op) in self.ops.iter().enumerate() {
            if let (ClientOp::GetData { .. }, Some(z)) = (op.op, op.answered_zxid()) {
                reads.entry(z).or_default().push(i);
            }
        }
        self.reads_at(&ns, reads.remove(&Zxid(0)).unwrap_or_default());
        for txn in committed {
            let request = self.by_request.get(&(txn.session, txn.cxid)).copied();
            match (&txn.op, request) {
                (TxnOp::CreateSession { .. }, _) => ns.open(txn.session),
                (_, Some(i)) if is_write(self.ops[i].op) => {
                    let op = self.ops[i].clone();
                    // A request whose client had moved on fails with SessionMoved and
                    // changes nothing: it takes no place in its session's order, as a request
                    // refused without a txn takes none.
                    let expected = match op.may_have_moved(txn) {
                        true => ns.moved(op.session),
                        false => {
                            self.ops[i].effect = Some(txn.zxid);
                            ns.apply(op.session, op.op, txn.zxid)
                        }
                    };
                    self.same_txn(&op, txn, &expected);
                    self.same_answer(&op, txn, &expected);
                    if let Ok(effect) = &expected {
                        for (path, change) in effect.changes(op.op) {
                            changes.entry(path).or_default().push((txn.zxid, change));
                        }
                    }
                }
                // The leader's session tracker expired the session (cxid 0): its ephemerals go.
                (TxnOp::CloseSession { .. }, None) if txn.cxid == 0 => {
                    for path in ns.close(txn.session) {
                        changes
                            .entry(path)
                            .or_default()
                            .push((txn.zxid, Change::Deleted));
                    }
                }
                _ => self.find(
                    WRITES,
                    format!("txn {txn} answers no write any client asked for"),
                ),
            }
            self.reads_at(&ns, reads.remove(&txn.zxid).unwrap_or_default());
        }
        for (zxid, ops) in reads {
            for i in ops {
                let text = format!(
                    "{} read at {zxid}, a zxid the committed sequence does not have",
                    self.ops[i].describe()
                );
                self.find(READS, text);
            }
        }
        changes
    }
    // ANCHOR_END: replay

    /// The txn does what the specification says its request does there.
    fn same_txn(&mut self, op: &Op, txn: &Txn, expected: &Result<Effect, ZkError>) {
        let agrees = match (expected, &txn.op) {
            (Err(e), TxnOp::Error { code }) => e.code() == *code,
            (Ok(Effect::Created(path)), TxnOp::Create { path: p, .. }) => path == p,
            (Ok(Effect::Set { version }), TxnOp::SetData { version: v, .. }) => version == v,
            (Ok(Effect::Deleted), TxnOp::Delete { .. }) => true,
            (Ok(Effect::Closed { .. }), TxnOp::CloseSession { .. }) => true,
            _ => false,
        };
        if !agrees {
            let text = format!(
                "{}: its txn {txn} does not do what the specification does there ({expected:?})",
                op.describe()
            );
            self.find(check_for(op.op, expected), text);
        }
    }

    /// The client's answer is the specification's, at the txn's zxid.
    fn same_answer(&mut self, op: &Op, txn: &Txn, expected: &Result<Effect, ZkError>) {
        let Some((_, outcome)) = op.answer else {
            return;
        };
        let agrees = match (outcome, expected) {
            (Outcome::Lost, _) => true,
            (Outcome::Err { zxid, code }, Err(e)) => *zxid == txn.zxid && *code == e.code(),
            (Outcome::Ok { zxid, response }, Ok(effect)) => {
                *zxid == txn.zxid
                    && match (effect, response) {
                        (Effect::Created(path), Some(Response::Create(r))) => r.path == *path,
                        (Effect::Set { version }, Some(Response::SetData(r))) => {
                            r.stat.version == *version && r.stat.mzxid == txn.zxid
                        }
                        (Effect::Deleted | Effect::Closed { .. }, _) => true,
                        _ => false,
                    }
            }
            _ => false,
        };
        if !agrees {
            let text = format!(
                "{} answered differently from the specification at {} ({expected:?})",
                op.describe(),
                txn.zxid
            );
            self.find(check_for(op.op, expected), text);
        }
    }

    /// Reads answered at the state `ns` is in.
    fn reads_at(&mut self, ns: &Namespace, reads: Vec<usize>) {
        for i in reads {
            let op = &self.ops[i];
            let ClientOp::GetData { path, .. } = op.op else {
                continue;
            };
            let node = ns.node(path);
            let agrees = match op.answer {
                Some((_, Outcome::Ok { response, .. })) => match (response, node) {
                    (Some(Response::GetData(r)), Some(n)) => {
                        r.data.as_deref().unwrap_or_default() == n.data.as_slice()
                            && r.stat.version == n.version
                            && r.stat.mzxid == n.mzxid
                    }
                    _ => false,
                },
                Some((_, Outcome::Err { code, .. })) if *code == ZkError::NoNode.code() => {
                    node.is_none()
                }
                _ => true,
            };
            if !agrees {
                let text = format!(
                    "{} is not the state at its zxid (there: {node:?})",
                    op.describe()
                );
                self.find(READS, text);
            }
        }
    }
    // ANCHOR: lost
    /// Every write answered with a txn's zxid took effect.
    fn acknowledged_writes_are_kept(&mut self) {
        let lost: Vec<String> = self
            .ops
            .iter()
            .filter(|op| is_write(op.op) && op.effect.is_none() && !op.refused_without_txn())
            .filter(|op| op.answered_zxid().is_some())
            .map(|op| format!("{} is not in the committed sequence", op.describe()))
            .collect();
        for text in lost {
            self.find(LOST, text);
        }
    }
    // ANCHOR_END: lost

    // ANCHOR: real_time
    /// Real time: if A was answered before B was invoked, A's place is not after B's. Places
    /// are writes at their zxid, and reads and syncs just after the zxid they were answered
    /// at. Every answered request bounds what comes after it (nothing may see a write begun
    /// after it ended); only writes, syncs and reads right after a sync must also see every
    /// write finished before they began.
    fn real_time(&mut self) {
        struct Point {
            at: (Zxid, u8),
            op: usize,
            /// Answered then: nothing placed before it may begin after.
            ends: Option<Millis>,
            /// Must come after everything that ended before this time.
            begins: Option<(Millis, &'static str)>,
        }
        let mut points = Vec::new();
        for (i, op) in self.ops.iter().enumerate() {
            let point = match (op.op, op.effect, op.answered_zxid()) {
                (_, Some(z), _) => Point {
                    at: (z, 0),
                    op: i,
                    ends: op.answered_at(),
                    begins: Some((op.invoked_at, WRITES)),
                },
                (ClientOp::Sync { .. }, None, Some(_)) if op.refused_without_txn() => continue,
                (ClientOp::Sync { .. }, None, Some(z)) => Point {
                    at: (z, 1),
                    op: i,
                    ends: op.answered_at(),
                    begins: Some((op.invoked_at, SYNC_READ)),
                },
                (ClientOp::GetData { .. }, None, Some(z)) => Point {
                    at: (z, 1),
                    op: i,
                    ends: op.answered_at(),
                    begins: op
                        .after_sync
                        .filter(|&s| self.ops[s].answered_zxid().is_some())
                        .map(|s| (self.ops[s].invoked_at, SYNC_READ)),
                },
                _ => continue,
            };
            points.push(point);
        }
        points.sort_by_key(|p| std::cmp::Reverse(p.at));
        // Per epoch, the earliest answer among the points placed strictly later than the
        // current one: a sync is held to its own epoch's (see the module doc), everything
        // else to the earliest of all.
        let mut earliest_later_in: BTreeMap<Epoch, (Millis, usize)> = BTreeMap::new();
        let mut k = 0;
        while k < points.len() {
            let group = points[k..]
                .iter()
                .take_while(|p| p.at == points[k].at)
                .count();
            for p in &points[k..k + group] {
                let bound = match p.begins {
                    Some((_, SYNC_READ)) => earliest_later_in.get(&p.at.0.epoch()).copied(),
                    _ => earliest_later_in.values().min().copied(),
                };
                let (Some((begins, check)), Some((ended, later))) = (p.begins, bound) else {
                    continue;
                };
                if ended < begins {
                    let check = match self.ops[later].op {
                        ClientOp::GetData { .. } | ClientOp::Sync { .. } if check == WRITES => {
                            READS
                        }
                        _ => check,
                    };
                    let text = format!(
                        "{} ended before {} began, yet comes later in zxid order ({} > {})",
                        self.ops[later].describe(),
                        self.ops[p.op].describe(),
                        self.place(later),
                        p.at.0
                    );
                    self.find(check, text);
                }
            }
            for p in &points[k..k + group] {
                if let Some(ended) = p.ends {
                    let in_epoch = earliest_later_in
                        .entry(p.at.0.epoch())
                        .or_insert((ended, p.op));
                    if ended < in_epoch.0 {
                        *in_epoch = (ended, p.op);
                    }
                }
            }
            k += group;
        }
    }
    // ANCHOR_END: real_time

    fn place(&self, i: usize) -> Zxid {
        let op = &self.ops[i];
        op.effect.or(op.answered_zxid()).unwrap_or(Zxid(0))
    }

    // ANCHOR: fifo
    /// Answers in request order (the client notes any other as an anomaly); a session's
    /// writes in zxid order as sent; on one connection, no write dropped before one kept.
    fn fifo(&mut self) {
        for (client, events) in self.clients {
            for e in events {
                if let HistoryEvent::Anomaly { at, text } = e {
                    self.find(FIFO, format!("c{client} at {at}ms: {text}"));
                }
            }
        }
        let mut last_write: HashMap<SessionId, usize> = HashMap::new();
        let mut dropped: HashMap<(u64, u32), usize> = HashMap::new();
        let mut found = Vec::new();
        for (i, op) in self
            .ops
            .iter()
            .enumerate()
            .filter(|(_, op)| is_write(op.op))
        {
            if let Some(z) = op.effect {
                if let Some(&before) = last_write.get(&op.session) {
                    let earlier = self.ops[before].effect.expect("kept writes only");
                    if earlier > z {
                        found.push(format!(
                            "{} took effect at {z}, before {} sent earlier in the session (at {earlier})",
                            op.describe(),
                            self.ops[before].describe()
                        ));
                    }
                }
                last_write.insert(op.session, i);
                if let Some(&gap) = dropped.get(&(op.client, op.conn)) {
                    found.push(format!(
                        "{} took effect, but {} sent before it on the same connection did not",
                        op.describe(),
                        self.ops[gap].describe()
                    ));
                }
            } else if !op.refused_without_txn() {
                dropped.entry((op.client, op.conn)).or_insert(i);
            }
        }
        for text in found {
            self.find(FIFO, text);
        }
    }
    // ANCHOR_END: fifo

    // ANCHOR: never_back
    /// A client never sees the past: every answer's zxid is at least that of every answer
    /// before it, its own writes' included (a reconnecting client names the last zxid it saw,
    /// and a server behind it refuses the connection).
    fn never_back_in_time(&mut self) {
        let mut found = Vec::new();
        for (client, events) in self.clients {
            let mut seen: Option<usize> = None;
            for e in events {
                let HistoryEvent::Complete { id, .. } = e else {
                    continue;
                };
                let Some(&i) = self.by_id.get(&(*client, *id)) else {
                    continue;
                };
                let Some(z) = self.ops[i].answered_zxid() else {
                    continue;
                };
                if let Some(s) = seen {
                    let before = self.ops[s].answered_zxid().expect("answered");
                    if z < before {
                        found.push(format!(
                            "{} answered at {z}, older than {} seen before it",
                            self.ops[i].describe(),
                            self.ops[s].describe()
                        ));
                    }
                }
                if seen.is_none_or(|s| self.ops[s].answered_zxid() < Some(z)) {
                    seen = Some(i);
                }
            }
        }
        for text in found {
            self.find(RYW, text);
        }
    }
    // ANCHOR_END: never_back

    // ANCHOR: watches
    /// A data watch set by `getData(watch)` answered at Z is owed the first change of the node
    /// after Z, as an event of the right type, before any answer at that change or later on
    /// the same connection. An event nobody is owed is a violation too.
    fn watches(&mut self, changes: &BTreeMap<String, Vec<(Zxid, Change)>>) {
        let next_change = |path: &str, after: Zxid| {
            changes
                .get(path)
                .and_then(|c| c.iter().find(|(z, _)| *z > after))
                .copied()
        };
        let mut found = Vec::new();
        for (client, events) in self.clients {
            // (connection, path) -> the change owed, if any has happened.
            let mut owed: BTreeMap<(u32, String), Owed> = BTreeMap::new();
            for e in events {
                match e {
                    HistoryEvent::Complete { id, .. } => {
                        let Some(&i) = self.by_id.get(&(*client, *id)) else {
                            continue;
                        };
                        let op = &self.ops[i];
                        let Some(z) = op.answered_zxid() else {
                            continue;
                        };
                        let late: Vec<(u32, String)> = owed
                            .iter()
                            .filter(|((conn, _), (_, change))| {
                                *conn == op.conn && change.is_some_and(|(c, _)| c <= z)
                            })
                            .map(|(k, _)| k.clone())
                            .collect();
                        for key in late {
                            let (set_by, change) = owed.remove(&key).expect("just seen");
                            found.push(format!(
                                "{} answered at {z} before the watch set by {} fired for the change of {} at {}",
                                op.describe(),
                                self.ops[set_by].describe(),
                                key.1,
                                change.expect("filtered").0
                            ));
                        }
                        match (op.op, op.answer) {
                            (
                                ClientOp::GetData { path, watch: true },
                                Some((_, Outcome::Ok { .. })),
                            ) => {
                                owed.entry((op.conn, path.clone()))
                                    .or_insert((i, next_change(path, z)));
                            }
                            (ClientOp::Close, _) => owed.retain(|(c, _), _| *c != op.conn),
                            _ => {}
                        }
                    }
                    HistoryEvent::Watch {
                        at,
                        conn,
                        path,
                        event,
                        ..
                    } => match owed.remove(&(*conn, path.clone())) {
                        None => found.push(format!(
                            "c{client} at {at}ms: an event ({event}) for {path} that no watch on connection {conn} asked for"
                        )),
                        Some((set_by, None)) => found.push(format!(
                            "c{client} at {at}ms: an event ({event}) for {path}, which has not changed since {}",
                            self.ops[set_by].describe()
                        )),
                        Some((set_by, Some((z, change)))) => {
                            let expected = match change {
                                Change::DataChanged => EventType::NodeDataChanged,
                                Change::Deleted => EventType::NodeDeleted,
                                Change::Created => EventType::NodeCreated,
                            };
                            if *event != expected {
                                found.push(format!(
                                    "c{client} at {at}ms: event {event} for {path}, but its change at {z} is {expected:?} (watch set by {})",
                                    self.ops[set_by].describe()
                                ));
                            }
                        }
                    },
                    HistoryEvent::Disconnected { conn, .. } => {
                        owed.retain(|(c, _), _| c != conn);
                    }
                    _ => {}
                }
            }
        }
        for text in found {
            self.find(WATCH, text);
        }
    }
    // ANCHOR_END: watches
}

/// A watch owed: the request that set it, and the change it is owed (once there is one).
type Owed = (usize, Option<(Zxid, Change)>);

/// The promise a disagreement about a write breaks: a conditional write whose success or
/// BadVersion is wrong breaks the CAS promise, anything else linearizability.
fn check_for(op: &ClientOp, expected: &Result<Effect, ZkError>) -> &'static str {
    let conditional = matches!(op, ClientOp::SetData { version, .. } | ClientOp::Delete { version, .. } if *version >= 0);
    let cas_decision = matches!(
        expected,
        Err(ZkError::BadVersion) | Ok(Effect::Set { .. } | Effect::Deleted)
    );
    match conditional && cas_decision {
        true => CAS,
        false => WRITES,
    }
}

/// The distinct promises broken, for a summary.
pub fn broken(findings: &[Finding]) -> BTreeSet<&'static str> {
    findings.iter().map(|f| f.check).collect()
}

#[cfg(test)]
mod tests;
