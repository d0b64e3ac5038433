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
//!
//! # Choices: a session of `--step`, written down
//!
//! A script may end with a `steps` section: the choices a student made at `--step`'s prompt,
//! one per line, in the order they were made. Where an `at` line says *when* a fault happens
//! (the queue runs it at that time, between whatever else is due), a step says *what happens
//! next*: the run is replayed from its seed, making exactly these choices, so the file and the
//! seed give the same run every time. `--step`'s `save FILE` writes such a file, and
//! `--scenario-file FILE` replays it (then lets the run carry on as the network would).
//!
//! ```text
//! at 0 fifo on            # timed faults come first, as before
//! steps
//! next 9                  # do the 9 earliest things pending, as the network would
//! deliver 3               # deliver message 3 of the pending list now
//! fire 5                  # fire timer 5 of the list now
//! do 4                    # do item 4, whatever it is (a node's start, a scheduled fault)
//! drop 2                  # lose message 2
//! duplicate 1             # the network copies message 1: the copy is in flight as well
//! crash n3                # crash n3 now (also: restart n3, partition n1 n2 | n3, heal)
//! ```
//!
//! A number is a place in the pending list as the stepper shows it: everything queued, earliest
//! first, so `1` is always what the network would do next. The list is recomputed after every
//! choice, and the replay is deterministic, so the numbers mean the same thing on every replay
//! of the same scenario and seed (and nothing at all with another one: keep the file with the
//! command the stepper writes on its first line). A script without `steps` is a script of timed
//! faults, exactly as before.

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

impl<M, T> Action<M, T> {
    /// The action as a script writes it (`partition n1 n2 | n3`, `latency 5..15`), or `None`
    /// for an injected input, which has no script form.
    pub fn script(&self) -> Option<String> {
        let groups = |g: &[Vec<NodeId>]| {
            g.iter()
                .map(|g| g.iter().map(|n| node_name(*n)).collect::<Vec<_>>().join(" "))
                .collect::<Vec<_>>()
                .join(" | ")
        };
        Some(match self {
            Action::Crash(n) => format!("crash {}", node_name(*n)),
            Action::Restart(n) => format!("restart {}", node_name(*n)),
            Action::Partition(g) => format!("partition {}", groups(g)),
            Action::Heal => "heal".to_string(),
            Action::Network(NetChange::Latency { min_ms, max_ms }) => {
                format!("latency {min_ms}..{max_ms}")
            }
            Action::Network(change) => change.to_string(),
            Action::Inject { .. } => return None,
        })
    }
}

// ANCHOR: choice
/// One choice made at `--step`'s prompt: what happens next. A number `k` names the `k`th thing
/// in the pending list, earliest first (see the module doc).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Choice {
    /// Do the `n` earliest things pending, one after the other, as the network would.
    Next(u32),
    /// Deliver message `k` now, before whatever is due earlier.
    Deliver(usize),
    /// Fire timer `k` now.
    Fire(usize),
    /// Do item `k`, whatever it is: a message, a timer, a node's start, a scheduled fault.
    Do(usize),
    /// Lose message `k`: it never arrives.
    Drop(usize),
    /// The network copies message `k`: the copy travels too, with its own latency.
    Duplicate(usize),
    /// Crash a node now.
    Crash(NodeId),
    /// Restart a crashed node now.
    Restart(NodeId),
    /// Split the network now; nodes named in no group form one more group.
    Partition(Vec<Vec<NodeId>>),
    /// Join every group again now.
    Heal,
}
// ANCHOR_END: choice

impl Choice {
    /// Parse one choice as it is typed at the prompt or written under `steps`.
    pub fn parse(line: &str) -> Result<Choice, String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let item = |w: &str| -> Result<usize, String> {
            w.trim_start_matches('#')
                .parse::<usize>()
                .ok()
                .filter(|k| *k > 0)
                .ok_or_else(|| format!("`{w}` is not an item number (1, 2, ...)"))
        };
        Ok(match words.as_slice() {
            ["next"] => Choice::Next(1),
            ["next", n] => Choice::Next(
                n.parse().ok().filter(|n| *n > 0).ok_or_else(|| format!("`{n}` is not a count"))?,
            ),
            [k] if k.trim_start_matches('#').parse::<usize>().is_ok() => Choice::Do(item(k)?),
            ["do", k] => Choice::Do(item(k)?),
            ["deliver", k] => Choice::Deliver(item(k)?),
            ["fire", k] => Choice::Fire(item(k)?),
            ["drop", k] => Choice::Drop(item(k)?),
            ["duplicate" | "dup", k] => Choice::Duplicate(item(k)?),
            ["crash", n] => Choice::Crash(parse_node(n)?),
            ["restart", n] => Choice::Restart(parse_node(n)?),
            ["partition", groups @ ..] if !groups.is_empty() => {
                Choice::Partition(parse_groups(groups)?)
            }
            ["heal"] => Choice::Heal,
            [] => return Err("an empty choice".to_string()),
            _ => return Err(UNKNOWN_CHOICE.to_string()),
        })
    }

    /// A choice that is a fault made now, as the simulator's action.
    pub fn fault<M, T>(&self) -> Option<Action<M, T>> {
        Some(match self {
            Choice::Crash(n) => Action::Crash(*n),
            Choice::Restart(n) => Action::Restart(*n),
            Choice::Partition(g) => Action::Partition(g.clone()),
            Choice::Heal => Action::Heal,
            _ => return None,
        })
    }
}

