//! Single-decree Paxos: how a group of crash-prone machines agrees on one value.
//!
//! Three roles, which one node may combine:
//! - **Proposers** want a value chosen. They run rounds, each under a unique [`Ballot`].
//! - **Acceptors** vote. They make promises and keep them, and they write both promises and
//!   votes to disk before answering ([`Durable`]).
//! - **Learners** count votes: a value accepted by a majority of acceptors at one ballot is
//!   *chosen*, forever.
//!
//! Two phases per round:
//! 1. *Prepare/Promise.* The proposer asks every acceptor to promise to ignore lower ballots. Each
//!    promise carries the highest-ballot value that acceptor already accepted.
//! 2. *Accept/Accepted.* With promises from a majority, the proposer asks acceptors to accept a
//!    value: the highest-ballot value reported in phase 1 if any, else its own. Acceptors accept
//!    unless they promised a higher ballot, and tell the learners.
//!
//! Why it is safe: any two majorities share an acceptor. If a value `v` was chosen at ballot `b`,
//! a majority accepted it; any later proposer's phase-1 majority contains at least one of them, who
//! reports `v` (or a later value that, by induction, is also `v`). So every higher ballot proposes
//! `v` again. [`invariants`] checks exactly this over thousands of faulty runs.
//!
//! What it does not promise: progress. Two proposers can preempt each other forever (the `duel`
//! scenario). Randomized back-off or a single distinguished proposer fixes that in practice.

pub mod ballot;
pub mod invariants;
pub mod msg;
pub mod node;

pub use ballot::{Ballot, Value};
pub use msg::{Msg, Note, Timer};
pub use node::{Config, Durable, Flaw, Paxos, Phase, Proposal, Retry};

#[cfg(test)]
mod tests;
