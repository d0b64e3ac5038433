//! A deterministic network simulator: the machinery every distributed chapter runs on.
//!
//! # Why simulate
//!
//! A distributed protocol is a handful of state machines talking over a network that loses,
//! duplicates, delays and reorders messages, while machines crash and come back. The bugs live in
//! rare interleavings of those faults, and on real sockets an interleaving happens once and is
//! gone. A deterministic simulator turns the network and the clock into *data*: the same seed
//! gives the same run, so a failing run can be replayed, stepped through, printed, drawn, and
//! turned into a test. Checking ten thousand runs with random faults takes seconds, which is how
//! this chapter gains confidence that Paxos is safe.
//!
//! # How it works
//!
//! 1. **Nodes are pure state machines.** A [`Process`] never touches a socket, a clock or a random
//!    number generator. It is fed one [`Input`] at a time (`Start`, a received message, or a
//!    timer going off) and answers with a list of [`Output`]s: messages to send, timers to set or
//!    cancel, notes for the trace. The same node code can later run over TCP with a real clock.
//! 2. **Time is virtual.** The simulator keeps a priority queue of everything pending: message
//!    deliveries, timers, scenario faults. [`Sim::step`] pops the earliest one, jumps the clock
//!    to its time, and performs it. Nothing ever sleeps, so a minute of simulated time costs
//!    microseconds. Two things due at the same millisecond run in the order they were scheduled
//!    (a sequence number breaks the tie), so there is no hidden source of order.
//! 3. **One seeded RNG decides every fault.** Latency, loss, duplication and reordering are drawn
//!    from one [`Rng`] seeded by `--seed`, in the order the run needs them. A node that wants
//!    randomness (a randomized back-off) asks for it as an output
//!    ([`Output::SetRandomTimer`]); the simulator draws it. So the seed fixes the whole run.
//! 4. **Faults come from a scenario.** A [`Scenario`] (a Rust builder, or a small text script)
//!    says *at 40ms crash n3, at 90ms restart n3, at 50ms partition {n1 n2} | {n3}*; or a
//!    person makes them by hand, one [`Choice`] at a time ([`stepper`]). The
//!    [`Network`] says how messages travel: latency range, loss, duplication, reordering, and
//!    whether links are FIFO like TCP connections (Zab relies on that; Paxos does not).
//! 5. **Everything is traced.** Each send, delivery, drop, timer, crash and status change is one
//!    [`Event`]. The renderers print it as plain text (snapshots), a coloured timeline, JSON lines,
//!    or an SVG sequence diagram.
//! 6. **Invariants are checked after every step.** A failed invariant stops the run with a
//!    [`Violation`]: what broke, the trace up to that step, and the command that replays it.
//!
//! # Crash and restart: what survives
//!
//! A real server keeps some state on disk (Paxos acceptors must remember what they promised) and
//! loses the rest. Here a crash is modelled by the **recover hook** given to [`Sim::new`]: a
//! function `Fn(&P) -> P` that builds a fresh node from the crashed one, copying only what that
//! node would have written durably. The simulator calls it *at the moment of the crash*, so the
//! volatile state is gone at once, pending timers are forgotten, and messages arriving while the
//! node is down are dropped. On restart the recovered node receives [`Input::Start`], exactly as a
//! rebooted server runs its start-up code. For a node whose every field is volatile, the hook
//! rebuilds it from its configuration: `|p| MyNode::new(p.id(), p.config().clone())`.
//!
//! # Running a process: the whole API in one example
//!
//! ```
//! use ch04_paxos::sim::{render, Input, Network, NodeId, Output, Process, Scenario, Sim};
//!
//! /// Node 1 pings node 2 when it starts and every 50ms; node 2 answers.
//! #[derive(Clone)]
//! struct Pinger { id: NodeId, pongs: u32 }
//!
//! impl Process for Pinger {
//!     type Msg = String;   // any Clone + Debug + Display + Serialize type
//!     type Timer = String; // ...that is also PartialEq
//!     type Note = String;
//!     fn id(&self) -> NodeId { self.id }
//!     fn step(&mut self, input: Input<String, String>) -> Vec<Output<String, String, String>> {
//!         let ping = vec![
//!             Output::Send { to: 2, msg: "ping".into() },
//!             Output::SetTimer { timer: "again".into(), after_ms: 50 },
//!         ];
//!         match input {
//!             Input::Start | Input::Timeout(_) if self.id == 1 => ping,
//!             Input::Receive { from, msg } if msg == "ping" => {
//!                 vec![Output::Send { to: from, msg: "pong".into() }]
//!             }
//!             Input::Receive { .. } => {
//!                 self.pongs += 1;
//!                 vec![Output::Note(format!("{} pongs", self.pongs))]
//!             }
//!             _ => vec![],
//!         }
//!     }
//!     fn status(&self) -> String { format!("{} pongs", self.pongs) }
//! }
//!
//! let nodes = vec![Pinger { id: 1, pongs: 0 }, Pinger { id: 2, pongs: 0 }];
//! // Nothing is durable: a crashed Pinger restarts from zero.
//! let mut sim = Sim::new(42, Network::default(), nodes, |p: &Pinger| Pinger { id: p.id, pongs: 0 })
//!     .with_scenario(Scenario::new().crash(55, 2).restart(120, 2))
//!     .invariant("n1 counts at most 3 pongs", |sim: &Sim<Pinger>| match sim.node(1).pongs {
//!         n if n <= 3 => Ok(()),
//!         n => Err(format!("n1 counted {n}")),
//!     });
//! sim.run_until(200).unwrap();
//! assert_eq!(sim.node(1).pongs, 2, "the pings at 50 and 100ms found n2 down");
//! assert!(render::plain(sim.trace()).contains("    60ms  n1 → n2  ping  ✗ receiver down"));
//! // Run further and the invariant stops the run, with the trace and a replay command.
//! let violation = sim.run_until(1_000).unwrap_err();
//! assert_eq!(violation.message, "n1 counted 4");
//! ```
//!
//! # Layout
//! - [`rng`]: the one seeded random number generator (SplitMix64).
//! - [`trace`]: [`Event`] and [`Entry`], the trace grammar.
//! - [`scenario`]: faults at given times, as a builder or a text script.
//! - [`engine`]: [`Sim`], the event queue, the network model, crash/restart, invariants.
//! - [`render`]: plain, coloured and JSON renderings of a trace.
//! - [`svg`]: the sequence-diagram rendering.
//! - [`check`]: running many seeds and reporting the first or the shortest violation.
//! - [`checker`]: every interleaving of a small cluster, by a model checker running the nodes' own `step`.
//! - [`stepper`]: `--step`, a run made by hand: the student chooses what happens next.
//! - [`flags`]: the command-line flags (`--seed`, `--json`, `--step`, ...) every simulated chapter shares.
//! - [`command`]: a chapter's command run as a student runs it, for the chapters' CLI tests.
//! - [`pipe`]: a printout piped into `head` ends quietly, without a panic.

