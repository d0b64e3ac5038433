//! Every scenario of the chapter: it shows what it says it shows (for many seeds, not only the
//! one the book prints), its story is pinned (`tests/snapshots/<scenario>.snap`, what the book
//! shows), and so is its sequence diagram (`book/src/diagrams/ch06-<scenario>.svg`).
//!
//! A changed diagram fails the test; regenerate them all with
//! `KEEPER_BLESS=1 cargo test -p ch06-zab --test all scenarios::`, then look at them before
//! committing. Review changed stories with `cargo insta review`.

use std::path::PathBuf;

use ch01_znode::{Sid, TxnOp, ZkError, Zxid};
use ch03_sessions::pipeline::ServerMessage;
use ch03_sessions::proto::Response;
use ch04_paxos::sim::{
    Choice, ChoiceError, DropReason, Due, Event, NodeId, Sim, UpcomingOf, CLIENT_BASE,
};
use ch05_election::vote::ServerState;
use ch06_zab::message::Message;
use ch06_zab::render::{diagram, transcript, Story, ZabEntry};
use ch06_zab::scenarios::{create, ephemeral, get, run, setup, ClientSetup, Run, ScenarioName};
use ch06_zab::sim::{ClientOp, HistoryEvent, Node, Outcome, Script, ServerFrame, SimNote, Wire};
use ch06_zab::trace::{Note, ZabNote};

/// The seed the book prints.
const SEED: u64 = 1;
/// The seeds every scenario must show its behaviour for.
const SEEDS: std::ops::RangeInclusive<u64> = 1..=25;

const C1: NodeId = CLIENT_BASE + 1;

/// Runs `name` with every seed of [`SEEDS`] and checks `shows` on each run; then pins the
/// book's run (seed 1): its story as a snapshot, its diagram as a file.
fn check(name: ScenarioName, shows: impl Fn(&Run)) {
    for seed in SEEDS {
        let run = run(&setup(name), seed).expect("no invariant breaks");
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| shows(&run)));
        if let Err(e) = outcome {
            eprintln!(
                "{} fails with seed {seed}: replay with `{}`",
                name.as_str(),
                setup(name).command(seed)
            );
            std::panic::resume_unwind(e);
        }
    }
    let setup = setup(name);
    let run = run(&setup, SEED).expect("no invariant breaks");
    let story = Story::new().tell(run.sim.trace());
    let text = transcript(&setup, SEED, &story, &run, false);
    insta::with_settings!({ omit_expression => true, prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name.as_str(), text);
    });
    let title = format!("ch06 {}", name.as_str());
    let svg = diagram(&title, &setup, &story, &run.sim.ids());
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../book/src/diagrams")
        .join(format!("ch06-{}.svg", name.as_str()));
    if std::env::var_os("KEEPER_BLESS").is_some() {
        std::fs::write(&path, &svg).expect("write the diagram");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == svg,
        "{} is stale: rerun with KEEPER_BLESS=1",
        path.display()
    );
}

// ---- reading a run ----

/// What `pick` takes from each message that arrived, with its position in the trace.
fn delivered<'r, T>(
    run: &'r Run,
    pick: impl Fn(NodeId, NodeId, &'r Wire) -> Option<T>,
) -> Vec<(usize, T)> {
    run.sim
        .trace()
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match &e.event {
            Event::Deliver { from, to, msg, .. } => pick(*from, *to, msg).map(|t| (i, t)),
            _ => None,
        })
        .collect()
}

/// A Zab packet that arrived: (position in the trace, from, to, packet).
fn zab_delivered(run: &Run) -> Vec<(usize, NodeId, NodeId, &Message)> {
    delivered(run, |from, to, wire| match wire {
        Wire::Zab { msg, .. } => Some((from, to, msg)),
        _ => None,
    })
    .into_iter()
    .map(|(i, (from, to, msg))| (i, from, to, msg))
    .collect()
}

/// Every Zab packet sent, whether it arrived or not: (from, to, packet).
fn zab_sent(run: &Run) -> Vec<(NodeId, NodeId, &Message)> {
    run.sim
        .trace()
        .iter()
        .filter_map(|e| match &e.event {
            Event::Send {
                from,
                to,
                msg: Wire::Zab { msg, .. },
                ..
            } => Some((*from, *to, msg)),
            _ => None,
        })
        .collect()
}

/// The Zab notes of the run: (position, node, note).
fn zab_notes(run: &Run) -> Vec<(usize, NodeId, &ZabNote)> {
    run.sim
        .trace()
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match &e.event {
            Event::Note {
                node,
                note: SimNote::Peer {
                    note: Note::Zab(z), ..
                },
            } => Some((i, *node, z)),
            _ => None,
        })
        .collect()
}

