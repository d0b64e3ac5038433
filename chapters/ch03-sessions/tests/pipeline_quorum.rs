//! The pipeline as a member of an ensemble: a learner forwards, a leader prepares, everyone
//! applies the leader's commits. Zab itself is chapter 6; here the test plays it by hand,
//! carrying each `Forward` to the leader and each `Propose` back as a `Commit` to everyone.

use crate::support;

use ch01_znode::{Epoch, SessionId, Sid, Txn, TxnOp, ZkError, Zxid};
use ch03_sessions::pipeline::{
    ConnId, Forward, Forwarded, Input, Limits, Output, Pipeline, Role, ServerMessage,
    HELD_BEHIND_A_HANDSHAKE,
};
use ch03_sessions::proto::{self, ReplyHeader, Request, Response};
use support::{connect, connected, create, exists, frames_to, reply, send, try_reply, T0, TICK};

fn member(sid: u64) -> Pipeline {
    Pipeline::for_quorum(TICK, Limits::for_tick(TICK), Sid(sid), T0)
}

/// Server 1 leads epoch 1, server 2 follows it.
fn ensemble() -> (Pipeline, Pipeline) {
    let mut leader = member(1);
    let mut learner = member(2);
    leader.lead(Epoch(1), T0);
    learner.learn(T0);
    (leader, learner)
}

fn forwarded(out: &[Output]) -> Vec<Forwarded> {
    out.iter()
        .filter_map(|o| match o {
            Output::Forward(f) => Some(f.clone()),
            _ => None,
        })
        .collect()
}