pub mod check;
pub mod checker;
pub mod command;
pub mod engine;
pub mod flags;
pub mod pipe;
pub mod render;
pub mod rng;
pub mod scenario;
pub mod stepper;
pub mod svg;
pub mod trace;
pub mod walks;

use std::fmt::{Debug, Display};

use serde::Serialize;

pub use check::{check_seeds, shortest_violation, Violation};
pub use engine::{ChoiceError, Due, Network, Sim, Stats, Upcoming};
pub use rng::Rng;
pub use scenario::{Action, Choice, Scenario};
pub use trace::{node_name, DropReason, Entry, Event, NetChange, Trace, CLIENT_BASE};

/// A node's identity; in ZooKeeper's words, its server id (`sid`, the number in `myid`). A bare
/// number, so that the simulator depends on no chapter: a chapter with its own id type converts at
/// its adapter (chapter 5's server is node `sid.0`).
pub type NodeId = u64;

/// Virtual time, in milliseconds since the run began.
pub type Millis = u64;

// ANCHOR: contract
/// What a node can be fed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Input<M, T> {
    /// The node (re)starts: its chance to set its first timers or send its first messages.
    Start,
    /// A message arrived from `from`.
    Receive { from: NodeId, msg: M },
    /// A timer the node set went off.
    Timeout(T),
}

