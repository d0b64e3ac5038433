//! One test per rule: build a node, feed one input, compare the exact outputs and state.
//! Rules cite Lamport, "Paxos Made Simple" (2001), section 2.2 (choosing a value) and 2.3
//! (learning a chosen value).

use super::*;
use crate::sim::{Input, Output, Process};

fn b(round: u64, node: u64) -> Ballot {
    Ballot::new(round, node)
}

fn v(s: &str) -> Value {
    Value::new(s)
}

/// Node `id` of a three-acceptor cluster {1,2,3}, every node a learner; node 1 proposes "a".
fn node(id: u64) -> Paxos {
    let proposal =
        (id == 1).then(|| Proposal { value: v("a"), start_ms: 0, retry: Retry::Fixed(100) });
    Paxos::new(
        id,
        Config { acceptors: vec![1, 2, 3], learners: vec![1, 2, 3], proposal, flaw: None },
    )
}

fn recv(n: &mut Paxos, from: u64, msg: Msg) -> Vec<Output<Msg, Timer, Note>> {
    n.step(Input::Receive { from, msg })
}

fn send(to: u64, msg: Msg) -> Output<Msg, Timer, Note> {
    Output::Send { to, msg }
}

#[test]
fn an_acceptor_promises_a_higher_ballot_and_says_it_accepted_nothing() {
    // §2.2, phase 1(b): respond with a promise not to accept lower ballots, and the highest
    // accepted proposal, if any.
    let mut n = node(2);
    assert_eq!(
        recv(&mut n, 1, Msg::Prepare { ballot: b(1, 1) }),
        [send(1, Msg::Promise { ballot: b(1, 1), accepted: None })]
    );
    assert_eq!(n.durable().promised, b(1, 1));
}

#[test]
fn an_acceptors_promise_carries_its_highest_accepted_value() {
    // §2.2, phase 1(b): the promise includes the highest-numbered proposal it has accepted.
    let mut n = node(2);
    recv(&mut n, 1, Msg::Accept { ballot: b(1, 1), value: v("a") });
    let out = recv(&mut n, 3, Msg::Prepare { ballot: b(2, 3) });
    assert_eq!(out, [send(3, Msg::Promise { ballot: b(2, 3), accepted: Some((b(1, 1), v("a"))) })]);
}

#[test]
fn an_acceptor_refuses_a_prepare_below_its_promise_with_a_nack() {
    // §2.2: an acceptor ignores (here: explicitly refuses) a prepare numbered below a promise.
    let mut n = node(2);
    recv(&mut n, 3, Msg::Prepare { ballot: b(2, 3) });
    assert_eq!(
        recv(&mut n, 1, Msg::Prepare { ballot: b(1, 1) }),
        [send(1, Msg::Nack { ballot: b(1, 1), promised: b(2, 3) })]
    );
    assert_eq!(n.durable().promised, b(2, 3), "the higher promise stands");
}

#[test]
fn an_acceptor_answers_a_repeated_prepare_again() {
    // A duplicated Prepare must not read as preemption of its own proposer.
    let mut n = node(2);
    recv(&mut n, 1, Msg::Prepare { ballot: b(1, 1) });
    assert_eq!(
        recv(&mut n, 1, Msg::Prepare { ballot: b(1, 1) }),
        [send(1, Msg::Promise { ballot: b(1, 1), accepted: None })]
    );
}

#[test]
fn an_acceptor_accepts_unless_it_promised_higher_and_tells_every_learner() {
    // §2.2, phase 2(b): accept a proposal unless it has promised a higher-numbered prepare.
    // §2.3: each acceptor informs the learners when it accepts.
    let mut n = node(2);
    recv(&mut n, 1, Msg::Prepare { ballot: b(1, 1) });
    let accepted = Msg::Accepted { ballot: b(1, 1), value: v("a") };
    assert_eq!(
        recv(&mut n, 1, Msg::Accept { ballot: b(1, 1), value: v("a") }),
        [send(1, accepted.clone()), send(2, accepted.clone()), send(3, accepted)]
    );
    assert_eq!(n.durable().accepted, Some((b(1, 1), v("a"))));
}

