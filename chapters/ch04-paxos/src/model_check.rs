//! Checking every interleaving of a small Paxos cluster: `--model-check`.
//!
//! The seed sweeps of the safety test try ten thousand orders of events. Here the model checker
//! ([`crate::sim::checker`]) tries them all, for one small cluster: two proposers (n1 wants "a",
//! n2 wants "b", both learners), three acceptors (n3, n4, n5), on a network that may
//! deliver any message in flight, once, or never (`--duplicating`: any number of times). Rounds
//! are bounded (a proposer
//! that preempts and is preempted forever has infinitely many states), which is the one limit
//! of the claim: *within that many rounds per proposer*, no order of events breaks
//!
//! - **agreement** (always): no two learners learn different values;
//! - **validity** (always): a learned value is one some proposer proposed;
//!
//! and some order lets **a value be chosen** (sometimes), which shows the model is not
//! trivially safe by doing nothing.
//!
//! Why "once" by default: on a duplicating network a message sent stays in flight for good, so
//! a state also records every message ever sent, and two runs that reached the same nodes by
//! different messages stay different states. In this protocol a repeated message is answered
//! as the first was (a promise or an accept is idempotent), so duplication multiplies the states
//! without adding a behaviour; `--duplicating --depth N` checks that claim as far as you like. With [`Flaw::PromiseHidesAccepted`] (lab 4.1) the checker
//! finds the shortest order of events in which two learners disagree, and writes it as a
//! scenario file the simulator replays (`--scenario checked --flaw ... --scenario-file FILE`).

use std::time::Duration;

use stateright::actor::{ActorModel, ActorModelState};
use stateright::Expectation;

use crate::paxos::invariants::{agreement_of, validity_of};
use crate::paxos::{Config, Flaw, Paxos, Proposal, Retry, Value};
use crate::scenarios;
use crate::sim::checker::{self, Links, NodeActor};
use crate::sim::{NodeId, Sim};

/// How big the checked cluster is, and how far the checker goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// How many acceptors (n3, n4, ...).
    pub acceptors: u64,
    /// The highest round a proposer may reach.
    pub rounds: u64,
    /// Whether the network may deliver a message more than once.
    pub duplicating: bool,
}

/// The acceptors and rounds per proposer the command checks unless told otherwise.
pub const DEFAULT: Bounds = Bounds { acceptors: 3, rounds: 1, duplicating: false };

const PROPOSERS: [(NodeId, &str); 2] = [(1, "a"), (2, "b")];

/// The checked cluster: n1 proposes "a", n2 proposes "b", n3, n4, ... accept, and the two
/// proposers learn (they are the ones who need to know; an acceptor that learned would only
/// multiply the messages to interleave).
pub fn cluster(flaw: Option<Flaw>, acceptors: u64) -> Vec<Paxos> {
    let learners: Vec<NodeId> = PROPOSERS.iter().map(|p| p.0).collect();
    let acceptors: Vec<NodeId> = (3..3 + acceptors).collect();
    let all: Vec<NodeId> = learners.iter().copied().chain(acceptors.iter().copied()).collect();
    all.iter()
        .map(|id| {
            // Start times and retry delays only matter to the simulator; the checker fires
            // timers in every order.
            let proposal = PROPOSERS.iter().find(|p| p.0 == *id).map(|(_, v)| Proposal {
                value: Value::new(*v),
                start_ms: 10 * (id - 1),
                retry: Retry::Fixed(100),
            });
            let config =
                Config { acceptors: acceptors.clone(), learners: learners.clone(), proposal, flaw };
            Paxos::new(*id, config)
        })
        .collect()
}

type PaxosModel = ActorModel<NodeActor<Paxos>, Bounds>;
type PaxosState = ActorModelState<NodeActor<Paxos>>;

fn nodes(state: &PaxosState) -> Vec<&Paxos> {
    state.actor_states.iter().map(|n| &**n).collect()
}

// ANCHOR: model
/// The model: the chapter's own nodes, the properties of the module doc, rounds bounded.
pub fn model(flaw: Option<Flaw>, bounds: Bounds) -> PaxosModel {
    let links = if bounds.duplicating { Links::Duplicating } else { Links::Once };
    checker::model(bounds, cluster(flaw, bounds.acceptors), links)
        .property(Expectation::Always, "agreement", |_, s: &PaxosState| {
            agreement_of(nodes(s)).is_ok()
        })
        .property(Expectation::Always, "validity", |_, s: &PaxosState| {
            validity_of(&nodes(s)).is_ok()
        })
        .property(Expectation::Sometimes, "a value is chosen", |_, s: &PaxosState| {
            nodes(s).iter().any(|n| n.learned().is_some())
        })
        .within_boundary(|bounds: &Bounds, s: &PaxosState| {
            nodes(s).iter().all(|n| n.durable().round <= bounds.rounds)
        })
}
// ANCHOR_END: model

/// A finished check of Paxos.
pub type Outcome = checker::Outcome<Paxos>;

/// The command that replays the simulator's `checked` run with `flaw` and `acceptors`.
pub fn replay_command(flaw: Option<Flaw>, acceptors: u64) -> String {
    let flaw = flaw.map(|f| format!(" --flaw {f:?}")).unwrap_or_default();
    format!("cargo run -p ch04-paxos -- --trace --scenario checked --acceptors {acceptors}{flaw}")
}

/// Serve the explorer for the model on 127.0.0.1:`port` (see [`checker::explore`]).
pub fn explore(flaw: Option<Flaw>, bounds: Bounds, port: u16) -> std::process::ExitCode {
    checker::explore(model(flaw, bounds), Vec::new(), port)
}

/// Search the model as `search` says (a depth limit: breadth first); a counterexample becomes a scenario
/// file whose replay command names `file`. With `progress`, a line on standard error every
/// that often while the checker runs.
pub fn run(
    flaw: Option<Flaw>,
    bounds: Bounds,
    search: impl Into<checker::Search>,
    file: &str,
    progress: Option<Duration>,
) -> Result<Outcome, String> {
    let report = checker::search(model(flaw, bounds), Vec::new(), search.into(), progress);
    let flaw_text = flaw.map(|f| format!(", flaw {f:?}")).unwrap_or_default();
    let about = format!(
        "model checking single-decree Paxos: proposers n1 \"a\" and n2 \"b\", {} acceptors, \
         at most {} round(s) each{flaw_text}; messages reordered, lost{}",
        bounds.acceptors,
        bounds.rounds,
        if bounds.duplicating { ", duplicated" } else { "" }
    );
    Outcome::of(report, about, || simulation(1, flaw, bounds.acceptors), file)
}

/// The simulator's run of the checked cluster, with its replay command. (Its network is
/// perfect and its retries fixed, so the seed changes nothing.)
pub fn simulation(seed: u64, flaw: Option<Flaw>, acceptors: u64) -> Sim<Paxos> {
    scenarios::checked(seed, flaw, acceptors).replay_command(replay_command(flaw, acceptors))
}
