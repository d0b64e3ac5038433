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

use crate::scenarios;
use crate::sim::{shortest_violation, Violation};

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