#[test]
fn an_acceptor_refuses_an_accept_below_its_promise() {
    let mut n = node(2);
    recv(&mut n, 3, Msg::Prepare { ballot: b(2, 3) });
    assert_eq!(
        recv(&mut n, 1, Msg::Accept { ballot: b(1, 1), value: v("a") }),
        [send(1, Msg::Nack { ballot: b(1, 1), promised: b(2, 3) })]
    );
    assert_eq!(n.durable().accepted, None);
}

#[test]
fn a_node_that_is_not_an_acceptor_ignores_prepare_and_accept() {
    let mut n = Paxos::new(9, node(2).config().clone());
    assert_eq!(recv(&mut n, 1, Msg::Prepare { ballot: b(1, 1) }), []);
    assert_eq!(recv(&mut n, 1, Msg::Accept { ballot: b(1, 1), value: v("a") }), []);
}

#[test]
fn a_proposer_prepares_a_ballot_above_every_round_it_has_seen() {
    // §2.2, phase 1(a): select a new proposal number n, send prepare(n) to a majority.
    let mut n = node(1);
    assert_eq!(n.step(Input::Start), [Output::SetTimer { timer: Timer::Propose, after_ms: 0 }]);
    let out = n.step(Input::Timeout(Timer::Propose));
    assert_eq!(
        out,
        [
            Output::Note(Note::Preparing { ballot: b(1, 1), value: v("a") }),
            send(1, Msg::Prepare { ballot: b(1, 1) }),
            send(2, Msg::Prepare { ballot: b(1, 1) }),
            send(3, Msg::Prepare { ballot: b(1, 1) }),
            Output::SetTimer { timer: Timer::Retry, after_ms: 100 },
        ]
    );
}

fn preparing(n: &mut Paxos) {
    n.step(Input::Timeout(Timer::Propose));
}

#[test]
fn a_proposer_with_a_majority_of_empty_promises_proposes_its_own_value() {
    // §2.2, phase 2(a): v is the value of the highest-numbered reported proposal, or any value
    // (our own) if none was reported.
    let mut n = node(1);
    preparing(&mut n);
    assert_eq!(recv(&mut n, 2, Msg::Promise { ballot: b(1, 1), accepted: None }), []);
    let out = recv(&mut n, 3, Msg::Promise { ballot: b(1, 1), accepted: None });
    let accept = Msg::Accept { ballot: b(1, 1), value: v("a") };
    assert_eq!(
        out,
        [
            Output::Note(Note::Proposing { ballot: b(1, 1), value: v("a"), from: None }),
            send(1, accept.clone()),
            send(2, accept.clone()),
            send(3, accept),
        ]
    );
    assert_eq!(n.phase(), &Phase::Accepting { ballot: b(1, 1), value: v("a") });
}

#[test]
fn a_proposer_must_propose_the_highest_ballot_value_its_promises_report() {
    // §2.2, phase 2(a): the value of the highest-numbered proposal among the responses.
    let mut n = node(1);
    n.step(Input::Timeout(Timer::Propose)); // ballot 1.1
    recv(&mut n, 2, Msg::Nack { ballot: b(1, 1), promised: b(4, 3) });
    n.step(Input::Timeout(Timer::Retry)); // ballot 5.1, above the 4.3 that beat us
    recv(&mut n, 2, Msg::Promise { ballot: b(5, 1), accepted: Some((b(2, 2), v("old"))) });
    let out =
        recv(&mut n, 3, Msg::Promise { ballot: b(5, 1), accepted: Some((b(4, 3), v("newer"))) });
    assert_eq!(
        out[0],
        Output::Note(Note::Proposing { ballot: b(5, 1), value: v("newer"), from: Some(b(4, 3)) })
    );
    assert_eq!(out[1], send(1, Msg::Accept { ballot: b(5, 1), value: v("newer") }));
}

