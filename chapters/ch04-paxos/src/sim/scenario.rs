//! Scenarios: the faults of a run, written down as "at this time, do that".
//!
//! A scenario is data, not code: a list of timed [`Action`]s the simulator puts in its event queue
//! next to messages and timers. Build one in Rust,
//!
//! ```
//! # use ch04_paxos::sim::Scenario;
//! let s: Scenario<(), ()> = Scenario::new()
//!     .crash(40, 3)
//!     .partition(50, vec![vec![1, 2], vec![3]])
//!     .heal(120)
//!     .restart(150, 3);
//! assert_eq!(s.actions().len(), 4);
//! ```
//!
//! or write it as a script, one action per line (`#` starts a comment):
//!
//! ```text
//! at 0   latency 5..15
//! at 0   drop 0.1
//! at 0   fifo on          # links keep order, like TCP
//! at 40  crash n3
//! at 50  partition n1 n2 | n3
//! at 120 heal
//! at 150 restart n3
//! ```

use std::fmt;

use super::trace::{groups_text, node_name, NetChange, CLIENT_BASE};
use super::{Input, Millis, NodeId};

/// One fault or change a scenario makes at a given time.
#[derive(Clone, Debug, PartialEq)]
pub enum Action<M, T> {
    /// Stop the node; it keeps only what the recover hook copies.
    Crash(NodeId),
    /// Bring a crashed node back; it receives `Input::Start`.
    Restart(NodeId),
    /// Split the network into groups. Nodes named in no group form one more group together.
    Partition(Vec<Vec<NodeId>>),
    /// Join every group again.
    Heal,
    /// Change how the network behaves from now on.
    Network(NetChange),
    /// Feed a node an input from outside, e.g. a client request modelled as a message.
    Inject { node: NodeId, input: Input<M, T> },
}

impl<M: fmt::Debug, T: fmt::Debug> fmt::Display for Action<M, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Crash(n) => write!(f, "crash {}", node_name(*n)),
            Action::Restart(n) => write!(f, "restart {}", node_name(*n)),
            Action::Partition(g) => write!(f, "partition {}", groups_text(g)),
            Action::Heal => write!(f, "heal"),
            Action::Network(c) => write!(f, "{c}"),
            Action::Inject { node, input } => write!(f, "inject {} {input:?}", node_name(*node)),
        }
    }
}

/// Timed actions, in the order they were added.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario<M, T> {
    actions: Vec<(Millis, Action<M, T>)>,
}

impl<M, T> Default for Scenario<M, T> {
    fn default() -> Self {
        Scenario { actions: Vec::new() }
    }
}

impl<M, T> Scenario<M, T> {
    /// An empty scenario: a perfect network, nobody crashes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Do `action` at virtual time `at_ms`.
    pub fn at(mut self, at_ms: Millis, action: Action<M, T>) -> Self {
        self.actions.push((at_ms, action));
        self
    }

    /// The actions, as `(time, action)` pairs.
    pub fn actions(&self) -> &[(Millis, Action<M, T>)] {
        &self.actions
    }

    /// Crash `node` at `at_ms`.
    pub fn crash(self, at_ms: Millis, node: NodeId) -> Self {
        self.at(at_ms, Action::Crash(node))
    }

    /// Restart `node` at `at_ms`.
    pub fn restart(self, at_ms: Millis, node: NodeId) -> Self {
        self.at(at_ms, Action::Restart(node))
    }

    /// Partition the network into `groups` at `at_ms`.
    pub fn partition(self, at_ms: Millis, groups: Vec<Vec<NodeId>>) -> Self {
        self.at(at_ms, Action::Partition(groups))
    }

    /// Heal every partition at `at_ms`.
    pub fn heal(self, at_ms: Millis) -> Self {
        self.at(at_ms, Action::Heal)
    }

    /// From `at_ms` on, lose each message with probability `p`.
    pub fn drop_rate(self, at_ms: Millis, p: f64) -> Self {
        self.at(at_ms, Action::Network(NetChange::Drop(p)))
    }

    /// From `at_ms` on, deliver each message twice with probability `p`.
    pub fn duplicate_rate(self, at_ms: Millis, p: f64) -> Self {
        self.at(at_ms, Action::Network(NetChange::Duplicate(p)))
    }

    /// From `at_ms` on, hold back each message with probability `p` so later ones overtake it.
    pub fn reorder_rate(self, at_ms: Millis, p: f64) -> Self {
        self.at(at_ms, Action::Network(NetChange::Reorder(p)))
    }

