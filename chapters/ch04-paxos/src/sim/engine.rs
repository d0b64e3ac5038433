//! The simulator proper: an event queue, a virtual clock, a network model, crashes, invariants.
//!
//! [`Sim::step`] is the whole algorithm: pop the earliest pending thing (a delivery, a timer, a
//! scenario action), move the clock to its time, perform it, feed the affected node, turn its
//! outputs into new pending things, then check every invariant. Everything else is bookkeeping.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::check::Violation;
use super::render;
use super::rng::Rng;
use super::scenario::{Action, Scenario};
use super::trace::{DropReason, Entry, Event, NetChange};
use super::{EntryOf, EventOf, InputOf, Millis, NodeId, OutputOf, Process};

mod choose;
pub use choose::{ChoiceError, Due, Upcoming};

/// How the network treats messages between different nodes. A node's messages to itself always
/// arrive, after `latency_min_ms`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Network {
    /// Every message takes at least this long.
    pub latency_min_ms: Millis,
    /// ...and at most this long (drawn uniformly).
    pub latency_max_ms: Millis,
    /// Probability a message is lost.
    pub drop: f64,
    /// Probability a message is delivered twice (each copy with its own latency).
    pub duplicate: f64,
    /// Probability a message is held back by up to `reorder_delay_ms` more, so later messages
    /// overtake it.
    pub reorder: f64,
    /// The longest extra hold-back of a reordered message.
    pub reorder_delay_ms: Millis,
    /// Links are FIFO, like TCP connections: a message never overtakes an earlier one from the
    /// same sender to the same receiver (it may still be lost or duplicated). A chosen step
    /// (`--step`, a checker's path) may deliver a message ahead of an earlier one on another
    /// connection ([`super::Process::connection`]); a seeded run's times keep one order per
    /// pair of nodes.
    pub fifo: bool,
}

impl Default for Network {
    /// A perfect network with a fixed 10ms latency: every run with it is the same whatever the
    /// seed, which makes it the one to explain a protocol with.
    fn default() -> Self {
        Network {
            latency_min_ms: 10,
            latency_max_ms: 10,
            drop: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            reorder_delay_ms: 50,
            fifo: false,
        }
    }
}

/// Counters for a run (and for the benchmark).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Events popped from the queue.
    pub steps: u64,
    /// Messages handed to a live receiver.
    pub delivered: u64,
    /// Messages lost, partitioned away, or sent to a crashed node.
    pub dropped: u64,
    /// Extra copies the network made.
    pub duplicated: u64,
    /// Timers that went off.
    pub timers_fired: u64,
}

/// Something waiting in the queue.
enum Pending<P: Process> {
    Start(usize),
    Deliver {
        from: NodeId,
        to: NodeId,
        id: u64,
        sent_at: Millis,
        msg: P::Msg,
        /// For a message to oneself, the sender's incarnation: it dies with the sender.
        incarnation: Option<u64>,
    },
    Timer {
        node: usize,
        timer: P::Timer,
        generation: u64,
    },
    Action(Action<P::Msg, P::Timer>),
}

struct Scheduled<P: Process> {
    at: Millis,
    seq: u64,
    what: Pending<P>,
}

