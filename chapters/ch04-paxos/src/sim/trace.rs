//! The trace: one [`Event`] per thing that happened, stamped with the virtual time it happened.
//!
//! A trace is the simulator's only output, and every view of a run is a rendering of it: the
//! plain text the snapshots check, the coloured terminal timeline, JSON lines, and the SVG
//! sequence diagram the book embeds. Because they all read the same list, the picture in the book
//! is always the run the test checked.
//!
//! The `Display` of an [`Entry`] is the trace grammar, one line per event:
//!
//! ```text
//!    10ms  n1 → n2  Prepare 1.1          a message delivered (sender → receiver)
//!    10ms  n1 → n3  Prepare 1.1  ✗ lost  a message dropped, and why
//!    20ms  n2 ⇨ PROMISED 1.1             a node's status changed
//!    20ms  n1 • chose "a"                a note the node wanted traced
//!    35ms  n3 ✗ crashed                  a fault from the scenario
//! ```

use std::fmt;

use serde::Serialize;

use super::{Millis, NodeId};

/// Why a message never arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// The network lost it (the scenario's drop probability).
    Lost,
    /// Sender and receiver were on different sides of a partition.
    Partition,
    /// The receiver was crashed when the message arrived.
    Down,
    /// There is no node with that id (a bug in the sender).
    NoSuchNode,
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DropReason::Lost => "lost",
            DropReason::Partition => "partitioned",
            DropReason::Down => "receiver down",
            DropReason::NoSuchNode => "no such node",
        })
    }
}

/// A change to the network's behaviour made by a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NetChange {
    /// Probability that a message is lost.
    Drop(f64),
    /// Probability that a message is delivered twice.
    Duplicate(f64),
    /// Probability that a message is held back long enough to overtake later ones.
    Reorder(f64),
    /// Every message takes between `min_ms` and `max_ms`.
    Latency { min_ms: Millis, max_ms: Millis },
    /// Links become FIFO (like TCP) or not.
    Fifo(bool),
}

impl fmt::Display for NetChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetChange::Drop(p) => write!(f, "drop {p}"),
            NetChange::Duplicate(p) => write!(f, "duplicate {p}"),
            NetChange::Reorder(p) => write!(f, "reorder {p}"),
            NetChange::Latency { min_ms, max_ms } => write!(f, "latency {min_ms}..{max_ms}ms"),
            NetChange::Fifo(on) => write!(f, "fifo {}", if *on { "on" } else { "off" }),
        }
    }
}

// ANCHOR: event
/// One thing that happened in a run. Generic over the process's message, timer and note types,
/// so every chapter's simulation shares these renderers.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event<M, T, N> {
    /// A node handed a message to the network (`id` names this message in later events).
    Send { from: NodeId, to: NodeId, id: u64, msg: M },
    /// The network handed a message to its receiver, which then stepped.
    Deliver { from: NodeId, to: NodeId, id: u64, sent_at: Millis, msg: M },
    /// The message was lost; `sent_at` tells how long it travelled before it was.
    Drop { from: NodeId, to: NodeId, id: u64, sent_at: Millis, reason: DropReason, msg: M },
    /// The network will deliver message `id` a second time, as message `copy`.
    Duplicate { from: NodeId, to: NodeId, id: u64, copy: u64, msg: M },
    /// A node armed (or re-armed) a timer.
    TimerSet { node: NodeId, timer: T, after_ms: Millis },
    /// A node cancelled a timer.
    TimerCancelled { node: NodeId, timer: T },
    /// A timer went off and its node stepped.
    TimerFired { node: NodeId, timer: T },
    /// The node stopped: its volatile state and timers are gone.
    Crash { node: NodeId },
    /// The node came back from what it kept durable, and got `Input::Start`.
    Restart { node: NodeId },
    /// The network split into these groups; messages between groups are dropped.
    Partition { groups: Vec<Vec<NodeId>> },
    /// Every node can reach every other again.
    Heal,
    /// The scenario changed how the network behaves.
    Network { change: NetChange },
    /// The node's `status()` changed after a step.
    Status { node: NodeId, status: String },
    /// A fact the node reported with `Output::Note`.
    Note { node: NodeId, note: N },
    /// An invariant failed after the previous event.
    Violation { invariant: String, message: String },
}
// ANCHOR_END: event

impl<M, T, N> Event<M, T, N> {
    /// Whether the event is a turning point of the story: a node changed state or concluded
    /// something, a fault struck, or an invariant broke. Messages and timers are how the nodes
    /// got there; a reader who knows the protocol can skip them, and the book's short views of a
    /// run do.
    pub fn is_turning_point(&self) -> bool {
        match self {
            Event::Status { .. }
            | Event::Note { .. }
            | Event::Crash { .. }
            | Event::Restart { .. }
            | Event::Partition { .. }
            | Event::Heal
            | Event::Network { .. }
            | Event::Violation { .. } => true,
            Event::Send { .. }
            | Event::Deliver { .. }
            | Event::Drop { .. }
            | Event::Duplicate { .. }
            | Event::TimerSet { .. }
            | Event::TimerCancelled { .. }
            | Event::TimerFired { .. } => false,
        }
    }
}

