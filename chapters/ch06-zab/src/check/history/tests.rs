//! Hand-made histories: the checker passes a correct one and rejects each broken one, naming
//! the promise it breaks. A checker that accepted everything would pass the seed sweeps too;
//! these tests are what says it can tell.

use ch01_znode::{EphemeralOwner, SessionId, Stat, Txn, TxnHeader, TxnOp, ZkError, Zxid};
use ch03_sessions::proto::{CreateResponse, GetDataResponse, Response, SetDataResponse};

use super::*;
use crate::sim::{ClientOp, HistoryEvent, Outcome};

const S1: SessionId = SessionId(0x11);
const S2: SessionId = SessionId(0x22);

fn txn(zxid: i64, session: SessionId, cxid: i32, op: TxnOp) -> Txn {
    TxnHeader {
        session,
        cxid,
        zxid: Zxid(zxid),
        time_ms: 0,
    }
    .txn(op)
}

fn open(zxid: i64, session: SessionId) -> Txn {
    txn(zxid, session, 0, TxnOp::CreateSession { timeout_ms: 5000 })
}

fn create_txn(zxid: i64, session: SessionId, cxid: i32, path: &str) -> Txn {
    let op = TxnOp::Create {
        path: path.into(),
        data: Some(b"v".to_vec()),
        acl: vec![],
        owner: EphemeralOwner::None,
        parent_cversion: 0,
    };
    txn(zxid, session, cxid, op)
}

fn set_txn(zxid: i64, session: SessionId, cxid: i32, path: &str, data: &str, version: i32) -> Txn {
    let op = TxnOp::SetData {
        path: path.into(),
        data: Some(data.as_bytes().to_vec()),
        version,
    };
    txn(zxid, session, cxid, op)
}

fn error_txn(zxid: i64, session: SessionId, cxid: i32, err: ZkError) -> Txn {
    txn(zxid, session, cxid, TxnOp::error(err))
}

/// One client's history, written request by request.
struct Client {
    events: Vec<HistoryEvent>,
    next_id: u64,
}

impl Client {
    fn new() -> Client {
        Client {
            events: vec![],
            next_id: 0,
        }
    }

    /// `op` of `session` invoked at `at` with `xid` on connection 1, answered at `done`.
    fn op(
        &mut self,
        session: SessionId,
        xid: i32,
        op: ClientOp,
        at: Millis,
        done: Millis,
        outcome: Outcome,
    ) -> &mut Client {
        let id = self.next_id;
        self.next_id += 1;
        self.events.push(HistoryEvent::Invoke {
            at,
            id,
            session,
            server: ch01_znode::Sid(1),
            conn: 1,
            xid,
            op,
        });
        self.events.push(HistoryEvent::Complete {
            at: done,
            id,
            outcome,
        });
        self
    }

    fn event(&mut self, e: HistoryEvent) -> &mut Client {
        self.events.push(e);
        self
    }

    fn done(&mut self, k: u64) -> ClientHistory {
        (k, std::mem::take(&mut self.events))
    }
}

fn create(path: &str) -> ClientOp {
    ClientOp::Create {
        path: path.into(),
        data: "v".into(),
        ephemeral: false,
    }
}

fn set(path: &str, data: &str, version: i32) -> ClientOp {
    ClientOp::SetData {
        path: path.into(),
        data: data.into(),
        version,
    }
}

fn get(path: &str, watch: bool) -> ClientOp {
    ClientOp::GetData {
        path: path.into(),
        watch,
    }
}

fn ok(zxid: i64, response: Option<Response>) -> Outcome {
    Outcome::Ok {
        zxid: Zxid(zxid),
        response,
    }
}

fn err(zxid: i64, e: ZkError) -> Outcome {
    Outcome::Err {
        zxid: Zxid(zxid),
        code: e.code(),
    }
}

fn created(path: &str) -> Option<Response> {
    Some(Response::Create(CreateResponse { path: path.into() }))
}

fn was_set(version: i32, mzxid: i64) -> Option<Response> {
    Some(Response::SetData(SetDataResponse {
        stat: Stat {
            version,
            mzxid: Zxid(mzxid),
            ..Stat::default()
        },
    }))
}

fn data(value: &str, version: i32, mzxid: i64) -> Option<Response> {
    Some(Response::GetData(GetDataResponse {
        data: Some(value.as_bytes().to_vec()),
        stat: Stat {
            version,
            mzxid: Zxid(mzxid),
            ..Stat::default()
        },
    }))
}

/// The promises a verdict says were broken.
fn broken_by(verdict: Verdict) -> Vec<&'static str> {
    match verdict {
        Verdict::Ok => vec![],
        Verdict::Violations(f) => broken(&f).into_iter().collect(),
        Verdict::Unknown(why) => panic!("unknown: {why}"),
    }
}