impl fmt::Display for Choice {
    /// The script form, which [`Choice::parse`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Choice::Next(n) => write!(f, "next {n}"),
            Choice::Deliver(k) => write!(f, "deliver {k}"),
            Choice::Fire(k) => write!(f, "fire {k}"),
            Choice::Do(k) => write!(f, "do {k}"),
            Choice::Drop(k) => write!(f, "drop {k}"),
            Choice::Duplicate(k) => write!(f, "duplicate {k}"),
            other => {
                let action: Action<(), ()> = other.fault().expect("the rest are faults");
                f.write_str(&action.script().expect("a fault has a script form"))
            }
        }
    }
}

/// What [`Choice::parse`] says of a line that is no choice at all.
pub const UNKNOWN_CHOICE: &str = "unknown choice";

/// `n3` (or `3`) is node 3; `c1` is client 1 (node 1001).
fn parse_node(w: &str) -> Result<NodeId, String> {
    match w.strip_prefix('c') {
        Some(k) => k.parse::<NodeId>().map(|k| CLIENT_BASE + k),
        None => w.trim_start_matches('n').parse(),
    }
    .map_err(|_| format!("`{w}` is not a node (n1, n2, ... or c1 for a client)"))
}

/// `n1 n2 | n3`: groups of nodes split by `|`.
fn parse_groups(words: &[&str]) -> Result<Vec<Vec<NodeId>>, String> {
    let mut out = vec![Vec::new()];
    for w in words {
        if *w == "|" {
            out.push(Vec::new());
        } else {
            out.last_mut().expect("starts with one group").push(parse_node(w)?);
        }
    }
    Ok(out)
}

/// Timed actions, in the order they were added, then the choices of a stepped session.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario<M, T> {
    actions: Vec<(Millis, Action<M, T>)>,
    steps: Vec<Choice>,
}

