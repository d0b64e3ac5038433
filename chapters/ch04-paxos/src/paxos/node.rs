//! One Paxos node: any mix of proposer, acceptor and learner, as a pure state machine.
//!
//! Each rule of the protocol is one match arm with a guard, and the comment above it says why
//! the rule exists. The acceptor's rules are the heart of safety; the proposer's are about making
//! progress without breaking them; the learner only counts.

use serde::Serialize;

use super::{Ballot, Msg, Note, Timer, Value};
use crate::sim::{Input, Millis, NodeId, Output, Process};

type Out = Output<Msg, Timer, Note>;

// ANCHOR: retry
/// When a proposer whose round failed tries again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Retry {
    /// A fixed timeout: two proposers with the same rhythm can preempt each other forever.
    Fixed(Millis),
    /// A delay drawn by the simulator from `min_ms..=max_ms`: rhythms drift apart and one wins.
    Random { min_ms: Millis, max_ms: Millis },
}
// ANCHOR_END: retry

/// What a node wants to propose, if it is a proposer.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Proposal {
    pub value: Value,
    /// When to make the first attempt.
    pub start_ms: Millis,
    pub retry: Retry,
}

/// A deliberate bug, for the lab (see [`crate::labs`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Flaw {
    /// The acceptor's Promise leaves out the value it accepted: the rule lab 4.1 breaks.
    PromiseHidesAccepted,
    /// The acceptor takes an Accept by the reader's own rule (lab 4.6:
    /// [`crate::labs::your_accept_rule`]), as well as by the correct one.
    YourAcceptRule,
}

impl Flaw {
    /// Every flaw, with the name `--flaw` takes.
    pub const ALL: [(&'static str, Flaw); 2] = [
        ("PromiseHidesAccepted", Flaw::PromiseHidesAccepted),
        ("YourAcceptRule", Flaw::YourAcceptRule),
    ];

    /// The flaw called `name` (as in [`Flaw::ALL`]).
    pub fn named(name: &str) -> Result<Flaw, String> {
        Flaw::ALL.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, f)| *f).ok_or_else(
            || {
                let names: Vec<&str> = Flaw::ALL.iter().map(|(n, _)| *n).collect();
                format!("unknown flaw `{name}`; choose one of: {}", names.join(", "))
            },
        )
    }
}

/// A node's place in the cluster.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Config {
    /// Every acceptor; a majority of this list is a quorum.
    pub acceptors: Vec<NodeId>,
    /// Every learner; acceptors tell them what they accepted. Proposers should be learners, so
    /// they know when to stop.
    pub learners: Vec<NodeId>,
    /// `Some` if this node is a proposer.
    pub proposal: Option<Proposal>,
    /// `Some` only in the lab.
    pub flaw: Option<Flaw>,
}

impl Config {
    /// How many acceptors make a majority.
    pub fn quorum(&self) -> usize {
        self.acceptors.len() / 2 + 1
    }
}

/// Where a proposer is in its current round.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Not running a round (not a proposer, waiting to retry, or done).
    Idle,
    /// Phase 1: sent Prepare, collecting Promises; remembers the highest accepted value reported.
    Preparing { ballot: Ballot, promised_by: Vec<NodeId>, highest: Option<(Ballot, Value)> },
    /// Phase 2: sent Accept with this value.
    Accepting { ballot: Ballot, value: Value },
}

// ANCHOR: durable
/// What a node writes to disk before it answers, and so keeps across a crash.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Durable {
    /// Acceptor: the highest ballot promised. Forgetting it would let the acceptor accept a
    /// lower ballot it promised to ignore.
    pub promised: Ballot,
    /// Acceptor: the highest-ballot value accepted. Forgetting it would hide a possibly chosen
    /// value from the next proposer.
    pub accepted: Option<(Ballot, Value)>,
    /// Proposer: the highest round used or seen. Forgetting it could reuse a ballot with a
    /// different value.
    pub round: u64,
    /// Learner: the value learned, once learned.
    pub learned: Option<(Ballot, Value)>,
}
// ANCHOR_END: durable