/// Where `node` applied the txn at `zxid`.
fn applied_at(run: &Run, node: NodeId, zxid: Zxid) -> Option<usize> {
    run.sim.trace().iter().position(|e| {
        matches!(&e.event, Event::Note { node: n, note: SimNote::Applied { zxid: z, .. } }
            if *n == node && *z == zxid)
    })
}

/// Where the leader noted the commit of `zxid`, and with whose ACKs.
fn committed(run: &Run, zxid: Zxid) -> Option<(usize, NodeId, Vec<Sid>)> {
    zab_notes(run).into_iter().find_map(|(i, node, z)| match z {
        ZabNote::Committed { zxid: z, acks } if *z == zxid => Some((i, node, acks.clone())),
        _ => None,
    })
}

/// The zxid the leader gave the create of `path` (from its PROPOSAL, or its INFORM).
fn zxid_of_create(run: &Run, path: &str) -> Zxid {
    zab_sent(run)
        .into_iter()
        .find_map(|(_, _, m)| {
            let txn = match &m {
                Message::Proposal(entry) => &entry.txn,
                Message::Inform(entry) => &entry.txn,
                _ => return None,
            };
            match &txn.op {
                TxnOp::Create { path: p, .. } if p == path => Some(txn.zxid),
                _ => None,
            }
        })
        .unwrap_or_else(|| panic!("a proposal creates {path}"))
}

/// How client `ck`'s request `op` ended (`None`: no answer).
fn outcome(run: &Run, k: u64, op: &ClientOp) -> Option<Outcome> {
    let history = run.client(k).history();
    let id = history.iter().find_map(|e| match e {
        HistoryEvent::Invoke { id, op: o, .. } if o == op => Some(*id),
        _ => None,
    });
    let id = id.unwrap_or_else(|| panic!("c{k} invokes {op}"));
    history.iter().find_map(|e| match e {
        HistoryEvent::Complete { id: i, outcome, .. } if *i == id => Some(outcome.clone()),
        _ => None,
    })
}

/// When client `ck` invoked `op`, and when it was answered.
fn invoked_and_answered(run: &Run, k: u64, op: &ClientOp) -> (u64, Option<u64>) {
    let history = run.client(k).history();
    let (id, at) = history
        .iter()
        .find_map(|e| match e {
            HistoryEvent::Invoke { id, op: o, at, .. } if o == op => Some((*id, *at)),
            _ => None,
        })
        .unwrap_or_else(|| panic!("c{k} invokes {op}"));
    let done = history.iter().find_map(|e| match e {
        HistoryEvent::Complete { id: i, at, .. } if *i == id => Some(*at),
        _ => None,
    });
    (at, done)
}

/// The data a successful read returned.
fn read_data(outcome: &Option<Outcome>) -> Option<String> {
    match outcome {
        Some(Outcome::Ok {
            response: Some(Response::GetData(r)),
            ..
        }) => Some(String::from_utf8_lossy(r.data.as_deref().unwrap_or_default()).into()),
        _ => None,
    }
}

fn error_code(outcome: &Option<Outcome>) -> Option<i32> {
    match outcome {
        Some(Outcome::Err { code, .. }) => Some(*code),
        _ => None,
    }
}

/// Who sent client `ck` a reply to request `xid`.
fn replied_by(run: &Run, k: u64, xid: i32) -> Vec<NodeId> {
    run.sim
        .trace()
        .iter()
        .filter_map(|e| match &e.event {
            Event::Deliver {
                from,
                to,
                msg:
                    Wire::ToClient {
                        frame: ServerFrame::Message(ServerMessage::Reply(h, _)),
                        ..
                    },
                ..
            } if *to == CLIENT_BASE + k && h.xid == xid => Some(*from),
            _ => None,
        })
        .collect()
}

/// Every server holds the same database at the end, and it has (or lacks) `path`.
fn all_servers_agree(run: &Run, path: &str, present: bool) {
    let dbs: Vec<_> = run.servers().map(|s| s.peer().database()).collect();
    for (s, db) in run.servers().zip(&dbs) {
        assert_eq!(
            db.tree.node(path).is_some(),
            present,
            "n{}: {path} {}",
            s.id(),
            if present { "missing" } else { "present" }
        );
        assert_eq!(*db, dbs[0], "n{} and n1 differ", s.id());
    }
}