// The queue orders by (time, sequence number) only, earliest first: equal times run in the order
// they were scheduled, so the order never depends on anything but the seed.
impl<P: Process> PartialEq for Scheduled<P> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl<P: Process> Eq for Scheduled<P> {}
impl<P: Process> PartialOrd for Scheduled<P> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<P: Process> Ord for Scheduled<P> {
    fn cmp(&self, other: &Self) -> Ordering {
        // BinaryHeap pops the greatest, so reverse.
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

struct Slot<P: Process> {
    process: P,
    up: bool,
    /// Armed timers and the generation that may fire them; a re-armed or cancelled timer's old
    /// queue entry finds its generation gone and is skipped.
    timers: Vec<(P::Timer, u64)>,
    /// Partition group; nodes talk only within a group.
    group: u32,
    /// Last status traced, to trace only changes.
    status: String,
    /// How many times the node has crashed.
    incarnation: u64,
}

type Recover<P> = Box<dyn Fn(&P) -> P>;
type Invariant<P> = (String, Box<dyn FnMut(&Sim<P>) -> Result<(), String>>);

/// A deterministic simulation of a set of [`Process`]es.
pub struct Sim<P: Process> {
    seed: u64,
    now: Millis,
    rng: Rng,
    net: Network,
    slots: Vec<Slot<P>>,
    queue: BinaryHeap<Scheduled<P>>,
    /// With FIFO links: the latest arrival time scheduled on each (sender, receiver) pair.
    link_arrival: std::collections::HashMap<(NodeId, NodeId), Millis>,
    seq: u64,
    next_msg: u64,
    recover: Recover<P>,
    invariants: Vec<Invariant<P>>,
    tracing: bool,
    trace: Vec<EntryOf<P>>,
    stats: Stats,
    replay: String,
    violation: Option<Box<Violation>>,
    /// Whether the nodes are kept from the clock (they are always told 0).
    clock_stopped: bool,
}

impl<P: Process> Sim<P> {
    /// A simulation of `nodes` (ids must be distinct) with `seed`, over `net`. `recover` builds
    /// a crashed node's replacement from what the node keeps durable (see the module doc of
    /// [`crate::sim`]). Every node is scheduled to receive `Input::Start` at time 0, in the order
    /// given. Tracing is on; turn it off with [`Sim::tracing`] for speed.
    pub fn new(
        seed: u64,
        net: Network,
        nodes: Vec<P>,
        recover: impl Fn(&P) -> P + 'static,
    ) -> Self {
        let mut ids: Vec<NodeId> = nodes.iter().map(|p| p.id()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), nodes.len(), "node ids must be distinct");
        let mut sim = Sim {
            seed,
            now: 0,
            rng: Rng::new(seed),
            net,
            slots: nodes
                .into_iter()
                .map(|process| Slot {
                    process,
                    up: true,
                    timers: Vec::new(),
                    group: 0,
                    status: String::new(),
                    incarnation: 0,
                })
                .collect(),
            queue: BinaryHeap::new(),
            link_arrival: Default::default(),
            seq: 0,
            next_msg: 0,
            recover: Box::new(recover),
            invariants: Vec::new(),
            tracing: true,
            trace: Vec::new(),
            stats: Stats::default(),
            replay: String::from("(no replay command set)"),
            clock_stopped: false,
            violation: None,
        };
        for i in 0..sim.slots.len() {
            sim.push(0, Pending::Start(i));
        }
        sim
    }

    /// Turn tracing on or off (off: no events are recorded, runs are several times faster).
    pub fn tracing(mut self, on: bool) -> Self {
        self.tracing = on;
        self
    }

    /// The same run, whose nodes are never told the time (they see 0 throughout), as under the
    /// model checker, which has no clock: a path the checker found replays here only if the
    /// nodes that stamp things with the time stamp the same.
    pub fn clock_stopped(mut self) -> Self {
        self.clock_stopped = true;
        self
    }

    /// The command a reader runs to replay this run, shown in a violation report, e.g.
    /// `cargo run -p ch04-paxos -- --trace --scenario lossy --seed 7`.
    pub fn replay_command(mut self, command: impl Into<String>) -> Self {
        self.replay = command.into();
        self
    }

    /// Check `check` after every step; an `Err(message)` stops the run with a [`Violation`].
    pub fn invariant(
        mut self,
        name: impl Into<String>,
        check: impl FnMut(&Sim<P>) -> Result<(), String> + 'static,
    ) -> Self {
        self.invariants.push((name.into(), Box::new(check)));
        self
    }

    /// Queue every action of `scenario` at its time.
    /// Panics if the scenario names a node that does not exist (a bug in the caller); use
    /// [`Sim::try_schedule`] for a scenario that came from a user.
    pub fn schedule(&mut self, scenario: Scenario<P::Msg, P::Timer>) {
        self.try_schedule(scenario).unwrap_or_else(|e| panic!("{e}"));
    }

    /// Queue every action of `scenario`, or explain which node it names that does not exist
    /// (nothing is queued then). Its steps, if any, are for [`Sim::play`].
    pub fn try_schedule(&mut self, scenario: Scenario<P::Msg, P::Timer>) -> Result<(), String> {
        for (at, action) in scenario.actions() {
            self.names_existing_nodes(action).map_err(|e| format!("at {at}ms `{action}`: {e}"))?;
        }
        for (at, action) in scenario.actions().iter().cloned() {
            self.push(at, Pending::Action(action));
        }
        Ok(())
    }

    /// `Err` naming the first node `action` names that does not exist.
    fn names_existing_nodes(&self, action: &Action<P::Msg, P::Timer>) -> Result<(), String> {
        let named: Vec<NodeId> = match action {
            Action::Crash(n) | Action::Restart(n) | Action::Inject { node: n, .. } => vec![*n],
            Action::Partition(groups) => groups.iter().flatten().copied().collect(),
            Action::Heal | Action::Network(_) => vec![],
        };
        match named.iter().find(|n| self.index(**n).is_none()) {
            Some(n) => Err(format!(
                "there is no node n{n} (nodes: {})",
                self.ids().iter().map(|i| format!("n{i}")).collect::<Vec<_>>().join(" ")
            )),
            None => Ok(()),
        }
    }

    /// The builder form of [`Sim::schedule`].
    pub fn with_scenario(mut self, scenario: Scenario<P::Msg, P::Timer>) -> Self {
        self.schedule(scenario);
        self
    }

    // ---- what a caller (or an invariant) can look at ----

    /// The seed this run was made from.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// Virtual time now.
    pub fn now(&self) -> Millis {
        self.now
    }
    /// The network's current behaviour.
    pub fn network(&self) -> Network {
        self.net
    }
    /// The events so far (empty when tracing is off).
    pub fn trace(&self) -> &[EntryOf<P>] {
        &self.trace
    }
    /// Counters so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }
    /// Every node, crashed or not, in the order given to [`Sim::new`].
    pub fn nodes(&self) -> impl Iterator<Item = &P> + '_ {
        self.slots.iter().map(|s| &s.process)
    }
    /// The node with id `id` (a crashed node shows what it will restart with).
    pub fn node(&self, id: NodeId) -> &P {
        &self.slots[self.index(id).expect("no such node")].process
    }
    /// Whether node `id` is running.
    pub fn is_up(&self, id: NodeId) -> bool {
        self.slots[self.index(id).expect("no such node")].up
    }
    /// The ids of all nodes, in the order given to [`Sim::new`].
    pub fn ids(&self) -> Vec<NodeId> {
        self.slots.iter().map(|s| s.process.id()).collect()
    }
    /// When the next pending event is due, if any.
    pub fn next_at(&self) -> Option<Millis> {
        self.queue.peek().map(|s| s.at)
    }
    /// The violation that stopped the run, if one did.
    pub fn violation(&self) -> Option<&Violation> {
        self.violation.as_deref()
    }
    /// The command that replays this run (see [`Sim::replay_command`]).
    pub fn command(&self) -> &str {
        &self.replay
    }