/// A Paxos node. Comparable and hashable so a model checker can tell states apart.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Paxos {
    id: NodeId,
    config: Config,
    durable: Durable,
    phase: Phase,
    /// Learner: which acceptors reported accepting which ballot (volatile: re-sent on retry).
    votes: Vec<(Ballot, Value, Vec<NodeId>)>,
}

impl Paxos {
    /// A fresh node.
    pub fn new(id: NodeId, config: Config) -> Self {
        Self::recover(id, config, Durable::default())
    }

    /// A node restarted from what it kept on disk (the simulator's recover hook).
    pub fn recover(id: NodeId, config: Config, durable: Durable) -> Self {
        Paxos { id, config, durable, phase: Phase::Idle, votes: Vec::new() }
    }

    /// The crash-recovery hook: a copy of this node that kept only its [`Durable`] state.
    pub fn after_crash(&self) -> Self {
        Self::recover(self.id, self.config.clone(), self.durable.clone())
    }

    pub fn config(&self) -> &Config {
        &self.config
    }
    pub fn durable(&self) -> &Durable {
        &self.durable
    }
    pub fn phase(&self) -> &Phase {
        &self.phase
    }
    /// The value this node learned, if any.
    pub fn learned(&self) -> Option<&Value> {
        self.durable.learned.as_ref().map(|(_, v)| v)
    }
    fn is_acceptor(&self) -> bool {
        self.config.acceptors.contains(&self.id)
    }
    fn is_learner(&self) -> bool {
        self.config.learners.contains(&self.id)
    }

    // ---- acceptor ----

    // ANCHOR: acceptor
    fn on_prepare(&mut self, from: NodeId, ballot: Ballot) -> Vec<Out> {
        match ballot {
            // Only acceptors vote.
            _ if !self.is_acceptor() => vec![],
            // Phase 1b: promise any ballot at least as high as every promise so far (equal: a
            // duplicate Prepare, answered again). Report the highest accepted value, so the new
            // proposer cannot overwrite a value that may already be chosen.
            b if b >= self.durable.promised => {
                self.durable.promised = b;
                let accepted = match self.config.flaw {
                    Some(Flaw::PromiseHidesAccepted) => None,
                    _ => self.durable.accepted.clone(),
                };
                vec![send(from, Msg::Promise { ballot: b, accepted })]
            }
            // A promise to a higher ballot stands: refuse, and say which ballot won.
            b => vec![send(from, Msg::Nack { ballot: b, promised: self.durable.promised })],
        }
    }

    fn on_accept(&mut self, from: NodeId, ballot: Ballot, value: Value) -> Vec<Out> {
        match ballot {
            // Only acceptors vote.
            _ if !self.is_acceptor() => vec![],
            // Phase 2b: accept unless that would break a promise to a higher ballot. Tell every
            // learner, who count the acceptances.
            b if b >= self.durable.promised || self.by_your_rule(b) => {
                self.durable.promised = b;
                self.durable.accepted = Some((b, value.clone()));
                let msg = Msg::Accepted { ballot: b, value };
                self.config.learners.iter().map(|l| send(*l, msg.clone())).collect()
            }
            // Accepting below a promise could undo a choice made at the promised ballot.
            b => vec![send(from, Msg::Nack { ballot: b, promised: self.durable.promised })],
        }
    }
    // ANCHOR_END: acceptor

    /// Whether lab 4.6's flaw is on and the reader's rule takes an Accept at `ballot`.
    fn by_your_rule(&self, ballot: Ballot) -> bool {
        self.config.flaw == Some(Flaw::YourAcceptRule)
            && crate::labs::your_accept_rule(self.durable.promised, ballot)
    }

    // ---- proposer ----

