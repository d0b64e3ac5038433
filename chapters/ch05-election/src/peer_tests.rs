//! One step at a time: each test builds a server, feeds it one input and
//! checks the exact outputs. Each cites the upstream rule it checks.

use super::*;
use crate::quorum::{QuorumHierarchical, QuorumMaj};

const LOOKING: ServerState = ServerState::Looking;
const FOLLOWING: ServerState = ServerState::Following;
const LEADING: ServerState = ServerState::Leading;

fn ensemble(voters: u64, observers: &[Sid]) -> Config {
    Config::new(Arc::new(QuorumMaj::new(
        1..=voters,
        observers.iter().copied(),
    )))
}

fn vote(leader: Sid) -> Vote {
    Vote {
        leader,
        zxid: Zxid(0),
        peer_epoch: 0,
    }
}

/// A server of a 5-voter ensemble that has just started (round 1).
fn started(sid: Sid) -> Peer {
    let mut p = Peer::new(sid, ensemble(5, &[]), Durable::default());
    p.step(Input::Start);
    p
}

fn notif(state: ServerState, leader: Sid, round: Epoch) -> Message {
    Message::Notification(Notification::new(state, vote(leader), round))
}

fn recv(p: &mut Peer, from: Sid, msg: Message) -> Vec<Output> {
    p.step(Input::Receive { from, msg })
}

/// The notifications a server sends to every voter for `leader` in `round`.
fn broadcast(voters: u64, leader: Sid, round: Epoch) -> Vec<Output> {
    (1..=voters)
        .map(|to| Output::Send {
            to,
            msg: notif(LOOKING, leader, round),
        })
        .collect()
}

fn poll(after_ms: Millis) -> Output {
    Output::SetTimer {
        timer: Timer::NotTimeout,
        after_ms,
    }
}

fn note(n: Note) -> Output {
    Output::Note(n)
}

/// A server of the round-1 ensemble {1, 2, 3} that elected server 3.
fn elected(sid: Sid) -> Peer {
    let mut p = started(sid);
    votes_for(&mut p, 3, &[3, 1, 2]);
    p.step(Input::Timeout(Timer::FinalizeWait));
    p
}

/// Feed `p` the LOOKING votes of `voters` for `leader`, in round 1.
fn votes_for(p: &mut Peer, leader: Sid, voters: &[Sid]) -> Vec<Output> {
    let mut last = Vec::new();
    for &from in voters {
        last = recv(p, from, notif(LOOKING, leader, 1));
    }
    last
}

/// A server starts round 1 by voting for itself and telling every voter,
/// itself included. (FastLeaderElection.lookForLeader: logicalclock.incrementAndGet, sendNotifications)
#[test]
fn a_starting_server_votes_for_itself_and_tells_every_voter() {
    let mut p = Peer::new(2, ensemble(5, &[]), Durable::default());
    let out = p.step(Input::Start);
    let mut expected = vec![
        note(Note::Started {
            durable: Durable::default(),
        }),
        note(Note::Looking {
            round: 1,
            vote: vote(2),
        }),
    ];
    expected.extend(broadcast(5, 2, 1));
    expected.push(poll(200));
    assert_eq!(out, expected);
    assert_eq!((p.state(), p.logical_clock()), (LOOKING, 1));
}

/// A better vote of the same round is adopted and re-broadcast.
/// (lookForLeader: n.electionEpoch == logicalclock && totalOrderPredicate → updateProposal, sendNotifications)
#[test]
fn a_better_vote_of_the_same_round_is_adopted_and_rebroadcast() {
    let mut p = started(1);
    let out = recv(&mut p, 2, notif(LOOKING, 2, 1));
    let mut expected = vec![note(Note::Switch {
        vote: vote(2),
        why: "higher sid",
    })];
    expected.extend(broadcast(5, 2, 1));
    expected.push(poll(200));
    assert_eq!(out, expected);
    assert_eq!(p.proposal(), vote(2));
}

/// A worse vote is counted but changes nothing. (lookForLeader: recvset.put)
#[test]
fn a_worse_vote_is_counted_but_not_adopted() {
    let mut p = started(2);
    assert_eq!(recv(&mut p, 1, notif(LOOKING, 1, 1)), vec![poll(200)]);
    assert_eq!(p.proposal(), vote(2));
}