    /// From `at_ms` on, messages take `min_ms..=max_ms`.
    pub fn latency(self, at_ms: Millis, min_ms: Millis, max_ms: Millis) -> Self {
        self.at(at_ms, Action::Network(NetChange::Latency { min_ms, max_ms }))
    }

    /// From `at_ms` on, links are FIFO (like TCP connections) or not.
    pub fn fifo(self, at_ms: Millis, on: bool) -> Self {
        self.at(at_ms, Action::Network(NetChange::Fifo(on)))
    }

    /// Feed `node` an input at `at_ms`.
    pub fn inject(self, at_ms: Millis, node: NodeId, input: Input<M, T>) -> Self {
        self.at(at_ms, Action::Inject { node, input })
    }

    /// Parse a scenario script (see the module doc). `Inject` has no script form: it needs the
    /// process's own message type.
    pub fn parse(script: &str) -> Result<Self, String> {
        let mut s = Scenario::new();
        for (i, raw) in script.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let err = |what: &str| format!("scenario line {}: {what}: `{line}`", i + 1);
            let words: Vec<&str> = line.split_whitespace().collect();
            let (at, rest) = match words.as_slice() {
                ["at", t, rest @ ..] if !rest.is_empty() => {
                    (t.parse::<Millis>().map_err(|_| err("bad time"))?, rest)
                }
                _ => return Err(err("expected `at <ms> <action>`")),
            };
            let node = |w: &str| -> Result<NodeId, String> {
                match w.strip_prefix('c') {
                    Some(k) => k.parse::<NodeId>().map(|k| CLIENT_BASE + k),
                    None => w.trim_start_matches('n').parse(),
                }
                .map_err(|_| err("bad node id"))
            };
            let prob = |w: &str| -> Result<f64, String> {
                w.parse::<f64>()
                    .ok()
                    .filter(|p| (0.0..=1.0).contains(p))
                    .ok_or_else(|| err("probability must be in 0..=1"))
            };
            let action = match rest {
                ["crash", n] => Action::Crash(node(n)?),
                ["restart", n] => Action::Restart(node(n)?),
                ["heal"] => Action::Heal,
                ["fifo", "on"] => Action::Network(NetChange::Fifo(true)),
                ["fifo", "off"] => Action::Network(NetChange::Fifo(false)),
                ["drop", p] => Action::Network(NetChange::Drop(prob(p)?)),
                ["duplicate", p] => Action::Network(NetChange::Duplicate(prob(p)?)),
                ["reorder", p] => Action::Network(NetChange::Reorder(prob(p)?)),
                ["latency", range] => {
                    let (lo, hi) = range.split_once("..").unwrap_or((range, range));
                    let lo: Millis = lo.parse().map_err(|_| err("bad latency"))?;
                    let hi: Millis = hi.parse().map_err(|_| err("bad latency"))?;
                    if lo > hi {
                        return Err(err("latency range is empty"));
                    }
                    Action::Network(NetChange::Latency { min_ms: lo, max_ms: hi })
                }
                ["partition", groups @ ..] => {
                    let mut out = vec![Vec::new()];
                    for w in groups {
                        if *w == "|" {
                            out.push(Vec::new());
                        } else {
                            out.last_mut().expect("starts with one group").push(node(w)?);
                        }
                    }
                    Action::Partition(out)
                }
                _ => return Err(err("unknown action")),
            };
            s = s.at(at, action);
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_and_a_builder_describe_the_same_scenario() {
        let script = "# a crash during a partition\n\
                      at 0 latency 5..15\n\
                      at 0 drop 0.1\n\
                      at 0 fifo on\n\
                      at 40 crash n3\n\
                      at 50 partition n1 n2 | n3   # n3 alone\n\
                      at 120 heal\n\
                      at 150 restart 3\n";
        let built: Scenario<(), ()> = Scenario::new()
            .latency(0, 5, 15)
            .drop_rate(0, 0.1)
            .fifo(0, true)
            .crash(40, 3)
            .partition(50, vec![vec![1, 2], vec![3]])
            .heal(120)
            .restart(150, 3);
        assert_eq!(Scenario::parse(script), Ok(built));
    }

    #[test]
    fn a_bad_script_line_is_reported_with_its_number() {
        let e = Scenario::<(), ()>::parse("at 1 heal\nat x crash n1").unwrap_err();
        assert!(e.starts_with("scenario line 2: bad time"), "{e}");
        let e = Scenario::<(), ()>::parse("at 1 drop 2").unwrap_err();
        assert!(e.contains("probability"), "{e}");
        let e = Scenario::<(), ()>::parse("at 1 explode n1").unwrap_err();
        assert!(e.contains("unknown action"), "{e}");
    }
}
