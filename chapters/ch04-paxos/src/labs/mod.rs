//! Labs: deliberate bugs, and the tests that catch them.
//!
//! # Lab 4.1: the forgetful acceptor
//!
//! An acceptor's Promise must carry the highest-ballot value it has accepted (see
//! `on_prepare` in [`crate::paxos::node`]). [`Flaw::PromiseHidesAccepted`](crate::paxos::Flaw) breaks exactly that
//! rule: the acceptor still keeps its promises and still accepts, but its Promise says "nothing
//! accepted". A later proposer then believes no value can have been chosen and proposes its own.
//!
//! [`find_disagreement`] runs the seed search: the random fault scenarios of the safety test,
//! with the flaw switched on, looking for the run that breaks an invariant in the fewest steps.
//! After `cargo run -- lab start 4.1` it is yours to write (hint: [`shortest_violation`] and
//! [`scenarios::forgetful`]); `cargo run -- lab check 4.1` grades it, and the test
//! `lab_4_1_a_forgetful_acceptor_lets_two_learners_disagree` pins the trace it finds;
//! `cargo run -p ch04-paxos -- --trace --scenario forgetful --seed <seed>` replays it.

//!
//! # Lab 4.6: break it yourself, and let the checker catch you
//!
//! The acceptor takes an Accept only if its ballot is not below the ballot it promised
//! (`on_accept`). With `--flaw YourAcceptRule` it also takes every Accept that
//! [`your_accept_rule`] says yes to: write a rule that looks right and is not, and the model
//! checker (`--model-check --flaw YourAcceptRule`) finds the order of events in which it
//! breaks agreement or validity. As handed out, the rule is the correct one, and the checker
//! finds nothing: the grader (`lab_4_6_*` in `tests/labs.rs`) passes once it finds your bug.

use crate::paxos::Ballot;
use crate::scenarios;
use crate::sim::{shortest_violation, Violation};

// ANCHOR: your_accept_rule
/// Lab 4.6: whether an acceptor that promised `promised` takes an Accept at `ballot`, by your
/// rule (only with `--flaw YourAcceptRule`; the correct rule applies as well, so yours can
/// only let more through).
pub fn your_accept_rule(promised: Ballot, ballot: Ballot) -> bool {
    // LAB 4.6 ANSWER (lab start puts the //> lines here)
    //> // The correct rule, as handed out: the checker finds nothing. Break it subtly.
    //> ballot >= promised
    // Rounds alone: looks like "not below the promise", but forgets that the node id orders
    // two proposers' ballots of one round.
    ballot.round >= promised.round
    // LAB 4.6 END
}
// ANCHOR_END: your_accept_rule

/// The failing run, among `seeds` of the `forgetful` scenario, in which two learners come to
/// disagree in the fewest steps, with its trace; `None` if the flaw went unnoticed.
pub fn find_disagreement(seeds: std::ops::Range<u64>) -> Option<Box<Violation>> {
    // LAB 4.1 ANSWER (lab start puts the //> lines here)
    //> let _ = seeds;
    //> todo!("lab 4.1: run the forgetful scenario on each seed; keep the shortest violation")
    shortest_violation(seeds, 3_000, |seed| {
        let (sim, _) = scenarios::forgetful(seed);
        sim.tracing(false).replay_command(format!(
            "cargo run -p ch04-paxos -- --trace --scenario forgetful --seed {seed}"
        ))
    })
    // LAB 4.1 END
}