/// The course's picture, either way in: the leader commits on a quorum of ACKs (its own and
/// the fast follower's) before the slow follower's ACK arrives, and the server the client is
/// connected to answers it after applying the commit. (zab.md §6 steps 4-8)
fn a_write_commits_on_half_the_acks(run: &Run, client_on: NodeId, data: &str) {
    let z = zxid_of_create(run, "/course");
    let (commit, leader, acks) = committed(run, z).expect("the write is committed");
    assert_eq!(leader, 3, "n3 leads");
    assert_eq!(
        acks,
        vec![Sid(1), Sid(3)],
        "2 of 3 suffice; slow n2 is not awaited"
    );
    let slow_ack = zab_delivered(run)
        .into_iter()
        .find(|(_, from, to, m)| (*from, *to) == (2, 3) && **m == Message::Ack(z))
        .expect("slow n2's ACK arrives in the end")
        .0;
    assert!(commit < slow_ack, "the COMMIT does not wait for slow n2");
    assert_eq!(
        replied_by(run, 1, 1),
        vec![client_on],
        "the connected server answers"
    );
    let applied = applied_at(run, client_on, z).expect("it applies the commit");
    let answered = run
        .sim
        .trace()
        .iter()
        .position(|e| {
            matches!(&e.event, Event::Send { from, to, msg: Wire::ToClient { .. }, .. }
                if *from == client_on && *to == C1)
                && e.at >= run.sim.trace()[commit].at
        })
        .expect("a reply leaves");
    assert!(applied < answered, "it answers after applying");
    assert!(matches!(
        outcome(run, 1, &create("/course", data)),
        Some(Outcome::Ok { zxid, .. }) if zxid == z
    ));
    all_servers_agree(run, "/course", true);
}

#[test]
fn write_to_leader_commits_on_half_the_acks_and_the_leader_answers() {
    check(ScenarioName::WriteToLeader, |run| {
        a_write_commits_on_half_the_acks(run, 3, "leader");
    });
}

#[test]
fn write_to_follower_is_forwarded_committed_on_half_the_acks_and_answered_by_the_follower() {
    check(ScenarioName::WriteToFollower, |run| {
        a_write_commits_on_half_the_acks(run, 1, "follower");
        // FollowerRequestProcessor: the follower forwards the write as a REQUEST.
        assert!(zab_delivered(run).iter().any(|(_, from, to, m)| {
            (*from, *to) == (1, 3) && matches!(m, Message::Request(f) if f.cxid == 1)
        }));
        // The leader never talks to a client of a follower.
        assert!(!run.sim.trace().iter().any(|e| matches!(&e.event,
            Event::Send { from: 3, to, .. } if *to == C1)));
    });
}

#[test]
fn a_proposal_only_the_crashed_leader_logged_is_never_committed() {
    // A proposal that no quorum logged may be lost, and then it is lost everywhere: the new
    // leader's history does not have it, and the old leader cuts it off its log when it
    // comes back (zab.md §5, TRUNC).
    check(ScenarioName::LeaderCrashMinorityAck, |run| {
        let z = zxid_of_create(run, "/lost");
        assert!(committed(run, z).is_none(), "nobody commits {z}");
        assert!(!zab_sent(run)
            .iter()
            .any(|(_, _, m)| **m == Message::Commit(z)));
        assert!(
            !zab_delivered(run)
                .iter()
                .any(|(_, _, _, m)| matches!(m, Message::Proposal(t) if t.txn.zxid == z)),
            "only n3 ever had it"
        );
        assert_eq!(outcome(run, 1, &create("/lost", "minority")), None);
        let no_node = ch01_znode::ZkError::NoNode.code();
        assert_eq!(error_code(&outcome(run, 2, &get("/lost"))), Some(no_node));
        assert_eq!(run.server(2).peer().state(), ServerState::Leading);
        assert!(zab_notes(run).iter().any(|(_, node, n)| *node == 2
            && matches!(
                n,
                ZabNote::SyncLearner {
                    learner: Sid(3),
                    mode: "TRUNC",
                    ..
                }
            )));
        assert!(run.server(3).disk().log.iter().all(|t| t.zxid != z));
        all_servers_agree(run, "/lost", false);
    });
}