impl<M, T> Default for Scenario<M, T> {
    fn default() -> Self {
        Scenario { actions: Vec::new(), steps: Vec::new() }
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

    /// Then make `choice` (after every choice added before it).
    pub fn step(mut self, choice: Choice) -> Self {
        self.steps.push(choice);
        self
    }

    /// The choices, in the order they are made.
    pub fn steps(&self) -> &[Choice] {
        &self.steps
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
        let mut in_steps = false;
        for (i, raw) in script.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let err = |what: &str| format!("scenario line {}: {what}: `{line}`", i + 1);
            let words: Vec<&str> = line.split_whitespace().collect();
            if words == ["steps"] {
                in_steps = true;
                continue;
            }
            if in_steps {
                let choice = match words[0] {
                    "at" => Err("timed faults go above `steps`".to_string()),
                    _ => Choice::parse(line),
                };
                s = s.step(choice.map_err(|e| err(&e))?);
                continue;
            }
            let (at, rest) = match words.as_slice() {
                ["at", t, rest @ ..] if !rest.is_empty() => {
                    (t.parse::<Millis>().map_err(|_| err("bad time"))?, rest)
                }
                _ => return Err(err("expected `at <ms> <action>` (or a `steps` line)")),
            };
            let node = |w: &str| parse_node(w).map_err(|_| err("bad node id"));
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
                    Action::Partition(parse_groups(groups).map_err(|_| err("bad node id"))?)
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
        // The script the book shows beside `--scenario-file`.
        let script = include_str!("../../tests/fixtures/my-faults.txt");
        let built: Scenario<(), ()> = Scenario::new()
            .latency(0, 5, 15)
            .drop_rate(0, 0.1)
            .fifo(0, true)
            .crash(25, 3)
            .partition(30, vec![vec![1, 2], vec![4]])
            .heal(90)
            .restart(120, 3);
        assert_eq!(Scenario::parse(script), Ok(built));
    }

    #[test]
    fn a_line_may_be_a_comment_and_a_node_its_bare_number() {
        let script = "# a crash and a restart\nat 40 crash n3\nat 150 restart 3   # n3 again\n";
        let built: Scenario<(), ()> = Scenario::new().crash(40, 3).restart(150, 3);
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

    #[test]
    fn every_choice_parses_from_what_a_student_types() {
        let cases = [
            ("next", Choice::Next(1)),
            ("next 12", Choice::Next(12)),
            ("3", Choice::Do(3)),
            ("#3", Choice::Do(3)),
            ("do 3", Choice::Do(3)),
            ("deliver 4", Choice::Deliver(4)),
            ("fire 2", Choice::Fire(2)),
            ("drop 1", Choice::Drop(1)),
            ("dup 5", Choice::Duplicate(5)),
            ("duplicate 5", Choice::Duplicate(5)),
            ("crash n3", Choice::Crash(3)),
            ("restart 3", Choice::Restart(3)),
            ("crash c1", Choice::Crash(CLIENT_BASE + 1)),
            ("partition n1 n2 | n3", Choice::Partition(vec![vec![1, 2], vec![3]])),
            ("heal", Choice::Heal),
        ];
        for (typed, choice) in cases {
            assert_eq!(Choice::parse(typed), Ok(choice), "{typed}");
        }
    }

    #[test]
    fn a_choice_that_makes_no_sense_says_why() {
        assert_eq!(Choice::parse("deliver 0"), Err("`0` is not an item number (1, 2, ...)".into()));
        assert_eq!(Choice::parse("drop x"), Err("`x` is not an item number (1, 2, ...)".into()));
        assert_eq!(Choice::parse("next 0"), Err("`0` is not a count".into()));
        assert_eq!(
            Choice::parse("crash nobody"),
            Err("`nobody` is not a node (n1, n2, ... or c1 for a client)".into())
        );
        assert_eq!(Choice::parse("explode n1"), Err(UNKNOWN_CHOICE.into()));
        assert_eq!(Choice::parse("  "), Err("an empty choice".into()));
    }

    #[test]
    fn a_choice_is_written_as_it_is_parsed() {
        for typed in ["next 3", "deliver 4", "fire 2", "do 1", "drop 7", "duplicate 2", "crash n3"]
        {
            assert_eq!(Choice::parse(typed).unwrap().to_string(), typed);
        }
        let partition = Choice::Partition(vec![vec![1, 2], vec![3, CLIENT_BASE + 1]]);
        assert_eq!(partition.to_string(), "partition n1 n2 | n3 c1");
        assert_eq!(Choice::parse(&partition.to_string()), Ok(partition));
    }

    #[test]
    fn an_action_is_written_as_a_script_line_that_parses_back() {
        let built: Scenario<(), ()> = Scenario::new()
            .latency(0, 5, 15)
            .drop_rate(0, 0.25)
            .duplicate_rate(0, 0.5)
            .reorder_rate(0, 0.1)
            .fifo(0, true)
            .crash(40, 3)
            .partition(50, vec![vec![1, 2], vec![3]])
            .heal(120)
            .restart(150, 3);
        let script: String = built
            .actions()
            .iter()
            .map(|(at, a)| format!("at {at} {}\n", a.script().unwrap()))
            .collect();
        assert_eq!(Scenario::parse(&script), Ok(built));
        let inject: Action<(), ()> = Action::Inject { node: 1, input: Input::Start };
        assert_eq!(inject.script(), None, "an injected input has no script form");
    }

    #[test]
    fn a_steps_section_lists_choices_after_the_timed_faults() {
        let script = "at 0 fifo on\n\
                      steps\n\
                      next 9        # up to 0ms\n\
                      deliver 3     # 10ms  n1 → n4  Prepare 1.1\n\
                      drop 1\n\
                      crash n2\n";
        let parsed = Scenario::<(), ()>::parse(script).unwrap();
        assert_eq!(
            parsed,
            Scenario::new()
                .fifo(0, true)
                .step(Choice::Next(9))
                .step(Choice::Deliver(3))
                .step(Choice::Drop(1))
                .step(Choice::Crash(2))
        );
        let e = Scenario::<(), ()>::parse("steps\nnext 2\nat 40 crash n3\n").unwrap_err();
        assert_eq!(e, "scenario line 3: timed faults go above `steps`: `at 40 crash n3`");
        let e = Scenario::<(), ()>::parse("steps\nwiggle 2\n").unwrap_err();
        assert_eq!(e, "scenario line 2: unknown choice: `wiggle 2`");
    }

    #[test]
    fn an_old_script_has_no_steps() {
        let old = Scenario::<(), ()>::parse("at 40 crash n3\nat 90 restart n3\n").unwrap();
        assert!(old.steps().is_empty());
        assert_eq!(old.actions().len(), 2);
    }
}