/// What a node asks the world to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Output<M, T, N> {
    /// Send `msg` to `to`; a message to itself is delivered like any other.
    Send { to: NodeId, msg: M },
    /// Fire `Input::Timeout(timer)` after `after_ms`; setting an armed timer again re-arms it.
    SetTimer { timer: T, after_ms: Millis },
    /// Like `SetTimer`, but the simulator draws the delay from `min_ms..=max_ms` with its seeded
    /// RNG: how a node gets randomness (a randomized back-off) without reading any itself.
    SetRandomTimer { timer: T, min_ms: Millis, max_ms: Millis },
    /// Disarm a timer; cancelling a timer that is not armed does nothing.
    CancelTimer(T),
    /// A fact worth tracing: a role change, a decision.
    Note(N),
}

/// A node: a deterministic state machine stepped by the simulator (or by a real driver).
pub trait Process {
    type Msg: Clone + Debug + Display + Serialize;
    type Timer: Clone + Debug + Display + PartialEq + Serialize;
    type Note: Clone + Debug + Display + Serialize;

    /// This node's id.
    fn id(&self) -> NodeId;

    /// Take one input, change state, say what to do. Must be deterministic: the same state and
    /// input always give the same outputs.
    fn step(
        &mut self,
        input: Input<Self::Msg, Self::Timer>,
    ) -> Vec<Output<Self::Msg, Self::Timer, Self::Note>>;

    /// One short word for the node's role/state, drawn on its lifeline (e.g. "LOOKING").
    fn status(&self) -> String;

    /// The simulator's clock, told before every input. Most nodes need no clock; a node
    /// that stamps things with the time (a ZooKeeper server puts it in every txn) keeps it
    /// here, so the run stays as repeatable as its seed.
    fn set_clock(&mut self, _now: Millis) {}

    /// Which of a node's connections to another `msg` travels on. On FIFO links the model
    /// checker and a chosen step keep each connection's order on its own, and a message waits
    /// for none on another connection, as with two TCP connections (ZooKeeper's servers talk
    /// over two, the election port and the quorum port); a seeded run's timed network keeps
    /// one order per pair of nodes, so its seeds replay as they always did. One connection
    /// unless a node says otherwise. The number names the connection among those of one pair
    /// of nodes, both directions, over the whole run: a connection opened after another closed
    /// (a reconnect) has a number of its own, as a new socket waits behind none of the old
    /// one's bytes.
    fn connection(_msg: &Self::Msg) -> usize {
        0
    }

    /// Whether `msg`, in flight to a node that crashes, is lost with it: the connection it
    /// travels on dies with the node's sockets (the restarted node opens new ones). No, unless
    /// a node says so: a message may then arrive after the restart, as one a sender kept and
    /// sent again would (ZooKeeper's election port resends its last vote on a new connection).
    fn lost_at_crash(_msg: &Self::Msg) -> bool {
        false
    }

    /// Whether `msg`, on its way to this node, is the end of a connection this node has no
    /// end of any more (it closed it, or its previous life had it): a notice whose delivery
    /// would change nothing, as TCP's reset to a socket that is gone reaches nobody. The model
    /// checker drops such a message as soon as nothing is ahead of it on its link (what is
    /// ahead could still give the node an end of that connection), so that a state does not
    /// count twice, with and without it. No message is, unless a node says so.
    fn ends_nothing(&self, _msg: &Self::Msg) -> bool {
        false
    }
}
// ANCHOR_END: contract

/// The output type of process `P`.
pub type OutputOf<P> = Output<<P as Process>::Msg, <P as Process>::Timer, <P as Process>::Note>;
/// The input type of process `P`.
pub type InputOf<P> = Input<<P as Process>::Msg, <P as Process>::Timer>;
/// The event type of a simulation of `P`.
pub type EventOf<P> = Event<<P as Process>::Msg, <P as Process>::Timer, <P as Process>::Note>;
/// A pending item of a simulation of `P`, as [`Sim::upcoming`] lists it.
pub type UpcomingOf<P> = Upcoming<<P as Process>::Msg, <P as Process>::Timer>;
/// The trace entry type of a simulation of `P`.
pub type EntryOf<P> = Entry<<P as Process>::Msg, <P as Process>::Timer, <P as Process>::Note>;

#[cfg(test)]
mod tests;
