//! One step at a time: each test builds a server, feeds it one input and
//! checks the exact outputs. Each cites the upstream rule it checks.

use super::*;
use crate::quorum::{QuorumHierarchical, QuorumMaj};

pub(crate) const LOOKING: ServerState = ServerState::Looking;
pub(crate) const FOLLOWING: ServerState = ServerState::Following;
pub(crate) const LEADING: ServerState = ServerState::Leading;

// Servers and rounds by the names the trace gives them: n1 .. n6, round 1 .. 3.
pub(crate) const N1: Sid = Sid(1);
pub(crate) const N2: Sid = Sid(2);
pub(crate) const N3: Sid = Sid(3);
pub(crate) const N4: Sid = Sid(4);
pub(crate) const N5: Sid = Sid(5);
pub(crate) const N6: Sid = Sid(6);
pub(crate) const R1: Round = Round(1);
pub(crate) const R2: Round = Round(2);
pub(crate) const R3: Round = Round(3);

pub(crate) fn ensemble(voters: u64, observers: &[Sid]) -> Config {
    Config::new(Arc::new(QuorumMaj::new(
        (1..=voters).map(Sid),
        observers.iter().copied(),
    )))
}

pub(crate) fn vote(leader: Sid) -> Vote {
    Vote {
        leader,
        zxid: Zxid(0),
        peer_epoch: Epoch(0),
    }
}

/// A server of a 5-voter ensemble that has just started (round 1).
fn started(sid: Sid) -> Peer {
    let mut p = Peer::new(sid, ensemble(5, &[]), Durable::default());
    p.step(Input::Start);
    p
}

pub(crate) fn notif(state: ServerState, leader: Sid, round: Round) -> Notification {
    Notification::new(state, vote(leader), round)
}

fn recv(p: &mut Peer, from: Sid, n: Notification) -> Vec<Output> {
    p.step(Input::Receive { from, n })
}

