//! A server that comes back to an established leader is synced at its first try.

use ch04_paxos::sim::{Event, NodeId};
use ch05_election::vote::ServerState;
use ch06_zab::message::Message;
use ch06_zab::scenarios::{run, setup, Run, ScenarioName};
use ch06_zab::sim::{SimNote, Wire};
use ch06_zab::trace::{Note, ZabNote};

/// How many FOLLOWERINFOs `node` sent after it last started.
fn hellos_after_start(run: &Run, node: NodeId) -> usize {
    let trace = run.sim.trace();
    let started = trace
        .iter()
        .rposition(|e| {
            matches!(&e.event, Event::Status { node: n, status } if *n == node && status == "LOOKING")
        })
        .expect("it starts");
    trace[started..]
        .iter()
        .filter(|e| {
            matches!(&e.event, Event::Send { from, msg: Wire::Zab { msg: Message::LearnerInfo { .. }, .. }, .. }
                if *from == node)
        })
        .count()
}

/// `Leader.waitForEpochAck` checks that a learner is not ahead of the leader only until a
/// quorum has acknowledged the epoch (`electionFinished`); after that it returns at once, and
/// a latecomer with a longer log is synced, which cuts it back (TRUNC). (zab.md §4 step 6, §5)
#[test]
fn a_latecomer_with_a_longer_log_is_truncated_not_turned_away() {
    for seed in 1..=10 {
        let run = run(&setup(ScenarioName::FollowerAhead), seed).unwrap();
        let turned_away = run.sim.trace().iter().any(|e| {
            matches!(
                &e.event,
                Event::Note {
                    note: SimNote::Peer {
                        note: Note::Zab(ZabNote::LearnerAhead { .. })
                    },
                    ..
                }
            )
        });
        assert!(!turned_away, "seed {seed}: n3 is turned away");
        assert_eq!(
            hellos_after_start(&run, 3),
            1,
            "seed {seed}: n3 connects once"
        );
    }
}

/// A restarted learner's connection is a new one (a new socket), even if the leader still
/// holds the one its previous life opened: its FOLLOWERINFO is answered, not dropped as a
/// packet of the old connection. (Learner.connectToLeader; zab.md §2)
#[test]
fn a_restarted_follower_is_answered_on_its_first_connection() {
    for seed in 1..=10 {
        let run = run(&setup(ScenarioName::FollowerLagging), seed).unwrap();
        assert_eq!(
            hellos_after_start(&run, 1),
            1,
            "seed {seed}: n1 connects once"
        );
    }
}

/// Once Zab has established an epoch, every member answers a looking server with a vote
/// carrying that epoch, the leader after its NEWLEADER quorum and each follower after
/// UPTODATE: a latecomer compares the votes of members out of the election by leader and
/// epoch only, and a ZooKeeper member reports the new epoch. (QuorumPeer.updateElectionVote,
/// ZOOKEEPER-1732)
#[test]
fn members_answer_a_latecomer_with_the_established_epoch() {
    for seed in 1..=10 {
        let run = run(&setup(ScenarioName::FollowerLagging), seed).unwrap();
        let mut established = None;
        let mut answers = 0;
        for e in run.sim.trace() {
            match &e.event {
                Event::Note {
                    note:
                        SimNote::Peer {
                            note: Note::Zab(ZabNote::Established { epoch, .. }),
                        },
                    ..
                } => established = Some(*epoch),
                Event::Send {
                    from,
                    to,
                    msg: Wire::Election(n),
                    ..
                } if n.state != ServerState::Looking && established.is_some() => {
                    answers += 1;
                    assert_eq!(
                        Some(n.vote.peer_epoch),
                        established,
                        "seed {seed}: n{from} answers n{to} with {n:?}"
                    );
                }
                _ => {}
            }
        }
        assert!(answers > 0, "seed {seed}: the restarted server is answered");
    }
}