/// A vote of a later round moves us to that round; we then vote for the
/// better of it and our own first vote. (lookForLeader: n.electionEpoch > logicalclock)
#[test]
fn a_later_round_is_joined_with_the_better_of_its_vote_and_ours() {
    let mut p = started(4);
    let out = recv(&mut p, 2, notif(LOOKING, 2, 3));
    let mut expected = vec![note(Note::NewRound {
        round: 3,
        vote: vote(4),
    })];
    expected.extend(broadcast(5, 4, 3));
    expected.push(poll(200));
    assert_eq!(out, expected);
    assert_eq!(p.logical_clock(), 3);
}

/// A looking voter from an earlier round is not counted, but gets our vote
/// back so it can catch up. (WorkerReceiver: n.electionEpoch < logicalclock → reply; lookForLeader: break)
#[test]
fn a_lagging_voter_is_answered_and_not_counted() {
    let mut p = started(4);
    recv(&mut p, 2, notif(LOOKING, 2, 3));
    let out = recv(&mut p, 1, notif(LOOKING, 5, 2));
    assert_eq!(
        out,
        vec![
            Output::Send {
                to: 1,
                msg: notif(LOOKING, 4, 3),
            },
            poll(200),
        ]
    );
    assert_eq!(p.proposal(), vote(4));
}

/// When a quorum's votes equal ours, wait finalizeWait before deciding.
/// (lookForLeader: voteSet.hasAllQuorums → poll(finalizeWait))
#[test]
fn a_quorum_for_our_vote_starts_finalize_wait() {
    let mut p = started(3);
    let out = votes_for(&mut p, 3, &[3, 1, 2]);
    assert_eq!(
        out,
        vec![
            Output::CancelTimer(Timer::NotTimeout),
            note(Note::Quorum {
                vote: vote(3),
                voters: vec![1, 2, 3],
            }),
            Output::SetTimer {
                timer: Timer::FinalizeWait,
                after_ms: 200,
            },
        ]
    );
    assert_eq!(p.state(), LOOKING);
}

/// Two votes of five are not a quorum. (QuorumMaj: count > n/2)
#[test]
fn two_votes_of_five_keep_looking() {
    let mut p = started(3);
    assert_eq!(votes_for(&mut p, 3, &[3, 2]), vec![poll(200)]);
}

/// finalizeWait passes quietly: the proposed leader leads, the others follow.
/// (lookForLeader: n == null → setPeerState)
#[test]
fn a_quiet_finalize_wait_ends_the_election() {
    let mut p = started(3);
    votes_for(&mut p, 3, &[3, 1, 2]);
    let out = p.step(Input::Timeout(Timer::FinalizeWait));
    assert_eq!(
        out,
        vec![
            Output::CancelTimer(Timer::NotTimeout),
            Output::CancelTimer(Timer::FinalizeWait),
            note(Note::Decided {
                state: LEADING,
                leader: 3,
                round: 1,
            }),
            Output::SetTimer {
                timer: Timer::Tick,
                after_ms: 2000,
            },
        ]
    );
    assert_eq!(p.decided(), Some((vote(3), 1)));

    let mut f = started(1);
    votes_for(&mut f, 3, &[3, 1, 2]);
    f.step(Input::Timeout(Timer::FinalizeWait));
    assert_eq!((f.state(), f.decided()), (FOLLOWING, Some((vote(3), 1))));
}

/// A better vote during finalizeWait is put back and the loop goes on.
/// (lookForLeader: totalOrderPredicate → recvqueue.put(n); break)
#[test]
fn a_better_vote_during_finalize_wait_reopens_the_election() {
    let mut p = started(3);
    votes_for(&mut p, 3, &[3, 1, 2]);
    let out = recv(&mut p, 4, notif(LOOKING, 4, 1));
    assert_eq!(out[0], Output::CancelTimer(Timer::FinalizeWait));
    assert_eq!(out[1], note(Note::Reopen { vote: vote(4) }));
    assert_eq!(p.proposal(), vote(4));
    // The old finalizeWait, if it still fires, decides nothing.
    assert_eq!(p.step(Input::Timeout(Timer::FinalizeWait)), vec![]);
    assert_eq!(p.state(), LOOKING);
}