/// Two sessions; c1 creates /k (zxid 3), then sends `set /k "a" version`, answered `outcome`,
/// which the witness records as `fourth` (zxid 4).
fn create_then_set(version: i32, outcome: Outcome, fourth: Txn) -> (Client, Vec<Txn>) {
    let mut c1 = Client::new();
    c1.op(S1, 1, create("/k"), 10, 12, ok(3, created("/k"))).op(
        S1,
        2,
        set("/k", "a", version),
        20,
        22,
        outcome,
    );
    let committed = vec![open(1, S1), open(2, S2), create_txn(3, S1, 1, "/k"), fourth];
    (c1, committed)
}

/// A correct start: the set is unconditional and takes the node to version 1.
fn base() -> (Client, Vec<Txn>) {
    create_then_set(-1, ok(4, was_set(1, 4)), set_txn(4, S1, 2, "/k", "a", 1))
}

#[test]
fn a_correct_history_passes() {
    let (mut c1, committed) = base();
    c1.op(S1, 3, get("/k", false), 30, 31, ok(4, data("a", 1, 4)));
    let mut c2 = Client::new();
    // A lagging follower may answer c2 with the state before the set: allowed.
    c2.op(S2, 1, get("/k", false), 40, 41, ok(3, data("v", 0, 3)));
    let verdict = check(&[c1.done(1), c2.done(2)], Some(&committed));
    assert_eq!(verdict, Verdict::Ok);
}

#[test]
fn without_a_witness_the_verdict_is_unknown_not_ok() {
    let (mut c1, _) = base();
    assert!(matches!(check(&[c1.done(1)], None), Verdict::Unknown(_)));
}

#[test]
fn a_write_that_ended_before_another_began_must_have_the_smaller_zxid() {
    // Linearizability (Herlihy & Wing) keeps real-time order: c2's create began at 30, after
    // c1's ended at 12, so its zxid must be the larger; here the witness has it smaller.
    let mut c1 = Client::new();
    c1.op(S1, 1, create("/k"), 10, 12, ok(4, created("/k")));
    let mut c2 = Client::new();
    c2.op(S2, 1, create("/j"), 30, 32, ok(3, created("/j")));
    let committed = vec![
        open(1, S1),
        open(2, S2),
        create_txn(3, S2, 1, "/j"),
        create_txn(4, S1, 1, "/k"),
    ];
    let verdict = check(&[c1.done(1), c2.done(2)], Some(&committed));
    assert_eq!(broken_by(verdict), vec![WRITES]);
}

#[test]
fn an_acknowledged_write_missing_from_the_committed_sequence_is_lost() {
    let (mut c1, mut committed) = base();
    committed.pop();
    let verdict = check(&[c1.done(1)], Some(&committed));
    assert_eq!(broken_by(verdict), vec![LOST]);
}

#[test]
fn a_txn_no_client_asked_for_is_rejected() {
    let (mut c1, mut committed) = base();
    committed.push(set_txn(5, S2, 9, "/k", "ghost", 2));
    let verdict = check(&[c1.done(1)], Some(&committed));
    assert_eq!(broken_by(verdict), vec![WRITES]);
}

#[test]
fn a_conditional_write_that_succeeds_at_the_wrong_version_breaks_cas() {
    // setData(version=5) on a node at version 0 must fail with BadVersion.
    let (mut c1, committed) =
        create_then_set(5, ok(4, was_set(1, 4)), set_txn(4, S1, 2, "/k", "a", 1));
    let verdict = check(&[c1.done(1)], Some(&committed));
    assert_eq!(broken_by(verdict), vec![CAS]);
}

#[test]
fn a_conditional_write_refused_at_the_right_version_breaks_cas() {
    let bad_version = error_txn(4, S1, 2, ZkError::BadVersion);
    let (mut c1, committed) = create_then_set(0, err(4, ZkError::BadVersion), bad_version);
    let verdict = check(&[c1.done(1)], Some(&committed));
    assert_eq!(broken_by(verdict), vec![CAS]);
}

#[test]
fn a_read_must_return_the_state_at_its_zxid() {
    let (mut c1, committed) = base();
    // At zxid 4 /k holds "a", version 1; answering "v" there is reading a state that never was.
    c1.op(S1, 3, get("/k", false), 30, 31, ok(4, data("v", 0, 3)));
    let verdict = check(&[c1.done(1)], Some(&committed));
    assert_eq!(broken_by(verdict), vec![READS]);
}

#[test]
fn a_read_may_not_see_a_write_that_began_after_it_ended() {
    let (mut c1, mut committed) = base();
    let mut c2 = Client::new();
    // c2 reads zxid 5 (c1's second set) at 30..31, but c1 only sent that set at 40.
    c2.op(S2, 1, get("/k", false), 30, 31, ok(5, data("b", 2, 5)));
    c1.op(S1, 3, set("/k", "b", -1), 40, 42, ok(5, was_set(2, 5)));
    committed.push(set_txn(5, S1, 3, "/k", "b", 2));
    let verdict = check(&[c1.done(1), c2.done(2)], Some(&committed));
    assert_eq!(broken_by(verdict), vec![READS]);
}

/// c2's sync, invoked at 30, then its read of `/k`, both answered at zxid 3 (`/k` as created).
fn sync_then_read_at_3() -> ClientHistory {
    let mut c2 = Client::new();
    let sync = ClientOp::Sync { path: "/k".into() };
    c2.op(S2, 1, sync, 30, 33, ok(3, None)).op(
        S2,
        2,
        get("/k", false),
        30,
        34,
        ok(3, data("v", 0, 3)),
    );
    c2.done(2)
}

