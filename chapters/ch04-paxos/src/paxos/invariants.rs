//! The safety properties of Paxos, as simulator invariants checked after every step.
//!
//! - **Agreement**: no two learners learn different values.
//! - **Validity**: a learned value is one some proposer proposed.
//! - **Stability** ("chosen stays chosen"): once a majority of acceptors has accepted `v` at
//!   ballot `b`, every value accepted at a ballot `≥ b` is `v`, and every learner learns `v`.
//!
//! Stability needs history: "a majority accepted `(b, v)`" may be true even if no single instant
//! shows it (an acceptor can move on to a higher ballot before the last vote of `b` is cast). So
//! the check keeps, per ballot, which acceptors ever accepted it; the simulator steps one node at
//! a time, so looking after every step misses nothing.

use std::collections::BTreeMap;

use super::{Ballot, Paxos, Value};
use crate::sim::{NodeId, Process, Sim};

/// Add the three safety invariants to `sim`.
pub fn check_safety(sim: Sim<Paxos>) -> Sim<Paxos> {
    sim.invariant("agreement", agreement).invariant("validity", validity).invariant("stability", {
        let mut history = History::default();
        move |sim: &Sim<Paxos>| history.check(sim)
    })
}

// ANCHOR: agreement
/// No two learners learn different values.
pub fn agreement(sim: &Sim<Paxos>) -> Result<(), String> {
    agreement_of(sim.nodes())
}

/// [`agreement`] over any set of nodes (a model checker's state, say).
pub fn agreement_of<'a>(nodes: impl IntoIterator<Item = &'a Paxos>) -> Result<(), String> {
    let mut learned = nodes.into_iter().filter_map(|n| n.learned().map(|v| (n, v)));
    let Some((first, v)) = learned.next() else {
        return Ok(());
    };
    match learned.find(|(_, w)| *w != v) {
        Some((other, w)) => {
            Err(format!("n{} learned {v} but n{} learned {w}", first.id(), other.id()))
        }
        None => Ok(()),
    }
}
// ANCHOR_END: agreement

/// A learned value was proposed by someone.
pub fn validity(sim: &Sim<Paxos>) -> Result<(), String> {
    validity_of(&sim.nodes().collect::<Vec<_>>())
}

/// [`validity`] over any set of nodes.
pub fn validity_of(nodes: &[&Paxos]) -> Result<(), String> {
    let proposed: Vec<&Value> =
        nodes.iter().filter_map(|n| n.config().proposal.as_ref().map(|p| &p.value)).collect();
    match nodes.iter().find_map(|n| n.learned().filter(|v| !proposed.contains(v)).map(|v| (n, v))) {
        Some((n, v)) => Err(format!("n{} learned {v}, which nobody proposed", n.id())),
        None => Ok(()),
    }
}

/// Which acceptors ever accepted each ballot, and with which value.
#[derive(Default)]
struct History {
    accepted: BTreeMap<Ballot, (Value, Vec<NodeId>)>,
}

impl History {
    fn check(&mut self, sim: &Sim<Paxos>) -> Result<(), String> {
        let Some(any) = sim.nodes().next() else {
            return Ok(());
        };
        let quorum = any.config().quorum();
        for n in sim.nodes() {
            if let Some((b, v)) = &n.durable().accepted {
                let entry = self.accepted.entry(*b).or_insert_with(|| (v.clone(), Vec::new()));
                if entry.0 != *v {
                    return Err(format!("ballot {b} carried two values, {} and {v}", entry.0));
                }
                if !entry.1.contains(&n.id()) {
                    entry.1.push(n.id());
                }
            }
        }
        // The lowest ballot a majority accepted: its value is the chosen one.
        let Some((chosen_at, (chosen, _))) =
            self.accepted.iter().find(|(_, (_, who))| who.len() >= quorum)
        else {
            return match sim.nodes().find(|n| n.learned().is_some()) {
                Some(n) => Err(format!("n{} learned a value no majority accepted", n.id())),
                None => Ok(()),
            };
        };
        if let Some((b, (v, _))) = self.accepted.range(chosen_at..).find(|(_, (v, _))| v != chosen)
        {
            return Err(format!(
                "{chosen} was chosen at {chosen_at}, but {v} was accepted later at {b}"
            ));
        }
        if let Some(n) = sim.nodes().find(|n| n.learned().is_some_and(|v| v != chosen)) {
            let v = n.learned().expect("found by it");
            return Err(format!("{chosen} was chosen at {chosen_at}, but n{} learned {v}", n.id()));
        }
        Ok(())
    }
}