impl<M, T: Clone, N> Event<M, T, N> {
    /// The same event with its message and note turned into other types: a diagram's short
    /// labels, say, in place of the full text.
    pub fn map<M2, N2>(&self, msg: impl Fn(&M) -> M2, note: impl Fn(&N) -> N2) -> Event<M2, T, N2> {
        match self {
            Event::Send { from, to, id, msg: m } => {
                Event::Send { from: *from, to: *to, id: *id, msg: msg(m) }
            }
            Event::Deliver { from, to, id, sent_at, msg: m } => {
                Event::Deliver { from: *from, to: *to, id: *id, sent_at: *sent_at, msg: msg(m) }
            }
            Event::Drop { from, to, id, sent_at, reason, msg: m } => Event::Drop {
                from: *from,
                to: *to,
                id: *id,
                sent_at: *sent_at,
                reason: *reason,
                msg: msg(m),
            },
            Event::Duplicate { from, to, id, copy, msg: m } => {
                Event::Duplicate { from: *from, to: *to, id: *id, copy: *copy, msg: msg(m) }
            }
            Event::TimerSet { node, timer, after_ms } => {
                Event::TimerSet { node: *node, timer: timer.clone(), after_ms: *after_ms }
            }
            Event::TimerCancelled { node, timer } => {
                Event::TimerCancelled { node: *node, timer: timer.clone() }
            }
            Event::TimerFired { node, timer } => {
                Event::TimerFired { node: *node, timer: timer.clone() }
            }
            Event::Crash { node } => Event::Crash { node: *node },
            Event::Restart { node } => Event::Restart { node: *node },
            Event::Partition { groups } => Event::Partition { groups: groups.clone() },
            Event::Heal => Event::Heal,
            Event::Network { change } => Event::Network { change: *change },
            Event::Status { node, status } => Event::Status { node: *node, status: status.clone() },
            Event::Note { node, note: n } => Event::Note { node: *node, note: note(n) },
            Event::Violation { invariant, message } => {
                Event::Violation { invariant: invariant.clone(), message: message.clone() }
            }
        }
    }
}

/// An event and the virtual time it happened at.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Entry<M, T, N> {
    /// Virtual milliseconds since the run began.
    pub at: Millis,
    #[serde(flatten)]
    pub event: Event<M, T, N>,
}

/// A trace of a run.
pub type Trace<M, T, N> = Vec<Entry<M, T, N>>;

/// Node ids above this one are clients, not servers: chapter 6 runs ZooKeeper's clients as
/// nodes of the simulation too, and a trace should say `c1`, not `n1001`.
pub const CLIENT_BASE: NodeId = 1000;

/// Shorthand for the node name used everywhere: `n3` for a server, `c1` for client 1001.
pub fn node_name(id: NodeId) -> String {
    match id.checked_sub(CLIENT_BASE) {
        Some(k) if k > 0 => format!("c{k}"),
        _ => format!("n{id}"),
    }
}

pub(crate) fn groups_text(groups: &[Vec<NodeId>]) -> String {
    groups
        .iter()
        .map(|g| g.iter().map(|n| node_name(*n)).collect::<Vec<_>>().join(" "))
        .map(|g| format!("{{{g}}}"))
        .collect::<Vec<_>>()
        .join(" | ")
}

impl<M: fmt::Display, T: fmt::Display, N: fmt::Display> fmt::Display for Event<M, T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = |id: &NodeId| node_name(*id);
        match self {
            Event::Send { from, to, msg, .. } => {
                write!(f, "{} → {}  {msg}  (sent)", n(from), n(to))
            }
            Event::Deliver { from, to, msg, .. } => write!(f, "{} → {}  {msg}", n(from), n(to)),
            Event::Drop { from, to, reason, msg, .. } => {
                write!(f, "{} → {}  {msg}  ✗ {reason}", n(from), n(to))
            }
            Event::Duplicate { from, to, msg, .. } => {
                write!(f, "{} → {}  {msg}  ×2 duplicated", n(from), n(to))
            }
            Event::TimerSet { node, timer, after_ms } => {
                write!(f, "{} timer {timer} set, fires in {after_ms}ms", n(node))
            }
            Event::TimerCancelled { node, timer } => {
                write!(f, "{} timer {timer} cancelled", n(node))
            }
            Event::TimerFired { node, timer } => write!(f, "{} timer {timer} fired", n(node)),
            Event::Crash { node } => write!(f, "{} ✗ crashed", n(node)),
            Event::Restart { node } => write!(f, "{} ↻ restarted", n(node)),
            Event::Partition { groups } => write!(f, "partition {}", groups_text(groups)),
            Event::Heal => write!(f, "heal: every node reaches every other"),
            Event::Network { change } => write!(f, "network {change}"),
            Event::Status { node, status } => write!(f, "{} ⇨ {status}", n(node)),
            Event::Note { node, note } => write!(f, "{} • {note}", n(node)),
            Event::Violation { invariant, message } => {
                write!(f, "VIOLATION of {invariant}: {message}")
            }
        }
    }
}

impl<M: fmt::Display, T: fmt::Display, N: fmt::Display> fmt::Display for Entry<M, T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>6}ms  {}", self.at, self.event)
    }
}
