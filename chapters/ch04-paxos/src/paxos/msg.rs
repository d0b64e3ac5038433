//! The messages, timers and notes of single-decree Paxos.

use std::fmt;

use serde::Serialize;

use super::{Ballot, Value};

// ANCHOR: msg
/// The five Paxos messages.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Msg {
    /// Phase 1a, proposer → acceptors: "promise me you will ignore every ballot below this one".
    Prepare { ballot: Ballot },
    /// Phase 1b, acceptor → proposer: the promise, with the highest-ballot value the acceptor
    /// has already accepted (if any), which the proposer is then bound to propose.
    Promise { ballot: Ballot, accepted: Option<(Ballot, Value)> },
    /// Phase 2a, proposer → acceptors: "accept this value at this ballot".
    Accept { ballot: Ballot, value: Value },
    /// Phase 2b, acceptor → learners: "I accepted this value at this ballot".
    Accepted { ballot: Ballot, value: Value },
    /// Acceptor → proposer: "your ballot is below one I promised"; the proposer was preempted.
    Nack { ballot: Ballot, promised: Ballot },
}
// ANCHOR_END: msg

impl fmt::Display for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Msg::Prepare { ballot } => write!(f, "Prepare {ballot}"),
            Msg::Promise { ballot, accepted: None } => write!(f, "Promise {ballot} (no value)"),
            Msg::Promise { ballot, accepted: Some((b, v)) } => {
                write!(f, "Promise {ballot} ({v} at {b})")
            }
            Msg::Accept { ballot, value } => write!(f, "Accept {ballot} {value}"),
            Msg::Accepted { ballot, value } => write!(f, "Accepted {ballot} {value}"),
            Msg::Nack { ballot, promised } => write!(f, "Nack {ballot} (promised {promised})"),
        }
    }
}

/// A proposer's timers.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Timer {
    /// Time to make the first proposal.
    Propose,
    /// The round took too long (messages lost, or preempted): try again with a higher ballot.
    Retry,
}

impl fmt::Display for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Timer::Propose => "propose",
            Timer::Retry => "retry",
        })
    }
}

/// Facts a node reports for the trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Note {
    /// A proposer started phase 1 with this ballot, hoping to choose its own value.
    Preparing { ballot: Ballot, value: Value },
    /// A majority promised; the proposer must propose `value`, which came from an earlier ballot
    /// `from` (not its own wish) when an acceptor reported one.
    Proposing { ballot: Ballot, value: Value, from: Option<Ballot> },
    /// A Nack showed the ballot was overtaken by `by`; the proposer abandons the round.
    Preempted { ballot: Ballot, by: Ballot },
    /// A majority of acceptors accepted `value` at `ballot`: this learner knows it is chosen.
    Learned { ballot: Ballot, value: Value },
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::Preparing { ballot, value } => write!(f, "prepare {ballot} hoping for {value}"),
            Note::Proposing { ballot, value, from: None } => {
                write!(f, "majority promised {ballot}: propose own {value}")
            }
            Note::Proposing { ballot, value, from: Some(b) } => {
                write!(f, "majority promised {ballot}: must propose {value}, accepted at {b}")
            }
            Note::Preempted { ballot, by } => write!(f, "ballot {ballot} preempted by {by}"),
            Note::Learned { ballot, value } => write!(f, "learned {value} (chosen at {ballot})"),
        }
    }
}