/// A vote that is not better during finalizeWait is consumed, and the wait
/// starts over. (lookForLeader: while ((n = recvqueue.poll(finalizeWait)) != null))
#[test]
fn a_worse_vote_during_finalize_wait_restarts_the_wait() {
    let mut p = started(3);
    votes_for(&mut p, 3, &[3, 1, 2]);
    let out = recv(&mut p, 4, notif(LOOKING, 2, 1));
    assert_eq!(
        out,
        vec![Output::SetTimer {
            timer: Timer::FinalizeWait,
            after_ms: 200,
        }]
    );
}

/// With nothing heard, re-send and double notTimeout, capped at 60 s.
/// (lookForLeader: notTimeout = Math.min(notTimeout << 1, maxNotificationInterval))
#[test]
fn silence_doubles_the_wait_up_to_sixty_seconds() {
    let mut p = started(1);
    let out = p.step(Input::Timeout(Timer::NotTimeout));
    let mut expected = broadcast(5, 1, 1);
    expected.push(note(Note::Backoff { next_ms: 400 }));
    expected.push(poll(400));
    assert_eq!(out, expected);
    let waits: Vec<Millis> = (0..10)
        .map(|_| match p.step(Input::Timeout(Timer::NotTimeout)).last() {
            Some(Output::SetTimer { after_ms, .. }) => *after_ms,
            other => panic!("expected a poll timer, got {other:?}"),
        })
        .collect();
    assert_eq!(
        waits,
        [800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000, 60000]
    );
}

/// A decided server answers a looking one with its leader, its own state
/// and the round of that election. (WorkerReceiver: not LOOKING, ackstate LOOKING)
#[test]
fn a_decided_server_tells_a_latecomer_who_leads() {
    let mut p = elected(1);
    let out = recv(&mut p, 4, notif(LOOKING, 4, 1));
    assert_eq!(
        out,
        vec![Output::Send {
            to: 4,
            msg: notif(FOLLOWING, 3, 1),
        }]
    );
    // Decided servers say nothing to each other.
    assert_eq!(recv(&mut p, 2, notif(FOLLOWING, 3, 1)), vec![]);
}

/// A latecomer follows once a quorum reports the same leader and the
/// leader's own notification says LEADING. (receivedFollowingNotification, checkLeader)
#[test]
fn a_latecomer_joins_a_quorum_whose_leader_says_it_leads() {
    let mut p = started(4);
    // Followers of round 1 arrive first: no LEADING vote yet, no decision.
    assert_eq!(recv(&mut p, 1, notif(FOLLOWING, 3, 1)), vec![poll(200)]);
    assert_eq!(recv(&mut p, 2, notif(FOLLOWING, 3, 1)), vec![poll(200)]);
    let out = recv(&mut p, 3, notif(LEADING, 3, 1));
    assert_eq!(
        out[2],
        note(Note::Decided {
            state: FOLLOWING,
            leader: 3,
            round: 1,
        })
    );
    assert_eq!(p.decided(), Some((vote(3), 1)));
}

/// Without the leader's own LEADING vote, a quorum of followers is not
/// enough: the leader may be dead. (checkLeader: votes.get(leader).getState() != LEADING)
#[test]
fn followers_alone_do_not_make_a_latecomer_follow() {
    let mut p = started(5);
    for from in [1, 2, 4] {
        assert_eq!(recv(&mut p, from, notif(FOLLOWING, 3, 1)), vec![poll(200)]);
    }
    assert_eq!(p.state(), LOOKING);
}

/// A latecomer from another round joins through outofelection and adopts
/// the ensemble's round. (receivedFollowingNotification: logicalclock.set(n.electionEpoch))
#[test]
fn a_restarted_server_joins_a_later_round_through_outofelection() {
    let mut p = started(5);
    recv(&mut p, 1, notif(FOLLOWING, 4, 2));
    recv(&mut p, 2, notif(FOLLOWING, 4, 2));
    recv(&mut p, 4, notif(LEADING, 4, 2));
    assert_eq!(
        (p.state(), p.logical_clock(), p.decided()),
        (FOLLOWING, 2, Some((vote(4), 2)))
    );
}