    // ---- running ----

    // ANCHOR: step
    /// Perform the next pending event, then check the invariants. `Ok(false)` when nothing is
    /// pending; `Err` when an invariant failed (the run stays stopped after that).
    pub fn step(&mut self) -> Result<bool, Box<Violation>> {
        if let Some(v) = &self.violation {
            return Err(v.clone());
        }
        let Some(next) = self.queue.pop() else {
            return Ok(false);
        };
        self.happen(next)?;
        Ok(true)
    }

    /// Move the clock to `next`'s time, perform it, check the invariants. The clock never runs
    /// backwards: when a stepper chose something later first, what was due before it is late.
    fn happen(&mut self, next: Scheduled<P>) -> Result<(), Box<Violation>> {
        self.now = self.now.max(next.at);
        self.stats.steps += 1;
        match next.what {
            Pending::Start(i) => {
                if self.slots[i].up {
                    self.feed(i, super::Input::Start);
                }
            }
            Pending::Deliver { from, to, id, sent_at, msg, incarnation } => {
                self.deliver(from, to, id, sent_at, msg, incarnation)
            }
            Pending::Timer { node, timer, generation } => self.fire(node, timer, generation),
            Pending::Action(action) => self.act(action),
        }
        self.check()
    }
    // ANCHOR_END: step