/// The notifications a server sends to every voter for `leader` in `round`.
fn broadcast(voters: u64, leader: Sid, round: Round) -> Vec<Output> {
    (1..=voters)
        .map(|to| Output::Send {
            to: Sid(to),
            n: notif(LOOKING, leader, round),
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
    votes_for(&mut p, N3, &[N3, N1, N2]);
    p.step(Input::Timeout(Timer::FinalizeWait));
    p
}

/// Feed `p` the LOOKING votes of `voters` for `leader`, in round 1.
fn votes_for(p: &mut Peer, leader: Sid, voters: &[Sid]) -> Vec<Output> {
    let mut last = Vec::new();
    for &from in voters {
        last = recv(p, from, notif(LOOKING, leader, R1));
    }
    last
}

/// A server starts round 1 by voting for itself and telling every voter,
/// itself included. (FastLeaderElection.lookForLeader: logicalclock.incrementAndGet, sendNotifications)
#[test]
fn a_starting_server_votes_for_itself_and_tells_every_voter() {
    let mut p = Peer::new(N2, ensemble(5, &[]), Durable::default());
    let out = p.step(Input::Start);
    let mut expected = vec![
        note(Note::Started {
            durable: Durable::default(),
        }),
        note(Note::Looking {
            round: R1,
            vote: vote(N2),
        }),
    ];
    expected.extend(broadcast(5, N2, R1));
    expected.push(poll(200));
    assert_eq!(out, expected);
    assert_eq!((p.state(), p.logical_clock()), (LOOKING, R1));
}

/// A better vote of the same round is adopted and re-broadcast.
/// (lookForLeader: n.electionEpoch == logicalclock && totalOrderPredicate → updateProposal, sendNotifications)
#[test]
fn a_better_vote_of_the_same_round_is_adopted_and_rebroadcast() {
    let mut p = started(N1);
    let out = recv(&mut p, N2, notif(LOOKING, N2, R1));
    let mut expected = vec![note(Note::Switch {
        vote: vote(N2),
        why: "higher sid",
    })];
    expected.extend(broadcast(5, N2, R1));
    expected.push(poll(200));
    assert_eq!(out, expected);
    assert_eq!(p.proposal(), vote(N2));
}

/// A worse vote is counted but changes nothing. (lookForLeader: recvset.put)
#[test]
fn a_worse_vote_is_counted_but_not_adopted() {
    let mut p = started(N2);
    assert_eq!(recv(&mut p, N1, notif(LOOKING, N1, R1)), vec![poll(200)]);
    assert_eq!(p.proposal(), vote(N2));
}

/// A vote of a later round moves us to that round; we then vote for the
/// better of it and our own first vote. (lookForLeader: n.electionEpoch > logicalclock)
#[test]
fn a_later_round_is_joined_with_the_better_of_its_vote_and_ours() {
    let mut p = started(N4);
    let out = recv(&mut p, N2, notif(LOOKING, N2, R3));
    let mut expected = vec![note(Note::NewRound {
        round: R3,
        vote: vote(N4),
    })];
    expected.extend(broadcast(5, N4, R3));
    expected.push(poll(200));
    assert_eq!(out, expected);
    assert_eq!(p.logical_clock(), R3);
}

/// A looking voter from an earlier round is not counted, but gets our vote
/// back so it can catch up. (WorkerReceiver: n.electionEpoch < logicalclock → reply; lookForLeader: break)
#[test]
fn a_lagging_voter_is_answered_and_not_counted() {
    let mut p = started(N4);
    recv(&mut p, N2, notif(LOOKING, N2, R3));
    let out = recv(&mut p, N1, notif(LOOKING, N5, R2));
    assert_eq!(
        out,
        vec![
            Output::Send {
                to: N1,
                n: notif(LOOKING, N4, R3),
            },
            poll(200),
        ]
    );
    assert_eq!(p.proposal(), vote(N4));
}

/// When a quorum's votes equal ours, wait finalizeWait before deciding.
/// (lookForLeader: voteSet.hasAllQuorums → poll(finalizeWait))
#[test]
fn a_quorum_for_our_vote_starts_finalize_wait() {
    let mut p = started(N3);
    let out = votes_for(&mut p, N3, &[N3, N1, N2]);
    assert_eq!(
        out,
        vec![
            Output::CancelTimer(Timer::NotTimeout),
            note(Note::Quorum {
                vote: vote(N3),
                voters: vec![N1, N2, N3],
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
    let mut p = started(N3);
    assert_eq!(votes_for(&mut p, N3, &[N3, N2]), vec![poll(200)]);
}

/// finalizeWait passes quietly: the proposed leader leads, the others follow,
/// and the election's story ends. (lookForLeader: n == null → setPeerState)
#[test]
fn a_quiet_finalize_wait_ends_the_election() {
    let mut p = started(N3);
    votes_for(&mut p, N3, &[N3, N1, N2]);
    let out = p.step(Input::Timeout(Timer::FinalizeWait));
    assert_eq!(
        out,
        vec![
            Output::CancelTimer(Timer::NotTimeout),
            Output::CancelTimer(Timer::FinalizeWait),
            note(Note::Decided {
                state: LEADING,
                leader: N3,
                round: R1,
            }),
        ]
    );
    assert_eq!(p.decided(), Some((vote(N3), R1)));

    let mut f = started(N1);
    votes_for(&mut f, N3, &[N3, N1, N2]);
    f.step(Input::Timeout(Timer::FinalizeWait));
    assert_eq!((f.state(), f.decided()), (FOLLOWING, Some((vote(N3), R1))));
}

/// A better vote during finalizeWait is put back and the loop goes on.
/// (lookForLeader: totalOrderPredicate → recvqueue.put(n); break)
#[test]
fn a_better_vote_during_finalize_wait_reopens_the_election() {
    let mut p = started(N3);
    votes_for(&mut p, N3, &[N3, N1, N2]);
    let out = recv(&mut p, N4, notif(LOOKING, N4, R1));
    assert_eq!(out[0], Output::CancelTimer(Timer::FinalizeWait));
    assert_eq!(out[1], note(Note::Reopen { vote: vote(N4) }));
    assert_eq!(p.proposal(), vote(N4));
    // The old finalizeWait, if it still fires, decides nothing.
    assert_eq!(p.step(Input::Timeout(Timer::FinalizeWait)), vec![]);
    assert_eq!(p.state(), LOOKING);
}

/// A vote that is not better during finalizeWait is consumed, and the wait
/// starts over. (lookForLeader: while ((n = recvqueue.poll(finalizeWait)) != null))
#[test]
fn a_worse_vote_during_finalize_wait_restarts_the_wait() {
    let mut p = started(N3);
    votes_for(&mut p, N3, &[N3, N1, N2]);
    let out = recv(&mut p, N4, notif(LOOKING, N2, R1));
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
    let mut p = started(N1);
    let out = p.step(Input::Timeout(Timer::NotTimeout));
    let mut expected = broadcast(5, N1, R1);
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
    let mut p = elected(N1);
    let out = recv(&mut p, N4, notif(LOOKING, N4, R1));
    assert_eq!(
        out,
        vec![Output::Send {
            to: N4,
            n: notif(FOLLOWING, N3, R1),
        }]
    );
    // Decided servers say nothing to each other.
    assert_eq!(recv(&mut p, N2, notif(FOLLOWING, N3, R1)), vec![]);
}

/// A latecomer follows once a quorum reports the same leader and the
/// leader's own notification says LEADING. (receivedFollowingNotification, checkLeader)
#[test]
fn a_latecomer_joins_a_quorum_whose_leader_says_it_leads() {
    let mut p = started(N4);
    // Followers of round 1 arrive first: no LEADING vote yet, no decision.
    assert_eq!(recv(&mut p, N1, notif(FOLLOWING, N3, R1)), vec![poll(200)]);
    assert_eq!(recv(&mut p, N2, notif(FOLLOWING, N3, R1)), vec![poll(200)]);
    let out = recv(&mut p, N3, notif(LEADING, N3, R1));
    assert_eq!(
        out[2],
        note(Note::Decided {
            state: FOLLOWING,
            leader: N3,
            round: R1,
        })
    );
    assert_eq!(p.decided(), Some((vote(N3), R1)));
}

/// Without the leader's own LEADING vote, a quorum of followers is not
/// enough: the leader may be dead. (checkLeader: votes.get(leader).getState() != LEADING)
#[test]
fn followers_alone_do_not_make_a_latecomer_follow() {
    let mut p = started(N5);
    for from in [N1, N2, N4] {
        assert_eq!(
            recv(&mut p, from, notif(FOLLOWING, N3, R1)),
            vec![poll(200)]
        );
    }
    assert_eq!(p.state(), LOOKING);
}

/// A latecomer from another round joins through outofelection and adopts
/// the ensemble's round. (receivedFollowingNotification: logicalclock.set(n.electionEpoch))
#[test]
fn a_restarted_server_joins_a_later_round_through_outofelection() {
    let mut p = started(N5);
    recv(&mut p, N1, notif(FOLLOWING, N4, R2));
    recv(&mut p, N2, notif(FOLLOWING, N4, R2));
    recv(&mut p, N4, notif(LEADING, N4, R2));
    assert_eq!(
        (p.state(), p.logical_clock(), p.decided()),
        (FOLLOWING, R2, Some((vote(N4), R2)))
    );
}

/// Once Zab has established a new epoch, a decided server answers a latecomer with a vote
/// carrying that epoch, in the round that elected its leader. (QuorumPeer.updateElectionVote,
/// ZOOKEEPER-1732)
#[test]
fn a_decided_server_tells_a_latecomer_the_epoch_zab_established() {
    let mut p = elected(N1);
    p.update_election_vote(Epoch(1));
    let out = recv(&mut p, N4, notif(LOOKING, N4, R1));
    let told = Vote {
        peer_epoch: Epoch(1),
        ..vote(N3)
    };
    assert_eq!(
        out,
        vec![Output::Send {
            to: N4,
            n: Notification::new(FOLLOWING, told, R1),
        }]
    );
}

/// A looking server has no decided vote to update: its proposal stays what its disk says.
/// (QuorumPeer.updateElectionVote is only called by a leader or a synced learner)
#[test]
fn a_looking_server_ignores_an_epoch_update() {
    let mut p = started(N2);
    p.update_election_vote(Epoch(7));
    assert_eq!(p.proposal(), vote(N2));
    assert_eq!(p.decided(), None);
}

/// Out of the election a vote is its leader and its epoch: a latecomer joins a quorum whose
/// members all report the established epoch, and cannot count members that report two
/// different epochs for one leader as one quorum — why every member must update its vote.
/// (Vote.equals, receivedFollowingNotification, ZOOKEEPER-1732)
#[test]
fn a_latecomer_counts_only_members_that_report_the_same_epoch() {
    let at = |epoch: i64| Vote {
        peer_epoch: Epoch(epoch),
        ..vote(N4)
    };
    let mut agreeing = started(N5);
    for (from, state) in [(N1, FOLLOWING), (N2, FOLLOWING), (N4, LEADING)] {
        recv(&mut agreeing, from, Notification::new(state, at(1), R2));
    }
    assert_eq!(
        (agreeing.state(), agreeing.decided()),
        (FOLLOWING, Some((at(1), R2)))
    );

    let mut split = started(N5);
    for (from, state, epoch) in [(N1, FOLLOWING, 0), (N2, FOLLOWING, 1), (N4, LEADING, 1)] {
        recv(&mut split, from, Notification::new(state, at(epoch), R2));
    }
    assert_eq!(split.state(), LOOKING);
}

/// Observers vote for nobody, send only to voters, and are answered at once
/// by a voter without being counted. (getInitId, WorkerReceiver: !validVoter(response.sid))
#[test]
fn an_observer_votes_for_nobody_and_is_answered_but_not_counted() {
    let mut o = Peer::new(N6, ensemble(5, &[N6]), Durable::default());
    let out = o.step(Input::Start);
    assert_eq!(
        out[2],
        Output::Send {
            to: N1,
            n: Notification::new(LOOKING, Vote::NOBODY, R1),
        }
    );
    assert_eq!(out.len(), 2 + 5 + 1, "two notes, five voters, a poll");

    let mut v = Peer::new(N2, ensemble(5, &[N6]), Durable::default());
    v.step(Input::Start);
    let nobody = Notification::new(LOOKING, Vote::NOBODY, R1);
    let out = recv(&mut v, N6, nobody);
    assert_eq!(
        out,
        vec![Output::Send {
            to: N6,
            n: notif(LOOKING, N2, R1),
        }]
    );
}

/// A looking voter does not answer an observer that has decided: the observer's notification
/// was itself an answer, and answering it would start an exchange that lasts as long as the
/// voter looks (upstream answers every non-voter; with duplicated messages the exchanges
/// multiply without end).
#[test]
fn a_looking_voter_does_not_answer_an_observing_observer() {
    let mut v = Peer::new(N2, ensemble(5, &[N6]), Durable::default());
    v.step(Input::Start);
    let observing = notif(ServerState::Observing, N5, R1);
    assert_eq!(recv(&mut v, N6, observing), vec![]);
    assert_eq!(v.state(), LOOKING, "and it is not counted");
}

/// An observer that sees a quorum of voters agree ends as OBSERVING.
/// (FastLeaderElection.learningState)
#[test]
fn an_observer_ends_observing() {
    let mut o = Peer::new(N6, ensemble(3, &[N6]), Durable::default());
    o.step(Input::Start);
    votes_for(&mut o, N3, &[N1, N2]);
    o.step(Input::Timeout(Timer::FinalizeWait));
    assert_eq!(o.state(), ServerState::Observing);
}

/// A candidate of weight 0 never wins, however good its log.
/// (totalOrderPredicate: self.getQuorumVerifier().getWeight(newId) == 0 → false)
#[test]
fn a_zero_weight_candidate_never_wins() {
    let qv = QuorumHierarchical::new([(N1, 1, 1), (N2, 1, 1), (N3, 1, 0)], []);
    let mut p = Peer::new(N1, Config::new(Arc::new(qv)), Durable::default());
    p.step(Input::Start);
    recv(&mut p, N3, notif(LOOKING, N3, R1));
    assert_eq!(p.proposal(), vote(N1));
}