fn proposed(out: &[Output]) -> Vec<Txn> {
    out.iter()
        .filter_map(|o| match o {
            Output::Propose(t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

/// The learner of [`ensemble`].
const LEARNER: Sid = Sid(2);

/// Plays Zab: the learner's forwarded requests go to the leader, whose proposals commit on
/// both servers at once. Returns what the learner did on the commits.
fn replicate(
    leader: &mut Pipeline,
    learner: &mut Pipeline,
    out: &[Output],
    now: u64,
) -> Vec<Output> {
    let mut on_learner = Vec::new();
    for f in forwarded(out) {
        let request = Input::Forwarded {
            learner: LEARNER,
            request: f,
        };
        let proposals = proposed(&leader.step(now, request));
        for txn in proposals {
            leader.step(now, Input::Commit(txn.clone()));
            on_learner.extend(learner.step(now, Input::Commit(txn)));
        }
    }
    on_learner
}

/// A session opened through the learner; the leader prepared its createSession.
fn open_on_learner(
    leader: &mut Pipeline,
    learner: &mut Pipeline,
    conn: u64,
) -> ch01_znode::SessionId {
    let out = connect(learner, conn, T0);
    assert!(
        connected(&out).is_none(),
        "nothing is answered before the commit"
    );
    let done = replicate(leader, learner, &out, T0);
    connected(&done).expect("the learner answers once the createSession commits")
}

#[test]
fn a_learner_forwards_a_write_and_answers_it_when_the_leaders_commit_arrives() {
    // zab.md §6: the follower forwards (REQUEST), the leader proposes, and the server the
    // client is connected to replies once it has applied the commit.
    let (mut leader, mut learner) = ensemble();
    let session = open_on_learner(&mut leader, &mut learner, 7);
    assert_eq!(session.server_id(), Sid(2), "the learner chose the id");
    assert_eq!(learner.database().sessions.get(&session), Some(&30_000));

    let out = send(&mut learner, 7, 1, create("/a", 0), T0);
    let f = forwarded(&out);
    assert_eq!(
        (f[0].session, f[0].cxid, &f[0].op),
        (session, 1, &Forward::Request(create("/a", 0)))
    );
    assert!(
        try_reply(&out, 7).is_none(),
        "the write waits for its commit"
    );

    let done = replicate(&mut leader, &mut learner, &out, T0);
    assert_eq!(
        reply(&done, 7),
        (
            ReplyHeader {
                xid: 1,
                zxid: Zxid(0x1_0000_0002),
                err: 0
            },
            Some(Response::Create(proto::CreateResponse {
                path: "/a".into()
            }))
        )
    );
    assert_eq!(leader.tree(), learner.tree(), "both applied the same txns");
}

#[test]
fn a_new_leader_numbers_its_first_txn_epoch_then_one() {
    // ZxidUtils.makeZxid(epoch, 1): the first proposal of epoch 5 is 0x500000001.
    let mut leader = member(1);
    leader.lead(Epoch(5), T0);
    let out = connect(&mut leader, 1, T0);
    assert_eq!(proposed(&out)[0].zxid, Zxid(0x5_0000_0001));
}

#[test]
fn the_leader_judges_a_request_against_the_changes_still_in_flight() {
    // PrepRequestProcessor.outstandingChanges: the second create of /a fails before the
    // first is committed.
    let mut leader = member(1);
    leader.lead(Epoch(1), T0);
    let session = proposed(&connect(&mut leader, 1, T0)).remove(0);
    leader.step(T0, Input::Commit(session));
    let first = proposed(&send(&mut leader, 1, 1, create("/a", 0), T0)).remove(0);
    let second = proposed(&send(&mut leader, 1, 2, create("/a", 0), T0)).remove(0);
    assert_eq!(first.op.err(), None);
    assert_eq!(second.op.err(), Some(ZkError::NodeExists));
    // Both answers leave in order once the commits arrive.
    let out1 = leader.step(T0, Input::Commit(first));
    let out2 = leader.step(T0, Input::Commit(second));
    assert_eq!(reply(&out1, 1).0.err, 0);
    assert_eq!(reply(&out2, 1).0.err, ZkError::NodeExists.code());
}

#[test]
fn a_read_waits_behind_its_own_sessions_forwarded_write() {
    // CommitProcessor: a session's requests are answered in order, so it reads its writes.
    let (mut leader, mut learner) = ensemble();
    open_on_learner(&mut leader, &mut learner, 7);
    let write = send(&mut learner, 7, 1, create("/a", 0), T0);
    let read = send(&mut learner, 7, 2, exists("/a", false), T0);
    assert!(
        try_reply(&read, 7).is_none(),
        "the read waits for the write"
    );
    let done = replicate(&mut leader, &mut learner, &write, T0);
    let frames = frames_to(&done, 7);
    assert_eq!(frames.len(), 2, "{frames:?}");
    let xids: Vec<i32> = done
        .iter()
        .filter_map(|o| match o {
            Output::Send {
                message: ch03_sessions::pipeline::ServerMessage::Reply(h, _),
                ..
            } => Some(h.xid),
            _ => None,
        })
        .collect();
    assert_eq!(xids, [1, 2]);
    assert_eq!(
        reply(&done[done.len() - 1..], 7).0.err,
        0,
        "the read sees /a"
    );
}

#[test]
fn another_servers_write_fires_this_servers_watches() {
    // Every server applies every commit, so a watch set on a follower hears a write made
    // through the leader.
    let (mut leader, mut learner) = ensemble();
    open_on_learner(&mut leader, &mut learner, 7);
    send(&mut learner, 7, 1, exists("/w", true), T0);
    let s = proposed(&connect(&mut leader, 1, T0)).remove(0);
    leader.step(T0, Input::Commit(s.clone()));
    learner.step(T0, Input::Commit(s));
    let write = proposed(&send(&mut leader, 1, 1, create("/w", 0), T0)).remove(0);
    let out = learner.step(T0, Input::Commit(write));
    assert!(
        matches!(&frames_to(&out, 7)[..], [ch03_sessions::pipeline::ServerMessage::Event(e)] if e.path.as_deref() == Some("/w")),
        "{out:?}"
    );
}

#[test]
fn a_sync_on_a_learner_is_answered_after_the_leaders_sync() {
    // zab.md §8: the follower forwards sync; SYNC comes back after the commits before it.
    let (mut leader, mut learner) = ensemble();
    let session = open_on_learner(&mut leader, &mut learner, 7);
    let sync = Request::Sync(proto::SyncRequest {
        path: Some("/".into()),
    });
    let out = send(&mut learner, 7, 3, sync.clone(), T0);
    assert!(try_reply(&out, 7).is_none());
    assert_eq!(forwarded(&out)[0].op, Forward::Request(sync));
    let out = learner.step(T0, Input::Synced { session, cxid: 3 });
    let (h, body) = reply(&out, 7);
    assert_eq!(h.xid, 3);
    assert_eq!(
        body,
        Some(Response::Sync(proto::SyncResponse {
            path: Some("/".into())
        }))
    );
}

#[test]
fn a_sync_on_the_leader_waits_for_the_writes_prepared_before_it() {
    // Leader.processSync: answered once every proposal outstanding when it arrived commits.
    let mut leader = member(1);
    leader.lead(Epoch(1), T0);
    let s1 = proposed(&connect(&mut leader, 1, T0)).remove(0);
    let s2 = proposed(&connect(&mut leader, 2, T0)).remove(0);
    leader.step(T0, Input::Commit(s1));
    leader.step(T0, Input::Commit(s2));
    let write = proposed(&send(&mut leader, 1, 1, create("/a", 0), T0)).remove(0);
    let sync = Request::Sync(proto::SyncRequest {
        path: Some("/a".into()),
    });
    let out = send(&mut leader, 2, 1, sync, T0);
    assert!(
        try_reply(&out, 2).is_none(),
        "another session's write is in flight"
    );
    let out = leader.step(T0, Input::Commit(write));
    assert_eq!(
        reply(&out, 2).0.xid,
        1,
        "the sync is answered with the commit"
    );
}

#[test]
fn only_the_leader_expires_sessions_and_learners_report_who_spoke() {
    // zab.md §7 and §9: the leader's tracker expires; a learner's pings carry its touches.
    let (mut leader, mut learner) = ensemble();
    let session = open_on_learner(&mut leader, &mut learner, 7);
    send(&mut learner, 7, -2, Request::Ping, T0 + 1000);
    assert_eq!(learner.take_touched(), vec![(session, 30_000)]);
    assert!(learner.take_touched().is_empty(), "each report is new");
    let late = T0 + 60_000;
    assert!(
        learner.step(late, Input::Tick).is_empty(),
        "learners never expire"
    );
    let out = leader.step(late, Input::Tick);
    let close = proposed(&out);
    assert_eq!(close.len(), 1);
    assert_eq!(close[0].session, session);
    assert!(matches!(close[0].op, TxnOp::CloseSession { .. }));
    // The close commits everywhere: the learner closes its client's connection.
    leader.step(late, Input::Commit(close[0].clone()));
    let out = learner.step(late, Input::Commit(close[0].clone()));
    assert!(out.contains(&Output::Close { conn: ConnId(7) }), "{out:?}");
}

#[test]
fn a_touch_reported_by_a_learner_keeps_the_session_alive_on_the_leader() {
    let (mut leader, mut learner) = ensemble();
    let session = open_on_learner(&mut leader, &mut learner, 7);
    leader.step(T0 + 25_000, Input::Touched(vec![(session, 30_000)]));
    assert!(proposed(&leader.step(T0 + 40_000, Input::Tick)).is_empty());
}

#[test]
fn a_stopped_server_closes_its_clients_and_refuses_new_ones() {
    // Follower.shutdown: every client connection is closed; they reconnect elsewhere.
    let (mut leader, mut learner) = ensemble();
    open_on_learner(&mut leader, &mut learner, 7);
    assert_eq!(learner.stop(), vec![Output::Close { conn: ConnId(7) }]);
    assert_eq!(learner.role(), Role::Stopped);
    assert_eq!(
        connect(&mut learner, 8, T0),
        vec![Output::Close { conn: ConnId(8) }]
    );
    // The session itself is data: it survives in the database.
    assert_eq!(learner.database().sessions.len(), 1);
}

#[test]
fn a_session_opened_on_a_learner_can_resume_on_the_leader() {
    // A session is in every server's database, so any server can take the reconnect.
    let (mut leader, mut learner) = ensemble();
    let session = open_on_learner(&mut leader, &mut learner, 7);
    let out = leader.step(
        T0 + 1000,
        Input::Connect {
            conn: ConnId(9),
            addr: support::local(),
            request: support::connect_request(
                session,
                ch03_sessions::session::session_password(session).to_vec(),
                30_000,
            ),
        },
    );
    assert_eq!(connected(&out), Some(session));
}

/// `session`'s reconnect handshake on `conn`, with the right password.
fn reconnect(server: &mut Pipeline, conn: u64, session: SessionId, now: u64) -> Vec<Output> {
    server.step(
        now,
        Input::Connect {
            conn: ConnId(conn),
            addr: support::local(),
            request: support::connect_request(
                session,
                ch03_sessions::session::session_password(session).to_vec(),
                20_000,
            ),
        },
    )
}

#[test]
fn a_learner_asks_the_leader_before_it_lets_a_reconnecting_session_in() {
    // A learner's session table may be stale, so a reconnect waits for the leader's answer
    // (LearnerZooKeeperServer.revalidateSession → Learner.validateSession, REVALIDATE).
    let (mut leader, mut learner) = ensemble();
    let session = open_on_learner(&mut leader, &mut learner, 7);
    let out = reconnect(&mut learner, 8, session, T0 + 1000);
    assert_eq!(
        out,
        vec![
            Output::Close { conn: ConnId(7) },
            Output::Revalidate {
                session,
                timeout_ms: 20_000
            }
        ]
    );
    // The leader knows the session alive (LearnerMaster.revalidateSession).
    assert!(leader.revalidate(T0 + 1000, session, 20_000, LEARNER));
    let out = leader_answers(&mut learner, session, true);
    assert_eq!(connected(&out), Some(session));
    assert_eq!(learner.session_of(ConnId(8)), Some(session));
    // The client can go on: its next request is served here.
    let out = send(&mut learner, 8, 1, exists("/", false), T0 + 1002);
    assert_eq!(reply(&out, 8).0.err, 0);
}

/// A learner whose client, having opened a session on connection 7 and lost it, reconnects
/// on connection 8 and waits for the leader's word.
fn waiting_for_the_leader() -> (Pipeline, SessionId) {
    let (mut leader, mut learner) = ensemble();
    let session = open_on_learner(&mut leader, &mut learner, 7);
    learner.step(T0, Input::Disconnected { conn: ConnId(7) });
    reconnect(&mut learner, 8, session, T0 + 1000);
    (learner, session)
}

/// The leader's word on `session`, reaching the learner a millisecond after the reconnect.
fn leader_answers(learner: &mut Pipeline, session: SessionId, valid: bool) -> Vec<Output> {
    learner.step(T0 + 1001, Input::Revalidated { session, valid })
}

#[test]
fn a_learner_refuses_a_reconnect_the_leader_calls_invalid() {
    // Learner.revalidate → finishSessionInit(cnxn, false): the invalid handshake answer (the
    // client's "session expired"), then the connection closes.
    let (mut learner, session) = waiting_for_the_leader();
    let out = leader_answers(&mut learner, session, false);
    let handshake = frames_to(&out, 8);
    let [ServerMessage::Connected(answer)] = handshake.as_slice() else {
        panic!("one handshake answer, got {handshake:?}");
    };
    assert_eq!((answer.session_id, answer.time_out), (SessionId(0), 0));
    assert_eq!(out.last(), Some(&Output::Close { conn: ConnId(8) }));
    assert_eq!(learner.session_of(ConnId(8)), None);
}

#[test]
fn a_request_sent_before_the_reconnect_is_answered_waits_for_the_leaders_word() {
    // Upstream stops reading the socket while the handshake waits (processConnectRequest's
    // disableRecv) and reads on once it is answered (finishSessionInit's enableRecv): a
    // request the client sent right behind its ConnectRequest is served after the handshake
    // answer, not taken for a request without a session.
    let (mut learner, session) = waiting_for_the_leader();
    let early = send(&mut learner, 8, 1, exists("/", false), T0 + 1000);
    assert_eq!(early, vec![], "held: no answer and no close yet");
    let out = leader_answers(&mut learner, session, true);
    assert_eq!(connected(&out), Some(session));
    let frames = frames_to(&out, 8);
    let answered = match frames.as_slice() {
        [ServerMessage::Connected(_), ServerMessage::Reply(h, _)] => (h.xid, h.err),
        other => panic!("the handshake answer, then the held request's reply: {other:?}"),
    };
    assert_eq!(answered, (1, 0));
    assert!(!out.contains(&Output::Close { conn: ConnId(8) }));
}

#[test]
fn a_request_held_behind_a_refused_reconnect_goes_with_the_connection() {
    let (mut learner, session) = waiting_for_the_leader();
    assert_eq!(
        send(&mut learner, 8, 1, exists("/", false), T0 + 1000),
        vec![]
    );
    let out = leader_answers(&mut learner, session, false);
    let frames = frames_to(&out, 8);
    assert!(
        matches!(frames.as_slice(), [ServerMessage::Connected(a)] if a.time_out == 0),
        "only the invalid handshake answer: {frames:?}"
    );
    assert_eq!(out.last(), Some(&Output::Close { conn: ConnId(8) }));
}

#[test]
fn a_client_flooding_a_handshake_that_waits_is_cut_off() {
    let (mut learner, session) = waiting_for_the_leader();
    for xid in 1..=HELD_BEHIND_A_HANDSHAKE as i32 {
        assert_eq!(
            send(&mut learner, 8, xid, exists("/", false), T0 + 1000),
            vec![]
        );
    }
    let over = send(&mut learner, 8, 1001, exists("/", false), T0 + 1000);
    assert_eq!(over, vec![Output::Close { conn: ConnId(8) }]);
    let late = Input::Revalidated {
        session,
        valid: true,
    };
    assert_eq!(
        learner.step(T0 + 1001, late),
        vec![],
        "nobody left to answer"
    );
}

#[test]
fn a_reconnect_waiting_for_the_leader_is_never_answered_if_the_learner_stops() {
    // The leader is gone: no answer comes, and when the learner notices it stops serving and
    // closes the waiting client, which tries another server (upstream: the learner's
    // shutdown closes every connection, pendingRevalidations with them).
    let (mut learner, session) = waiting_for_the_leader();
    assert_eq!(learner.stop(), vec![Output::Close { conn: ConnId(8) }]);
    learner.learn(T0 + 2000);
    let late = Input::Revalidated {
        session,
        valid: true,
    };
    assert_eq!(learner.step(T0 + 2001, late), vec![]);
}

#[test]
fn a_leader_calls_a_closed_or_unknown_session_invalid() {
    let (mut leader, mut learner) = ensemble();
    let session = open_on_learner(&mut leader, &mut learner, 7);
    assert!(!leader.revalidate(T0, SessionId(0x0200_0000_0000_0007), 20_000, LEARNER));
    let out = send(&mut learner, 7, 1, Request::CloseSession, T0);
    replicate(&mut leader, &mut learner, &out, T0);
    assert!(!leader.revalidate(T0, session, 20_000, LEARNER));
}

#[test]
fn a_forwarded_write_of_a_closed_session_becomes_a_session_expired_error_txn() {
    // PrepRequestProcessor.pRequest2Txn calls sessionTracker.checkSession before every write
    // but closeSession: a session that is gone or closing gets SessionExpired, as an error
    // txn. Otherwise a create forwarded just before the session expired would leave an
    // ephemeral no session owns, on every server.
    let (mut leader, _) = ensemble();
    let gone = ch01_znode::SessionId(0x0200_0000_0000_0007);
    let write = |session| Forwarded {
        session,
        cxid: 3,
        op: Forward::Request(Request::Create(proto::CreateRequest {
            path: "/e".into(),
            data: Some(vec![]),
            acl: proto::Acl::open_unsafe(),
            flags: 1,
        })),
        auth: vec![],
    };
    let request = Input::Forwarded {
        learner: LEARNER,
        request: write(gone),
    };
    let txns = proposed(&leader.step(T0, request));
    assert_eq!(txns.len(), 1);
    assert_eq!(txns[0].op, TxnOp::error(ZkError::SessionExpired));
}

#[test]
fn a_forwarded_multi_of_a_closed_session_fails_at_its_first_op() {
    // The session check is part of each op's pRequest2Txn: a multi fails at its first op
    // (SessionExpired), the others RuntimeInconsistency; an empty multi checks nothing.
    let (mut leader, _) = ensemble();
    let multi = |ops| Forwarded {
        session: ch01_znode::SessionId(0x0200_0000_0000_0007),
        cxid: 3,
        op: Forward::Request(Request::Multi(proto::MultiRequest { ops })),
        auth: vec![],
    };
    let check = proto::MultiOp::Check(proto::CheckVersionRequest {
        path: "/".into(),
        version: -1,
    });
    let request = Input::Forwarded {
        learner: LEARNER,
        request: multi(vec![check.clone(), check]),
    };
    let txns = proposed(&leader.step(T0, request));
    assert_eq!(
        txns[0].op,
        TxnOp::Multi(vec![
            TxnOp::error(ZkError::SessionExpired),
            TxnOp::error(ZkError::RuntimeInconsistency),
        ])
    );
    let empty = Input::Forwarded {
        learner: LEARNER,
        request: multi(vec![]),
    };
    let txns = proposed(&leader.step(T0, empty));
    assert_eq!(txns[0].op, TxnOp::Multi(vec![]));
}

/// Leader 1 with learners 2 and 3; a session opened through learner 2 on connection 7 has
/// moved to learner 3 (connection 9 there): learner 3 asked, and the leader said valid.
/// Connection 7 is still open on learner 2, which has not heard of the move.
fn moved_from_learner_2() -> (Pipeline, Pipeline, Pipeline, SessionId) {
    let (mut leader, mut two) = ensemble();
    let mut three = member(3);
    three.learn(T0);
    let session = open_on_learner(&mut leader, &mut two, 7);
    // Learner 3 applied the createSession too (it is in every server's database).
    three.replace_database(leader.database().clone());
    let out = reconnect(&mut three, 9, session, T0 + 1000);
    assert!(out.contains(&Output::Revalidate {
        session,
        timeout_ms: 20_000
    }));
    assert!(leader.revalidate(T0 + 1000, session, 20_000, Sid(3)));
    let out = three.step(
        T0 + 1001,
        Input::Revalidated {
            session,
            valid: true,
        },
    );
    assert_eq!(connected(&out), Some(session));
    (leader, two, three, session)
}

/// The leader's proposals for what learner `from` forwarded in `out`, committed on the
/// leader; returns them.
fn prepare_forwarded(leader: &mut Pipeline, from: Sid, out: &[Output], now: u64) -> Vec<Txn> {
    let mut txns = Vec::new();
    for f in forwarded(out) {
        let request = Input::Forwarded {
            learner: from,
            request: f,
        };
        for txn in proposed(&leader.step(now, request)) {
            leader.step(now, Input::Commit(txn.clone()));
            txns.push(txn);
        }
    }
    txns
}

fn set_data(path: &str) -> Request {
    Request::SetData(proto::SetDataRequest {
        path: path.into(),
        data: Some(b"x".to_vec()),
        version: -1,
    })
}

#[test]
fn a_write_forwarded_by_the_server_a_session_moved_away_from_fails_with_session_moved() {
    // The leader's prep checks every write's session against its owner, the learner that
    // revalidated it last (SessionTrackerImpl.checkSession(sessionId, owner), owner set by
    // Leader.revalidateSession): learner 2 still forwards for connection 7, so the write
    // becomes an error txn SessionMoved, and learner 2's final stage closes connection 7
    // without answering (FinalRequestProcessor: SessionMovedException → sendCloseSession).
    let (mut leader, mut two, mut three, session) = moved_from_learner_2();
    // A read on the old connection is still served: a learner does not check owners.
    let out = send(&mut two, 7, 1, exists("/", false), T0 + 1100);
    assert_eq!(reply(&out, 7).0.err, 0);

    let out = send(&mut two, 7, 2, set_data("/"), T0 + 1200);
    let txns = prepare_forwarded(&mut leader, LEARNER, &out, T0 + 1200);
    assert_eq!(txns.len(), 1);
    assert_eq!(txns[0].op, TxnOp::error(ZkError::SessionMoved));
    let done = two.step(T0 + 1200, Input::Commit(txns[0].clone()));
    assert!(try_reply(&done, 7).is_none(), "no answer: {done:?}");
    assert!(done.contains(&Output::Close { conn: ConnId(7) }));
    assert_eq!(two.session_of(ConnId(7)), None);

    // Where the session is now, the same write goes through.
    let out = send(&mut three, 9, 1, set_data("/"), T0 + 1300);
    let txns = prepare_forwarded(&mut leader, Sid(3), &out, T0 + 1300);
    let done = three.step(T0 + 1300, Input::Commit(txns[0].clone()));
    assert_eq!(reply(&done, 9).0.err, 0);
    assert_eq!(
        leader.sessions().get(session).and_then(|s| s.owner),
        Some(Sid(3))
    );
}

#[test]
fn a_multi_from_where_a_session_was_fails_at_its_first_op() {
    // Upstream checks the session in each op's pRequest2Txn: the first op fails with
    // SessionMoved, the others with RuntimeInconsistency, and the final stage closes the
    // connection on the SessionMoved result.
    let (mut leader, mut two, _, _) = moved_from_learner_2();
    let multi = Request::Multi(proto::MultiRequest {
        ops: vec![
            proto::MultiOp::SetData(proto::SetDataRequest {
                path: "/".into(),
                data: Some(vec![]),
                version: -1,
            }),
            proto::MultiOp::Check(proto::CheckVersionRequest {
                path: "/".into(),
                version: -1,
            }),
        ],
    });
    let out = send(&mut two, 7, 1, multi, T0 + 1200);
    let txns = prepare_forwarded(&mut leader, LEARNER, &out, T0 + 1200);
    assert_eq!(
        txns[0].op,
        TxnOp::Multi(vec![
            TxnOp::error(ZkError::SessionMoved),
            TxnOp::error(ZkError::RuntimeInconsistency),
        ])
    );
    let done = two.step(T0 + 1200, Input::Commit(txns[0].clone()));
    assert!(try_reply(&done, 7).is_none());
    assert!(done.contains(&Output::Close { conn: ConnId(7) }));
}

#[test]
fn a_leader_closes_its_own_connection_of_a_session_that_moved_to_a_learner_at_its_next_read() {
    // The leader's prep checks reads and pings too, against ServerCnxn.me: once learner 2
    // revalidated the session, the leader's old connection fails its next request, and a
    // SessionMovedException closes the connection.
    let (mut leader, _) = ensemble();
    let out = connect(&mut leader, 5, T0);
    let txn = proposed(&out)[0].clone();
    let session = connected(&leader.step(T0, Input::Commit(txn))).expect("a session");
    let out = send(&mut leader, 5, 1, exists("/", false), T0 + 10);
    assert_eq!(reply(&out, 5).0.err, 0, "its own client reads");
    assert!(leader.revalidate(T0 + 20, session, 20_000, LEARNER));
    let out = send(&mut leader, 5, 2, exists("/", false), T0 + 30);
    assert_eq!(out, vec![Output::Close { conn: ConnId(5) }]);
}