    /// Step until every pending event due at or before `t` is done, then move the clock to `t`.
    pub fn run_until(&mut self, t: Millis) -> Result<(), Box<Violation>> {
        while self.next_at().is_some_and(|at| at <= t) {
            self.step()?;
        }
        self.now = self.now.max(t);
        Ok(())
    }

    /// Step until `done(self)` holds (`Ok(true)`), or nothing is pending or the next event is past
    /// `deadline` (`Ok(false)`).
    pub fn run_until_condition(
        &mut self,
        deadline: Millis,
        mut done: impl FnMut(&Self) -> bool,
    ) -> Result<bool, Box<Violation>> {
        loop {
            if done(self) {
                return Ok(true);
            }
            match self.next_at() {
                Some(at) if at <= deadline => {
                    self.step()?;
                }
                _ => return Ok(false),
            }
        }
    }

    // ---- internals ----

    fn index(&self, id: NodeId) -> Option<usize> {
        // A handful of nodes: a linear scan beats any map.
        self.slots.iter().position(|s| s.process.id() == id)
    }

    fn push(&mut self, at: Millis, what: Pending<P>) {
        self.seq += 1;
        self.queue.push(Scheduled { at, seq: self.seq, what });
    }

    fn record(&mut self, event: impl FnOnce() -> EventOf<P>) {
        if self.tracing {
            self.trace.push(Entry { at: self.now, event: event() });
        }
    }

    fn feed(&mut self, i: usize, input: InputOf<P>) {
        if !self.clock_stopped {
            self.slots[i].process.set_clock(self.now);
        }
        let outputs = self.slots[i].process.step(input);
        self.apply(i, outputs);
        if self.tracing {
            let status = self.slots[i].process.status();
            if status != self.slots[i].status {
                self.slots[i].status.clone_from(&status);
                let node = self.slots[i].process.id();
                self.record(|| Event::Status { node, status });
            }
        }
    }

    fn apply(&mut self, i: usize, outputs: Vec<OutputOf<P>>) {
        let me = self.slots[i].process.id();
        for output in outputs {
            match output {
                super::Output::Send { to, msg } => self.send(me, to, msg),
                super::Output::SetTimer { timer, after_ms } => self.arm(i, timer, after_ms),
                super::Output::SetRandomTimer { timer, min_ms, max_ms } => {
                    let after_ms = self.rng.between(min_ms, max_ms);
                    self.arm(i, timer, after_ms);
                }
                super::Output::CancelTimer(timer) => {
                    let timers = &mut self.slots[i].timers;
                    if let Some(k) = timers.iter().position(|(t, _)| *t == timer) {
                        timers.swap_remove(k);
                        self.record(|| Event::TimerCancelled { node: me, timer });
                    }
                }
                super::Output::Note(note) => self.record(|| Event::Note { node: me, note }),
            }
        }
    }

    fn arm(&mut self, i: usize, timer: P::Timer, after_ms: Millis) {
        self.seq += 1;
        let generation = self.seq;
        let timers = &mut self.slots[i].timers;
        match timers.iter_mut().find(|(t, _)| *t == timer) {
            Some(armed) => armed.1 = generation,
            None => timers.push((timer.clone(), generation)),
        }
        let node = self.slots[i].process.id();
        if self.tracing {
            let timer = timer.clone();
            self.record(|| Event::TimerSet { node, timer, after_ms });
        }
        self.push(self.now + after_ms, Pending::Timer { node: i, timer, generation });
    }