#[test]
fn a_proposer_ignores_stale_and_repeated_promises() {
    let mut n = node(1);
    preparing(&mut n);
    assert_eq!(recv(&mut n, 2, Msg::Promise { ballot: b(1, 1), accepted: None }), []);
    assert_eq!(
        recv(&mut n, 2, Msg::Promise { ballot: b(1, 1), accepted: None }),
        [],
        "a duplicate is not a second promise"
    );
    assert_eq!(
        recv(&mut n, 3, Msg::Promise { ballot: b(0, 1), accepted: None }),
        [],
        "an old round's promise"
    );
    assert!(matches!(n.phase(), Phase::Preparing { .. }));
}

#[test]
fn a_nack_for_the_current_ballot_abandons_the_round_and_raises_the_next_one() {
    let mut n = node(1);
    preparing(&mut n);
    let out = recv(&mut n, 2, Msg::Nack { ballot: b(1, 1), promised: b(7, 3) });
    assert_eq!(
        out,
        [
            Output::Note(Note::Preempted { ballot: b(1, 1), by: b(7, 3) }),
            Output::SetTimer { timer: Timer::Retry, after_ms: 100 },
        ]
    );
    assert_eq!(n.phase(), &Phase::Idle);
    assert_eq!(
        recv(&mut n, 3, Msg::Nack { ballot: b(1, 1), promised: b(7, 3) }),
        [],
        "the same news again"
    );
    let out = n.step(Input::Timeout(Timer::Retry));
    assert_eq!(out[0], Output::Note(Note::Preparing { ballot: b(8, 1), value: v("a") }));
}

#[test]
fn a_learner_learns_when_a_majority_accepted_one_ballot() {
    // §2.3: a value is chosen when a majority of acceptors accepted it (at one ballot).
    let mut n = node(3);
    assert_eq!(recv(&mut n, 1, Msg::Accepted { ballot: b(1, 1), value: v("a") }), []);
    assert_eq!(
        recv(&mut n, 1, Msg::Accepted { ballot: b(1, 1), value: v("a") }),
        [],
        "a duplicate is not a vote"
    );
    assert_eq!(
        recv(&mut n, 2, Msg::Accepted { ballot: b(2, 2), value: v("a") }),
        [],
        "another ballot: no majority"
    );
    assert_eq!(
        recv(&mut n, 2, Msg::Accepted { ballot: b(1, 1), value: v("a") }),
        [
            Output::Note(Note::Learned { ballot: b(1, 1), value: v("a") }),
            Output::CancelTimer(Timer::Retry)
        ]
    );
    assert_eq!(n.learned(), Some(&v("a")));
}

#[test]
fn a_proposer_that_learned_the_outcome_stops_proposing() {
    let mut n = node(1);
    recv(&mut n, 2, Msg::Accepted { ballot: b(1, 2), value: v("z") });
    recv(&mut n, 3, Msg::Accepted { ballot: b(1, 2), value: v("z") });
    assert_eq!(n.step(Input::Timeout(Timer::Retry)), []);
    assert_eq!(n.step(Input::Start), [], "not even after a restart");
}

#[test]
fn a_restarted_acceptor_keeps_its_promise_and_its_vote() {
    let mut n = node(2);
    recv(&mut n, 1, Msg::Accept { ballot: b(3, 1), value: v("a") });
    let mut back = n.after_crash();
    assert_eq!(
        recv(&mut back, 3, Msg::Accept { ballot: b(2, 3), value: v("c") }),
        [send(3, Msg::Nack { ballot: b(2, 3), promised: b(3, 1) })]
    );
    assert_eq!(back.durable().accepted, Some((b(3, 1), v("a"))));
}

#[test]
fn a_restarted_proposer_never_reuses_a_ballot() {
    let mut n = node(1);
    preparing(&mut n);
    let mut back = n.after_crash();
    assert_eq!(back.phase(), &Phase::Idle, "the round in progress is forgotten");
    let out = back.step(Input::Timeout(Timer::Propose));
    assert_eq!(out[0], Output::Note(Note::Preparing { ballot: b(2, 1), value: v("a") }));
}