    // ANCHOR: proposer
    fn start_round(&mut self) -> Vec<Out> {
        match &self.config.proposal {
            // Not a proposer.
            None => vec![],
            // The value is known to be chosen: no need to propose again.
            Some(_) if self.durable.learned.is_some() => vec![],
            // Phase 1a: a ballot above every round used or seen, sent to every acceptor. The
            // retry timer is armed now, so a round lost to the network is tried again.
            Some(p) => {
                self.durable.round += 1;
                let ballot = Ballot::new(self.durable.round, self.id);
                let (value, retry) = (p.value.clone(), p.retry);
                self.phase = Phase::Preparing { ballot, promised_by: vec![], highest: None };
                let mut out = vec![Output::Note(Note::Preparing { ballot, value })];
                out.extend(self.config.acceptors.iter().map(|a| send(*a, Msg::Prepare { ballot })));
                out.push(retry_timer(retry));
                out
            }
        }
    }

    fn on_promise(
        &mut self,
        from: NodeId,
        ballot: Ballot,
        accepted: Option<(Ballot, Value)>,
    ) -> Vec<Out> {
        let quorum = self.config.quorum();
        match &mut self.phase {
            // A promise for an older round, or a repeated one: nothing new.
            Phase::Preparing { ballot: current, promised_by, .. }
                if *current != ballot || promised_by.contains(&from) =>
            {
                vec![]
            }
            // Remember the highest-ballot accepted value any promiser reported: if some value
            // was chosen, it is the one with the highest ballot among any majority's reports.
            Phase::Preparing { promised_by, highest, .. } if promised_by.len() + 1 < quorum => {
                insert_sorted(promised_by, from);
                keep_highest(highest, accepted);
                vec![]
            }
            // Phase 2a: a majority promised. Propose the highest accepted value reported, and
            // only if there is none, our own.
            Phase::Preparing { highest, .. } => {
                keep_highest(highest, accepted);
                let own =
                    self.config.proposal.as_ref().expect("only proposers prepare").value.clone();
                let (value, from) = match highest.take() {
                    Some((b, v)) => (v, Some(b)),
                    None => (own, None),
                };
                self.phase = Phase::Accepting { ballot, value: value.clone() };
                let mut out =
                    vec![Output::Note(Note::Proposing { ballot, value: value.clone(), from })];
                let accept = Msg::Accept { ballot, value };
                out.extend(self.config.acceptors.iter().map(|a| send(*a, accept.clone())));
                out
            }
            // Already in phase 2 or idle: late promises change nothing.
            Phase::Accepting { .. } | Phase::Idle => vec![],
        }
    }

    fn on_nack(&mut self, ballot: Ballot, promised: Ballot) -> Vec<Out> {
        match &self.phase {
            // Preempted in the round we are running: abandon it, remember the round that beat
            // us so the next ballot is higher, and wait for the retry timer (re-armed now, so
            // a random back-off starts from the moment we learned we lost).
            Phase::Preparing { ballot: b, .. } | Phase::Accepting { ballot: b, .. }
                if *b == ballot =>
            {
                self.durable.round = self.durable.round.max(promised.round);
                self.phase = Phase::Idle;
                let retry = self.config.proposal.as_ref().expect("only proposers get Nacks").retry;
                vec![Output::Note(Note::Preempted { ballot, by: promised }), retry_timer(retry)]
            }
            // A Nack for an abandoned round: already handled.
            _ => vec![],
        }
    }
    // ANCHOR_END: proposer

    // ---- learner ----

    // ANCHOR: learner
    fn on_accepted(&mut self, from: NodeId, ballot: Ballot, value: Value) -> Vec<Out> {
        let quorum = self.config.quorum();
        match self.votes.iter().position(|(b, _, _)| *b == ballot) {
            // Only learners count; a learner that knows the outcome has nothing left to count.
            _ if !self.is_learner() || self.durable.learned.is_some() => vec![],
            // A repeated Accepted (a duplicate, or a retry) is not a second vote.
            Some(i) if self.votes[i].2.contains(&from) => vec![],
            // The vote that makes a majority for one ballot: that value is chosen. Stop
            // proposing: there is nothing left to decide.
            Some(i) if self.votes[i].2.len() + 1 >= quorum => self.learn(ballot, value),
            // One more vote for a ballot, short of a majority.
            Some(i) => {
                insert_sorted(&mut self.votes[i].2, from);
                vec![]
            }
            // The first vote for a ballot is a majority only when there is one acceptor.
            None if quorum <= 1 => self.learn(ballot, value),
            // The first vote for a new ballot.
            None => {
                let at = self.votes.partition_point(|(b, _, _)| *b < ballot);
                self.votes.insert(at, (ballot, value, vec![from]));
                vec![]
            }
        }
    }