    fn fire(&mut self, i: usize, timer: P::Timer, generation: u64) {
        let timers = &mut self.slots[i].timers;
        // A timer fires only if it is still armed with this generation: not cancelled, not
        // re-armed since, not lost in a crash.
        let Some(k) = timers.iter().position(|(t, g)| *g == generation && *t == timer) else {
            return;
        };
        timers.swap_remove(k);
        self.stats.timers_fired += 1;
        let node = self.slots[i].process.id();
        if self.tracing {
            let timer = timer.clone();
            self.record(|| Event::TimerFired { node, timer });
        }
        self.feed(i, super::Input::Timeout(timer));
    }

    fn partitioned(&self, a: usize, b: usize) -> bool {
        self.slots[a].group != self.slots[b].group
    }

    fn latency(&mut self) -> Millis {
        let base = self.rng.between(self.net.latency_min_ms, self.net.latency_max_ms);
        if self.rng.chance(self.net.reorder) {
            base + self.rng.between(1, self.net.reorder_delay_ms.max(1))
        } else {
            base
        }
    }

    fn drop_msg(
        &mut self,
        from: NodeId,
        to: NodeId,
        id: u64,
        sent_at: Millis,
        reason: DropReason,
        msg: P::Msg,
    ) {
        self.stats.dropped += 1;
        self.record(|| Event::Drop { from, to, id, sent_at, reason, msg });
    }

    fn send(&mut self, from: NodeId, to: NodeId, msg: P::Msg) {
        self.next_msg += 1;
        let id = self.next_msg;
        if self.tracing {
            let msg = msg.clone();
            self.record(|| Event::Send { from, to, id, msg });
        }
        let now = self.now;
        let Some(dst) = self.index(to) else {
            return self.drop_msg(from, to, id, now, DropReason::NoSuchNode, msg);
        };
        if from == to {
            // A node's message to itself never crosses the network, but it is lost if the node
            // crashes before reading it.
            let incarnation = Some(self.slots[dst].incarnation);
            return self.push(
                now + self.net.latency_min_ms,
                Pending::Deliver { from, to, id, sent_at: now, msg, incarnation },
            );
        }
        let src = self.index(from).expect("sender exists");
        if self.partitioned(src, dst) {
            return self.drop_msg(from, to, id, now, DropReason::Partition, msg);
        }
        if self.rng.chance(self.net.drop) {
            return self.drop_msg(from, to, id, now, DropReason::Lost, msg);
        }
        if self.rng.chance(self.net.duplicate) {
            self.copy_in_flight(now, from, to, id, msg.clone());
        }
        self.in_flight(now, from, to, id, msg);
    }

    /// The network copies message `id` (sent at `sent_at`): the copy is a new message, in
    /// flight from now.
    fn copy_in_flight(&mut self, sent_at: Millis, from: NodeId, to: NodeId, id: u64, msg: P::Msg) {
        self.next_msg += 1;
        let copy = self.next_msg;
        self.stats.duplicated += 1;
        if self.tracing {
            let msg = msg.clone();
            self.record(|| Event::Duplicate { from, to, id, copy, msg });
        }
        self.in_flight(sent_at, from, to, copy, msg);
    }

    /// Put a message sent at `sent_at` on the wire, arriving after a latency drawn now.
    fn in_flight(&mut self, sent_at: Millis, from: NodeId, to: NodeId, id: u64, msg: P::Msg) {
        let mut at = self.now + self.latency();
        if self.net.fifo {
            // Never before the last message to the same node, whatever its connection: a
            // seeded run keeps the orders it always had, so its seed replays as before. (A
            // message may still overtake one on another connection when a path is chosen.)
            let last = self.link_arrival.entry((from, to)).or_insert(0);
            at = at.max(*last);
            *last = at;
        }
        self.push(at, Pending::Deliver { from, to, id, sent_at, msg, incarnation: None });
    }