/// Observers vote for nobody, send only to voters, and are answered at once
/// by a voter without being counted. (getInitId, WorkerReceiver: !validVoter(response.sid))
#[test]
fn an_observer_votes_for_nobody_and_is_answered_but_not_counted() {
    let mut o = Peer::new(6, ensemble(5, &[6]), Durable::default());
    let out = o.step(Input::Start);
    assert_eq!(
        out[2],
        Output::Send {
            to: 1,
            msg: Message::Notification(Notification::new(LOOKING, Vote::NOBODY, 1)),
        }
    );
    assert_eq!(out.len(), 2 + 5 + 1, "two notes, five voters, a poll");

    let mut v = Peer::new(2, ensemble(5, &[6]), Durable::default());
    v.step(Input::Start);
    let nobody = Message::Notification(Notification::new(LOOKING, Vote::NOBODY, 1));
    let out = recv(&mut v, 6, nobody);
    assert_eq!(
        out,
        vec![Output::Send {
            to: 6,
            msg: notif(LOOKING, 2, 1),
        }]
    );
}

/// An observer that sees a quorum of voters agree ends as OBSERVING.
/// (FastLeaderElection.learningState)
#[test]
fn an_observer_ends_observing() {
    let mut o = Peer::new(6, ensemble(3, &[6]), Durable::default());
    o.step(Input::Start);
    votes_for(&mut o, 3, &[1, 2]);
    o.step(Input::Timeout(Timer::FinalizeWait));
    assert_eq!(o.state(), ServerState::Observing);
}

/// A candidate of weight 0 never wins, however good its log.
/// (totalOrderPredicate: self.getQuorumVerifier().getWeight(newId) == 0 → false)
#[test]
fn a_zero_weight_candidate_never_wins() {
    let qv = QuorumHierarchical::new([(1, 1, 1), (2, 1, 1), (3, 1, 0)], []);
    let mut p = Peer::new(1, Config::new(Arc::new(qv)), Durable::default());
    p.step(Input::Start);
    recv(&mut p, 3, notif(LOOKING, 3, 1));
    assert_eq!(p.proposal(), vote(1));
}

/// A follower whose leader is silent for syncLimit ticks looks again, in a
/// new round. (Follower.followLeader fails → QuorumPeer LOOKING → lookForLeader)
#[test]
fn a_follower_with_a_silent_leader_starts_a_new_round() {
    let mut p = elected(1);
    let out = p.step(Input::Timeout(Timer::LeaderSilent));
    assert_eq!(out[0], note(Note::LeaderLost { leader: 3 }));
    assert_eq!((p.state(), p.logical_clock()), (LOOKING, 2));
}

/// A follower answers its own leader's ping and re-arms its patience.
#[test]
fn a_follower_answers_its_leaders_ping() {
    let mut p = elected(1);
    assert_eq!(
        recv(&mut p, 3, Message::Ping { round: 1 }),
        vec![
            Output::SetTimer {
                timer: Timer::LeaderSilent,
                after_ms: 10_000,
            },
            Output::Send {
                to: 3,
                msg: Message::PingReply { round: 1 },
            },
        ]
    );
    assert_eq!(recv(&mut p, 5, Message::Ping { round: 1 }), vec![]);
}

/// A leader that hears no quorum for syncLimit ticks stops leading.
/// (Leader.lead: "Not sufficient followers synced, only synced with sids")
#[test]
fn a_leader_without_a_quorum_steps_down() {
    let mut p = elected(3);
    recv(&mut p, 1, Message::PingReply { round: 1 });
    for _ in 0..4 {
        p.step(Input::Timeout(Timer::Tick));
        assert_eq!(p.state(), LEADING);
    }
    let out = p.step(Input::Timeout(Timer::Tick));
    assert_eq!(out[0], note(Note::LostQuorum { heard: vec![1, 3] }));
    assert_eq!((p.state(), p.logical_clock()), (LOOKING, 2));
}

/// A leader that hears a quorum keeps leading and opens a new window.
#[test]
fn a_leader_with_a_quorum_keeps_leading() {
    let mut p = elected(3);
    for _ in 0..4 {
        p.step(Input::Timeout(Timer::Tick));
    }
    recv(&mut p, 1, Message::PingReply { round: 1 });
    recv(&mut p, 2, Message::PingReply { round: 1 });
    let out = p.step(Input::Timeout(Timer::Tick));
    assert_eq!(out.len(), 4 + 1, "pings to four members and the next tick");
    assert_eq!(p.state(), LEADING);
}