    fn learn(&mut self, ballot: Ballot, value: Value) -> Vec<Out> {
        self.durable.learned = Some((ballot, value.clone()));
        self.votes.clear();
        self.phase = Phase::Idle;
        vec![Output::Note(Note::Learned { ballot, value }), Output::CancelTimer(Timer::Retry)]
    }
    // ANCHOR_END: learner
}

/// Add `id` to a set kept as a sorted list: the same set is then the same state whatever order
/// its members arrived in (which a model checker, comparing states, counts on).
fn insert_sorted(set: &mut Vec<NodeId>, id: NodeId) {
    let at = set.partition_point(|n| *n < id);
    set.insert(at, id);
}

fn send(to: NodeId, msg: Msg) -> Out {
    Output::Send { to, msg }
}

// ANCHOR: retry_timer
fn retry_timer(retry: Retry) -> Out {
    match retry {
        Retry::Fixed(after_ms) => Output::SetTimer { timer: Timer::Retry, after_ms },
        Retry::Random { min_ms, max_ms } => {
            Output::SetRandomTimer { timer: Timer::Retry, min_ms, max_ms }
        }
    }
}
// ANCHOR_END: retry_timer

fn keep_highest(highest: &mut Option<(Ballot, Value)>, reported: Option<(Ballot, Value)>) {
    if let Some((b, v)) = reported {
        if highest.as_ref().is_none_or(|(hb, _)| b > *hb) {
            *highest = Some((b, v));
        }
    }
}

// ANCHOR: step
impl Process for Paxos {
    type Msg = Msg;
    type Timer = Timer;
    type Note = Note;

    fn id(&self) -> NodeId {
        self.id
    }

    fn step(&mut self, input: Input<Msg, Timer>) -> Vec<Out> {
        match input {
            // A proposer waits its start time before the first round (a restarted one too).
            Input::Start => match &self.config.proposal {
                Some(p) if self.durable.learned.is_none() => {
                    vec![Output::SetTimer { timer: Timer::Propose, after_ms: p.start_ms }]
                }
                _ => vec![],
            },
            Input::Timeout(Timer::Propose | Timer::Retry) => self.start_round(),
            Input::Receive { from, msg } => match msg {
                Msg::Prepare { ballot } => self.on_prepare(from, ballot),
                Msg::Accept { ballot, value } => self.on_accept(from, ballot, value),
                Msg::Promise { ballot, accepted } => self.on_promise(from, ballot, accepted),
                Msg::Nack { ballot, promised } => self.on_nack(ballot, promised),
                Msg::Accepted { ballot, value } => self.on_accepted(from, ballot, value),
            },
        }
    }

    fn status(&self) -> String {
        match (&self.durable.learned, &self.phase, &self.durable.accepted) {
            (Some((_, v)), _, _) => format!("LEARNED {v}"),
            (None, Phase::Preparing { ballot, .. }, _) => format!("PREPARING {ballot}"),
            (None, Phase::Accepting { ballot, .. }, _) => format!("ACCEPTING {ballot}"),
            (None, Phase::Idle, Some((b, _))) if self.is_acceptor() => format!("ACCEPTED {b}"),
            (None, Phase::Idle, None)
                if self.is_acceptor() && self.durable.promised != Ballot::ZERO =>
            {
                format!("PROMISED {}", self.durable.promised)
            }
            (None, Phase::Idle, _) if self.config.proposal.is_some() => String::from("PROPOSER"),
            (None, Phase::Idle, _) if self.is_acceptor() => String::from("ACCEPTOR"),
            _ => String::from("LEARNER"),
        }
    }
}
// ANCHOR_END: step