#[test]
fn a_proposal_a_majority_logged_survives_the_leader_crash() {
    // Nothing was committed before the crash, yet the new leader is elected with the
    // proposal in its log (votes name the last logged zxid) and makes it everyone's history.
    check(ScenarioName::LeaderCrashMajorityAck, |run| {
        let z = zxid_of_create(run, "/kept");
        let crash = run
            .sim
            .trace()
            .iter()
            .position(|e| matches!(e.event, Event::Crash { node: 3 }))
            .expect("n3 crashes");
        assert!(
            committed(run, z).is_none_or(|(i, _, _)| i > crash),
            "nothing commits {z} before the crash"
        );
        let acks_lost = run.sim.trace().iter().filter(|e| {
            matches!(&e.event, Event::Drop { to: 3, reason: DropReason::Down,
                msg: Wire::Zab { msg: Message::Ack(a), .. }, .. } if *a == z)
        });
        assert_eq!(acks_lost.count(), 2, "n1's and n2's ACKs find n3 gone");
        assert_eq!(outcome(run, 1, &create("/kept", "majority")), None);
        assert_eq!(
            read_data(&outcome(run, 2, &get("/kept"))).as_deref(),
            Some("majority")
        );
        assert_eq!(run.server(2).peer().state(), ServerState::Leading);
        assert_eq!(run.server(2).peer().epochs().current, ch01_znode::Epoch(2));
        all_servers_agree(run, "/kept", true);
    });
}