    fn deliver(
        &mut self,
        from: NodeId,
        to: NodeId,
        id: u64,
        sent_at: Millis,
        msg: P::Msg,
        incarnation: Option<u64>,
    ) {
        let dst = self.index(to).expect("checked at send");
        let slot = &self.slots[dst];
        if !slot.up || incarnation.is_some_and(|inc| inc != slot.incarnation) {
            return self.drop_msg(from, to, id, sent_at, DropReason::Down, msg);
        }
        // A partition that started while the message was in flight catches it too.
        if from != to && self.partitioned(self.index(from).expect("sender exists"), dst) {
            return self.drop_msg(from, to, id, sent_at, DropReason::Partition, msg);
        }
        self.stats.delivered += 1;
        if self.tracing {
            let msg = msg.clone();
            self.record(|| Event::Deliver { from, to, id, sent_at, msg });
        }
        self.feed(dst, super::Input::Receive { from, msg });
    }

    fn act(&mut self, action: Action<P::Msg, P::Timer>) {
        match action {
            Action::Crash(node) => {
                let i = self.index(node).expect("scenario names a node that exists");
                if self.slots[i].up {
                    let slot = &mut self.slots[i];
                    slot.up = false;
                    slot.incarnation += 1;
                    slot.timers.clear();
                    slot.process = (self.recover)(&slot.process);
                    slot.status = String::from("crashed");
                    self.record(|| Event::Crash { node });
                }
            }
            Action::Restart(node) => {
                let i = self.index(node).expect("scenario names a node that exists");
                if !self.slots[i].up {
                    self.slots[i].up = true;
                    self.record(|| Event::Restart { node });
                    self.feed(i, super::Input::Start);
                }
            }
            Action::Partition(mut groups) => {
                // Nodes named in no group form one more group together; the trace names it.
                let rest: Vec<NodeId> = self
                    .ids()
                    .into_iter()
                    .filter(|id| !groups.iter().flatten().any(|g| g == id))
                    .collect();
                if !rest.is_empty() {
                    groups.push(rest);
                }
                for slot in &mut self.slots {
                    let id = slot.process.id();
                    let g = groups.iter().position(|g| g.contains(&id)).expect("every node placed");
                    slot.group = g as u32;
                }
                self.record(|| Event::Partition { groups });
            }
            Action::Heal => {
                for slot in &mut self.slots {
                    slot.group = 0;
                }
                self.record(|| Event::Heal);
            }
            Action::Network(change) => {
                match change {
                    NetChange::Drop(p) => self.net.drop = p,
                    NetChange::Duplicate(p) => self.net.duplicate = p,
                    NetChange::Reorder(p) => self.net.reorder = p,
                    NetChange::Fifo(on) => self.net.fifo = on,
                    NetChange::Latency { min_ms, max_ms } => {
                        self.net.latency_min_ms = min_ms;
                        self.net.latency_max_ms = max_ms;
                    }
                }
                self.record(|| Event::Network { change });
            }
            Action::Inject { node, input } => {
                let i = self.index(node).expect("scenario names a node that exists");
                if self.slots[i].up {
                    self.feed(i, input);
                }
            }
        }
    }

    fn check(&mut self) -> Result<(), Box<Violation>> {
        if self.invariants.is_empty() {
            return Ok(());
        }
        let mut invariants = std::mem::take(&mut self.invariants);
        let failed = invariants
            .iter_mut()
            .find_map(|(name, check)| check(self).err().map(|message| (name.clone(), message)));
        self.invariants = invariants;
        let Some((invariant, message)) = failed else {
            return Ok(());
        };
        self.record(|| Event::Violation { invariant: invariant.clone(), message: message.clone() });
        let v = Box::new(Violation {
            invariant,
            message,
            seed: self.seed,
            at: self.now,
            steps: self.stats.steps,
            trace: if self.tracing { Some(render::plain(&self.trace)) } else { None },
            replay: self.replay.clone(),
        });
        self.violation = Some(v.clone());
        Err(v)
    }
}