#[test]
fn a_sync_then_read_must_see_every_write_that_ended_before_the_sync_began() {
    // c1's set (zxid 4) ended at 22; c2's sync began at 30, yet it and the read after it
    // answer at zxid 3. Without the sync that read would be allowed (a_correct_history_passes).
    let (mut c1, committed) = base();
    let verdict = check(&[c1.done(1), sync_then_read_at_3()], Some(&committed));
    assert_eq!(broken_by(verdict), vec![SYNC_READ]);
}

/// A leader that has not yet noticed it lost its quorum answers a sync at once, as upstream's
/// does (ZOOKEEPER-1675): c2's sync, answered at zxid 3 of epoch 0, misses c1's set that the
/// next epoch's leader committed (0x100000001) and answered before the sync began. Allowed;
/// the same miss within one epoch is not (the test above).
#[test]
fn a_sync_answered_by_a_stale_leader_may_miss_the_next_epochs_write() {
    let next_epoch = 0x100000001;
    let (mut c1, committed) = create_then_set(
        -1,
        ok(next_epoch, was_set(1, next_epoch)),
        set_txn(next_epoch, S1, 2, "/k", "a", 1),
    );
    let verdict = check(&[c1.done(1), sync_then_read_at_3()], Some(&committed));
    assert_eq!(verdict, Verdict::Ok);
}

#[test]
fn a_client_never_reads_older_than_its_own_write() {
    let (mut c1, committed) = base();
    c1.op(S1, 3, get("/k", false), 30, 31, ok(3, data("v", 0, 3)));
    let verdict = check(&[c1.done(1)], Some(&committed));
    assert_eq!(broken_by(verdict), vec![RYW]);
}

#[test]
fn a_sessions_writes_take_effect_in_the_order_sent() {
    // Pipelined: xid 1 then xid 2 on one connection; the witness has them the other way.
    let mut c1 = Client::new();
    c1.op(S1, 1, create("/a"), 10, 14, ok(4, created("/a"))).op(
        S1,
        2,
        create("/b"),
        11,
        15,
        ok(3, created("/b")),
    );
    let committed = vec![
        open(1, S1),
        open(2, S2),
        create_txn(3, S1, 2, "/b"),
        create_txn(4, S1, 1, "/a"),
    ];
    let verdict = check(&[c1.done(1)], Some(&committed));
    assert!(broken_by(verdict).contains(&FIFO));
}

#[test]
fn an_answer_out_of_request_order_breaks_fifo() {
    let (mut c1, committed) = base();
    c1.event(HistoryEvent::Anomaly {
        at: 25,
        text: "reply xid 3 out of order (expected 2)".into(),
    });
    let verdict = check(&[c1.done(1)], Some(&committed));
    assert_eq!(broken_by(verdict), vec![FIFO]);
}

/// c2 watches /k at zxid 3, may hear `event`, then reads /k at zxid 4 (after c1's set).
fn watch_then_read(event: Option<HistoryEvent>) -> Verdict {
    let (mut c1, committed) = base();
    let mut c2 = Client::new();
    c2.op(S2, 1, get("/k", true), 15, 16, ok(3, data("v", 0, 3)));
    if let Some(e) = event {
        c2.event(e);
    }
    c2.op(S2, 2, get("/k", false), 30, 31, ok(4, data("a", 1, 4)));
    check(&[c1.done(1), c2.done(2)], Some(&committed))
}

#[test]
fn a_watch_must_fire_before_its_client_sees_the_change() {
    // Programmer's guide, "ZooKeeper Watches": a client sees the watch event for a znode
    // before it sees the new data.
    assert_eq!(broken_by(watch_then_read(None)), vec![WATCH]);
    let fired = HistoryEvent::Watch {
        at: 25,
        session: S2,
        conn: 1,
        path: "/k".into(),
        event: EventType::NodeDataChanged,
    };
    assert_eq!(watch_then_read(Some(fired)), Verdict::Ok);
}

#[test]
fn a_watch_event_of_the_wrong_type_or_for_nothing_is_rejected() {
    let (mut c1, committed) = base();
    let mut c2 = Client::new();
    c2.op(S2, 1, get("/k", true), 15, 16, ok(3, data("v", 0, 3)))
        .event(HistoryEvent::Watch {
            at: 25,
            session: S2,
            conn: 1,
            path: "/k".into(),
            event: EventType::NodeDeleted,
        })
        .event(HistoryEvent::Watch {
            at: 26,
            session: S2,
            conn: 1,
            path: "/k".into(),
            event: EventType::NodeDataChanged,
        });
    let verdict = check(&[c1.done(1), c2.done(2)], Some(&committed));
    match verdict {
        Verdict::Violations(f) => {
            assert_eq!(f.len(), 2, "{f:?}");
            assert!(f.iter().all(|f| f.check == WATCH));
        }
        other => panic!("{other:?}"),
    }
}
