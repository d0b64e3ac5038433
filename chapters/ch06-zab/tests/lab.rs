//! Chapter 6's labs, graded: `cargo run -- lab check 6.1` and `6.2` run these.
//!
//! Each check runs the chapter's own stories against the code of `src/lab.rs`: the teacher's
//! answers as shipped (so `cargo test` keeps the grading honest), or the student's after
//! `cargo run -- lab start 6.N`.

use std::collections::BTreeSet;
use std::sync::Arc;

use ch01_znode::{Sid, Zxid};
use ch04_paxos::sim::Event;
use ch05_election::quorum::{QuorumMaj, QuorumVerifier};
use ch06_zab::lab::{can_commit, HUNTED};
use ch06_zab::message::Message;
use ch06_zab::peer::Flaw;
use ch06_zab::render::story_text;
use ch06_zab::scenarios::{run, setup, Run, ScenarioName, Setup};
use ch06_zab::sim::{HistoryEvent, Outcome, SimNote, Wire};
use ch06_zab::trace::{Note, ZabNote};

fn sids(s: &[u64]) -> BTreeSet<Sid> {
    s.iter().copied().map(Sid).collect()
}

/// When the leader committed `zxid`, if it did.
fn committed_at(run: &Run, zxid: Zxid) -> Option<u64> {
    run.sim.trace().iter().find_map(|e| match &e.event {
        Event::Note {
            note:
                SimNote::Peer {
                    note: Note::Zab(ZabNote::Committed { zxid: z, .. }),
                },
            ..
        } if *z == zxid => Some(e.at),
        _ => None,
    })
}

/// The writes a client was told succeeded.
fn successes(run: &Run, k: u64) -> usize {
    let history = run.client(k).history();
    history
        .iter()
        .filter(|e| {
            matches!(
                e,
                HistoryEvent::Complete {
                    outcome: Outcome::Ok { .. },
                    ..
                }
            )
        })
        .count()
}

// ---- Lab 6.1: commit on a quorum, not on everyone (src/lab.rs, can_commit) ----

#[test]
fn lab_6_1_a_slow_follower_does_not_hold_back_the_commit() {
    // write-to-follower: n2's disk takes 100 ms. The create (0x100000002) must commit on the
    // ACKs of n1 and n3, before n2's ACK of it reaches the leader.
    let run = run(&setup(ScenarioName::WriteToFollower), 1).expect("the run");
    let create = Zxid(0x1_0000_0002);
    let commit = committed_at(&run, create).expect("the create is committed");
    let slow_ack = run.sim.trace().iter().find_map(|e| match &e.event {
        Event::Deliver {
            from: 2,
            msg: Wire::Zab {
                msg: Message::Ack(z),
                ..
            },
            ..
        } if *z == create => Some(e.at),
        _ => None,
    });
    let slow_ack = slow_ack.expect("n2 acknowledges it eventually");
    assert!(
        commit < slow_ack,
        "committed at {commit} ms, but n2's ACK came at {slow_ack} ms: the leader waited for \
         everyone"
    );
    assert_eq!(successes(&run, 1), 1, "c1 is told its create succeeded");
}

#[test]
fn lab_6_1_a_minority_never_commits() {
    // leader-crash-minority-ack: cut off, the leader n3 has only its own ACK of c1's write.
    let run = run(&setup(ScenarioName::LeaderCrashMinorityAck), 1).expect("the run");
    assert_eq!(
        committed_at(&run, Zxid(0x1_0000_0002)),
        None,
        "n3 committed a write only it had logged; the new leader then lost it:\n{}",
        story_text(run.sim.trace(), false, false)
    );
    assert_eq!(
        successes(&run, 1),
        0,
        "c1 must never hear that /lost exists"
    );
}

#[test]
fn lab_6_1_five_voters_need_three_and_observers_never_count() {
    let five: Arc<dyn QuorumVerifier> = Arc::new(QuorumMaj::new((1..=5).map(Sid), []));
    assert!(
        !can_commit(five.as_ref(), &sids(&[5, 1])),
        "2 of 5 is not enough"
    );
    assert!(can_commit(five.as_ref(), &sids(&[5, 1, 2])), "3 of 5 is");
    assert!(can_commit(five.as_ref(), &sids(&[5, 4, 3, 2, 1])));
    let observed: Arc<dyn QuorumVerifier> =
        Arc::new(QuorumMaj::new((1..=3).map(Sid), [Sid(4), Sid(5)]));
    assert!(
        !can_commit(observed.as_ref(), &sids(&[3, 4, 5])),
        "observers never ACK, and an ACK from one must not count"
    );
    assert!(can_commit(observed.as_ref(), &sids(&[3, 1])));
}

// ---- Lab 6.2: the follower that promised too early (src/lab.rs, hunt) ----

fn hunted(flaw: Option<Flaw>) -> (Setup, Run) {
    let mut setup = setup(ScenarioName::Lab62);
    setup.config.flaw = flaw;
    let run = run(&setup, 1).expect("the run");
    (setup, run)
}

/// Which servers have the hunted node at the end of the run.
fn holders(run: &Run, setup: &Setup) -> Vec<u64> {
    setup
        .servers
        .iter()
        .map(|s| s.sid.0)
        .filter(|&sid| {
            run.server(sid)
                .peer()
                .database()
                .tree
                .node(HUNTED)
                .is_some()
        })
        .collect()
}

#[test]
fn lab_6_2_the_hunted_write_was_committed_and_the_flaw_loses_it() {
    let (setup, run) = hunted(Some(Flaw::LogSyncAfterUpToDate));
    // Committed: on the disks of a quorum when the story starts.
    let on_disk: BTreeSet<Sid> = setup
        .servers
        .iter()
        .filter(|s| {
            s.disk
                .log
                .iter()
                .any(|t| t.op.to_string().starts_with(&format!("create {HUNTED} ")))
        })
        .map(|s| s.sid)
        .collect();
    assert!(
        setup.config.qv().contains_quorum(&on_disk),
        "{HUNTED} must start on a quorum's disks (it was committed); it is on {on_disk:?}"
    );
    for s in &setup.servers {
        assert!(
            run.sim.is_up(s.sid.0),
            "n{} must be running at the end",
            s.sid
        );
        assert!(
            run.server(s.sid.0).peer().is_serving(),
            "n{} must be serving",
            s.sid
        );
    }
    assert_eq!(
        holders(&run, &setup),
        Vec::<u64>::new(),
        "with the flaw, {HUNTED} should be gone from every server:\n{}",
        story_text(run.sim.trace(), false, false)
    );
}

#[test]
fn lab_6_2_without_the_flaw_the_same_run_keeps_it() {
    let (setup, run) = hunted(None);
    let all: Vec<u64> = setup.servers.iter().map(|s| s.sid.0).collect();
    assert_eq!(
        holders(&run, &setup),
        all,
        "without the flaw every server must have {HUNTED}:\n{}",
        story_text(run.sim.trace(), false, false)
    );
}