/// The learner the leader synced with `mode` (each sync it chose: learner, mode).
fn syncs(run: &Run) -> Vec<(Sid, &'static str)> {
    zab_notes(run)
        .into_iter()
        .filter_map(|(_, _, n)| match n {
            ZabNote::SyncLearner { learner, mode, .. } => Some((*learner, *mode)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_follower_that_missed_a_few_writes_gets_them_by_diff() {
    // LearnerHandler.syncFollower: the learner's last zxid is in the leader's committed log,
    // so it gets DIFF and each txn it lacks as PROPOSAL + COMMIT, each PROPOSAL with the
    // digest the leader logged (`ZKDatabase.addCommittedProposal` keeps the serialized
    // request, `TxnDigest` included). (zab.md §5)
    check(ScenarioName::FollowerLagging, |run| {
        assert_eq!(syncs(run).last(), Some(&(Sid(1), "DIFF")));
        let resent: Vec<Zxid> = ["/a", "/b", "/c"]
            .iter()
            .map(|p| zxid_of_create(run, p))
            .collect();
        let restart = run
            .sim
            .trace()
            .iter()
            .position(|e| matches!(e.event, Event::Restart { node: 1 }))
            .expect("n1 restarts");
        let to_n1: Vec<&Message> = zab_delivered(run)
            .into_iter()
            .filter(|(i, from, to, _)| *i > restart && (*from, *to) == (3, 1))
            .map(|(_, _, _, m)| m)
            .collect();
        for z in &resent {
            assert!(to_n1.iter().any(
                |m| matches!(m, Message::Proposal(t) if t.txn.zxid == *z && t.digest.is_some())
            ));
            assert!(to_n1.contains(&&Message::Commit(*z)));
        }
        assert!(!to_n1.iter().any(|m| matches!(m, Message::Snap { .. })));
        all_servers_agree(run, "/c", true);
    });
}

#[test]
fn a_follower_behind_the_leaders_window_gets_a_snapshot() {
    // Its last zxid is older than the oldest txn the leader keeps (commitLogCount): SNAP, and
    // no txn is sent one by one. (zab.md §5, last row)
    check(ScenarioName::FollowerFarBehind, |run| {
        assert_eq!(
            setup(ScenarioName::FollowerFarBehind)
                .config
                .commit_log_count,
            2
        );
        assert_eq!(syncs(run).last(), Some(&(Sid(1), "SNAP")));
        let to_n1 = zab_delivered(run)
            .into_iter()
            .filter(|(_, from, to, _)| (*from, *to) == (3, 1))
            .skip_while(|(_, _, _, m)| !matches!(m, Message::Snap { .. }))
            .take_while(|(_, _, _, m)| !matches!(m, Message::NewLeader { .. }));
        assert_eq!(to_n1.count(), 1, "the SNAP alone, then NEWLEADER");
        all_servers_agree(run, "/d", true);
    });
}

#[test]
fn a_follower_ahead_of_the_leader_truncates_its_log() {
    // Its last zxid is past the leader's newest txn: TRUNC to that txn, and the txn nobody
    // committed is gone from its log and its tree. (zab.md §5, third row)
    check(ScenarioName::FollowerAhead, |run| {
        let ahead = Zxid(0x1_0000_0003);
        assert_eq!(syncs(run), vec![(Sid(1), "DIFF"), (Sid(3), "TRUNC")]);
        assert!(zab_delivered(run).iter().any(|(_, from, to, m)| {
            (*from, *to) == (2, 3)
                && **m
                    == (Message::Trunc {
                        zxid: Zxid(0x1_0000_0002),
                    })
        }));
        assert!(run.server(3).disk().log.iter().all(|t| t.zxid != ahead));
        let no_node = ch01_znode::ZkError::NoNode.code();
        assert_eq!(error_code(&outcome(run, 1, &get("/b"))), Some(no_node));
        all_servers_agree(run, "/b", false);
        all_servers_agree(run, "/a", true);
    });
}

#[test]
fn a_truncated_follower_writes_its_history_down_before_it_acks_newleader() {
    // Learner.syncWithLeader (3.8): `snapshotNeeded` is false only for a DIFF, so after a
    // TRUNC the learner takes a snapshot at NEWLEADER, before its ACK: the txns it applied
    // since the TRUNC are in no log of its own. A crash right after the ACK then recovers
    // the truncated history from that snapshot, not the txn the leader told it to forget.
    // (The order is the learner's: its step puts `Output::Snapshot` before the ACK, and a
    // driver carries outputs in order.)
    let ahead = Zxid(0x1_0000_0003);
    let trunc = Zxid(0x1_0000_0002);
    for seed in SEEDS {
        let run = run(&setup(ScenarioName::FollowerAhead), seed).expect("no invariant breaks");
        let n3 = run.server(3);
        let snapshot = n3.disk().snapshot.as_ref().expect("n3 wrote a snapshot");
        assert!(snapshot.last_processed_zxid() >= trunc, "seed {seed}");
        assert!(snapshot.tree.node("/b").is_none(), "seed {seed}");
        assert!(snapshot.tree.node("/a").is_some(), "seed {seed}");
        // The disk as the ACK of NEWLEADER left it: the snapshot, and the log up to it.
        let mut right_after = n3.disk().clone();
        let at = snapshot.last_processed_zxid();
        right_after.log.retain(|t| t.zxid <= at);
        let recovered = right_after.recover(0).db;
        assert_eq!(&recovered, snapshot, "seed {seed}");
        assert!(n3.disk().log.iter().all(|t| t.zxid != ahead), "seed {seed}");
    }
}

#[test]
fn a_read_after_sync_sees_what_was_committed_before_it() {
    // A follower answers reads from what it has applied, which may lag; `sync` waits until it
    // has applied everything the leader committed before the sync reached it. (zab.md §8)
    check(ScenarioName::SyncRead, |run| {
        let z = zxid_of_create(run, "/news");
        let (_, written) = invoked_and_answered(run, 1, &create("/news", "fresh"));
        let written = written.expect("c1 is answered");
        let (first_read, _) = invoked_and_answered(run, 2, &get("/news"));
        assert!(written < first_read, "c2 reads after c1 was answered");
        let history = run.client(2).history();
        let reads: Vec<&Outcome> = history
            .iter()
            .filter_map(|e| match e {
                HistoryEvent::Complete { outcome, .. } => Some(outcome),
                _ => None,
            })
            .collect();
        let [stale, synced, fresh] = reads[..] else {
            panic!("c2 reads, syncs and reads: {reads:?}")
        };
        let no_node = ch01_znode::ZkError::NoNode.code();
        assert_eq!(
            error_code(&Some(stale.clone())),
            Some(no_node),
            "lagging n2 is stale"
        );
        assert!(matches!(synced, Outcome::Ok { .. }));
        assert_eq!(read_data(&Some(fresh.clone())).as_deref(), Some("fresh"));
        assert!(applied_at(run, 3, z).is_some());
        all_servers_agree(run, "/news", true);
    });
}

#[test]
fn a_leader_cut_off_from_its_quorum_steps_down_and_acknowledges_nothing() {
    // Leader.lead: without a synced quorum for a tick, the leader shuts down; a write it
    // took meanwhile is never acknowledged, and the new leader's history replaces its own.
    // (zab.md §9, §10)
    check(ScenarioName::PartitionedLeader, |run| {
        let z = zxid_of_create(run, "/minority");
        assert!(zab_notes(run).iter().any(|(_, node, n)| *node == 3
            && matches!(
                n,
                ZabNote::Quit {
                    role: "leading",
                    ..
                }
            )));
        assert!(committed(run, z).is_none());
        assert!(!zab_delivered(run)
            .iter()
            .any(|(_, _, to, m)| *to == 3 && **m == Message::Ack(z)));
        assert!(!matches!(
            outcome(run, 1, &create("/minority", "n3")),
            Some(Outcome::Ok { .. })
        ));
        assert!(matches!(
            outcome(run, 2, &create("/majority", "n2")),
            Some(Outcome::Ok { .. })
        ));
        assert_eq!(run.server(2).peer().state(), ServerState::Leading);
        assert_eq!(run.server(3).peer().leader(), Some(Sid(2)));
        all_servers_agree(run, "/minority", false);
        all_servers_agree(run, "/majority", true);
    });
}

#[test]
fn an_observer_is_informed_of_commits_and_never_counted() {
    // Observers get INFORM (the committed txn, with its digest: the PROPOSAL's own bytes,
    // `Leader.sendObserverPacket`), never PROPOSAL, and never ACK a txn; the voters alone
    // commit. (zab.md §6, "Learner ACK target")
    check(ScenarioName::Observer, |run| {
        let z = zxid_of_create(run, "/seen");
        assert_eq!(run.server(4).peer().state(), ServerState::Observing);
        let (_, _, acks) = committed(run, z).expect("committed");
        assert!(!acks.contains(&Sid(4)));
        let delivered = zab_delivered(run);
        assert!(delivered.iter().any(|(_, _, to, m)| *to == 4
            && matches!(m, Message::Inform(t) if t.txn.zxid == z && t.digest.is_some())));
        assert!(!delivered
            .iter()
            .any(|(_, _, to, m)| *to == 4 && matches!(m, Message::Proposal(_))));
        assert!(!delivered
            .iter()
            .any(|(_, from, _, m)| *from == 4 && matches!(m, Message::Ack(a) if a.counter() != 0)));
        assert_eq!(replied_by(run, 1, 1), vec![4]);
        all_servers_agree(run, "/seen", true);
    });
}

/// Client `ck`'s successful handshakes: (position in the trace, server, session).
fn handshakes(run: &Run, k: u64) -> Vec<(usize, NodeId, ch01_znode::SessionId)> {
    delivered(run, |from, to, wire| match wire {
        Wire::ToClient {
            frame: ServerFrame::Message(ServerMessage::Connected(c)),
            ..
        } if to == CLIENT_BASE + k && c.time_out > 0 => Some((from, c.session_id)),
        _ => None,
    })
    .into_iter()
    .map(|(i, (from, session))| (i, from, session))
    .collect()
}

#[test]
fn a_session_moves_to_another_follower_once_the_leader_says_it_is_alive() {
    // A follower does not trust its own session table with a reconnect: it sends REVALIDATE
    // to the leader and answers the client after the leader's reply
    // (LearnerZooKeeperServer.revalidateSession, Learner.validateSession,
    // LearnerMaster.revalidateSession).
    check(ScenarioName::SessionMoves, |run| {
        let shakes = handshakes(run, 1);
        let [(_, 1, session), (moved, 2, same)] = shakes[..] else {
            panic!("c1 is let in by n1, then by n2: {shakes:?}");
        };
        assert_eq!(session, same, "the session moves, it is not a new one");
        let delivered = zab_delivered(run);
        let asked = delivered.iter().find(|(_, from, to, m)| {
            (*from, *to) == (2, 3)
                && matches!(m, Message::Revalidate { session: s, .. } if *s == session)
        });
        let answered = delivered.iter().find(|(_, from, to, m)| {
            (*from, *to) == (3, 2)
                && **m
                    == Message::RevalidateReply {
                        session,
                        valid: true,
                    }
        });
        let (asked, answered) = (
            asked.expect("n2 asks n3").0,
            answered.expect("n3 answers").0,
        );
        assert!(
            asked < answered && answered < moved,
            "n2 answers c1 after n3 answers n2"
        );
        assert_eq!(
            read_data(&outcome(run, 1, &get("/owner"))).as_deref(),
            Some("c1")
        );
        for server in run.servers() {
            let owner = server
                .peer()
                .database()
                .tree
                .node("/owner")
                .map(|n| n.stat.ephemeral_owner);
            assert_eq!(
                owner,
                Some(session.0),
                "n{} still has c1's ephemeral",
                server.peer().sid()
            );
        }
    });
}

#[test]
fn a_follower_whose_leader_is_gone_lets_no_reconnecting_session_in() {
    // The leader crashes just before c1 moves to n2, which has not noticed yet: its
    // REVALIDATE goes to a dead leader and is never answered, so c1 is not let in there. It
    // gets in only once a new leader has said its session is alive. (Before revalidation,
    // n2 accepted it from its own table and dropped it when it noticed the dead leader.)
    let mut moves = setup(ScenarioName::SessionMoves);
    moves.faults = ch04_paxos::sim::Scenario::new().crash(1_900, 3);
    moves.end_ms = 60_000;
    for seed in SEEDS {
        let run = run(&moves, seed).expect("no invariant breaks");
        let shakes = handshakes(&run, 1);
        let Some(&(_, 1, session)) = shakes.first() else {
            panic!("seed {seed}: c1 is let in by n1 first: {shakes:?}");
        };
        let (moved, by, same) = *shakes.get(1).unwrap_or_else(|| {
            panic!("seed {seed}: c1 gets in again: {shakes:?}");
        });
        assert_eq!(session, same, "seed {seed}: the same session");
        let delivered = zab_delivered(&run);
        let valid = delivered.iter().find(|(i, _, to, m)| {
            *i < moved
                && *to == by
                && **m
                    == Message::RevalidateReply {
                        session,
                        valid: true,
                    }
        });
        let (_, leader, _, _) = valid.unwrap_or_else(|| {
            panic!("seed {seed}: n{by} lets c1 in only after a leader's answer")
        });
        assert_ne!(*leader, 3, "seed {seed}: the dead leader never answers");
        let asked_dead = zab_sent(&run)
            .iter()
            .any(|(from, to, m)| (*from, *to) == (2, 3) && matches!(m, Message::Revalidate { .. }));
        assert!(asked_dead, "seed {seed}: n2 asks its dead leader first");
    }
}

#[test]
fn a_write_sent_where_a_session_was_before_it_moved_fails_and_closes_that_connection() {
    // The leader's prep checks each write's session against its owner, the learner that
    // revalidated it last (SessionTrackerImpl.checkSession(sessionId, owner),
    // Leader.revalidateSession → setOwner): c2 takes c1's session to n2 while c1's
    // connection to n1 stays open. n1 still serves c1's read (a follower checks no owner),
    // but the write n1 forwards becomes an error txn SessionMoved, and n1 closes c1's
    // connection instead of answering it (FinalRequestProcessor → sendCloseSession).
    let session = ch03_sessions::session::initial_session_id(Sid(1), 0);
    let stale = ClientOp::SetData {
        path: "/owner".into(),
        data: "stale".into(),
        version: -1,
    };
    let mut moved = setup(ScenarioName::SessionMoves);
    let on = |k, server: u64, script| ClientSetup {
        k,
        servers: vec![Sid(server)],
        script,
    };
    moved.clients = vec![
        on(
            1,
            1,
            Script::new()
                .at(1_000, ClientOp::Connect { server: Sid(1) })
                .at(1_500, ephemeral("/owner", "c1"))
                .at(2_300, get("/owner"))
                .at(2_400, stale.clone()),
        ),
        on(
            2,
            2,
            Script::new().at(
                2_000,
                ClientOp::Resume {
                    server: Sid(2),
                    session,
                },
            ),
        ),
    ];
    for seed in SEEDS {
        let run = run(&moved, seed).expect("no invariant breaks");
        let shakes = (handshakes(&run, 1), handshakes(&run, 2));
        let ([(_, 1, first), ..], [(_, 2, second), ..]) = (&shakes.0[..], &shakes.1[..]) else {
            panic!("seed {seed}: c1 is let in by n1, c2 by n2: {shakes:?}");
        };
        assert_eq!((*first, *second), (session, session), "seed {seed}");
        assert_eq!(
            read_data(&outcome(&run, 1, &get("/owner"))).as_deref(),
            Some("c1"),
            "seed {seed}: n1 still serves c1's read"
        );
        assert_eq!(
            outcome(&run, 1, &stale),
            Some(Outcome::Lost),
            "seed {seed}: the write is not answered, its connection is closed"
        );
        let refused = zab_delivered(&run).into_iter().any(|(_, _, _, m)| {
            matches!(m, Message::Proposal(e) if e.txn.op == TxnOp::error(ZkError::SessionMoved))
        });
        assert!(refused, "seed {seed}: the leader proposes an error txn");
        for server in run.servers() {
            let tree = &server.peer().database().tree;
            let data = tree.node("/owner").and_then(|n| n.data);
            assert_eq!(data, Some(&b"c1"[..]), "seed {seed}: the write did nothing");
        }
    }
}

/// Every scenario's trace reads the same for the same seed.
#[test]
fn a_seed_replays_the_same_story() {
    for name in ScenarioName::ALL {
        let setup = setup(name);
        let once = run(&setup, 7).unwrap();
        let again = run(&setup, 7).unwrap();
        assert_eq!(once.sim.trace(), again.sim.trace(), "{}", name.as_str());
    }
}

/// `--json` prints one JSON object per event of the story, with ZooKeeper's words.
#[test]
fn the_json_story_is_one_object_per_event() {
    let setup = setup(ScenarioName::WriteToFollower);
    let run = run(&setup, SEED).unwrap();
    let story: Vec<ZabEntry> = Story::new().tell(run.sim.trace());
    let text = ch04_paxos::sim::render::json_lines(&story);
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(events.len(), story.len());
    let commit = events
        .iter()
        .find(|e| e["kind"] == "note" && e["note"]["note"]["what"] == "committed")
        .expect("a commit");
    assert_eq!(commit["node"], 3);
    assert!(events
        .iter()
        .any(|e| e["kind"] == "deliver" && e["msg"]["type"] == "PROPOSAL"));
    assert!(!events
        .iter()
        .any(|e| e["kind"] == "deliver" && e["msg"]["type"] == "election"));
}

/// What the story leaves out: notifications, pings and timers; the election shows its
/// decisions.
#[test]
fn the_story_hides_votes_pings_and_timers() {
    let setup = setup(ScenarioName::WriteToFollower);
    let run = run(&setup, SEED).unwrap();
    let story = Story::new().tell(run.sim.trace());
    assert!(story.len() < run.sim.trace().len());
    for e in &story {
        assert!(!matches!(
            &e.event,
            Event::TimerFired { .. }
                | Event::Deliver {
                    msg: Wire::Election(_),
                    ..
                }
        ));
    }
    let text = transcript(&setup, SEED, &story, &run, false);
    assert!(text.contains("n3 • elected in round 1: leads"));
    assert!(!text.contains("PING"));
    assert!(!text.contains("xid=-2"));
    let all = Story::everything().tell(run.sim.trace());
    assert_eq!(all.len(), run.sim.trace().len());
}

/// The places in the stepper's pending list of the Zab packets in flight from `from` to `to`.
fn packets_on_link(sim: &Sim<Node>, from: NodeId, to: NodeId) -> Vec<usize> {
    let on_link = |u: &UpcomingOf<Node>| matches!(u.due, Due::Message { from: f, to: t, msg: Wire::Zab { .. }, .. } if (f, t) == (from, to));
    sim.upcoming()
        .iter()
        .enumerate()
        .filter(|(_, u)| on_link(u))
        .map(|(k, _)| k + 1)
        .collect()
}

/// Zab's connections are TCP: when a student steps a run by hand, a packet held back cannot
/// be overtaken by a later one on its connection, and losing it is what breaks a TCP
/// connection, a gap: the follower closes it (chapter 4's `engine/choose.rs` for the rule,
/// `sim/stream.rs` for the gap).
#[test]
fn a_packet_held_back_by_hand_cannot_be_overtaken_and_losing_it_closes_the_connection() {
    let setup = setup(ScenarioName::WriteToFollower);
    let mut sim = setup.sim(SEED);
    // As the network would, until the leader's PROPOSAL to slow n2 is on the wire.
    let proposal_to_n2 = |sim: &Sim<Node>| {
        sim.upcoming().iter().any(|u| {
            matches!(&u.due, Due::Message { from: 3, to: 2, msg: Wire::Zab { msg: Message::Proposal(t), .. }, .. } if t.txn.zxid.counter() == 2)
        })
    };
    assert!(sim
        .run_until_condition(setup.end_ms, proposal_to_n2)
        .unwrap());
    // Hold it back: do everything else, in order, until another packet queues behind it.
    while packets_on_link(&sim, 3, 2).len() < 2 {
        let held = packets_on_link(&sim, 3, 2);
        let other = (1..)
            .find(|k| !held.contains(k))
            .expect("something else is pending");
        sim.choose(&Choice::Do(other)).unwrap();
    }
    let [first, second] = packets_on_link(&sim, 3, 2)[..2] else {
        unreachable!()
    };
    let Err(ChoiceError::Refused(why)) = sim.choose(&Choice::Deliver(second)) else {
        panic!("a later packet overtook an earlier one on a FIFO link")
    };
    assert!(why.starts_with("links are FIFO: item "), "{why}");
    sim.choose(&Choice::Drop(first)).unwrap();
    let behind = packets_on_link(&sim, 3, 2)[0];
    let before = sim.trace().len();
    sim.choose(&Choice::Deliver(behind)).unwrap();
    let closed = sim.trace()[before..].iter().any(|e| {
        matches!(
            e.event,
            Event::Send {
                from: 2,
                to: 3,
                msg: Wire::ZabClosed { .. },
                ..
            }
        )
    });
    assert!(closed, "n2 saw the gap and closed the connection");
}
