//! The stand-in heartbeat, one step at a time: each test builds a member,
//! feeds it one input and checks the exact outputs. Each cites the rule of
//! Zab's real heartbeat it imitates (`shared/reference/zab.md` §9, §10).

use super::*;
use crate::peer::tests::{
    ensemble, notif, vote, FOLLOWING, LEADING, LOOKING, N1, N2, N3, N5, R1, R2, R3,
};

/// ZooKeeper's defaults, spelled out: a tick of 2 s, a syncLimit of 5 ticks.
fn config() -> Config {
    Config {
        election: ensemble(5, &[]),
        tick_ms: 2000,
        sync_limit: 5,
    }
}

fn recv(m: &mut Member, from: Sid, msg: Message) -> Vec<Output> {
    m.step(Input::Receive { from, msg })
}

/// A member of the round-1 ensemble {1, 2, 3} with a quorum for server 3,
/// in finalizeWait.
fn about_to_decide(sid: Sid) -> Member {
    let mut m = Member::new(sid, config(), Durable::default());
    m.step(Input::Start);
    for from in [N3, N1, N2] {
        recv(&mut m, from, Message::Notification(notif(LOOKING, N3, R1)));
    }
    m
}

const FINALIZE_WAIT: Input = Input::Timeout(Timer::Election(peer::Timer::FinalizeWait));

/// The same member once finalizeWait has passed: server 3 leads round 1.
fn elected(sid: Sid) -> Member {
    let mut m = about_to_decide(sid);
    m.step(FINALIZE_WAIT);
    m
}

/// What `sid` says last as finalizeWait ends: its decision, then a timer.
fn deciding(sid: Sid) -> Vec<Output> {
    let out = about_to_decide(sid).step(FINALIZE_WAIT);
    out[out.len() - 2..].to_vec()
}

/// The Decided note for server 3 in round 1, then `timer` armed.
fn handover(state: ServerState, timer: Timer, after_ms: Millis) -> Vec<Output> {
    let decided = ElectionNote::Decided {
        state,
        leader: N3,
        round: R1,
    };
    vec![
        Output::Note(Note::Election(decided)),
        Output::SetTimer { timer, after_ms },
    ]
}

/// Right after the election decides, a leader starts ticking and a follower
/// starts waiting `syncLimit` ticks for its leader.
/// (zab.md §9: the leader pings every tick; a learner's read timeout is syncLimit × tickTime)
#[test]
fn the_decision_starts_the_heartbeat() {
    assert_eq!(deciding(N3), handover(LEADING, Timer::Tick, 2000));
    assert_eq!(
        deciding(N1),
        handover(FOLLOWING, Timer::LeaderSilent, 10_000)
    );
}

/// A follower whose leader is silent for syncLimit ticks looks again, in a
/// new round. (zab.md §10; Follower.followLeader fails → QuorumPeer LOOKING → lookForLeader)
#[test]
fn a_follower_with_a_silent_leader_starts_a_new_round() {
    let mut m = elected(N1);
    let out = m.step(Input::Timeout(Timer::LeaderSilent));
    assert_eq!(out[0], Output::Note(Note::LeaderLost { leader: N3 }));
    assert_eq!((m.peer().state(), m.peer().logical_clock()), (LOOKING, R2));
}

/// A follower answers its own leader's ping and re-arms its patience; a
/// ping from anyone else is ignored. (zab.md §9: each PING is echoed, and
/// anything read from the leader restarts the syncLimit × tickTime read timeout)
#[test]
fn a_follower_answers_its_leaders_ping() {
    let mut m = elected(N1);
    assert_eq!(
        recv(&mut m, N3, Message::Ping { round: R1 }),
        vec![
            Output::SetTimer {
                timer: Timer::LeaderSilent,
                after_ms: 10_000,
            },
            Output::Send {
                to: N3,
                msg: Message::PingReply { round: R1 },
            },
        ]
    );
    assert_eq!(recv(&mut m, N5, Message::Ping { round: R1 }), vec![]);
}

/// A leader that hears no quorum for syncLimit ticks stops leading.
/// (zab.md §9; Leader.lead: "Not sufficient followers synced, only synced with sids")
#[test]
fn a_leader_without_a_quorum_steps_down() {
    let mut m = elected(N3);
    recv(&mut m, N1, Message::PingReply { round: R1 });
    for _ in 0..4 {
        m.step(Input::Timeout(Timer::Tick));
        assert_eq!(m.peer().state(), LEADING);
    }
    let out = m.step(Input::Timeout(Timer::Tick));
    assert_eq!(
        out[0],
        Output::Note(Note::LostQuorum {
            heard: vec![N1, N3]
        })
    );
    assert_eq!((m.peer().state(), m.peer().logical_clock()), (LOOKING, R2));
}

/// A leader that hears a quorum keeps leading, pings again and opens a new
/// window. (zab.md §9: a learner is synced if heard from within syncLimit
/// ticks; Leader.lead: syncedAckSet.hasAllQuorums)
#[test]
fn a_leader_with_a_quorum_keeps_leading() {
    let mut m = elected(N3);
    for _ in 0..4 {
        m.step(Input::Timeout(Timer::Tick));
    }
    recv(&mut m, N1, Message::PingReply { round: R1 });
    recv(&mut m, N2, Message::PingReply { round: R1 });
    let out = m.step(Input::Timeout(Timer::Tick));
    assert_eq!(out.len(), 4 + 1, "pings to four members and the next tick");
    assert_eq!(m.peer().state(), LEADING);
}

/// A ping travels as 12 bytes (kind, round) and reads back the same; a
/// notification inside a message is a notification's bytes; 12 bytes that
/// are no ping are a short notification, which is what a real ZooKeeper
/// makes of our pings. (WorkerReceiver: "Got a short response")
#[test]
fn messages_round_trip_through_frame_payloads() {
    let n = Notification::new(FOLLOWING, vote(N2), R2);
    assert_eq!(Message::Notification(n.clone()).encode(), n.encode());
    for m in [
        Message::Notification(n),
        Message::Ping { round: R3 },
        Message::PingReply { round: R3 },
    ] {
        assert_eq!(Message::decode(&m.encode()), Ok(m));
    }
    assert_eq!(Message::Ping { round: R1 }.encode().len(), 12);
    assert_eq!(
        Message::decode(&[0; 12]),
        Err(DecodeError::Short { len: 12 })
    );
}
